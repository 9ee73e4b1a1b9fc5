//! The onbuka SMS platform, which itniotech and laaffic (and other brands) run on.
//!
//! The brands share headers, signing and bodies; only paths, environment prefixes and status
//! tables differ. This crate holds what they share, so that a fix reaches every brand: the
//! wire models and borrowed request bodies generated from `specs/onbuka`, the
//! `key-secret-timestamp-md5` signer ([`sign`]), and the verdicts — how an answer becomes a
//! per-number outcome ([`settle`]), and the sent records of a time range read page by page
//! ([`sent_records`]) — which [`brand!`] wires into each brand crate's generated client. Use it
//! through `smsgate-itniotech` or `smsgate-laaffic`.
//!
//! ```
//! use smsgate_onbuka::bodies::SendSmsRequest;
//! use smsgate_onbuka::models::SendSmsResponse;
//! use smsgate_transport::endpoint::Joined;
//!
//! let answer: SendSmsResponse = serde_json::from_str(
//!     r#"{"status":"0","reason":"success","success":"1","fail":"0",
//!         "array":[{"msgId":"2207201629421000001","number":"91856321412","orderId":null}]}"#,
//! )?;
//! assert_eq!(answer.array[0].order_id, None);
//!
//! // A body borrows the caller's data and serialises to the wire bytes.
//! let numbers = ["91856321412"];
//! let body = SendSmsRequest { app_id: "4luaKsL2", numbers: Joined::commas(&numbers), content: "hi", ..Default::default() };
//! assert_eq!(serde_json::to_string(&body)?, r#"{"appId":"4luaKsL2","content":"hi","numbers":"91856321412"}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod generated;
mod provider;
mod sent;
pub mod sign;

pub use generated::{bodies, models};
pub use provider::{
    Texts, balance, delivery_status, parse_delivery_report, parse_report, push_status, settle,
};
pub use sent::{
    SENT_RECORDS_MAX_PAGES, SENT_RECORDS_PAGE, SENT_RECORDS_RANGE, SentRecordsPage, iso_utc,
    sent_record, sent_records, sent_records_window,
};

/// What the [`brand!`] expansion names; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use smsgate_provider::{
        Balance, BoxFuture, Capacity, DeliveryStatus, Entry, InlineSubmit, Provider, Queries,
        QueryError, SentRecord, Submission, Vendor, client,
    };
    pub use smsgate_transport::{client::Credentials, endpoint::Joined, wire::WireRequest};
}
