//! Shared runtime of the smsgate vendor crates.
//!
//! Today this crate holds the vocabulary that generated vendor code is written in: [`spec::Operation`]
//! (one endpoint from a vendor's `operations.json`), [`spec::Limits`], and the normalised classes of
//! vendor status codes ([`spec::ErrorClass`], [`spec::DeliveryClass`]). The HTTP client, signing
//! schemes, clock and secret redaction build on it.
//!
//! ```
//! use smsgate_transport::spec::{ErrorClass, HttpMethod};
//!
//! assert!(ErrorClass::Auth.is_request_refused());
//! assert_eq!(HttpMethod::Post.as_str(), "POST");
//! ```

pub mod spec;
