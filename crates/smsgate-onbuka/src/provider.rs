//! The platform's verdicts: how a brand's answers become per-message outcomes, its delivery
//! statuses, and the registry descriptor each brand crate exposes ([`vendor`]).

use std::sync::Arc;

use smsgate_provider::{
    Balance, Capacity, DeliveryStatus, Entry, EntryMatcher, EntryVerdict, Provider, Queries,
    QueryError, Reason, RejectKind, ReportError, Settings, SettingsError, Submission, Vendor,
    submission_from_error,
};
use smsgate_transport::endpoint::Joined;
use smsgate_transport::spec::{CodeTable, DeliveryClass, ErrorClass};
use smsgate_transport::wire::WireRequest;

use crate::Brand;
use crate::bodies::{
    BatchMessage, GetBalanceRequest, GetReportRequest, SendBatchRequest, SendSmsRequest,
};
use crate::models::{DeliveryReportPush, ReportEntry, SendSmsResponse};

/// The registry descriptor of brand `B` (written by [`brand!`](crate::brand)).
pub const fn vendor<B: Brand>() -> Vendor
where
    B::Client: Provider,
{
    Vendor {
        name: B::VENDOR,
        env_prefix: <B::Credentials as smsgate_transport::client::Credentials>::ENV_PREFIX,
        keys: <B::Credentials as smsgate_transport::client::Credentials>::SETTINGS,
        build: build::<B>,
        parse_report: parse_report::<B>,
        queries: Queries {
            balance: true,
            delivery_status: true,
        },
    }
}

fn build<B: Brand>(settings: &Settings) -> Result<Arc<dyn Provider>, SettingsError>
where
    B::Client: Provider,
{
    Ok(Arc::new(smsgate_provider::client::<B::Credentials>(
        settings,
    )?))
}

/// A delivery-report push body (JSON) as its generated type. Pure: no I/O.
pub fn parse_delivery_report(body: &[u8]) -> Result<DeliveryReportPush, serde_json::Error> {
    serde_json::from_slice(body)
}

fn parse_report<B: Brand>(body: &[u8]) -> Result<Vec<DeliveryStatus>, ReportError> {
    let push = parse_delivery_report(body).map_err(|err| ReportError {
        vendor: B::VENDOR,
        message: err.to_string(),
    })?;
    Ok(vec![push_status(B::VENDOR, &push)])
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
struct Texts<'e> {
    groups: Vec<(&'e Entry<'e>, Vec<&'e str>, Vec<&'e str>)>,
    /// `None`: the entries are sent in their own order (one group).
    sent: Option<Vec<usize>>,
}

impl<'e> Texts<'e> {
    fn new(entries: &'e [Entry<'e>]) -> Self {
        let mut groups: Vec<(&Entry<'_>, Vec<usize>)> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let same = |(first, _): &&mut (&Entry<'_>, Vec<usize>)| {
                first.content == entry.content && first.sender_id == entry.sender_id
            };
            // Most requests are one text: the last group is the likely one.
            match groups.iter_mut().rev().find(same) {
                Some((_, members)) => members.push(i),
                None => groups.push((entry, vec![i])),
            }
        }
        let sent = (groups.len() > 1)
            .then(|| groups.iter().flat_map(|(_, m)| m.iter().copied()).collect());
        let groups = groups
            .into_iter()
            .map(|(first, members)| {
                let numbers = members.iter().map(|&i| entries[i].number).collect();
                let references = members.iter().map(|&i| entries[i].reference).collect();
                (first, numbers, references)
            })
            .collect();
        Self { groups, sent }
    }

    fn messages(&self) -> Vec<BatchMessage<'_>> {
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

fn single<'a>(message: &BatchMessage<'a>) -> SendSmsRequest<'a> {
    SendSmsRequest {
        numbers: message.numbers,
        content: message.content,
        sender_id: message.sender_id,
        order_id: message.order_id,
        ..SendSmsRequest::default()
    }
}

/// What one request of brand `B` carries.
pub fn capacity<B: Brand>() -> Capacity {
    Capacity {
        uniform_recipients: B::SEND_SMS.limits.max_numbers.unwrap_or(1000),
        mixed_recipients: B::SEND_BATCH.limits.max_numbers.unwrap_or(1000),
        max_content_chars: B::SEND_SMS.limits.max_content_chars.unwrap_or(1024),
        max_sender_id_chars: B::SEND_SMS.limits.max_sender_id_chars,
    }
}

