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
    /// The verdict (`None` number when the row could not be read).
    pub delivery: Option<Delivery>,
    /// Why the row could not be read.
    pub unreadable: Option<String>,
}

/// The verdict's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
    /// Unknown.
    Unknown,
}

impl Row {
    /// Accepted, rejected or unknown.
    pub fn status(&self) -> Status {
        match self.delivery.as_ref().map(|d| &d.outcome) {
            Some(Outcome::Accepted { .. }) => Status::Accepted,
            Some(Outcome::Unknown { .. }) => Status::Unknown,
            Some(Outcome::Rejected { .. }) | None => Status::Rejected,
        }
    }

    /// The provider that decided, if any.
    pub fn provider(&self) -> Option<&str> {
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
        let Some(delivery) = &self.delivery else {
            out["status"] = json!("rejected");
            out["reason"] = json!(self.unreadable);
            out["retry_safe"] = json!(false);
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
        }
        out
    }

    /// The row as one line of text.
    pub fn to_text(&self) -> String {
        let prefix = match self.line {
            Some(line) => format!("line {line:>6}  "),
            None => String::new(),
        };
        let verdict = match (&self.delivery, &self.unreadable) {
            (Some(delivery), _) => delivery.outcome.to_string(),
            (None, Some(reason)) => format!("rejected: {reason}"),
            (None, None) => "rejected".to_owned(),
        };
        format!("{prefix}{:<20} {verdict}", self.to)
    }
}

fn kind_name(kind: &RejectKind) -> String {
    match kind {
        RejectKind::Vendor(class) => class.to_string(),
        RejectKind::InvalidNumber => "invalid-number".to_owned(),
        RejectKind::InvalidContent => "invalid-content".to_owned(),
        RejectKind::Duplicate { .. } => "duplicate".to_owned(),
        RejectKind::DeadlineExceeded => "deadline".to_owned(),
        RejectKind::NoProvider => "no-provider".to_owned(),
    }
}

/// Counts per provider and status.
#[derive(Default)]
pub struct Summary {
    counts: BTreeMap<String, [u64; 3]>,
    worst: Option<Status>,
}

impl Summary {
    /// Counts `row`.
    pub fn add(&mut self, row: &Row) {
        let status = row.status();
        let slot = self
            .counts
            .entry(row.provider().unwrap_or("(none)").to_owned())
            .or_default();
        slot[status as usize] += 1;
        self.worst = self.worst.max(Some(status));
    }

    /// 0 all accepted, 1 some rejected, 3 some unknown.
    pub fn exit_code(&self) -> u8 {
        match self.worst {
            None | Some(Status::Accepted) => 0,
            Some(Status::Rejected) => 1,
            Some(Status::Unknown) => 3,
        }
    }

    /// The closing table.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>10}",
            "provider", "accepted", "rejected", "unknown"
        )?;
        let mut total = [0u64; 3];
        for (provider, counts) in &self.counts {
            writeln!(
                out,
                "{provider:<12} {:>10} {:>10} {:>10}",
                counts[0], counts[1], counts[2]
            )?;
            for (t, c) in total.iter_mut().zip(counts) {
                *t += c;
            }
        }
        writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>10}",
            "total", total[0], total[1], total[2]
        )
    }
}
