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
