//! Outcomes as JSON lines or text, and the closing summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};
use smsgate::{Delivery, Outcome, RejectKind};

/// One message's result as the CLI reports it.
pub struct Row {
    /// Position in the input.
    pub index: usize,
    /// CSV line, when the message came from a CSV file.
    pub line: Option<u64>,
    /// The recipient as given.
    pub to: Arc<str>,
    /// Your reference.
    pub client_ref: Option<Arc<str>>,
    /// The verdict (`None` when the row was not handed to the gate).
    pub delivery: Option<Delivery>,
    /// Why the row was refused before the gate saw it (unreadable, repeated).
    pub unreadable: Option<String>,
    /// Why the row was never sent (the run was stopped before it was read).
    pub not_sent: Option<&'static str>,
    /// The outcome an earlier run of the same ledger job recorded (the row is not sent again).
    pub recorded: Option<Recorded>,
}

/// An outcome read back from the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The ledger state (`accepted`, `delivered`, `rejected`, `unknown`, ...).
    pub state: &'static str,
    /// The provider that settled it.
    pub provider: Option<String>,
    /// Its message id there.
    pub message_id: Option<String>,
    /// Why (rejected, unknown).
    pub reason: Option<String>,
    /// For a rejection: whether another attempt is safe.
    pub retry_safe: Option<bool>,
}

impl Recorded {
    fn status(&self) -> Status {
        match self.state {
            "rejected" => Status::Rejected,
            "unknown" => Status::Unknown,
            _ => Status::Accepted,
        }
    }
}

/// The verdict's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
    /// Unknown.
    Unknown,
    /// Never sent: the run was stopped first (safe to send again).
    NotSent,
}

impl Status {
    /// The exit code this status calls for: 0 accepted, 1 rejected or not sent, 3 unknown.
    fn exit_code(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::Rejected | Self::NotSent => 1,
            Self::Unknown => 3,
        }
    }
}

impl Row {
    /// A row that was never sent because the run stopped before it was read.
    pub fn not_sent(
        index: usize,
        line: Option<u64>,
        to: Arc<str>,
        client_ref: Option<Arc<str>>,
    ) -> Self {
        Self {
            index,
            line,
            to,
            client_ref,
            delivery: None,
            unreadable: None,
            not_sent: Some(STOPPED),
            recorded: None,
        }
    }

    /// Accepted, rejected, unknown or not sent.
    pub fn status(&self) -> Status {
        if let Some(recorded) = &self.recorded {
            return recorded.status();
        }
        match self.delivery.as_ref().map(|d| &d.outcome) {
            Some(Outcome::Accepted { .. }) => Status::Accepted,
            Some(Outcome::Unknown { .. }) => Status::Unknown,
            Some(Outcome::NotSent { .. }) => Status::NotSent,
            None if self.not_sent.is_some() => Status::NotSent,
            Some(Outcome::Rejected { .. }) | None => Status::Rejected,
        }
    }

    /// The provider that decided, if any.
    pub fn provider(&self) -> Option<&str> {
        if let Some(recorded) = &self.recorded {
            return recorded.provider.as_deref();
        }
        match self.delivery.as_ref().map(|d| &d.outcome) {
            Some(Outcome::Accepted { provider, .. } | Outcome::Unknown { provider, .. }) => {
                Some(provider)
            }
            Some(Outcome::Rejected {
                provider: Some(provider),
                ..
            }) => Some(provider),
            _ => None,
        }
    }

