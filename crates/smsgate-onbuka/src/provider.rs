//! The platform's verdicts: how a brand's answers become per-message outcomes, its delivery
//! statuses, and [`brand!`](crate::brand), which wires them into each brand crate.

use smsgate_provider::{
    Balance, DeliveryStatus, Entry, EntryMatcher, EntryVerdict, QueryError, Reason, RejectKind,
    ReportError, Submission, submission_from_error,
};
use smsgate_transport::endpoint::Joined;
use smsgate_transport::spec::{CodeTable, DeliveryClass, ErrorClass};

use crate::bodies::{BatchMessage, SendSmsRequest};
use crate::models::{DeliveryReportPush, GetBalanceResponse, ReportEntry, SendSmsResponse};

/// A delivery-report push body (JSON) as its generated type. Pure: no I/O.
pub fn parse_delivery_report(body: &[u8]) -> Result<DeliveryReportPush, serde_json::Error> {
    serde_json::from_slice(body)
}

/// A push body of `provider`, as delivery statuses (one per push).
pub fn parse_report(
    provider: &'static str,
    body: &[u8],
) -> Result<Vec<DeliveryStatus>, ReportError> {
    let push = parse_delivery_report(body).map_err(|err| ReportError {
        vendor: provider,
        message: err.to_string(),
    })?;
    Ok(vec![push_status(provider, &push)])
}

/// A status-query entry, as `provider`'s delivery status (its status read with table `S`).
pub fn delivery_status<S: CodeTable<Class = DeliveryClass>>(
    provider: &str,
    entry: &ReportEntry,
) -> DeliveryStatus {
    let status = S::from_code(&entry.status);
    DeliveryStatus {
        provider: provider.to_owned(),
        message_id: entry.msg_id.clone(),
        number: Some(entry.number.clone()),
        state: status.class(),
        vendor_status: status.code().to_owned(),
        detail: Some(status.meaning().to_owned()).filter(|_| status.is_documented()),
        at: entry.receive_time.clone(),
    }
}

/// A delivery-report push, as `provider`'s delivery status: status 0 is delivered, anything
/// else undelivered with the push's reason.
pub fn push_status(provider: &str, push: &DeliveryReportPush) -> DeliveryStatus {
    DeliveryStatus {
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

/// Entries grouped by (content, sender id) in first-seen order: each group's numbers and
/// references, borrowed from the entries, and the entry indexes in the order sent.
pub struct Texts<'e> {
    groups: Vec<(&'e Entry<'e>, Vec<&'e str>, Vec<&'e str>)>,
    /// `None`: the entries are sent in their own order (one group).
    sent: Option<Vec<usize>>,
}

impl<'e> Texts<'e> {
    /// The groups of `entries`.
    pub fn new(entries: &'e [Entry<'e>]) -> Self {
        let same =
            |a: &Entry<'_>, b: &Entry<'_>| a.content == b.content && a.sender_id == b.sender_id;
        let mut groups: Vec<(&Entry<'_>, Vec<&str>, Vec<&str>)> = Vec::with_capacity(1);
        for entry in entries {
            // Most requests are one text: the last group is the likely one.
            match groups
                .iter_mut()
                .rev()
                .find(|(first, ..)| same(first, entry))
            {
                Some((_, numbers, references)) => {
                    numbers.push(entry.number);
                    references.push(entry.reference);
                }
                None => groups.push((entry, vec![entry.number], vec![entry.reference])),
            }
        }
        let sent = (groups.len() > 1).then(|| {
            let group = |i: &usize| {
                groups
                    .iter()
                    .position(|(first, ..)| same(first, &entries[*i]))
            };
            let mut sent: Vec<usize> = (0..entries.len()).collect();
            sent.sort_by_cached_key(group);
            sent
        });
        Self { groups, sent }
    }

    /// One batch message per group, borrowed.
    pub fn messages(&self) -> Vec<BatchMessage<'_>> {
        self.groups
            .iter()
            .map(|(first, numbers, references)| BatchMessage {
                numbers: Joined::commas(numbers),
                content: first.content,
                sender_id: first.sender_id,
                order_id: Some(Joined::commas(references)),
            })
            .collect()
    }
}

impl Texts<'_> {
    /// The `sendSms` body when there is one text (appId filled by the client).
    pub fn single(&self) -> Option<SendSmsRequest<'_>> {
        let [(first, numbers, references)] = self.groups.as_slice() else {
            return None;
        };
        Some(SendSmsRequest {
            numbers: Joined::commas(numbers),
            content: first.content,
            sender_id: first.sender_id,
            order_id: Some(Joined::commas(references)),
            ..SendSmsRequest::default()
        })
    }
}

