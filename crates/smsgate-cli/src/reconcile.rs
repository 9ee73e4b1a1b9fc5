//! `smsgate reconcile --ledger URL --job NAME`: asks the providers what became of a job's
//! messages. Accepted messages without a final report are polled where the vendor answers
//! status queries; messages whose outcome is `unknown` are looked up where the vendor lists
//! what it received (the onbuka platform's `getSentRcd`): found, they are accepted with their
//! id; absent from a range that is long over, they were never accepted and become `not_sent`
//! (a rerun of the job sends them).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use smsgate::provider::SentRecord;
use smsgate::{DeliveryClass, DeliveryStatus, Provider};
use smsgate_ledger::{Ledger, Message, Settled, Settlement, State, TextPolicy};

use crate::cli::ReconcileArgs;
use crate::config::ConfigFile;
use crate::{CliError, note, print_line};

/// How much earlier than its row was marked in flight a vendor may have stamped a message
/// (clocks differ), and how much later (the chunk's requests, retries, clocks).
const BEFORE: Duration = Duration::from_secs(15 * 60);
const AFTER: Duration = Duration::from_secs(60 * 60);

/// Rows further apart than this are looked up in separate ranges.
const GAP: Duration = Duration::from_secs(60 * 60);

/// What reconcile did to one message.
struct Change {
    position: u64,
    number: String,
    provider: String,
    message_id: Option<String>,
    from: State,
    to: State,
    why: String,
}

/// Runs reconcile: exit 0 when nothing is left unknown, 3 when some rows stay unknown, 1 when
/// a query failed (and 2 for usage and configuration errors).
pub async fn reconcile(config: &ConfigFile, args: &ReconcileArgs) -> Result<u8, CliError> {
    let ledger = smsgate_ledger::open(&args.ledger, TextPolicy::Keep)
        .await
        .map_err(|err| CliError::Config(err.to_string()))?;
    let ledger_error = |err: smsgate_ledger::LedgerError| CliError::Io(err.to_string());
    if ledger
        .counts(&args.job)
        .await
        .map_err(ledger_error)?
        .is_empty()
    {
        return Err(CliError::Usage(format!(
            "the ledger holds no job {:?}",
            smsgate_transport::redact::escape_controls(&args.job)
        )));
    }
    let settle_after = Duration::from_secs(args.settle_after.saturating_mul(60));
    let mut run = Run {
        config,
        ledger,
        job: &args.job,
        providers: BTreeMap::new(),
        changes: Vec::new(),
        failed: false,
    };
    run.poll_accepted().await?;
    run.look_up_unknown(settle_after).await?;
    for change in &run.changes {
        let line = if args.json {
            serde_json::json!({
                "position": change.position,
                "number": change.number,
                "provider": change.provider,
                "message_id": change.message_id,
                "from": change.from.as_str(),
                "to": change.to.as_str(),
                "why": change.why,
            })
            .to_string()
        } else {
            format!(
                "row {:>7}  {:<16} {} -> {} ({}{}): {}",
                change.position,
                change.number,
                change.from,
                change.to,
                change.provider,
                change
                    .message_id
                    .as_deref()
                    .map(|id| format!(" {id}"))
                    .unwrap_or_default(),
                change.why
            )
        };
        print_line(&line)?;
    }
    let unknown = run
        .ledger
        .messages(&args.job, vec![State::Unknown])
        .await
        .map_err(ledger_error)?
        .len();
    note(format_args!(
        "{} message(s) of job {:?} changed; {unknown} still unknown",
        run.changes.len(),
        args.job
    ));
    Ok(if run.failed {
        1
    } else if unknown > 0 {
        3
    } else {
        0
    })
}

struct Run<'a> {
    config: &'a ConfigFile,
    ledger: Arc<dyn Ledger>,
    job: &'a str,
    /// Providers by name, built once (`None`: not configured, said once).
    providers: BTreeMap<String, Option<Arc<dyn Provider>>>,
    changes: Vec<Change>,
    failed: bool,
}

