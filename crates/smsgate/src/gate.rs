//! [`SmsGate`]: providers in priority order, planning, bounded concurrency, throttle back-off,
//! failover of refused messages, and a verdict for every message.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use smsgate_transport::spec::DeliveryClass;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::message::{Message, Segments, normalize_number, segments};
use crate::outcome::{Delivery, Outcome, Reason, RejectKind, Report};
use crate::provider::{Capacity, Entry, EntryVerdict, Provider, Submission};
use crate::status::DeliveryStatus;

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
    provider: Arc<dyn Provider>,
    semaphore: Arc<Semaphore>,
    pacer: Option<Arc<Pacer>>,
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
    on_outcome: Option<OutcomeHook>,
    on_hop: Option<HopHook>,
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
            .map(|rate| {
                Arc::new(Pacer {
                    interval: Duration::from_secs_f64(1.0 / rate),
                    next: Mutex::new(Instant::now()),
                })
            });
        self.slots.push(Slot {
            provider: Arc::new(provider),
            semaphore: Arc::new(Semaphore::new(options.concurrency.max(1))),
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

    /// The gate.
    pub fn build(self) -> SmsGate {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() % 10_000_000_000_000)
            .unwrap_or(0);
        SmsGate {
            slots: self.slots,
            global: Arc::new(Semaphore::new(self.concurrency)),
            throttle_retries: self.throttle_retries,
            throttle_backoff: self.throttle_backoff,
            deadline: self.deadline,
            allow_duplicates: self.allow_duplicates,
            on_outcome: self.on_outcome,
            on_hop: self.on_hop,
            reference_prefix: format!("{seed:013}"),
            next_reference: AtomicU64::new(0),
        }
    }
}

