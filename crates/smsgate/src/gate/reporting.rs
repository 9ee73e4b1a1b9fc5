//! Reporting: settled deliveries handed over as they become final, the outcome of what no
//! round settled, the [`Report`], and delivery-status reconciliation.

use std::collections::HashMap;
use std::time::Instant;

use smsgate_transport::spec::DeliveryClass;

use super::SmsGate;
use super::planning::{Pending, TOO_BIG, local_reject};
use super::rounds::{Progress, Sending};
use crate::outcome::{Delivery, Outcome, ProviderName, RejectKind, Report};
use crate::status::DeliveryStatus;
use crate::stop::StopSignal;

/// What [`SmsGate::send_streaming`] hands settled deliveries to.
pub(super) type SettledSink<'a> = dyn FnMut(&[Delivery]) + Send + 'a;

/// Why a message of a stopped send was not sent.
pub(super) const NOT_SENT: &str = "the send was stopped before this message's request started";

/// The outcome of a message the gate somehow left without one (never expected: every path
/// settles every message); a rejection that is safe to retry, since nothing was sent for it.
fn unsettled() -> Outcome {
    local_reject(RejectKind::NoProvider, "not sent".to_owned())
}

impl Sending<'_, '_, '_> {
    /// Hands the deliveries of the settled messages among `indexes` to the sink, if there is
    /// one and any of them is settled (a message moving to the next provider is not settled
    /// yet). Callers pass each message once its outcome is final, and only then.
    pub(super) fn hand_over(&mut self, indexes: impl Iterator<Item = usize>) {
        let Some(sink) = self.sink.as_deref_mut() else {
            return;
        };
        let (pendings, progress) = (self.pendings, &self.progress);
        let settled: Vec<Delivery> = indexes
            .filter_map(|index| {
                let (p, state) = (&pendings[index], &progress[index]);
                let outcome = state.outcome.clone()?;
                Some(p.delivery(index, state.tried.clone(), outcome))
            })
            .collect();
        if !settled.is_empty() {
            sink(&settled);
        }
    }

    /// Settles and hands over `remaining`, which no round settled: the last retry-safe
    /// refusal if one moved it on, else too big for every provider, else not sent (stopped),
    /// else no provider.
    pub(super) fn settle_leftovers(&mut self, remaining: &[usize]) {
        let stop = self.limits.stop;
        for &i in remaining {
            self.progress[i].outcome = Some(match self.last_refusal.remove(&i) {
                Some((provider, reason)) => Outcome::Rejected {
                    provider: Some(provider),
                    reason,
                    retry_safe: true,
                },
                None if self.progress[i].too_big => {
                    local_reject(RejectKind::InvalidContent, TOO_BIG.to_owned())
                }
                None if stop.is_some_and(StopSignal::is_stopped) => Outcome::NotSent {
                    reason: NOT_SENT.to_owned(),
                },
                None => local_reject(
                    RejectKind::NoProvider,
                    "no provider could take the message".to_owned(),
                ),
            });
        }
        self.hand_over(remaining.iter().copied());
    }

    /// The progress of every message, in input order.
    pub(super) fn finish(self) -> Vec<Progress> {
        self.progress
    }
}

