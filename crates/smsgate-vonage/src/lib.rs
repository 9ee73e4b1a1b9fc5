//! Vonage (Nexmo) SMS API for smsgate: everything typed here is generated from `specs/vonage`
//! by `cargo xtask gen` — wire models, borrowed request bodies with their checks, status
//! tables, endpoints and the [`Client`]. Hand-written: the two auth schemes and the webhook
//! signature ([`sign`]) and the verdicts ([`provider`]: one verdict per recipient from the
//! per-part answer, delivery receipts, the registry descriptor [`VENDOR`]).
//!
//! ```
//! use smsgate_vonage::{Client, bodies::SendSmsRequest};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or Client::from_env(): VONAGE_API_KEY, VONAGE_API_SECRET (or VONAGE_SIGNATURE_SECRET and
//! // VONAGE_SIGNATURE_METHOD to sign requests), VONAGE_FROM, VONAGE_CALLBACK, VONAGE_BASE_URL.
//! let client = Client::builder().api_key("abcd1234").api_secret("s3cr3t-x").from("Acme").build()?;
//! let request = client.prepare_send_sms(&SendSmsRequest {
//!     to: "447700900000",
//!     text: "Your code is 4711",
//!     ..Default::default()
//! })?;
//! assert_eq!(request.url, "https://rest.nexmo.com/sms/json");
//! // The secret travels as a parameter; printed, it is hidden.
//! assert!(request.to_string().contains("api_secret=[redacted]"));
//! // `to` is digits only (7 to 15): refused before any traffic.
//! let bad = SendSmsRequest { to: "+44 7700 900000", text: "Hi", ..Default::default() };
//! assert!(client.prepare_send_sms(&bad).is_err());
//! # Ok(()) }
//! ```

pub mod generated;
pub mod provider;
pub mod sign;

pub use generated::client::{Client, ClientBuilder, Credentials};
pub use generated::{bodies, codes, models, operations};
pub use provider::{VENDOR, parse_delivery_receipt, receipt_status, verdict};
