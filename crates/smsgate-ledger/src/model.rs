//! What the ledger stores and the operations every backend offers.

use std::fmt;

use smsgate_provider::{BoxFuture, DeliveryStatus};
use smsgate_transport::spec::DeliveryClass;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Loaded, not yet claimed by a worker.
    Pending,
    /// Claimed by a worker (with a lease), not yet sent.
    Claimed,
    /// Its request may have left: committed before sending.
    InFlight,
    /// A provider accepted it.
    Accepted,
    /// Refused (by a provider or before sending).
    Rejected,
    /// The request may have reached a provider, with no verdict: never resent automatically.
    Unknown,
    /// Never sent (a stop, a deadline): safe to send again.
    NotSent,
    /// The handset received it (a report or a poll).
    Delivered,
    /// The network could not deliver it.
    Undelivered,
    /// It expired before delivery.
    Expired,
}

impl State {
    /// Every state, in lifecycle order.
    pub const ALL: [Self; 10] = [
        Self::Pending,
        Self::Claimed,
        Self::InFlight,
        Self::Accepted,
        Self::Rejected,
        Self::Unknown,
        Self::NotSent,
        Self::Delivered,
        Self::Undelivered,
        Self::Expired,
    ];

    /// The name stored (`in_flight`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Claimed => "claimed",
            Self::InFlight => "in_flight",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Unknown => "unknown",
            Self::NotSent => "not_sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Expired => "expired",
        }
    }

    /// The state stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the message has its outcome: sent or not, it is never sent again by a resumed
    /// job (`not_sent` is not final: a rerun sends it).
    pub const fn is_final(self) -> bool {
        !matches!(
            self,
            Self::Pending | Self::Claimed | Self::InFlight | Self::NotSent
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the ledger keeps message texts or only their MD5 (the text may be personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextPolicy {
    /// Keep the text (a resumed job can send rows whose text the input no longer holds).
    #[default]
    Keep,
    /// Keep only the MD5 of the text.
    HashOnly,
}

/// One message of a job, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Its input position (row index): the message's identity within the job.
    pub position: u64,
    /// The reference sent with it.
    pub client_ref: String,
    /// The number, as sent (E.164 digits).
    pub number: String,
    /// The text, byte-exact.
    pub text: String,
    /// Its sender id, if any.
    pub sender_id: Option<String>,
}

impl NewMessage {
    /// A message without a sender id.
    pub fn new(
        position: u64,
        client_ref: impl Into<String>,
        number: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            position,
            client_ref: client_ref.into(),
            number: number.into(),
            text: text.into(),
            sender_id: None,
        }
    }
}

/// A message as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Input position.
    pub position: u64,
    /// Reference.
    pub client_ref: String,
    /// Number as sent.
    pub number: String,
    /// The text (`None` under [`TextPolicy::HashOnly`]).
    pub text: Option<String>,
    /// Lowercase hex MD5 of the text.
    pub text_md5: String,
    /// Sender id.
    pub sender_id: Option<String>,
    /// State.
    pub state: State,
    /// For a rejection: whether another attempt is safe.
    pub retry_safe: Option<bool>,
    /// The provider that settled it.
    pub provider: Option<String>,
    /// Its message id at that provider.
    pub provider_message_id: Option<String>,
    /// Every provider tried, in order.
    pub tried: Vec<String>,
    /// Why it was rejected or is unknown.
    pub reason: Option<String>,
    /// The worker that claimed it last.
    pub worker: Option<String>,
    /// The last delivery report's state and vendor status, if any.
    pub report: Option<(String, String)>,
    /// When it was marked in flight (UNIX milliseconds): its request left soon after.
    pub sent_ms: Option<u64>,
}

/// How a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Accepted by a provider.
    Accepted,
    /// Refused.
    Rejected {
        /// Whether another attempt is safe.
        retry_safe: bool,
    },
    /// No verdict: the request may have reached a provider.
    Unknown,
    /// Never sent.
    NotSent,
}

