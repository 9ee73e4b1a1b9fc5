//! The inbox: every message the simulator received, kept in a bounded ring (the newest
//! [`SandboxConfig::inbox_capacity`](crate::SandboxConfig::inbox_capacity)), each with the raw
//! request it came in (secrets redacted), the answer given, the injected fault if any and what
//! became of its delivery-report pushes. Served as a web page and a JSON API (see
//! [`crate::web`]) and as methods of [`Sandbox`](crate::Sandbox).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::redact::Redactor;
use crate::state::{Fault, iso};

/// Messages an inbox keeps unless configured otherwise.
pub const DEFAULT_INBOX_CAPACITY: usize = 10_000;

/// Events a slow subscriber may fall behind by before it misses some ([`InboxEvent::Lagged`]).
const EVENT_BUFFER: usize = 4096;

/// Most formatted recipients remembered (about 1 MiB).
const FORMATTED_NUMBERS_CAP: usize = 16_384;

/// Longest request or answer body kept per request, in bytes (the rest is cut, and said so).
const MAX_KEPT_BODY: usize = 64 * 1024;

/// One message the simulator received, as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessage {
    /// The inbox's own id (1, 2, ...; never reused, even after [`Sandbox::clear`](crate::Sandbox::clear)).
    pub id: u64,
    /// When it was received (`2024-02-29T00:00:00Z`).
    pub received_at: String,
    /// When it was received, UNIX milliseconds.
    pub received_at_ms: u64,
    /// The vendor whose API received it (`itniotech`, `twilio`, ...).
    pub vendor: String,
    /// The vendor operation that carried it (`sendSms`, `sendBatch`, ...).
    pub operation: String,
    /// The recipient as the request gave it.
    pub to: String,
    /// The recipient in international format (`+86 138 0013 8000`), or as given when it does
    /// not parse as a phone number.
    pub to_formatted: String,
    /// The sender id, if the request gave one.
    pub from: Option<String>,
    /// The text, exactly as received.
    pub text: String,
    /// The encoding the text needs.
    pub encoding: TextEncoding,
    /// Length in the encoding's units (septets or UTF-16 units).
    pub units: usize,
    /// SMS parts the text costs.
    pub parts: usize,
    /// The id the vendor answered with (none for a message refused by an injected fault).
    pub vendor_message_id: Option<String>,
    /// The fault injected into this message or its request's answer, if any.
    pub fault: Option<InjectedFault>,
    /// The message's delivery outcome and its delivery-report pushes.
    pub report: DeliveryReport,
}

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// The GSM 03.38 7-bit alphabet.
    Gsm7,
    /// UCS-2.
    Ucs2,
}

/// A fault the simulator injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedFault {
    /// The number was refused individually (`reject` rate); the message was not accepted.
    Rejected,
    /// The request was answered HTTP 500 instead of the answer shown (the message was accepted).
    Http500,
    /// The connection was cut mid-answer (the message was accepted).
    ConnectionDropped,
    /// The answer was cut in half, malformed (the message was accepted).
    MalformedAnswer,
}

/// How the message ends, as status queries and delivery reports tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportOutcome {
    /// Delivered to the handset.
    Delivered,
    /// Not delivered.
    Undelivered,
}

/// Where the delivery-report pushes of a message stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    /// Nothing is pushed: no push URL, or the message was refused.
    NotPushed,
    /// Some pushes are queued or being retried.
    Pending,
    /// Every push was answered 2xx.
    Pushed,
    /// At least one push was dropped (queue full, or every attempt failed).
    Failed,
}

/// A message's delivery outcome and what became of its delivery-report pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// How it ends (none for a refused message).
    pub outcome: Option<ReportOutcome>,
    /// Where its pushes stand.
    pub push: PushState,
    /// Pushes produced for it (a vendor may push several: per part, or `sent` then final).
    pub pushes: u32,
    /// Pushes answered 2xx.
    pub pushes_delivered: u32,
    /// Pushes dropped.
    pub pushes_dropped: u32,
}

