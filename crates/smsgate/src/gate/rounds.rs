//! One send, stage after stage. Stage k gives each message still unsettled to the k-th
//! provider of its route (every provider of the stage at once), settles what they answer, and
//! passes on only what a provider refused as a whole before sending (and what is too big for
//! it).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::planning::{Pending, PlannedRequest};
use super::reporting::{NOT_SENT, SettledSink};
use super::request::{RequestLimits, RequestResult, run_request};
use super::routing::Route;
use super::{Hop, Slot, SmsGate};
use crate::message::Message;
use crate::outcome::{Outcome, ProviderName, Reason, Reference, RejectKind, Tried};
use crate::provider::{Capacity, Entry, EntryVerdict};
use crate::stop::StopSignal;

/// Where one message stands while the gate sends it.
#[derive(Default)]
pub(super) struct Progress {
    /// Final once set, except that a failed-over message gets its outcome only from a later
    /// round (or from the leftovers).
    pub(super) outcome: Option<Outcome>,
    pub(super) tried: Tried,
    /// The providers it may use, in order.
    pub(super) route: Route,
    /// Longer than the current provider allows.
    pub(super) too_big: bool,
    /// Refused retry-safe, as a whole, by the current provider: moves to the next one.
    pub(super) moving: bool,
}

/// The state of one send across its rounds.
pub(super) struct Sending<'a, 'm, 's> {
    pub(super) gate: &'a SmsGate,
    pub(super) pendings: &'a [Pending<'m>],
    /// One per input message, same index as `pendings`.
    pub(super) progress: Vec<Progress>,
    /// The last retry-safe refusal of each message that moved on: its outcome if no later
    /// provider settles it.
    pub(super) last_refusal: HashMap<usize, (ProviderName, Reason)>,
    pub(super) limits: RequestLimits<'a>,
    /// Gets each message's delivery once, when its outcome is final.
    pub(super) sink: Option<&'a mut SettledSink<'s>>,
}

/// One provider's part of a stage: the messages it refused retry-safe (they move on), and the
/// last such refusal.
struct Round {
    name: ProviderName,
    refused: Vec<usize>,
    refusal: Option<Reason>,
}

/// What a request's future yields: its attempts and result, or the provider's panic.
type Settled = Result<(usize, RequestResult), Box<dyn Any + Send>>;

impl SmsGate {
    /// [`prepare`](Self::prepare), then a reference and a route for each message to be sent;
    /// the local refusals move into the progress as final outcomes.
    pub(super) fn prepare_to_send<'m>(
        &self,
        messages: &'m [Message],
    ) -> (Vec<Pending<'m>>, Vec<Progress>) {
        let mut pendings = self.prepare(messages);
        let mut progress: Vec<Progress> = Vec::with_capacity(pendings.len());
        for pending in &mut pendings {
            let rejected = pending.rejected.take();
            let mut route = Route::default();
            if rejected.is_none() {
                pending.reference = Some(self.reference());
                route = self
                    .router
                    .route(pending.number.as_deref().unwrap_or_default(), None);
            }
            progress.push(Progress {
                outcome: rejected,
                route,
                ..Progress::default()
            });
        }
        (pendings, progress)
    }

    /// Reports the hop of `messages` refused by the provider at `position` to the one at `to`.
    fn fail_over(&self, position: usize, to: Option<usize>, messages: usize, reason: Reason) {
        let hop = Hop {
            from: self.slots[position].name.clone(),
            to: to.map(|to| self.slots[to].name.clone()),
            messages,
            reason,
        };
        // A vendor's reason may name the number (Twilio's do): masked, as every number in logs.
        let reason = hop.reason.to_string();
        let reason = smsgate_transport::secret::mask_numbers_in(&reason);
        tracing::warn!(from = %hop.from, to = ?hop.to, messages = hop.messages, %reason, "failover");
        if let Some(hook) = &self.on_hop {
            hook(&hop);
        }
    }
}