impl Settled {
    /// The state it stores.
    pub const fn state(self) -> State {
        match self {
            Self::Accepted => State::Accepted,
            Self::Rejected { .. } => State::Rejected,
            Self::Unknown => State::Unknown,
            Self::NotSent => State::NotSent,
        }
    }
}

/// The outcome of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Its input position.
    pub position: u64,
    /// How it ended.
    pub outcome: Settled,
    /// The provider that settled it.
    pub provider: Option<String>,
    /// Its message id there.
    pub provider_message_id: Option<String>,
    /// Every provider tried.
    pub tried: Vec<String>,
    /// Why (rejected, unknown, not sent).
    pub reason: Option<String>,
}

impl Settlement {
    /// Accepted by `provider` as `message_id`.
    pub fn accepted(
        position: u64,
        provider: impl Into<String>,
        message_id: impl Into<String>,
        tried: Vec<String>,
    ) -> Self {
        Self {
            position,
            outcome: Settled::Accepted,
            provider: Some(provider.into()),
            provider_message_id: Some(message_id.into()),
            tried,
            reason: None,
        }
    }

    /// Any other outcome, with its reason.
    pub fn other(position: u64, outcome: Settled, reason: impl Into<String>) -> Self {
        Self {
            position,
            outcome,
            provider: None,
            provider_message_id: None,
            tried: Vec::new(),
            reason: Some(reason.into()),
        }
    }
}

/// What [`Ledger::take`] did with a chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    /// The positions this worker claimed and marked in flight: send these.
    pub mine: Vec<u64>,
    /// The chunk's messages whose outcome is already recorded (by an earlier run, or by
    /// another worker that finished them), by position.
    pub settled: Vec<Message>,
    /// How many of the chunk's messages another worker holds (claimed, in flight, or being
    /// claimed at this moment): theirs to send and report.
    pub held_elsewhere: u64,
}

impl Taken {
    /// `mine`, and the other messages sorted into settled and held elsewhere.
    pub(crate) fn sorted(mine: Vec<u64>, others: Vec<Message>) -> Self {
        let (settled, held): (Vec<Message>, Vec<Message>) =
            others.into_iter().partition(|m| m.state.is_final());
        Self {
            mine,
            settled,
            held_elsewhere: held.len() as u64,
        }
    }
}

/// What [`Ledger::recover`] settled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Rows found in flight whose worker is gone: now `unknown`, by position.
    pub unknown: Vec<u64>,
    /// Claimed rows whose lease expired: back to `pending`.
    pub released: u64,
}

/// Where a delivery report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMatch {
    /// The job and position of the message it reports on (`None`: an id the ledger does not
    /// know; the report is kept anyway).
    pub message: Option<(String, u64)>,
    /// The message's state after the report.
    pub state: Option<State>,
}

/// How many messages of a job are in one state at one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// State.
    pub state: State,
    /// Provider (`None`: not settled by one).
    pub provider: Option<String>,
    /// Messages.
    pub messages: u64,
}

/// A ledger error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The ledger URL is not `sqlite:PATH` (or another backend's).
    #[error("invalid ledger URL {url:?}: {reason}")]
    Url {
        /// The URL (credentials redacted).
        url: String,
        /// Why.
        reason: String,
    },
    /// The database refused an operation.
    #[error("ledger database error: {0}")]
    Database(String),
    /// A transition the state machine does not allow (a row started twice, a settle of a row
    /// not in flight).
    #[error("ledger {job:?} position {position}: {reason}")]
    Transition {
        /// Job.
        job: String,
        /// Position.
        position: u64,
        /// Why.
        reason: String,
    },
}

/// The state of a message in `current` after a delivery report of `class`: only an accepted
/// message (or one a report already moved) takes a delivery state; a report still on its way
/// changes nothing.
pub(crate) fn after_report(current: State, class: DeliveryClass) -> State {
    let reported = match class {
        DeliveryClass::Delivered => State::Delivered,
        DeliveryClass::Undelivered | DeliveryClass::Rejected => State::Undelivered,
        DeliveryClass::Expired => State::Expired,
        DeliveryClass::Pending | DeliveryClass::Unknown => return current,
    };
    match current {
        State::Accepted | State::Delivered | State::Undelivered | State::Expired => reported,
        other => other,
    }
}

