//! [`SmsGate::send_once`]: every message named by its idempotency key in a ledger shared by
//! every replica of a service, so that a restart or a second replica never sends it twice.
//!
//! A message's key names its row in the gate's ledger job. A key seen before gets its recorded
//! outcome back, without a request; a key another replica is sending waits for that replica
//! (or for its lease to lapse: a replica that died leaves its unsent rows to the others and
//! its rows in flight `unknown`, never resent); a new key is recorded in flight, committed,
//! and only then sent.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use smsgate_ledger::{Ledger, LedgerError, NewMessage, Settled, Settlement, State};

use super::SmsGate;
use crate::message::{Message, segments};
use crate::outcome::{Delivery, Outcome, ProviderName, Reason, RejectKind, Report, Tried};

/// The ledger a gate records messages in ([`SmsGateBuilder::ledger`](super::SmsGateBuilder::ledger)).
#[derive(Clone)]
pub(crate) struct GateLedger {
    pub(crate) ledger: Arc<dyn Ledger>,
    pub(crate) job: String,
    pub(crate) worker: String,
    pub(crate) lease: Duration,
}

/// Why [`SmsGate::send_once`] sent nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendOnceError {
    /// The gate was built without [`SmsGateBuilder::ledger`](super::SmsGateBuilder::ledger).
    #[error("the gate has no ledger: build it with SmsGateBuilder::ledger")]
    NoLedger,
    /// A message has no [`Message::idempotency_key`].
    #[error("message {index} has no idempotency key")]
    MissingKey {
        /// Its input position.
        index: usize,
    },
    /// Two messages of one call share a key.
    #[error("messages {first} and {second} share the idempotency key {key:?}")]
    DuplicateKey {
        /// The key.
        key: String,
        /// The first message with it.
        first: usize,
        /// The second.
        second: usize,
    },
    /// The ledger failed, or holds another message under one of the keys (a key names one
    /// message for good: another number, text or sender under it is refused).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// A task aborted when this is dropped (also when the future holding it is).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The ledger position of a key: 63 bits of its MD5 (two keys meeting there are told apart by
/// the key itself, stored as the row's reference, and refused).
fn position_of(key: &str) -> u64 {
    let hex = smsgate_transport::sign::md5_hex(&[key.as_bytes()]);
    u64::from_str_radix(&hex[..16], 16).unwrap_or_default() & (i64::MAX as u64)
}