    /// The row as one JSON object.
    pub fn to_json(&self) -> Value {
        let mut out = json!({"index": self.index, "to": &*self.to});
        if let Some(line) = self.line {
            out["line"] = json!(line);
        }
        if let Some(client_ref) = &self.client_ref {
            out["client_ref"] = json!(&**client_ref);
        }
        if let Some(recorded) = &self.recorded {
            out["status"] = json!(match recorded.status() {
                Status::Accepted => "accepted",
                Status::Rejected => "rejected",
                _ => "unknown",
            });
            out["state"] = json!(recorded.state);
            out["provider"] = json!(recorded.provider);
            out["message_id"] = json!(recorded.message_id);
            if let Some(reason) = &recorded.reason {
                out["reason"] = json!(reason);
            }
            if let Some(retry_safe) = recorded.retry_safe {
                out["retry_safe"] = json!(retry_safe);
            }
            out["recorded"] = json!(true);
            return out;
        }
        let Some(delivery) = &self.delivery else {
            if let Some(reason) = self.not_sent {
                out["status"] = json!("not_sent");
                out["reason"] = json!(reason);
                out["retry_safe"] = json!(true);
            } else {
                out["status"] = json!("rejected");
                out["reason"] = json!(self.unreadable);
                out["retry_safe"] = json!(false);
            }
            return out;
        };
        out["number"] = json!(delivery.number.as_deref());
        out["segments"] = json!(delivery.segments.parts);
        out["tried"] = json!(
            delivery
                .tried
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
        );
        match &delivery.outcome {
            Outcome::Accepted {
                provider,
                message_id,
            } => {
                out["status"] = json!("accepted");
                out["provider"] = json!(provider.as_str());
                out["message_id"] = json!(message_id);
            }
            Outcome::Rejected {
                provider,
                reason,
                retry_safe,
            } => {
                out["status"] = json!("rejected");
                out["provider"] = json!(provider.as_ref().map(|p| p.as_str()));
                out["code"] = json!(reason.code);
                out["reason"] = json!(reason.text);
                out["class"] = json!(kind_name(&reason.kind));
                out["retry_safe"] = json!(retry_safe);
            }
            Outcome::Unknown { provider, cause } => {
                out["status"] = json!("unknown");
                out["provider"] = json!(provider.as_str());
                out["cause"] = json!(cause);
            }
            Outcome::NotSent { reason } => {
                out["status"] = json!("not_sent");
                out["reason"] = json!(reason);
                out["retry_safe"] = json!(true);
            }
        }
        out
    }

    /// The row as one line of text: the providers that refused it before the one that settled
    /// it are named (from `refusals`), and a rejection says whether sending it again is safe.
    pub fn to_text(&self, refusals: &Refusals) -> String {
        let prefix = match self.line {
            Some(line) => format!("line {line:>6}  "),
            None => String::new(),
        };
        let verdict = match (&self.delivery, &self.unreadable, self.not_sent) {
            _ if self.recorded.is_some() => recorded_text(self.recorded.as_ref()),
            (Some(delivery), _, _) => {
                let retry = match &delivery.outcome {
                    Outcome::Rejected {
                        retry_safe: true, ..
                    } => " (safe to send again)",
                    Outcome::Rejected {
                        retry_safe: false, ..
                    } => " (do not resend as is)",
                    _ => "",
                };
                format!("{}{}{retry}", delivery.outcome, refusals.hops(delivery))
            }
            (None, Some(reason), _) => format!("rejected: {reason}"),
            (None, None, Some(reason)) => format!("not sent: {reason}"),
            (None, None, None) => "rejected".to_owned(),
        };
        // What a vendor or server wrote (reasons, excerpts) is printed with its control
        // characters escaped: it must not act on the terminal.
        let line = format!("{prefix}{:<20} {verdict}", self.to);
        smsgate_transport::redact::escape_controls(&line).into_owned()
    }
}

/// A recorded outcome as text: `accepted by nxcloud as ID (recorded by an earlier run)`.
fn recorded_text(recorded: Option<&Recorded>) -> String {
    let Some(r) = recorded else {
        return String::new();
    };
    let by = r
        .provider
        .as_deref()
        .map(|p| format!(" by {p}"))
        .unwrap_or_default();
    let detail = match (&r.message_id, &r.reason) {
        (Some(id), _) if r.status() == Status::Accepted => format!(" as {id}"),
        (_, Some(reason)) => format!(": {reason}"),
        _ => String::new(),
    };
    format!("{}{by}{detail} (recorded by an earlier run)", r.state)
}

fn kind_name(kind: &RejectKind) -> String {
    match kind {
        RejectKind::Vendor(class) => class.to_string(),
        RejectKind::InvalidNumber(_) => "invalid-number".to_owned(),
        RejectKind::InvalidContent => "invalid-content".to_owned(),
        RejectKind::Duplicate { .. } => "duplicate".to_owned(),
        RejectKind::DeadlineExceeded => "deadline".to_owned(),
        RejectKind::NoProvider => "no-provider".to_owned(),
    }
}

/// Why a row read after a stop was not sent.
const STOPPED: &str = "the run was stopped before this row was sent";

/// Counts per provider and status.
#[derive(Default)]
pub struct Summary {
    counts: BTreeMap<String, [u64; 4]>,
    tally: crate::progress::Tally,
    exit_code: u8,
}

impl Summary {
    /// Counts `row`.
    pub fn add(&mut self, row: &Row) {
        let status = row.status();
        match status {
            Status::Accepted => self.tally.accepted += 1,
            Status::Rejected => self.tally.rejected += 1,
            Status::Unknown => self.tally.unknown += 1,
            Status::NotSent => self.tally.not_sent += 1,
        }
        let slot = self
            .counts
            .entry(row.provider().unwrap_or("(none)").to_owned())
            .or_default();
        slot[status as usize] += 1;
        self.exit_code = self.exit_code.max(status.exit_code());
    }