/// Which of the rows a report's provider message id matches (job, position, state, number) it
/// reports on: the only one, or (an id several recipients share: one request to many
/// numbers) the one whose number has the report's digits; `None` when the report names a
/// number none of them has.
pub(crate) fn reported_row(
    rows: Vec<(String, i64, String, String)>,
    number: Option<&str>,
) -> Option<(String, i64, String)> {
    let digits = |n: &str| n.chars().filter(char::is_ascii_digit).collect::<String>();
    let chosen = match (rows.len(), number) {
        (0, _) => return None,
        (1, _) | (_, None) => rows.into_iter().next(),
        (_, Some(number)) => {
            let wanted = digits(number);
            rows.into_iter().find(|row| digits(&row.3) == wanted)
        }
    };
    chosen.map(|(job, position, state, _)| (job, position, state))
}

/// The rows an outcome may be recorded for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Settling {
    /// Rows in flight (or claimed, for `not_sent`): [`Ledger::settle`].
    InFlight,
    /// Rows whose outcome is unknown: [`Ledger::resolve_unknown`].
    Unknown,
}

impl Settling {
    /// The SQL condition on the `state` column, `new_state` naming the new state's value.
    pub(crate) fn condition(self, state: &str, new_state: &str) -> String {
        match self {
            Self::InFlight => format!(
                "({state} = 'in_flight' OR ({state} = 'claimed' AND {new_state} = 'not_sent'))"
            ),
            Self::Unknown => format!("{state} = 'unknown'"),
        }
    }

    /// `Ok` when no row was `refused` (not in that state; the others are recorded), else the
    /// error naming the first.
    pub(crate) fn check(self, job: &str, refused: Vec<u64>) -> Result<(), LedgerError> {
        let Some(&position) = refused.first() else {
            return Ok(());
        };
        let what = match self {
            Self::InFlight => "not in flight: its outcome is already recorded",
            Self::Unknown => "not unknown: its outcome is already settled",
        };
        Err(LedgerError::Transition {
            job: job.to_owned(),
            position,
            reason: if refused.len() > 1 {
                format!(
                    "{what} ({} rows so; the others are recorded)",
                    refused.len()
                )
            } else {
                format!("{what} (the others are recorded)")
            },
        })
    }
}

/// A report kept unmatched because it arrived before its message's outcome was recorded (a
/// vendor may report within milliseconds of accepting).
pub(crate) struct EarlyReport {
    pub state: String,
    pub vendor_status: String,
    pub at: Option<String>,
    pub number: Option<String>,
}

