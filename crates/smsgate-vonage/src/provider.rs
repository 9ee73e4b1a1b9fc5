//! Vonage's [`Provider`]: one request per recipient, its per-part answer read into one
//! verdict, the balance, delivery receipts, and the registry descriptor ([`VENDOR`]).

use smsgate_provider::segments::{Encoding, segments};
use smsgate_provider::{
    Balance, BoxFuture, Capacity, DeliveryStatus, Entry, EntryVerdict, FlowLimits, InlineSubmit,
    Provider, PushCheck, Queries, QueryError, Reason, RejectKind, ReportError, Submission, Vendor,
    submission_from_error,
};
use smsgate_transport::spec::ErrorClass;
use smsgate_transport::wire::WireRequest;

use crate::bodies::{BalanceRequest, SendSmsRequest};
use crate::codes::{DlrErrorCode, DlrStatus, SmsStatus};
use crate::generated::client::{Client, Credentials};
use crate::models::{DeliveryReceipt, MessageType, SendSmsResponse};

/// The registry descriptor of Vonage: a balance query; delivery receipts come as pushes.
pub static VENDOR: Vendor = Vendor::of::<Credentials>(
    parse_report,
    Queries {
        balance: true,
        delivery_status: false,
    },
)
.with_pushes(
    crate::operations::PUSHES,
    Some(PushCheck {
        secret_key: "signature_secret",
        check: crate::sign::check_push,
    }),
);

/// Our cap on a text's characters: the SMS API documents none (it refuses a text over its
/// own with status 12).
const MAX_CONTENT_CHARS: usize = 3200;

/// A delivery receipt (the JSON body Vonage POSTs; a form or query string when the dashboard
/// chose GET or form) as its generated type. Pure: no I/O.
pub fn parse_delivery_receipt(body: &[u8]) -> Result<DeliveryReceipt, String> {
    smsgate_provider::parse_push(body)
}

fn parse_report(body: &[u8]) -> Result<Vec<DeliveryStatus>, ReportError> {
    let receipt = parse_delivery_receipt(body).map_err(|message| ReportError {
        vendor: VENDOR.name,
        message,
    })?;
    Ok(vec![receipt_status(&receipt)])
}

/// A delivery receipt as a delivery status: its `status`, with `err-code`'s meaning as the
/// detail when it is not 0. One receipt per part: `messageId` is the part's id.
pub fn receipt_status(receipt: &DeliveryReceipt) -> DeliveryStatus {
    let status = DlrStatus::from_code(&receipt.status);
    let error = DlrErrorCode::from_code(&receipt.err_code);
    DeliveryStatus {
        provider: VENDOR.name.to_owned(),
        message_id: receipt.message_id.clone(),
        number: Some(receipt.msisdn.clone()),
        state: status.class(),
        vendor_status: receipt.status.clone(),
        detail: (receipt.err_code != "0")
            .then(|| format!("{} ({})", error.meaning(), receipt.err_code)),
        at: Some(receipt.scts.clone()),
    }
}

/// The body of one entry: `type=unicode` when the text is not GSM-7 (sent as `text` it would
/// be garbled), the entry's reference as `client-ref`.
fn body<'e>(entry: &Entry<'e>) -> SendSmsRequest<'e> {
    let unicode = segments(entry.content).encoding == Encoding::Ucs2;
    SendSmsRequest {
        to: entry.number,
        text: entry.content,
        from: entry.sender_id.unwrap_or_default(),
        client_ref: Some(entry.reference),
        type_: Some(if unicode {
            MessageType::Unicode
        } else {
            MessageType::Text
        }),
        ..SendSmsRequest::default()
    }
}

/// One verdict for a recipient, however many parts its text took: accepted (with the first
/// part's id) when every part is, the status of the first refused part when none was sent,
/// unknown when only some parts were (the recipient may get a fragment).
///
/// Vonage sends a delivery receipt per part, each under its part's id: the first part's
/// receipt is the one that matches the accepted message (the others carry ids the outcome
/// does not name).
pub fn verdict(answer: &SendSmsResponse) -> Submission {
    let refused = answer.messages.iter().position(|part| part.status != "0");
    let accepted = answer.messages.iter().filter(|p| p.status == "0").count();
    let verdict = match refused {
        None => match answer.messages.first().and_then(|p| p.message_id.clone()) {
            Some(id) => EntryVerdict::Accepted(id),
            None => EntryVerdict::Unknown("the answer lists no message id".to_owned()),
        },
        Some(k) if accepted == 0 => {
            let part = &answer.messages[k];
            let status = SmsStatus::from_code(&part.status);
            let text = part
                .error_text
                .clone()
                .unwrap_or_else(|| status.meaning().to_owned());
            let class = status.class();
            if class.is_request_refused() || class == ErrorClass::VendorFault {
                return match class {
                    // "Internal error" while processing: it may have been acted on.
                    ErrorClass::VendorFault => {
                        Submission::Unknown(format!("{text} (status {})", part.status))
                    }
                    _ => Submission::Refused {
                        reason: Reason {
                            code: Some(part.status.clone()),
                            text,
                            kind: RejectKind::Vendor(class),
                        },
                        retry_safe: true,
                        throttled: class == ErrorClass::RateLimit,
                    },
                };
            }
            EntryVerdict::Rejected(Reason {
                code: Some(part.status.clone()),
                text,
                kind: RejectKind::Vendor(class),
            })
        }
        Some(k) => EntryVerdict::Unknown(format!(
            "{accepted} of {} parts accepted; part {} refused with status {}",
            answer.messages.len(),
            k + 1,
            answer.messages[k].status
        )),
    };
    Submission::Answered {
        verdicts: vec![(0, verdict)],
        unlisted: EntryVerdict::Unknown("the answer does not list this recipient".to_owned()),
    }
}