impl Run<'_> {
    fn provider(&mut self, name: &str) -> Option<Arc<dyn Provider>> {
        if let Some(known) = self.providers.get(name) {
            return known.clone();
        }
        let built = match crate::config::client(self.config, name, None) {
            Ok(provider) => Some(provider),
            Err(err) => {
                note(format_args!("cannot ask {name}: {err}"));
                self.failed = true;
                None
            }
        };
        self.providers.insert(name.to_owned(), built.clone());
        built
    }

    /// Polls accepted messages whose vendor answers status queries; each status is recorded
    /// like a pushed report.
    async fn poll_accepted(&mut self) -> Result<(), CliError> {
        let accepted = self
            .ledger
            .messages(self.job, vec![State::Accepted])
            .await
            .map_err(|err| CliError::Io(err.to_string()))?;
        for (name, messages) in by_provider(accepted) {
            let Some(provider) = self.provider(&name) else {
                continue;
            };
            if provider.status_batch().is_none() {
                continue; // its reports are pushed: `smsgate receive` takes them
            }
            let ids: Vec<String> = messages
                .iter()
                .filter_map(|m| m.provider_message_id.clone())
                .collect();
            let statuses = match smsgate::provider::poll_status(provider.as_ref(), &ids).await {
                Ok(statuses) => statuses,
                Err(err) => {
                    note(format_args!(
                        "{name}: status query failed: {}",
                        smsgate_transport::secret::mask_numbers_in(&err.to_string())
                    ));
                    self.failed = true;
                    continue;
                }
            };
            for status in statuses {
                self.record(status).await?;
            }
        }
        Ok(())
    }

    async fn record(&mut self, status: DeliveryStatus) -> Result<(), CliError> {
        let (provider, id) = (status.provider.clone(), status.message_id.clone());
        let why = format!("{} reports {}", provider, status.vendor_status);
        let number = status.number.clone().unwrap_or_default();
        let matched = self
            .ledger
            .record_report(status)
            .await
            .map_err(|err| CliError::Io(err.to_string()))?;
        if let (Some((job, position)), Some(to)) = (matched.message, matched.state)
            && job == self.job
            && to != State::Accepted
        {
            self.changes.push(Change {
                position,
                number,
                provider,
                message_id: Some(id),
                from: State::Accepted,
                to,
                why,
            });
        }
        Ok(())
    }

    /// Looks unknown messages up in what their vendor lists as received: the provider that
    /// settled them, or (a row a crash left, whose request may have gone to any provider)
    /// every provider configured now.
    async fn look_up_unknown(&mut self, settle_after: Duration) -> Result<(), CliError> {
        let ledger_error = |err: smsgate_ledger::LedgerError| CliError::Io(err.to_string());
        let mut unknown = self
            .ledger
            .messages(self.job, vec![State::Unknown])
            .await
            .map_err(ledger_error)?;
        let without_time = unknown.iter().filter(|m| m.sent_ms.is_none()).count();
        if without_time > 0 {
            note(format_args!(
                "{without_time} unknown message(s) have no send time (recorded by an older \
                 version): ask the provider before sending them again"
            ));
        }
        unknown.retain(|m| m.sent_ms.is_some());
        unknown.sort_by_key(|m| m.sent_ms);
        if unknown.is_empty() {
            return Ok(());
        }
        // Where each may have gone: the provider that settled it, or every provider its run
        // could send through (recorded when it was marked in flight). A row with neither
        // cannot be looked up.
        let candidates = |m: &Message| -> Vec<String> {
            match &m.provider {
                Some(name) => vec![name.clone()],
                None => m.tried.clone(),
            }
        };
        let mut unanswered: HashSet<u64> = HashSet::new();
        let nowhere: Vec<u64> = unknown
            .iter()
            .filter(|m| candidates(m).is_empty())
            .map(|m| m.position)
            .collect();
        if !nowhere.is_empty() {
            note(format_args!(
                "{} unknown message(s) have no record of the providers they may have gone to \
                 (recorded by an older version): ask the providers before sending them again",
                nowhere.len()
            ));
            unanswered.extend(nowhere);
        }
        let names: std::collections::BTreeSet<String> =
            unknown.iter().flat_map(&candidates).collect();
        // Per row: where it was found, and whether a candidate could not be asked.
        let mut found: BTreeMap<u64, (String, SentRecord)> = BTreeMap::new();
        let now = now_ms();
        for name in names {
            let rows: Vec<Message> = unknown
                .iter()
                .filter(|m| candidates(m).contains(&name) && !found.contains_key(&m.position))
                .cloned()
                .collect();
            let provider = self.provider(&name);
            let range = provider.as_ref().and_then(|p| p.sent_records_range());
            let (Some(provider), Some(range)) = (provider, range) else {
                note(format_args!(
                    "{} unknown message(s) may have gone to {name}, which cannot list what it \
                     received: ask {name} before sending them again",
                    rows.len()
                ));
                unanswered.extend(rows.iter().map(|m| m.position));
                continue;
            };
            for group in ranges(&rows, range) {
                let from = group[0]
                    .sent_ms
                    .unwrap_or_default()
                    .saturating_sub(ms(BEFORE));
                // Up to now, or the longest range from the first row (which still covers the
                // last row's send and the margin after it).
                let to = from.saturating_add(ms(range)).min(now);
                let records = match provider.sent_records(from, to).await {
                    Ok(records) => records,
                    Err(err) => {
                        note(format_args!(
                            "{name}: sent-records query failed: {}",
                            smsgate_transport::secret::mask_numbers_in(&err.to_string())
                        ));
                        self.failed = true;
                        unanswered.extend(group.iter().map(|m| m.position));
                        continue;
                    }
                };
                let ids: Vec<String> = records.iter().map(|r| r.message_id.clone()).collect();
                let taken: HashSet<String> = self
                    .ledger
                    .held_ids(&name, ids)
                    .await
                    .map_err(ledger_error)?
                    .into_iter()
                    .collect();
                // Numbers other jobs' unsettled messages went to meanwhile: a record for one
                // of them could be theirs.
                let elsewhere: HashSet<String> = self
                    .ledger
                    .unsettled_numbers_elsewhere(self.job, from, to)
                    .await
                    .map_err(ledger_error)?
                    .iter()
                    .map(|n| digits(n))
                    .collect();
                let (matched, ambiguous) = assign(&group, &records, &taken, &elsewhere);
                if !ambiguous.is_empty() {
                    note(format_args!(
                        "{} unknown message(s) cannot be told apart in what {name} lists (other \
                         messages to the same number at the same time): left unknown",
                        ambiguous.len()
                    ));
                    unanswered.extend(ambiguous);
                }
                for (position, record) in matched {
                    found.insert(position, (name.clone(), record));
                }
            }
        }
        let mut settlements = Vec::new();
        let mut failed_on = Vec::new();
        for message in &unknown {
            let (settlement, to, provider, why) = match found.remove(&message.position) {
                Some((name, record)) => {
                    if record.failed {
                        failed_on.push((name.clone(), record.message_id.clone()));
                    }
                    (
                        Settlement::accepted(
                            message.position,
                            name.clone(),
                            record.message_id,
                            message.tried.clone(),
                        ),
                        State::Accepted,
                        name.clone(),
                        format!("{name} lists it as received"),
                    )
                }
                // Over once every provider it may have gone to has had time to list it.
                None if !unanswered.contains(&message.position)
                    && message
                        .sent_ms
                        .unwrap_or_default()
                        .saturating_add(ms(settle_after))
                        <= now =>
                {
                    let asked = candidates(message).join(", ");
                    (
                        Settlement::other(
                            message.position,
                            Settled::NotSent,
                            format!(
                                "{asked} list(s) no message to this number received around its \
                                 send: never accepted (a rerun of the job sends it)"
                            ),
                        ),
                        State::NotSent,
                        asked.clone(),
                        format!("{asked} list(s) no such message"),
                    )
                }
                None => continue,
            };
            self.changes.push(Change {
                position: message.position,
                number: message.number.clone(),
                provider,
                message_id: settlement.provider_message_id.clone(),
                from: State::Unknown,
                to,
                why,
            });
            settlements.push(settlement);
        }
        self.ledger
            .resolve_unknown(self.job, settlements)
            .await
            .map_err(ledger_error)?;
        // The vendor took it but could not send it on.
        for (name, id) in failed_on {
            self.record(DeliveryStatus {
                provider: name,
                message_id: id,
                number: None,
                state: DeliveryClass::Undelivered,
                vendor_status: "sent failed".to_owned(),
                detail: None,
                at: None,
            })
            .await?;
        }
        Ok(())
    }
}

