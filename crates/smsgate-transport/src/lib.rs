//! Shared runtime of the smsgate vendor clients.
//!
//! - [`spec`]: the vocabulary generated vendor code is written in ([`spec::Operation`],
//!   [`spec::Limits`], [`spec::CodeTable`], [`spec::ErrorClass`], [`spec::DeliveryClass`]).
//! - [`wire::WireRequest`]: one request exactly as sent; the body is serialised once and those
//!   bytes are signed ([`sign`]) and sent ([`http::HttpClient`]).
//! - [`error::Error`]: invalid request, transport failure (and whether the vendor may have got the
//!   request), unexpected HTTP status, undecodable body (raw bytes kept), typed vendor error.
//! - [`secret::Secret`] and [`clock::Clock`]: secrets that never print, time that tests pin;
//!   [`redact::redact_url`]: configured URLs print without their userinfo.
//!
//! ```
//! use smsgate_transport::{sign::{KeySecretTimestampMd5, Signer}, spec::HttpMethod, wire::WireRequest};
//!
//! let signer = KeySecretTimestampMd5::new("bDqJFiq9", "7bz1lzh9");
//! let mut request = WireRequest::new(HttpMethod::Get, "https://api.itniotech.com/sms/getBalance?appId=4luaKsL2".into(), None);
//! signer.sign(&mut request, &[], 1_630_468_800_000);
//! assert_eq!(request.header("Sign"), Some("05d7a50893e22a5c4bb3216ae3396c7c"));
//! assert!(!format!("{signer:?}").contains("7bz1lzh9"));
//! ```

pub mod clock;
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
