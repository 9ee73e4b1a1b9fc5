//! nxcloud (`/v1/sms/multi/mt`, `/api/sms/multi/mt`, `/v1/sms/mt`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};
use smsgate_nxcloud::codes::ResponseCode;
use smsgate_nxcloud::sign::NxcloudHeaderBodyMd5;
use smsgate_transport::sign::Signer as _;

use crate::state::{PushBody, State, answer, now_millis};

/// Accepted skew of the `ts` header, in milliseconds.
const TS_WINDOW_MS: u64 = 60_000;

pub fn routes(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/sms/multi/mt", post(|s, h, b| send(s, h, b, true)))
        .route("/api/sms/multi/mt", post(|s, h, b| send(s, h, b, true)))
        .route("/v1/sms/mt", post(|s, h, b| send(s, h, b, false)))
        .with_state(state)
}

/// `{"code": n, "message": the documented wording, "data": null}`.
fn refusal(code: ResponseCode) -> Value {
    let code_number: i64 = code.code().parse().unwrap_or(-1);
    json!({"code": code_number, "message": code.original().unwrap_or(code.meaning()), "data": null})
}

fn authenticate(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<(), ResponseCode> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let account = &state.config.nxcloud;
    let (Some(key), Some(ts), Some(biz_type), Some(action), Some(sign)) = (
        header("accessKey"),
        header("ts"),
        header("bizType"),
        header("action"),
        header("sign"),
    ) else {
        return Err(ResponseCode::MissingHeader);
    };
    if biz_type != "3" || action != "mtsend" {
        return Err(ResponseCode::InvalidBizTypeActionOrBody);
    }
    if key != account.access_key {
        return Err(ResponseCode::NotPermitted);
    }
    let Ok(ts) = ts.parse::<u64>() else {
        return Err(ResponseCode::TimestampExpired);
    };
    if now_millis().abs_diff(ts) > TS_WINDOW_MS {
        return Err(ResponseCode::TimestampExpired);
    }
    let signer =
        NxcloudHeaderBodyMd5::new(account.access_key.clone(), account.access_secret.clone());
    let expected = signer.signature(ts, biz_type, action, (!body.is_empty()).then_some(body));
    if !sign.eq_ignore_ascii_case(&expected) {
        return Err(ResponseCode::InvalidSignature);
    }
    Ok(())
}

fn valid_source_address(value: &str) -> bool {
    (1..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_phone(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

/// A generated nxcloud-style message id (32 lowercase hex characters).
fn message_id(state: &State) -> String {
    let mut inner = state.lock();
    format!("{:016x}{:016x}", inner.rng.u64(..), inner.rng.u64(..))
}

async fn send(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
    multi: bool,
) -> Response {
    let operation = if multi {
        "nxcloud/multiMt"
    } else {
        "nxcloud/mt"
    };
    let fault = state.fault(operation, b"", &body).await;
    if let Err(code) = authenticate(&state, &headers, &body) {
        return answer(fault, &refusal(code));
    }
    if state.throttled("nxcloud") {
        return answer(fault, &refusal(ResponseCode::TpsLimitExceeded));
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return answer(fault, &refusal(ResponseCode::RequestParameterError));
    };
    if value["appKey"].as_str() != Some(state.config.nxcloud.app_key.as_str()) {
        return answer(fault, &refusal(ResponseCode::AppUnavailable));
    }
    // Both shapes become a list of (phone, item) pairs.
    let items: Vec<Value> = if multi {
        value["items"].as_array().cloned().unwrap_or_default()
    } else {
        let phones = value["phone"].as_str().unwrap_or_default();
        phones
            .split(',')
            .map(|phone| {
                let mut item = value.clone();
                item["phone"] = json!(phone);
                item
            })
            .collect()
    };
    let limits = if multi {
        smsgate_nxcloud::operations::SEND_MULTI.limits
    } else {
        smsgate_nxcloud::operations::SEND.limits
    };
    if items.is_empty() || limits.max_items.is_some_and(|max| items.len() > max) {
        return answer(fault, &refusal(ResponseCode::RequestParameterError));
    }
    let max_content = limits.max_content_chars.unwrap_or(1000);
    for item in &items {
        let content = item["content"].as_str().unwrap_or_default();
        if content.is_empty() {
            return answer(fault, &refusal(ResponseCode::EmptyContentOrIllegalKeywords));
        }
        if content.chars().count() > max_content {
            return answer(fault, &refusal(ResponseCode::ContentTooLong));
        }
        if let Some(address) = item["sourceAddress"].as_str() {
            if !valid_source_address(address) {
                return answer(fault, &refusal(ResponseCode::InvalidSourceAddress));
            }
        }
    }
    // Anything else the schema refuses (sysMessageId pattern, unknown fields, types).
    let definition = if multi { "MultiMtRequest" } else { "MtRequest" };
    let violations: Vec<_> = state
        .nxcloud_schemas
        .violations(definition, &value)
        .into_iter()
        .filter(|(pointer, _)| !pointer.ends_with("/phone") && pointer != "/phone")
        .collect();
    if !violations.is_empty() {
        return answer(fault, &refusal(ResponseCode::RequestParameterError));
    }
    let cost: f64 = items
        .iter()
        .filter(|item| valid_phone(item["phone"].as_str().unwrap_or_default()))
        .map(|item| {
            smsgate::segments(item["content"].as_str().unwrap_or_default())
                .parts
                .max(1) as f64
                * state.config.price_per_part
        })
        .sum();
    if !state.charge("nxcloud", cost) {
        return answer(fault, &refusal(ResponseCode::InsufficientBalance));
    }
    let honour_sys_id = multi || items.len() == 1;
    let data: Vec<Value> = items
        .iter()
        .map(|item| {
            let phone = item["phone"].as_str().unwrap_or_default().to_owned();
            let id = item["sysMessageId"].as_str().filter(|_| honour_sys_id).map(str::to_owned).unwrap_or_else(|| message_id(&state));
            if !valid_phone(&phone) {
                return json!({"phone": phone, "messageid": id, "status": "Failure", "message": "Incorrect phone number format"});
            }
            let content = State::content_id(item["content"].as_str().unwrap_or_default());
            let reference = item["sysMessageId"].as_str().filter(|_| honour_sys_id);
            let draw = state.draw_message("nxcloud", &phone, content, reference);
            if draw.rejected {
                return json!({"phone": phone, "messageid": id, "status": "Failure", "message": "Rejected by the sandbox"});
            }
            let delivered = draw.delivered;
            state.store("nxcloud", &id, &phone, delivered);
            if !state.pushes() {
                return json!({"phone": phone, "messageid": id, "status": "Success"});
            }
            let report = [
                ("phone", phone.clone()),
                ("status", if delivered { "2" } else { "5" }.to_owned()),
                ("result", if delivered { "DELIVRD" } else { "UNDELIV" }.to_owned()),
                ("messageid", if multi { format!("{id}-{:010}", state.next_sequence()) } else { id.clone() }),
                ("currency", "USD".to_owned()),
                ("price", state.config.price_per_part.to_string()),
                ("size", "1".to_owned()),
                ("ext", item["ext"].as_str().unwrap_or_default().to_owned()),
            ];
            if let Ok(form) = serde_urlencoded::to_string(report) {
                state.push(PushBody::Form(form));
            }
            json!({"phone": phone, "messageid": id, "status": "Success"})
        })
        .collect();
    answer(
        fault,
        &json!({"code": 0, "message": "Success", "data": data}),
    )
}
