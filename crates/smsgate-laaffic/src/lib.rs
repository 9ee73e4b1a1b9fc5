//! laaffic SMS API (v3) for smsgate.
//!
//! [`Client`] sends every operation of the spec with typed, validated, signed requests: bad input
//! is refused before any traffic, each request's body is serialised once and those bytes are
//! signed and sent, and answers come back as typed receipts or a typed [`Error`].
//!
//! Everything typed here is generated from `specs/laaffic` by `cargo xtask gen` (see
//! [`generated`]): the wire models ([`models`]), the status-code tables ([`codes`]) and the
//! endpoints with their documented limits ([`operations`]). laaffic runs on the same platform
//! as itniotech; both take their bodies from `specs/onbuka`, and laaffic keeps its own
//! paths (`/v3/...`) and its own wording of each status code.
//!
//! ```
//! use smsgate_laaffic::{Client, Error, TextMessage, codes::StatusCode};
//! use smsgate_transport::spec::ErrorClass;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or Client::from_env(): LAAFFIC_API_KEY, LAAFFIC_API_SECRET, LAAFFIC_APP_ID, LAAFFIC_BASE_URL.
//! let client = Client::builder().api_key("bDqJFiq9").api_secret("7bz1lzh9").app_id("4luaKsL2").build()?;
//! let message = TextMessage::new(["8613800138000", "8613800138001"], "Your code is 4711").order_ids(["o-1", "o-2"]);
//!
//! // The exact signed request, without sending it (dry runs, logs, tests):
//! let request = client.prepare_send_sms(&message)?;
//! assert_eq!(request.url, "https://api.laaffic.com/v3/sendSms");
//! assert!(request.header("Sign").is_some());
//!
//! // Bad input is refused before any traffic, naming the field and the limit:
//! let too_long = TextMessage::new(["8613800138000"], "x".repeat(1025));
//! assert!(matches!(client.prepare_send_sms(&too_long), Err(Error::InvalidRequest(_))));
//! # Ok(()) }
//!
//! // Sending: one accepted entry per number, or a typed error.
//! async fn send(client: &Client, message: &TextMessage) -> Result<(), Error> {
//!     match client.send_sms(message).await {
//!         Ok(receipt) => {
//!             for number in &receipt.accepted {
//!                 println!("{} accepted as {}", number.number, number.message_id);
//!             }
//!             Ok(())
//!         }
//!         Err(Error::Vendor { code: StatusCode::InsufficientBalance, .. }) => {
//!             eprintln!("top up the account");
//!             Ok(())
//!         }
//!         Err(err) if err.vendor_class() == Some(ErrorClass::RateLimit) => {
//!             eprintln!("throttled, nothing was sent: {err}");
//!             Err(err)
//!         }
//!         Err(err) => Err(err),
//!     }
//! }
//! ```

pub mod generated;

pub use generated::{codes, models, operations};
pub use smsgate_onbuka::{
    AcceptedNumber, Balance, MessageStatus, PushError, SendReceipt, TextMessage, delivery_status,
    parse_delivery_report, push_status,
};

/// The registry descriptor of laaffic (the platform's, with this brand's name, prefix and tables).
pub static VENDOR: smsgate_provider::Vendor = smsgate_onbuka::vendor::<Laaffic>();

/// The laaffic brand of the onbuka platform: its paths, environment prefix and status tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Laaffic;

impl smsgate_onbuka::Brand for Laaffic {
    const VENDOR: &'static str = operations::VENDOR;
    const ENV_PREFIX: &'static str = "LAAFFIC";
    const SEND_SMS: smsgate_transport::spec::Operation = operations::SEND_SMS;
    const SEND_SMS_GET: smsgate_transport::spec::Operation = operations::SEND_SMS_GET;
    const SEND_BATCH: smsgate_transport::spec::Operation = operations::SEND_BATCH;
    const GET_BALANCE: smsgate_transport::spec::Operation = operations::GET_BALANCE;
    const GET_REPORT: smsgate_transport::spec::Operation = operations::GET_REPORT;
    type StatusCode = codes::StatusCode;
    type ReportStatus = codes::ReportStatus;
}

/// The laaffic client. Build one with [`Client::builder`] or [`Client::from_env`]
/// (`LAAFFIC_API_KEY`, `LAAFFIC_API_SECRET`, `LAAFFIC_APP_ID`, optional `LAAFFIC_BASE_URL`).
pub type Client = smsgate_onbuka::Client<Laaffic>;
/// Builder of a [`Client`].
pub type ClientBuilder = smsgate_onbuka::ClientBuilder<Laaffic>;
/// Error of a laaffic call: the transport error with laaffic's [`codes::StatusCode`].
pub type Error = smsgate_transport::Error<codes::StatusCode>;
/// A delivery-status query's answer with laaffic's [`codes::ReportStatus`].
pub type DeliveryReport = smsgate_onbuka::DeliveryReport<codes::ReportStatus>;
