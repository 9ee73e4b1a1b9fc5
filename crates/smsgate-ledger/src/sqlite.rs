//! The SQLite backend: one file (WAL), one connection behind a mutex, each operation a
//! transaction run off the async runtime's threads.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use smsgate_provider::{BoxFuture, DeliveryStatus};

use crate::model::{
    COLUMNS, Count, EarlyReport, Ledger, LedgerError, Message, NewMessage, Recovery, ReportMatch,
    Settlement, Settling, State, StoredRow, Taken, TextPolicy, after_early_reports, after_report,
    now_ms, report_supersedes, reported_row, same_message, stored_position, text_md5,
};

/// A ledger in one SQLite file (`sqlite:PATH`): the default, for one process.
#[derive(Clone)]
pub struct SqliteLedger {
    connection: Arc<Mutex<Connection>>,
    text: TextPolicy,
    /// Whether the index by provider message id is known to exist (made on first lookup).
    indexed: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for SqliteLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLedger")
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

fn db(err: rusqlite::Error) -> LedgerError {
    LedgerError::Database(err.to_string())
}

fn position(value: u64) -> i64 {
    stored_position(value)
}

fn read_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(StoredRow {
        position: row.get(0)?,
        client_ref: row.get(1)?,
        number: row.get(2)?,
        text: row.get(3)?,
        text_md5: row.get(4)?,
        sender_id: row.get(5)?,
        state: row.get(6)?,
        retry_safe: row.get(7)?,
        provider: row.get(8)?,
        provider_message_id: row.get(9)?,
        tried: row.get(10)?,
        reason: row.get(11)?,
        worker: row.get(12)?,
        report_state: row.get(13)?,
        report_status: row.get(14)?,
        sent_ms: row.get(15)?,
    }
    .into())
}

impl SqliteLedger {
    /// Opens (creating if needed) the ledger file at `path`, in WAL mode, its schema applied.
    pub fn open(path: impl AsRef<Path>, text: TextPolicy) -> Result<Self, LedgerError> {
        let connection = Connection::open(path).map_err(db)?;
        connection
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(db)?;
        Self::with_connection(connection, text)
    }

    /// A ledger in memory (tests, dry runs).
    pub fn open_in_memory(text: TextPolicy) -> Result<Self, LedgerError> {
        Self::with_connection(Connection::open_in_memory().map_err(db)?, text)
    }

    /// Opens a `sqlite:PATH` URL (`sqlite::memory:` for a ledger in memory).
    pub fn open_url(url: &str, text: TextPolicy) -> Result<Self, LedgerError> {
        match url.strip_prefix("sqlite:") {
            Some(":memory:") => Self::open_in_memory(text),
            Some(path) if !path.is_empty() => Self::open(path.trim_start_matches("//"), text),
            _ => Err(LedgerError::Url {
                url: crate::model::shown_url(url),
                reason: "expected sqlite:PATH".to_owned(),
            }),
        }
    }

    fn with_connection(connection: Connection, text: TextPolicy) -> Result<Self, LedgerError> {
        // Writers wait for each other (a sender and a receiver on one file) rather than fail;
        // with WAL, NORMAL survives a crash of the process (a power cut may lose the last
        // commits). A statement's undo journal (a batch of outcomes touches a page of the
        // provider-id index for nearly every row) stays in memory instead of spilling to a
        // temporary file page by page. The write-ahead log is copied back into the file every
        // 16 000 pages (64 MiB) rather than every 1000: a page written by several commits in
        // between is copied once (3-5 % less CPU a 100 000-row send; BENCHMARKS.md item 7).
        connection
            .execute_batch(
                "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; \
                 PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 16000;",
            )
            .map_err(db)?;
        connection.execute_batch(crate::SCHEMA).map_err(db)?;
        connection.execute_batch(crate::SQLITE_SCHEMA).map_err(db)?;
        // Ledgers created before `sent_ms` existed.
        let has_sent_ms: bool = connection
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('smsgate_messages') WHERE name = 'sent_ms'",
                [],
                |row| row.get(0),
            )
            .map_err(db)?;
        if !has_sent_ms {
            connection
                .execute_batch("ALTER TABLE smsgate_messages ADD COLUMN sent_ms BIGINT")
                .map_err(db)?;
        }
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            text,
            indexed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }

    /// Makes the index by provider message id if this ledger has none yet (once a process): a
    /// send records outcomes without it, and the first lookup of an id builds it (the sender,
    /// if one is running, then keeps it up to date).
    async fn index_provider_ids(&self) -> Result<(), LedgerError> {
        use std::sync::atomic::Ordering;
        if self.indexed.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.transaction(|tx| tx.execute_batch(crate::PROVIDER_ID_INDEX).map_err(db))
            .await?;
        self.indexed.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `work` in one immediate transaction, off the async threads.
    fn transaction<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, LedgerError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, LedgerError>> {
        let connection = Arc::clone(&self.connection);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
                let tx = connection
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(db)?;
                let value = work(&tx)?;
                tx.commit().map_err(db)?;
                Ok(value)
            })
            .await
            .map_err(|err| LedgerError::Database(format!("ledger task failed: {err}")))?
        })
    }
}