/// Which of `rows` (sorted by send time) the `records` of a provider are, by number: records
/// whose id a message holds are someone's already; a number with as many free records as rows
/// takes them in order; a number with fewer (some rows received, some not), or that another
/// job's unsettled message also went to (`elsewhere`, digits), cannot be told apart. The
/// rows matched, and the positions left ambiguous.
fn assign(
    rows: &[&Message],
    records: &[SentRecord],
    held: &HashSet<String>,
    elsewhere: &HashSet<String>,
) -> (Vec<(u64, SentRecord)>, Vec<u64>) {
    let mut free: BTreeMap<String, Vec<&SentRecord>> = BTreeMap::new();
    for record in records.iter().filter(|r| !held.contains(&r.message_id)) {
        free.entry(digits(&record.number)).or_default().push(record);
    }
    let mut wanted: BTreeMap<String, Vec<&Message>> = BTreeMap::new();
    for message in rows {
        wanted
            .entry(digits(&message.number))
            .or_default()
            .push(message);
    }
    let (mut matched, mut ambiguous) = (Vec::new(), Vec::new());
    for (number, messages) in wanted {
        let listed = free.get(&number).map_or(&[][..], Vec::as_slice);
        if listed.is_empty() {
            continue; // not received here
        }
        if listed.len() < messages.len() || elsewhere.contains(&number) {
            ambiguous.extend(messages.iter().map(|m| m.position));
            continue;
        }
        for (message, record) in messages.iter().zip(listed) {
            matched.push((message.position, (*record).clone()));
        }
    }
    (matched, ambiguous)
}

