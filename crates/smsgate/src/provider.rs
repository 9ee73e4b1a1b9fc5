//! The [`Provider`] trait: what the gate needs from a vendor, and its implementations for the
//! vendor clients.

use std::future::Future;
use std::pin::Pin;

use smsgate_transport::spec::{CodeTable, ErrorClass};

use crate::status::DeliveryStatus;
use smsgate_transport::Error as TransportError;
use smsgate_transport::wire::WireRequest;

use crate::outcome::{Reason, RejectKind};

/// A boxed future, as [`Provider`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How much one request of a provider can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Most recipients in one request that sends one text to many numbers.
    pub uniform_recipients: usize,
    /// Most recipients in one request that carries different texts.
    pub mixed_recipients: usize,
    /// Most characters of content.
    pub max_content_chars: usize,
    /// Most characters of a sender id (`None`: sender ids are not sent).
    pub max_sender_id_chars: Option<usize>,
}

/// One message inside a request, already normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Reference sent with the message (`orderId` / `sysMessageId`) and used to match the answer.
    pub reference: String,
    /// Digits with country code.
    pub number: String,
    /// The text.
    pub content: String,
    /// Sender id.
    pub sender_id: Option<String>,
}

/// The verdict on one entry of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryVerdict {
    /// Accepted, with the provider's message id.
    Accepted(String),
    /// Refused for this entry alone (number or content).
    Rejected(Reason),
    /// No verdict for this entry.
    Unknown(String),
}

/// What a provider made of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// The provider answered; one verdict per entry reference it speaks of. Entries it does not
    /// mention are settled by the gate (see [`Submission::Answered::unlisted`]).
    Answered {
        /// Verdicts by entry reference.
        verdicts: Vec<(String, EntryVerdict)>,
        /// What an entry the answer does not list means.
        unlisted: EntryVerdict,
    },
    /// The provider refused the whole request and sent nothing.
    Refused {
        /// Why.
        reason: Reason,
        /// Whether another provider may send the same messages (authentication, account,
        /// throttling, connection never made).
        retry_safe: bool,
        /// Whether the provider throttled the request (the same request may be retried later).
        throttled: bool,
    },
    /// The request may have reached the provider; no verdict (timeout, 5xx, undecodable answer).
    Unknown(String),
}

/// A vendor behind the gate.
pub trait Provider: Send + Sync {
    /// Name used in outcomes (`itniotech`, or a name of your choosing).
    fn name(&self) -> &str;

    /// What one request can carry.
    fn capacity(&self) -> Capacity;

    /// Sends `entries` in one request. All entries fit [`Provider::capacity`]; `uniform` is true
    /// when they share content and sender id.
    fn submit<'a>(&'a self, entries: &'a [Entry], uniform: bool) -> BoxFuture<'a, Submission>;

    /// The exact request [`Provider::submit`] would send for `entries`, without sending it
    /// (for dry runs).
    fn dry_run(&self, entries: &[Entry], uniform: bool) -> Result<WireRequest, String> {
        let _ = (entries, uniform);
        Err(format!("{} cannot show its requests", self.name()))
    }

    /// Most message ids one status query takes (`None`: the provider cannot be polled, its
    /// delivery reports only come as pushes).
    fn status_batch(&self) -> Option<usize> {
        None
    }

    /// Polls the delivery status of `message_ids` (at most [`Provider::status_batch`]).
    fn poll_status<'a>(
        &'a self,
        message_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<DeliveryStatus>, String>> {
        let _ = message_ids;
        Box::pin(async { Err("this provider cannot be polled for delivery status".to_owned()) })
    }
}

