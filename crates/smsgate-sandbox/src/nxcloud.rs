//! nxcloud's behaviour: 32-hex message ids (or the caller's `sysMessageId`), per-item
//! results, form-encoded delivery reports.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Value, json};
use smsgate_nxcloud::codes::ResponseCode;
use smsgate_nxcloud::generated as nx;
use smsgate_transport::spec::Operation;

use crate::simulate::{AuthFailure, Call, Refusal, Sent, SimulatedVendor, Spec};

/// Accepted skew of the `ts` header.
const TS_WINDOW: Duration = Duration::from_secs(60);

/// The setting that `appKey` must match.
const APP_KEY: &str = "app_key";

/// nxcloud, as simulated.
#[derive(Debug, Clone, Copy)]
pub struct Nxcloud {
    spec: Spec,
}

/// The registered nxcloud behaviour.
pub const NXCLOUD: Nxcloud = Nxcloud {
    spec: Spec::of::<nx::client::Credentials>(nx::operations::OPERATIONS, nx::MODELS_SCHEMA_JSON),
};

/// `{"code": n, "message": the documented wording, "data": null}`.
fn refuse(code: ResponseCode) -> Value {
    let code_number: i64 = code.code().parse().unwrap_or(-1);
    json!({"code": code_number, "message": code.original().unwrap_or(code.meaning()), "data": null})
}

impl SimulatedVendor for Nxcloud {
    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn signature_window(&self) -> Duration {
        TS_WINDOW
    }

    fn refusal(&self, _operation: &Operation, refusal: Refusal) -> Value {
        refuse(match refusal {
            Refusal::Auth(AuthFailure::MissingHeader) => ResponseCode::MissingHeader,
            Refusal::Auth(AuthFailure::FixedHeader) => ResponseCode::InvalidBizTypeActionOrBody,
            Refusal::Auth(AuthFailure::UnknownKey) => ResponseCode::NotPermitted,
            Refusal::Auth(AuthFailure::Stale) => ResponseCode::TimestampExpired,
            Refusal::Auth(AuthFailure::BadSignature | AuthFailure::ModesMixed) => {
                ResponseCode::InvalidSignature
            }
            Refusal::Throttled => ResponseCode::TpsLimitExceeded,
            Refusal::Malformed => ResponseCode::RequestParameterError,
        })
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        // The batch page's curl sample uses /api/sms/multi/mt.
        &[("/api/sms/multi/mt", nx::operations::SEND_MULTI.name)]
    }

    fn handle(&self, call: &Call<'_>, request: &Value) -> Value {
        send(call, request).unwrap_or_else(refuse)
    }
}

fn valid_phone(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

/// A generated nxcloud-style message id (32 lowercase hex characters).
fn message_id(call: &Call<'_>) -> String {
    format!("{:016x}{:016x}", call.random(), call.random())
}

/// Both shapes as a list of items, each with its own `phone` (a batch's items as they are).
fn items(multi: bool, request: &Value) -> Cow<'_, [Value]> {
    if multi {
        return request["items"]
            .as_array()
            .map_or(Cow::Owned(Vec::new()), |items| Cow::Borrowed(items));
    }
    let phones = request["phone"].as_str().unwrap_or_default();
    phones
        .split(',')
        .map(|phone| {
            let mut item = request.clone();
            item["phone"] = json!(phone);
            item
        })
        .collect()
}

/// The vendor's code for the first item the documented limits refuse, or for any other
/// schema violation (a bad number only fails its item).
fn check(call: &Call<'_>, multi: bool, items: &[Value]) -> Result<(), ResponseCode> {
    let limits = call.operation.limits;
    if items.is_empty() || limits.max_items.is_some_and(|max| items.len() > max) {
        return Err(ResponseCode::RequestParameterError);
    }
    let max_content = limits.max_content_chars.unwrap_or(1000);
    for (index, item) in items.iter().enumerate() {
        let content = item["content"].as_str().unwrap_or_default();
        if content.is_empty() {
            return Err(ResponseCode::EmptyContentOrIllegalKeywords);
        }
        if content.chars().count() > max_content {
            return Err(ResponseCode::ContentTooLong);
        }
        if call.violations.is_empty() {
            continue;
        }
        let source_address = if multi {
            format!("/items/{index}/sourceAddress")
        } else {
            "/sourceAddress".to_owned()
        };
        if call.violations.iter().any(|v| v.pointer == source_address) {
            return Err(ResponseCode::InvalidSourceAddress);
        }
    }
    // Anything else the schema refuses (sysMessageId pattern, unknown fields, types).
    if call.violations.iter().any(|v| v.field() != "phone") {
        return Err(ResponseCode::RequestParameterError);
    }
    Ok(())
}

fn send(call: &Call<'_>, request: &Value) -> Result<Value, ResponseCode> {
    let multi = call.operation.name == nx::operations::SEND_MULTI.name;
    if request["appKey"].as_str() != call.account.setting(APP_KEY) {
        return Err(ResponseCode::AppUnavailable);
    }
    let items = items(multi, request);
    check(call, multi, &items)?;
    let cost: f64 = items
        .iter()
        .filter(|item| valid_phone(item["phone"].as_str().unwrap_or_default()))
        .map(|item| {
            smsgate::segments(item["content"].as_str().unwrap_or_default())
                .parts
                .max(1) as f64
                * call.price_per_part()
        })
        .sum();
    if !call.charge(cost) {
        return Err(ResponseCode::InsufficientBalance);
    }
    let honour_sys_id = multi || items.len() == 1;
    let data: Vec<Value> = items
        .iter()
        .map(|item| accept(call, item, multi, honour_sys_id))
        .collect();
    Ok(json!({"code": 0, "message": "Success", "data": data}))
}

/// One item's result: stored, pushed, answered.
fn accept(call: &Call<'_>, item: &Value, multi: bool, honour_sys_id: bool) -> Value {
    let phone = item["phone"].as_str().unwrap_or_default();
    let reference = item["sysMessageId"].as_str().filter(|_| honour_sys_id);
    let id = reference.map_or_else(|| message_id(call), str::to_owned);
    if !valid_phone(phone) {
        return json!({"phone": phone, "messageid": id, "status": "Failure", "message": "Incorrect phone number format"});
    }
    let text = item["content"].as_str().unwrap_or_default();
    let draw = call.draw(phone, Call::content_id(text), reference);
    let sent = Sent {
        to: phone,
        from: item["sourceAddress"].as_str(),
        text,
    };
    if draw.rejected {
        call.reject(sent);
        return json!({"phone": phone, "messageid": id, "status": "Failure", "message": "Rejected by the sandbox"});
    }
    call.store(&id, sent, draw.delivered);
    if call.pushes() {
        let delivered = draw.delivered;
        let report = [
            ("phone", phone.to_owned()),
            ("status", if delivered { "2" } else { "5" }.to_owned()),
            (
                "result",
                if delivered { "DELIVRD" } else { "UNDELIV" }.to_owned(),
            ),
            (
                "messageid",
                if multi {
                    format!("{id}-{:010}", call.next_sequence())
                } else {
                    id.clone()
                },
            ),
            ("currency", "USD".to_owned()),
            ("price", call.price_per_part().to_string()),
            ("size", "1".to_owned()),
            ("ext", item["ext"].as_str().unwrap_or_default().to_owned()),
        ];
        if let Ok(form) = serde_urlencoded::to_string(report) {
            call.push_form(form);
        }
    }
    json!({"phone": phone, "messageid": id, "status": "Success"})
}
