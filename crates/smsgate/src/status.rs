//! Delivery status from every vendor, in one shape.

use smsgate_transport::spec::{CodeTable, DeliveryClass};

/// The delivery status of one message, whichever vendor reported it.
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

impl DeliveryStatus {
    /// From a status-query entry of the onbuka platform (itniotech, laaffic).
    #[cfg(any(feature = "itniotech", feature = "laaffic"))]
    pub fn from_report_entry<S: CodeTable<Class = DeliveryClass>>(
        provider: &str,
        entry: &smsgate_onbuka::MessageStatus<S>,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            message_id: entry.message_id.clone(),
            number: Some(entry.number.clone()),
            state: entry.status.class(),
            vendor_status: entry.status.code().to_owned(),
            detail: Some(entry.status.meaning().to_owned())
                .filter(|_| entry.status.is_documented()),
            at: entry.receive_time.clone(),
        }
    }

    /// From a delivery-report push of the onbuka platform (itniotech, laaffic): status 0 is
    /// delivered, anything else undelivered with the push's reason.
    #[cfg(any(feature = "itniotech", feature = "laaffic"))]
    pub fn from_onbuka_push(
        provider: &str,
        push: &smsgate_onbuka::models::DeliveryReportPush,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            message_id: push.msgid.clone(),
            number: Some(push.mobile.clone()),
            state: if push.status == 0 {
                DeliveryClass::Delivered
            } else {
                DeliveryClass::Undelivered
            },
            vendor_status: push.status.to_string(),
            detail: push.reason.clone(),
            at: push.timestamp.map(|ms| ms.to_string()),
        }
    }

    /// From an nxcloud delivery-report push. For batch sends nxcloud appends `-` and ten digits
    /// to the send's `messageid`; `message_id` keeps the id as sent, so it matches the outcome.
    #[cfg(feature = "nxcloud")]
    pub fn from_nxcloud_push(push: &smsgate_nxcloud::models::DeliveryReport) -> Self {
        let status = smsgate_nxcloud::codes::DeliveryStatus::from_code(&push.status);
        let message_id = match push.messageid.rsplit_once('-') {
            Some((base, suffix))
                if suffix.len() == 10 && suffix.bytes().all(|b| b.is_ascii_digit()) =>
            {
                base.to_owned()
            }
            _ => push.messageid.clone(),
        };
        Self {
            provider: smsgate_nxcloud::operations::VENDOR.to_owned(),
            message_id,
            number: Some(push.phone.clone()),
            state: status.class(),
            vendor_status: push.status.clone(),
            detail: push.result.clone(),
            at: push.drtime.clone(),
        }
    }
}

#[cfg(all(test, feature = "nxcloud", feature = "itniotech"))]
mod tests {
    use super::*;

    #[test]
    fn pushes_normalise() {
        let push = smsgate_nxcloud::parse_delivery_report(b"phone=8613800138000&status=7&result=UNDELIV&messageid=0000000000001-0000000042&drtime=2023-05-05+17%3A05%3A12").unwrap();
        let status = DeliveryStatus::from_nxcloud_push(&push);
        assert_eq!(
            (status.state, status.message_id.as_str()),
            (DeliveryClass::Expired, "0000000000001")
        );
        let push = smsgate_itniotech::parse_delivery_report(
            br#"{"msgid":"9","mobile":"86138","status":3,"reason":"UNDELIV"}"#,
        )
        .unwrap();
        let status = DeliveryStatus::from_onbuka_push("itniotech", &push);
        assert_eq!(
            (status.state, status.detail.as_deref()),
            (DeliveryClass::Undelivered, Some("UNDELIV"))
        );
    }
}
