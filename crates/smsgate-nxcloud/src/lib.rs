//! nxcloud SMS API for smsgate.
//!
//! [`Client`] sends every operation of the spec with typed, validated, signed requests: bad input
//! is refused before any traffic, each request's body is serialised once and those bytes are
//! signed and sent, and answers come back as typed receipts or a typed [`Error`].
//!
//! Everything typed here is generated from `specs/nxcloud` by `cargo xtask gen` (see
//! [`generated`]): the wire models ([`models`]), the status-code tables ([`codes`]) and the
//! endpoints with their documented limits ([`operations`]).
//!
//! ```
//! use smsgate_nxcloud::{Client, Error, MultiItem, codes::ItemStatus};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or Client::from_env(): NXCLOUD_ACCESS_KEY, NXCLOUD_ACCESS_SECRET, NXCLOUD_APP_KEY,
//! // NXCLOUD_BASE_URL, NXCLOUD_MULTI_MT_PATH.
//! let client = Client::builder().access_key("fme2na3kdi3ki").access_secret("abciiiko2k3").app_key("app").build()?;
//! let items = [MultiItem::new("8613800138000", "Your code is 4711").sys_message_id("order-0000001")];
//!
//! // The exact signed request (sign over the exact body bytes), without sending it:
//! let request = client.prepare_send_multi(&items)?;
//! assert_eq!(request.url, "https://api2.nxcloud.com/v1/sms/multi/mt");
//! assert_eq!(request.header("bizType"), Some("3"));
//!
//! // sysMessageId must be 10 to 50 of [0-9a-zA-Z-]: refused before any traffic.
//! let bad = [MultiItem::new("8613800138000", "hi").sys_message_id("msg001")];
//! assert!(matches!(client.prepare_send_multi(&bad), Err(Error::InvalidRequest(_))));
//! # Ok(()) }
//!
//! // Sending: one result per item, Success or Failure with nxcloud's reason.
//! async fn send(client: &Client, items: &[MultiItem]) -> Result<(), Error> {
//!     let receipt = client.send_multi(items).await?;
//!     for result in &receipt.results {
//!         match &result.status {
//!             ItemStatus::Success => println!("{} accepted as {}", result.phone, result.message_id),
//!             _ => println!("{} refused: {:?}", result.phone, result.message),
//!         }
//!     }
//!     Ok(())
//! }
//! ```

pub mod client;
pub mod generated;
pub mod provider;
pub mod sign;

pub use client::{
    Client, ClientBuilder, Error, ItemResult, MessageOptions, MtMessage, MtReceipt, MultiItem,
    MultiReceipt, PushError, parse_delivery_report,
};
pub use generated::{codes, models, operations};
pub use provider::{VENDOR, push_status};
