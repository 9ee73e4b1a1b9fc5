//! itniotech (`/sms/...`) and laaffic (`/v3/...`): the onbuka platform's behaviour.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use smsgate_onbuka::sign::KeySecretTimestampMd5;
use smsgate_transport::sign::Signer as _;
use smsgate_transport::spec::Operation;

use crate::state::{OnbukaAccount, PushBody, State, answer, compact_now, now_millis};

/// Accepted clock skew of the `Timestamp` header (one brand documents ±30 minutes).
const TIMESTAMP_WINDOW_SECS: u64 = 30 * 60;

/// One brand of the platform, as served.
#[derive(Clone, Copy)]
struct Brand {
    vendor: &'static str,
    send_sms: Operation,
    send_sms_get: Operation,
    send_batch: Operation,
    get_report: Operation,
    /// The brand's wording of a status code.
    wording: fn(&str) -> String,
}

fn itniotech_wording(code: &str) -> String {
    let code = smsgate_itniotech::codes::StatusCode::from_code(code);
    code.original().unwrap_or(code.meaning()).to_owned()
}

fn laaffic_wording(code: &str) -> String {
    let code = smsgate_laaffic::codes::StatusCode::from_code(code);
    code.original().unwrap_or(code.meaning()).to_owned()
}

const ITNIOTECH: Brand = Brand {
    vendor: "itniotech",
    send_sms: smsgate_itniotech::operations::SEND_SMS,
    send_sms_get: smsgate_itniotech::operations::SEND_SMS_GET,
    send_batch: smsgate_itniotech::operations::SEND_BATCH,
    get_report: smsgate_itniotech::operations::GET_REPORT,
    wording: itniotech_wording,
};

const LAAFFIC: Brand = Brand {
    vendor: "laaffic",
    send_sms: smsgate_laaffic::operations::SEND_SMS,
    send_sms_get: smsgate_laaffic::operations::SEND_SMS_GET,
    send_batch: smsgate_laaffic::operations::SEND_BATCH,
    get_report: smsgate_laaffic::operations::GET_REPORT,
    wording: laaffic_wording,
};

pub fn routes(state: Arc<State>) -> Router {
    let mut router = Router::new();
    for brand in [ITNIOTECH, LAAFFIC] {
        let prefix = brand.send_sms.path.trim_end_matches("/sendSms");
        router = router
            .route(
                &format!("{prefix}/sendSms"),
                get(move |s, h, q| send(s, brand, Method::GET, h, q, Bytes::new()))
                    .post(move |s, h, q, b| send(s, brand, Method::POST, h, q, b)),
            )
            .route(
                &format!("{prefix}/sendSms/batch"),
                post(move |s, h, b| batch(s, brand, h, b)),
            )
            .route(
                &format!("{prefix}/getBalance"),
                get(move |s, h, q| balance(s, brand, h, q)),
            )
            .route(
                &format!("{prefix}/getReport"),
                get(move |s, h, q| report(s, brand, h, q)),
            );
    }
    router.with_state(state)
}

fn account(state: &State, brand: Brand) -> &OnbukaAccount {
    if brand.vendor == "laaffic" {
        &state.config.laaffic
    } else {
        &state.config.itniotech
    }
}

/// `{"status": code, "reason": the brand's wording}`.
fn refusal(brand: Brand, code: &str) -> Value {
    json!({"status": code, "reason": (brand.wording)(code)})
}

/// Checks `Api-Key`, `Timestamp` and `Sign`; `Err(code)` on failure.
fn authenticate(state: &State, brand: Brand, headers: &HeaderMap) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let account = account(state, brand);
    let (Some(key), Some(timestamp), Some(sign)) =
        (header("Api-Key"), header("Timestamp"), header("Sign"))
    else {
        return Err("-1");
    };
    if key != account.api_key {
        return Err("-1");
    }
    let Ok(timestamp) = timestamp.parse::<u64>() else {
        return Err("-16");
    };
    if (now_millis() / 1000).abs_diff(timestamp) > TIMESTAMP_WINDOW_SECS {
        return Err("-16");
    }
    let expected = KeySecretTimestampMd5::new(account.api_key.clone(), account.api_secret.clone())
        .signature(timestamp);
    if !sign.eq_ignore_ascii_case(&expected) {
        return Err("-1");
    }
    Ok(())
}

