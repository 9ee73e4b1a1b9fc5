//! nxcloud SMS API for smsgate: everything typed here is generated from `specs/nxcloud` by
//! `cargo xtask gen` — wire models, borrowed request bodies with their checks, status tables,
//! endpoints and the [`Client`]. Hand-written: the `nxcloud-header-body-md5` signer ([`sign`])
//! and the verdicts ([`provider`]: how an answer becomes a per-message outcome, push parsing,
//! the registry descriptor [`VENDOR`]).
//!
//! ```
//! use smsgate_nxcloud::{Client, Credentials, bodies::{MultiMtItem, MultiMtRequest}};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or Client::from_env(): NXCLOUD_ACCESS_KEY, NXCLOUD_ACCESS_SECRET, NXCLOUD_APP_KEY,
//! // NXCLOUD_BASE_URL, NXCLOUD_MULTI_MT_PATH.
//! let client = Client::builder()
//!     .credentials(Credentials {
//!         access_key: "fme2na3kdi3ki".into(),
//!         access_secret: "abciiiko2k3".into(),
//!         app_key: "app".into(),
//!         multi_mt_path: None,
//!     })
//!     .build()?;
//! let items = [MultiMtItem { phone: "8613800138000", content: "Your code is 4711", sys_message_id: Some("order-0000001"), ..Default::default() }];
//! // The exact signed request (sign over the exact body bytes), without sending it:
//! let request = client.prepare_send_multi(&MultiMtRequest { items: &items, ..Default::default() })?;
//! assert_eq!(request.url, "https://api2.nxcloud.com/v1/sms/multi/mt");
//! assert_eq!(request.header("bizType"), Some("3"));
//! // sysMessageId must be 10 to 50 of [0-9a-zA-Z-]: refused before any traffic.
//! let bad = [MultiMtItem { sys_message_id: Some("msg001"), ..items[0] }];
//! assert!(client.prepare_send_multi(&MultiMtRequest { items: &bad, ..Default::default() }).is_err());
//! # Ok(()) }
//! ```

pub mod generated;
pub mod provider;
pub mod sign;

pub use generated::client::{Client, ClientBuilder, Credentials, Error};
pub use generated::{bodies, codes, models, operations};
pub use provider::{VENDOR, parse_delivery_report, push_status};
