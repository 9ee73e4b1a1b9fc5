//! What a simulated vendor is: what the generator produced for it ([`Spec`]) and its
//! behaviour ([`SimulatedVendor`]). The router does the rest for every vendor alike.
//!
//! For each operation of [`Spec::operations`] the router serves its method and path, and for
//! each request, in order: limits the body (HTTP 413), draws the injected fault, checks the
//! signature by recomputing it with the vendor's own signer and the account's settings
//! ([`AuthFailure`]), throttles, decodes the request as the operation's encoding says (a JSON
//! body or the query string), validates it against the bundled schema's definition named
//! [`Operation::request_type`] ([`Violation`]s), and hands it to
//! [`SimulatedVendor::handle`], which answers in the vendor's shape. What the router refuses
//! the vendor words with its own codes ([`SimulatedVendor::refusal`]).

use std::time::Duration;

use serde_json::Value;
use smsgate_transport::client::Credentials;
use smsgate_transport::spec::ConfigKey as SettingKey;
use smsgate_transport::spec::Operation;

use crate::config::Account;
pub use crate::inbox::Sent;
use crate::inbox::{Capture, InjectedFault, ReportOutcome};
use crate::signature::SignFn;
use crate::state::{PushBody, State};

pub use crate::state::Stored;

/// What the generator produced for one vendor, as the simulator reads it.
#[derive(Clone, Copy)]
pub struct Spec {
    /// The vendor's name (`Credentials::VENDOR`): its account's key in
    /// [`SandboxConfig::accounts`](crate::SandboxConfig::accounts).
    pub name: &'static str,
    /// Its generated operations (`generated::operations::OPERATIONS`).
    pub operations: &'static [Operation],
    /// Its account settings (`Credentials::SETTINGS`).
    pub settings: &'static [SettingKey],
    /// Its bundled JSON Schema (`generated::MODELS_SCHEMA_JSON`).
    pub schema: &'static str,
    /// Its client's signer for an account (`None` if the account's settings are incomplete).
    pub signer: fn(&Account) -> Option<SignFn>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// The spec of the vendor whose generated settings type is `C`.
    pub const fn of<C: Credentials>(
        operations: &'static [Operation],
        schema: &'static str,
    ) -> Self {
        Self {
            name: C::VENDOR,
            operations,
            settings: C::SETTINGS,
            schema,
            signer: crate::signature::signer_of::<C>,
        }
    }
}

/// Why a request's authentication failed, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// A header the vendor's signer sets is missing (or not text).
    MissingHeader,
    /// A fixed header of the operation (`bizType`, `action`) has another value.
    FixedHeader,
    /// The key is not the account's (or the vendor has no account).
    UnknownKey,
    /// The signing time is not a number or lies outside the vendor's window.
    Stale,
    /// The signature is not the one the account's secret gives.
    BadSignature,
    /// The request carries two auth modes at once (Vonage: a signature and the API secret).
    ModesMixed,
}

/// What the router refuses before the vendor's behaviour sees a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Authentication failed.
    Auth(AuthFailure),
    /// Over the configured rate limit ([`Faults::rate_limit_per_second`](crate::Faults)).
    Throttled,
    /// The body (or query string) could not be decoded.
    Malformed,
}

/// One schema violation of a request: where and which keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the offending value (`/array/0/content`, `""` for the root).
    pub pointer: String,
    /// The schema keyword that failed (`maxLength`, `pattern`, `required`, ...).
    pub keyword: String,
}

impl Violation {
    /// The last segment of the pointer: the offending field's name (or array index).
    pub fn field(&self) -> &str {
        self.pointer.rsplit('/').next().unwrap_or_default()
    }
}

