//! Twilio's [`Provider`]: one Message per recipient (`To` in E.164 with its `+`), delivery
//! status by fetching a Message, the balance, status callbacks, and the registry descriptor
//! ([`VENDOR`]).

use smsgate_provider::{
    Balance, BoxFuture, Capacity, DeliveryStatus, Entry, EntryVerdict, FlowLimits, InlineSubmit,
    Provider, PushCheck, Queries, QueryError, ReportError, Submission, Vendor,
    submission_from_error,
};
use smsgate_transport::wire::WireRequest;

use crate::bodies::{CreateMessageRequest, FetchBalanceRequest, FetchMessageRequest};
use crate::codes::MessageStatus;
use crate::generated::client::{Client, Credentials};
use crate::models::{Message, StatusCallback};

/// The registry descriptor of Twilio: balance and delivery-status queries, status callbacks.
pub static VENDOR: Vendor = Vendor::of::<Credentials>(
    parse_report,
    Queries {
        balance: true,
        delivery_status: true,
    },
)
.with_pushes(
    crate::operations::PUSHES,
    Some(PushCheck {
        secret_key: "auth_token",
        check: crate::webhook::check_push,
    }),
);

/// A status callback (form-urlencoded POST body) as its generated type. Pure: no I/O; check
/// its `X-Twilio-Signature` with [`crate::webhook::verify_signature`] first.
pub fn parse_status_callback(body: &[u8]) -> Result<StatusCallback, String> {
    smsgate_provider::parse_push(body)
}

fn parse_report(body: &[u8]) -> Result<Vec<DeliveryStatus>, ReportError> {
    let callback = parse_status_callback(body).map_err(|message| ReportError {
        vendor: VENDOR.name,
        message,
    })?;
    Ok(vec![callback_status(&callback)])
}

/// A status callback as a delivery status (`ErrorCode`, when present, as the detail).
pub fn callback_status(callback: &StatusCallback) -> DeliveryStatus {
    DeliveryStatus {
        provider: VENDOR.name.to_owned(),
        message_id: callback.message_sid.clone(),
        number: callback.to.clone(),
        state: MessageStatus::from_code(&callback.message_status).class(),
        vendor_status: callback.message_status.clone(),
        detail: callback.error_code.as_deref().map(error_detail),
        at: callback.raw_dlr_done_date.clone(),
    }
}

/// A fetched Message as a delivery status (its sid as the id).
pub fn message_status(message: &Message) -> DeliveryStatus {
    let status = message.status.clone().unwrap_or_default();
    DeliveryStatus {
        provider: VENDOR.name.to_owned(),
        message_id: message.sid.clone().unwrap_or_default(),
        number: message.to.clone(),
        state: MessageStatus::from_code(&status).class(),
        vendor_status: status,
        detail: message
            .error_code
            .map(|code| error_detail(&code.to_string())),
        at: message.date_updated.clone(),
    }
}

/// `Carrier violation (30007)`: an error code with its meaning from the table.
fn error_detail(code: &str) -> String {
    let known = crate::codes::ErrorCode::from_code(code);
    format!("{} ({code})", known.meaning())
}

impl Provider for Client {
    fn name(&self) -> &str {
        crate::operations::VENDOR
    }

    fn capacity(&self) -> Capacity {
        let limits = crate::operations::CREATE_MESSAGE.limits;
        Capacity {
            uniform_recipients: 1,
            mixed_recipients: 1,
            max_content_chars: limits.max_content_chars.unwrap_or(1600),
            max_sender_id_chars: limits.max_sender_id_chars,
        }
    }

