//! Vonage's behaviour: both auth modes (`api_key` with `api_secret`, or a signed request), one
//! answer entry per part of a long text, the status table's refusals, JSON delivery receipts
//! (one per part, signed when the account signs).

use std::time::Duration;

use serde_json::{Value, json};
use smsgate_transport::spec::Operation;
use smsgate_vonage::codes::SmsStatus;
use smsgate_vonage::generated as vn;
use smsgate_vonage::sign::{SignatureMethod, signature, verify_signature};

use crate::config::Account;
use crate::simulate::{AuthFailure, Call, Received, Refusal, Sent, SimulatedVendor, Spec};

/// Accepted skew of a signed request's `timestamp` (Vonage documents none; ours).
const TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);

/// Vonage, as simulated.
#[derive(Debug, Clone, Copy)]
pub struct Vonage {
    spec: Spec,
}

/// The registered Vonage behaviour.
pub const VONAGE: Vonage = Vonage {
    spec: Spec::of::<vn::client::Credentials>(vn::operations::OPERATIONS, vn::MODELS_SCHEMA_JSON),
};

/// One refused part: `{"message-count":"1","messages":[{"status":…,"error-text":…}]}`.
fn refuse(status: SmsStatus) -> Value {
    json!({"message-count": "1", "messages": [{
        "status": status.code(),
        "error-text": status.original().unwrap_or(status.meaning()),
    }]})
}

fn is_balance(operation: &Operation) -> bool {
    operation.name == vn::operations::GET_BALANCE.name
}

impl SimulatedVendor for Vonage {
    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn signature_window(&self) -> Duration {
        TIMESTAMP_WINDOW
    }

    fn default_account(&self) -> Account {
        let spec = self.spec();
        let account = Account::with_defaults(spec.name, spec.settings);
        // An 8-character key, as Vonage's are; a default sender for requests without one.
        account
            .clone()
            .with("api_key", "5a4db0c1")
            .and_then(|a| a.with("api_secret", "sandbox-vonage-secret"))
            .and_then(|a| a.with("from", "smsgate"))
            .unwrap_or(account)
    }

    fn authenticate(
        &self,
        request: &Received<'_>,
        account: &Account,
        now_millis: u64,
    ) -> Option<Result<(), AuthFailure>> {
        let params = request.params();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        Some((|| {
            let key = param("api_key").ok_or(AuthFailure::MissingHeader)?;
            if Some(key) != account.setting("api_key") {
                return Err(AuthFailure::UnknownKey);
            }
            // The account API (balance) takes the key and secret, never a signature.
            if is_balance(request.operation) && param("sig").is_some() {
                return Err(AuthFailure::BadSignature);
            }
            let Some(_) = param("sig") else {
                let secret = param("api_secret").ok_or(AuthFailure::MissingHeader)?;
                // Status 4: the key and secret do not make a pair.
                return match account.setting("api_secret") {
                    Some(expected) if expected == secret => Ok(()),
                    _ => Err(AuthFailure::UnknownKey),
                };
            };
            // A signed request must not carry the secret too (status 32), and the account
            // must sign (status 14).
            if param("api_secret").is_some() {
                return Err(AuthFailure::ModesMixed);
            }
            let secret = account.setting("signature_secret");
            let secret = secret.ok_or(AuthFailure::BadSignature)?;
            let timestamp = param("timestamp").and_then(|t| t.parse::<u64>().ok());
            let timestamp = timestamp.ok_or(AuthFailure::Stale)?;
            let window = TIMESTAMP_WINDOW.as_secs();
            if (now_millis / 1000).abs_diff(timestamp) > window {
                return Err(AuthFailure::Stale);
            }
            let method = SignatureMethod::from_setting(
                account.setting("signature_method").unwrap_or_default(),
            )
            .unwrap_or_default();
            if verify_signature(&params, secret, method) {
                Ok(())
            } else {
                Err(AuthFailure::BadSignature)
            }
        })())
    }

    fn auth_params(&self) -> &'static [&'static str] {
        &["api_key", "api_secret", "sig", "timestamp"]
    }

    fn refusal(&self, operation: &Operation, refusal: Refusal) -> Value {
        if is_balance(operation) {
            let (code, label) = match refusal {
                Refusal::Auth(_) => ("401", "authentication failed"),
                Refusal::Throttled => ("429", "too many requests"),
                Refusal::Malformed => ("400", "bad request"),
            };
            return json!({"error-code": code, "error-code-label": label});
        }
        refuse(match refusal {
            Refusal::Auth(AuthFailure::MissingHeader) => SmsStatus::MissingParameters,
            Refusal::Auth(AuthFailure::UnknownKey | AuthFailure::FixedHeader) => {
                SmsStatus::InvalidCredentials
            }
            Refusal::Auth(AuthFailure::Stale | AuthFailure::BadSignature) => {
                SmsStatus::InvalidSignature
            }
            Refusal::Auth(AuthFailure::ModesMixed) => SmsStatus::SignatureAndApiSecretDisallowed,
            Refusal::Throttled => SmsStatus::Throttled,
            Refusal::Malformed => SmsStatus::InvalidParameters,
        })
    }

    fn http_status(&self, operation: &Operation, answer: &Value) -> u16 {
        // The account API answers its refusals with their HTTP status; the SMS API always 200.
        match answer["error-code"].as_str() {
            Some(code) if is_balance(operation) => code.parse().unwrap_or(400),
            _ => 200,
        }
    }

    fn handle(&self, call: &Call<'_>, request: &Value) -> Value {
        if is_balance(call.operation) {
            return json!({"value": call.balance(), "autoReload": false});
        }
        send(call, request).unwrap_or_else(refuse)
    }
}