/// One header of a request, its value redacted if it may carry a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawHeader {
    /// The header's name, as received (lower case).
    pub name: String,
    /// Its value, or `[redacted]`.
    pub value: String,
}

/// The HTTP request a message came in, secrets redacted: the values of headers and parameters
/// whose names suggest a secret (authorization, signatures, keys, tokens, passwords) and any
/// secret of the sandbox's accounts wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string (without `?`), redacted.
    pub query: String,
    /// The headers in the order received, redacted.
    pub headers: Vec<RawHeader>,
    /// The body as text (invalid UTF-8 replaced), redacted (the rest kept byte for byte),
    /// cut after 64 KiB.
    pub body: String,
    /// The body's size in bytes as received.
    pub body_bytes: usize,
}

/// The answer the vendor's behaviour gave a request. With an injected fault
/// ([`InboxMessage::fault`]) the client got something else: an HTTP 500, a cut connection or
/// the first half of this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The body as text, redacted; cut after 64 KiB.
    pub body: String,
}

/// One message with the request it came in and the answer given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDetail {
    /// The message, as listed.
    pub message: InboxMessage,
    /// The request that carried it (one request may carry many messages).
    pub request: RawRequest,
    /// The answer to that request (none while it is being answered).
    pub answer: Option<RawAnswer>,
}

/// Which messages to list; every field left `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFilter {
    /// Recipients containing these digits (`8613800138000`, `138 0013`; `+`, spaces and
    /// dashes ignored); text without digits matches the recipient as text.
    pub to: Option<String>,
    /// Only this vendor's messages.
    pub vendor: Option<String>,
    /// Texts containing this (case-insensitive).
    pub text: Option<String>,
    /// Received at or after this instant, UNIX milliseconds.
    pub since_ms: Option<u64>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
}

impl MessageFilter {
    /// Whether `message` passes the filter (all but the limit).
    fn matches(&self, entry: &Entry) -> bool {
        if let Some(vendor) = self.vendor.as_deref().filter(|v| !v.is_empty()) {
            if entry.vendor != vendor {
                return false;
            }
        }
        if let Some(since) = self.since_ms {
            if entry.at_ms < since {
                return false;
            }
        }
        if let Some(to) = self.to.as_deref().filter(|t| !t.trim().is_empty()) {
            let wanted: String = to.chars().filter(char::is_ascii_digit).collect();
            let matched = if wanted.is_empty() {
                entry.to.to_lowercase().contains(&to.trim().to_lowercase())
            } else {
                let digits: String = entry.to.chars().filter(char::is_ascii_digit).collect();
                digits.contains(&wanted)
            };
            if !matched {
                return false;
            }
        }
        if let Some(text) = self.text.as_deref().filter(|t| !t.is_empty()) {
            if !entry.text.to_lowercase().contains(&text.to_lowercase()) {
                return false;
            }
        }
        true
    }
}

/// Messages listed, newest first, with the inbox's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    /// The messages that pass the filter, newest first.
    pub messages: Vec<InboxMessage>,
    /// Messages the inbox holds now (filtered or not).
    pub kept: usize,
    /// Messages dropped to stay within the capacity since the inbox was last cleared.
    pub dropped: u64,
    /// Most messages the inbox keeps.
    pub capacity: usize,
}

/// What happened in the inbox, as [`InboxSubscription`] and `GET /_sandbox/events` tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboxEvent {
    /// A message arrived (its request already answered).
    Received {
        /// The message.
        message: InboxMessage,
        /// Messages held now.
        kept: usize,
        /// Messages dropped so far.
        dropped: u64,
        /// The id of the oldest message still kept: older ones were dropped.
        oldest_kept: Option<u64>,
    },
    /// A message changed: one of its delivery-report pushes went out or was dropped.
    Updated {
        /// The message as it is now.
        message: InboxMessage,
    },
    /// The inbox was emptied.
    Cleared,
    /// This subscriber fell behind and missed this many events: list the messages again.
    Lagged {
        /// Events missed.
        missed: u64,
    },
}

