//! [`SmsGate`]: providers in priority order, planning, bounded concurrency, throttle back-off,
//! failover of refused messages, and a verdict for every message.
//!
//! - [`builder`]: the providers (slots) and the gate's limits and hooks;
//! - [`planning`]: reading the input and grouping it into requests (no I/O);
//! - [`rounds`]: one send, provider after provider: each round sends what is left;
//! - [`request`]: one request, with throttle retries, the deadline and the stop signal;
//! - [`reporting`]: settled deliveries handed over, the report, and status reconciliation.

mod builder;
#[cfg(feature = "ledger")]
mod ledger;
mod planning;
mod reporting;
mod request;
mod rounds;
mod routing;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tracing::Instrument;

pub use builder::{ProviderOptions, SmsGateBuilder};
#[cfg(feature = "ledger")]
pub use ledger::SendOnceError;
pub use planning::{DryRunRequest, PlannedRequest, Preview, PreviewMessage, RouteCursor};
pub use routing::{Routing, RoutingError, RoutingRule, Strategy};

use crate::message::Message;
use crate::number::NumberPolicy;
use crate::outcome::{Delivery, ProviderName, Reason, Reference, Report};
use crate::stop::StopSignal;
use reporting::SettledSink;
use request::Pacer;
use rounds::Sending;

/// A failover hop: messages one provider refused as a whole, moving to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Provider that refused them.
    pub from: ProviderName,
    /// Provider they move to (`None`: no provider left; they end rejected).
    pub to: Option<ProviderName>,
    /// How many messages move.
    pub messages: usize,
    /// The refusal.
    pub reason: Reason,
}

type OutcomeHook = Arc<dyn Fn(&Delivery) + Send + Sync>;
type HopHook = Arc<dyn Fn(&Hop) + Send + Sync>;

/// One registered provider. Its slot id is its index in [`SmsGate::slots`] (the order the
/// builder was given), which is also its priority where no routing says otherwise.
struct Slot {
    provider: crate::registry::SlotProvider,
    /// Carries the slot id; every outcome, hop and tried list of this provider shares it.
    name: ProviderName,
    semaphore: Semaphore,
    pacer: Option<Pacer>,
}

/// The providers' names, for `Debug`.
fn slot_names(slots: &[Slot]) -> Vec<&str> {
    slots.iter().map(|s| s.provider.name()).collect()
}

/// One API over every provider: a verdict for every message, failover that never double-sends.
pub struct SmsGate {
    slots: Vec<Slot>,
    /// Which slots each message may use, in which order.
    router: routing::Router,
    global: Semaphore,
    throttle_retries: u32,
    throttle_backoff: Duration,
    deadline: Option<Duration>,
    allow_duplicates: bool,
    numbers: NumberPolicy,
    on_outcome: Option<OutcomeHook>,
    on_hop: Option<HopHook>,
    reference_prefix: [u8; 13],
    next_reference: AtomicU64,
    #[cfg(feature = "ledger")]
    ledger: Option<ledger::GateLedger>,
}

impl fmt::Debug for SmsGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGate")
            .field("providers", &slot_names(&self.slots))
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl SmsGate {
    /// A builder with no provider.
    pub fn builder() -> SmsGateBuilder {
        SmsGateBuilder::new()
    }

    /// Provider names, in priority order.
    pub fn providers(&self) -> Vec<&str> {
        slot_names(&self.slots)
    }

    /// A fresh reference: the gate's prefix and the next value of its counter.
    fn reference(&self) -> Reference {
        Reference::new(
            &self.reference_prefix,
            self.next_reference.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// Sends `messages` and reports exactly one outcome per message, in input order.
    pub async fn send(&self, messages: &[Message]) -> Report {
        let span = tracing::info_span!(
            "smsgate.send",
            messages = messages.len(),
            providers = self.slots.len()
        );
        self.send_in_span(messages, None, None)
            .instrument(span)
            .await
    }

    /// [`send`](Self::send) that can be stopped and that hands over outcomes as they settle.
    ///
    /// `on_settled` gets each message's final [`Delivery`] once, as soon as it is final: a
    /// request's messages together when it settles (messages refused before sending first).
    /// Messages a failover moves on are handed over when the next provider settles them.
    /// After `stop` is stopped, no new request starts and the messages not yet sent end
    /// [`Outcome::NotSent`](crate::Outcome::NotSent); after it is abandoned, in-flight requests
    /// end [`Outcome::Unknown`](crate::Outcome::Unknown). The returned report holds the same
    /// deliveries, in input order.
    ///
    /// ```
    /// # async fn run(gate: smsgate::SmsGate, messages: Vec<smsgate::Message>) {
    /// let stop = smsgate::StopSignal::new();
    /// let report = gate
    ///     .send_streaming(&messages, &stop, |settled| {
    ///         for delivery in settled {
    ///             println!("{} {}", delivery.index, delivery.outcome);
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(report.deliveries.len(), messages.len());
    /// # }
    /// ```
    pub async fn send_streaming<F>(
        &self,
        messages: &[Message],
        stop: &StopSignal,
        mut on_settled: F,
    ) -> Report
    where
        F: FnMut(&[Delivery]) + Send,
    {
        let span = tracing::info_span!(
            "smsgate.send",
            messages = messages.len(),
            providers = self.slots.len()
        );
        self.send_in_span(messages, Some(stop), Some(&mut on_settled))
            .instrument(span)
            .await
    }

    /// One send, in four phases. Across all of them, every input message ends with exactly
    /// one outcome, handed to `sink` exactly once, as soon as it is final.
    async fn send_in_span(
        &self,
        messages: &[Message],
        stop: Option<&StopSignal>,
        sink: Option<&mut SettledSink<'_>>,
    ) -> Report {
        let started = Instant::now();
        // 1. Prepare: read every message (no I/O). Messages refused before sending are settled
        //    and handed over now; every other one has a reference and no outcome yet.
        let (pendings, progress) = self.prepare_to_send(messages);
        let mut sending = Sending::new(self, &pendings, progress, started, stop, sink);
        // 2. Stages: at stage k, each message still unsettled goes to the k-th provider of its
        //    route (its rule's list, in the order the strategy gives), every provider of the
        //    stage at once. A stage settles every message it sends, except those a provider
        //    refused as a whole before sending anything: only those, and those too big for
        //    it, move on to the next stage (failover never moves a message that may have been
        //    sent).
        let mut remaining = sending.unsettled();
        let mut leftovers = Vec::new();
        for stage in 0..=self.router.longest() {
            if remaining.is_empty() {
                break;
            }
            let (next, done) = sending.stage(stage, remaining).await;
            leftovers.extend(done);
            remaining = next;
        }
        leftovers.extend(remaining);
        leftovers.sort_unstable();
        // 3. Leftovers: what no stage settled (refused by the last provider of its route, too
        //    big for every one, or not sent because of a stop) is settled now.
        sending.settle_leftovers(&leftovers);
        // 4. Report: one delivery per input message, in input order.
        self.report(&pendings, sending.finish(), started)
    }
}
