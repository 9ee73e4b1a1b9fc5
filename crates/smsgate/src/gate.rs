//! [`SmsGate`]: providers in priority order, planning, bounded concurrency, throttle back-off,
//! failover of refused messages, and a verdict for every message.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use smsgate_transport::spec::DeliveryClass;
use tokio::sync::{Mutex, Semaphore};
use tracing::Instrument;

use crate::message::{ControlCharacter, Message, Segments, control_character, segments};
use crate::number::NumberPolicy;
use crate::outcome::{
    Delivery, Outcome, PhoneNumber, ProviderName, Reason, Reference, RejectKind, Report, Tried,
};
use crate::provider::{Capacity, Entry, EntryVerdict, Provider, Submission};
use crate::status::DeliveryStatus;
use crate::stop::StopSignal;

/// A failover hop: messages one provider refused as a whole, moving to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Provider that refused them.
    pub from: String,
    /// Provider they move to (`None`: no provider left; they end rejected).
    pub to: Option<String>,
    /// How many messages move.
    pub messages: usize,
    /// The refusal.
    pub reason: Reason,
}

type OutcomeHook = Arc<dyn Fn(&Delivery) + Send + Sync>;
type HopHook = Arc<dyn Fn(&Hop) + Send + Sync>;

/// Per-provider flow control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderOptions {
    /// Most requests in flight to this provider at once (default 4).
    pub concurrency: usize,
    /// Most requests started per second (`None`: no limit).
    pub requests_per_second: Option<f64>,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            requests_per_second: None,
        }
    }
}

struct Slot {
    provider: Box<dyn Provider>,
    name: ProviderName,
    semaphore: Semaphore,
    pacer: Option<Pacer>,
}

/// Spaces request starts at least `interval` apart.
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    async fn wait(&self) {
        let start = {
            let mut next = self.next.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + self.interval;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }
}

/// Builds an [`SmsGate`].
pub struct SmsGateBuilder {
    slots: Vec<Slot>,
    concurrency: usize,
    throttle_retries: u32,
    throttle_backoff: Duration,
    deadline: Option<Duration>,
    allow_duplicates: bool,
    numbers: NumberPolicy,
    on_outcome: Option<OutcomeHook>,
    on_hop: Option<HopHook>,
    reference_seed: Option<u64>,
}

