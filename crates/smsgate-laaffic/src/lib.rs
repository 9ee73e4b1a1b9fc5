//! laaffic SMS API for smsgate: everything typed here is generated from `specs/laaffic` by
//! `cargo xtask gen` — wire models, borrowed request bodies with their checks, status tables,
//! endpoints and the [`Client`] — and the verdicts come from the platform it runs on
//! (`smsgate-onbuka`).
//!
//! ```
//! use smsgate_laaffic::{Client, Credentials, bodies::SendSmsRequest};
//! use smsgate_transport::endpoint::Joined;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or Client::from_env(): LAAFFIC_API_KEY, LAAFFIC_API_SECRET, LAAFFIC_APP_ID, LAAFFIC_BASE_URL.
//! let client = Client::builder()
//!     .credentials(Credentials { api_key: "bDqJFiq9".into(), api_secret: "7bz1lzh9".into(), app_id: "4luaKsL2".into() })
//!     .build()?;
//! let numbers = ["8613800138000", "8613800138001"];
//! let body = SendSmsRequest { numbers: Joined::commas(&numbers), content: "Your code is 4711", ..Default::default() };
//! // The exact signed request (appId filled from the settings), without sending it:
//! let request = client.prepare_send_sms(&body)?;
//! assert_eq!(request.url, "https://api.laaffic.com/v3/sendSms");
//! // Bad input is refused before any traffic, naming the field and the limit:
//! let long = "x".repeat(1025);
//! assert!(client.prepare_send_sms(&SendSmsRequest { content: &long, ..body }).is_err());
//! # Ok(()) }
//! ```

pub mod generated;

pub use generated::client::{Client, ClientBuilder, Credentials, Error};
pub use generated::{bodies, codes, models, operations};
pub use smsgate_onbuka::{delivery_status, parse_delivery_report, push_status};

smsgate_onbuka::brand!();