fn query_object(query: Option<&str>) -> Value {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// The vendor's code for the first schema violation of a send body.
fn violation_code(violations: &[(String, String)]) -> Option<&'static str> {
    let (pointer, keyword) = violations.first()?;
    let field = pointer.rsplit('/').next().unwrap_or_default();
    Some(match (field, keyword.as_str()) {
        ("content", "minLength") => "-4",
        ("content", "maxLength") => "-5",
        ("numbers", _) => "-9",
        (_, "required") => "-22",
        _ => "-22",
    })
}

/// Validates one message (`numbers`, `content`, `orderId`); returns its numbers.
fn check_message(item: &Value, max_numbers: Option<usize>) -> Result<Vec<String>, &'static str> {
    let numbers = item["numbers"].as_str().unwrap_or_default();
    if numbers.is_empty() {
        return Err("-8");
    }
    let content = item["content"].as_str().unwrap_or_default();
    if content.is_empty() {
        return Err("-4");
    }
    let numbers: Vec<String> = numbers.split(',').map(str::to_owned).collect();
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

/// Parts of `content`, as the facade counts them.
fn parts(content: &str) -> usize {
    smsgate::segments(content).parts.max(1)
}

/// Accepts `items` (already validated): charges, stores, answers per number.
fn accept(state: &State, brand: Brand, items: &[(Vec<String>, &Value)]) -> Value {
    let cost: f64 = items
        .iter()
        .map(|(numbers, item)| {
            numbers.len() as f64
                * parts(item["content"].as_str().unwrap_or_default()) as f64
                * state.config.price_per_part
        })
        .sum();
    if !state.charge(brand.vendor, cost) {
        return refusal(brand, "-10");
    }
    let (mut accepted, mut failed) = (Vec::new(), 0usize);
    let stamp = compact_now();
    for (numbers, item) in items {
        let orders: Vec<Option<String>> = match item["orderId"].as_str().filter(|o| !o.is_empty()) {
            Some(orders) => orders.split(',').map(|o| Some(o.to_owned())).collect(),
            None => vec![None; numbers.len()],
        };
        let content = State::content_id(item["content"].as_str().unwrap_or_default());
        for (number, order) in numbers.iter().zip(orders) {
            let draw = state.draw_message(brand.vendor, number, content, order.as_deref());
            if draw.rejected {
                failed += 1;
                continue;
            }
            let delivered = draw.delivered;
            let msg_id = format!("{stamp}{:07}", state.next_sequence() % 10_000_000);
            state.store(brand.vendor, &msg_id, number, delivered);
            let mut push = json!({
                "appId": account(state, brand).app_id, "msgid": msg_id, "mobile": number,
                "status": if delivered { 0 } else { 1 }, "reason": if delivered { "success" } else { "UNDELIV" },
                "timestamp": now_millis(), "mcc": "460", "mnc": "00",
                "pricedetail": {"pay": state.config.price_per_part, "currency": "USD", "chargeCnt": 1, "price": state.config.price_per_part}
            });
            if let Some(order) = &order {
                push["orderId"] = json!(order);
            }
            if state.pushes() {
                state.push(PushBody::Json(push));
            }
            accepted.push(json!({"msgId": msg_id, "number": number, "orderId": order}));
        }
    }
    json!({"status": "0", "reason": "success", "success": accepted.len().to_string(), "fail": failed.to_string(), "array": accepted})
}

async fn send(
    AxumState(state): AxumState<Arc<State>>,
    brand: Brand,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let name = if method == Method::GET {
        "sendSmsGet"
    } else {
        "sendSms"
    };
    let fault = state
        .fault(
            &format!("{}/{name}", brand.vendor),
            query.as_deref().unwrap_or_default().as_bytes(),
            &body,
        )
        .await;
    let (operation, value) = if method == Method::GET {
        (brand.send_sms_get, query_object(query.as_deref()))
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(value) => (brand.send_sms, value),
            Err(_) => return answer(fault, &refusal(brand, "-22")),
        }
    };
    if let Err(code) = authenticate(&state, brand, &headers) {
        return answer(fault, &refusal(brand, code));
    }
    if state.throttled(brand.vendor) {
        return answer(fault, &refusal(brand, "-15"));
    }
    if value["appId"].as_str() != Some(account(&state, brand).app_id.as_str()) {
        return answer(fault, &refusal(brand, "-1"));
    }
    let numbers = match check_message(&value, operation.limits.max_numbers) {
        Ok(numbers) => numbers,
        Err(code) => return answer(fault, &refusal(brand, code)),
    };
    if let Some(code) = violation_code(&state.onbuka_schemas.violations("SendSmsRequest", &value)) {
        return answer(fault, &refusal(brand, code));
    }
    let result = accept(&state, brand, &[(numbers, &value)]);
    answer(fault, &result)
}