impl fmt::Debug for SmsGateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGateBuilder")
            .field(
                "providers",
                &self
                    .slots
                    .iter()
                    .map(|s| s.provider.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl SmsGateBuilder {
    /// Adds a provider after the ones already added (priority order), with default options.
    pub fn provider(self, provider: impl Provider + 'static) -> Self {
        self.provider_with(provider, ProviderOptions::default())
    }

    /// Adds a provider with its own concurrency cap and request rate.
    pub fn provider_with(
        mut self,
        provider: impl Provider + 'static,
        options: ProviderOptions,
    ) -> Self {
        let pacer = options
            .requests_per_second
            .filter(|rate| *rate > 0.0 && rate.is_finite())
            .map(|rate| Pacer {
                interval: Duration::from_secs_f64(1.0 / rate),
                next: Mutex::new(Instant::now()),
            });
        self.slots.push(Slot {
            name: ProviderName::new(provider.name()),
            provider: Box::new(provider),
            semaphore: Semaphore::new(options.concurrency.max(1)),
            pacer,
        });
        self
    }

    /// Most requests in flight over all providers (default 8).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// How often a throttled request is retried on the same provider before failing over
    /// (default 3), and the first back-off (default 500 ms, doubling each time).
    pub fn throttle_retries(mut self, retries: u32, first_backoff: Duration) -> Self {
        self.throttle_retries = retries;
        self.throttle_backoff = first_backoff;
        self
    }

    /// Time allowed for a whole [`SmsGate::send`]. Messages not sent by then end rejected
    /// (`DeadlineExceeded`, retry-safe); a request still in flight ends unknown.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sends repeated (number, content) pairs of one call every time (default: only the first,
    /// later ones are rejected as `Duplicate`).
    pub fn allow_duplicates(mut self, allow: bool) -> Self {
        self.allow_duplicates = allow;
        self
    }

    /// Makes the references the gate sends (`orderId` / `sysMessageId`) start from `seed`
    /// instead of the clock, so that two runs send the same bytes — what a seeded simulator
    /// needs to give the same faults. Only for tests and simulators: against a real vendor,
    /// references must differ between runs.
    pub fn reference_seed(mut self, seed: u64) -> Self {
        self.reference_seed = Some(seed);
        self
    }

    /// How numbers are read (default: strict, no default region — see [`NumberPolicy`]).
    /// [`SmsGate::send`], [`SmsGate::preview`] and [`SmsGate::dry_run`] all read them so.
    pub fn number_policy(mut self, policy: NumberPolicy) -> Self {
        self.numbers = policy;
        self
    }

    /// Calls `hook` with each message's final delivery, in input order.
    pub fn on_outcome(mut self, hook: impl Fn(&Delivery) + Send + Sync + 'static) -> Self {
        self.on_outcome = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` at each failover hop.
    pub fn on_failover(mut self, hook: impl Fn(&Hop) + Send + Sync + 'static) -> Self {
        self.on_hop = Some(Arc::new(hook));
        self
    }

    /// The gate. Loads the numbering-plan metadata the first time in the process (tens of
    /// milliseconds), so that the first send does not.
    pub fn build(self) -> SmsGate {
        self.numbers.load_metadata();
        let seed = self.reference_seed.map_or_else(
            || {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() % 10_000_000_000_000)
                    .unwrap_or(0)
            },
            |seed| u128::from(seed % 10_000_000_000_000),
        );
        SmsGate {
            slots: self.slots,
            global: Semaphore::new(self.concurrency),
            throttle_retries: self.throttle_retries,
            throttle_backoff: self.throttle_backoff,
            deadline: self.deadline,
            allow_duplicates: self.allow_duplicates,
            numbers: self.numbers,
            on_outcome: self.on_outcome,
            on_hop: self.on_hop,
            reference_prefix: Reference::prefix_digits(u64::try_from(seed).unwrap_or(0)),
            next_reference: AtomicU64::new(0),
        }
    }
}

/// One API over every provider: a verdict for every message, failover that never double-sends.
pub struct SmsGate {
    slots: Vec<Slot>,
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
}

impl fmt::Debug for SmsGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGate")
            .field(
                "providers",
                &self
                    .slots
                    .iter()
                    .map(|s| s.provider.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// One input message as the gate sends it, borrowed from the input (the number too, when the
/// input already is digits).
#[derive(Debug)]
struct Pending<'m> {
    message: &'m Message,
    number: Option<Cow<'m, str>>,
    reference: Option<Reference>,
    segments: Segments,
    /// Refused before sending (invalid number or content, duplicate, no provider).
    rejected: Option<Outcome>,
}

impl<'m> Pending<'m> {
    fn content(&self) -> &'m str {
        &self.message.content
    }

    fn sender_id(&self) -> Option<&'m str> {
        self.message.sender_id.as_deref()
    }

    /// The message's delivery at input position `index` (the reference only if it was sent).
    fn delivery(&self, index: usize, tried: Tried, outcome: Outcome) -> Delivery {
        Delivery {
            index,
            to: self.message.to.clone(),
            number: self.number.as_deref().map(PhoneNumber::from_normalized),
            client_ref: self.message.client_ref.clone(),
            reference: self.reference.filter(|_| !tried.is_empty()),
            segments: self.segments,
            tried,
            outcome,
        }
    }

    /// The entry a provider gets for this message.
    fn entry(&self) -> Entry<'_> {
        self.entry_with(self.reference.as_ref().map_or("", Reference::as_str))
    }

    /// The entry, with `reference` (this message's reference, from a shared buffer).
    fn entry_with<'e>(&'e self, reference: &'e str) -> Entry<'e> {
        Entry {
            reference,
            number: self.number.as_deref().unwrap_or_default(),
            content: self.content(),
            sender_id: self.sender_id(),
        }
    }
}

/// A request the gate plans to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    /// Provider it goes to first.
    pub provider: String,
    /// Whether it sends one text to many numbers (`true`) or different texts.
    pub uniform: bool,
    /// Input indexes it carries.
    pub messages: Vec<usize>,
}

/// One request of [`SmsGate::dry_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunRequest {
    /// Provider it would go to.
    pub provider: String,
    /// Input indexes it would carry.
    pub messages: Vec<usize>,
    /// The signed request, or why the provider cannot show it.
    pub request: Result<smsgate_transport::wire::WireRequest, String>,
}

/// What [`SmsGate::preview`] shows: segments per message, what is refused before sending,
/// and the requests the first provider would get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Per input message: segments, normalised number, or the local rejection.
    pub messages: Vec<PreviewMessage>,
    /// The planned requests.
    pub requests: Vec<PlannedRequest>,
}

/// One message in a [`Preview`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewMessage {
    /// Position in the input.
    pub index: usize,
    /// The number as it would be sent.
    pub number: Option<String>,
    /// Segments the content costs.
    pub segments: Segments,
    /// Why it would be refused before sending, if it would.
    pub rejected: Option<Reason>,
}

impl Preview {
    /// Total SMS parts of the messages that would be sent.
    pub fn total_parts(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.rejected.is_none())
            .map(|m| m.segments.parts)
            .sum()
    }
}

fn local_reject(kind: RejectKind, text: String) -> Outcome {
    Outcome::Rejected {
        provider: None,
        reason: Reason {
            code: None,
            text,
            kind,
        },
        retry_safe: false,
    }
}

impl SmsGate {
    /// A builder with no provider.
    pub fn builder() -> SmsGateBuilder {
        SmsGateBuilder {
            slots: Vec::new(),
            concurrency: 8,
            throttle_retries: 3,
            throttle_backoff: Duration::from_millis(500),
            deadline: None,
            allow_duplicates: false,
            numbers: NumberPolicy::default(),
            on_outcome: None,
            on_hop: None,
            reference_seed: None,
        }
    }

    /// Provider names, in priority order.
    pub fn providers(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.provider.name()).collect()
    }

    fn reference(&self) -> Reference {
        Reference::new(
            &self.reference_prefix,
            self.next_reference.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// Normalises, counts segments and refuses what cannot be sent (no I/O). Borrows from
    /// `messages`: nothing is copied for a message whose number already is digits.
    fn prepare<'m>(&self, messages: &'m [Message]) -> Vec<Pending<'m>> {
        // Consecutive messages often share their text: count its segments (and look for
        // control characters) once.
        let mut last_segments: Option<(&str, Segments, Option<ControlCharacter>)> = None;
        let mut pendings: Vec<Pending<'m>> = Vec::with_capacity(messages.len());
        for message in messages {
            let content: &str = &message.content;
            let (segments, control) = match last_segments {
                Some((text, counted, control)) if text == content => (counted, control),
                _ => {
                    let counted = segments(content);
                    let control = control_character(content);
                    last_segments = Some((content, counted, control));
                    (counted, control)
                }
            };
            let mut pending = Pending {
                message,
                number: None,
                reference: None,
                segments,
                rejected: None,
            };
            match self.numbers.normalize_borrowed(&message.to) {
                Err(problem) => {
                    let text = problem.to_string();
                    pending.rejected = Some(local_reject(RejectKind::InvalidNumber(problem), text));
                }
                Ok(number) => {
                    if content.is_empty() {
                        pending.rejected = Some(local_reject(
                            RejectKind::InvalidContent,
                            "the content is empty".to_owned(),
                        ));
                    } else if let Some(control) = control {
                        pending.rejected = Some(local_reject(
                            RejectKind::InvalidContent,
                            control.to_string(),
                        ));
                    } else if self.slots.is_empty() {
                        pending.rejected = Some(Outcome::Rejected {
                            provider: None,
                            reason: Reason {
                                code: None,
                                text: "no provider is configured".to_owned(),
                                kind: RejectKind::NoProvider,
                            },
                            retry_safe: true,
                        });
                    }
                    pending.number = Some(number);
                }
            }
            pendings.push(pending);
        }
        if !self.allow_duplicates {
            // First occurrence of each (number, content), borrowed: no copies.
            let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
            let mut repeats: Vec<(usize, usize)> = Vec::new();
            for (index, pending) in pendings.iter().enumerate() {
                let (Some(number), None) = (pending.number.as_deref(), &pending.rejected) else {
                    continue;
                };
                let first = *seen.entry((number, pending.content())).or_insert(index);
                if first != index {
                    repeats.push((index, first));
                }
            }
            drop(seen);
            for (index, first) in repeats {
                pendings[index].rejected = Some(local_reject(
                    RejectKind::Duplicate { of: first },
                    format!("the same number and content as message {first}; not sent twice"),
                ));
            }
        }
        pendings
    }

    /// Whether `pending` fits `capacity` (content and sender id lengths).
    fn fits(capacity: &Capacity, pending: &Pending<'_>) -> bool {
        // A text of at most `limit` bytes has at most `limit` characters: nothing to count.
        let within =
            |text: &str, limit: usize| text.len() <= limit || text.chars().count() <= limit;
        let content_ok = within(pending.content(), capacity.max_content_chars);
        let sender_ok = match (pending.sender_id(), capacity.max_sender_id_chars) {
            (Some(sender), Some(limit)) => within(sender, limit),
            _ => true,
        };
        content_ok && sender_ok
    }

    /// Groups `indexes` into the fewest requests `capacity` allows: one request per
    /// (content, sender id) group when it fits, mixed batches for the rest.
    fn plan(
        capacity: &Capacity,
        pendings: &[Pending<'_>],
        indexes: Vec<usize>,
    ) -> Vec<PlannedRequest> {
        let uniform_cap = capacity.uniform_recipients.max(1);
        // One text that fits one request (most calls): that request, no grouping.
        if let Some(&first) = indexes.first() {
            let key = (pendings[first].content(), pendings[first].sender_id());
            if indexes.len() <= uniform_cap
                && indexes
                    .iter()
                    .all(|&i| (pendings[i].content(), pendings[i].sender_id()) == key)
            {
                return vec![PlannedRequest {
                    provider: String::new(),
                    uniform: true,
                    messages: indexes,
                }];
            }
        }
        type Key<'k> = (&'k str, Option<&'k str>);
        let mut groups: Vec<(Key<'_>, Vec<usize>)> = Vec::new();
        // Few texts: found by a scan; many: by a table, built once the scan gets long.
        let mut by_key: Option<HashMap<Key<'_>, usize>> = None;
        // Consecutive messages usually share their text: skip the look-up for a run.
        let mut last: Option<(Key<'_>, usize)> = None;
        for &i in &indexes {
            let key = (pendings[i].content(), pendings[i].sender_id());
            let slot = match last {
                Some((last_key, slot)) if last_key == key => Some(slot),
                _ => match &by_key {
                    Some(table) => table.get(&key).copied(),
                    None => groups.iter().position(|(k, _)| *k == key),
                },
            };
            let slot = slot.unwrap_or_else(|| {
                groups.push((key, Vec::new()));
                let slot = groups.len() - 1;
                match &mut by_key {
                    Some(table) => {
                        table.insert(key, slot);
                    }
                    None if groups.len() > 16 => {
                        by_key = Some(
                            groups
                                .iter()
                                .enumerate()
                                .map(|(s, (k, _))| (*k, s))
                                .collect(),
                        );
                    }
                    None => {}
                }
                slot
            });
            last = Some((key, slot));
            groups[slot].1.push(i);
        }
        let mixed_cap = capacity.mixed_recipients.max(1);
        let single_group = groups.len() == 1;
        let mut requests = Vec::new();
        let mut leftovers = Vec::new();
        for (_, group) in groups {
            // Full uniform requests first; the remainder of a group joins the mixed batches
            // unless the whole call is this one group.
            let mut chunks = group.chunks(uniform_cap).peekable();
            while let Some(chunk) = chunks.next() {
                if chunk.len() == uniform_cap || (chunks.peek().is_none() && single_group) {
                    requests.push((true, chunk.to_vec()));
                } else {
                    leftovers.extend_from_slice(chunk);
                }
            }
        }
        for chunk in leftovers.chunks(mixed_cap) {
            let first = &pendings[chunk[0]];
            let uniform = chunk.iter().all(|&i| {
                pendings[i].content() == first.content()
                    && pendings[i].sender_id() == first.sender_id()
            });
            requests.push((uniform, chunk.to_vec()));
        }
        requests
            .into_iter()
            .map(|(uniform, messages)| PlannedRequest {
                provider: String::new(),
                uniform,
                messages,
            })
            .collect()
    }

    /// Plans without sending: segments, local rejections and the requests the first provider
    /// able to carry each message would get.
    pub fn preview(&self, messages: &[Message]) -> Preview {
        let pendings = self.prepare(messages);
        let (planned, unplaceable) = self.plan_all(&pendings);
        let messages = pendings
            .iter()
            .enumerate()
            .map(|(index, p)| PreviewMessage {
                index,
                number: p.number.as_deref().map(str::to_owned),
                segments: p.segments,
                rejected: match &p.rejected {
                    Some(Outcome::Rejected { reason, .. }) => Some(reason.clone()),
                    _ if unplaceable[index] => Some(Reason {
                        code: None,
                        text: "the content or sender id is longer than every provider allows"
                            .to_owned(),
                        kind: RejectKind::InvalidContent,
                    }),
                    _ => None,
                },
            })
            .collect();
        let requests = planned.into_iter().map(|(_, request)| request).collect();
        Preview { messages, requests }
    }

    /// Plans every sendable message onto the first provider that can carry it: the requests
    /// (with the index of their provider's slot), and which messages no provider can carry.
    fn plan_all(&self, pendings: &[Pending<'_>]) -> (Vec<(usize, PlannedRequest)>, Vec<bool>) {
        let mut requests = Vec::new();
        let mut remaining: Vec<usize> = (0..pendings.len())
            .filter(|&i| pendings[i].rejected.is_none())
            .collect();
        for (position, slot) in self.slots.iter().enumerate() {
            let capacity = slot.provider.capacity();
            let (fit, rest): (Vec<usize>, Vec<usize>) = remaining
                .iter()
                .partition(|&&i| Self::fits(&capacity, &pendings[i]));
            for mut request in Self::plan(&capacity, pendings, fit) {
                request.provider = slot.provider.name().to_owned();
                requests.push((position, request));
            }
            remaining = rest;
        }
        let mut unplaceable = vec![false; pendings.len()];
        for i in remaining {
            unplaceable[i] = true;
        }
        (requests, unplaceable)
    }

    /// The exact requests the first provider able to carry each message would get, without
    /// sending anything (references are fresh, as a real send would use).
    pub fn dry_run(&self, messages: &[Message]) -> Vec<DryRunRequest> {
        let mut pendings = self.prepare(messages);
        let (planned, _) = self.plan_all(&pendings);
        for (_, request) in &planned {
            for &i in &request.messages {
                pendings[i].reference = Some(self.reference());
            }
        }
        planned
            .into_iter()
            .map(|(position, planned)| {
                let entries: Vec<Entry<'_>> = planned
                    .messages
                    .iter()
                    .map(|&i| pendings[i].entry())
                    .collect();
                let request = self.slots[position]
                    .provider
                    .dry_run(&entries, planned.uniform);
                DryRunRequest {
                    provider: planned.provider,
                    messages: planned.messages,
                    request,
                }
            })
            .collect()
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
    /// [`Outcome::NotSent`]; after it is abandoned, in-flight requests end
    /// [`Outcome::Unknown`]. The returned report holds the same deliveries, in input order.
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

    async fn send_in_span(
        &self,
        messages: &[Message],
        stop: Option<&StopSignal>,
        mut sink: Option<&mut SettledSink<'_>>,
    ) -> Report {
        let started = Instant::now();
        let deadline = self.deadline.map(|d| started + d);
        let mut pendings = self.prepare(messages);
        let mut progress: Vec<Progress> = Vec::with_capacity(pendings.len());
        for pending in &mut pendings {
            let rejected = pending.rejected.take();
            if rejected.is_none() {
                pending.reference = Some(self.reference());
            }
            progress.push(Progress {
                outcome: rejected,
                ..Progress::default()
            });
        }
        let mut remaining: Vec<usize> = (0..pendings.len())
            .filter(|&i| progress[i].outcome.is_none())
            .collect();
        hand_over(sink.as_deref_mut(), &pendings, &progress, 0..pendings.len());
        let mut last_refusal: HashMap<usize, (ProviderName, Reason)> = HashMap::new();

        for (position, slot) in self.slots.iter().enumerate() {
            if remaining.is_empty() {
                break;
            }
            let name = slot.name;
            let capacity = slot.provider.capacity();
            let (fit, rest): (Vec<usize>, Vec<usize>) = if remaining
                .iter()
                .all(|&i| Self::fits(&capacity, &pendings[i]))
            {
                (remaining, Vec::new())
            } else {
                remaining
                    .iter()
                    .partition(|&&i| Self::fits(&capacity, &pendings[i]))
            };
            for state in &mut progress {
                state.too_big = false;
                state.moving = false;
            }
            for &i in &rest {
                progress[i].too_big = true;
            }
            let fit_count = fit.len();
            let requests = Self::plan(&capacity, &pendings, fit);
            tracing::info!(provider = %name, messages = fit_count, requests = requests.len(), "plan");

            // Every request's entries in one buffer, borrowed from `pendings` (for many, the
            // references from one string of them all): handing them over copies nothing.
            let sent_order = || requests.iter().flat_map(|r| r.messages.iter().copied());
            let references = if fit_count > 16 {
                reference_buffer(sent_order().map(|i| pendings[i].reference))
            } else {
                String::new()
            };
            let entries: Vec<Entry<'_>> = sent_order()
                .enumerate()
                .map(|(k, i)| {
                    let at = k * REFERENCE_LEN;
                    match references.get(at..at + REFERENCE_LEN) {
                        Some(reference) => pendings[i].entry_with(reference),
                        None => pendings[i].entry(),
                    }
                })
                .collect();
            let attempt = |entries, uniform| {
                // A provider that panics fails its own request, not the whole call.
                AssertUnwindSafe(run_request(
                    slot,
                    &self.global,
                    entries,
                    uniform,
                    (self.throttle_retries, self.throttle_backoff),
                    deadline,
                    stop,
                ))
                .catch_unwind()
            };

            let mut round = Round {
                name,
                progress: &mut progress,
                last_refusal: &mut last_refusal,
                refused: Vec::new(),
                refusal: None,
            };
            match requests.as_slice() {
                // One request (most calls): awaited as it is.
                [request] => {
                    let result = attempt(&entries, request.uniform).await;
                    round.settle(&request.messages, result);
                    let settled = request.messages.iter().copied();
                    hand_over(sink.as_deref_mut(), &pendings, round.progress, settled);
                }
                // Several: concurrently inside this call, bounded by the semaphores.
                _ => {
                    let mut rest_of_entries = entries.as_slice();
                    let mut in_flight: FuturesUnordered<_> = requests
                        .iter()
                        .map(|request| {
                            let (these, others) = rest_of_entries.split_at(request.messages.len());
                            rest_of_entries = others;
                            let indexes = request.messages.as_slice();
                            attempt(these, request.uniform).map(move |result| (indexes, result))
                        })
                        .collect();
                    while let Some((indexes, result)) = in_flight.next().await {
                        round.settle(indexes, result);
                        let settled = indexes.iter().copied();
                        hand_over(sink.as_deref_mut(), &pendings, round.progress, settled);
                    }
                }
            }
            let Round {
                mut refused,
                refusal,
                ..
            } = round;
            // A request whose provider panicked leaves its messages without outcome: they may
            // have been sent, so they end unknown rather than move on.
            let mut panicked = Vec::new();
            for &i in requests.iter().flat_map(|r| &r.messages) {
                if progress[i].outcome.is_none() && !progress[i].moving {
                    progress[i].outcome = Some(Outcome::Unknown {
                        provider: name,
                        cause: "the provider failed while sending the request".to_owned(),
                    });
                    panicked.push(i);
                }
            }
            hand_over(
                sink.as_deref_mut(),
                &pendings,
                &progress,
                panicked.into_iter(),
            );
            if let Some(reason) = refusal {
                let hop = Hop {
                    from: name.to_string(),
                    to: self.slots.get(position + 1).map(|s| s.name.to_string()),
                    messages: refused.len(),
                    reason,
                };
                tracing::warn!(from = %hop.from, to = ?hop.to, messages = hop.messages, reason = %hop.reason, "failover");
                if let Some(hook) = &self.on_hop {
                    hook(&hop);
                }
            }
            refused.extend(rest);
            refused.sort_unstable();
            remaining = refused;
        }

        for &i in &remaining {
            progress[i].outcome = Some(match last_refusal.remove(&i) {
                Some((provider, reason)) => Outcome::Rejected {
                    provider: Some(provider),
                    reason,
                    retry_safe: true,
                },
                None if progress[i].too_big => local_reject(
                    RejectKind::InvalidContent,
                    "the content or sender id is longer than every provider allows".to_owned(),
                ),
                None if stop.is_some_and(StopSignal::is_stopped) => Outcome::NotSent {
                    reason: NOT_SENT.to_owned(),
                },
                None => local_reject(
                    RejectKind::NoProvider,
                    "no provider could take the message".to_owned(),
                ),
            });
        }
        hand_over(sink, &pendings, &progress, remaining.into_iter());

        let deliveries: Vec<Delivery> = pendings
            .into_iter()
            .zip(progress)
            .enumerate()
            .map(|(index, (p, state))| {
                let outcome = state.outcome.unwrap_or_else(unsettled);
                p.delivery(index, state.tried, outcome)
            })
            .collect();
        let report = Report { deliveries };
        if tracing::enabled!(tracing::Level::DEBUG) {
            for d in &report.deliveries {
                let number =
                    smsgate_transport::secret::mask_number(d.number.as_deref().unwrap_or(&d.to));
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
    /// polling (itniotech, laaffic); one entry per delivery, in order. `None`: not accepted,
    /// or its provider only pushes delivery reports (nxcloud) — feed those pushes to
    /// [`DeliveryStatus::from_nxcloud_push`]. Unknown outcomes carry no provider message id and
    /// cannot be polled.
    pub async fn reconcile(&self, report: &Report) -> Vec<Option<DeliveryStatus>> {
        let mut found: HashMap<(String, String), DeliveryStatus> = HashMap::new();
        for slot in &self.slots {
            let Some(batch) = slot.provider.status_batch() else {
                continue;
            };
            let name = slot.provider.name();
            let ids: Vec<String> = report
                .deliveries
                .iter()
                .filter_map(|d| match &d.outcome {
                    Outcome::Accepted {
                        provider,
                        message_id,
                    } if provider == name => Some(message_id.clone()),
                    _ => None,
                })
                .collect();
            for chunk in ids.chunks(batch.max(1)) {
                match slot.provider.poll_status(chunk).await {
                    Ok(statuses) => {
                        for status in statuses {
                            found.insert((name.to_owned(), status.message_id.clone()), status);
                        }
                    }
                    Err(err) => {
                        tracing::warn!(provider = name, error = %err, "delivery status poll failed")
                    }
                }
            }
        }
        report
            .deliveries
            .iter()
            .map(|d| match &d.outcome {
                Outcome::Accepted {
                    provider,
                    message_id,
                } => found
                    .remove(&(provider.to_string(), message_id.clone()))
                    .or_else(|| {
                        self.slots
                            .iter()
                            .find(|s| s.name == *provider && s.provider.status_batch().is_some())
                            .map(|_| DeliveryStatus {
                                provider: provider.to_string(),
                                message_id: message_id.clone(),
                                number: d.number.as_deref().map(str::to_owned),
                                state: DeliveryClass::Unknown,
                                vendor_status: String::new(),
                                detail: Some("the provider did not report this message".to_owned()),
                                at: None,
                            })
                    }),
                _ => None,
            })
            .collect()
    }
}

/// What [`SmsGate::send_streaming`] hands settled deliveries to.
type SettledSink<'a> = dyn FnMut(&[Delivery]) + Send + 'a;

/// Why a message of a stopped send was not sent.
const NOT_SENT: &str = "the send was stopped before this message's request started";

/// The outcome of a message the gate somehow left without one (never expected: every path
/// settles every message); a rejection that is safe to retry, since nothing was sent for it.
fn unsettled() -> Outcome {
    local_reject(RejectKind::NoProvider, "not sent".to_owned())
}

/// Hands the deliveries of the settled messages among `indexes` to `sink`, if there is one
/// and any of them is settled (a message moving to the next provider is not settled yet).
fn hand_over(
    sink: Option<&mut SettledSink<'_>>,
    pendings: &[Pending<'_>],
    progress: &[Progress],
    indexes: impl Iterator<Item = usize>,
) {
    let Some(sink) = sink else {
        return;
    };
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

/// Where one message stands while the gate sends it.
#[derive(Default)]
struct Progress {
    outcome: Option<Outcome>,
    tried: Tried,
    /// Longer than the current provider allows.
    too_big: bool,
    /// Refused retry-safe, as a whole, by the current provider: moves to the next one.
    moving: bool,
}

/// One provider's round of requests: settles each request's messages as it finishes.
struct Round<'a> {
    name: ProviderName,
    progress: &'a mut [Progress],
    last_refusal: &'a mut HashMap<usize, (ProviderName, Reason)>,
    /// Messages refused retry-safe (they move on), and the last such refusal.
    refused: Vec<usize>,
    refusal: Option<Reason>,
}

impl Round<'_> {
    /// Settles the messages at `indexes` (in the request's order) with what their request got;
    /// `Err`: the provider panicked (they stay unsettled and end unknown).
    fn settle(
        &mut self,
        indexes: &[usize],
        result: Result<(usize, RequestResult), Box<dyn std::any::Any + Send>>,
    ) {
        let name = self.name;
        let Ok((attempts, result)) = result else {
            tracing::error!(provider = %name, "a provider panicked while sending a request");
            return;
        };
        for &i in indexes {
            let tried = &mut self.progress[i].tried;
            *tried = tried.then(name, attempts);
        }
        match result {
            RequestResult::Answered { verdicts, unlisted } => {
                // Verdicts by entry position; the first one for a position wins.
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
            RequestResult::Refused {
                reason,
                retry_safe: true,
            } => {
                for &i in indexes {
                    self.last_refusal.insert(i, (name, reason.clone()));
                    self.progress[i].moving = true;
                }
                self.refused.extend_from_slice(indexes);
                self.refusal = Some(reason);
            }
            RequestResult::Refused {
                reason,
                retry_safe: false,
            } => {
                for &i in indexes {
                    self.progress[i].outcome = Some(Outcome::Rejected {
                        provider: Some(name),
                        reason: reason.clone(),
                        retry_safe: false,
                    });
                }
            }
            RequestResult::Deadline => {
                for &i in indexes {
                    self.progress[i].outcome = Some(Outcome::Rejected {
                        provider: None,
                        reason: Reason {
                            code: None,
                            text: "the deadline passed before sending".to_owned(),
                            kind: RejectKind::DeadlineExceeded,
                        },
                        retry_safe: true,
                    });
                }
            }
            RequestResult::Unknown(cause) => {
                for &i in indexes {
                    self.progress[i].outcome = Some(Outcome::Unknown {
                        provider: name,
                        cause: cause.clone(),
                    });
                }
            }
            RequestResult::NotSent => {
                for &i in indexes {
                    self.progress[i].outcome = Some(Outcome::NotSent {
                        reason: NOT_SENT.to_owned(),
                    });
                }
            }
        }
    }
}

/// The outcome of a verdict `provider` gave.
fn outcome_of(provider: ProviderName, verdict: EntryVerdict) -> Outcome {
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

/// The result of one request after throttle retries.
enum RequestResult {
    /// The provider answered: verdicts by entry position, and what an unlisted entry means.
    Answered {
        verdicts: Vec<(usize, EntryVerdict)>,
        unlisted: EntryVerdict,
    },
    Refused {
        reason: Reason,
        retry_safe: bool,
    },
    Unknown(String),
    Deadline,
    /// The send was stopped before this request went out.
    NotSent,
}

/// Sends one request, retrying it on the same provider while the provider throttles it
/// (nothing was sent) and retries remain. Returns the attempts made and the result.
async fn run_request(
    slot: &Slot,
    global: &Semaphore,
    entries: &[Entry<'_>],
    uniform: bool,
    (retries, backoff): (u32, Duration),
    deadline: Option<Instant>,
    stop: Option<&StopSignal>,
) -> (usize, RequestResult) {
    let provider = &*slot.provider;
    let mut attempts = 0usize;
    let mut throttles = 0u32;
    let stopped = || stop.is_some_and(StopSignal::is_stopped);
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return (attempts, RequestResult::Deadline);
        }
        if stopped() {
            return (attempts, RequestResult::NotSent);
        }
        let submission = {
            // Waiting for a free slot (and for the pacer) ends when the send is stopped.
            let permits = async {
                let permits = (global.acquire().await, slot.semaphore.acquire().await);
                if let Some(pacer) = &slot.pacer {
                    pacer.wait().await;
                }
                permits
            };
            let permits = match stop {
                Some(stop) => unless(permits, stop.stopped()).await,
                None => Some(permits.await),
            };
            let Some((Ok(_global), Ok(_own))) = permits else {
                return (
                    attempts,
                    if stopped() {
                        RequestResult::NotSent
                    } else {
                        RequestResult::Deadline
                    },
                );
            };
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return (attempts, RequestResult::Deadline);
            }
            if stopped() {
                return (attempts, RequestResult::NotSent);
            }
            attempts += 1;
            let span = tracing::info_span!(
                "smsgate.attempt",
                provider = provider.name(),
                recipients = entries.len(),
                attempt = attempts
            );
            let future = provider.submit(entries, uniform).instrument(span.clone());
            let future = async {
                match deadline {
                    Some(d) => match tokio::time::timeout_at(d.into(), future).await {
                        Ok(submission) => submission,
                        Err(_) => Submission::Unknown(
                            "the deadline passed while the request was in flight".to_owned(),
                        ),
                    },
                    None => future.await,
                }
            };
            let submission = match stop {
                // A second stop gives up requests in flight: they may have reached the vendor.
                Some(stop) => unless(future, stop.abandoned()).await.unwrap_or_else(|| {
                    Submission::Unknown(
                        "abandoned in flight after the send was stopped; the request may have reached the provider"
                            .to_owned(),
                    )
                }),
                None => future.await,
            };
            let verdict = match &submission {
                Submission::Answered { .. } => "answered",
                Submission::Refused {
                    throttled: true, ..
                } => "throttled",
                Submission::Refused {
                    retry_safe: true, ..
                } => "refused, retry-safe",
                Submission::Refused { .. } => "refused",
                Submission::Unknown(_) => "unknown",
            };
            span.in_scope(|| tracing::debug!(verdict, "attempt finished"));
            submission
        };
        match submission {
            Submission::Answered { verdicts, unlisted } => {
                return (attempts, RequestResult::Answered { verdicts, unlisted });
            }
            Submission::Refused {
                throttled: true, ..
            } if throttles < retries => {
                let wait = backoff.saturating_mul(2u32.saturating_pow(throttles));
                throttles += 1;
                tracing::info!(
                    provider = provider.name(),
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "throttled; retrying the same request"
                );
                match deadline {
                    Some(d) if Instant::now() + wait >= d => {
                        return (attempts, RequestResult::Deadline);
                    }
                    _ => match stop {
                        Some(stop) => {
                            if unless(tokio::time::sleep(wait), stop.stopped())
                                .await
                                .is_none()
                            {
                                return (attempts, RequestResult::NotSent);
                            }
                        }
                        None => tokio::time::sleep(wait).await,
                    },
                }
            }
            Submission::Refused {
                reason, retry_safe, ..
            } => return (attempts, RequestResult::Refused { reason, retry_safe }),
            Submission::Unknown(cause) => return (attempts, RequestResult::Unknown(cause)),
        }
    }
}

/// `future`'s output, or `None` when `cancel` resolves first (then `future` is dropped).
async fn unless<F: Future>(future: F, cancel: impl Future<Output = ()>) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let cancel = std::pin::pin!(cancel);
    match futures_util::future::select(future, cancel).await {
        futures_util::future::Either::Left((output, _)) => Some(output),
        futures_util::future::Either::Right(((), _)) => None,
    }
}