/// Binds `values` to `statement`'s parameters from `first` (1-based) on. A binding stays until it
/// is replaced: what a batch's rows share is bound once, the rest for each row.
fn bind(
    statement: &mut rusqlite::Statement<'_>,
    first: usize,
    values: &[&dyn rusqlite::ToSql],
) -> Result<(), LedgerError> {
    for (k, value) in values.iter().enumerate() {
        statement.raw_bind_parameter(first + k, value).map_err(db)?;
    }
    Ok(())
}

/// Rows one statement with a placeholder per row (`IN (?2, ?3, …)`) carries, well under
/// SQLite's limit on parameters.
const ROWS_PER_STATEMENT: usize = 200;

/// `?first, ?first+1, ...`: `count` numbered placeholders.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|k| format!("?{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records outcomes of rows in the state `from` says, then the reports of accepted ones that
/// arrived first.
fn record_outcomes(
    tx: &Transaction<'_>,
    job: &str,
    settlements: Vec<Settlement>,
    from: Settling,
) -> Result<Vec<u64>, LedgerError> {
    let mut refused = Vec::new();
    let now = now_ms();
    // Usually no report waits for its message: then none is looked up.
    let waiting: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM smsgate_reports WHERE matched = FALSE)")
        .map_err(db)?
        .query_row([], |row| row.get(0))
        .map_err(db)?;
    // One prepared statement, run once a row: SQLite has no round trip to save, and a row's
    // count of changes says whether it was in the state `from` expects (no list of updated
    // positions to build and read back).
    let sql = format!(
        "UPDATE smsgate_messages SET state = ?3, retry_safe = ?4, \
         provider = COALESCE(?5, provider), provider_message_id = ?6, tried = ?7, reason = ?8, \
         updated_ms = ?2 WHERE job = ?1 AND position = ?9 AND {}",
        from.condition("state", "?3")
    );
    let mut update = tx.prepare_cached(&sql).map_err(db)?;
    bind(&mut update, 1, &[&job, &now])?;
    for s in &settlements {
        let retry_safe = match s.outcome {
            crate::Settled::Rejected { retry_safe } => Some(retry_safe),
            _ => None,
        };
        bind(
            &mut update,
            3,
            &[
                &s.outcome.state().as_str(),
                &retry_safe,
                &s.provider,
                &s.provider_message_id,
                &s.tried.join(","),
                &s.reason,
                &position(s.position),
            ],
        )?;
        let changed = update.raw_execute().map_err(db)?;
        if changed == 0 {
            refused.push(s.position);
            continue;
        }
        if let (true, crate::Settled::Accepted, Some(provider), Some(id)) =
            (waiting, s.outcome, &s.provider, &s.provider_message_id)
        {
            apply_early_reports(tx, job, s.position, provider, id, now)?;
        }
    }
    Ok(refused)
}

