//! Twilio's behaviour: Messages created with HTTP 201 (`SM` + 32 hex ids) or refused with a
//! 4xx error body, the test credentials' magic numbers, Message fetches, the balance, and
//! status callbacks signed with `X-Twilio-Signature`.

use std::time::Duration;

use serde_json::{Value, json};
use smsgate_transport::spec::Operation;
use smsgate_twilio::codes::ErrorCode;
use smsgate_twilio::generated as tw;

use crate::config::Account;
use crate::simulate::{AuthFailure, Call, Received, Refusal, Sent, SimulatedVendor, Spec};

/// Twilio, as simulated.
#[derive(Debug, Clone, Copy)]
pub struct Twilio {
    spec: Spec,
}

/// The registered Twilio behaviour.
pub const TWILIO: Twilio = Twilio {
    spec: Spec::of::<tw::client::Credentials>(tw::operations::OPERATIONS, tw::MODELS_SCHEMA_JSON),
};

/// The magic `From` that passes every check (test credentials).
pub const MAGIC_FROM_VALID: &str = "+15005550006";

/// The test credentials' magic `From` numbers that fail, with their codes.
const MAGIC_FROM: &[(&str, ErrorCode)] = &[
    ("+15005550001", ErrorCode::InvalidFromNumber),
    ("+15005550007", ErrorCode::FromNotValidForAccount),
    ("+15005550008", ErrorCode::SenderQueueFull),
];

/// The test credentials' magic `To` numbers, with their codes.
const MAGIC_TO: &[(&str, ErrorCode)] = &[
    ("+15005550001", ErrorCode::InvalidToNumber),
    ("+15005550002", ErrorCode::ToNotReachable),
    ("+15005550003", ErrorCode::RegionNotEnabled),
    ("+15005550004", ErrorCode::Unsubscribed),
    ("+15005550009", ErrorCode::ToNotMobile),
];

/// The HTTP status Twilio answers a code with.
fn http_status(code: &ErrorCode) -> u16 {
    match code {
        ErrorCode::AuthenticationFailed => 401,
        ErrorCode::NotFound => 404,
        ErrorCode::TooManyRequests => 429,
        _ => 400,
    }
}

/// The error body: `{"code", "message", "more_info", "status"}`.
fn refuse(code: ErrorCode) -> Value {
    json!({
        "code": code.code().parse::<u64>().unwrap_or_default(),
        "message": code.original().unwrap_or(code.meaning()),
        "more_info": format!("https://www.twilio.com/docs/errors/{}", code.code()),
        "status": http_status(&code),
    })
}

fn is(operation: &Operation, documented: &Operation) -> bool {
    operation.name == documented.name
}

impl SimulatedVendor for Twilio {
    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn signature_window(&self) -> Duration {
        // HTTP Basic carries no time.
        Duration::MAX
    }

    fn default_account(&self) -> Account {
        let spec = self.spec();
        let account = Account::with_defaults(spec.name, spec.settings);
        // An Account SID of the documented shape, a token, and the magic From that passes.
        account
            .clone()
            .with("account_sid", "AC5a4db0c15a4db0c15a4db0c15a4db0c1")
            .and_then(|a| a.with("auth_token", "sandbox-twilio-secret"))
            .and_then(|a| a.with("from", MAGIC_FROM_VALID))
            .unwrap_or(account)
    }

    fn authenticate(
        &self,
        request: &Received<'_>,
        account: &Account,
        _now_millis: u64,
    ) -> Option<Result<(), AuthFailure>> {
        // Either credential pair signs: Account SID and Auth Token, or an API key and its
        // secret (the Account SID stays in the path).
        let header = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ")) else {
            return Some(Err(AuthFailure::MissingHeader));
        };
        let pair = [("account_sid", "auth_token"), ("api_key", "api_secret")]
            .into_iter()
            .filter_map(|(user, password)| {
                let (user, password) = (account.setting(user)?, account.setting(password)?);
                Some(format!("{user}:{password}"))
            })
            .any(|pair| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(pair) == encoded
            });
        Some(if pair {
            Ok(())
        } else {
            Err(AuthFailure::BadSignature)
        })
    }

    fn refusal(&self, _operation: &Operation, refusal: Refusal) -> Value {
        refuse(match refusal {
            Refusal::Auth(_) => ErrorCode::AuthenticationFailed,
            Refusal::Throttled => ErrorCode::TooManyRequests,
            Refusal::Malformed => ErrorCode::ParameterTooLong,
        })
    }

    fn http_status(&self, operation: &Operation, answer: &Value) -> u16 {
        match answer["status"].as_u64() {
            // An error body carries its HTTP status.
            Some(status) => u16::try_from(status).unwrap_or(400),
            None if is(operation, &tw::operations::CREATE_MESSAGE) => 201,
            None => 200,
        }
    }

    fn handle(&self, call: &Call<'_>, request: &Value) -> Value {
        let account_sid = call.account.setting("account_sid").unwrap_or_default();
        if call.path_param("AccountSid") != Some(account_sid) {
            return refuse(ErrorCode::AuthenticationFailed);
        }
        let answer = if is(call.operation, &tw::operations::CREATE_MESSAGE) {
            create(call, request)
        } else if is(call.operation, &tw::operations::FETCH_MESSAGE) {
            fetch(call)
        } else {
            Ok(json!({
                "account_sid": account_sid,
                "balance": format!("{:.5}", call.balance()),
                "currency": "USD",
            }))
        };
        answer.unwrap_or_else(refuse)
    }
}