impl InboxEvent {
    /// The event's name on the SSE stream (`received`, `updated`, `cleared`, `lagged`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Received { .. } => "received",
            Self::Updated { .. } => "updated",
            Self::Cleared => "cleared",
            Self::Lagged { .. } => "lagged",
        }
    }
}

/// A live stream of [`InboxEvent`]s, from [`Sandbox::subscribe`](crate::Sandbox::subscribe).
#[derive(Debug)]
pub struct InboxSubscription {
    receiver: broadcast::Receiver<InboxEvent>,
    closed: watch::Receiver<bool>,
}

impl InboxSubscription {
    /// The next event; `None` once the sandbox shuts down.
    pub async fn next(&mut self) -> Option<InboxEvent> {
        let received = tokio::select! {
            received = self.receiver.recv() => received,
            _ = self.closed.wait_for(|closed| *closed) => return None,
        };
        match received {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(InboxEvent::Lagged { missed }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// One kept message.
#[derive(Debug)]
struct Entry {
    id: u64,
    at_ms: u64,
    vendor: &'static str,
    operation: &'static str,
    to: String,
    from: Option<String>,
    text: String,
    vendor_message_id: Option<String>,
    fault: Option<InjectedFault>,
    outcome: Option<ReportOutcome>,
    pushes: u32,
    pushes_delivered: u32,
    pushes_dropped: u32,
    request: Arc<RawRequest>,
    answer: Option<Arc<RawAnswer>>,
    /// Whether [`InboxEvent::Received`] went out (after its request was answered).
    announced: bool,
}

impl Entry {
    /// The message as listed, but for `to_formatted` (left empty: [`Inbox::formatted`] fills
    /// it once the ring's lock is released, parsing numbers being the slow part).
    fn message(&self) -> InboxMessage {
        let segments = smsgate::segments(&self.text);
        let push = if self.pushes == 0 {
            PushState::NotPushed
        } else if self.pushes_dropped > 0
            && self.pushes_delivered + self.pushes_dropped >= self.pushes
        {
            PushState::Failed
        } else if self.pushes_delivered >= self.pushes {
            PushState::Pushed
        } else {
            PushState::Pending
        };
        InboxMessage {
            id: self.id,
            received_at: iso(self.at_ms),
            received_at_ms: self.at_ms,
            vendor: self.vendor.to_owned(),
            operation: self.operation.to_owned(),
            to: self.to.clone(),
            to_formatted: String::new(),
            from: self.from.clone(),
            text: self.text.clone(),
            encoding: match segments.encoding {
                smsgate::Encoding::Gsm7 => TextEncoding::Gsm7,
                smsgate::Encoding::Ucs2 => TextEncoding::Ucs2,
            },
            units: segments.units,
            parts: segments.parts.max(1),
            vendor_message_id: self.vendor_message_id.clone(),
            fault: self.fault,
            report: DeliveryReport {
                outcome: self.outcome,
                push,
                pushes: self.pushes,
                pushes_delivered: self.pushes_delivered,
                pushes_dropped: self.pushes_dropped,
            },
        }
    }
}

/// `8613800138000` or `+8613800138000` as `+86 138 0013 8000`; anything that does not parse
/// as an international number as it is.
fn format_number(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 15 {
        return raw.to_owned();
    }
    match phonenumber::parse(None, format!("+{digits}")) {
        Ok(number) => number
            .format()
            .mode(phonenumber::Mode::International)
            .to_string(),
        Err(_) => raw.to_owned(),
    }
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Entry>,
    last_id: u64,
    dropped: u64,
}

impl Ring {
    fn get_mut(&mut self, id: u64) -> Option<&mut Entry> {
        let index = self.entries.binary_search_by_key(&id, |e| e.id).ok()?;
        self.entries.get_mut(index)
    }
}

/// The store behind the page, the API and [`Sandbox`](crate::Sandbox)'s inbox methods.
#[derive(Debug)]
pub struct Inbox {
    capacity: usize,
    redactor: Redactor,
    ring: Mutex<Ring>,
    events: broadcast::Sender<InboxEvent>,
    /// Set at shutdown: every subscription ends (an open page must not hold the server up).
    closed: watch::Sender<bool>,
    /// Recipients formatted so far (cleared when it reaches [`FORMATTED_NUMBERS_CAP`]).
    formatted_numbers: Mutex<HashMap<String, String>>,
}

impl Inbox {
    /// An empty inbox keeping the newest `capacity` messages (0 keeps none), redacting the
    /// `secrets` given (the accounts' secret settings) from what it keeps.
    pub fn new(capacity: usize, secrets: Vec<String>) -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Self {
            capacity,
            redactor: Redactor::new(secrets),
            ring: Mutex::new(Ring::default()),
            events,
            closed: watch::Sender::new(false),
            formatted_numbers: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a message not kept at all (capacity 0).
    fn count_dropped(&self) {
        let mut ring = self.lock();
        ring.last_id += 1;
        ring.dropped += 1;
    }

    /// `message` with its recipient formatted, from the memo when it was formatted before.
    fn formatted(&self, mut message: InboxMessage) -> InboxMessage {
        let known = self
            .formatted_numbers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&message.to)
            .cloned();
        message.to_formatted = known.unwrap_or_else(|| {
            let formatted = format_number(&message.to);
            let mut memo = self
                .formatted_numbers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if memo.len() >= FORMATTED_NUMBERS_CAP {
                memo.clear();
            }
            memo.insert(message.to.clone(), formatted.clone());
            formatted
        });
        message
    }

    /// Whether messages are kept at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    fn send(&self, event: impl FnOnce() -> InboxEvent) {
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(event());
        }
    }

    /// Adds a message of a request being answered; it is announced by
    /// [`Inbox::answered`]. Returns its id.
    fn add(&self, new: NewEntry) -> u64 {
        let mut ring = self.lock();
        ring.last_id += 1;
        let id = ring.last_id;
        while ring.entries.len() >= self.capacity {
            ring.entries.pop_front();
            ring.dropped += 1;
        }
        ring.entries.push_back(Entry {
            id,
            at_ms: new.at_ms,
            vendor: new.vendor,
            operation: new.operation,
            to: new.to,
            from: new.from,
            text: new.text,
            vendor_message_id: new.vendor_message_id,
            fault: new.fault,
            outcome: new.outcome,
            pushes: 0,
            pushes_delivered: 0,
            pushes_dropped: 0,
            request: new.request,
            answer: None,
            announced: false,
        });
        id
    }

    /// Records the answer to the request that carried messages `ids` and announces them.
    fn answered(&self, ids: &[u64], answer: &Arc<RawAnswer>, fault: Option<InjectedFault>) {
        let mut announced = Vec::new();
        let (kept, dropped, oldest_kept) = {
            let mut ring = self.lock();
            for id in ids {
                if let Some(entry) = ring.get_mut(*id) {
                    entry.answer = Some(Arc::clone(answer));
                    if entry.fault.is_none() {
                        entry.fault = fault;
                    }
                    entry.announced = true;
                    if self.events.receiver_count() > 0 {
                        announced.push(entry.message());
                    }
                }
            }
            (
                ring.entries.len(),
                ring.dropped,
                ring.entries.front().map(|e| e.id),
            )
        };
        for message in announced {
            self.send(|| InboxEvent::Received {
                message: self.formatted(message),
                kept,
                dropped,
                oldest_kept,
            });
        }
    }

    /// Counts one more push queued for message `id`.
    pub(crate) fn push_queued(&self, id: u64) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.pushes += 1;
        }
    }