impl Provider for Client {
    fn name(&self) -> &str {
        crate::operations::VENDOR
    }

    fn capacity(&self) -> Capacity {
        let limits = crate::operations::SEND_SMS.limits;
        Capacity {
            uniform_recipients: 1,
            mixed_recipients: 1,
            max_content_chars: limits.max_content_chars.unwrap_or(MAX_CONTENT_CHARS),
            max_sender_id_chars: limits.max_sender_id_chars,
        }
    }

    fn dry_run(&self, entries: &[Entry<'_>], _uniform: bool) -> Result<WireRequest, String> {
        let entry = entries.first().ok_or("no entry")?;
        self.prepare_send_sms(&body(entry))
            .map_err(|err| err.to_string())
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission> {
        Box::pin(self.submit_inline(entries, uniform))
    }

    fn balance(&self) -> BoxFuture<'_, Result<Balance, QueryError>> {
        Box::pin(async move {
            let answer = self.get_balance(&BalanceRequest::default()).await?;
            Ok(Balance {
                amount: answer.value.to_string(),
                currency: Some("EUR".to_owned()),
                gift: None,
                credit: None,
            })
        })
    }

    /// "All API keys are set with 30 API requests per second throughput restriction by
    /// default" (Vonage support, article 203993598); status 1 past it.
    fn flow_limits(&self) -> FlowLimits {
        FlowLimits {
            concurrency: None,
            requests_per_second: Some(30.0),
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl InlineSubmit for Client {
    async fn submit_inline(&self, entries: &[Entry<'_>], _uniform: bool) -> Submission {
        // One recipient per request (capacity 1): the gate never hands more.
        let Some(entry) = entries.first() else {
            return Submission::Answered {
                verdicts: Vec::new(),
                unlisted: EntryVerdict::Unknown("nothing sent".to_owned()),
            };
        };
        match self.send_sms(&body(entry)).await {
            Ok(answer) => verdict(&answer),
            Err(err) => submission_from_error(err),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use smsgate_transport::spec::DeliveryClass;

    use super::*;

    fn answer(json: &str) -> SendSmsResponse {
        serde_json::from_str(json).unwrap()
    }

    fn only(submission: Submission) -> EntryVerdict {
        match submission {
            Submission::Answered { mut verdicts, .. } => verdicts.remove(0).1,
            other => panic!("{other:?}"),
        }
    }

    /// The SDK's samples: every part accepted; a refusal before sending; a partial send.
    #[test]
    fn one_verdict_per_recipient_however_many_parts() {
        let fixture = |name: &str| {
            std::fs::read_to_string(format!(
                "{}/../../specs/vonage/examples/SendSmsResponse.{name}.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        assert!(matches!(
            only(verdict(&answer(&fixture("py-sdk-multipart")))),
            EntryVerdict::Accepted(_)
        ));
        let barred = only(verdict(&answer(&fixture("py-sdk-error"))));
        assert!(
            matches!(&barred, EntryVerdict::Rejected(r) if r.code.as_deref() == Some("7")),
            "{barred:?}"
        );
        assert!(matches!(
            only(verdict(&answer(&fixture("py-sdk-partial-error")))),
            EntryVerdict::Unknown(_)
        ));
        let throttled =
            answer(r#"{"message-count":"1","messages":[{"status":"1","error-text":"Throttled"}]}"#);
        assert!(matches!(
            verdict(&throttled),
            Submission::Refused {
                retry_safe: true,
                throttled: true,
                ..
            }
        ));
        let internal = answer(r#"{"message-count":"1","messages":[{"status":"5"}]}"#);
        assert!(matches!(verdict(&internal), Submission::Unknown(_)));
    }

    #[test]
    fn receipts_normalise() {
        let body = std::fs::read(format!(
            "{}/../../specs/vonage/examples/DeliveryReceipt.doc.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let statuses = (VENDOR.parse_report)(&body).unwrap();
        assert_eq!(statuses[0].state, DeliveryClass::Delivered);
        assert_eq!(statuses[0].message_id, "0B00000127FDBC63");
        let form = b"msisdn=447700900000&to=Acme&network-code=23410&messageId=abc&price=0.03&status=failed&scts=2001011400&err-code=2&message-timestamp=2020-01-01+14%3A00%3A00";
        let status = &(VENDOR.parse_report)(form).unwrap()[0];
        assert_eq!(status.state, DeliveryClass::Undelivered);
        assert!(status.detail.as_deref().unwrap().ends_with("(2)"));
        assert!((VENDOR.parse_report)(b"{").is_err());
    }
}
