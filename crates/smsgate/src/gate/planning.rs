//! Planning: reading the input (numbers, segments, local refusals) and grouping messages into
//! the fewest requests a provider allows. No I/O; [`SmsGate::preview`] and
//! [`SmsGate::dry_run`] stop here.

use std::borrow::Cow;
use std::collections::HashMap;

use super::SmsGate;
use crate::message::{ControlCharacter, Message, Segments, control_character, segments};
use crate::outcome::{Delivery, Outcome, PhoneNumber, Reason, Reference, RejectKind, Tried};
use crate::provider::{Capacity, Entry};

/// One input message as the gate sends it, borrowed from the input (the number too, when the
/// input already is digits).
#[derive(Debug)]
pub(super) struct Pending<'m> {
    pub(super) message: &'m Message,
    /// The number as sent; `None` when it could not be read (then `rejected` is set).
    pub(super) number: Option<Cow<'m, str>>,
    /// Set only for a message that is to be sent.
    pub(super) reference: Option<Reference>,
    pub(super) segments: Segments,
    /// Refused before sending (invalid number or content, duplicate, no provider).
    pub(super) rejected: Option<Outcome>,
}

impl<'m> Pending<'m> {
    pub(super) fn content(&self) -> &'m str {
        &self.message.content
    }

    pub(super) fn sender_id(&self) -> Option<&'m str> {
        self.message.sender_id.as_deref()
    }

    /// The message's delivery at input position `index` (the reference only if it was sent).
    pub(super) fn delivery(&self, index: usize, tried: Tried, outcome: Outcome) -> Delivery {
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
    pub(super) fn entry(&self) -> Entry<'_> {
        self.entry_with(self.reference.as_ref().map_or("", Reference::as_str))
    }

    /// The entry, with `reference` (this message's reference, from a shared buffer).
    pub(super) fn entry_with<'e>(&'e self, reference: &'e str) -> Entry<'e> {
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

impl PlannedRequest {
    /// A request not yet given to a provider.
    fn unassigned(uniform: bool, messages: Vec<usize>) -> Self {
        Self {
            provider: String::new(),
            uniform,
            messages,
        }
    }
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
/// and the requests the first provider of each message's route would get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Per input message: segments, normalised number, or the local rejection.
    pub messages: Vec<PreviewMessage>,
    /// The planned requests.
    pub requests: Vec<PlannedRequest>,
}

/// Where round-robin and weighted routing stand while an input is planned in parts
/// ([`SmsGate::preview_continuing`], [`SmsGate::dry_run_continuing`]). Planning never moves the
/// gate's own turns; a cursor carries them from one part to the next.
#[derive(Debug, Clone, Default)]
pub struct RouteCursor {
    /// Messages routed through each of the router's lists so far (`None`: not started).
    counters: Option<Vec<u64>>,
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

/// A refusal by smsgate itself, before any provider (not retry-safe: sending it again would be
/// refused again).
pub(super) fn local_reject(kind: RejectKind, text: String) -> Outcome {
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

/// Why a message no provider can carry is refused.
pub(super) const TOO_BIG: &str = "the content or sender id is longer than every provider allows";

/// The (content, sender id) a uniform request shares.
type Key<'k> = (&'k str, Option<&'k str>);

impl SmsGate {
    /// Normalises, counts segments and refuses what cannot be sent (no I/O). Borrows from
    /// `messages`: nothing is copied for a message whose number already is digits.
    pub(super) fn prepare<'m>(&self, messages: &'m [Message]) -> Vec<Pending<'m>> {
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
            pendings.push(self.pending(message, segments, control));
        }
        if !self.allow_duplicates {
            reject_duplicates(&mut pendings);
        }
        pendings
    }

    /// `message` read: its number, or why it is refused before sending (`control`: the first
    /// control character of its content, if any).
    fn pending<'m>(
        &self,
        message: &'m Message,
        segments: Segments,
        control: Option<ControlCharacter>,
    ) -> Pending<'m> {
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
                pending.rejected = if message.content.is_empty() {
                    Some(local_reject(
                        RejectKind::InvalidContent,
                        "the content is empty".to_owned(),
                    ))
                } else if let Some(control) = control {
                    Some(local_reject(
                        RejectKind::InvalidContent,
                        control.to_string(),
                    ))
                } else if self.slots.is_empty() {
                    Some(Outcome::Rejected {
                        provider: None,
                        reason: Reason {
                            code: None,
                            text: "no provider is configured".to_owned(),
                            kind: RejectKind::NoProvider,
                        },
                        retry_safe: true,
                    })
                } else {
                    None
                };
                pending.number = Some(number);
            }
        }
        pending
    }

    /// Whether `pending` fits `capacity` (content and sender id lengths).
    pub(super) fn fits(capacity: &Capacity, pending: &Pending<'_>) -> bool {
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
    /// (content, sender id) group when it fits, mixed batches for the rest. Every index ends in
    /// exactly one request, in input order within it.
    pub(super) fn plan(
        capacity: &Capacity,
        pendings: &[Pending<'_>],
        indexes: Vec<usize>,
    ) -> Vec<PlannedRequest> {
        let uniform_cap = capacity.uniform_recipients.max(1);
        // One text that fits one request (most calls): that request, no grouping.
        if let Some(&first) = indexes.first() {
            let key = key_of(&pendings[first]);
            if indexes.len() <= uniform_cap && indexes.iter().all(|&i| key_of(&pendings[i]) == key)
            {
                return vec![PlannedRequest::unassigned(true, indexes)];
            }
        }
        let groups = group_by_text(pendings, &indexes);
        pack(capacity, pendings, groups)
    }

    /// Plans without sending: segments, local rejections and the requests the first provider of
    /// each message's route able to carry it would get.
    pub fn preview(&self, messages: &[Message]) -> Preview {
        self.preview_continuing(messages, &mut RouteCursor::default())
    }

    /// [`preview`](Self::preview) of one part of a longer input: `cursor` carries the
    /// round-robin and weighted turns from the parts before, as a send of the whole input would
    /// take them (a fresh cursor starts where the gate's next send would).
    pub fn preview_continuing(&self, messages: &[Message], cursor: &mut RouteCursor) -> Preview {
        let pendings = self.prepare(messages);
        let (planned, unplaceable) = self.plan_all(&pendings, cursor);
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
                        text: TOO_BIG.to_owned(),
                        kind: RejectKind::InvalidContent,
                    }),
                    _ => None,
                },
            })
            .collect();
        let requests = planned.into_iter().map(|(_, request)| request).collect();
        Preview { messages, requests }
    }

    /// Plans every sendable message onto the first provider of its route that can carry it:
    /// the requests (with the index of their provider's slot), and which messages no provider
    /// of their route can carry. Routes are drawn as a send would draw them next, without
    /// moving the gate's round-robin or weighted counters.
    fn plan_all(
        &self,
        pendings: &[Pending<'_>],
        cursor: &mut RouteCursor,
    ) -> (Vec<(usize, PlannedRequest)>, Vec<bool>) {
        let capacities: Vec<Capacity> = self.slots.iter().map(|s| s.provider.capacity()).collect();
        let mut by_slot: Vec<Vec<usize>> = vec![Vec::new(); self.slots.len()];
        let mut unplaceable = vec![false; pendings.len()];
        let counters = cursor
            .counters
            .get_or_insert_with(|| self.router.counters());
        for (i, pending) in pendings.iter().enumerate() {
            if pending.rejected.is_some() {
                continue;
            }
            let number = pending.number.as_deref().unwrap_or_default();
            let route = self.router.route(number, Some(counters));
            let placed = (0..)
                .map_while(|stage| self.router.slot_at(route, stage))
                .find(|&position| Self::fits(&capacities[position], pending));
            match placed {
                Some(position) => by_slot[position].push(i),
                None => unplaceable[i] = true,
            }
        }
        let mut requests = Vec::new();
        for (position, fit) in by_slot.into_iter().enumerate() {
            if fit.is_empty() {
                continue;
            }
            for mut request in Self::plan(&capacities[position], pendings, fit) {
                request.provider = self.slots[position].provider.name().to_owned();
                requests.push((position, request));
            }
        }
        (requests, unplaceable)
    }

    /// The exact requests the first provider of each message's route able to carry it would get,
    /// without sending anything (references are fresh, as a real send would use).
    pub fn dry_run(&self, messages: &[Message]) -> Vec<DryRunRequest> {
        self.dry_run_continuing(messages, &mut RouteCursor::default())
    }

    /// [`dry_run`](Self::dry_run) of one part of a longer input, continuing the round-robin and
    /// weighted turns of `cursor` (see [`preview_continuing`](Self::preview_continuing)).
    pub fn dry_run_continuing(
        &self,
        messages: &[Message],
        cursor: &mut RouteCursor,
    ) -> Vec<DryRunRequest> {
        let mut pendings = self.prepare(messages);
        let (planned, _) = self.plan_all(&pendings, cursor);
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
}

/// Refuses every repeat of a (number, content) pair still to be sent, pointing at its first
/// occurrence (which stays to be sent).
fn reject_duplicates(pendings: &mut [Pending<'_>]) {
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

/// The (content, sender id) of `pending`.
fn key_of<'k>(pending: &Pending<'k>) -> Key<'k> {
    (pending.content(), pending.sender_id())
}

/// `indexes` grouped by (content, sender id): groups in order of first appearance, indexes in
/// input order within each.
fn group_by_text<'k>(pendings: &[Pending<'k>], indexes: &[usize]) -> Vec<(Key<'k>, Vec<usize>)> {
    let mut groups: Vec<(Key<'k>, Vec<usize>)> = Vec::new();
    // Few texts: found by a scan; many: by a table, built once the scan gets long.
    let mut by_key: Option<HashMap<Key<'k>, usize>> = None;
    // Consecutive messages usually share their text: skip the look-up for a run.
    let mut last: Option<(Key<'k>, usize)> = None;
    for &i in indexes {
        let key = key_of(&pendings[i]);
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
    groups
}

/// The requests for `groups`: full uniform requests first; the remainder of a group joins the
/// mixed batches unless the whole call is this one group.
fn pack(
    capacity: &Capacity,
    pendings: &[Pending<'_>],
    groups: Vec<(Key<'_>, Vec<usize>)>,
) -> Vec<PlannedRequest> {
    let uniform_cap = capacity.uniform_recipients.max(1);
    let mixed_cap = capacity.mixed_recipients.max(1);
    let single_group = groups.len() == 1;
    let mut requests = Vec::new();
    let mut leftovers = Vec::new();
    for (_, group) in groups {
        let mut chunks = group.chunks(uniform_cap).peekable();
        while let Some(chunk) = chunks.next() {
            if chunk.len() == uniform_cap || (chunks.peek().is_none() && single_group) {
                requests.push(PlannedRequest::unassigned(true, chunk.to_vec()));
            } else {
                leftovers.extend_from_slice(chunk);
            }
        }
    }
    for chunk in leftovers.chunks(mixed_cap) {
        let first = key_of(&pendings[chunk[0]]);
        let uniform = chunk.iter().all(|&i| key_of(&pendings[i]) == first);
        requests.push(PlannedRequest::unassigned(uniform, chunk.to_vec()));
    }
    requests
}