async fn batch(
    AxumState(state): AxumState<Arc<State>>,
    brand: Brand,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = state
        .fault(&format!("{}/sendBatch", brand.vendor), b"", &body)
        .await;
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return answer(fault, &refusal(brand, "-22"));
    };
    if let Err(code) = authenticate(&state, brand, &headers) {
        return answer(fault, &refusal(brand, code));
    }
    if state.throttled(brand.vendor) {
        return answer(fault, &refusal(brand, "-15"));
    }
    if value["appId"].as_str() != Some(account(&state, brand).app_id.as_str()) {
        return answer(fault, &refusal(brand, "-1"));
    }
    let items: Vec<Value> = value["array"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return answer(fault, &refusal(brand, "-8"));
    }
    let mut checked = Vec::with_capacity(items.len());
    for item in &items {
        match check_message(item, None) {
            Ok(numbers) => checked.push((numbers, item)),
            Err(code) => return answer(fault, &refusal(brand, code)),
        }
    }
    let total: usize = checked.iter().map(|(n, _)| n.len()).sum();
    if brand
        .send_batch
        .limits
        .max_numbers
        .is_some_and(|max| total > max)
    {
        return answer(fault, &refusal(brand, "-7"));
    }
    if let Some(code) = violation_code(&state.onbuka_schemas.violations("SendBatchRequest", &value))
    {
        return answer(fault, &refusal(brand, code));
    }
    let result = accept(&state, brand, &checked);
    answer(fault, &result)
}

async fn balance(
    AxumState(state): AxumState<Arc<State>>,
    brand: Brand,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fault = state
        .fault(
            &format!("{}/getBalance", brand.vendor),
            query.as_deref().unwrap_or_default().as_bytes(),
            b"",
        )
        .await;
    let value = query_object(query.as_deref());
    if let Err(code) = authenticate(&state, brand, &headers) {
        return answer(fault, &refusal(brand, code));
    }
    if value["appId"].as_str() != Some(account(&state, brand).app_id.as_str()) {
        return answer(fault, &refusal(brand, "-1"));
    }
    let balance = format!("{:.4}", state.balance(brand.vendor));
    answer(
        fault,
        &json!({"status": "0", "reason": "success", "balance": balance, "gift": "0.0000", "credit": "0.0000"}),
    )
}

async fn report(
    AxumState(state): AxumState<Arc<State>>,
    brand: Brand,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fault = state
        .fault(
            &format!("{}/getReport", brand.vendor),
            query.as_deref().unwrap_or_default().as_bytes(),
            b"",
        )
        .await;
    let value = query_object(query.as_deref());
    if let Err(code) = authenticate(&state, brand, &headers) {
        return answer(fault, &refusal(brand, code));
    }
    if state.throttled(brand.vendor) {
        return answer(fault, &refusal(brand, "-15"));
    }
    let ids: Vec<&str> = value["msgIds"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .collect();
    if ids.is_empty() {
        return answer(fault, &refusal(brand, "-14"));
    }
    if brand
        .get_report
        .limits
        .max_ids
        .is_some_and(|max| ids.len() > max)
    {
        return answer(fault, &refusal(brand, "-22"));
    }
    let known: HashMap<String, crate::state::Stored> = {
        let inner = state.lock();
        ids.iter()
            .filter_map(|id| {
                inner
                    .messages
                    .get(&(brand.vendor, (*id).to_owned()))
                    .map(|s| ((*id).to_owned(), s.clone()))
            })
            .collect()
    };
    let (mut delivered, mut failed) = (0, 0);
    let array: Vec<Value> = ids
        .iter()
        .filter_map(|id| known.get(*id).map(|s| (id, s)))
        .map(|(id, stored)| {
            if stored.delivered { delivered += 1 } else { failed += 1 }
            json!({"msgId": id, "number": stored.number, "receiveTime": stored.at, "status": if stored.delivered { "0" } else { "1" }})
        })
        .collect();
    let not_found = ids.len() - array.len();
    answer(
        fault,
        &json!({"status": "0", "reason": "success", "success": delivered.to_string(), "fail": failed.to_string(), "sending": "0", "nofound": not_found.to_string(), "array": array}),
    )
}
