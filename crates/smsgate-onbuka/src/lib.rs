//! The onbuka SMS platform, which itniotech and laaffic (and other brands) run on.
//!
//! The brands share headers, signing and bodies; only paths and the wording of their documents
//! differ. This crate holds what they share — the wire models generated from `specs/onbuka` —
//! so that a fix reaches every brand. Use it through `smsgate-itniotech` or `smsgate-laaffic`.
//!
//! ```
//! use smsgate_onbuka::models::{SendSmsResponse, SmsContent};
//!
//! let answer: SendSmsResponse = serde_json::from_str(
//!     r#"{"status":"0","reason":"success","success":"1","fail":"0",
//!         "array":[{"msgId":"2207201629421000001","number":"91856321412","orderId":null}]}"#,
//! )?;
//! assert_eq!(answer.array[0].order_id, None);
//! assert!(SmsContent::try_from("x".repeat(1025)).is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod client;
pub mod generated;
pub mod provider;
pub mod sign;

pub use client::{
    AcceptedNumber, Balance, Brand, Client, ClientBuilder, DeliveryReport, MessageStatus,
    PushError, SendReceipt, TextMessage, parse_delivery_report,
};
pub use generated::{bodies, models};
pub use provider::{delivery_status, push_status, vendor};