impl SmsGate {
    /// Sends `messages` at most once across restarts and replicas: each message's
    /// [`idempotency key`](Message::idempotency_key) names it in the gate's ledger. One
    /// [`Delivery`] per message, in input order: a key sent before returns its recorded
    /// outcome (no request); a key another replica is sending waits for its outcome; the
    /// rest are recorded in flight (committed) before their requests leave, and their
    /// outcomes recorded before this returns.
    ///
    /// Errors (nothing sent): no ledger, a message without a key, two messages with one key,
    /// a key that names another message, a ledger failure before sending. A ledger failure
    /// after sending is logged: the outcomes are returned, and their rows read as in flight
    /// (then `unknown`, never resent) until their lease lapses.
    pub async fn send_once(&self, messages: &[Message]) -> Result<Report, SendOnceError> {
        let ledger = self.ledger.as_ref().ok_or(SendOnceError::NoLedger)?;
        let mut positions = Vec::with_capacity(messages.len());
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            let key = message
                .idempotency_key
                .as_deref()
                .ok_or(SendOnceError::MissingKey { index })?;
            if let Some(first) = seen.insert(key, index) {
                return Err(SendOnceError::DuplicateKey {
                    key: key.to_owned(),
                    first,
                    second: index,
                });
            }
            positions.push(position_of(key));
        }
        let rows = messages
            .iter()
            .zip(&positions)
            .map(|(message, &position)| NewMessage {
                position,
                client_ref: message
                    .idempotency_key
                    .as_deref()
                    .unwrap_or_default()
                    .to_owned(),
                number: message.to.to_string(),
                text: message.content.to_string(),
                sender_id: message.sender_id.as_deref().map(str::to_owned),
            })
            .collect();
        let (store, job, worker) = (&ledger.ledger, ledger.job.as_str(), ledger.worker.as_str());
        let lease_ms = u64::try_from(ledger.lease.as_millis()).unwrap_or(u64::MAX);
        store.load(job, rows).await?;
        let index_of: HashMap<u64, usize> = positions
            .iter()
            .enumerate()
            .map(|(index, &position)| (position, index))
            .collect();
        let mut deliveries: Vec<Option<Delivery>> = vec![None; messages.len()];
        let mut open: HashSet<u64> = positions.iter().copied().collect();
        loop {
            // What is recorded already comes back as it is.
            for row in store
                .messages_at(job, open.iter().copied().collect())
                .await?
            {
                if let Some(outcome) = self.recorded(&row) {
                    let index = index_of[&row.position];
                    deliveries[index] =
                        Some(self.delivery_of(index, &messages[index], &row, outcome));
                    open.remove(&row.position);
                }
            }
            if open.is_empty() {
                break;
            }
            let claimed = store
                .claim_positions(job, worker, open.iter().copied().collect(), lease_ms)
                .await?;
            if claimed.is_empty() {
                // Another replica holds them: wait for its outcomes, or for its lease to lapse.
                tokio::time::sleep(
                    (ledger.lease / 20).clamp(Duration::from_millis(20), Duration::from_secs(1)),
                )
                .await;
                store.recover(job, false).await?;
                continue;
            }
            let mine: Vec<u64> = claimed.iter().map(|m| m.position).collect();
            let providers = self
                .slots
                .iter()
                .map(|s| s.name.as_str().to_owned())
                .collect();
            store
                .start_through(job, worker, mine.clone(), providers)
                .await?;
            let batch: Vec<Message> = mine.iter().map(|p| messages[index_of[p]].clone()).collect();
            // Renewed while the requests are out; a caller that drops this future stops the
            // heartbeat too (its rows then lapse, and end `unknown`, never resent).
            let heartbeat = AbortOnDrop({
                let (store, job, worker) = (Arc::clone(store), job.to_owned(), worker.to_owned());
                let every = (ledger.lease / 3).max(Duration::from_millis(10));
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        let _ = store.renew(&job, &worker, lease_ms).await;
                    }
                })
            });
            let report = self.send(&batch).await;
            drop(heartbeat);
            let settlements = report
                .deliveries
                .iter()
                .map(|d| d.settlement(mine[d.index]))
                .collect();
            if let Err(err) = store.settle(job, settlements).await {
                tracing::error!(error = %err, job, "the ledger could not record outcomes");
            }
            for mut delivery in report.deliveries {
                let position = mine[delivery.index];
                let index = index_of[&position];
                delivery.index = index;
                deliveries[index] = Some(delivery);
                open.remove(&position);
            }
            if open.is_empty() {
                break;
            }
        }
        Ok(Report {
            deliveries: deliveries.into_iter().flatten().collect(),
        })
    }

    /// The outcome a ledger row records, if it has one (`None`: pending, or held elsewhere).
    fn recorded(&self, row: &smsgate_ledger::Message) -> Option<Outcome> {
        let provider = || {
            let name = row.provider.as_deref().unwrap_or("unknown");
            let slot = self
                .slots
                .iter()
                .position(|s| s.name.as_str() == name)
                .unwrap_or(self.slots.len());
            ProviderName::new(slot, name)
        };
        let reason = row.reason.clone().unwrap_or_default();
        Some(match row.state {
            State::Pending | State::Claimed | State::InFlight | State::NotSent => return None,
            State::Accepted | State::Delivered | State::Undelivered | State::Expired => {
                Outcome::Accepted {
                    provider: provider(),
                    message_id: row.provider_message_id.clone().unwrap_or_default(),
                }
            }
            State::Rejected => Outcome::Rejected {
                provider: row.provider.as_ref().map(|_| provider()),
                // The ledger keeps the reason's text, not its class.
                reason: Reason {
                    code: None,
                    text: reason,
                    kind: RejectKind::Vendor(crate::ErrorClass::Unspecified),
                },
                retry_safe: row.retry_safe.unwrap_or(false),
            },
            State::Unknown => Outcome::Unknown {
                provider: provider(),
                cause: reason,
            },
        })
    }

    fn delivery_of(
        &self,
        index: usize,
        message: &Message,
        row: &smsgate_ledger::Message,
        outcome: Outcome,
    ) -> Delivery {
        let tried: Tried = row
            .tried
            .iter()
            .map(|name| {
                let slot = self
                    .slots
                    .iter()
                    .position(|s| s.name.as_str() == name.as_str())
                    .unwrap_or(self.slots.len());
                ProviderName::new(slot, name)
            })
            .collect();
        Delivery {
            index,
            to: Arc::clone(&message.to),
            number: self.numbers.normalize(&message.to).ok(),
            client_ref: message.client_ref.clone(),
            reference: None,
            segments: segments(&message.content),
            tried,
            outcome,
        }
    }
}

impl Delivery {
    /// This delivery as the ledger records it, for the row at `position`.
    pub fn settlement(&self, position: u64) -> Settlement {
        let tried = self.tried.iter().map(|p| p.as_str().to_owned()).collect();
        let (outcome, provider, message_id, reason) = match &self.outcome {
            Outcome::Accepted {
                provider,
                message_id,
            } => (
                Settled::Accepted,
                Some(provider.as_str().to_owned()),
                Some(message_id.clone()),
                None,
            ),
            Outcome::Rejected {
                provider,
                reason,
                retry_safe,
            } => (
                Settled::Rejected {
                    retry_safe: *retry_safe,
                },
                provider.as_ref().map(|p| p.as_str().to_owned()),
                None,
                Some(reason.to_string()),
            ),
            Outcome::Unknown { provider, cause } => (
                Settled::Unknown,
                Some(provider.as_str().to_owned()),
                None,
                Some(cause.clone()),
            ),
            Outcome::NotSent { reason } => (Settled::NotSent, None, None, Some(reason.clone())),
        };
        Settlement {
            position,
            outcome,
            provider,
            provider_message_id: message_id,
            tried,
            reason,
        }
    }
}