/// Turns a vendor-client error into a submission.
pub fn submission_from_error<C: CodeTable<Class = ErrorClass>>(
    err: TransportError<C>,
) -> Submission {
    match err {
        TransportError::Vendor { code, reason, .. } => {
            let class = code.class();
            Submission::Refused {
                reason: Reason {
                    code: Some(code.code().to_owned()),
                    text: if reason.is_empty() {
                        code.meaning().to_owned()
                    } else {
                        reason
                    },
                    kind: RejectKind::Vendor(class),
                },
                retry_safe: class.is_request_refused(),
                throttled: class == ErrorClass::RateLimit,
            }
        }
        TransportError::InvalidRequest(err) => Submission::Refused {
            reason: Reason {
                code: None,
                text: err.to_string(),
                kind: RejectKind::InvalidContent,
            },
            retry_safe: false,
            throttled: false,
        },
        TransportError::Transport {
            may_have_reached_vendor: false,
            message,
            failure,
            ..
        } => Submission::Refused {
            reason: Reason {
                code: None,
                text: format!("{failure}: {message}"),
                kind: RejectKind::Vendor(ErrorClass::VendorFault),
            },
            retry_safe: true,
            throttled: false,
        },
        TransportError::Transport {
            message, failure, ..
        } => Submission::Unknown(format!("{failure}: {message}")),
        TransportError::UnexpectedStatus {
            status: 429,
            body_excerpt,
            ..
        } => Submission::Refused {
            reason: Reason {
                code: Some("429".to_owned()),
                text: format!("HTTP 429: {body_excerpt}"),
                kind: RejectKind::Vendor(ErrorClass::RateLimit),
            },
            retry_safe: true,
            throttled: true,
        },
        TransportError::UnexpectedStatus {
            status,
            body_excerpt,
            ..
        } if status >= 500 => Submission::Unknown(format!("HTTP {status}: {body_excerpt}")),
        TransportError::UnexpectedStatus {
            status,
            body_excerpt,
            ..
        } => Submission::Refused {
            // 4xx: the provider refused the request before processing it.
            reason: Reason {
                code: Some(status.to_string()),
                text: format!("HTTP {status}: {body_excerpt}"),
                kind: RejectKind::Vendor(if matches!(status, 401 | 403) {
                    ErrorClass::Auth
                } else {
                    ErrorClass::InvalidRequest
                }),
            },
            retry_safe: true,
            throttled: false,
        },
        TransportError::Undecodable {
            status, message, ..
        } => Submission::Unknown(format!("undecodable answer (HTTP {status}): {message}")),
    }
}

#[cfg(any(feature = "itniotech", feature = "laaffic"))]
mod onbuka {
    use smsgate_onbuka::{Brand, Client, TextMessage};
    use smsgate_transport::spec::ErrorClass;

    use smsgate_transport::wire::WireRequest;

    use super::{
        BoxFuture, Capacity, Entry, EntryVerdict, Provider, Submission, submission_from_error,
    };
    use crate::outcome::{Reason, RejectKind};
    use crate::status::DeliveryStatus;

    /// One platform message per (content, sender id), in first-seen order, with the entries'
    /// references as order ids.
    fn text_messages(entries: &[Entry]) -> Vec<TextMessage> {
        let mut groups: Vec<Vec<&Entry>> = Vec::new();
        for entry in entries {
            match groups
                .iter_mut()
                .find(|g| g[0].content == entry.content && g[0].sender_id == entry.sender_id)
            {
                Some(group) => group.push(entry),
                None => groups.push(vec![entry]),
            }
        }
        groups
            .iter()
            .map(|group| {
                let first = group[0];
                let mut message = TextMessage::new(
                    group.iter().map(|e| e.number.clone()),
                    first.content.clone(),
                )
                .order_ids(group.iter().map(|e| e.reference.clone()));
                message.sender_id = first.sender_id.clone();
                message
            })
            .collect()
    }

    impl<B: Brand> Provider for Client<B> {
        fn name(&self) -> &str {
            B::VENDOR
        }

        fn status_batch(&self) -> Option<usize> {
            Some(B::GET_REPORT.limits.max_ids.unwrap_or(200))
        }

        fn poll_status<'a>(
            &'a self,
            message_ids: &'a [String],
        ) -> BoxFuture<'a, Result<Vec<DeliveryStatus>, String>> {
            Box::pin(async move {
                let report = self
                    .report(message_ids)
                    .await
                    .map_err(|err| err.to_string())?;
                Ok(report
                    .messages
                    .iter()
                    .map(|m| DeliveryStatus::from_report_entry::<B::ReportStatus>(B::VENDOR, m))
                    .collect())
            })
        }

        fn capacity(&self) -> Capacity {
            Capacity {
                uniform_recipients: B::SEND_SMS.limits.max_numbers.unwrap_or(1000),
                mixed_recipients: B::SEND_BATCH.limits.max_numbers.unwrap_or(1000),
                max_content_chars: B::SEND_SMS.limits.max_content_chars.unwrap_or(1024),
                max_sender_id_chars: B::SEND_SMS.limits.max_sender_id_chars,
            }
        }

        fn dry_run(&self, entries: &[Entry], uniform: bool) -> Result<WireRequest, String> {
            let messages = text_messages(entries);
            let request = match (uniform, messages.as_slice()) {
                (true, [message]) => self.prepare_send_sms(message),
                _ => self.prepare_send_batch(&messages),
            };
            request.map_err(|err| err.to_string())
        }

        fn submit<'a>(&'a self, entries: &'a [Entry], uniform: bool) -> BoxFuture<'a, Submission> {
            Box::pin(async move {
                let messages = text_messages(entries);
                let result = match (uniform, messages.as_slice()) {
                    (true, [message]) => self.send_sms(message).await,
                    _ => self.send_batch(&messages).await,
                };
                match result {
                    Ok(receipt) => {
                        let (accepted_count, failed_count) =
                            (receipt.accepted_count, receipt.failed_count);
                        let verdicts: Vec<(String, EntryVerdict)> = receipt
                            .accepted
                            .into_iter()
                            .filter_map(|a| {
                                a.order_id
                                    .map(|id| (id, EntryVerdict::Accepted(a.message_id)))
                            })
                            .collect();

                        // The platform lists accepted numbers only. When its counts agree with
                        // that list, an unlisted number was refused; otherwise nobody knows.
                        let listed = u32::try_from(verdicts.len()).unwrap_or(u32::MAX);
                        let total = u32::try_from(entries.len()).unwrap_or(u32::MAX);
                        let unlisted = if accepted_count == listed
                            && accepted_count + failed_count == total
                        {
                            EntryVerdict::Rejected(Reason {
                                code: None,
                                text: "the provider did not accept this number (it gives no per-number reason)".to_owned(),
                                kind: RejectKind::Vendor(ErrorClass::Number),
                            })
                        } else {
                            EntryVerdict::Unknown(format!(
                                "the answer lists {listed} numbers but counts {} accepted and {} failed of {total}",
                                accepted_count, failed_count
                            ))
                        };
                        Submission::Answered { verdicts, unlisted }
                    }
                    Err(err) => submission_from_error(err),
                }
            })
        }
    }
}