/// What the early reports of an id (oldest first) make of a message just accepted with
/// `number`: its state, the last report (state, vendor status, time) and the report numbers
/// that are this message's (to mark them matched); `None` when none is its.
#[allow(clippy::type_complexity)]
pub(crate) fn after_early_reports(
    number: &str,
    reports: &[EarlyReport],
) -> Option<(State, (String, String, Option<String>), Vec<Option<String>>)> {
    let digits = |n: &str| n.chars().filter(char::is_ascii_digit).collect::<String>();
    let wanted = digits(number);
    let mine: Vec<&EarlyReport> = reports
        .iter()
        .filter(|r| r.number.as_deref().is_none_or(|n| digits(n) == wanted))
        .collect();
    let mut state = State::Accepted;
    let mut last = *mine.first()?;
    for report in &mine {
        let class = delivery_class(&report.state);
        if report_supersedes(state, class) {
            last = report;
        }
        state = after_report(state, class);
    }
    let mut numbers: Vec<Option<String>> = mine.iter().map(|r| r.number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    Some((
        state,
        (
            last.state.clone(),
            last.vendor_status.clone(),
            last.at.clone(),
        ),
        numbers,
    ))
}

/// The delivery class stored as `name`.
fn delivery_class(name: &str) -> DeliveryClass {
    [
        DeliveryClass::Delivered,
        DeliveryClass::Pending,
        DeliveryClass::Undelivered,
        DeliveryClass::Expired,
        DeliveryClass::Rejected,
    ]
    .into_iter()
    .find(|c| c.as_str() == name)
    .unwrap_or(DeliveryClass::Unknown)
}

/// Whether a report of `class` becomes the message's last report: one still on its way
/// (`pending`, `unknown`) never replaces a final one that came first (pushes overtake each
/// other).
pub(crate) fn report_supersedes(current: State, class: DeliveryClass) -> bool {
    let settled = matches!(
        current,
        State::Delivered | State::Undelivered | State::Expired
    );
    !(settled && matches!(class, DeliveryClass::Pending | DeliveryClass::Unknown))
}

/// The columns every backend selects for a [`Message`], in [`StoredRow`]'s order.
pub(crate) const COLUMNS: &str = "position, client_ref, number, text, text_md5, sender_id, state, \
     retry_safe, provider, provider_message_id, tried, reason, worker, report_state, report_status, sent_ms";

/// A message row as a backend reads it ([`COLUMNS`]), before its text fields are parsed.
pub(crate) struct StoredRow {
    pub position: i64,
    pub client_ref: String,
    pub number: String,
    pub text: Option<String>,
    pub text_md5: String,
    pub sender_id: Option<String>,
    pub state: String,
    pub retry_safe: Option<bool>,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub tried: String,
    pub reason: Option<String>,
    pub worker: Option<String>,
    pub report_state: Option<String>,
    pub report_status: Option<String>,
    pub sent_ms: Option<i64>,
}

impl From<StoredRow> for Message {
    fn from(row: StoredRow) -> Self {
        Self {
            // A negative position is no input row: it matches none (never row 0).
            position: u64::try_from(row.position).unwrap_or(u64::MAX),
            client_ref: row.client_ref,
            number: row.number,
            text: row.text,
            text_md5: row.text_md5,
            sender_id: row.sender_id,
            // A state this version does not know reads as unknown: never resent.
            state: State::parse(&row.state).unwrap_or(State::Unknown),
            retry_safe: row.retry_safe,
            provider: row.provider,
            provider_message_id: row.provider_message_id,
            tried: row
                .tried
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            reason: row.reason,
            worker: row.worker,
            report: row.report_state.zip(row.report_status),
            sent_ms: row.sent_ms.and_then(|ms| u64::try_from(ms).ok()),
        }
    }
}

/// Now, in UNIX milliseconds (what every time column holds).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A row already at `stored`'s position must be the same message as `new`: a job whose input
/// changed (a row inserted, a text edited) would otherwise report another message's outcome.
pub(crate) fn same_message(
    job: &str,
    new: &NewMessage,
    stored: (&str, &str, &str, Option<&str>),
) -> Result<(), LedgerError> {
    let (number, md5, client_ref, sender_id) = stored;
    if number == new.number
        && md5 == text_md5(&new.text)
        && client_ref == new.client_ref
        && sender_id == new.sender_id.as_deref()
    {
        return Ok(());
    }
    Err(changed_input(job, new.position))
}

/// The error for a job whose stored message at `position` is not the one given now.
pub(crate) fn changed_input(job: &str, position: u64) -> LedgerError {
    LedgerError::Transition {
        job: job.to_owned(),
        position,
        reason: "the job already holds another message at this input position (the input \
                 changed: another number, text, reference or sender id); a changed input is \
                 another job"
            .to_owned(),
    }
}

/// A ledger URL as an error may show it: a `postgres://` or `sqlite:` URL without its userinfo
/// and query string (either may hold a password); anything else not at all.
pub(crate) fn shown_url(url: &str) -> String {
    let known = ["postgres://", "postgresql://", "sqlite:"];
    if !known.iter().any(|scheme| url.starts_with(scheme)) {
        return "(not shown)".to_owned();
    }
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    smsgate_transport::redact::redact_url(without_query).into_owned()
}

/// Text a driver wrote about a connection string, its `password=...` values hidden.
pub(crate) fn without_passwords(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("password=") {
        let value_start = at + "password=".len();
        shown.push_str(&rest[..value_start]);
        shown.push_str(smsgate_transport::redact::REDACTED);
        let value_end = rest[value_start..]
            .find([' ', '&', '\'', '"'])
            .map_or(rest.len(), |end| value_start + end);
        rest = &rest[value_end..];
    }
    shown.push_str(rest);
    shown
}

/// Lowercase hex MD5 of a text (what the ledger keeps of every text).
pub(crate) fn text_md5(text: &str) -> String {
    smsgate_transport::sign::md5_hex(&[text.as_bytes()])
}

/// A position as stored (a signed 64-bit column).
pub(crate) fn stored_position(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

/// What every backend offers. Every method commits before it returns.
pub trait Ledger: Send + Sync {
    /// Adds `messages` to `job` (created if new); a position already there is left as it is.
    /// The number of rows added.
    fn load(&self, job: &str, messages: Vec<NewMessage>)
    -> BoxFuture<'_, Result<u64, LedgerError>>;

    /// Claims up to `limit` pending (or `not_sent`: never sent, safe to send) messages of `job`
    /// for `worker`, lowest positions first,
    /// with a lease of `lease_ms` (a worker that dies leaves them to [`Ledger::recover`]).
    fn claim(
        &self,
        job: &str,
        worker: &str,
        limit: usize,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>>;

    /// Claims those of `positions` that are pending or `not_sent` (rows another worker holds,
    /// or that have an outcome, are skipped), for `worker` with a lease of `lease_ms`: how a worker reading
    /// the input in order takes its share of each chunk.
    fn claim_positions(
        &self,
        job: &str,
        worker: &str,
        positions: Vec<u64>,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>>;

    /// The messages of `job` at `positions` (those it holds), by position.
    fn messages_at(
        &self,
        job: &str,
        positions: Vec<u64>,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>>;

    /// Marks `positions` (claimed by `worker`) in flight: call it, and let it return, before
    /// their requests leave. [`Ledger::start_through`] with no providers named.
    fn start(
        &self,
        job: &str,
        worker: &str,
        positions: Vec<u64>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        self.start_through(job, worker, positions, Vec::new())
    }

    /// Marks `positions` (claimed by `worker`) in flight, recording `providers`, every
    /// provider the send may go to (in order): until the row settles, its `tried` names them,
    /// so a row a crash leaves `unknown` is looked up at each of them (and only them).
    fn start_through(
        &self,
        job: &str,
        worker: &str,
        positions: Vec<u64>,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<(), LedgerError>>;

    /// The numbers of other jobs' messages that may have been sent from `from_ms` to `to_ms`
    /// and have no known outcome (in flight, unknown): a vendor's record for such a number
    /// could be theirs.
    fn unsettled_numbers_elsewhere(
        &self,
        job: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<String>, LedgerError>>;

    /// [`take`](Self::take), unless another worker is taking the same chunk right now: then
    /// `None` at once, and the caller reads on and takes this chunk later (when the other has
    /// loaded it). The default always takes.
    fn try_take(
        &self,
        job: &str,
        worker: &str,
        messages: Vec<NewMessage>,
        lease_ms: u64,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<Option<Taken>, LedgerError>> {
        let taken = self.take(job, worker, messages, lease_ms, providers);
        Box::pin(async move { taken.await.map(Some) })
    }

    /// A chunk of a job's input in one step: loads `messages` (refusing a changed one, as
    /// [`Ledger::load`]), claims those pending or not sent for `worker` and marks them in flight
    /// through `providers` ([`Ledger::start_through`]), and reads the others. What a worker
    /// reading its input calls before sending a chunk; the default calls those methods one by
    /// one, a backend does it in one transaction.
    fn take(
        &self,
        job: &str,
        worker: &str,
        messages: Vec<NewMessage>,
        lease_ms: u64,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<Taken, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        Box::pin(async move {
            let positions: Vec<u64> = messages.iter().map(|m| m.position).collect();
            self.load(&job, messages).await?;
            let claimed = self
                .claim_positions(&job, &worker, positions.clone(), lease_ms)
                .await?;
            let mine: Vec<u64> = claimed.iter().map(|m| m.position).collect();
            let others = positions
                .into_iter()
                .filter(|p| !mine.contains(p))
                .collect();
            let others = self.messages_at(&job, others).await?;
            self.start_through(&job, &worker, mine.clone(), providers)
                .await?;
            Ok(Taken::sorted(mine, others))
        })
    }

    /// Records outcomes of messages in flight (or claimed, for `not_sent`). Every row that is
    /// still in flight is recorded; a row that is not (a worker that took it over after this
    /// one's lease lapsed settled it) is an error naming it, after the others are committed.
    fn settle(
        &self,
        job: &str,
        settlements: Vec<Settlement>,
    ) -> BoxFuture<'_, Result<(), LedgerError>>;

    /// Settles what dead workers left in `job`: rows in flight of a worker whose lease ended
    /// (every row in flight when `all_in_flight`, as a single process resuming does) become
    /// `unknown`; claimed rows whose lease ended return to `pending`.
    fn recover(
        &self,
        job: &str,
        all_in_flight: bool,
    ) -> BoxFuture<'_, Result<Recovery, LedgerError>>;

    /// One message.
    fn message(
        &self,
        job: &str,
        position: u64,
    ) -> BoxFuture<'_, Result<Option<Message>, LedgerError>>;

    /// The messages of `job` in `states`, by position.
    fn messages(
        &self,
        job: &str,
        states: Vec<State>,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>>;

    /// How many messages of `job` a worker other than `worker` holds (claimed or in flight):
    /// what a worker through its input waits for. The default reads them; a backend counts.
    fn held_elsewhere(&self, job: &str, worker: &str) -> BoxFuture<'_, Result<u64, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        Box::pin(async move {
            let held = self
                .messages(&job, vec![State::Claimed, State::InFlight])
                .await?;
            Ok(held
                .iter()
                .filter(|m| m.worker.as_deref() != Some(worker.as_str()))
                .count() as u64)
        })
    }

    /// Waits until other workers may have settled messages since the last call, or for
    /// `timeout`: what a worker waiting for the others does between two counts of what they
    /// hold. The default waits `timeout`; PostgreSQL wakes when another worker's outcomes
    /// commit (its first call only starts listening, and returns at once).
    fn wait_for_settlements(&self, timeout: std::time::Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(timeout))
    }

    /// Records a delivery report, matched by provider and message id.
    fn record_report(
        &self,
        status: DeliveryStatus,
    ) -> BoxFuture<'_, Result<ReportMatch, LedgerError>>;

    /// Messages of `job` per state and provider.
    fn counts(&self, job: &str) -> BoxFuture<'_, Result<Vec<Count>, LedgerError>>;

    /// Settles messages whose outcome is `unknown` with what their provider later said: it
    /// lists them as received (accepted, with their id), or lists nothing (never sent: a
    /// rerun of the job sends them). Only `unknown` rows change.
    fn resolve_unknown(
        &self,
        job: &str,
        settlements: Vec<Settlement>,
    ) -> BoxFuture<'_, Result<(), LedgerError>>;

    /// Claims up to `limit` pending messages of `job` (never `not_sent` ones: a run does not
    /// retry what it could not send), lowest positions first: how a worker that has read its
    /// whole input takes the rows a dead worker's lapsed lease released.
    fn claim_released(
        &self,
        job: &str,
        worker: &str,
        limit: usize,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>>;

    /// Extends the lease of every message `worker` holds (claimed or in flight) in `job` to
    /// `lease_ms` from now: a live worker's heartbeat. The number of messages renewed.
    fn renew(
        &self,
        job: &str,
        worker: &str,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<u64, LedgerError>>;

    /// Those of `ids` that some message (of any job) holds as its id at `provider`.
    fn held_ids(
        &self,
        provider: &str,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<String>, LedgerError>>;
}
