//! Balances, accepted messages, draws and pushes, shared by every simulated vendor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::config::SandboxConfig;
use crate::draw::{Key, unit};
use crate::inbox::{Inbox, PushTracker};
use crate::push::Pusher;
use crate::simulate::{MessageDraw, Violation};

/// A message the sandbox accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The number it went to.
    pub number: String,
    /// Whether it ends delivered.
    pub delivered: bool,
    /// When it was accepted (`2024-02-29T00:00:00Z`).
    pub at: String,
    /// When it was accepted, UNIX milliseconds (the same instant as `at`).
    pub at_ms: u64,
}

/// A fault drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Http500,
    Drop,
    Malformed,
}

/// Most distinct requests whose repeats are counted for fault draws (about 16 MiB).
const SEEN_REQUESTS_CAP: usize = 1 << 20;

pub struct Mutable {
    /// Only for nxcloud message ids; faults never draw from it.
    pub rng: fastrand::Rng,
    /// How many times each request (by its hash) arrived.
    pub seen: HashMap<u64, u32>,
    pub balances: HashMap<&'static str, f64>,
    pub messages: HashMap<(&'static str, String), Stored>,
    pub sequence: u64,
    pub window: HashMap<&'static str, (Instant, u32)>,
}

pub struct State {
    pub config: SandboxConfig,
    /// Each simulated vendor's schema validators (vendors with the same bundled schema share).
    schemas: HashMap<&'static str, Arc<Schemas>>,
    pub inner: Mutex<Mutable>,
    pub pusher: Option<Arc<Pusher>>,
    /// Every message received, for the page and the API.
    pub inbox: Arc<Inbox>,
    /// Whether the inbox answers requests for any `Host` (listening beyond loopback), or only
    /// for loopback names and IP addresses (a guard against DNS rebinding).
    pub inbox_any_host: bool,
}

impl State {
    pub fn new(config: SandboxConfig, pusher: Option<Arc<Pusher>>) -> Self {
        let balances = config
            .accounts
            .iter()
            .map(|(vendor, account)| (*vendor, account.balance))
            .collect();
        let mut compiled: Vec<(&'static str, Arc<Schemas>)> = Vec::new();
        let mut schemas = HashMap::new();
        for vendor in crate::VENDORS {
            let spec = vendor.spec();
            let shared = match compiled.iter().find(|(text, _)| *text == spec.schema) {
                Some((_, shared)) => Arc::clone(shared),
                None => {
                    let fresh = Arc::new(Schemas::new(spec.schema));
                    compiled.push((spec.schema, Arc::clone(&fresh)));
                    fresh
                }
            };
            schemas.insert(spec.name, shared);
        }
        let inbox = Arc::new(Inbox::new(config.inbox_capacity, config.secrets()));
        Self {
            inbox,
            inbox_any_host: false,
            inner: Mutex::new(Mutable {
                rng: fastrand::Rng::with_seed(config.seed),
                seen: HashMap::new(),
                balances,
                messages: HashMap::new(),
                sequence: 0,
                window: HashMap::new(),
            }),
            config,
            schemas,
            pusher,
        }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Mutable> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sleeps the configured latency, then draws this request's fault from the seed, the
    /// request (`operation`, query, body) and how many identical requests came before.
    pub async fn fault(&self, operation: &str, query: &[u8], body: &[u8]) -> Fault {
        if !self.config.faults.latency.is_zero() {
            tokio::time::sleep(self.config.faults.latency).await;
        }
        let faults = &self.config.faults;
        if faults.http_500_rate <= 0.0 && faults.drop_rate <= 0.0 && faults.malformed_rate <= 0.0 {
            return Fault::None;
        }
        let request = Key::new("request")
            .field(operation.as_bytes())
            .field(query)
            .field(body)
            .finish();
        let occurrence = {
            let mut inner = self.lock();
            // Bounded memory in a long soak: past the cap the counts start again (a repeat then
            // draws as a first occurrence), which keeps the draws a function of the requests.
            if inner.seen.len() >= SEEN_REQUESTS_CAP && !inner.seen.contains_key(&request) {
                inner.seen.clear();
            }
            let seen = inner.seen.entry(request).or_insert(0);
            let occurrence = *seen;
            *seen = seen.saturating_add(1);
            occurrence
        };
        let id = Key::new("occurrence")
            .number(request)
            .number(u64::from(occurrence))
            .finish();
        let draw = unit(self.config.seed, "fault", id);
        if draw < faults.http_500_rate {
            Fault::Http500
        } else if draw < faults.http_500_rate + faults.drop_rate {
            Fault::Drop
        } else if draw < faults.http_500_rate + faults.drop_rate + faults.malformed_rate {
            Fault::Malformed
        } else {
            Fault::None
        }
    }

    /// Whether this request goes over the vendor's rate limit.
    pub fn throttled(&self, vendor: &'static str) -> bool {
        let Some(limit) = self.config.faults.rate_limit_per_second else {
            return false;
        };
        let mut inner = self.lock();
        let now = Instant::now();
        let entry = inner.window.entry(vendor).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(1) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 > limit
    }

    /// The hash of a text, for [`State::draw_message`] (computed once for all its numbers).
    pub fn content_id(content: &str) -> u64 {
        Key::new("content").field(content.as_bytes()).finish()
    }

    /// Whether one number (item) is refused individually and whether it will be delivered,
    /// drawn from the seed, the vendor, the number, the text ([`State::content_id`]) and the
    /// caller's id for it.
    pub fn draw_message(
        &self,
        vendor: &str,
        number: &str,
        content_id: u64,
        reference: Option<&str>,
    ) -> MessageDraw {
        let id = Key::new("message")
            .field(vendor.as_bytes())
            .field(number.as_bytes())
            .number(content_id)
            .field(reference.unwrap_or_default().as_bytes())
            .number(u64::from(reference.is_some()))
            .finish();
        let rate = self.config.faults.reject_rate;
        MessageDraw {
            rejected: rate > 0.0 && unit(self.config.seed, "reject", id) < rate,
            delivered: unit(self.config.seed, "deliver", id) < self.config.delivery_rate,
        }
    }

    /// Deducts `cost` if the balance covers it.
    pub fn charge(&self, vendor: &'static str, cost: f64) -> bool {
        let mut inner = self.lock();
        let balance = inner.balances.entry(vendor).or_insert(0.0);
        if *balance + 1e-9 < cost {
            return false;
        }
        *balance -= cost;
        true
    }

    pub fn balance(&self, vendor: &'static str) -> f64 {
        self.lock().balances.get(vendor).copied().unwrap_or(0.0)
    }

    /// The message `vendor` stored under `id`, if any.
    pub fn stored(&self, vendor: &'static str, id: &str) -> Option<Stored> {
        self.lock().messages.get(&(vendor, id.to_owned())).cloned()
    }

    /// A draw of the seeded generator (ids only).
    pub fn random(&self) -> u64 {
        self.lock().rng.u64(..)
    }

    /// The bundled schema of `vendor` (`Null` for a vendor the sandbox does not simulate).
    pub fn schema(&self, vendor: &str) -> &serde_json::Value {
        static NONE: serde_json::Value = serde_json::Value::Null;
        self.schemas.get(vendor).map_or(&NONE, |s| &s.bundled)
    }

    /// Violations of `value` against `vendor`'s schema definition `name`.
    pub fn violations(
        &self,
        vendor: &str,
        name: &str,
        value: &serde_json::Value,
    ) -> Vec<Violation> {
        match self.schemas.get(vendor) {
            Some(schemas) => schemas.violations(name, value),
            None => vec![Violation {
                pointer: String::new(),
                keyword: "schema".to_owned(),
            }],
        }
    }

    /// Stores an accepted message under `id`.
    pub fn store(&self, vendor: &'static str, id: &str, number: &str, delivered: bool) {
        let at_ms = now_millis();
        let mut inner = self.lock();
        inner.messages.insert(
            (vendor, id.to_owned()),
            Stored {
                number: number.to_owned(),
                delivered,
                at: iso(at_ms),
                at_ms,
            },
        );
    }

    /// The messages `vendor` accepted from `from_ms` to `to_ms` (UNIX milliseconds, both
    /// included) with their ids, by time then id.
    pub fn stored_between(
        &self,
        vendor: &'static str,
        from_ms: u64,
        to_ms: u64,
    ) -> Vec<(String, Stored)> {
        let mut found: Vec<(String, Stored)> = self
            .lock()
            .messages
            .iter()
            .filter(|((owner, _), stored)| {
                *owner == vendor && (from_ms..=to_ms).contains(&stored.at_ms)
            })
            .map(|((_, id), stored)| (id.clone(), stored.clone()))
            .collect();
        found.sort_by(|(a_id, a), (b_id, b)| a.at_ms.cmp(&b.at_ms).then_with(|| a_id.cmp(b_id)));
        found
    }

    pub fn next_sequence(&self) -> u64 {
        let mut inner = self.lock();
        inner.sequence += 1;
        inner.sequence
    }

    /// Whether delivery reports are pushed anywhere.
    pub fn pushes(&self) -> bool {
        self.pusher.is_some()
    }

    /// Queues a delivery report for the push workers (dropped and counted if the queue is
    /// full); `tracker` tells the inbox what became of it.
    pub fn push(&self, vendor: &str, body: PushBody, tracker: Option<PushTracker>) {
        let Some(pusher) = &self.pusher else {
            return;
        };
        match body {
            PushBody::Json(value) => pusher.push_with(
                vendor,
                "application/json",
                serde_json::to_vec(&value).unwrap_or_default().into(),
                Vec::new(),
                tracker,
            ),
            PushBody::Form(text) => pusher.push_with(
                vendor,
                "application/x-www-form-urlencoded",
                text.into(),
                Vec::new(),
                tracker,
            ),
            PushBody::SignedForm(text, header, value) => pusher.push_with(
                vendor,
                "application/x-www-form-urlencoded",
                text.into(),
                vec![(header, value)],
                tracker,
            ),
        }
    }

    /// Where `vendor`'s delivery reports are pushed, if anywhere (`{vendor}` in the push URL
    /// filled).
    pub fn push_url(&self, vendor: &str) -> Option<Arc<str>> {
        self.pusher.as_ref().map(|pusher| pusher.url_for(vendor))
    }
}

/// A delivery-report push body.
pub enum PushBody {
    Json(serde_json::Value),
    Form(String),
    /// A form body with a signature header (name, value).
    SignedForm(String, &'static str, String),
}

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Civil date and time (UTC) of epoch seconds.
pub fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    (
        year,
        month,
        day,
        u32::try_from(h).unwrap_or(0),
        u32::try_from(m).unwrap_or(0),
        u32::try_from(s).unwrap_or(0),
    )
}

/// UNIX milliseconds as `2024-02-29T00:00:00Z` (to the second).
pub fn iso(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms / 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `yyMMddHHmmss` now, the prefix of onbuka message ids.
pub fn compact_now() -> String {
    let (y, mo, d, h, mi, s) = civil(now_millis() / 1000);
    format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}", y.rem_euclid(100))
}

/// The answer for an injected fault, if any.
pub fn fault_response(fault: Fault, body: &[u8]) -> Option<Response> {
    match fault {
        Fault::None => None,
        Fault::Http500 => {
            Some((StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response())
        }
        Fault::Malformed => {
            let cut = body.len() / 2;
            Some(
                Response::builder()
                    .header("Content-Type", "application/json")
                    .body(Body::from(body[..cut].to_vec()))
                    .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
            )
        }
        Fault::Drop => {
            // Send a few bytes, then fail the body: the connection is cut mid-answer.
            let head = bytes::Bytes::copy_from_slice(&body[..body.len().min(8)]);
            let stream = futures_util::stream::iter(vec![
                Ok::<_, std::io::Error>(head),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "dropped by the sandbox",
                )),
            ]);
            Some(
                Response::builder()
                    .header("Content-Type", "application/json")
                    .header("Content-Length", body.len().to_string())
                    .body(Body::from_stream(stream))
                    .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
            )
        }
    }
}

/// A JSON answer with HTTP `status`, or the injected fault applied to it.
pub fn answer(fault: Fault, status: u16, value: &serde_json::Value) -> Response {
    answer_bytes(fault, status, serde_json::to_vec(value).unwrap_or_default())
}

/// A JSON answer of `body` with HTTP `status`, or the injected fault applied to it.
pub fn answer_bytes(fault: Fault, status: u16, body: Vec<u8>) -> Response {
    fault_response(fault, &body).unwrap_or_else(|| {
        Response::builder()
            .status(status)
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(Body::from(body))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    })
}

/// Validators of a vendor's bundled schema, one per definition, compiled once (draft 7, by
/// [`boon`]).
pub struct Schemas {
    /// The bundled schema itself (its definitions type form fields).
    bundled: serde_json::Value,
    compiled: boon::Schemas,
    validators: HashMap<String, boon::SchemaIndex>,
}

impl Schemas {
    /// Where the bundled schema is registered with the compiler: a name, never fetched.
    const LOCATION: &'static str = "urn:smsgate:bundled-schema";

