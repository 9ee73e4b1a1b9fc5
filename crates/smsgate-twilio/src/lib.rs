//! Twilio Programmable Messaging for smsgate: everything typed here is generated from
//! `specs/twilio` by `cargo xtask gen` — wire models, borrowed request bodies with their
//! checks, the error-code and message-status tables, endpoints and the [`Client`].
//! Hand-written: the verdicts ([`provider`]: a Message per recipient, delivery status by
//! fetching it, status callbacks, the registry descriptor [`VENDOR`]) and the
//! `X-Twilio-Signature` check of status callbacks ([`webhook`]).
//!
//! ```
//! use smsgate_twilio::{Client, bodies::CreateMessageRequest};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or Client::from_env(): TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and
//! // TWILIO_API_SECRET), TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID, TWILIO_STATUS_CALLBACK,
//! // TWILIO_BASE_URL.
//! let client = Client::builder()
//!     .account_sid("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
//!     .auth_token("your_auth_token")
//!     .from("+15005550006")
//!     .build()?;
//! let request = client.prepare_create_message(&CreateMessageRequest {
//!     to: "+14155552345",
//!     body: "Your code is 4711",
//!     ..Default::default()
//! })?;
//! assert_eq!(
//!     request.url,
//!     "https://api.twilio.com/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json"
//! );
//! assert_eq!(request.body.as_deref(), Some(&b"Body=Your%20code%20is%204711&From=%2B15005550006&To=%2B14155552345"[..]));
//! // `To` is E.164 with its `+`: refused before any traffic.
//! let bad = CreateMessageRequest { to: "14155552345", body: "Hi", ..Default::default() };
//! assert!(client.prepare_create_message(&bad).is_err());
//! # Ok(()) }
//! ```

pub mod generated;
pub mod provider;
pub mod webhook;

pub use generated::client::{Client, ClientBuilder, Credentials, Error};
pub use generated::{bodies, codes, models, operations};
pub use provider::{VENDOR, callback_status, message_status, parse_status_callback};
