//! Delivery status from every vendor, in one shape.

use smsgate_transport::spec::DeliveryClass;

/// The delivery status of one message, whichever vendor reported it.
///
/// Each vendor crate turns its own status answers and delivery-report pushes into this shape
/// (its registry descriptor's report parser, its [`Provider::poll_status`](crate::Provider::poll_status)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// Provider that reported it.
    pub provider: String,
    /// The provider's message id.
    pub message_id: String,
    /// Recipient, if reported.
    pub number: Option<String>,
    /// Normalised state: delivered, pending, undelivered, expired, rejected or unknown.
    pub state: DeliveryClass,
    /// The vendor's status value as received.
    pub vendor_status: String,
    /// The vendor's explanation, if any.
    pub detail: Option<String>,
    /// When the vendor saw the status, as the vendor wrote it.
    pub at: Option<String>,
}
