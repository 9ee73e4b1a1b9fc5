//! itniotech SMS API for smsgate.
//!
//! Everything typed here is generated from `specs/itniotech` by `cargo xtask gen` (see
//! [`generated`]): the wire models ([`models`]), the status-code tables ([`codes`]) and the
//! endpoints with their documented limits ([`operations`]). itniotech runs on the same platform
//! as laaffic; both take their bodies from `specs/onbuka`.
//!
//! ```
//! use smsgate_itniotech::{codes::StatusCode, models::SendSmsRequest, operations};
//! use smsgate_transport::spec::ErrorClass;
//!
//! let request: SendSmsRequest = serde_json::from_str(
//!     r#"{"appId":"4luaKsL2","numbers":"91856321412,91856321413","content":"hello world"}"#,
//! )?;
//! assert_eq!(request.numbers.split(',').count(), 2);
//! assert_eq!(operations::SEND_SMS.default_url(), "https://api.itniotech.com/sms/sendSms");
//! assert_eq!(operations::SEND_SMS.limits.max_numbers, Some(1000));
//! assert_eq!(StatusCode::from_code("-10").class(), ErrorClass::Account);
//! assert_eq!(StatusCode::from_code("-99"), StatusCode::Unknown("-99".into()));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod generated;

pub use generated::{codes, models, operations};
pub use smsgate_onbuka::{
    AcceptedNumber, Balance, MessageStatus, PushError, SendReceipt, TextMessage,
    parse_delivery_report,
};

/// The itniotech brand of the onbuka platform: its paths, environment prefix and status tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Itniotech;

impl smsgate_onbuka::Brand for Itniotech {
    const VENDOR: &'static str = operations::VENDOR;
    const ENV_PREFIX: &'static str = "ITNIOTECH";
    const SEND_SMS: smsgate_transport::spec::Operation = operations::SEND_SMS;
    const SEND_SMS_GET: smsgate_transport::spec::Operation = operations::SEND_SMS_GET;
    const SEND_BATCH: smsgate_transport::spec::Operation = operations::SEND_BATCH;
    const GET_BALANCE: smsgate_transport::spec::Operation = operations::GET_BALANCE;
    const GET_REPORT: smsgate_transport::spec::Operation = operations::GET_REPORT;
    type StatusCode = codes::StatusCode;
    type ReportStatus = codes::ReportStatus;
}

/// The itniotech client. Build one with [`Client::builder`] or [`Client::from_env`]
/// (`ITNIOTECH_API_KEY`, `ITNIOTECH_API_SECRET`, `ITNIOTECH_APP_ID`, optional `ITNIOTECH_BASE_URL`).
pub type Client = smsgate_onbuka::Client<Itniotech>;
/// Builder of a [`Client`].
pub type ClientBuilder = smsgate_onbuka::ClientBuilder<Itniotech>;
/// Error of a itniotech call: the transport error with itniotech's [`codes::StatusCode`].
pub type Error = smsgate_transport::Error<codes::StatusCode>;
/// A delivery-status query's answer with itniotech's [`codes::ReportStatus`].
pub type DeliveryReport = smsgate_onbuka::DeliveryReport<codes::ReportStatus>;
