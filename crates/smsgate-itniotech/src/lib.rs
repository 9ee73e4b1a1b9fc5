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
