//! Send SMS through several gateways with one API.
//!
//! [`SmsGate`] holds providers (vendor clients) in priority order. [`SmsGate::send`] normalises
//! numbers, groups messages into the fewest requests each provider allows, sends them with
//! bounded concurrency, and returns a [`Report`] with exactly one [`Outcome`] per message, in
//! input order:
//!
//! - `Accepted` — with the provider's message id;
//! - `Rejected` — with the vendor's code and text, a normalised class, and whether sending it
//!   again is safe;
//! - `Unknown` — the request may have reached the provider but no verdict came back (timeout
//!   after sending, HTTP 5xx, undecodable answer). Unknown messages are never retried and never
//!   failed over: that is how an SMS gets sent twice.
//!
//! When a provider refuses a whole request before sending anything (authentication, IP not
//! allowed, balance, account locked, channel not bound, throttled after retries, connection
//! never made), exactly those messages move to the next provider. Per-number refusals stay
//! refusals.
//!
//! ```no_run
//! use smsgate::{Message, SmsGate};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let gate = SmsGate::builder()
//!     .provider(smsgate::nxcloud::Client::from_env()?)
//!     .provider(smsgate::itniotech::Client::from_env()?)
//!     .build();
//! let report = gate
//!     .send(&[Message::new("+86 138-0013-8000", "Your code is 4711"), Message::new("+8613800138001", "Welcome!")])
//!     .await;
//! for delivery in &report.deliveries {
//!     println!("{} → {}", delivery.to, delivery.outcome);
//! }
//! # Ok(()) }
//! ```
//!
//! Vendors are cargo features (`itniotech`, `laaffic`, `nxcloud`, `twilio`, `vonage`), all on by
//! default; turn off
//! default features and pick the ones you use for the leanest build.

mod gate;
mod message;
mod number;
mod outcome;
pub mod provider;
pub mod registry;
mod status;
mod stop;

#[cfg(feature = "ledger")]
pub use gate::SendOnceError;
pub use gate::{
    DryRunRequest, Hop, PlannedRequest, Preview, PreviewMessage, ProviderOptions, RouteCursor,
    Routing, RoutingError, RoutingRule, SmsGate, SmsGateBuilder, Strategy,
};
pub use message::{Encoding, Message, NumberProblem, Segments, normalize_number, segments};
pub use number::{NumberPolicy, NumberPolicyError};
pub use outcome::{
    Delivery, Outcome, PhoneNumber, ProviderName, Reason, Reference, RejectKind, Report, Tried,
};
pub use provider::{Balance, Provider, QueryError};
pub use registry::{Vendor, registry};
/// The durable ledger ([`SmsGateBuilder::ledger`], [`SmsGate::send_once`]): `smsgate-ledger`.
#[cfg(feature = "ledger")]
pub use smsgate_ledger as ledger;
pub use smsgate_transport::spec::{DeliveryClass, ErrorClass};
pub use status::DeliveryStatus;
pub use stop::StopSignal;

#[cfg(feature = "itniotech")]
pub use smsgate_itniotech as itniotech;
#[cfg(feature = "laaffic")]
pub use smsgate_laaffic as laaffic;
#[cfg(feature = "nxcloud")]
pub use smsgate_nxcloud as nxcloud;
#[cfg(feature = "twilio")]
pub use smsgate_twilio as twilio;
#[cfg(feature = "vonage")]
pub use smsgate_vonage as vonage;
