//! laaffic SMS API (v3) for smsgate.
//!
//! Everything typed here is generated from `specs/laaffic` by `cargo xtask gen` (see
//! [`generated`]): the wire models ([`models`]), the status-code tables ([`codes`]) and the
//! endpoints with their documented limits ([`operations`]). laaffic runs on the same platform
//! as itniotech; both take their bodies from `specs/onbuka`, and laaffic keeps its own
//! paths (`/v3/...`) and its own wording of each status code.
//!
//! ```
//! use smsgate_laaffic::{codes::StatusCode, models::SendBatchRequest, operations};
//!
//! let batch: SendBatchRequest = serde_json::from_str(
//!     r#"{"appId":"4luaKsL2","array":[{"numbers":"91856321414","content":"test message1"}]}"#,
//! )?;
//! assert_eq!(batch.array.len(), 1);
//! assert_eq!(operations::SEND_BATCH.default_url(), "https://api.laaffic.com/v3/sendSms/batch");
//! assert_eq!(StatusCode::from_code("-1").original(), Some("認證錯誤"));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod generated;

pub use generated::{codes, models, operations};
pub use smsgate_onbuka::{
    AcceptedNumber, Balance, MessageStatus, PushError, SendReceipt, TextMessage,
    parse_delivery_report,
};

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