impl<'a, 'm, 's> Sending<'a, 'm, 's> {
    /// A send of `pendings` that started at `started`; hands over the messages already settled
    /// (refused before sending).
    pub(super) fn new(
        gate: &'a SmsGate,
        pendings: &'a [Pending<'m>],
        progress: Vec<Progress>,
        started: Instant,
        stop: Option<&'a StopSignal>,
        sink: Option<&'a mut SettledSink<'s>>,
    ) -> Self {
        let limits = RequestLimits {
            global: &gate.global,
            retries: gate.throttle_retries,
            backoff: gate.throttle_backoff,
            deadline: gate.deadline.map(|d| started + d),
            stop,
        };
        let mut sending = Self {
            gate,
            pendings,
            progress,
            last_refusal: HashMap::new(),
            limits,
            sink,
        };
        sending.hand_over(0..pendings.len());
        sending
    }

    /// The messages without an outcome yet, in input order.
    pub(super) fn unsettled(&self) -> Vec<usize> {
        (0..self.progress.len())
            .filter(|&i| self.progress[i].outcome.is_none())
            .collect()
    }

    /// Stage `stage` over `remaining` (unsettled, in input order): each message goes to the
    /// `stage`-th provider of its route, every provider at once. Returns the messages that move
    /// on to the next stage (refused as a whole before sending, or too big for their provider)
    /// and those whose route has no provider left; both in input order. Every other message of
    /// `remaining` is settled.
    pub(super) async fn stage(
        &mut self,
        stage: usize,
        remaining: Vec<usize>,
    ) -> (Vec<usize>, Vec<usize>) {
        let gate = self.gate;
        let mut by_slot: Vec<Vec<usize>> = vec![Vec::new(); gate.slots.len()];
        let mut exhausted = Vec::new();
        for i in remaining {
            let state = &mut self.progress[i];
            match gate.router.slot_at(state.route, stage) {
                Some(position) => {
                    state.too_big = false;
                    state.moving = false;
                    by_slot[position].push(i);
                }
                None => exhausted.push(i),
            }
        }
        let mut moving_on = Vec::new();
        let mut plans: Vec<StagePlan> = Vec::new();
        for (position, messages) in by_slot.into_iter().enumerate() {
            if messages.is_empty() {
                continue;
            }
            let slot = &gate.slots[position];
            let capacity = slot.provider.capacity();
            let (fit, too_big) = fitting(&capacity, self.pendings, messages);
            for &i in &too_big {
                self.progress[i].too_big = true;
            }
            moving_on.extend(too_big);
            let fit_count = fit.len();
            let requests = SmsGate::plan(&capacity, self.pendings, fit);
            tracing::info!(provider = %slot.name, messages = fit_count, requests = requests.len(), "plan");
            plans.push(StagePlan { position, requests });
        }
        let rounds = self.send_requests(&plans).await;
        for (plan, round) in plans.iter().zip(rounds) {
            self.settle_panicked(&gate.slots[plan.position].name, &plan.requests);
            if let Some(reason) = round.refusal {
                self.report_hops(stage, plan.position, &round.refused, &reason);
            }
            moving_on.extend(round.refused);
        }
        moving_on.sort_unstable();
        (moving_on, exhausted)
    }

    /// Reports the hops of `refused` (refused by the provider at `position` at `stage`): one
    /// per provider they move to.
    fn report_hops(&self, stage: usize, position: usize, refused: &[usize], reason: &Reason) {
        let mut by_next: BTreeMap<Option<usize>, usize> = BTreeMap::new();
        for &i in refused {
            let next = self.gate.router.slot_at(self.progress[i].route, stage + 1);
            *by_next.entry(next).or_default() += 1;
        }
        for (to, messages) in by_next {
            self.gate.fail_over(position, to, messages, reason.clone());
        }
    }

    /// Sends every request of `plans` (each to its provider), all at once within the limits,
    /// settling and handing over each request's messages as it finishes. One [`Round`] per
    /// plan, in order.
    async fn send_requests(&mut self, plans: &[StagePlan]) -> Vec<Round> {
        let gate = self.gate;
        let pendings = self.pendings;
        let requests: Vec<(usize, &PlannedRequest)> = plans
            .iter()
            .enumerate()
            .flat_map(|(k, plan)| plan.requests.iter().map(move |r| (k, r)))
            .collect();
        let messages: usize = requests.iter().map(|r| r.1.messages.len()).sum();
        // Every request's entries in one buffer, borrowed from `pendings` (for many, the
        // references from one string of them all): handing them over copies nothing.
        let references = if messages > 16 {
            reference_buffer(
                sent_order(requests.iter().map(|r| r.1)).map(|i| pendings[i].reference),
            )
        } else {
            String::new()
        };
        let entries = entries(pendings, requests.iter().map(|r| r.1), &references);
        let limits = self.limits;
        let attempt = move |slot: &'a Slot, entries, uniform| {
            // A provider that panics fails its own request, not the whole call.
            AssertUnwindSafe(run_request(slot, entries, uniform, limits)).catch_unwind()
        };
        let mut rounds: Vec<Round> = plans
            .iter()
            .map(|plan| Round {
                name: gate.slots[plan.position].name.clone(),
                refused: Vec::new(),
                refusal: None,
            })
            .collect();
        match requests.as_slice() {
            // One request (most calls): awaited as it is.
            &[(k, request)] => {
                let slot = &gate.slots[plans[k].position];
                let result = attempt(slot, &entries, request.uniform).await;
                self.settle(&mut rounds[k], &request.messages, result);
            }
            // Several: concurrently inside this call, bounded by the semaphores.
            _ => {
                let mut rest_of_entries = entries.as_slice();
                let mut in_flight: FuturesUnordered<_> = requests
                    .iter()
                    .map(|&(k, request)| {
                        let (these, others) = rest_of_entries.split_at(request.messages.len());
                        rest_of_entries = others;
                        let slot = &gate.slots[plans[k].position];
                        let indexes = request.messages.as_slice();
                        attempt(slot, these, request.uniform)
                            .map(move |result| (k, indexes, result))
                    })
                    .collect();
                while let Some((k, indexes, result)) = in_flight.next().await {
                    self.settle(&mut rounds[k], indexes, result);
                }
            }
        }
        rounds
    }

    /// Settles the messages at `indexes` (in the request's order) with what their request got,
    /// and hands over those now final. A provider's panic leaves them unsettled (see
    /// [`settle_panicked`](Self::settle_panicked)); a retry-safe refusal leaves them moving.
    fn settle(&mut self, round: &mut Round, indexes: &[usize], result: Settled) {
        let name = &round.name;
        let Ok((attempts, result)) = result else {
            tracing::error!(provider = %name, "a provider panicked while sending a request");
            return;
        };
        for &i in indexes {
            self.progress[i].tried.push(name, attempts);
        }
        match result {
            RequestResult::Answered { verdicts, unlisted } => {
                self.settle_answered(name, indexes, verdicts, unlisted);
            }
            RequestResult::Refused {
                reason,
                retry_safe: true,
            } => {
                for &i in indexes {
                    self.last_refusal.insert(i, (name.clone(), reason.clone()));
                    self.progress[i].moving = true;
                }
                round.refused.extend_from_slice(indexes);
                round.refusal = Some(reason);
            }
            RequestResult::Refused {
                reason,
                retry_safe: false,
            } => self.settle_each(indexes, || Outcome::Rejected {
                provider: Some(name.clone()),
                reason: reason.clone(),
                retry_safe: false,
            }),
            RequestResult::Deadline => self.settle_each(indexes, || Outcome::Rejected {
                provider: None,
                reason: Reason {
                    code: None,
                    text: "the deadline passed before sending".to_owned(),
                    kind: RejectKind::DeadlineExceeded,
                },
                retry_safe: true,
            }),
            RequestResult::Unknown(cause) => self.settle_each(indexes, || Outcome::Unknown {
                provider: name.clone(),
                cause: cause.clone(),
            }),
            RequestResult::NotSent => self.settle_each(indexes, || Outcome::NotSent {
                reason: NOT_SENT.to_owned(),
            }),
        }
        self.hand_over(indexes.iter().copied());
    }

    /// Settles the messages of an answered request: verdicts by entry position (the first one
    /// for a position wins), `unlisted` for every entry the answer does not list.
    fn settle_answered(
        &mut self,
        name: &ProviderName,
        indexes: &[usize],
        verdicts: Vec<(usize, EntryVerdict)>,
        unlisted: EntryVerdict,
    ) {
        for (position, verdict) in verdicts {
            if let Some(&i) = indexes.get(position) {
                let outcome = &mut self.progress[i].outcome;
                if outcome.is_none() {
                    *outcome = Some(outcome_of(name, verdict));
                }
            }
        }
        for &i in indexes {
            let outcome = &mut self.progress[i].outcome;
            if outcome.is_none() {
                *outcome = Some(outcome_of(name, unlisted.clone()));
            }
        }
    }

    /// Gives each message at `indexes` the outcome `outcome` makes.
    fn settle_each(&mut self, indexes: &[usize], outcome: impl Fn() -> Outcome) {
        for &i in indexes {
            self.progress[i].outcome = Some(outcome());
        }
    }

    /// A request whose provider panicked leaves its messages without outcome: they may have
    /// been sent, so they end unknown rather than move on.
    fn settle_panicked(&mut self, name: &ProviderName, requests: &[PlannedRequest]) {
        let mut panicked = Vec::new();
        for &i in requests.iter().flat_map(|r| &r.messages) {
            if self.progress[i].outcome.is_none() && !self.progress[i].moving {
                self.progress[i].outcome = Some(Outcome::Unknown {
                    provider: name.clone(),
                    cause: "the provider failed while sending the request".to_owned(),
                });
                panicked.push(i);
            }
        }
        self.hand_over(panicked.into_iter());
    }
}