    /// Compiles every definition of `bundled`, a vendor's self-contained schema (a definition
    /// that does not compile is left out, with a warning).
    pub fn new(bundled: &str) -> Self {
        let value: serde_json::Value = serde_json::from_str(bundled).unwrap_or_default();
        let mut compiled = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V7);
        let registered = compiler.add_resource(Self::LOCATION, value.clone()).is_ok();
        let validators = value["definitions"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|_| registered)
            .filter_map(|(name, _)| {
                let location = format!("{}#/definitions/{name}", Self::LOCATION);
                match compiler.compile(&location, &mut compiled) {
                    Ok(index) => Some((name.clone(), index)),
                    Err(err) => {
                        tracing::warn!(definition = %name, error = %err, "schema not compiled");
                        None
                    }
                }
            })
            .collect();
        Self {
            bundled: value,
            compiled,
            validators,
        }
    }

    /// Violations of `value` against definition `name` (one for a name it lacks).
    pub fn violations(&self, name: &str, value: &serde_json::Value) -> Vec<Violation> {
        let Some(index) = self.validators.get(name) else {
            return vec![Violation {
                pointer: String::new(),
                keyword: "schema".to_owned(),
            }];
        };
        let mut violations = Vec::new();
        if let Err(error) = self.compiled.validate(value, *index) {
            collect_violations(&error, &mut violations);
        }
        violations
    }
}

/// The failed keywords of `error`'s tree: its leaves (a `$ref` or a group is only the way
/// there), except that failed alternatives (`anyOf`, `oneOf`) are one violation of the value and
/// a name breaking `propertyNames` is one violation of that name.
fn collect_violations(error: &boon::ValidationError<'_, '_>, into: &mut Vec<Violation>) {
    walk_violations(error, "", into);
}

/// [`collect_violations`] below an error at `parent`. boon 0.6 leaves a `propertyNames` failure
/// without its object's location: it is reported where the nearest located error is.
fn walk_violations(error: &boon::ValidationError<'_, '_>, parent: &str, into: &mut Vec<Violation>) {
    let at = error.instance_location.to_string();
    let keyword = match &error.kind {
        boon::ErrorKind::PropertyName { .. } => {
            into.push(Violation {
                pointer: parent.to_owned(),
                keyword: "propertyNames".to_owned(),
            });
            return;
        }
        boon::ErrorKind::AnyOf => Some("anyOf"),
        boon::ErrorKind::OneOf(_) => Some("oneOf"),
        _ => None,
    };
    if let Some(keyword) = keyword {
        into.push(Violation {
            pointer: at,
            keyword: keyword.to_owned(),
        });
        return;
    }
    if error.causes.is_empty() {
        into.push(Violation {
            pointer: at.clone(),
            keyword: match &error.kind {
                // boon 0.6 names this one `additionalProperty` in its keyword paths.
                boon::ErrorKind::AdditionalProperties { .. } => "additionalProperties".to_owned(),
                kind => kind
                    .keyword_path()
                    .map_or_else(|| "schema".to_owned(), |path| path.keyword.to_owned()),
            },
        });
    }
    for cause in &error.causes {
        walk_violations(cause, &at, into);
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_630_468_800), (2021, 9, 1, 4, 0, 0));
        assert_eq!(civil(1_709_164_800), (2024, 2, 29, 0, 0, 0));
    }

    fn violations_of(value: serde_json::Value) -> Vec<(String, String)> {
        let bundled = serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {
                "Numbers": {"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"},
                "SendRequest": {
                    "type": "object",
                    "required": ["numbers", "content"],
                    "additionalProperties": false,
                    "properties": {
                        "numbers": {"$ref": "#/definitions/Numbers"},
                        "content": {"type": "string", "minLength": 1, "maxLength": 5},
                        "items": {"type": "array", "maxItems": 1, "items": {"type": "integer"}}
                    }
                }
            }
        });
        let schemas = Schemas::new(&bundled.to_string());
        let mut found: Vec<(String, String)> = schemas
            .violations("SendRequest", &value)
            .into_iter()
            .map(|v| (v.pointer, v.keyword))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn violations_name_the_pointer_and_the_keyword_through_refs() {
        let pair = |p: &str, k: &str| (p.to_owned(), k.to_owned());
        assert!(violations_of(serde_json::json!({"numbers": "1,2", "content": "hi"})).is_empty());
        assert_eq!(
            violations_of(serde_json::json!({"numbers": "1;2", "content": "toolong", "x": 1})),
            vec![
                pair("", "additionalProperties"),
                pair("/content", "maxLength"),
                pair("/numbers", "pattern"),
            ]
        );
        assert_eq!(
            violations_of(serde_json::json!({"content": "", "items": [1, "a"]})),
            vec![
                pair("", "required"),
                pair("/content", "minLength"),
                pair("/items", "maxItems"),
                pair("/items/1", "type"),
            ]
        );
    }

    #[test]
    fn alternatives_and_property_names_are_one_violation_each() {
        let bundled = serde_json::json!({
            "definitions": {
                "Body": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[a-z]+$"},
                    "properties": {
                        "meta": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
                        "to": {"anyOf": [{"type": "string", "minLength": 3}, {"type": "integer"}]}
                    }
                }
            }
        });
        let schemas = Schemas::new(&bundled.to_string());
        let found: Vec<(String, String)> = schemas
            .violations(
                "Body",
                &serde_json::json!({"to": "ab", "Bad/Name": 1, "meta": {"X": 1}}),
            )
            .into_iter()
            .map(|v| (v.pointer, v.keyword))
            .collect();
        assert!(
            found.contains(&("/to".to_owned(), "anyOf".to_owned())),
            "{found:?}"
        );
        // One violation per bad name (boon 0.6 gives a name no location of its own).
        let names = found.iter().filter(|(_, k)| k == "propertyNames").count();
        assert_eq!(names, 2, "{found:?}");
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn an_unknown_definition_is_one_violation() {
        let schemas = Schemas::new(r#"{"definitions": {}}"#);
        let found = schemas.violations("Missing", &serde_json::json!({}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].keyword, "schema");
    }
}
