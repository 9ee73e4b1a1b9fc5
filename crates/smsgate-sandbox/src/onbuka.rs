//! The onbuka platform's behaviour, written once for every brand (itniotech, laaffic): each
//! brand brings its generated spec and the wording of its status codes.

use std::time::Duration;

use serde_json::{Value, json};
use smsgate_transport::spec::Operation;

use crate::simulate::{AuthFailure, Call, Refusal, Sent, SimulatedVendor, Spec, Violation};
use crate::state::{civil, compact_now, now_millis};

/// Accepted clock skew of the `Timestamp` header (one brand documents ±30 minutes).
const TIMESTAMP_WINDOW: Duration = Duration::from_secs(30 * 60);

/// The platform's setting that `appId` must match.
const APP_ID: &str = "app_id";

/// Most records one `getSentRcd` answer holds.
const SENT_RECORDS_PAGE: usize = 50_000;

/// The longest range one `getSentRcd` query covers: 31 days, in seconds.
const SENT_RECORDS_RANGE_SECS: i64 = 31 * 86_400;

/// One brand of the platform, as simulated.
#[derive(Debug, Clone, Copy)]
pub struct Platform {
    spec: Spec,
    /// The brand's wording of a status code.
    wording: fn(&str) -> String,
}

impl Platform {
    /// A brand with its generated spec and the wording of its status codes.
    pub const fn new(spec: Spec, wording: fn(&str) -> String) -> Self {
        Self { spec, wording }
    }

    /// `{"status": code, "reason": the brand's wording}`.
    fn refuse(&self, code: &str) -> Value {
        json!({"status": code, "reason": (self.wording)(code)})
    }
}

/// A brand of the platform from its crate (`smsgate_itniotech`): generated spec, settings and
/// status-code wording.
macro_rules! brand {
    ($krate:ident) => {
        $crate::onbuka::Platform::new(
            $crate::simulate::Spec::of::<$krate::generated::client::Credentials>(
                $krate::generated::operations::OPERATIONS,
                $krate::generated::MODELS_SCHEMA_JSON,
            ),
            |code| {
                let code = $krate::generated::codes::StatusCode::from_code(code);
                code.original().unwrap_or(code.meaning()).to_owned()
            },
        )
    };
}
pub(crate) use brand;

impl SimulatedVendor for Platform {
    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn signature_window(&self) -> Duration {
        TIMESTAMP_WINDOW
    }

    fn refusal(&self, _operation: &Operation, refusal: Refusal) -> Value {
        self.refuse(match refusal {
            Refusal::Auth(AuthFailure::Stale) => "-16",
            Refusal::Auth(_) => "-1",
            Refusal::Throttled => "-15",
            Refusal::Malformed => "-22",
        })
    }

    fn throttles(&self, operation: &Operation) -> bool {
        // Balance queries are never throttled.
        operation.name != "getBalance"
    }

    fn handle(&self, call: &Call<'_>, request: &Value) -> Value {
        let app_id = call.account.setting(APP_ID);
        let needs_app = call.operation.name != "getReport";
        if needs_app && request["appId"].as_str() != app_id {
            return self.refuse("-1");
        }
        let answer = match call.operation.name {
            "sendSms" | "sendSmsGet" => self.send(call, request),
            "sendBatch" => self.batch(call, request),
            "getBalance" => Ok(balance(call)),
            "getReport" => report(call, request),
            "getSentRcd" => sent_records(call, request),
            _ => Err("-22"),
        };
        answer.unwrap_or_else(|code| self.refuse(code))
    }
}

/// The vendor's code for the first schema violation of a send body.
fn violation_code(violations: &[Violation]) -> Option<&'static str> {
    let violation = violations.first()?;
    Some(match (violation.field(), violation.keyword.as_str()) {
        ("content", "minLength") => "-4",
        ("content", "maxLength") => "-5",
        ("numbers", _) => "-9",
        _ => "-22",
    })
}

/// Validates one message (`numbers`, `content`, `orderId`); returns its numbers.
fn check_message(item: &Value, max_numbers: Option<usize>) -> Result<Vec<&str>, &'static str> {
    let numbers = item["numbers"].as_str().unwrap_or_default();
    if numbers.is_empty() {
        return Err("-8");
    }
    if item["content"].as_str().unwrap_or_default().is_empty() {
        return Err("-4");
    }
    let numbers: Vec<&str> = numbers.split(',').collect();
    if max_numbers.is_some_and(|max| numbers.len() > max) {
        return Err("-7");
    }
    if let Some(order) = item["orderId"].as_str().filter(|o| !o.is_empty()) {
        if order.split(',').count() != numbers.len() {
            return Err("-22");
        }
    }
    Ok(numbers)
}

