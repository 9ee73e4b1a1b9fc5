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

/// One message inside a request, already normalised; borrowed from the gate's own records, so
/// handing a request to a provider copies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Reference sent with the message (`orderId` / `sysMessageId`) and used to match the answer.
    pub reference: &'a str,
    /// Digits with country code.
    pub number: &'a str,
    /// The text.
    pub content: &'a str,
    /// Sender id.
    pub sender_id: Option<&'a str>,
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
    /// The provider answered; one verdict per entry it speaks of. Entries it does not mention
    /// are settled by the gate (see [`Submission::Answered::unlisted`]).
    Answered {
        /// Verdicts by position in the submitted entries (an [`EntryMatcher`] finds it from an
        /// answer line); the first verdict for a position wins, out-of-range ones are ignored.
        verdicts: Vec<(usize, EntryVerdict)>,
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
    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission>;

    /// The exact request [`Provider::submit`] would send for `entries`, without sending it
    /// (for dry runs).
    fn dry_run(&self, entries: &[Entry<'_>], uniform: bool) -> Result<WireRequest, String> {
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

/// Finds which submitted entry a line of a provider's answer speaks of: by the reference the
/// provider echoed, else by number; each entry is claimed at most once (the first line wins).
///
/// Answers usually list entries in the order they were sent, so the line's own position is
/// tried first; only a miss builds a lookup table. Matching a whole answer is linear.
#[derive(Debug)]
pub struct EntryMatcher<'e> {
    entries: &'e [Entry<'e>],
    /// Entry index in the order the request carried them (`sent[k]`: k-th sent entry); `None`:
    /// in the entries' own order.
    sent: Option<Vec<usize>>,
    claimed: Vec<bool>,
    by_reference: Option<std::collections::HashMap<&'e str, usize>>,
    same_number: fn(&str, &str) -> bool,
}

impl<'e> EntryMatcher<'e> {
    /// A matcher for `entries`, sent in the order `sent` gives (entry indexes); numbers compare
    /// equal when `same_number` says so.
    pub fn new(
        entries: &'e [Entry<'e>],
        sent: Vec<usize>,
        same_number: fn(&str, &str) -> bool,
    ) -> Self {
        Self {
            entries,
            sent: Some(sent),
            claimed: vec![false; entries.len()],
            by_reference: None,
            same_number,
        }
    }

    /// A matcher for `entries`, sent in their own order.
    pub fn in_order(entries: &'e [Entry<'e>], same_number: fn(&str, &str) -> bool) -> Self {
        Self {
            entries,
            sent: None,
            claimed: vec![false; entries.len()],
            by_reference: None,
            same_number,
        }
    }

    /// The entry sent `position`-th.
    fn sent_at(&self, position: usize) -> Option<usize> {
        match &self.sent {
            Some(sent) => sent.get(position).copied(),
            None => (position < self.entries.len()).then_some(position),
        }
    }

    /// The entry the `position`-th line of the answer speaks of (`reference` echoed, `number`
    /// as listed), claimed; `None` if no unclaimed entry matches.
    pub fn find(
        &mut self,
        position: usize,
        reference: Option<&str>,
        number: Option<&str>,
    ) -> Option<usize> {
        let guess = self.sent_at(position);
        let by_reference = reference
            .filter(|r| !r.is_empty())
            .and_then(|reference| match guess {
                Some(i) if self.entries[i].reference == reference => Some(i),
                _ => {
                    let entries = self.entries;
                    self.by_reference
                        .get_or_insert_with(|| {
                            let mut map = std::collections::HashMap::with_capacity(entries.len());
                            for (i, entry) in entries.iter().enumerate() {
                                map.entry(entry.reference).or_insert(i);
                            }
                            map
                        })
                        .get(reference)
                        .copied()
                }
            });
        let found = match by_reference {
            // A reference we sent: that entry, unless an earlier line already settled it.
            Some(i) if !self.claimed[i] => i,
            Some(_) => return None,
            // No reference, or one we did not send: the first unclaimed entry with this number,
            // the line's own position first.
            None => {
                let number = number.filter(|n| !n.is_empty())?;
                let (entries, claimed, same) = (self.entries, &self.claimed, self.same_number);
                let matches = |i: usize| !claimed[i] && same(entries[i].number, number);
                guess.filter(|&i| matches(i)).or_else(|| match &self.sent {
                    Some(sent) => sent.iter().copied().find(|&i| matches(i)),
                    None => (0..entries.len()).find(|&i| matches(i)),
                })?
            }
        };
        self.claimed[found] = true;
        Some(found)
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
        // A 3xx: smsgate never follows redirects, but the request reached whoever answered
        // and may have been acted on, like any unexpected status. Never a failover.
        err @ TransportError::UnexpectedStatus {
            status: 300..=399, ..
        } => Submission::Unknown(err.to_string()),
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
        BoxFuture, Capacity, Entry, EntryMatcher, EntryVerdict, Provider, Submission,
        submission_from_error,
    };
    use crate::outcome::{Reason, RejectKind};
    use crate::status::DeliveryStatus;

    /// One platform message per (content, sender id), in first-seen order, with the entries'
    /// references as order ids, borrowed from the entries; and the entry indexes in the order
    /// the request carries them.
    fn text_messages<'e>(entries: &[Entry<'e>]) -> (Vec<TextMessage<&'e str>>, Option<Vec<usize>>) {
        // One text (most requests): one message, the entries in their own order.
        if let Some(first) = entries.first() {
            if entries
                .iter()
                .all(|e| e.content == first.content && e.sender_id == first.sender_id)
            {
                let message = TextMessage {
                    numbers: entries.iter().map(|e| e.number).collect(),
                    content: first.content,
                    sender_id: first.sender_id,
                    order_ids: Some(entries.iter().map(|e| e.reference).collect()),
                };
                return (vec![message], None);
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let same_text = |g: &Vec<usize>| {
                let first = &entries[g[0]];
                first.content == entry.content && first.sender_id == entry.sender_id
            };
            // Most requests are one text: the last group is the likely one.
            match groups.iter_mut().rev().find(|g| same_text(g)) {
                Some(group) => group.push(i),
                None => groups.push(vec![i]),
            }
        }
        let messages = groups
            .iter()
            .map(|group| {
                let first = &entries[group[0]];
                TextMessage {
                    numbers: group.iter().map(|&i| entries[i].number).collect(),
                    content: first.content,
                    sender_id: first.sender_id,
                    order_ids: Some(group.iter().map(|&i| entries[i].reference).collect()),
                }
            })
            .collect();
        (messages, Some(groups.concat()))
    }

    /// The platform echoes numbers as sent (digits with country code).
    fn same_number(sent: &str, echoed: &str) -> bool {
        sent == echoed.strip_prefix('+').unwrap_or(echoed)
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

        fn dry_run(&self, entries: &[Entry<'_>], uniform: bool) -> Result<WireRequest, String> {
            let (messages, _) = text_messages(entries);
            let request = match (uniform, messages.as_slice()) {
                (true, [message]) => self.prepare_send_sms(message),
                _ => self.prepare_send_batch(&messages),
            };
            request.map_err(|err| err.to_string())
        }

        fn submit<'a>(
            &'a self,
            entries: &'a [Entry<'a>],
            uniform: bool,
        ) -> BoxFuture<'a, Submission> {
            Box::pin(async move {
                let (messages, sent) = text_messages(entries);
                let result = match (uniform, messages.as_slice()) {
                    (true, [message]) => self.send_sms(message).await,
                    _ => self.send_batch(&messages).await,
                };
                match result {
                    Ok(receipt) => {
                        let (accepted_count, failed_count) =
                            (receipt.accepted_count, receipt.failed_count);
                        // Match by the echoed order id, or by number when the platform leaves
                        // the order id out.
                        let mut matcher = match sent {
                            Some(sent) => EntryMatcher::new(entries, sent, same_number),
                            None => EntryMatcher::in_order(entries, same_number),
                        };
                        let verdicts: Vec<(usize, EntryVerdict)> = receipt
                            .accepted
                            .into_iter()
                            .enumerate()
                            .filter_map(|(k, a)| {
                                matcher
                                    .find(k, a.order_id.as_deref(), Some(&a.number))
                                    .map(|i| (i, EntryVerdict::Accepted(a.message_id)))
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
    use smsgate_nxcloud::{Client, MessageOptions, MultiItem};
    use smsgate_transport::spec::ErrorClass;

    use smsgate_transport::wire::WireRequest;

    use super::{
        BoxFuture, Capacity, Entry, EntryMatcher, EntryVerdict, Provider, Submission,
        submission_from_error,
    };
    use crate::outcome::{Reason, RejectKind};

    /// One multi/mt item per entry, borrowed: its reference as sysMessageId, its sender id as
    /// sourceAddress.
    fn multi_items<'e>(entries: &[Entry<'e>]) -> Vec<MultiItem<&'e str>> {
        entries
            .iter()
            .map(|e| MultiItem {
                phone: e.number,
                content: e.content,
                options: MessageOptions {
                    source_address: e.sender_id,
                    sys_message_id: Some(e.reference),
                    ..MessageOptions::default()
                },
            })
            .collect()
    }

    /// nxcloud may echo a phone with or without its country code.
    fn same_number(sent: &str, echoed: &str) -> bool {
        sent.ends_with(echoed) || echoed.ends_with(sent)
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

        fn dry_run(&self, entries: &[Entry<'_>], _uniform: bool) -> Result<WireRequest, String> {
            self.prepare_send_multi(&multi_items(entries))
                .map_err(|err| err.to_string())
        }

        fn submit<'a>(
            &'a self,
            entries: &'a [Entry<'a>],
            _uniform: bool,
        ) -> BoxFuture<'a, Submission> {
            Box::pin(async move {
                let items = multi_items(entries);
                match self.send_multi(&items).await {
                    Ok(receipt) => {
                        let mut verdicts = Vec::with_capacity(receipt.results.len());
                        // With sysMessageId given, messageid is that id; match on it, and on
                        // the phone when a result comes back without it.
                        let mut matcher = EntryMatcher::in_order(entries, same_number);
                        for (k, result) in receipt.results.into_iter().enumerate() {
                            let Some(index) =
                                matcher.find(k, Some(&result.message_id), Some(&result.phone))
                            else {
                                continue;
                            };
                            let verdict = match &result.status {
                                ItemStatus::Success => EntryVerdict::Accepted(result.message_id),
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
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{Entry, EntryMatcher};

    fn entry<'a>(reference: &'a str, number: &'a str) -> Entry<'a> {
        Entry {
            reference,
            number,
            content: "hi",
            sender_id: None,
        }
    }

    fn exact(sent: &str, echoed: &str) -> bool {
        sent == echoed
    }

    #[test]
    fn matches_by_reference_in_any_order_and_claims_once() {
        let entries = [entry("r0", "111"), entry("r1", "222"), entry("r2", "333")];
        let mut matcher = EntryMatcher::new(&entries, vec![0, 1, 2], exact);
        // In order, then out of order, then a repeat and an unknown reference without number.
        assert_eq!(matcher.find(0, Some("r0"), Some("111")), Some(0));
        assert_eq!(matcher.find(1, Some("r2"), Some("333")), Some(2));
        assert_eq!(
            matcher.find(2, Some("r2"), Some("333")),
            None,
            "first line wins"
        );
        assert_eq!(matcher.find(3, Some("zz"), None), None);
        assert_eq!(matcher.find(4, Some("r1"), None), Some(1));
    }

    #[test]
    fn in_order_guesses_each_line_s_own_position() {
        let entries = [entry("r0", "111"), entry("r1", "222")];
        let mut matcher = EntryMatcher::in_order(&entries, exact);
        assert_eq!(
            matcher.find(0, None, Some("222")),
            Some(1),
            "scans past a wrong guess"
        );
        assert_eq!(matcher.find(1, Some("r0"), None), Some(0));
        assert_eq!(
            matcher.find(2, None, Some("111")),
            None,
            "past the end, all claimed"
        );
    }

    #[test]
    fn falls_back_to_the_number_without_a_usable_reference() {
        // The same number twice (duplicates allowed): each line settles one entry.
        let entries = [entry("r0", "111"), entry("r1", "222"), entry("r2", "111")];
        let mut matcher = EntryMatcher::new(&entries, vec![0, 2, 1], exact);
        assert_eq!(matcher.find(0, None, Some("222")), Some(1));
        // Line 1 speaks of the entry sent second (entry 2), line 2 of the one left.
        assert_eq!(matcher.find(1, Some(""), Some("111")), Some(2));
        assert_eq!(matcher.find(2, Some("unknown"), Some("111")), Some(0));
        assert_eq!(matcher.find(3, None, Some("111")), None, "no entry left");
        assert_eq!(matcher.find(4, None, None), None);
    }
}
