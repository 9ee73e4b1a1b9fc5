//! nxcloud's [`Provider`] implementation, its delivery statuses and its registry descriptor
//! ([`VENDOR`]).

use smsgate_provider::{
    BoxFuture, Capacity, DeliveryStatus, Entry, EntryMatcher, EntryVerdict, InlineSubmit, Provider,
    Queries, Reason, RejectKind, ReportError, Submission, Vendor, submission_from_error,
};
use smsgate_transport::spec::ErrorClass;
use smsgate_transport::wire::WireRequest;

use crate::bodies::{MultiMtItem, MultiMtRequest};
use crate::codes::ItemStatus;
use crate::generated::client::{Client, Credentials};
use crate::models::DeliveryReport;

/// The registry descriptor of nxcloud. It has no balance query and pushes its delivery
/// reports (no status query).
pub static VENDOR: Vendor = Vendor::of::<Credentials>(
    parse_report,
    Queries {
        balance: false,
        delivery_status: false,
    },
)
.with_pushes(crate::operations::PUSHES, None);

/// Parses a delivery-report push (`application/x-www-form-urlencoded` body, or the query string
/// older accounts receive) into its generated type. Pure: no I/O.
pub fn parse_delivery_report(body: &[u8]) -> Result<DeliveryReport, String> {
    smsgate_provider::parse_push(body)
}

/// A push body, as delivery statuses (one per push).
fn parse_report(body: &[u8]) -> Result<Vec<DeliveryStatus>, ReportError> {
    let push = parse_delivery_report(body).map_err(|err| ReportError {
        vendor: VENDOR.name,
        message: err,
    })?;
    Ok(vec![push_status(&push)])
}

/// An nxcloud delivery-report push, as a delivery status. For batch sends nxcloud appends `-`
/// and ten digits to the send's `messageid`; `message_id` keeps the id as sent, so it matches
/// the outcome.
pub fn push_status(push: &DeliveryReport) -> DeliveryStatus {
    let status = crate::codes::DeliveryStatus::from_code(&push.status);
    let message_id = match push.messageid.rsplit_once('-') {
        Some((base, suffix))
            if suffix.len() == 10 && suffix.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base.to_owned()
        }
        _ => push.messageid.clone(),
    };
    DeliveryStatus {
        provider: crate::operations::VENDOR.to_owned(),
        message_id,
        number: Some(push.phone.clone()),
        state: status.class(),
        vendor_status: push.status.clone(),
        detail: push.result.clone(),
        at: push.drtime.clone(),
    }
}

/// One multi/mt item per entry, borrowed: its reference as sysMessageId, its sender id as
/// sourceAddress.
fn multi_items<'e>(entries: &[Entry<'e>]) -> Vec<MultiMtItem<'e>> {
    entries
        .iter()
        .map(|e| MultiMtItem {
            phone: e.number,
            content: e.content,
            source_address: e.sender_id,
            sys_message_id: Some(e.reference),
            ..MultiMtItem::default()
        })
        .collect()
}

/// nxcloud may echo a phone with or without its country code.
fn same_number(sent: &str, echoed: &str) -> bool {
    sent.ends_with(echoed) || echoed.ends_with(sent)
}

impl Provider for Client {
    fn name(&self) -> &str {
        crate::operations::VENDOR
    }

    fn capacity(&self) -> Capacity {
        let limits = crate::operations::SEND_MULTI.limits;
        let items = limits.max_items.unwrap_or(200);
        // Every request goes through multi/mt: it carries a sysMessageId per number, which the
        // single-send operation ignores as soon as it has more than one number.
        Capacity {
            uniform_recipients: items,
            mixed_recipients: items,
            max_content_chars: limits.max_content_chars.unwrap_or(1000),
            max_sender_id_chars: limits.max_sender_id_chars,
        }
    }

    fn dry_run(&self, entries: &[Entry<'_>], _uniform: bool) -> Result<WireRequest, String> {
        let items = multi_items(entries);
        self.prepare_send_multi(&MultiMtRequest {
            items: &items,
            ..Default::default()
        })
        .map_err(|err| err.to_string())
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission> {
        Box::pin(self.submit_inline(entries, uniform))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl InlineSubmit for Client {
    async fn submit_inline(&self, entries: &[Entry<'_>], _uniform: bool) -> Submission {
        let items = multi_items(entries);
        let body = MultiMtRequest {
            items: &items,
            ..Default::default()
        };
        match self.send_multi(&body).await {
            Ok(answer) => {
                let results = answer.data.unwrap_or_default();
                let mut verdicts = Vec::with_capacity(results.len());
                // With sysMessageId given, messageid is that id; match on it, and on the
                // phone when a result comes back without it.
                let mut matcher = EntryMatcher::in_order(entries, same_number);
                for (k, result) in results.into_iter().enumerate() {
                    let Some(index) = matcher.find(k, Some(&result.messageid), Some(&result.phone))
                    else {
                        continue;
                    };
                    let verdict = match ItemStatus::from_code(&result.status) {
                        ItemStatus::Success => EntryVerdict::Accepted(result.messageid),
                        ItemStatus::Failure => EntryVerdict::Rejected(Reason {
                            code: Some("Failure".to_owned()),
                            text: result.message.unwrap_or_else(|| "refused".to_owned()),
                            kind: RejectKind::Vendor(ErrorClass::Number),
                        }),
                        ItemStatus::Unknown(raw) => {
                            EntryVerdict::Unknown(format!("item status {raw:?}"))
                        }
                    };
                    verdicts.push((index, verdict));
                }
                Submission::Answered {
                    verdicts,
                    unlisted: EntryVerdict::Unknown(
                        "the answer does not list this item".to_owned(),
                    ),
                }
            }
            Err(err) => submission_from_error(err),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use smsgate_transport::spec::DeliveryClass;

    use super::*;

    #[test]
    fn pushes_normalise() {
        let body = b"phone=8613800138000&status=7&result=UNDELIV&messageid=0000000000001-0000000042&drtime=2023-05-05+17%3A05%3A12";
        let status = push_status(&parse_delivery_report(body).unwrap());
        assert_eq!(
            (status.state, status.message_id.as_str()),
            (DeliveryClass::Expired, "0000000000001")
        );
        assert_eq!((VENDOR.parse_report)(body).unwrap(), vec![status]);
        assert!((VENDOR.parse_report)(b"%zz").is_err());
    }
}