/// A Message id: `SM` and 32 hex digits.
fn message_sid(call: &Call<'_>) -> String {
    format!("SM{:016x}{:016x}", call.random(), call.random())
}

/// `Thu, 30 Jul 2015 20:12:31 +0000`, as Twilio writes its dates.
fn rfc2822(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, hour, minute, second) = crate::state::civil(secs);
    let weekday = DAYS[usize::try_from((secs / 86_400) % 7).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month.saturating_sub(1)).unwrap_or(0) % 12];
    format!("{weekday}, {day:02} {month} {year} {hour:02}:{minute:02}:{second:02} +0000")
}

fn create(call: &Call<'_>, request: &Value) -> Result<Value, ErrorCode> {
    let field = |name: &str| request[name].as_str().unwrap_or_default();
    let (to, body) = (field("To"), field("Body"));
    let from = field("From");
    let service = field("MessagingServiceSid");
    if to.is_empty() {
        return Err(ErrorCode::ToRequired);
    }
    if body.is_empty() {
        return Err(ErrorCode::BodyRequired);
    }
    if from.is_empty() && service.is_empty() {
        return Err(ErrorCode::InvalidFromNumber);
    }
    if let Some((_, code)) = MAGIC_FROM.iter().find(|(number, _)| *number == from) {
        return Err(code.clone());
    }
    if let Some((_, code)) = MAGIC_TO.iter().find(|(number, _)| *number == to) {
        return Err(code.clone());
    }
    let violation = |name: &str| call.violations.iter().any(|v| v.field() == name);
    if violation("To") {
        return Err(ErrorCode::InvalidToNumber);
    }
    if body.chars().count() > 1600 {
        return Err(ErrorCode::BodyTooLong);
    }
    if violation("From") || violation("MessagingServiceSid") {
        return Err(ErrorCode::InvalidFromNumber);
    }
    if !call.violations.is_empty() {
        return Err(ErrorCode::ParameterTooLong);
    }
    let segments = smsgate::segments(body).parts.max(1);
    let draw = call.draw(to, Call::content_id(body), None);
    let sent = Sent {
        to,
        from: Some(from).filter(|f| !f.is_empty()).or(Some(service)),
        text: body,
    };
    if draw.rejected {
        call.reject(sent);
        return Err(ErrorCode::ToNotReachable);
    }
    if !call.charge(segments as f64 * call.price_per_part()) {
        return Err(ErrorCode::AccountSuspended);
    }
    let sid = message_sid(call);
    call.store(&sid, sent, draw.delivered);
    let account_sid = call.account.setting("account_sid").unwrap_or_default();
    let now = rfc2822(crate::state::now_millis() / 1000);
    if call.pushes() {
        push_callbacks(call, &sid, account_sid, from, to, draw.delivered);
    }
    Ok(json!({
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": (!service.is_empty()).then_some(service),
        "api_version": "2010-04-01",
        "body": body,
        "from": (!from.is_empty()).then_some(from),
        "to": to,
        "direction": "outbound-api",
        "status": if service.is_empty() { "queued" } else { "accepted" },
        "num_segments": segments.to_string(),
        "num_media": "0",
        "price": null,
        "price_unit": "USD",
        "error_code": null,
        "error_message": null,
        "date_created": now,
        "date_updated": now,
        "date_sent": null,
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"),
    }))
}

fn fetch(call: &Call<'_>) -> Result<Value, ErrorCode> {
    let sid = call.path_param("Sid").unwrap_or_default();
    let stored = call.stored(sid).ok_or(ErrorCode::NotFound)?;
    let account_sid = call.account.setting("account_sid").unwrap_or_default();
    let (status, error) = if stored.delivered {
        ("delivered", Value::Null)
    } else {
        ("undelivered", json!(30003))
    };
    Ok(json!({
        "sid": sid,
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "to": stored.number,
        "direction": "outbound-api",
        "status": status,
        "error_code": error,
        "error_message": if stored.delivered { Value::Null } else { json!("Unreachable destination handset") },
        "num_segments": "1",
        "num_media": "0",
        "price_unit": "USD",
        "date_updated": stored.at,
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"),
    }))
}

/// The status callbacks after the initial status (none is sent for `queued`): `sent`, then
/// `delivered` or `undelivered` (30003), each signed with the account's Auth Token over the
/// push URL.
fn push_callbacks(
    call: &Call<'_>,
    sid: &str,
    account_sid: &str,
    from: &str,
    to: &str,
    delivered: bool,
) {
    let Some(url) = call.push_url() else {
        return;
    };
    let token = call
        .account
        .setting("auth_token")
        .unwrap_or_default()
        .to_owned();
    let final_status = if delivered {
        "delivered"
    } else {
        "undelivered"
    };
    for status in ["sent", final_status] {
        let mut fields = vec![
            ("AccountSid", account_sid.to_owned()),
            ("ApiVersion", "2010-04-01".to_owned()),
            ("From", from.to_owned()),
            ("MessageSid", sid.to_owned()),
            ("MessageStatus", status.to_owned()),
            ("SmsSid", sid.to_owned()),
            ("SmsStatus", status.to_owned()),
            ("To", to.to_owned()),
        ];
        if status == "undelivered" {
            fields.push(("ErrorCode", "30003".to_owned()));
        }
        let signature = smsgate_twilio::webhook::signature(
            &url,
            fields.iter().map(|(k, v)| (*k, v.as_str())),
            &token,
        );
        if let Ok(body) = serde_urlencoded::to_string(&fields) {
            call.push_signed_form(body, smsgate_twilio::webhook::SIGNATURE_HEADER, signature);
        }
    }
}