    /// Records what became of one push of message `id`.
    pub(crate) fn push_done(&self, id: u64, delivered: bool) {
        let updated = {
            let mut ring = self.lock();
            let Some(entry) = ring.get_mut(id) else {
                return;
            };
            if delivered {
                entry.pushes_delivered += 1;
            } else {
                entry.pushes_dropped += 1;
            }
            (entry.announced && self.events.receiver_count() > 0).then(|| entry.message())
        };
        if let Some(message) = updated {
            self.send(|| InboxEvent::Updated {
                message: self.formatted(message),
            });
        }
    }

    /// The messages that pass `filter`, newest first, with the counts.
    pub fn messages(&self, filter: &MessageFilter) -> MessageList {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let (messages, kept, dropped) = {
            let ring = self.lock();
            let messages: Vec<InboxMessage> = ring
                .entries
                .iter()
                .rev()
                .filter(|entry| filter.matches(entry))
                .take(limit)
                .map(Entry::message)
                .collect();
            (messages, ring.entries.len(), ring.dropped)
        };
        MessageList {
            messages: messages.into_iter().map(|m| self.formatted(m)).collect(),
            kept,
            dropped,
            capacity: self.capacity,
        }
    }

    /// Message `id` with its request and answer, if still kept.
    pub fn message(&self, id: u64) -> Option<MessageDetail> {
        let (message, request, answer) = {
            let mut ring = self.lock();
            let entry = ring.get_mut(id)?;
            (
                entry.message(),
                Arc::clone(&entry.request),
                entry.answer.clone(),
            )
        };
        Some(MessageDetail {
            message: self.formatted(message),
            request: (*request).clone(),
            answer: answer.as_deref().cloned(),
        })
    }

