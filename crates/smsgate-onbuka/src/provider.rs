//! The platform's [`Provider`] implementation (every brand), its delivery statuses and the
//! registry descriptor each brand crate exposes ([`vendor`]).

use std::sync::Arc;

use smsgate_provider::{
    BoxFuture, Capacity, ConfigKey, DeliveryStatus, Entry, EntryMatcher, EntryVerdict, Provider,
    Queries, QueryError, Reason, RejectKind, ReportError, Settings, SettingsError, Submission,
    Vendor, submission_from_error,
};
use smsgate_transport::spec::{CodeTable, DeliveryClass, ErrorClass};
use smsgate_transport::wire::WireRequest;

use crate::client::{Brand, Client, MessageStatus, TextMessage, parse_delivery_report};
use crate::models::DeliveryReportPush;

/// The settings every brand takes (`<PREFIX>_API_KEY`, ... in the environment).
pub const KEYS: &[ConfigKey] = &[
    ConfigKey::required("api_key", "the Api-Key header"),
    ConfigKey::secret("api_secret", "the api secret requests are signed with"),
    ConfigKey::required("app_id", "the application id sent as appId"),
    ConfigKey::BASE_URL,
];

/// The registry descriptor of brand `B`: `pub static VENDOR: Vendor = vendor::<Brand>();`.
pub const fn vendor<B: Brand>() -> Vendor {
    Vendor {
        name: B::VENDOR,
        env_prefix: B::ENV_PREFIX,
        keys: KEYS,
        build: build::<B>,
        parse_report: parse_report::<B>,
        queries: Queries {
            balance: true,
            delivery_status: true,
        },
    }
}

/// A brand's client from settings, as a provider.
fn build<B: Brand>(settings: &Settings) -> Result<Arc<dyn Provider>, SettingsError> {
    settings.check_required()?;
    let mut builder = Client::<B>::builder()
        .api_key(settings.require("api_key")?)
        .api_secret(settings.require("api_secret")?)
        .app_id(settings.require("app_id")?)
        .http_config(settings.http().clone());
    if let Some(url) = settings.base_url() {
        builder = builder.base_url(url);
    }
    let client = builder.build().map_err(|err| settings.client_error(err))?;
    Ok(Arc::new(client))
}

/// A push body of brand `B`, as delivery statuses (one per push).
fn parse_report<B: Brand>(body: &[u8]) -> Result<Vec<DeliveryStatus>, ReportError> {
    let push = parse_delivery_report(body).map_err(|err| ReportError {
        vendor: B::VENDOR,
        message: err.0,
    })?;
    Ok(vec![push_status(B::VENDOR, &push)])
}

/// A status-query entry of the platform, as `provider`'s delivery status.
pub fn delivery_status<S: CodeTable<Class = DeliveryClass>>(
    provider: &str,
    entry: &MessageStatus<S>,
) -> DeliveryStatus {
    DeliveryStatus {
        provider: provider.to_owned(),
        message_id: entry.message_id.clone(),
        number: Some(entry.number.clone()),
        state: entry.status.class(),
        vendor_status: entry.status.code().to_owned(),
        detail: Some(entry.status.meaning().to_owned()).filter(|_| entry.status.is_documented()),
        at: entry.receive_time.clone(),
    }
}

/// A delivery-report push of the platform, as `provider`'s delivery status: status 0 is
/// delivered, anything else undelivered with the push's reason.
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
    ) -> BoxFuture<'a, Result<Vec<DeliveryStatus>, QueryError>> {
        Box::pin(async move {
            let report = self.report(message_ids).await?;
            Ok(report
                .messages
                .iter()
                .map(|m| delivery_status(B::VENDOR, m))
                .collect())
        })
    }

    fn balance(&self) -> BoxFuture<'_, Result<smsgate_provider::Balance, QueryError>> {
        Box::pin(async move {
            let balance = Client::<B>::balance(self).await?;
            Ok(smsgate_provider::Balance {
                amount: balance.balance,
                currency: None,
                gift: balance.gift,
                credit: balance.credit,
            })
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

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission> {
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