/// One API over every provider: a verdict for every message, failover that never double-sends.
pub struct SmsGate {
    slots: Vec<Slot>,
    global: Arc<Semaphore>,
    throttle_retries: u32,
    throttle_backoff: Duration,
    deadline: Option<Duration>,
    allow_duplicates: bool,
    on_outcome: Option<OutcomeHook>,
    on_hop: Option<HopHook>,
    reference_prefix: String,
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

/// One message while it is being sent.
#[derive(Debug, Clone)]
struct Pending {
    to: String,
    number: Option<String>,
    content: String,
    sender_id: Option<String>,
    client_ref: Option<String>,
    reference: Option<String>,
    segments: Segments,
    tried: Vec<String>,
    outcome: Option<Outcome>,
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
            on_outcome: None,
            on_hop: None,
        }
    }

    /// Provider names, in priority order.
    pub fn providers(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.provider.name()).collect()
    }

    fn reference(&self) -> String {
        let n = self.next_reference.fetch_add(1, Ordering::Relaxed);
        format!("{}{n:07}", self.reference_prefix)
    }

    /// Normalises, counts segments and refuses what cannot be sent (no I/O).
    fn prepare(&self, messages: &[Message]) -> Vec<Pending> {
        let numbers: Vec<Result<String, crate::message::NumberProblem>> =
            messages.iter().map(|m| normalize_number(&m.to)).collect();
        // First occurrence of each (number, content), borrowed from the input: no copies.
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        messages
            .iter()
            .zip(&numbers)
            .enumerate()
            .map(|(index, (message, number))| {
                let mut pending = Pending {
                    to: message.to.clone(),
                    number: None,
                    content: message.content.clone(),
                    sender_id: message.sender_id.clone(),
                    client_ref: message.client_ref.clone(),
                    reference: None,
                    segments: segments(&message.content),
                    tried: Vec::new(),
                    outcome: None,
                };
                match number {
                    Err(problem) => pending.outcome = Some(local_reject(RejectKind::InvalidNumber, problem.to_string())),
                    Ok(number) => {
                        pending.number = Some(number.clone());
                        if message.content.is_empty() {
                            pending.outcome = Some(local_reject(RejectKind::InvalidContent, "the content is empty".to_owned()));
                        } else if self.slots.is_empty() {
                            pending.outcome = Some(Outcome::Rejected {
                                provider: None,
                                reason: Reason { code: None, text: "no provider is configured".to_owned(), kind: RejectKind::NoProvider },
                                retry_safe: true,
                            });
                        } else if !self.allow_duplicates {
                            let first = *seen.entry((number.as_str(), message.content.as_str())).or_insert(index);
                            if first != index {
                                pending.outcome = Some(local_reject(
                                    RejectKind::Duplicate { of: first },
                                    format!("the same number and content as message {first}; not sent twice"),
                                ));
                            }
                        }
                    }
                }
                pending
            })
            .collect()
    }

    /// Whether `pending` fits `capacity` (content and sender id lengths).
    fn fits(capacity: &Capacity, pending: &Pending) -> bool {
        let content_ok = pending.content.chars().count() <= capacity.max_content_chars;
        let sender_ok = match (&pending.sender_id, capacity.max_sender_id_chars) {
            (Some(sender), Some(limit)) => sender.chars().count() <= limit,
            _ => true,
        };
        content_ok && sender_ok
    }

    /// Groups `indexes` into the fewest requests `capacity` allows: one request per
    /// (content, sender id) group when it fits, mixed batches for the rest.
    fn plan(capacity: &Capacity, pendings: &[Pending], indexes: &[usize]) -> Vec<PlannedRequest> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut by_key: HashMap<(&str, Option<&str>), usize> = HashMap::new();
        for &i in indexes {
            let key = (
                pendings[i].content.as_str(),
                pendings[i].sender_id.as_deref(),
            );
            let slot = *by_key.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[slot].push(i);
        }
        let uniform_cap = capacity.uniform_recipients.max(1);
        let mixed_cap = capacity.mixed_recipients.max(1);
        let mut requests = Vec::new();
        let mut leftovers = Vec::new();
        for group in groups {
            // Full uniform requests first; the remainder of a group joins the mixed batches
            // unless the whole call is this one group.
            let mut chunks = group.chunks(uniform_cap).peekable();
            while let Some(chunk) = chunks.next() {
                if chunk.len() == uniform_cap || (chunks.peek().is_none() && by_key.len() == 1) {
                    requests.push((true, chunk.to_vec()));
                } else {
                    leftovers.extend_from_slice(chunk);
                }
            }
        }
        for chunk in leftovers.chunks(mixed_cap) {
            let first = &pendings[chunk[0]];
            let uniform = chunk.iter().all(|&i| {
                pendings[i].content == first.content && pendings[i].sender_id == first.sender_id
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
                number: p.number.clone(),
                segments: p.segments,
                rejected: match &p.outcome {
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
    fn plan_all(&self, pendings: &[Pending]) -> (Vec<(usize, PlannedRequest)>, Vec<bool>) {
        let mut requests = Vec::new();
        let mut remaining: Vec<usize> = (0..pendings.len())
            .filter(|&i| pendings[i].outcome.is_none())
            .collect();
        for (position, slot) in self.slots.iter().enumerate() {
            let capacity = slot.provider.capacity();
            let (fit, rest): (Vec<usize>, Vec<usize>) = remaining
                .iter()
                .partition(|&&i| Self::fits(&capacity, &pendings[i]));
            for mut request in Self::plan(&capacity, pendings, &fit) {
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
        let pendings = self.prepare(messages);
        let (planned, _) = self.plan_all(&pendings);
        planned
            .into_iter()
            .map(|(position, planned)| {
                let entries: Vec<Entry> = planned
                    .messages
                    .iter()
                    .map(|&i| Entry {
                        reference: self.reference(),
                        number: pendings[i].number.clone().unwrap_or_default(),
                        content: pendings[i].content.clone(),
                        sender_id: pendings[i].sender_id.clone(),
                    })
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
        self.send_in_span(messages).instrument(span).await
    }

    async fn send_in_span(&self, messages: &[Message]) -> Report {
        let started = Instant::now();
        let deadline = self.deadline.map(|d| started + d);
        let mut pendings = self.prepare(messages);
        for pending in pendings.iter_mut().filter(|p| p.outcome.is_none()) {
            pending.reference = Some(self.reference());
        }
        let mut remaining: Vec<usize> = (0..pendings.len())
            .filter(|&i| pendings[i].outcome.is_none())
            .collect();
        let mut last_refusal: HashMap<usize, (String, Reason)> = HashMap::new();
        let mut too_big: Vec<usize> = Vec::new();

        for (position, slot) in self.slots.iter().enumerate() {
            if remaining.is_empty() {
                break;
            }
            let name = slot.provider.name().to_owned();
            let capacity = slot.provider.capacity();
            let (fit, rest): (Vec<usize>, Vec<usize>) = remaining
                .iter()
                .partition(|&&i| Self::fits(&capacity, &pendings[i]));
            too_big = rest.clone();
            let requests = Self::plan(&capacity, &pendings, &fit);
            tracing::info!(provider = %name, messages = fit.len(), requests = requests.len(), "plan");

            let mut tasks = JoinSet::new();
            for request in requests {
                let entries: Vec<Entry> = request
                    .messages
                    .iter()
                    .map(|&i| Entry {
                        reference: pendings[i].reference.clone().unwrap_or_default(),
                        number: pendings[i].number.clone().unwrap_or_default(),
                        content: pendings[i].content.clone(),
                        sender_id: pendings[i].sender_id.clone(),
                    })
                    .collect();
                let provider = Arc::clone(&slot.provider);
                let provider_permits = Arc::clone(&slot.semaphore);
                let global = Arc::clone(&self.global);
                let pacer = slot.pacer.clone();
                let (retries, backoff) = (self.throttle_retries, self.throttle_backoff);
                tasks.spawn(
                    async move {
                        let result = run_request(
                            provider,
                            provider_permits,
                            global,
                            pacer,
                            &entries,
                            request.uniform,
                            retries,
                            backoff,
                            deadline,
                        )
                        .await;
                        (request.messages, result)
                    }
                    .in_current_span(),
                );
            }

            let mut refused: Vec<usize> = Vec::new();
            let mut refusal: Option<Reason> = None;
            while let Some(joined) = tasks.join_next().await {
                let (indexes, (attempts, result)) = match joined {
                    Ok(done) => done,
                    // A provider panicked inside its task: nobody knows what it sent.
                    Err(err) => {
                        tracing::error!(provider = %name, error = %err, "request task failed");
                        continue;
                    }
                };
                for &i in &indexes {
                    pendings[i]
                        .tried
                        .extend(std::iter::repeat_n(name.clone(), attempts));
                }
                match result {
                    RequestResult::Verdicts(verdicts) => {
                        // One verdict per entry, in the request's order.
                        for (&i, verdict) in indexes.iter().zip(verdicts) {
                            pendings[i].outcome = Some(match verdict {
                                EntryVerdict::Accepted(message_id) => Outcome::Accepted {
                                    provider: name.clone(),
                                    message_id,
                                },
                                EntryVerdict::Rejected(reason) => Outcome::Rejected {
                                    provider: Some(name.clone()),
                                    reason,
                                    retry_safe: false,
                                },
                                EntryVerdict::Unknown(cause) => Outcome::Unknown {
                                    provider: name.clone(),
                                    cause,
                                },
                            });
                        }
                    }
                    RequestResult::Refused {
                        reason,
                        retry_safe: true,
                    } => {
                        for &i in &indexes {
                            last_refusal.insert(i, (name.clone(), reason.clone()));
                        }
                        refused.extend(indexes);
                        refusal = Some(reason);
                    }
                    RequestResult::Refused {
                        reason,
                        retry_safe: false,
                    } => {
                        for &i in &indexes {
                            pendings[i].outcome = Some(Outcome::Rejected {
                                provider: Some(name.clone()),
                                reason: reason.clone(),
                                retry_safe: false,
                            });
                        }
                    }
                    RequestResult::Deadline => {
                        for &i in &indexes {
                            pendings[i].outcome = Some(Outcome::Rejected {
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
                        for &i in &indexes {
                            pendings[i].outcome = Some(Outcome::Unknown {
                                provider: name.clone(),
                                cause: cause.clone(),
                            });
                        }
                    }
                }
            }
            // A task that panicked leaves its messages without outcome: they may have been
            // sent, so they end unknown rather than move on.
            for &i in &fit {
                if pendings[i].outcome.is_none() && !refused.contains(&i) {
                    pendings[i].outcome = Some(Outcome::Unknown {
                        provider: name.clone(),
                        cause: "the request task failed".to_owned(),
                    });
                }
            }
            if let Some(reason) = refusal {
                let hop = Hop {
                    from: name.clone(),
                    to: self
                        .slots
                        .get(position + 1)
                        .map(|s| s.provider.name().to_owned()),
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

        for i in remaining {
            pendings[i].outcome = Some(match last_refusal.remove(&i) {
                Some((provider, reason)) => Outcome::Rejected {
                    provider: Some(provider),
                    reason,
                    retry_safe: true,
                },
                None if too_big.contains(&i) => local_reject(
                    RejectKind::InvalidContent,
                    "the content or sender id is longer than every provider allows".to_owned(),
                ),
                None => local_reject(
                    RejectKind::NoProvider,
                    "no provider could take the message".to_owned(),
                ),
            });
        }

        let deliveries: Vec<Delivery> = pendings
            .into_iter()
            .enumerate()
            .map(|(index, p)| Delivery {
                index,
                to: p.to,
                number: p.number,
                client_ref: p.client_ref,
                reference: p.reference.filter(|_| !p.tried.is_empty()),
                segments: p.segments,
                tried: p.tried,
                outcome: p
                    .outcome
                    .unwrap_or_else(|| local_reject(RejectKind::NoProvider, "not sent".to_owned())),
            })
            .collect();
        let report = Report { deliveries };
        if tracing::enabled!(tracing::Level::DEBUG) {
            for d in &report.deliveries {
                let number =
                    smsgate_transport::secret::mask_number(d.number.as_deref().unwrap_or(&d.to));
                let (verdict, provider) = match &d.outcome {
                    Outcome::Accepted { provider, .. } => ("accepted", Some(provider.as_str())),
                    Outcome::Rejected { provider, .. } => ("rejected", provider.as_deref()),
                    Outcome::Unknown { provider, .. } => ("unknown", Some(provider.as_str())),
                };
                tracing::debug!(index = d.index, number = %number, verdict, provider, hops = d.tried.len(), "outcome");
            }
        }
        tracing::info!(
            accepted = report.accepted(),
            rejected = report.rejected(),
            unknown = report.unknown(),
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
                    .remove(&(provider.clone(), message_id.clone()))
                    .or_else(|| {
                        self.slots
                            .iter()
                            .find(|s| {
                                s.provider.name() == provider && s.provider.status_batch().is_some()
                            })
                            .map(|_| DeliveryStatus {
                                provider: provider.clone(),
                                message_id: message_id.clone(),
                                number: d.number.clone(),
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

/// The result of one request after throttle retries.
enum RequestResult {
    /// One verdict per entry, in the request's order.
    Verdicts(Vec<EntryVerdict>),
    Refused {
        reason: Reason,
        retry_safe: bool,
    },
    Unknown(String),
    Deadline,
}

/// Sends one request, retrying it on the same provider while the provider throttles it
/// (nothing was sent) and retries remain. Returns the attempts made and the result.
#[allow(clippy::too_many_arguments)]
async fn run_request(
    provider: Arc<dyn Provider>,
    provider_permits: Arc<Semaphore>,
    global: Arc<Semaphore>,
    pacer: Option<Arc<Pacer>>,
    entries: &[Entry],
    uniform: bool,
    retries: u32,
    backoff: Duration,
    deadline: Option<Instant>,
) -> (usize, RequestResult) {
    let mut attempts = 0usize;
    let mut throttles = 0u32;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return (attempts, RequestResult::Deadline);
        }
        let submission = {
            let (Ok(_global), Ok(_own)) =
                (global.acquire().await, provider_permits.acquire().await)
            else {
                return (attempts, RequestResult::Deadline);
            };
            if let Some(pacer) = &pacer {
                pacer.wait().await;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return (attempts, RequestResult::Deadline);
            }
            attempts += 1;
            let span = tracing::info_span!(
                "smsgate.attempt",
                provider = provider.name(),
                recipients = entries.len(),
                attempt = attempts
            );
            let future = provider.submit(entries, uniform).instrument(span.clone());
            let submission = match deadline {
                Some(d) => match tokio::time::timeout_at(d.into(), future).await {
                    Ok(submission) => submission,
                    Err(_) => Submission::Unknown(
                        "the deadline passed while the request was in flight".to_owned(),
                    ),
                },
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
                // Match by reference without copying: the provider may omit or reorder entries,
                // and the first verdict for a reference wins.
                let position: HashMap<&str, usize> = entries
                    .iter()
                    .enumerate()
                    .map(|(k, e)| (e.reference.as_str(), k))
                    .collect();
                let mut slots: Vec<Option<EntryVerdict>> = vec![None; entries.len()];
                for (reference, verdict) in verdicts {
                    if let Some(slot) = position
                        .get(reference.as_str())
                        .and_then(|&k| slots.get_mut(k))
                    {
                        slot.get_or_insert(verdict);
                    }
                }
                let verdicts = slots
                    .into_iter()
                    .map(|slot| slot.unwrap_or_else(|| unlisted.clone()))
                    .collect();
                return (attempts, RequestResult::Verdicts(verdicts));
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
                    _ => tokio::time::sleep(wait).await,
                }
            }
            Submission::Refused {
                reason, retry_safe, ..
            } => return (attempts, RequestResult::Refused { reason, retry_safe }),
            Submission::Unknown(cause) => return (attempts, RequestResult::Unknown(cause)),
        }
    }
}