    /// Empties the inbox and resets the dropped count.
    pub fn clear(&self) {
        {
            let mut ring = self.lock();
            ring.entries.clear();
            ring.dropped = 0;
        }
        self.send(|| InboxEvent::Cleared);
    }

    /// A live stream of what happens from now on.
    pub fn subscribe(&self) -> InboxSubscription {
        InboxSubscription {
            receiver: self.events.subscribe(),
            closed: self.closed.subscribe(),
        }
    }

    /// Ends every subscription (at shutdown).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// A message about to be added.
struct NewEntry {
    at_ms: u64,
    vendor: &'static str,
    operation: &'static str,
    to: String,
    from: Option<String>,
    text: String,
    vendor_message_id: Option<String>,
    fault: Option<InjectedFault>,
    outcome: Option<ReportOutcome>,
    request: Arc<RawRequest>,
}

/// A message as a vendor's behaviour reports it to the inbox ([`Call::store`](crate::simulate::Call::store),
/// [`Call::reject`](crate::simulate::Call::reject)).
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    /// The recipient as the request gave it.
    pub to: &'a str,
    /// The sender id, if any (empty counts as none).
    pub from: Option<&'a str>,
    /// The text.
    pub text: &'a str,
}

/// One request being answered, as the inbox sees it: what it needs to keep the messages the
/// request carries. The redacted request is built once, at the first message.
pub(crate) struct Capture<'a> {
    inbox: &'a Inbox,
    vendor: &'static str,
    operation: &'static str,
    method: &'a Method,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    request: OnceLock<Arc<RawRequest>>,
    added: Mutex<Vec<u64>>,
}