/// `remaining` split into the messages that fit `capacity` and those too big for it (both in
/// input order).
fn fitting(
    capacity: &Capacity,
    pendings: &[Pending<'_>],
    remaining: Vec<usize>,
) -> (Vec<usize>, Vec<usize>) {
    if remaining
        .iter()
        .all(|&i| SmsGate::fits(capacity, &pendings[i]))
    {
        (remaining, Vec::new())
    } else {
        remaining
            .iter()
            .partition(|&&i| SmsGate::fits(capacity, &pendings[i]))
    }
}

/// One provider's requests in a stage.
struct StagePlan {
    /// The provider's slot.
    position: usize,
    requests: Vec<PlannedRequest>,
}

/// The messages of `requests`, request after request.
fn sent_order<'r>(
    requests: impl Iterator<Item = &'r PlannedRequest> + 'r,
) -> impl Iterator<Item = usize> + 'r {
    requests.flat_map(|r| r.messages.iter().copied())
}

/// The entries of `requests`, request after request, with the references from `references`
/// when it holds them all (see [`reference_buffer`]), else from each message.
fn entries<'e, 'r>(
    pendings: &'e [Pending<'_>],
    requests: impl Iterator<Item = &'r PlannedRequest> + 'r,
    references: &'e str,
) -> Vec<Entry<'e>> {
    sent_order(requests)
        .enumerate()
        .map(|(k, i)| {
            let at = k * REFERENCE_LEN;
            match references.get(at..at + REFERENCE_LEN) {
                Some(reference) => pendings[i].entry_with(reference),
                None => pendings[i].entry(),
            }
        })
        .collect()
}

/// Length of a [`Reference`].
const REFERENCE_LEN: usize = 20;

/// The references one after another in one string (a missing one as zeros), validated as text
/// once rather than one by one.
fn reference_buffer(references: impl Iterator<Item = Option<Reference>>) -> String {
    let mut bytes = Vec::with_capacity(references.size_hint().0 * REFERENCE_LEN);
    for reference in references {
        let digits: &[u8; REFERENCE_LEN] = reference
            .as_ref()
            .map_or(&[b'0'; REFERENCE_LEN], Reference::as_bytes);
        bytes.extend_from_slice(digits);
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// The outcome of a verdict `provider` gave.
fn outcome_of(provider: &ProviderName, verdict: EntryVerdict) -> Outcome {
    let provider = provider.clone();
    match verdict {
        EntryVerdict::Accepted(message_id) => Outcome::Accepted {
            provider,
            message_id,
        },
        EntryVerdict::Rejected(reason) => Outcome::Rejected {
            provider: Some(provider),
            reason,
            retry_safe: false,
        },
        EntryVerdict::Unknown(cause) => Outcome::Unknown { provider, cause },
    }
}