/// A vendor's behaviour in the simulator: ids, answer shapes, codes, pushes. Registered once
/// in [`VENDORS`](crate::VENDORS).
pub trait SimulatedVendor: Send + Sync + 'static {
    /// Name, operations, settings, schema and signer, all generated.
    fn spec(&self) -> &Spec;

    /// How far the signing time may lie from now.
    fn signature_window(&self) -> Duration;

    /// The vendor's answer (HTTP 200) to a request the router refused.
    fn refusal(&self, operation: &Operation, refusal: Refusal) -> Value;

    /// Further paths that serve an operation (path, operation name), besides the documented
    /// ones.
    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Whether requests of `operation` count against the rate limit.
    fn throttles(&self, operation: &Operation) -> bool {
        let _ = operation;
        true
    }

    /// Answers an authenticated request, decoded and checked against the schema
    /// ([`Call::violations`]): the vendor's JSON answer (HTTP status: [`SimulatedVendor::http_status`]).
    fn handle(&self, call: &Call<'_>, request: &Value) -> Value;

    /// The account a default sandbox gives this vendor (default:
    /// [`Account::with_defaults`]); a vendor whose auth settings are optional (one of two
    /// modes) or whose answers depend on a setting's value sets them here.
    fn default_account(&self) -> Account {
        let spec = self.spec();
        Account::with_defaults(spec.name, spec.settings)
    }

    /// Checks a request's authentication itself, for a vendor whose scheme travels in the
    /// parameters rather than in headers (`None`, the default: the generic header check of
    /// the vendor's own signer).
    fn authenticate(
        &self,
        request: &Received<'_>,
        account: &Account,
        now_millis: u64,
    ) -> Option<Result<(), AuthFailure>> {
        let _ = (request, account, now_millis);
        None
    }

    /// Parameters the auth scheme adds to the request, left out before it is checked
    /// against the schema.
    fn auth_params(&self) -> &'static [&'static str] {
        &[]
    }

    /// The HTTP status of an answer (default 200: the vendors that answer errors in the body).
    fn http_status(&self, operation: &Operation, answer: &Value) -> u16 {
        let _ = (operation, answer);
        200
    }
}

/// A received request, as [`SimulatedVendor::authenticate`] sees it. `Debug` shows neither
/// its query nor its body (either may carry a secret).
#[derive(Clone, Copy)]
pub struct Received<'a> {
    /// The operation requested.
    pub operation: &'static Operation,
    /// The request's headers.
    pub headers: &'a axum::http::HeaderMap,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
}

impl std::fmt::Debug for Received<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("operation", &self.operation.name)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Received<'_> {
    /// The parameters of the request's encoding: the query string's (GET or query encoding)
    /// or the form body's, decoded; empty when they do not decode.
    pub fn params(&self) -> Vec<(String, String)> {
        let text = match self.operation.encoding {
            smsgate_transport::spec::RequestEncoding::Form => self.body,
            _ => self.query.as_bytes(),
        };
        serde_urlencoded::from_bytes(text).unwrap_or_default()
    }
}

/// A vendor's registered behaviour.
pub type Registered = &'static dyn SimulatedVendor;

/// One request handed to [`SimulatedVendor::handle`], with what the simulator offers to answer
/// it: the account, the schema's verdict, balances, stored messages, draws and pushes.
pub struct Call<'a> {
    pub(crate) state: &'a State,
    /// What the inbox keeps of this request.
    pub(crate) capture: &'a Capture<'a>,
    pub(crate) vendor: &'static str,
    /// The operation requested.
    pub operation: &'static Operation,
    /// The vendor's account.
    pub account: &'a Account,
    /// The request's violations of its schema definition (empty when valid).
    pub violations: &'a [Violation],
    /// The request's path (its placeholders filled: `/Messages/SM....json`).
    pub path: &'a str,
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("vendor", &self.vendor)
            .field("operation", &self.operation.name)
            .field("violations", &self.violations)
            .finish_non_exhaustive()
    }
}

/// What the draws decided about one number (item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageDraw {
    /// Refused individually.
    pub rejected: bool,
    /// Will end delivered (else undelivered).
    pub delivered: bool,
}