impl<'a> Capture<'a> {
    /// A capture of one request.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        inbox: &'a Inbox,
        vendor: &'static str,
        operation: &'static str,
        method: &'a Method,
        path: &'a str,
        query: &'a str,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Self {
        Self {
            inbox,
            vendor,
            operation,
            method,
            path,
            query,
            headers,
            body,
            request: OnceLock::new(),
            added: Mutex::new(Vec::new()),
        }
    }

    fn added(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.added.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps one message of this request: accepted under `vendor_message_id` with `outcome`,
    /// or refused (`fault`). Returns its inbox id (none when the inbox keeps nothing).
    pub(crate) fn add(
        &self,
        sent: Sent<'_>,
        vendor_message_id: Option<&str>,
        outcome: Option<ReportOutcome>,
        fault: Option<InjectedFault>,
    ) -> Option<u64> {
        if !self.inbox.enabled() {
            self.inbox.count_dropped();
            return None;
        }
        let request = self.request.get_or_init(|| {
            Arc::new(self.inbox.redactor.request(
                self.method,
                self.path,
                self.query,
                self.headers,
                self.body,
                MAX_KEPT_BODY,
            ))
        });
        let id = self.inbox.add(NewEntry {
            at_ms: crate::state::now_millis(),
            vendor: self.vendor,
            operation: self.operation,
            to: sent.to.to_owned(),
            from: sent.from.filter(|f| !f.is_empty()).map(str::to_owned),
            text: sent.text.to_owned(),
            vendor_message_id: vendor_message_id.map(str::to_owned),
            fault,
            outcome,
            request: Arc::clone(request),
        });
        self.added().push(id);
        Some(id)
    }

    /// The inbox id of the last message kept from this request (the one a push belongs to).
    pub(crate) fn last(&self) -> Option<u64> {
        self.added().last().copied()
    }

    /// A tracker of one push of the last message kept, counted as queued.
    pub(crate) fn tracker(&self, inbox: &Arc<Inbox>) -> Option<PushTracker> {
        let message = self.last()?;
        inbox.push_queued(message);
        Some(PushTracker {
            inbox: Arc::clone(inbox),
            message,
        })
    }

    /// Records the answer given (`status`, `body`) and the fault injected into it, and
    /// announces this request's messages.
    pub(crate) fn finish(&self, status: u16, body: &[u8], fault: Fault) {
        let ids = std::mem::take(&mut *self.added());
        if ids.is_empty() {
            return;
        }
        let answer = Arc::new(RawAnswer {
            status,
            body: self.inbox.redactor.answer(body, MAX_KEPT_BODY),
        });
        let fault = match fault {
            Fault::None => None,
            Fault::Http500 => Some(InjectedFault::Http500),
            Fault::Drop => Some(InjectedFault::ConnectionDropped),
            Fault::Malformed => Some(InjectedFault::MalformedAnswer),
        };
        self.inbox.answered(&ids, &answer, fault);
    }
}

/// Tells the inbox what became of one delivery-report push.
#[derive(Debug)]
pub(crate) struct PushTracker {
    inbox: Arc<Inbox>,
    message: u64,
}

impl PushTracker {
    /// The push was answered 2xx (`true`) or dropped (`false`).
    pub(crate) fn done(self, delivered: bool) {
        self.inbox.push_done(self.message, delivered);
    }
}

/// `since` as the API takes it: UNIX milliseconds, or `2024-02-29T00:00:00Z` (fractional
/// seconds allowed, UTC only).
pub fn parse_since(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<u64>() {
        return Some(ms);
    }
    let text = text.strip_suffix('Z').or_else(|| text.strip_suffix('z'))?;
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut date = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let (time, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut time = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (time.next()?.ok()?, time.next()?.ok()?, time.next()?.ok()?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let millis = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
        digits.parse::<i64>().ok()?
    };
    // Howard Hinnant's days-from-civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(secs * 1000 + millis).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn since_reads_milliseconds_and_utc_times() {
        assert_eq!(parse_since("1709164800000"), Some(1_709_164_800_000));
        assert_eq!(parse_since("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(
            parse_since("2024-02-29T00:00:01.5Z"),
            Some(1_709_164_801_500)
        );
        assert_eq!(parse_since("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            iso(parse_since("2021-09-01T04:00:00Z").unwrap()),
            "2021-09-01T04:00:00Z"
        );
        assert_eq!(parse_since("2024-02-29T00:00:00+01:00"), None);
        assert_eq!(parse_since("yesterday"), None);
    }

    #[test]
    fn numbers_are_formatted_when_they_parse() {
        assert_eq!(format_number("8613800138000"), "+86 138 0013 8000");
        assert_eq!(format_number("+447400123456"), "+44 7400 123456");
        assert_eq!(format_number("not a number"), "not a number");
    }
}