impl Platform {
    fn send(&self, call: &Call<'_>, request: &Value) -> Result<Value, &'static str> {
        let numbers = check_message(request, call.operation.limits.max_numbers)?;
        if let Some(code) = violation_code(call.violations) {
            return Err(code);
        }
        accept(call, &[(numbers, request)])
    }

    fn batch(&self, call: &Call<'_>, request: &Value) -> Result<Value, &'static str> {
        let items = request["array"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if items.is_empty() {
            return Err("-8");
        }
        let checked = items
            .iter()
            .map(|item| Ok((check_message(item, None)?, item)))
            .collect::<Result<Vec<_>, &'static str>>()?;
        let total: usize = checked.iter().map(|(numbers, _)| numbers.len()).sum();
        let limits = call.operation.limits;
        if limits.max_numbers.is_some_and(|max| total > max) {
            return Err("-7");
        }
        if let Some(code) = violation_code(call.violations) {
            return Err(code);
        }
        accept(call, &checked)
    }
}

/// Parts of `content`, as the facade counts them.
fn parts(content: &str) -> usize {
    smsgate::segments(content).parts.max(1)
}

/// Accepts `items` (already validated): charges, stores, pushes, answers per number.
fn accept(call: &Call<'_>, items: &[(Vec<&str>, &Value)]) -> Result<Value, &'static str> {
    let cost: f64 = items
        .iter()
        .map(|(numbers, item)| {
            numbers.len() as f64
                * parts(item["content"].as_str().unwrap_or_default()) as f64
                * call.price_per_part()
        })
        .sum();
    if !call.charge(cost) {
        return Err("-10");
    }
    let (mut accepted, mut failed) = (Vec::new(), 0usize);
    let stamp = compact_now();
    for (numbers, item) in items {
        let orders: Vec<Option<&str>> = match item["orderId"].as_str().filter(|o| !o.is_empty()) {
            Some(orders) => orders.split(',').map(Some).collect(),
            None => vec![None; numbers.len()],
        };
        let text = item["content"].as_str().unwrap_or_default();
        let content = Call::content_id(text);
        for (number, order) in numbers.iter().zip(orders) {
            let draw = call.draw(number, content, order);
            let sent = Sent {
                to: number,
                from: item["senderId"].as_str(),
                text,
            };
            if draw.rejected {
                call.reject(sent);
                failed += 1;
                continue;
            }
            let msg_id = format!("{stamp}{:07}", call.next_sequence() % 10_000_000);
            call.store(&msg_id, sent, draw.delivered);
            if call.pushes() {
                call.push_json(push(call, &msg_id, number, order, draw.delivered));
            }
            accepted.push(json!({"msgId": msg_id, "number": number, "orderId": order}));
        }
    }
    Ok(
        json!({"status": "0", "reason": "success", "success": accepted.len().to_string(), "fail": failed.to_string(), "array": accepted}),
    )
}

/// The delivery report of one accepted number.
fn push(
    call: &Call<'_>,
    msg_id: &str,
    number: &str,
    order: Option<&str>,
    delivered: bool,
) -> Value {
    let price = call.price_per_part();
    let mut push = json!({
        "appId": call.account.setting(APP_ID).unwrap_or_default(), "msgid": msg_id, "mobile": number,
        "status": if delivered { 0 } else { 1 }, "reason": if delivered { "success" } else { "UNDELIV" },
        "timestamp": now_millis(), "mcc": "460", "mnc": "00",
        "pricedetail": {"pay": price, "currency": "USD", "chargeCnt": 1, "price": price}
    });
    if let Some(order) = order {
        push["orderId"] = json!(order);
    }
    push
}

fn balance(call: &Call<'_>) -> Value {
    let balance = format!("{:.4}", call.balance());
    json!({"status": "0", "reason": "success", "balance": balance, "gift": "0.0000", "credit": "0.0000"})
}

fn report(call: &Call<'_>, request: &Value) -> Result<Value, &'static str> {
    let ids: Vec<&str> = request["msgIds"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .collect();
    if ids.is_empty() {
        return Err("-14");
    }
    if call
        .operation
        .limits
        .max_ids
        .is_some_and(|max| ids.len() > max)
    {
        return Err("-22");
    }
    let (mut delivered, mut failed) = (0, 0);
    let array: Vec<Value> = ids
        .iter()
        .filter_map(|id| call.stored(id).map(|stored| (id, stored)))
        .map(|(id, stored)| {
            if stored.delivered { delivered += 1 } else { failed += 1 }
            json!({"msgId": id, "number": stored.number, "receiveTime": stored.at, "status": if stored.delivered { "0" } else { "1" }})
        })
        .collect();
    let not_found = ids.len() - array.len();
    Ok(
        json!({"status": "0", "reason": "success", "success": delivered.to_string(), "fail": failed.to_string(), "sending": "0", "nofound": not_found.to_string(), "array": array}),
    )
}

/// `getSentRcd`: the accepted messages whose receive time (to the second) lies from
/// `startTime` to `endTime`, by time then id, from `startIndex` on, at most
/// [`SENT_RECORDS_PAGE`]. A missing time is -14, a malformed one -11 (bad time format), a range
/// that runs backwards or spans more than 31 days -25 (out of time range), any other bad
/// parameter -22.
fn sent_records(call: &Call<'_>, request: &Value) -> Result<Value, &'static str> {
    let time = |name: &str| {
        let text = request[name]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or("-14")?;
        parse_time(text).ok_or("-11")
    };
    let (start, end) = (time("startTime")?, time("endTime")?);
    if call
        .violations
        .iter()
        .any(|v| !matches!(v.field(), "startTime" | "endTime"))
    {
        return Err("-22");
    }
    let index = match &request["startIndex"] {
        Value::Null => 0,
        value => value
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or("-22")?,
    };
    if end < start || end - start > SENT_RECORDS_RANGE_SECS {
        return Err("-25");
    }
    // Receive times count in whole seconds: the end second is included to its last millisecond.
    let from_ms = u64::try_from(start).unwrap_or(0).saturating_mul(1000);
    let Ok(end) = u64::try_from(end) else {
        return Ok(sent_page(Vec::new()));
    };
    let to_ms = end.saturating_mul(1000).saturating_add(999);
    let page: Vec<Value> = call
        .state
        .stored_between(call.vendor, from_ms, to_ms)
        .into_iter()
        .skip(index)
        .take(SENT_RECORDS_PAGE)
        .map(|(id, stored)| {
            json!({"msgId": id, "number": stored.number, "receiveTime": iso_offset(stored.at_ms), "status": "0"})
        })
        .collect();
    Ok(sent_page(page))
}

/// A `getSentRcd` answer holding `records` (the sandbox only stores accepted messages, all
/// sent on: status "0").
fn sent_page(records: Vec<Value>) -> Value {
    json!({"status": "0", "reason": "success", "success": records.len().to_string(), "fail": "0", "array": records})
}

/// UNIX milliseconds as the platform writes a receive time: ISO 8601 to the second with its
/// offset (`2021-02-12T01:30:03+00:00`).
fn iso_offset(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms / 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+00:00")
}

/// `2021-02-12T00:00:00+08:00` as UNIX seconds: exactly that form (the schema's pattern), with
/// a real date and time; `None` otherwise.
fn parse_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 25 {
        return None;
    }
    let shape = b"dddd-dd-ddTdd:dd:dd+dd:dd";
    let fits = bytes.iter().zip(shape).all(|(&c, &s)| match s {
        b'd' => c.is_ascii_digit(),
        b'+' => c == b'+' || c == b'-',
        _ => c == s,
    });
    if !fits {
        return None;
    }
    let number = |from: usize, to: usize| -> i64 {
        bytes[from..to]
            .iter()
            .fold(0, |n, &c| n * 10 + i64::from(c - b'0'))
    };
    let (year, month, day) = (number(0, 4), number(5, 7), number(8, 10));
    let (hour, minute, second) = (number(11, 13), number(14, 16), number(17, 19));
    let (offset_hours, offset_minutes) = (number(20, 22), number(23, 25));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
        || offset_hours > 23
        || offset_minutes > 59
    {
        return None;
    }
    let offset =
        (offset_hours * 3600 + offset_minutes * 60) * if bytes[19] == b'-' { -1 } else { 1 };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_offsets_parse_to_unix_seconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00+00:00"), Some(0));
        assert_eq!(parse_time("2021-09-01T12:00:00+08:00"), Some(1_630_468_800));
        assert_eq!(parse_time("2021-08-31T23:30:00-04:30"), Some(1_630_468_800));
        assert_eq!(parse_time("2024-02-29T00:00:00+00:00"), Some(1_709_164_800));
        assert_eq!(parse_time("1969-12-31T23:59:59+00:00"), Some(-1));
        for bad in [
            "2021-09-01T12:00:00Z",
            "2021-09-01 12:00:00+08:00",
            "2021-09-01T12:00:00+0800",
            "2023-02-29T00:00:00+00:00",
            "2021-13-01T00:00:00+00:00",
            "2021-09-01T24:00:00+00:00",
            "2021-09-01T12:00:00+08:60",
            "２021-09-01T12:00:00+08:00",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(iso_offset(1_630_468_800_999), "2021-09-01T04:00:00+00:00");
        assert_eq!(
            parse_time(&iso_offset(1_709_164_800_000)),
            Some(1_709_164_800)
        );
    }
}