    /// Rows counted so far, by outcome.
    pub fn tally(&self) -> crate::progress::Tally {
        self.tally
    }

    /// 0 all accepted, 1 some rejected or not sent, 3 some unknown.
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    /// The closing table.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>10} {:>10}",
            "provider", "accepted", "rejected", "unknown", "not sent"
        )?;
        let mut total = [0u64; 4];
        for (provider, counts) in &self.counts {
            writeln!(
                out,
                "{provider:<12} {:>10} {:>10} {:>10} {:>10}",
                counts[0], counts[1], counts[2], counts[3]
            )?;
            for (t, c) in total.iter_mut().zip(counts) {
                *t += c;
            }
        }
        writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>10} {:>10}",
            "total", total[0], total[1], total[2], total[3]
        )
    }
}

/// Whole requests a provider refused during a run (authentication, balance, permissions...):
/// filled by the gate's failover hook, named in text lines and warned about once per provider.
#[derive(Clone, Default)]
pub struct Refusals(Arc<std::sync::Mutex<BTreeMap<String, Refusal>>>);

/// What one provider refused.
#[derive(Debug, Clone)]
struct Refusal {
    /// The first refusal's reason (vendor text and code).
    reason: String,
    /// Its class, for the hint.
    kind: RejectKind,
    /// Messages refused with whole requests.
    messages: usize,
    /// Where they went next (`None`: nowhere, they ended rejected).
    moved_to: BTreeMap<String, usize>,
    ended: usize,
}

impl Refusals {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Refusal>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a failover hop.
    pub fn record(&self, hop: &smsgate::Hop) {
        let mut refusals = self.lock();
        let refusal = refusals
            .entry(hop.from.as_str().to_owned())
            .or_insert_with(|| Refusal {
                reason: smsgate_transport::secret::mask_numbers_in(&hop.reason.to_string())
                    .into_owned(),
                kind: hop.reason.kind.clone(),
                messages: 0,
                moved_to: BTreeMap::new(),
                ended: 0,
            });
        refusal.messages += hop.messages;
        match &hop.to {
            Some(to) => {
                *refusal.moved_to.entry(to.as_str().to_owned()).or_default() += hop.messages
            }
            None => refusal.ended += hop.messages,
        }
    }

    /// `after nxcloud refused: invalid sign (code 1003)` for the providers `delivery` tried
    /// before the one that settled it (empty when none refused).
    fn hops(&self, delivery: &Delivery) -> String {
        let last = match &delivery.outcome {
            Outcome::Accepted { provider, .. } | Outcome::Unknown { provider, .. } => {
                Some(provider.as_str())
            }
            Outcome::Rejected {
                provider: Some(provider),
                ..
            } => Some(provider.as_str()),
            _ => None,
        };
        let refusals = self.lock();
        let mut named: Vec<&str> = Vec::new();
        for provider in delivery.tried.iter().map(|p| p.as_str()) {
            if Some(provider) != last && !named.contains(&provider) {
                named.push(provider);
            }
        }
        let parts: Vec<String> = named
            .into_iter()
            .filter_map(|p| {
                refusals
                    .get(p)
                    .map(|r| format!("{p} refused: {}", r.reason))
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" after {}", parts.join("; "))
        }
    }

    /// One warning per provider that refused whole requests (what, how many, where they went,
    /// what to check).
    pub fn warnings(&self) -> Vec<String> {
        self.lock()
            .iter()
            .map(|(provider, r)| {
                let mut went: Vec<String> = r
                    .moved_to
                    .iter()
                    .map(|(to, n)| format!("{n} moved to {to}"))
                    .collect();
                if r.ended > 0 {
                    went.push(format!("{} with no provider left", r.ended));
                }
                let hint = match r.kind {
                    RejectKind::Vendor(smsgate_transport::spec::ErrorClass::Auth) => {
                        "; check its credentials in the configuration"
                    }
                    RejectKind::Vendor(smsgate_transport::spec::ErrorClass::Account) => {
                        "; check its account (balance, channel, permissions)"
                    }
                    RejectKind::Vendor(smsgate_transport::spec::ErrorClass::RateLimit) => {
                        "; it throttled the requests (lower --concurrency or set a rate)"
                    }
                    _ => "",
                };
                format!(
                    "warning: {provider} refused whole requests ({} message(s): {}): {}{hint}",
                    r.messages,
                    went.join(", "),
                    r.reason
                )
            })
            .collect()
    }
}
