//! nxcloud SMS API for smsgate.
//!
//! Everything typed here is generated from `specs/nxcloud` by `cargo xtask gen` (see
//! [`generated`]): the wire models ([`models`]), the status-code tables ([`codes`]) and the
//! endpoints with their documented limits ([`operations`]).
//!
//! ```
//! use smsgate_nxcloud::{codes::ResponseCode, models::{MultiMtResponse, SysMessageId}, operations};
//! use smsgate_transport::spec::ErrorClass;
//!
//! let answer: MultiMtResponse =
//!     serde_json::from_str(r#"{"code":13008,"message":"TPS limit exceeded","data":null}"#)?;
//! assert!(answer.data.is_none());
//! assert_eq!(ResponseCode::from(13008).class(), ErrorClass::RateLimit);
//! assert_eq!(operations::SEND_MULTI.limits.max_items, Some(200));
//! assert!(SysMessageId::try_from("msg001").is_err()); // 10 to 50 characters
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod client;
pub mod generated;

pub use client::{
    Client, ClientBuilder, Error, ItemResult, MessageOptions, MtMessage, MtReceipt, MultiItem,
    MultiReceipt, PushError, parse_delivery_report,
};
pub use generated::{codes, models, operations};
