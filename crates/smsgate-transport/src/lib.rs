//! Shared runtime of the smsgate vendor clients.
//!
//! - [`spec`]: the vocabulary generated vendor code is written in ([`spec::Operation`],
//!   [`spec::Limits`], [`spec::CodeTable`], [`spec::ErrorClass`], [`spec::DeliveryClass`]).
//! - [`endpoint::Endpoint`]: the one request trait every generated endpoint implements (its
//!   operation, borrowed body, checks and answer status); [`endpoint::Joined`] lists serialise
//!   straight from the caller's slices.
//! - `client` (feature `http`): the client core every vendor client wraps — one builder (settings,
//!   base URL, HTTP options, clock), one way to validate, sign, send and decode any endpoint.
//! - [`sign::Signer`]: the open auth trait; each scheme's signer lives with its vendor.
//! - [`wire::WireRequest`]: one request exactly as sent; the body is serialised once and those
//!   bytes are signed and sent.
//! - [`error::Error`]: invalid request, transport failure (and whether the vendor may have got the
//!   request), unexpected HTTP status, undecodable body (raw bytes kept), typed vendor error.
//! - [`secret::Secret`] and [`clock::Clock`]: secrets that never print, time that tests pin;
//!   [`redact::redact_url`]: configured URLs print without their userinfo.
//!
//! ```
//! use smsgate_transport::endpoint::Joined;
//! use smsgate_transport::validate::Checker;
//! use smsgate_transport::spec::{HttpMethod, Limits, Operation, RequestEncoding};
//!
//! // Lists the wire joins with commas are serialised from the caller's slice, never copied.
//! let numbers = vec!["8613800138000".to_owned(), "8613800138001".to_owned()];
//! assert_eq!(serde_json::to_string(&Joined::commas(&numbers))?, r#""8613800138000,8613800138001""#);
//!
//! // Checks name the field and the limit, before any traffic.
//! let send = Operation {
//!     vendor: "acme", name: "send", method: HttpMethod::Post, base_url: "https://sms.acme.example",
//!     path: "/send", encoding: RequestEncoding::Json, auth: "acme-hmac", alternative_auth: true, fixed_headers: &[],
//!     request_type: "SendRequest", response_type: "SendResponse",
//!     limits: Limits { max_numbers: Some(1), ..Limits::default() },
//! };
//! let err = Checker::new(&send).numbers("to", &numbers, send.limits.max_numbers).unwrap_err();
//! assert_eq!(err.to_string(), "acme send: to has 2 entries, the limit is 1 per request");
//! # Ok::<(), serde_json::Error>(())
//! ```

#[cfg(feature = "http")]
pub mod client;
pub mod clock;
pub mod endpoint;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod redact;
pub mod secret;
pub mod sign;
pub mod spec;
pub mod validate;
pub mod wire;

pub use error::{ConfigError, Error, ValidationError, ValidationKind};