    fn dry_run(&self, entries: &[Entry<'_>], _uniform: bool) -> Result<WireRequest, String> {
        let entry = entries.first().ok_or("no entry")?;
        let to = format!("+{}", entry.number);
        self.prepare_create_message(&body(entry, &to))
            .map_err(|err| err.to_string())
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission> {
        Box::pin(self.submit_inline(entries, uniform))
    }

    fn status_batch(&self) -> Option<usize> {
        Some(1)
    }

    fn poll_status<'a>(
        &'a self,
        message_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<DeliveryStatus>, QueryError>> {
        Box::pin(async move {
            let mut statuses = Vec::with_capacity(message_ids.len());
            for sid in message_ids {
                match self.fetch_message(&FetchMessageRequest { sid }).await {
                    Ok(message) => statuses.push(message_status(&message)),
                    // 20404: Twilio does not know the id; it is left out (not found).
                    Err(smsgate_transport::Error::Vendor {
                        code: crate::codes::ErrorCode::NotFound,
                        ..
                    }) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            Ok(statuses)
        })
    }

    fn balance(&self) -> BoxFuture<'_, Result<Balance, QueryError>> {
        Box::pin(async move {
            let answer = self.fetch_balance(&FetchBalanceRequest::default()).await?;
            Ok(Balance {
                amount: answer
                    .balance
                    .ok_or_else(|| QueryError::Failed("the answer carries no balance".into()))?,
                currency: answer.currency,
                gift: None,
                credit: None,
            })
        })
    }

    /// Twilio caps the requests an account has in flight (error 20429 past it; the number is
    /// not published) and queues messages per sender rather than refusing them, so only the
    /// concurrency is bounded: 10, ours.
    fn flow_limits(&self) -> FlowLimits {
        FlowLimits {
            concurrency: Some(10),
            requests_per_second: None,
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The Message of one entry: `To` is the number in E.164 (`to`, its `+` added), the sender id
/// is `From` (else the `from` or `messaging_service_sid` setting fills it).
fn body<'e>(entry: &Entry<'e>, to: &'e str) -> CreateMessageRequest<'e> {
    CreateMessageRequest {
        to,
        body: entry.content,
        from: entry.sender_id,
        ..CreateMessageRequest::default()
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
        let to = format!("+{}", entry.number);
        match self.create_message(&body(entry, &to)).await {
            Ok(message) => {
                let verdict = match message.sid {
                    Some(sid) => EntryVerdict::Accepted(sid),
                    None => EntryVerdict::Unknown("the answer carries no sid".to_owned()),
                };
                Submission::Answered {
                    verdicts: vec![(0, verdict)],
                    unlisted: EntryVerdict::Unknown(
                        "the answer does not list this recipient".to_owned(),
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

    /// What is retry-safe: HTTP 429 and 20429 (never processed), a refusal before sending
    /// (20003); a 5xx after the request was sent is unknown, never a failover.
    #[test]
    fn refusals_say_whether_a_retry_is_safe() {
        use smsgate_transport::http::RawResponse;
        let answer = |status: u16, body: &str| {
            let raw = RawResponse {
                status,
                body: body.as_bytes().to_vec().into(),
            };
            let decoded = smsgate_transport::client::decode::<
                crate::generated::client::CreateMessage<'_, '_>,
            >(&raw);
            submission_from_error(decoded.unwrap_err())
        };
        let throttled = answer(
            429,
            r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#,
        );
        assert!(
            matches!(
                throttled,
                Submission::Refused {
                    retry_safe: true,
                    throttled: true,
                    ..
                }
            ),
            "{throttled:?}"
        );
        assert!(matches!(
            answer(429, ""),
            Submission::Refused {
                retry_safe: true,
                throttled: true,
                ..
            }
        ));
        assert!(matches!(
            answer(
                401,
                r#"{"code":20003,"message":"Authenticate","status":401}"#
            ),
            Submission::Refused {
                retry_safe: true,
                ..
            }
        ));
        let invalid_to = answer(
            400,
            r#"{"code":21211,"message":"The 'To' number 5551234567 is not a valid phone number.","status":400}"#,
        );
        assert!(
            matches!(&invalid_to, Submission::Refused { retry_safe: false, reason, .. } if reason.code.as_deref() == Some("21211")),
            "{invalid_to:?}"
        );
        for status in [500, 502, 503] {
            assert!(matches!(
                answer(status, r#"{"code":20500}"#),
                Submission::Unknown(_)
            ));
        }
    }

    #[test]
    fn callbacks_and_messages_normalise() {
        let fixture = |name: &str| {
            std::fs::read(format!(
                "{}/../../specs/twilio/examples/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let statuses =
            (VENDOR.parse_report)(&fixture("StatusCallback.notes-undelivered.form")).unwrap();
        assert_eq!(statuses[0].state, DeliveryClass::Undelivered);
        assert!(
            statuses[0].detail.as_deref().unwrap().ends_with(")"),
            "{statuses:?}"
        );
        let fetched: Message = serde_json::from_slice(&fixture("Message.oas-fetch.json")).unwrap();
        let status = message_status(&fetched);
        assert_eq!(status.state, DeliveryClass::Undelivered);
        assert!(
            status.detail.as_deref().unwrap().ends_with("(30007)"),
            "{status:?}"
        );
        assert!((VENDOR.parse_report)(b"MessageStatus=sent").is_err());
    }
}