impl Call<'_> {
    /// The value of placeholder `{name}` of the operation's path in this request's path.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        let placeholder = format!("{{{name}}}");
        self.operation
            .path
            .split('/')
            .zip(self.path.split('/'))
            .find_map(|(pattern, segment)| {
                let (before, after) = pattern.split_once(placeholder.as_str())?;
                segment.strip_prefix(before)?.strip_suffix(after)
            })
    }

    /// Price of one SMS part.
    pub fn price_per_part(&self) -> f64 {
        self.state.config.price_per_part
    }

    /// Deducts `cost` from the account if its balance covers it.
    pub fn charge(&self, cost: f64) -> bool {
        self.state.charge(self.vendor, cost)
    }

    /// The account's balance now.
    pub fn balance(&self) -> f64 {
        self.state.balance(self.vendor)
    }

    /// The hash of a text, for [`Call::draw`] (computed once for all its numbers).
    pub fn content_id(content: &str) -> u64 {
        State::content_id(content)
    }

    /// Whether one number (item) is refused and whether it will be delivered, drawn from the
    /// seed, the vendor, the number, the text ([`Call::content_id`]) and the caller's id for
    /// it.
    pub fn draw(&self, number: &str, content_id: u64, reference: Option<&str>) -> MessageDraw {
        self.state
            .draw_message(self.vendor, number, content_id, reference)
    }

    /// Stores an accepted message under `id` (for status queries) and keeps it in the inbox;
    /// the pushes queued after it belong to it.
    pub fn store(&self, id: &str, sent: Sent<'_>, delivered: bool) {
        self.state.store(self.vendor, id, sent.to, delivered);
        let outcome = if delivered {
            ReportOutcome::Delivered
        } else {
            ReportOutcome::Undelivered
        };
        self.capture.add(sent, Some(id), Some(outcome), None);
    }

    /// Keeps in the inbox a message refused by an injected per-number rejection.
    pub fn reject(&self, sent: Sent<'_>) {
        self.capture
            .add(sent, None, None, Some(InjectedFault::Rejected));
    }

    /// The message stored under `id`, if any.
    pub fn stored(&self, id: &str) -> Option<Stored> {
        self.state.stored(self.vendor, id)
    }

    /// The next number of the sandbox-wide sequence (1, 2, ...).
    pub fn next_sequence(&self) -> u64 {
        self.state.next_sequence()
    }

    /// A random 64-bit number from the seeded generator (for ids; faults never draw from it).
    pub fn random(&self) -> u64 {
        self.state.random()
    }

    /// Whether delivery reports are pushed anywhere.
    pub fn pushes(&self) -> bool {
        self.state.pushes()
    }

    /// A tracker of one more push of the last message stored, for the inbox.
    fn tracker(&self) -> Option<crate::inbox::PushTracker> {
        self.state
            .pusher
            .as_ref()
            .and_then(|_| self.capture.tracker(&self.state.inbox))
    }

    /// Queues a JSON delivery report.
    pub fn push_json(&self, body: Value) {
        self.state
            .push(self.vendor, PushBody::Json(body), self.tracker());
    }

    /// Queues a form-encoded delivery report.
    pub fn push_form(&self, body: String) {
        self.state
            .push(self.vendor, PushBody::Form(body), self.tracker());
    }

    /// Where delivery reports are pushed, if anywhere (what a vendor that signs its pushes
    /// signs).
    pub fn push_url(&self) -> Option<std::sync::Arc<str>> {
        self.state.push_url(self.vendor)
    }

    /// Queues a form-encoded delivery report with a signature header.
    pub fn push_signed_form(&self, body: String, header: &'static str, value: String) {
        self.state.push(
            self.vendor,
            PushBody::SignedForm(body, header, value),
            self.tracker(),
        );
    }
}