/// The request [`submit`] would send.
pub fn dry_run<B: Brand>(
    client: &B::Client,
    entries: &[Entry<'_>],
    uniform: bool,
) -> Result<WireRequest, String> {
    let texts = Texts::new(entries);
    let messages = texts.messages();
    match (uniform, messages.as_slice()) {
        (true, [message]) => B::prepare_send_sms(client, &single(message)),
        _ => B::prepare_send_batch(
            client,
            &SendBatchRequest {
                array: &messages,
                ..Default::default()
            },
        ),
    }
    .map_err(|err| err.to_string())
}

/// Sends `entries` in one request (`sendSms` for one text, else `sendSms/batch`) and reads a
/// verdict per entry from the answer.
pub async fn submit<B: Brand>(
    client: &B::Client,
    entries: &[Entry<'_>],
    uniform: bool,
) -> Submission {
    let texts = Texts::new(entries);
    let messages = texts.messages();
    let answer = match (uniform, messages.as_slice()) {
        (true, [message]) => B::send_sms(client, &single(message)).await,
        _ => {
            B::send_batch(
                client,
                &SendBatchRequest {
                    array: &messages,
                    ..Default::default()
                },
            )
            .await
        }
    };
    match answer {
        Ok(answer) => verdicts(entries, texts.sent, answer),
        Err(err) => submission_from_error(err),
    }
}

/// The platform lists accepted numbers only, with counts as decimal strings: an unlisted
/// number was refused when the counts agree with the list, otherwise nobody knows.
fn verdicts(
    entries: &[Entry<'_>],
    sent: Option<Vec<usize>>,
    answer: SendSmsResponse,
) -> Submission {
    let (listed, total) = (answer.array.len(), entries.len());
    let count = |value: Option<&str>, default: usize| match value.map(str::trim) {
        None => Some(default),
        Some("") => Some(0),
        Some(text) => text.parse::<usize>().ok(),
    };
    let (Some(accepted), Some(failed)) = (
        count(answer.success.as_deref(), listed),
        count(answer.fail.as_deref(), 0),
    ) else {
        return Submission::Unknown(format!(
            "undecodable answer: success {:?} and fail {:?} are not counts",
            answer.success, answer.fail
        ));
    };
    let mut matcher = match sent {
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
    let matched = verdicts.len();
    let unlisted = if accepted == matched && accepted + failed == total {
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

/// Delivery status of `ids` (at most the brand's `getReport` limit).
pub async fn poll<B: Brand>(
    client: &B::Client,
    ids: &[String],
) -> Result<Vec<DeliveryStatus>, QueryError> {
    let body = GetReportRequest {
        msg_ids: Joined::commas(&ids),
        ..Default::default()
    };
    let report = B::get_report(client, &body).await?;
    Ok(report
        .array
        .iter()
        .map(|entry| delivery_status::<B::ReportStatus>(B::VENDOR, entry))
        .collect())
}

/// The account balance.
pub async fn balance<B: Brand>(client: &B::Client) -> Result<Balance, QueryError> {
    let answer = B::get_balance(client, &GetBalanceRequest::default()).await?;
    let amount = answer.balance.ok_or_else(|| {
        QueryError::Failed(format!("{} answered success without a balance", B::VENDOR))
    })?;
    Ok(Balance {
        amount,
        currency: None,
        gift: answer.gift,
        credit: answer.credit,
    })
}

/// Implements [`Provider`] for a brand crate's generated client (used by [`brand!`](crate::brand)).
#[doc(hidden)]
#[macro_export]
macro_rules! platform_provider {
    ($brand:ident) => {
        impl $crate::__private::Provider for crate::generated::client::Client {
            fn name(&self) -> &str {
                <$brand as $crate::Brand>::VENDOR
            }
            fn capacity(&self) -> $crate::__private::Capacity {
                $crate::capacity::<$brand>()
            }
            fn submit<'a>(
                &'a self,
                entries: &'a [$crate::__private::Entry<'a>],
                uniform: bool,
            ) -> $crate::__private::BoxFuture<'a, $crate::__private::Submission> {
                Box::pin($crate::submit::<$brand>(self, entries, uniform))
            }
            fn dry_run(
                &self,
                entries: &[$crate::__private::Entry<'_>],
                uniform: bool,
            ) -> Result<$crate::__private::WireRequest, String> {
                $crate::dry_run::<$brand>(self, entries, uniform)
            }
            fn status_batch(&self) -> Option<usize> {
                Some(
                    <$brand as $crate::Brand>::GET_REPORT
                        .limits
                        .max_ids
                        .unwrap_or(200),
                )
            }
            fn poll_status<'a>(
                &'a self,
                ids: &'a [String],
            ) -> $crate::__private::BoxFuture<
                'a,
                Result<Vec<$crate::__private::DeliveryStatus>, $crate::__private::QueryError>,
            > {
                Box::pin($crate::poll::<$brand>(self, ids))
            }
            fn balance(
                &self,
            ) -> $crate::__private::BoxFuture<
                '_,
                Result<$crate::__private::Balance, $crate::__private::QueryError>,
            > {
                Box::pin($crate::balance::<$brand>(self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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