/// A Vonage-style message id (a UUID's shape).
fn message_id(call: &Call<'_>) -> String {
    let (a, b) = (call.random(), call.random());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn send(call: &Call<'_>, request: &Value) -> Result<Value, SmsStatus> {
    let field = |name: &str| request[name].as_str().unwrap_or_default();
    let (to, text, from) = (field("to"), field("text"), field("from"));
    if to.is_empty() || text.is_empty() || from.is_empty() {
        return Err(SmsStatus::MissingParameters);
    }
    if call.violations.iter().any(|v| v.field() == "to") {
        return Err(SmsStatus::InvalidMessage);
    }
    if call.violations.iter().any(|v| v.field() == "from") {
        return Err(SmsStatus::InvalidSenderAddress);
    }
    if !call.violations.is_empty() {
        return Err(SmsStatus::InvalidParameters);
    }
    let parts = smsgate::segments(text).parts.max(1);
    let content = Call::content_id(text);
    let reference = request["client-ref"].as_str();
    let draw = call.draw(to, content, reference);
    let sent = Sent {
        to,
        from: Some(from),
        text,
    };
    if draw.rejected {
        call.reject(sent);
        return Err(SmsStatus::NumberBarred);
    }
    let price = call.price_per_part();
    if !call.charge(parts as f64 * price) {
        return Err(SmsStatus::PartnerQuotaViolation);
    }
    let balance = call.balance();
    let mut messages = Vec::with_capacity(parts);
    for part in 0..parts {
        let id = message_id(call);
        if part == 0 {
            call.store(&id, sent, draw.delivered);
        }
        let mut entry = json!({
            "to": to,
            "message-id": id,
            "status": "0",
            "remaining-balance": format!("{balance:.8}"),
            "message-price": format!("{price:.8}"),
            "network": "23410",
        });
        if let Some(reference) = reference {
            entry["client-ref"] = json!(reference);
        }
        messages.push(entry);
        if call.pushes() {
            push_receipt(call, &id, to, from, reference, draw.delivered);
        }
    }
    Ok(json!({"message-count": parts.to_string(), "messages": messages}))
}

/// One part's delivery receipt, signed (`timestamp`, `nonce`, `sig`) when the account has a
/// signature secret.
fn push_receipt(
    call: &Call<'_>,
    id: &str,
    to: &str,
    from: &str,
    reference: Option<&str>,
    delivered: bool,
) {
    let now = crate::state::now_millis() / 1000;
    let mut fields: Vec<(&str, String)> = vec![
        ("msisdn", to.to_owned()),
        ("to", from.to_owned()),
        ("network-code", "23410".to_owned()),
        ("messageId", id.to_owned()),
        ("price", format!("{:.8}", call.price_per_part())),
        (
            "status",
            if delivered { "delivered" } else { "failed" }.to_owned(),
        ),
        ("scts", scts(now)),
        ("err-code", if delivered { "0" } else { "2" }.to_owned()),
        (
            "api-key",
            call.account
                .setting("api_key")
                .unwrap_or_default()
                .to_owned(),
        ),
        ("message-timestamp", timestamp(now)),
    ];
    if let Some(reference) = reference {
        fields.push(("client-ref", reference.to_owned()));
    }
    if let Some(secret) = call.account.setting("signature_secret") {
        fields.push(("timestamp", now.to_string()));
        fields.push(("nonce", format!("{:016x}", call.random())));
        let method = SignatureMethod::from_setting(
            call.account.setting("signature_method").unwrap_or_default(),
        )
        .unwrap_or_default();
        let sig = signature(fields.iter().map(|(k, v)| (*k, v.as_str())), secret, method);
        fields.push(("sig", sig));
    }
    let body: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    call.push_json(Value::Object(body));
}

/// `YYMMDDhhmm` (UTC), as `scts` is written.
fn scts(secs: u64) -> String {
    let (year, month, day, hour, minute, _) = crate::state::civil(secs);
    format!(
        "{:02}{month:02}{day:02}{hour:02}{minute:02}",
        year.rem_euclid(100)
    )
}

/// `YYYY-MM-DD hh:mm:ss` (UTC), as `message-timestamp` is written.
fn timestamp(secs: u64) -> String {
    let (year, month, day, hour, minute, second) = crate::state::civil(secs);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
}