impl SmsGate {
    /// The report of a send that started at `started`: one delivery per input message, in
    /// input order; logged, and given to the outcome hook.
    pub(super) fn report(
        &self,
        pendings: &[Pending<'_>],
        progress: Vec<Progress>,
        started: Instant,
    ) -> Report {
        let deliveries: Vec<Delivery> = pendings
            .iter()
            .zip(progress)
            .enumerate()
            .map(|(index, (p, state))| {
                let outcome = state.outcome.unwrap_or_else(unsettled);
                p.delivery(index, state.tried, outcome)
            })
            .collect();
        let report = Report { deliveries };
        if tracing::enabled!(tracing::Level::DEBUG) {
            trace_outcomes(&report);
        }
        tracing::info!(
            accepted = report.accepted(),
            rejected = report.rejected(),
            unknown = report.unknown(),
            not_sent = report.not_sent(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "sent"
        );
        if let Some(hook) = &self.on_outcome {
            report.deliveries.iter().for_each(|d| hook(d));
        }
        report
    }

    /// Polls delivery status for the accepted messages of `report`, where the provider allows
    /// polling (itniotech, laaffic, Twilio); one entry per delivery, in order. `None`: not
    /// accepted, or its provider only pushes delivery reports (nxcloud, Vonage) — turn those
    /// pushes into [`DeliveryStatus`]es with the vendor's `parse_report`
    /// ([`registry`](crate::registry())). Unknown outcomes carry no provider message id and
    /// cannot be polled.
    pub async fn reconcile(&self, report: &Report) -> Vec<Option<DeliveryStatus>> {
        // Each accepted message is polled on its own slot only, in batches the provider allows.
        let mut found: HashMap<(usize, String), DeliveryStatus> = HashMap::new();
        for (id, slot) in self.slots.iter().enumerate() {
            let Some(batch) = slot.provider.status_batch() else {
                continue;
            };
            let ids: Vec<String> = report
                .deliveries
                .iter()
                .filter_map(|d| match &d.outcome {
                    Outcome::Accepted {
                        provider,
                        message_id,
                    } if self.slot_of(provider) == Some(id) => Some(message_id.clone()),
                    _ => None,
                })
                .collect();
            for chunk in ids.chunks(batch.max(1)) {
                match slot.provider.poll_status(chunk).await {
                    Ok(statuses) => {
                        for status in statuses {
                            found.insert((id, status.message_id.clone()), status);
                        }
                    }
                    Err(err) => {
                        let error = err.to_string();
                        let error = smsgate_transport::secret::mask_numbers_in(&error);
                        tracing::warn!(provider = slot.provider.name(), %error, "delivery status poll failed")
                    }
                }
            }
        }
        report
            .deliveries
            .iter()
            .map(|d| {
                let Outcome::Accepted {
                    provider,
                    message_id,
                } = &d.outcome
                else {
                    return None;
                };
                let id = self.slot_of(provider)?;
                self.slots[id].provider.status_batch()?;
                found.remove(&(id, message_id.clone())).or_else(|| {
                    Some(DeliveryStatus {
                        provider: provider.to_string(),
                        message_id: message_id.clone(),
                        number: d.number.as_deref().map(str::to_owned),
                        state: DeliveryClass::Unknown,
                        vendor_status: String::new(),
                        detail: Some("the provider did not report this message".to_owned()),
                        at: None,
                    })
                })
            })
            .collect()
    }

    /// The slot `provider` names in this gate: its own slot id when the slot there holds that
    /// name (a report of this gate), else the first slot of that name (a report of a gate
    /// built with other providers or in another order).
    fn slot_of(&self, provider: &ProviderName) -> Option<usize> {
        match self.slots.get(provider.slot()) {
            Some(slot) if slot.name == *provider => Some(provider.slot()),
            _ => self.slots.iter().position(|s| s.name == *provider),
        }
    }
}

/// One debug event per delivery: masked number, verdict, provider and attempts.
fn trace_outcomes(report: &Report) {
    for d in &report.deliveries {
        let number = smsgate_transport::secret::mask_number(d.number.as_deref().unwrap_or(&d.to));
        let (verdict, provider) = match &d.outcome {
            Outcome::Accepted { provider, .. } => ("accepted", Some(provider.as_str())),
            Outcome::Rejected { provider, .. } => {
                ("rejected", provider.as_ref().map(ProviderName::as_str))
            }
            Outcome::Unknown { provider, .. } => ("unknown", Some(provider.as_str())),
            Outcome::NotSent { .. } => ("not sent", None),
        };
        tracing::debug!(index = d.index, number = %number, verdict, provider, hops = d.tried.len(), "outcome");
    }
}