/// Applies the reports of `provider`'s `id` that arrived before the message at `position` was
/// recorded accepted, and marks them matched.
fn apply_early_reports(
    tx: &Transaction<'_>,
    job: &str,
    at: u64,
    provider: &str,
    id: &str,
    now: i64,
) -> Result<(), LedgerError> {
    let reports = {
        let mut select = tx
            .prepare_cached(
                "SELECT state, vendor_status, at, number FROM smsgate_reports \
                 WHERE provider = ?1 AND message_id = ?2 AND matched = FALSE ORDER BY received_ms",
            )
            .map_err(db)?;
        select
            .query_map(params![provider, id], |row| {
                Ok(EarlyReport {
                    state: row.get(0)?,
                    vendor_status: row.get(1)?,
                    at: row.get(2)?,
                    number: row.get(3)?,
                })
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?
    };
    if reports.is_empty() {
        return Ok(());
    }
    let number: String = tx
        .query_row(
            "SELECT number FROM smsgate_messages WHERE job = ?1 AND position = ?2",
            params![job, position(at)],
            |row| row.get(0),
        )
        .map_err(db)?;
    let Some((state, (report_state, report_status, report_at), numbers)) =
        after_early_reports(&number, &reports)
    else {
        return Ok(());
    };
    tx.execute(
        "UPDATE smsgate_messages SET state = ?1, report_state = ?2, report_status = ?3, \
         report_at = ?4, updated_ms = ?5 WHERE job = ?6 AND position = ?7",
        params![
            state.as_str(),
            report_state,
            report_status,
            report_at,
            now,
            job,
            position(at)
        ],
    )
    .map_err(db)?;
    for number in numbers {
        tx.execute(
            "UPDATE smsgate_reports SET matched = TRUE WHERE provider = ?1 AND message_id = ?2 \
             AND matched = FALSE AND number IS ?3",
            params![provider, id, number],
        )
        .map_err(db)?;
    }
    Ok(())
}

/// Claims those of `positions` that are pending or not sent, for `worker`: the claimed
/// messages, by position.
fn claim_in(
    tx: &Transaction<'_>,
    job: &str,
    worker: &str,
    positions: &[u64],
    lease_ms: u64,
) -> Result<Vec<Message>, LedgerError> {
    let now = now_ms();
    let until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
    let mut update = tx
        .prepare_cached(
            "UPDATE smsgate_messages SET state = 'claimed', worker = ?1, lease_until_ms = ?2, \
             updated_ms = ?3 WHERE job = ?4 AND position = ?5 AND state IN ('pending', 'not_sent')",
        )
        .map_err(db)?;
    let mut claimed = Vec::new();
    for p in positions {
        if update
            .execute(params![worker, until, now, job, position(*p)])
            .map_err(db)?
            == 1
        {
            claimed.push(*p);
        }
    }
    messages_in(tx, job, &claimed)
}

fn messages_where(
    tx: &Transaction<'_>,
    filter: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Message>, LedgerError> {
    let ordered = if filter.contains("ORDER BY") {
        ""
    } else {
        " ORDER BY position"
    };
    let sql = format!("SELECT {COLUMNS} FROM smsgate_messages WHERE {filter}{ordered}");
    let mut statement = tx.prepare_cached(&sql).map_err(db)?;
    let rows = statement
        .query_map(values, read_message)
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    Ok(rows)
}

/// The messages of `job` at `positions`, by position.
fn messages_in(
    tx: &Transaction<'_>,
    job: &str,
    positions: &[u64],
) -> Result<Vec<Message>, LedgerError> {
    let sql = format!("SELECT {COLUMNS} FROM smsgate_messages WHERE job = ?1 AND position = ?2");
    let mut select = tx.prepare_cached(&sql).map_err(db)?;
    let mut found = Vec::with_capacity(positions.len());
    for p in positions {
        if let Some(message) = select
            .query_row(params![job, position(*p)], read_message)
            .optional()
            .map_err(db)?
        {
            found.push(message);
        }
    }
    found.sort_by_key(|m| m.position);
    Ok(found)
}

impl Ledger for SqliteLedger {
    fn load(
        &self,
        job: &str,
        messages: Vec<NewMessage>,
    ) -> BoxFuture<'_, Result<u64, LedgerError>> {
        let (job, keep) = (job.to_owned(), self.text == TextPolicy::Keep);
        self.transaction(move |tx| {
            let now = now_ms();
            tx.execute(
                "INSERT INTO smsgate_jobs (name, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![job, now],
            )
            .map_err(db)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO smsgate_messages (job, position, client_ref, number, text, text_md5, \
                     sender_id, state, created_ms, updated_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8) ON CONFLICT DO NOTHING",
                )
                .map_err(db)?;
            let mut stored = tx
                .prepare_cached(
                    "SELECT number, text_md5, client_ref, sender_id FROM smsgate_messages \
                     WHERE job = ?1 AND position = ?2",
                )
                .map_err(db)?;
            let mut added = 0;
            for m in &messages {
                let text = keep.then_some(m.text.as_str());
                let inserted = insert
                    .execute(params![
                        job,
                        position(m.position),
                        m.client_ref,
                        m.number,
                        text,
                        text_md5(&m.text),
                        m.sender_id,
                        now
                    ])
                    .map_err(db)?;
                if inserted == 1 {
                    added += 1;
                    continue;
                }
                let (number, md5, client_ref, sender_id): (String, String, String, Option<String>) =
                    stored
                        .query_row(params![job, position(m.position)], |row| {
                            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                        })
                        .map_err(db)?;
                same_message(&job, m, (&number, &md5, &client_ref, sender_id.as_deref()))?;
            }
            Ok(added)
        })
    }

    fn take(
        &self,
        job: &str,
        worker: &str,
        messages: Vec<NewMessage>,
        lease_ms: u64,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<Taken, LedgerError>> {
        let (job, worker, keep) = (
            job.to_owned(),
            worker.to_owned(),
            self.text == TextPolicy::Keep,
        );
        let tried = providers.join(",");
        self.transaction(move |tx| {
            let now = now_ms();
            tx.prepare_cached(
                "INSERT INTO smsgate_jobs (name, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .map_err(db)?
            .execute(params![job, now])
            .map_err(db)?;
            let until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
            let mut mine = Vec::with_capacity(messages.len());
            // The new rows, claimed and marked in flight as they are recorded (this transaction
            // is the claim): one prepared statement run once a row, whose change count says
            // whether the row was new; then the ones already there, a part at a time.
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO smsgate_messages (job, position, client_ref, number, text, \
                     text_md5, sender_id, state, worker, lease_until_ms, sent_ms, tried, created_ms, \
                     updated_ms) VALUES (?1, ?6, ?7, ?8, ?9, ?10, ?11, 'in_flight', ?3, ?4, ?2, ?5, \
                     ?2, ?2) ON CONFLICT DO NOTHING",
                )
                .map_err(db)?;
            // What every row shares is bound once (a binding outlives each run of the statement).
            bind(&mut insert, 1, &[&job, &now, &worker, &until, &tried])?;
            for part in messages.chunks(ROWS_PER_STATEMENT) {
                // The part's rows already there (not inserted now).
                let mut present: Vec<&NewMessage> = Vec::new();
                for m in part {
                    let at = position(m.position);
                    bind(
                        &mut insert,
                        6,
                        &[
                            &at,
                            &m.client_ref,
                            &m.number,
                            &keep.then_some(m.text.as_str()),
                            &text_md5(&m.text),
                            &m.sender_id,
                        ],
                    )?;
                    let added = insert.raw_execute().map_err(db)?;
                    if added > 0 {
                        mine.extend(u64::try_from(at).ok());
                    } else {
                        present.push(m);
                    }
                }
                if present.is_empty() {
                    continue;
                }
                let wanted: Vec<i64> = present.iter().map(|m| position(m.position)).collect();
                let sql = format!(
                    "SELECT position, number, text_md5, client_ref, sender_id FROM smsgate_messages \
                     WHERE job = ?1 AND position IN ({})",
                    placeholders(2, wanted.len())
                );
                let mut bound: Vec<&dyn rusqlite::ToSql> = vec![&job];
                bound.extend(wanted.iter().map(|p| p as &dyn rusqlite::ToSql));
                let mut select = tx.prepare_cached(&sql).map_err(db)?;
                let stored = select
                    .query_map(bound.as_slice(), |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            (
                                row.get::<_, String>(1)?,
                                row.get::<_, String>(2)?,
                                row.get::<_, String>(3)?,
                                row.get::<_, Option<String>>(4)?,
                            ),
                        ))
                    })
                    .map_err(db)?
                    .collect::<Result<std::collections::HashMap<_, _>, _>>()
                    .map_err(db)?;
                for m in present {
                    let Some((number, md5, client_ref, sender_id)) =
                        stored.get(&position(m.position))
                    else {
                        continue;
                    };
                    same_message(&job, m, (number, md5, client_ref, sender_id.as_deref()))?;
                }
                // Rows an earlier run recorded and never started (or left not sent): claimed
                // and marked in flight too.
                let sql = format!(
                    "UPDATE smsgate_messages SET state = 'in_flight', worker = ?1, lease_until_ms = ?2, \
                     updated_ms = ?3, sent_ms = ?3, provider = NULL, provider_message_id = NULL, \
                     tried = ?4 WHERE job = ?5 AND state IN ('pending', 'not_sent') \
                     AND position IN ({}) RETURNING position",
                    placeholders(6, wanted.len())
                );
                let mut bound: Vec<&dyn rusqlite::ToSql> = vec![&worker, &until, &now, &tried, &job];
                bound.extend(wanted.iter().map(|p| p as &dyn rusqlite::ToSql));
                let mut start = tx.prepare_cached(&sql).map_err(db)?;
                let started = start
                    .query_map(bound.as_slice(), |row| row.get::<_, i64>(0))
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                mine.extend(started.into_iter().filter_map(|p| u64::try_from(p).ok()));
            }
            mine.sort_unstable();
            let others: Vec<u64> = messages
                .iter()
                .map(|m| m.position)
                .filter(|p| mine.binary_search(p).is_err())
                .collect();
            let others = messages_in(tx, &job, &others)?;
            Ok(Taken::sorted(mine, others))
        })
    }

    fn claim(
        &self,
        job: &str,
        worker: &str,
        limit: usize,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        self.transaction(move |tx| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let now = now_ms();
            let until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
            // One immediate transaction: no other writer claims between the read and the update.
            let mut claimed = messages_where(
                tx,
                "job = ?1 AND state IN ('pending', 'not_sent') ORDER BY position LIMIT ?2",
                &[&job, &limit],
            )?;
            let mut update = tx
                .prepare_cached(
                    "UPDATE smsgate_messages SET state = 'claimed', worker = ?1, lease_until_ms = ?2, \
                     updated_ms = ?3 WHERE job = ?4 AND position = ?5",
                )
                .map_err(db)?;
            for m in &mut claimed {
                update
                    .execute(params![worker, until, now, job, position(m.position)])
                    .map_err(db)?;
                m.state = State::Claimed;
                m.worker = Some(worker.clone());
            }
            Ok(claimed)
        })
    }

    fn claim_positions(
        &self,
        job: &str,
        worker: &str,
        positions: Vec<u64>,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        self.transaction(move |tx| claim_in(tx, &job, &worker, &positions, lease_ms))
    }

    fn messages_at(
        &self,
        job: &str,
        positions: Vec<u64>,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let job = job.to_owned();
        self.transaction(move |tx| messages_in(tx, &job, &positions))
    }

    fn start_through(
        &self,
        job: &str,
        worker: &str,
        positions: Vec<u64>,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        let (job, worker, tried) = (job.to_owned(), worker.to_owned(), providers.join(","));
        self.transaction(move |tx| {
            let mut update = tx
                .prepare_cached(
                    "UPDATE smsgate_messages SET state = 'in_flight', updated_ms = ?1, sent_ms = ?1, \
                     provider = NULL, provider_message_id = NULL, tried = ?5 \
                     WHERE job = ?2 AND position = ?3 AND state = 'claimed' AND worker = ?4",
                )
                .map_err(db)?;
            let now = now_ms();
            for p in positions {
                if update
                    .execute(params![now, job, position(p), worker, tried])
                    .map_err(db)?
                    != 1
                {
                    return Err(LedgerError::Transition {
                        job: job.clone(),
                        position: p,
                        reason: format!("not claimed by {worker}: it cannot be sent"),
                    });
                }
            }
            Ok(())
        })
    }

    fn unsettled_numbers_elsewhere(
        &self,
        job: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<String>, LedgerError>> {
        let job = job.to_owned();
        let (from, to) = (stored_position(from_ms), stored_position(to_ms));
        self.transaction(move |tx| {
            let mut select = tx
                .prepare_cached(
                    "SELECT DISTINCT number FROM smsgate_messages WHERE job <> ?1 \
                     AND state IN ('in_flight', 'unknown') AND sent_ms BETWEEN ?2 AND ?3",
                )
                .map_err(db)?;
            let numbers = select
                .query_map(params![job, from, to], |row| row.get(0))
                .map_err(db)?
                .collect::<Result<Vec<String>, _>>()
                .map_err(db)?;
            Ok(numbers)
        })
    }

    fn settle(
        &self,
        job: &str,
        settlements: Vec<Settlement>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        let job = job.to_owned();
        let shown = job.clone();
        let recorded =
            self.transaction(move |tx| record_outcomes(tx, &job, settlements, Settling::InFlight));
        Box::pin(async move { Settling::InFlight.check(&shown, recorded.await?) })
    }

    fn recover(
        &self,
        job: &str,
        all_in_flight: bool,
    ) -> BoxFuture<'_, Result<Recovery, LedgerError>> {
        let job = job.to_owned();
        self.transaction(move |tx| {
            let now = now_ms();
            let lapsed = if all_in_flight { i64::MAX } else { now };
            let stranded = messages_where(
                tx,
                "job = ?1 AND state = 'in_flight' AND lease_until_ms <= ?2",
                &[&job, &lapsed],
            )?;
            tx.execute(
                "UPDATE smsgate_messages SET state = 'unknown', updated_ms = ?1, reason = \
                 'in flight when its worker stopped: the request may have reached the provider' \
                 WHERE job = ?2 AND state = 'in_flight' AND lease_until_ms <= ?3",
                params![now, job, lapsed],
            )
            .map_err(db)?;
            let released = tx
                .execute(
                    "UPDATE smsgate_messages SET state = 'pending', worker = NULL, \
                     lease_until_ms = NULL, updated_ms = ?1 \
                     WHERE job = ?2 AND state = 'claimed' AND lease_until_ms <= ?3",
                    params![now, job, lapsed],
                )
                .map_err(db)?;
            Ok(Recovery {
                unknown: stranded.into_iter().map(|m| m.position).collect(),
                released: released as u64,
            })
        })
    }

    fn message(
        &self,
        job: &str,
        position_: u64,
    ) -> BoxFuture<'_, Result<Option<Message>, LedgerError>> {
        let job = job.to_owned();
        self.transaction(move |tx| {
            let sql =
                format!("SELECT {COLUMNS} FROM smsgate_messages WHERE job = ?1 AND position = ?2");
            tx.query_row(&sql, params![job, position(position_)], read_message)
                .optional()
                .map_err(db)
        })
    }

    fn messages(
        &self,
        job: &str,
        states: Vec<State>,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let job = job.to_owned();
        self.transaction(move |tx| {
            // The states' own names (constants), never caller text.
            let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            if names.is_empty() {
                return Ok(Vec::new());
            }
            let filter = format!("job = ?1 AND state IN ({})", names.join(", "));
            messages_where(tx, &filter, &[&job])
        })
    }

    fn record_report(
        &self,
        status: DeliveryStatus,
    ) -> BoxFuture<'_, Result<ReportMatch, LedgerError>> {
        let indexed = self.index_provider_ids();
        let recorded = self.transaction(move |tx| {
            let now = now_ms();
            let candidates = {
                let mut select = tx
                    .prepare_cached(
                        "SELECT job, position, state, number FROM smsgate_messages \
                         WHERE provider = ?1 AND provider_message_id = ?2 \
                         ORDER BY job, position LIMIT 1000",
                    )
                    .map_err(db)?;
                select
                    .query_map(params![status.provider, status.message_id], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?
            };
            let found = reported_row(candidates, status.number.as_deref());
            tx.execute(
                "INSERT INTO smsgate_reports (provider, message_id, state, vendor_status, number, \
                 detail, at, received_ms, matched) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    status.provider,
                    status.message_id,
                    status.state.as_str(),
                    status.vendor_status,
                    status.number,
                    status.detail,
                    status.at,
                    now,
                    found.is_some()
                ],
            )
            .map_err(db)?;
            let Some((job, at, current)) = found else {
                return Ok(ReportMatch {
                    message: None,
                    state: None,
                });
            };
            let current = State::parse(&current).unwrap_or(State::Unknown);
            let next = after_report(current, status.state);
            if !report_supersedes(current, status.state) {
                return Ok(ReportMatch {
                    message: Some((job, u64::try_from(at).unwrap_or(u64::MAX))),
                    state: Some(next),
                });
            }
            tx.execute(
                "UPDATE smsgate_messages SET state = ?1, report_state = ?2, report_status = ?3, \
                 report_at = ?4, updated_ms = ?5 WHERE job = ?6 AND position = ?7",
                params![
                    next.as_str(),
                    status.state.as_str(),
                    status.vendor_status,
                    status.at,
                    now,
                    job,
                    at
                ],
            )
            .map_err(db)?;
            Ok(ReportMatch {
                message: Some((job, u64::try_from(at).unwrap_or(u64::MAX))),
                state: Some(next),
            })
        });
        Box::pin(async move {
            indexed.await?;
            recorded.await
        })
    }

    fn counts(&self, job: &str) -> BoxFuture<'_, Result<Vec<Count>, LedgerError>> {
        let job = job.to_owned();
        self.transaction(move |tx| {
            let mut statement = tx
                .prepare_cached(
                    "SELECT state, provider, COUNT(*) FROM smsgate_messages WHERE job = ?1 \
                     GROUP BY state, provider ORDER BY state, provider",
                )
                .map_err(db)?;
            let rows = statement
                .query_map(params![job], |row| {
                    let state: String = row.get(0)?;
                    Ok(Count {
                        state: State::parse(&state).unwrap_or(State::Unknown),
                        provider: row.get(1)?,
                        messages: u64::try_from(row.get::<_, i64>(2)?).unwrap_or_default(),
                    })
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            Ok(rows)
        })
    }

    fn resolve_unknown(
        &self,
        job: &str,
        settlements: Vec<Settlement>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        let job = job.to_owned();
        let shown = job.clone();
        let recorded =
            self.transaction(move |tx| record_outcomes(tx, &job, settlements, Settling::Unknown));
        Box::pin(async move { Settling::Unknown.check(&shown, recorded.await?) })
    }

    fn held_ids(
        &self,
        provider: &str,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<String>, LedgerError>> {
        let provider = provider.to_owned();
        let indexed = self.index_provider_ids();
        let held = self.transaction(move |tx| {
            let mut select = tx
                .prepare_cached(
                    "SELECT 1 FROM smsgate_messages WHERE provider = ?1 AND provider_message_id = ?2 \
                     LIMIT 1",
                )
                .map_err(db)?;
            let mut held = Vec::new();
            for id in ids {
                if select
                    .query_row(params![provider, id], |_| Ok(()))
                    .optional()
                    .map_err(db)?
                    .is_some()
                {
                    held.push(id);
                }
            }
            Ok(held)
        });
        Box::pin(async move {
            indexed.await?;
            held.await
        })
    }

    fn claim_released(
        &self,
        job: &str,
        worker: &str,
        limit: usize,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        self.transaction(move |tx| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let picked = messages_where(
                tx,
                "job = ?1 AND state = 'pending' ORDER BY position LIMIT ?2",
                &[&job, &limit],
            )?;
            let positions: Vec<u64> = picked.iter().map(|m| m.position).collect();
            claim_in(tx, &job, &worker, &positions, lease_ms)
        })
    }

    fn renew(
        &self,
        job: &str,
        worker: &str,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<u64, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        self.transaction(move |tx| {
            let until = now_ms().saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
            let renewed = tx
                .execute(
                    "UPDATE smsgate_messages SET lease_until_ms = ?1 WHERE job = ?2 AND worker = ?3 \
                     AND state IN ('claimed', 'in_flight')",
                    params![until, job, worker],
                )
                .map_err(db)?;
            Ok(renewed as u64)
        })
    }
}