#[cfg(feature = "nxcloud")]
mod nxcloud {
    use smsgate_nxcloud::codes::ItemStatus;
    use smsgate_nxcloud::{Client, MultiItem};
    use smsgate_transport::spec::ErrorClass;

    use smsgate_transport::wire::WireRequest;

    use super::{
        BoxFuture, Capacity, Entry, EntryVerdict, Provider, Submission, submission_from_error,
    };
    use crate::outcome::{Reason, RejectKind};

    /// One multi/mt item per entry: its reference as sysMessageId, its sender id as sourceAddress.
    fn multi_items(entries: &[Entry]) -> Vec<MultiItem> {
        entries
            .iter()
            .map(|e| {
                let mut item = MultiItem::new(e.number.clone(), e.content.clone())
                    .sys_message_id(e.reference.clone());
                item.options.source_address = e.sender_id.clone();
                item
            })
            .collect()
    }

    impl Provider for Client {
        fn name(&self) -> &str {
            smsgate_nxcloud::operations::VENDOR
        }

        fn capacity(&self) -> Capacity {
            let limits = smsgate_nxcloud::operations::SEND_MULTI.limits;
            let items = limits.max_items.unwrap_or(200);
            // Every request goes through multi/mt: it carries a sysMessageId per number, which the
            // single-send operation ignores as soon as it has more than one number.
            Capacity {
                uniform_recipients: items,
                mixed_recipients: items,
                max_content_chars: limits.max_content_chars.unwrap_or(1000),
                max_sender_id_chars: Some(20),
            }
        }

        fn dry_run(&self, entries: &[Entry], _uniform: bool) -> Result<WireRequest, String> {
            self.prepare_send_multi(&multi_items(entries))
                .map_err(|err| err.to_string())
        }

        fn submit<'a>(&'a self, entries: &'a [Entry], _uniform: bool) -> BoxFuture<'a, Submission> {
            Box::pin(async move {
                let items = multi_items(entries);
                match self.send_multi(&items).await {
                    Ok(receipt) => {
                        let mut verdicts = Vec::with_capacity(receipt.results.len());
                        for result in &receipt.results {
                            // With sysMessageId given, messageid is that id; match on it, and on
                            // the phone when a result comes back without it.
                            let reference = entries
                                .iter()
                                .find(|e| e.reference == result.message_id)
                                .or_else(|| {
                                    entries.iter().find(|e| {
                                        result.phone.ends_with(&e.number)
                                            || e.number.ends_with(&result.phone)
                                    })
                                })
                                .map(|e| e.reference.clone());
                            let Some(reference) = reference else { continue };
                            let verdict = match &result.status {
                                ItemStatus::Success => {
                                    EntryVerdict::Accepted(result.message_id.clone())
                                }
                                ItemStatus::Failure => EntryVerdict::Rejected(Reason {
                                    code: Some("Failure".to_owned()),
                                    text: result
                                        .message
                                        .clone()
                                        .unwrap_or_else(|| "refused".to_owned()),
                                    kind: RejectKind::Vendor(ErrorClass::Number),
                                }),
                                ItemStatus::Unknown(raw) => {
                                    EntryVerdict::Unknown(format!("item status {raw:?}"))
                                }
                            };
                            verdicts.push((reference, verdict));
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
            })
        }
    }
}