/// Messages by the provider that settled (or last tried) them.
fn by_provider(messages: Vec<Message>) -> BTreeMap<String, Vec<Message>> {
    let mut grouped: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for message in messages {
        let name = message
            .provider
            .clone()
            .or_else(|| message.tried.last().cloned());
        if let Some(name) = name {
            grouped.entry(name).or_default().push(message);
        }
    }
    grouped
}

/// Messages (sorted by send time) cut into groups that one query covers: no wider than
/// `range` with the margins, no gap over [`GAP`] inside.
fn ranges(messages: &[Message], range: Duration) -> Vec<Vec<&Message>> {
    let span = ms(range).saturating_sub(ms(BEFORE) + ms(AFTER));
    let mut groups: Vec<Vec<&Message>> = Vec::new();
    for message in messages {
        let at = message.sent_ms.unwrap_or_default();
        let fits = groups.last().is_some_and(|group| {
            let first = group[0].sent_ms.unwrap_or_default();
            let last = group[group.len() - 1].sent_ms.unwrap_or_default();
            at - first <= span && at - last <= ms(GAP)
        });
        match groups.last_mut() {
            Some(group) if fits => group.push(message),
            _ => groups.push(vec![message]),
        }
    }
    groups
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(ms)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn message(position: u64, sent_ms: u64) -> Message {
        Message {
            position,
            client_ref: String::new(),
            number: "+8613800138000".into(),
            text: None,
            text_md5: String::new(),
            sender_id: None,
            state: State::Unknown,
            retry_safe: None,
            provider: Some("itniotech".into()),
            provider_message_id: None,
            tried: vec!["itniotech".into()],
            reason: None,
            worker: None,
            report: None,
            sent_ms: Some(sent_ms),
        }
    }

    fn record(id: &str, number: &str) -> SentRecord {
        SentRecord {
            message_id: id.into(),
            number: number.into(),
            at: None,
            failed: false,
        }
    }

    #[test]
    fn records_are_matched_by_number_only_when_unambiguous() {
        let mut twice = message(1, 10);
        twice.number = "+8613800138000".into();
        let mut other = message(2, 20);
        other.number = "+8613900139000".into();
        let mut third = message(3, 30);
        third.number = "+447700900123".into();
        let first = message(0, 0);
        let rows = vec![&first, &twice, &other, &third];
        let records = vec![
            record("held", "8613900139000"),
            record("a", "8613800138000"),
            record("b", "8613900139000"),
            record("c", "447700900123"),
        ];
        let held: HashSet<String> = ["held".to_owned()].into();
        // +8613800138000 twice, one record: which was received cannot be told.
        let (matched, ambiguous) = assign(&rows, &records, &held, &HashSet::new());
        assert_eq!(ambiguous, vec![0, 1]);
        let ids: Vec<(u64, &str)> = matched
            .iter()
            .map(|(p, r)| (*p, r.message_id.as_str()))
            .collect();
        assert_eq!(ids, vec![(3, "c"), (2, "b")]);
        // Another job's unsettled message to +447700900123: its record could be theirs.
        let elsewhere: HashSet<String> = ["447700900123".to_owned()].into();
        let (matched, ambiguous) = assign(&rows, &records, &held, &elsewhere);
        assert!(ambiguous.contains(&3));
        assert!(matched.iter().all(|(p, _)| *p != 3));
    }

    #[test]
    fn rows_are_cut_at_gaps_and_at_the_range() {
        let hour = 3_600_000;
        let day = 24 * hour;
        let messages = vec![
            message(0, 0),
            message(1, 1000),
            message(2, 2 * hour), // a gap of two hours
            message(3, 2 * hour + 1),
        ];
        let groups = ranges(&messages, Duration::from_secs(31 * 24 * 3600));
        let positions: Vec<Vec<u64>> = groups
            .iter()
            .map(|g| g.iter().map(|m| m.position).collect())
            .collect();
        assert_eq!(positions, vec![vec![0, 1], vec![2, 3]]);
        // Rows 30 minutes apart over two days, with a one-day range: never wider than a day.
        let spread: Vec<Message> = (0..96).map(|i| message(i, i * 30 * 60_000)).collect();
        for group in ranges(&spread, Duration::from_millis(day)) {
            let first = group[0].sent_ms.unwrap();
            let last = group[group.len() - 1].sent_ms.unwrap();
            assert!(last - first + ms(BEFORE) + ms(AFTER) <= day);
        }
    }
}