/// A verdict per entry from a send's answer (or its error).
pub fn settle<C: CodeTable<Class = ErrorClass>>(
    entries: &[Entry<'_>],
    texts: Texts<'_>,
    answer: Result<SendSmsResponse, smsgate_transport::Error<C>>,
) -> Submission {
    // The platform lists accepted numbers only, with counts as decimal strings: an unlisted
    // number was refused when the counts agree with the list, otherwise nobody knows.
    let answer = match answer {
        Ok(answer) => answer,
        Err(err) => return submission_from_error(err),
    };
    let (listed, total) = (answer.array.len() as u64, entries.len() as u64);
    let (accepted, failed) = (answer.success_count(), answer.fail_count());
    let (Ok(accepted), Ok(failed)) = (accepted.unwrap_or(Ok(listed)), failed.unwrap_or(Ok(0)))
    else {
        // The values are not quoted: an answer can make them as long as its body.
        let text = "undecodable answer: its success and fail fields are not counts";
        return Submission::Unknown(text.to_owned());
    };
    let mut matcher = match texts.sent {
        Some(sent) => EntryMatcher::new(entries, sent, same_number),
        None => EntryMatcher::in_order(entries, same_number),
    };
    let verdicts: Vec<(usize, EntryVerdict)> = answer
        .array
        .into_iter()
        .enumerate()
        .filter_map(|(k, line)| {
            matcher
                .find(k, line.order_id.as_deref(), Some(&line.number))
                .map(|i| (i, EntryVerdict::Accepted(line.msg_id)))
        })
        .collect();
    let matched = verdicts.len() as u64;
    let unlisted = if accepted == matched && accepted.checked_add(failed) == Some(total) {
        EntryVerdict::Rejected(Reason {
            code: None,
            text: "the provider did not accept this number (it gives no per-number reason)"
                .to_owned(),
            kind: RejectKind::Vendor(ErrorClass::Number),
        })
    } else {
        EntryVerdict::Unknown(format!(
            "the answer lists {matched} numbers but counts {accepted} accepted and {failed} failed of {total}"
        ))
    };
    Submission::Answered { verdicts, unlisted }
}

/// The platform echoes numbers as sent (digits with country code).
fn same_number(sent: &str, echoed: &str) -> bool {
    sent == echoed.strip_prefix('+').unwrap_or(echoed)
}

/// The account balance from a `getBalance` answer.
pub fn balance(provider: &str, answer: GetBalanceResponse) -> Result<Balance, QueryError> {
    let amount = answer.balance.ok_or_else(|| {
        QueryError::Failed(format!("{provider} answered success without a balance"))
    })?;
    Ok(Balance {
        amount,
        currency: None,
        gift: answer.gift,
        credit: answer.credit,
    })
}

/// Declares, at a brand crate's root, the brand of the platform it is: its registry descriptor
/// `VENDOR` and the [`Provider`](smsgate_provider::Provider) implementation of its generated
/// client (the platform's verdicts over the brand's operations and status tables).
#[macro_export]
#[allow(clippy::crate_in_macro_def)] // `crate` is the brand crate the macro is expanded in, by design
macro_rules! brand {
    () => {
        /// The registry descriptor of this brand of the onbuka platform.
        pub static VENDOR: $crate::__private::Vendor = $crate::__private::Vendor {
            name: crate::generated::operations::VENDOR,
            env_prefix: <crate::generated::client::Credentials as $crate::__private::Credentials>::ENV_PREFIX,
            keys: <crate::generated::client::Credentials as $crate::__private::Credentials>::SETTINGS,
            build: |settings| {
                let client = $crate::__private::client::<crate::generated::client::Credentials>(settings)?;
                Ok(::std::sync::Arc::new(client))
            },
            parse_report: |body| $crate::parse_report(crate::generated::operations::VENDOR, body),
            queries: $crate::__private::Queries { balance: true, delivery_status: true },
            pushes: crate::generated::operations::PUSHES,
            push_check: None,
        };

        const _: () = {
        use $crate::__private as __p;
        use crate::generated::{client::Client, codes, operations};

        impl __p::InlineSubmit for Client {
            async fn submit_inline(&self, entries: &[__p::Entry<'_>], uniform: bool) -> __p::Submission {
                let texts = $crate::Texts::new(entries);
                let answer = match texts.single().filter(|_| uniform) {
                    Some(body) => self.send_sms(&body).await,
                    None => {
                        let messages = texts.messages();
                        self.send_batch(&$crate::bodies::SendBatchRequest { array: &messages, ..Default::default() }).await
                    }
                };
                $crate::settle(entries, texts, answer)
            }
        }

        impl __p::Provider for Client {
            fn name(&self) -> &str {
                operations::VENDOR
            }
            fn capacity(&self) -> __p::Capacity {
                let (uniform, mixed) = (operations::SEND_SMS.limits, operations::SEND_BATCH.limits);
                __p::Capacity {
                    uniform_recipients: uniform.max_numbers.unwrap_or(1000),
                    mixed_recipients: mixed.max_numbers.unwrap_or(1000),
                    max_content_chars: uniform.max_content_chars.unwrap_or(1024),
                    max_sender_id_chars: uniform.max_sender_id_chars,
                }
            }
            fn submit<'a>(&'a self, entries: &'a [__p::Entry<'a>], uniform: bool) -> __p::BoxFuture<'a, __p::Submission> {
                Box::pin(__p::InlineSubmit::submit_inline(self, entries, uniform))
            }
            fn dry_run(&self, entries: &[__p::Entry<'_>], uniform: bool) -> Result<__p::WireRequest, String> {
                let texts = $crate::Texts::new(entries);
                match texts.single().filter(|_| uniform) {
                    Some(body) => self.prepare_send_sms(&body),
                    None => {
                        let messages = texts.messages();
                        self.prepare_send_batch(&$crate::bodies::SendBatchRequest { array: &messages, ..Default::default() })
                    }
                }
                .map_err(|err| err.to_string())
            }
            fn status_batch(&self) -> Option<usize> {
                Some(operations::GET_REPORT.limits.max_ids.unwrap_or(200))
            }
            fn as_any(&self) -> Option<&dyn ::std::any::Any> { Some(self) }
            fn poll_status<'a>(&'a self, ids: &'a [String]) -> __p::BoxFuture<'a, Result<Vec<__p::DeliveryStatus>, __p::QueryError>> {
                Box::pin(async move {
                    let answer = self.get_report(&$crate::bodies::GetReportRequest { msg_ids: __p::Joined::commas(&ids), ..Default::default() }).await?;
                    Ok(answer.array.iter().map(|e| $crate::delivery_status::<codes::ReportStatus>(operations::VENDOR, e)).collect())
                })
            }
            fn balance(&self) -> __p::BoxFuture<'_, Result<__p::Balance, __p::QueryError>> {
                Box::pin(async move {
                    let answer = self.get_balance(&Default::default()).await?;
                    $crate::balance(operations::VENDOR, answer)
                })
            }
            fn sent_records_range(&self) -> Option<::std::time::Duration> {
                Some($crate::SENT_RECORDS_RANGE)
            }
            fn sent_records(&self, from_ms: u64, to_ms: u64) -> __p::BoxFuture<'_, Result<Vec<__p::SentRecord>, __p::QueryError>> {
                Box::pin($crate::sent_records::<codes::SentRecordStatus, _, _>(operations::VENDOR, from_ms, to_ms, move |page: $crate::SentRecordsPage| async move {
                    let body = $crate::bodies::GetSentRcdRequest {
                        start_time: &page.start_time,
                        end_time: &page.end_time,
                        start_index: Some(page.start_index),
                        ..Default::default()
                    };
                    Ok(self.get_sent_rcd(&body).await?)
                }))
            }
        }
        };
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A status table for the test: every code a success.
    #[derive(Debug, Clone, PartialEq)]
    struct AnyCode;

    impl std::fmt::Display for AnyCode {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("0")
        }
    }

    impl CodeTable for AnyCode {
        type Class = ErrorClass;
        fn from_code(_: &str) -> Self {
            Self
        }
        fn code(&self) -> &str {
            "0"
        }
        fn meaning(&self) -> &'static str {
            "success"
        }
        fn class(&self) -> ErrorClass {
            ErrorClass::Success
        }
        fn is_documented(&self) -> bool {
            true
        }
    }

    /// Counts near `u64::MAX` (a hostile answer) never overflow: the verdict is unknown.
    #[test]
    fn counts_that_overflow_are_unknown_not_a_panic() {
        let entries = [Entry {
            reference: "r0",
            number: "8613800138000",
            content: "hi",
            sender_id: None,
        }];
        let answer: SendSmsResponse = serde_json::from_str(
            r#"{"status":"0","reason":"ok","success":"1","fail":"18446744073709551615",
                "array":[{"msgId":"m","number":"8613800138000","orderId":"r0"}]}"#,
        )
        .unwrap();
        let texts = Texts::new(&entries);
        let submission = settle::<AnyCode>(&entries, texts, Ok(answer));
        let Submission::Answered { verdicts, unlisted } = submission else {
            panic!("{submission:?}")
        };
        assert_eq!(verdicts, [(0, EntryVerdict::Accepted("m".to_owned()))]);
        assert!(matches!(unlisted, EntryVerdict::Unknown(_)), "{unlisted:?}");
    }

    #[test]
    fn pushes_normalise() {
        let body = br#"{"msgid":"9","mobile":"86138","status":3,"reason":"UNDELIV"}"#;
        let status = push_status("brand", &parse_delivery_report(body).unwrap());
        assert_eq!(
            (status.state, status.detail.as_deref()),
            (DeliveryClass::Undelivered, Some("UNDELIV"))
        );
        assert_eq!(status.provider, "brand");
    }
}
