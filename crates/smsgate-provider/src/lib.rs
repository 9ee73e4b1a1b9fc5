//! What a vendor crate implements so that the `smsgate` facade can send through it.
//!
//! - [`Provider`]: capacity, one request's submission (per-entry verdicts, or a refusal of the
//!   whole request), dry runs, delivery-status polling and the account balance.
//! - [`Reason`], [`RejectKind`], [`NumberProblem`], [`DeliveryStatus`], [`Balance`]: the
//!   outcome vocabulary every vendor speaks.
//! - [`Vendor`]: the registry descriptor every vendor crate exposes as `VENDOR` — name,
//!   environment prefix, config keys, how to build its provider from [`Settings`], its
//!   delivery-report parser and which queries it offers.
//!
//! Small on purpose: a vendor crate depends on this and on `smsgate-transport`, never on the
//! facade.
//!
//! ```
//! use std::sync::Arc;
//! use smsgate_provider::{
//!     BoxFuture, Capacity, ConfigKey, Entry, EntryVerdict, Provider, Queries, Settings,
//!     SettingsError, Submission, Vendor,
//! };
//!
//! struct Echo;
//!
//! impl Provider for Echo {
//!     fn name(&self) -> &str {
//!         "echo"
//!     }
//!     fn capacity(&self) -> Capacity {
//!         Capacity { uniform_recipients: 10, mixed_recipients: 10, max_content_chars: 160, max_sender_id_chars: None }
//!     }
//!     fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
//!         let verdicts = entries.iter().enumerate().map(|(i, e)| (i, EntryVerdict::Accepted(e.reference.to_owned()))).collect();
//!         Box::pin(async move { Submission::Answered { verdicts, unlisted: EntryVerdict::Unknown("unlisted".into()) } })
//!     }
//! }
//!
//! fn build(settings: &Settings) -> Result<Arc<dyn Provider>, SettingsError> {
//!     settings.check_required()?;
//!     Ok(Arc::new(Echo))
//! }
//!
//! static VENDOR: Vendor = Vendor {
//!     name: "echo",
//!     env_prefix: "ECHO",
//!     keys: &[ConfigKey::secret("token", "the API token"), ConfigKey::BASE_URL],
//!     build,
//!     parse_report: |_| Ok(Vec::new()),
//!     queries: Queries { balance: false, delivery_status: false },
//!     pushes: &[],
//!     push_check: None,
//! };
//!
//! let missing = VENDOR.provider(&Settings::new(&VENDOR)).err();
//! assert_eq!(missing.map(|e| e.to_string()).as_deref(), Some("echo: token is not set (environment variable ECHO_TOKEN)"));
//! let provider = VENDOR.provider(&Settings::new(&VENDOR).with("token", "t0k3n")?)?;
//! assert_eq!(provider.name(), "echo");
//! # Ok::<(), SettingsError>(())
//! ```

mod matcher;
mod number;
mod outcome;
mod provider;
mod query;
mod registry;
pub mod segments;
mod status;

pub use matcher::EntryMatcher;
pub use number::NumberProblem;
pub use outcome::{Reason, RejectKind};
pub use provider::{
    BoxFuture, Capacity, Entry, EntryVerdict, FlowLimits, InlineSubmit, Provider, Submission,
    submission_from_error,
};
pub use query::{Balance, Query, QueryError, SentRecord};
pub use registry::{
    BASE_URL, ConfigKey, Push, PushAck, PushCheck, PushRequest, PushSignature, Queries,
    ReportError, Settings, SettingsError, Vendor, build, client, parse_push,
};
pub use status::DeliveryStatus;
