//! The PostgreSQL backend, for many workers on one job: rows are claimed with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers never wait for each other's rows and never
//! share one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use smsgate_provider::{BoxFuture, DeliveryStatus};
use tokio::sync::Mutex;
use tokio_postgres::{AsyncMessage, Client, NoTls, Row, Transaction};

use crate::model::{
    COLUMNS, Count, EarlyReport, Ledger, LedgerError, Message, NewMessage, Recovery, ReportMatch,
    Settled, Settlement, Settling, State, StoredRow, Taken, TextPolicy, after_early_reports,
    after_report, changed_input, now_ms, report_supersedes, reported_row, same_message,
    stored_position, text_md5,
};

/// A ledger in a PostgreSQL database (`postgres://...`): for several processes or machines.
///
/// The connection is plain TCP (no TLS): meant for a database on loopback or a private
/// network.
#[derive(Clone)]
pub struct PostgresLedger {
    client: Arc<Mutex<Client>>,
    text: TextPolicy,
    /// How many notifications of settled outcomes ([`SETTLED_CHANNEL`]) this connection heard.
    settled: Arc<Mutex<tokio::sync::watch::Receiver<u64>>>,
    /// Whether this connection listens on that channel (from the first wait on).
    listening: Arc<AtomicBool>,
}

/// The channel a transaction that records outcomes notifies on commit: workers waiting for the
/// others count again at once instead of at their next poll.
const SETTLED_CHANNEL: &str = "smsgate_settled";

impl std::fmt::Debug for PostgresLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLedger")
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

fn db(err: tokio_postgres::Error) -> LedgerError {
    // The server's own message (a constraint, a missing column), never the URL.
    match err.as_db_error() {
        Some(server) => LedgerError::Database(format!(
            "{} ({}): {}",
            err,
            server.code().code(),
            server.message()
        )),
        None => LedgerError::Database(err.to_string()),
    }
}

fn position(value: u64) -> i64 {
    stored_position(value)
}

/// A lock key no other program takes: schema creation by several workers at once is serialised.
const SCHEMA_LOCK: i64 = 0x736d_7367_6174_6531;

fn read_message(row: &Row) -> Result<Message, LedgerError> {
    Ok(StoredRow {
        position: row.try_get(0).map_err(db)?,
        client_ref: row.try_get(1).map_err(db)?,
        number: row.try_get(2).map_err(db)?,
        text: row.try_get(3).map_err(db)?,
        text_md5: row.try_get(4).map_err(db)?,
        sender_id: row.try_get(5).map_err(db)?,
        state: row.try_get(6).map_err(db)?,
        retry_safe: row.try_get(7).map_err(db)?,
        provider: row.try_get(8).map_err(db)?,
        provider_message_id: row.try_get(9).map_err(db)?,
        tried: row.try_get(10).map_err(db)?,
        reason: row.try_get(11).map_err(db)?,
        worker: row.try_get(12).map_err(db)?,
        report_state: row.try_get(13).map_err(db)?,
        report_status: row.try_get(14).map_err(db)?,
        sent_ms: row.try_get(15).map_err(db)?,
    }
    .into())
}

impl PostgresLedger {
    /// Connects to `url` (`postgres://user@host:port/db`) and applies the schema (only when this
    /// database's differs from this build's: see `smsgate_schema`).
    pub async fn connect(url: &str, text: TextPolicy) -> Result<Self, LedgerError> {
        let (client, connection) =
            tokio_postgres::connect(url, NoTls)
                .await
                .map_err(|err| LedgerError::Url {
                    url: crate::model::shown_url(url),
                    reason: crate::model::without_passwords(&err.to_string()),
                })?;
        let (heard, settled) = tokio::sync::watch::channel(0u64);
        let mut connection = connection;
        tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(_))) => {
                        heard.send_modify(|count| *count = count.wrapping_add(1));
                    }
                    Some(Ok(AsyncMessage::Notice(notice))) => {
                        tracing::debug!(severity = notice.severity(), "{}", notice.message());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(err)) => {
                        tracing::warn!(error = %err, "ledger connection ended");
                        break;
                    }
                    None => break,
                }
            }
        });
        let ledger = Self {
            client: Arc::new(Mutex::new(client)),
            text,
            settled: Arc::new(Mutex::new(settled)),
            listening: Arc::new(AtomicBool::new(false)),
        };
        ledger
            .transaction(|tx| {
                Box::pin(async move {
                    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
                        .await
                        .map_err(db)?;
                    // The schema statements run only when they differ from what this ledger
                    // last applied: even a `CREATE INDEX IF NOT EXISTS` that finds its index
                    // locks the table against writes, so running them on every start would make
                    // a joining worker wait for (and deadlock with) the others' transactions.
                    let digest = schema_digest();
                    if applied_schema(tx).await?.as_deref() != Some(digest.as_str()) {
                        migrate(tx, &digest).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(ledger)
    }

    /// [`Ledger::take`] (`wait`: for the chunk's lock, held while another worker takes the same
    /// chunk) or [`Ledger::try_take`] (`None` when that lock is held).
    fn take_chunk(
        &self,
        job: &str,
        worker: &str,
        messages: Vec<NewMessage>,
        lease_ms: u64,
        providers: Vec<String>,
        wait: bool,
    ) -> BoxFuture<'_, Result<Option<Taken>, LedgerError>> {
        let (job, worker, keep) = (
            job.to_owned(),
            worker.to_owned(),
            self.text == TextPolicy::Keep,
        );
        let tried = providers.join(",");
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    if messages.is_empty() {
                        return Ok(Some(Taken::default()));
                    }
                    let now = now_ms();
                    let positions: Vec<i64> = messages.iter().map(|m| position(m.position)).collect();
                    // Workers reading the same input reach a chunk together: one loads it, the
                    // others wait for that (a lock per chunk, before any row is touched; with
                    // `wait` false they skip the chunk instead, and take it later) and then find
                    // it loaded, instead of inserting it again against the first one's
                    // uncommitted rows.
                    let first = positions.iter().copied().min().unwrap_or_default();
                    let last = positions.iter().copied().max().unwrap_or_default();
                    let (job_key, chunk_key) = chunk_lock_key(&job, first);
                    if wait {
                        tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&job_key, &chunk_key])
                            .await
                            .map_err(db)?;
                    } else {
                        let locked: bool = tx
                            .query_one("SELECT pg_try_advisory_xact_lock($1, $2)", &[&job_key, &chunk_key])
                            .await
                            .map_err(db)?
                            .try_get(0)
                            .map_err(db)?;
                        if !locked {
                            return Ok(None);
                        }
                    }
                    let refs: Vec<&str> = messages.iter().map(|m| m.client_ref.as_str()).collect();
                    let numbers: Vec<&str> = messages.iter().map(|m| m.number.as_str()).collect();
                    let texts: Vec<Option<&str>> =
                        messages.iter().map(|m| keep.then_some(m.text.as_str())).collect();
                    let md5s: Vec<String> = messages.iter().map(|m| text_md5(&m.text)).collect();
                    let senders: Vec<Option<&str>> =
                        messages.iter().map(|m| m.sender_id.as_deref()).collect();
                    let digest = chunk_digest(&positions, &numbers, &md5s, &refs, &senders);
                    // A chunk loaded before (by another worker, or an earlier run) in the same
                    // bounds and with the same digest holds these very messages: the rows found
                    // need no comparison (rows missing, deleted by hand, are loaded again).
                    let known = tx
                        .query_opt(
                            "SELECT digest FROM smsgate_chunks WHERE job = $1 \
                             AND first_position = $2 AND last_position = $3",
                            &[&job, &first, &last],
                        )
                        .await
                        .map_err(db)?
                        .map(|row| row.try_get::<_, String>(0).map_err(db))
                        .transpose()?
                        .is_some_and(|recorded| recorded == digest);
                    // New rows go in already claimed and in flight (this worker loaded them, in
                    // this transaction); rows already there are checked and claimed after.
                    let until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
                    if !known {
                        tx.execute(
                            "INSERT INTO smsgate_jobs (name, created_ms) VALUES ($1, $2) \
                             ON CONFLICT DO NOTHING",
                            &[&job, &now],
                        )
                        .await
                        .map_err(db)?;
                    }
                    // A chunk another worker loaded already (workers read the same input) is
                    // only counted: inserting it again would find every row taken. One pass
                    // over its rows also says whether any is there to claim or to read back
                    // (while another worker sends it, neither: nothing more is asked).
                    let counts = tx
                        .query_one(
                            &format!(
                                "SELECT count(*), \
                                 count(*) FILTER (WHERE state IN ('pending', 'not_sent')), \
                                 count(*) FILTER (WHERE state NOT IN ('pending', 'claimed', 'in_flight', 'not_sent')) \
                                 FROM smsgate_messages WHERE job = $1 AND {} AND position = ANY($2)",
                                span_condition("position", &positions)
                            ),
                            &[&job, &positions],
                        )
                        .await
                        .map_err(db)?;
                    let count = |k: usize| -> Result<usize, LedgerError> {
                        let n: i64 = counts.try_get(k).map_err(db)?;
                        Ok(usize::try_from(n).unwrap_or_default())
                    };
                    let (loaded, to_claim, with_outcome) = (count(0)?, count(1)?, count(2)?);
                    let all_loaded = loaded >= positions.len();
                    let inserted = if all_loaded {
                        Vec::new()
                    } else {
                        tx.query(
                            "INSERT INTO smsgate_messages (job, position, client_ref, number, text, \
                             text_md5, sender_id, state, worker, lease_until_ms, sent_ms, tried, \
                             created_ms, updated_ms) \
                             SELECT $1, v.position, v.client_ref, v.number, v.text, v.text_md5, \
                             v.sender_id, 'in_flight', $9, $10, $2, $11, $2, $2 \
                             FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], \
                             $7::text[], $8::text[]) \
                             AS v(position, client_ref, number, text, text_md5, sender_id) \
                             ON CONFLICT DO NOTHING RETURNING position",
                            &[
                                &job, &now, &positions, &refs, &numbers, &texts, &md5s, &senders,
                                &worker, &until, &tried,
                            ],
                        )
                        .await
                        .map_err(db)?
                    };
                    let mut mine: Vec<u64> = inserted
                        .iter()
                        .map(|row| row.try_get::<_, i64>(0).map_err(db))
                        .collect::<Result<Vec<_>, _>>()?
                        .into_iter()
                        .filter_map(|p| u64::try_from(p).ok())
                        .collect();
                    mine.sort_unstable();
                    let present: Vec<i64> = positions
                        .iter()
                        .copied()
                        .filter(|p| u64::try_from(*p).map_or(true, |p| mine.binary_search(&p).is_err()))
                        .collect();
                    if !known && !present.is_empty() {
                        // The rows already there must be the messages given now (else the input
                        // changed under this job's name: refused). Compared where they are: only
                        // the first difference comes back.
                        let given: std::collections::HashMap<i64, usize> =
                            positions.iter().enumerate().map(|(k, p)| (*p, k)).collect();
                        let pick = |k: &i64| given.get(k).copied().unwrap_or_default();
                        let present_numbers: Vec<&str> = present.iter().map(|p| numbers[pick(p)]).collect();
                        let present_md5s: Vec<&str> = present.iter().map(|p| md5s[pick(p)].as_str()).collect();
                        let present_refs: Vec<&str> = present.iter().map(|p| refs[pick(p)]).collect();
                        let present_senders: Vec<Option<&str>> =
                            present.iter().map(|p| senders[pick(p)]).collect();
                        let changed = tx
                            .query_opt(
                                // One primary-key probe per row: a LATERAL subquery with LIMIT is
                                // never turned into a join that could scan the job.
                                "SELECT v.position \
                                 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) \
                                 AS v(position, number, text_md5, client_ref, sender_id) \
                                 CROSS JOIN LATERAL (SELECT s.number, s.text_md5, s.client_ref, s.sender_id \
                                 FROM smsgate_messages s WHERE s.job = $1 AND s.position = v.position LIMIT 1) m \
                                 WHERE (m.number, m.text_md5, m.client_ref, m.sender_id) \
                                 IS DISTINCT FROM (v.number, v.text_md5, v.client_ref, v.sender_id) \
                                 ORDER BY v.position LIMIT 1",
                                &[&job, &present, &present_numbers, &present_md5s, &present_refs, &present_senders],
                            )
                            .await
                            .map_err(db)?;
                        if let Some(row) = changed {
                            let at: i64 = row.try_get(0).map_err(db)?;
                            return Err(changed_input(&job, u64::try_from(at).unwrap_or_default()));
                        }
                    }
                    if !known {
                        record_chunk(tx, &job, first, last, &digest).await?;
                    }
                    if present.is_empty() {
                        return Ok(Some(Taken { mine, settled: Vec::new(), held_elsewhere: 0 }));
                    }
                    let span = span_condition("position", &present);
                    // Rows found before this transaction inserted any: the counts above hold
                    // for them, and what they say is not there is not looked for.
                    let counted = mine.is_empty();
                    // Those still to send (an earlier run's not sent, a released claim) are
                    // claimed and marked in flight; rows another worker is claiming right now
                    // are skipped, not waited for.
                    let mut started: Vec<u64> = if counted && to_claim == 0 {
                        Vec::new()
                    } else {
                        tx
                        .query(
                            &format!(
                                "WITH picked AS MATERIALIZED (SELECT position FROM smsgate_messages \
                                 WHERE job = $1 AND {span} AND position = ANY($2) \
                                 AND state IN ('pending', 'not_sent') FOR UPDATE SKIP LOCKED) \
                                 UPDATE smsgate_messages m SET state = 'in_flight', worker = $3, \
                                 lease_until_ms = $4, updated_ms = $5, sent_ms = $5, provider = NULL, \
                                 provider_message_id = NULL, tried = $6 \
                                 WHERE m.job = $1 AND {} AND {PICKED} RETURNING m.position",
                                span_condition("m.position", &present)
                            ),
                            &[&job, &present, &worker, &until, &now, &tried],
                        )
                        .await
                        .map_err(db)?
                        .iter()
                        .map(|row| row.try_get::<_, i64>(0).map_err(db))
                        .collect::<Result<Vec<_>, _>>()?
                        .into_iter()
                        .filter_map(|p| u64::try_from(p).ok())
                        .collect()
                    };
                    started.sort_unstable();
                    // Of the rest, only those with an outcome are read (the caller writes it);
                    // the others another worker holds are counted.
                    let settled: Vec<Message> = if counted && with_outcome == 0 {
                        Vec::new()
                    } else {
                        tx.query(
                            &format!(
                                "SELECT {COLUMNS} FROM smsgate_messages WHERE job = $1 AND {span} \
                                 AND position = ANY($2) \
                                 AND state NOT IN ('pending', 'claimed', 'in_flight', 'not_sent') \
                                 ORDER BY position"
                            ),
                            &[&job, &present],
                        )
                        .await
                        .map_err(db)?
                        .iter()
                        .map(read_message)
                        .collect::<Result<_, _>>()?
                    };
                    let held_elsewhere =
                        present.len().saturating_sub(started.len() + settled.len()) as u64;
                    mine.extend(started);
                    mine.sort_unstable();
                    Ok(Some(Taken { mine, settled, held_elsewhere }))
                })
            })
            .await
        })
    }

    /// [`Ledger::settle`] and [`Ledger::resolve_unknown`]: the outcomes of rows in the state
    /// `from` says, in one transaction.
    async fn outcomes(
        &self,
        job: String,
        settlements: Vec<Settlement>,
        from: Settling,
    ) -> Result<(), LedgerError> {
        let shown = job.clone();
        let refused = self
            .transaction(|tx| {
                Box::pin(async move { record_outcomes(tx, &job, settlements, from).await })
            })
            .await?;
        from.check(&shown, refused)
    }

    /// Runs `work` in one transaction.
    async fn transaction<T>(
        &self,
        work: impl for<'t> FnOnce(&'t Transaction<'t>) -> BoxFuture<'t, Result<T, LedgerError>>,
    ) -> Result<T, LedgerError> {
        let mut client = self.client.lock().await;
        // What the statements assume (a statement sees what committed before it began, as a
        // worker's count after waiting on a chunk's lock must), whatever the server's default.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::ReadCommitted)
            .start()
            .await
            .map_err(db)?;
        let value = work(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(value)
    }
}

/// Records outcomes of rows in the state `from` says, then the reports of accepted ones that
/// arrived first.
async fn record_outcomes(
    tx: &Transaction<'_>,
    job: &str,
    settlements: Vec<Settlement>,
    from: Settling,
) -> Result<Vec<u64>, LedgerError> {
    let mut refused = Vec::new();
    // A report of an id being recorded now waits for this transaction (and the other way
    // round): whichever commits first, the report ends matched. Shared: other workers' outcomes
    // never wait (REPORT_LOCK_BUCKETS); each bucket once, in order.
    let keys: Vec<i64> = settlements
        .iter()
        .filter_map(|s| {
            Some(report_lock_key(
                s.provider.as_deref()?,
                s.provider_message_id.as_deref()?,
            ))
        })
        .collect();
    if !keys.is_empty() {
        tx.execute(
            "SELECT pg_advisory_xact_lock_shared(k) FROM (SELECT DISTINCT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS sorted",
            &[&keys],
        )
        .await
        .map_err(db)?;
    }
    let positions: Vec<i64> = settlements.iter().map(|s| position(s.position)).collect();
    // One statement for the whole batch: each row's new values from arrays.
    let sql = format!(
        "UPDATE smsgate_messages m SET state = v.new_state, retry_safe = v.retry_safe, \
         provider = COALESCE(v.provider, m.provider), provider_message_id = v.message_id, \
         tried = v.tried, reason = v.reason, updated_ms = $1 \
         FROM unnest($3::bigint[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::text[], \
         $9::text[]) AS v(position, new_state, retry_safe, provider, message_id, tried, reason) \
         WHERE m.job = $2 AND {} AND m.position = v.position AND {} RETURNING m.position",
        span_condition("m.position", &positions),
        from.condition("m.state", "v.new_state")
    );
    let now = now_ms();
    let states: Vec<&str> = settlements
        .iter()
        .map(|s| s.outcome.state().as_str())
        .collect();
    let retry_safe: Vec<Option<bool>> = settlements
        .iter()
        .map(|s| match s.outcome {
            Settled::Rejected { retry_safe } => Some(retry_safe),
            _ => None,
        })
        .collect();
    let providers: Vec<Option<&str>> = settlements.iter().map(|s| s.provider.as_deref()).collect();
    let ids: Vec<Option<&str>> = settlements
        .iter()
        .map(|s| s.provider_message_id.as_deref())
        .collect();
    let tried: Vec<String> = settlements.iter().map(|s| s.tried.join(",")).collect();
    let reasons: Vec<Option<&str>> = settlements.iter().map(|s| s.reason.as_deref()).collect();
    let updated = tx
        .query(
            &sql,
            &[
                &now,
                &job,
                &positions,
                &states,
                &retry_safe,
                &providers,
                &ids,
                &tried,
                &reasons,
            ],
        )
        .await
        .map_err(db)?;
    let done: std::collections::HashSet<i64> = updated
        .iter()
        .map(|row| row.try_get::<_, i64>(0).map_err(db))
        .collect::<Result<_, _>>()?;
    if !done.is_empty() {
        // Delivered on commit, to workers waiting for the others (`wait_for_settlements`).
        tx.batch_execute(&format!("NOTIFY {SETTLED_CHANNEL}"))
            .await
            .map_err(db)?;
    }
    refused.extend(
        settlements
            .iter()
            .map(|s| s.position)
            .filter(|p| !done.contains(&position(*p))),
    );
    // Usually no report waits for these messages: one query finds the ids some report waits
    // for (unmatched reports of other messages cost nothing here).
    let accepted: Vec<&Settlement> = settlements
        .iter()
        .filter(|s| {
            matches!(s.outcome, Settled::Accepted)
                && s.provider.is_some()
                && s.provider_message_id.is_some()
                && done.contains(&position(s.position))
        })
        .collect();
    if accepted.is_empty() {
        return Ok(refused);
    }
    let providers: Vec<&str> = accepted
        .iter()
        .filter_map(|s| s.provider.as_deref())
        .collect();
    let ids: Vec<&str> = accepted
        .iter()
        .filter_map(|s| s.provider_message_id.as_deref())
        .collect();
    let waiting: std::collections::HashSet<(String, String)> = tx
        .query(
            "SELECT DISTINCT r.provider, r.message_id FROM smsgate_reports r \
             JOIN unnest($1::text[], $2::text[]) AS v(provider, id) \
             ON r.provider = v.provider AND r.message_id = v.id WHERE r.matched = FALSE",
            &[&providers, &ids],
        )
        .await
        .map_err(db)?
        .iter()
        .map(|row| Ok((row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?)))
        .collect::<Result<_, LedgerError>>()?;
    for s in accepted {
        if let (Some(provider), Some(id)) = (&s.provider, &s.provider_message_id)
            && waiting.contains(&(provider.clone(), id.clone()))
        {
            apply_early_reports(tx, job, s.position, provider, id, now).await?;
        }
    }
    Ok(refused)
}

/// What identifies the schema statements this build applies.
fn schema_digest() -> String {
    smsgate_transport::sign::md5_hex(&[
        crate::SCHEMA.as_bytes(),
        crate::POSTGRES_SCHEMA.as_bytes(),
        crate::PROVIDER_ID_INDEX.as_bytes(),
        SENT_MS_COLUMN.as_bytes(),
    ])
}

/// Adds the column ledgers created before `sent_ms` existed lack.
const SENT_MS_COLUMN: &str = "ALTER TABLE smsgate_messages ADD COLUMN sent_ms BIGINT";

/// Whether `smsgate_messages` has that column (a condition on the catalog, no table lock; read
/// from `pg_attribute`, which a worker's start plans in a fraction of a millisecond, where the
/// `information_schema` view took several).
const HAS_SENT_MS: &str = "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = \
     to_regclass('smsgate_messages') AND attname = 'sent_ms' AND NOT attisdropped)";

/// The value of a condition on the catalog.
async fn catalog_says(tx: &Transaction<'_>, condition: &str) -> Result<bool, LedgerError> {
    tx.query_one(&format!("SELECT {condition}"), &[])
        .await
        .map_err(db)?
        .try_get(0)
        .map_err(db)
}

/// The digest of the schema statements last applied to this database, if any were and every
/// object they make is there (a table, index or column dropped by hand is made again, an index
/// a build before this one made and this one drops is dropped again).
async fn applied_schema(tx: &Transaction<'_>) -> Result<Option<String>, LedgerError> {
    let recorded = catalog_says(
        tx,
        &format!(
            "to_regclass('smsgate_schema') IS NOT NULL \
             AND to_regclass('smsgate_jobs') IS NOT NULL \
             AND to_regclass('smsgate_messages') IS NOT NULL \
             AND to_regclass('smsgate_reports') IS NOT NULL \
             AND to_regclass('smsgate_chunks') IS NOT NULL \
             AND to_regclass('smsgate_messages_by_provider_message_id') IS NOT NULL \
             AND to_regclass('smsgate_messages_open') IS NOT NULL \
             AND to_regclass('smsgate_reports_by_id') IS NOT NULL \
             AND to_regclass('smsgate_reports_unmatched') IS NOT NULL \
             AND to_regclass('smsgate_messages_by_state') IS NULL \
             AND to_regclass('smsgate_messages_by_provider_id') IS NULL \
             AND {HAS_SENT_MS}"
        ),
    )
    .await?;
    if !recorded {
        return Ok(None);
    }
    tx.query_opt("SELECT digest FROM smsgate_schema LIMIT 1", &[])
        .await
        .map_err(db)?
        .map(|row| row.try_get(0).map_err(db))
        .transpose()
}

/// Applies the schema statements (each safe to repeat) and records their digest.
async fn migrate(tx: &Transaction<'_>, digest: &str) -> Result<(), LedgerError> {
    let messages_exist = catalog_says(tx, "to_regclass('smsgate_messages') IS NOT NULL").await?;
    tx.batch_execute(crate::SCHEMA).await.map_err(db)?;
    tx.batch_execute(crate::POSTGRES_SCHEMA).await.map_err(db)?;
    tx.batch_execute(crate::PROVIDER_ID_INDEX)
        .await
        .map_err(db)?;
    let has_sent_ms = catalog_says(tx, HAS_SENT_MS).await?;
    if !has_sent_ms {
        tx.batch_execute(SENT_MS_COLUMN).await.map_err(db)?;
    }
    if !messages_exist {
        // Chunks recorded for rows no longer there (the table was dropped) would be taken as
        // loaded.
        tx.batch_execute("DELETE FROM smsgate_chunks")
            .await
            .map_err(db)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS smsgate_schema (digest TEXT NOT NULL); \
         DELETE FROM smsgate_schema;",
    )
    .await
    .map_err(db)?;
    tx.execute(
        "INSERT INTO smsgate_schema (digest) VALUES ($1)",
        &[&digest],
    )
    .await
    .map_err(db)?;
    tracing::info!(digest, "ledger schema applied");
    Ok(())
}

/// The digest of a chunk's rows as [`Ledger::take`] compares them (SHA-256 of each position,
/// number, text hash, client ref and sender id, every field tagged and prefixed by its length).
fn chunk_digest(
    positions: &[i64],
    numbers: &[&str],
    md5s: &[String],
    refs: &[&str],
    senders: &[Option<&str>],
) -> String {
    let mut bytes = Vec::with_capacity(positions.len() * 96);
    for k in 0..positions.len() {
        bytes.extend_from_slice(&positions[k].to_le_bytes());
        let fields = [
            Some(numbers[k]),
            Some(md5s[k].as_str()),
            Some(refs[k]),
            senders[k],
        ];
        for field in fields {
            match field {
                Some(value) => {
                    bytes.push(1);
                    bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
                    bytes.extend_from_slice(value.as_bytes());
                }
                None => bytes.push(0),
            }
        }
    }
    smsgate_transport::sign::hex_lower(&Sha256::digest(&bytes))
}

/// Records the digest of a chunk whose rows were just loaded or found equal to the input.
async fn record_chunk(
    tx: &Transaction<'_>,
    job: &str,
    first: i64,
    last: i64,
    digest: &str,
) -> Result<(), LedgerError> {
    tx.execute(
        "INSERT INTO smsgate_chunks (job, first_position, last_position, digest) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (job, first_position, last_position) \
         DO UPDATE SET digest = EXCLUDED.digest",
        &[&job, &first, &last, &digest],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// How many advisory locks guard the match between outcomes and delivery reports: a provider's
/// message id belongs to one of them (by its MD5). A recorded outcome holds its ids' locks
/// shared, so workers never wait for each other; a received report holds its id's lock alone,
/// so it waits for the outcomes being recorded in its bucket (and they for it). One lock per id
/// instead put up to a batch of outcomes' worth (5000) in PostgreSQL's shared lock table per
/// transaction, which six workers at once exhausted ("out of shared memory", for every session
/// of the database).
const REPORT_LOCK_BUCKETS: u64 = 32;

/// The first of the buckets' lock keys (single 64-bit keys, "smsgrp" and a number: a space apart
/// from [`SCHEMA_LOCK`]).
const REPORT_LOCK_BASE: i64 = 0x736d_7367_7270_0000;

/// The advisory-lock key of the bucket of a provider's message id.
fn report_lock_key(provider: &str, id: &str) -> i64 {
    let hex = smsgate_transport::sign::md5_hex(&[provider.as_bytes(), b"\0", id.as_bytes()]);
    let hash = u64::from_str_radix(&hex[..15], 16).unwrap_or_default();
    // Below 32: the cast and the sum cannot overflow.
    REPORT_LOCK_BASE + (hash % REPORT_LOCK_BUCKETS) as i64
}

/// The advisory lock of a job's chunk starting at `first` (two 32-bit keys: a space apart
/// from the reports' single 64-bit keys). Two chunks sharing a key only wait for each other.
fn chunk_lock_key(job: &str, first: i64) -> (i32, i32) {
    let hex = smsgate_transport::sign::md5_hex(&[job.as_bytes()]);
    let job_key = u32::from_str_radix(&hex[..8], 16).unwrap_or_default();
    // Wrapping on purpose: the keys only spread chunks over locks.
    (job_key as i32, first as i32)
}

/// Applies the reports of `provider`'s `id` that arrived before the message at `at` was
/// recorded accepted, and marks them matched.
async fn apply_early_reports(
    tx: &Transaction<'_>,
    job: &str,
    at: u64,
    provider: &str,
    id: &str,
    now: i64,
) -> Result<(), LedgerError> {
    let mut reports = Vec::new();
    for row in tx
        .query(
            "SELECT state, vendor_status, at, number FROM smsgate_reports \
             WHERE provider = $1 AND message_id = $2 AND matched = FALSE ORDER BY received_ms \
             FOR UPDATE",
            &[&provider, &id],
        )
        .await
        .map_err(db)?
    {
        reports.push(EarlyReport {
            state: row.try_get(0).map_err(db)?,
            vendor_status: row.try_get(1).map_err(db)?,
            at: row.try_get(2).map_err(db)?,
            number: row.try_get(3).map_err(db)?,
        });
    }
    if reports.is_empty() {
        return Ok(());
    }
    let number: String = tx
        .query_one(
            "SELECT number FROM smsgate_messages WHERE job = $1 AND position = $2",
            &[&job, &position(at)],
        )
        .await
        .map_err(db)?
        .try_get(0)
        .map_err(db)?;
    let Some((state, (report_state, report_status, report_at), numbers)) =
        after_early_reports(&number, &reports)
    else {
        return Ok(());
    };
    tx.execute(
        "UPDATE smsgate_messages SET state = $1, report_state = $2, report_status = $3, \
         report_at = $4, updated_ms = $5 WHERE job = $6 AND position = $7",
        &[
            &state.as_str(),
            &report_state,
            &report_status,
            &report_at,
            &now,
            &job,
            &position(at),
        ],
    )
    .await
    .map_err(db)?;
    for number in numbers {
        tx.execute(
            "UPDATE smsgate_reports SET matched = TRUE WHERE provider = $1 AND message_id = $2 \
             AND matched = FALSE AND number IS NOT DISTINCT FROM $3",
            &[&provider, &id, &number],
        )
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn messages_where(
    tx: &Transaction<'_>,
    filter: &str,
    values: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Message>, LedgerError> {
    let sql = format!("SELECT {COLUMNS} FROM smsgate_messages WHERE {filter} ORDER BY position");
    let rows = tx.query(&sql, values).await.map_err(db)?;
    rows.iter().map(read_message).collect()
}

/// `position BETWEEN lo AND hi` for a set of positions: with it, a lookup by position scans at
/// most the set's span of the primary key, whatever the planner believes of the job (a job just
/// begun has no statistics, and an estimate of one row made it scan the whole job per chunk).
fn span_condition(column: &str, positions: &[i64]) -> String {
    let lo = positions.iter().copied().min().unwrap_or(0);
    let hi = positions.iter().copied().max().unwrap_or(-1);
    format!("{column} BETWEEN {lo} AND {hi}")
}

/// The rows a claim updates: those its `picked` CTE locked, found by primary-key probes. (Joined
/// to `picked` instead, the planner, which expects a job without statistics to hold one row,
/// walked every row of the job for each claim, even an empty one: 25-50 ms at 30 000 rows.
/// Bounds it can use as index conditions keep the probes within the picked rows' span.)
const PICKED: &str = "m.position = ANY (ARRAY(SELECT position FROM picked))";

/// Claims for `worker` the pending rows of `job` that `pick` (a filter or order on `$5`,
/// `value`) selects. Rows another worker is claiming right now are skipped, not waited for.
/// The pick is materialised once: an `IN (subquery LIMIT n)` may be evaluated again per row
/// and claim more than n.
async fn claim_picked(
    tx: &Transaction<'_>,
    job: &str,
    worker: &str,
    lease_ms: u64,
    states: &str,
    pick: &str,
    value: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Vec<Message>, LedgerError> {
    let now = now_ms();
    let until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
    let returning: Vec<String> = COLUMNS.split(", ").map(|c| format!("m.{c}")).collect();
    let sql = format!(
        "WITH picked AS MATERIALIZED (SELECT position FROM smsgate_messages \
         WHERE job = $4 AND state IN ({states}) {pick} FOR UPDATE SKIP LOCKED) \
         UPDATE smsgate_messages m SET state = 'claimed', worker = $1, lease_until_ms = $2, \
         updated_ms = $3 WHERE m.job = $4 AND m.position BETWEEN (SELECT min(position) FROM \
         picked) AND (SELECT max(position) FROM picked) AND {PICKED} RETURNING {}",
        returning.join(", ")
    );
    let rows = tx
        .query(&sql, &[&worker, &until, &now, &job, value])
        .await
        .map_err(db)?;
    let mut claimed: Vec<Message> = rows.iter().map(read_message).collect::<Result<_, _>>()?;
    claimed.sort_by_key(|m| m.position);
    Ok(claimed)
}

impl Ledger for PostgresLedger {
    fn load(
        &self,
        job: &str,
        messages: Vec<NewMessage>,
    ) -> BoxFuture<'_, Result<u64, LedgerError>> {
        let (job, keep) = (job.to_owned(), self.text == TextPolicy::Keep);
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let now = now_ms();
                    tx.execute(
                        "INSERT INTO smsgate_jobs (name, created_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[&job, &now],
                    )
                    .await
                    .map_err(db)?;
                    let insert = tx
                        .prepare(
                            "INSERT INTO smsgate_messages (job, position, client_ref, number, text, \
                             text_md5, sender_id, state, created_ms, updated_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) ON CONFLICT DO NOTHING",
                        )
                        .await
                        .map_err(db)?;
                    let mut added = 0;
                    for m in &messages {
                        let text = keep.then_some(m.text.as_str());
                        let md5 = text_md5(&m.text);
                        let inserted = tx
                            .execute(
                                &insert,
                                &[
                                    &job,
                                    &position(m.position),
                                    &m.client_ref,
                                    &m.number,
                                    &text,
                                    &md5,
                                    &m.sender_id,
                                    &now,
                                ],
                            )
                            .await
                            .map_err(db)?;
                        if inserted == 1 {
                            added += 1;
                            continue;
                        }
                        let row = tx
                            .query_one(
                                "SELECT number, text_md5, client_ref, sender_id FROM smsgate_messages \
                                 WHERE job = $1 AND position = $2",
                                &[&job, &position(m.position)],
                            )
                            .await
                            .map_err(db)?;
                        let number: String = row.try_get(0).map_err(db)?;
                        let stored_md5: String = row.try_get(1).map_err(db)?;
                        let client_ref: String = row.try_get(2).map_err(db)?;
                        let sender_id: Option<String> = row.try_get(3).map_err(db)?;
                        same_message(
                            &job,
                            m,
                            (&number, &stored_md5, &client_ref, sender_id.as_deref()),
                        )?;
                    }
                    Ok(added)
                })
            })
            .await
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
        let taken = self.take_chunk(job, worker, messages, lease_ms, providers, true);
        Box::pin(async move { Ok(taken.await?.unwrap_or_default()) })
    }

    fn try_take(
        &self,
        job: &str,
        worker: &str,
        messages: Vec<NewMessage>,
        lease_ms: u64,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<Option<Taken>, LedgerError>> {
        self.take_chunk(job, worker, messages, lease_ms, providers, false)
    }

    fn claim(
        &self,
        job: &str,
        worker: &str,
        limit: usize,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                    claim_picked(
                        tx,
                        &job,
                        &worker,
                        lease_ms,
                        "'pending', 'not_sent'",
                        "ORDER BY position LIMIT $5",
                        &limit,
                    )
                    .await
                })
            })
            .await
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
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let wanted: Vec<i64> = positions.iter().map(|p| position(*p)).collect();
                    claim_picked(
                        tx,
                        &job,
                        &worker,
                        lease_ms,
                        "'pending', 'not_sent'",
                        &format!(
                            "AND {} AND position = ANY($5)",
                            span_condition("position", &wanted)
                        ),
                        &wanted,
                    )
                    .await
                })
            })
            .await
        })
    }

    fn messages_at(
        &self,
        job: &str,
        positions: Vec<u64>,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let job = job.to_owned();
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let wanted: Vec<i64> = positions.iter().map(|p| position(*p)).collect();
                    let filter = format!(
                        "job = $1 AND {} AND position = ANY($2)",
                        span_condition("position", &wanted)
                    );
                    messages_where(tx, &filter, &[&job, &wanted]).await
                })
            })
            .await
        })
    }

    fn start_through(
        &self,
        job: &str,
        worker: &str,
        positions: Vec<u64>,
        providers: Vec<String>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        let (job, worker, tried) = (job.to_owned(), worker.to_owned(), providers.join(","));
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let now = now_ms();
                    let wanted: Vec<i64> = positions.iter().map(|p| position(*p)).collect();
                    let sql = format!(
                        "UPDATE smsgate_messages SET state = 'in_flight', updated_ms = $1, \
                         sent_ms = $1, provider = NULL, provider_message_id = NULL, tried = $5 \
                         WHERE job = $2 AND {} AND position = ANY($3) AND state = 'claimed' \
                         AND worker = $4 RETURNING position",
                        span_condition("position", &wanted)
                    );
                    let started = tx
                        .query(&sql, &[&now, &job, &wanted, &worker, &tried])
                        .await
                        .map_err(db)?;
                    if started.len() != positions.len() {
                        let done: Vec<i64> = started
                            .iter()
                            .map(|row| row.try_get(0).map_err(db))
                            .collect::<Result<_, _>>()?;
                        let missing = positions
                            .iter()
                            .copied()
                            .find(|p| !done.contains(&position(*p)))
                            .unwrap_or_default();
                        return Err(LedgerError::Transition {
                            job: job.clone(),
                            position: missing,
                            reason: format!("not claimed by {worker}: it cannot be sent"),
                        });
                    }
                    Ok(())
                })
            })
            .await
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
        Box::pin(async move {
            let rows = self
                .client
                .lock()
                .await
                .query(
                    "SELECT DISTINCT number FROM smsgate_messages WHERE job <> $1 \
                     AND state IN ('in_flight', 'unknown') AND sent_ms BETWEEN $2 AND $3",
                    &[&job, &from, &to],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|row| row.try_get::<_, String>(0).map_err(db))
                .collect()
        })
    }

    fn settle(
        &self,
        job: &str,
        settlements: Vec<Settlement>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        Box::pin(self.outcomes(job.to_owned(), settlements, Settling::InFlight))
    }

    fn recover(
        &self,
        job: &str,
        all_in_flight: bool,
    ) -> BoxFuture<'_, Result<Recovery, LedgerError>> {
        let job = job.to_owned();
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let now = now_ms();
                    let lapsed = if all_in_flight { i64::MAX } else { now };
                    let stranded = tx
                        .query(
                            "UPDATE smsgate_messages SET state = 'unknown', updated_ms = $1, reason = \
                             'in flight when its worker stopped: the request may have reached the provider' \
                             WHERE job = $2 AND state = 'in_flight' AND lease_until_ms <= $3 \
                             RETURNING position",
                            &[&now, &job, &lapsed],
                        )
                        .await
                        .map_err(db)?;
                    let released = tx
                        .execute(
                            "UPDATE smsgate_messages SET state = 'pending', worker = NULL, \
                             lease_until_ms = NULL, updated_ms = $1 \
                             WHERE job = $2 AND state = 'claimed' AND lease_until_ms <= $3",
                            &[&now, &job, &lapsed],
                        )
                        .await
                        .map_err(db)?;
                    let mut unknown = Vec::with_capacity(stranded.len());
                    for row in &stranded {
                        let at: i64 = row.try_get(0).map_err(db)?;
                        unknown.push(u64::try_from(at).unwrap_or(u64::MAX));
                    }
                    unknown.sort_unstable();
                    Ok(Recovery { unknown, released })
                })
            })
            .await
        })
    }

    fn message(&self, job: &str, at: u64) -> BoxFuture<'_, Result<Option<Message>, LedgerError>> {
        let job = job.to_owned();
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let found =
                        messages_where(tx, "job = $1 AND position = $2", &[&job, &position(at)])
                            .await?;
                    Ok(found.into_iter().next())
                })
            })
            .await
        })
    }

    fn held_elsewhere(&self, job: &str, worker: &str) -> BoxFuture<'_, Result<u64, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        Box::pin(async move {
            let held: i64 = self
                .client
                .lock()
                .await
                .query_one(
                    "SELECT count(*) FROM smsgate_messages WHERE job = $1 \
                     AND state IN ('claimed', 'in_flight') AND worker IS DISTINCT FROM $2",
                    &[&job, &worker],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            Ok(u64::try_from(held).unwrap_or_default())
        })
    }

    fn wait_for_settlements(&self, timeout: std::time::Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if !self.listening.swap(true, Ordering::SeqCst) {
                // From now on no settlement goes unheard: the caller counts again first.
                let listen = format!("LISTEN {SETTLED_CHANNEL}");
                if let Err(err) = self.client.lock().await.batch_execute(&listen).await {
                    self.listening.store(false, Ordering::SeqCst);
                    tracing::debug!(error = %err, "cannot listen for settlements; polling");
                    tokio::time::sleep(timeout).await;
                }
                return;
            }
            let mut settled = self.settled.lock().await;
            match tokio::time::timeout(timeout, settled.changed()).await {
                // Heard one (or none in time): the caller counts again.
                Ok(Ok(())) | Err(_) => {}
                // The connection is gone: the next statement says so; until then, poll.
                Ok(Err(_)) => tokio::time::sleep(timeout).await,
            }
        })
    }

    fn messages(
        &self,
        job: &str,
        states: Vec<State>,
    ) -> BoxFuture<'_, Result<Vec<Message>, LedgerError>> {
        let job = job.to_owned();
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
                    messages_where(tx, "job = $1 AND state = ANY($2)", &[&job, &names]).await
                })
            })
            .await
        })
    }

    fn record_report(
        &self,
        status: DeliveryStatus,
    ) -> BoxFuture<'_, Result<ReportMatch, LedgerError>> {
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let now = now_ms();
                    tx.execute(
                        "SELECT pg_advisory_xact_lock($1)",
                        &[&report_lock_key(&status.provider, &status.message_id)],
                    )
                    .await
                    .map_err(db)?;
                    let mut candidates = Vec::new();
                    for row in tx
                        .query(
                            "SELECT job, position, state, number FROM smsgate_messages \
                             WHERE provider = $1 AND provider_message_id = $2 \
                             ORDER BY job, position LIMIT 1000 FOR UPDATE",
                            &[&status.provider, &status.message_id],
                        )
                        .await
                        .map_err(db)?
                    {
                        candidates.push((
                            row.try_get(0).map_err(db)?,
                            row.try_get(1).map_err(db)?,
                            row.try_get(2).map_err(db)?,
                            row.try_get(3).map_err(db)?,
                        ));
                    }
                    let found = reported_row(candidates, status.number.as_deref());
                    tx.execute(
                        "INSERT INTO smsgate_reports (provider, message_id, state, vendor_status, \
                         number, detail, at, received_ms, matched) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        &[
                            &status.provider,
                            &status.message_id,
                            &status.state.as_str(),
                            &status.vendor_status,
                            &status.number,
                            &status.detail,
                            &status.at,
                            &now,
                            &found.is_some(),
                        ],
                    )
                    .await
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
                        "UPDATE smsgate_messages SET state = $1, report_state = $2, \
                         report_status = $3, report_at = $4, updated_ms = $5 \
                         WHERE job = $6 AND position = $7",
                        &[
                            &next.as_str(),
                            &status.state.as_str(),
                            &status.vendor_status,
                            &status.at,
                            &now,
                            &job,
                            &at,
                        ],
                    )
                    .await
                    .map_err(db)?;
                    Ok(ReportMatch {
                        message: Some((job, u64::try_from(at).unwrap_or(u64::MAX))),
                        state: Some(next),
                    })
                })
            })
            .await
        })
    }

    fn counts(&self, job: &str) -> BoxFuture<'_, Result<Vec<Count>, LedgerError>> {
        let job = job.to_owned();
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let rows = tx
                        .query(
                            "SELECT state, provider, COUNT(*) FROM smsgate_messages WHERE job = $1 \
                             GROUP BY state, provider ORDER BY state, provider",
                            &[&job],
                        )
                        .await
                        .map_err(db)?;
                    let mut counts = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let state: String = row.try_get(0).map_err(db)?;
                        let messages: i64 = row.try_get(2).map_err(db)?;
                        counts.push(Count {
                            state: State::parse(&state).unwrap_or(State::Unknown),
                            provider: row.try_get(1).map_err(db)?,
                            messages: u64::try_from(messages).unwrap_or_default(),
                        });
                    }
                    Ok(counts)
                })
            })
            .await
        })
    }

    fn resolve_unknown(
        &self,
        job: &str,
        settlements: Vec<Settlement>,
    ) -> BoxFuture<'_, Result<(), LedgerError>> {
        Box::pin(self.outcomes(job.to_owned(), settlements, Settling::Unknown))
    }

    fn held_ids(
        &self,
        provider: &str,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<String>, LedgerError>> {
        let provider = provider.to_owned();
        Box::pin(async move {
            let rows = self
                .client
                .lock()
                .await
                .query(
                    "SELECT DISTINCT provider_message_id FROM smsgate_messages \
                     WHERE provider = $1 AND provider_message_id IS NOT NULL \
                     AND provider_message_id = ANY($2)",
                    &[&provider, &ids],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|row| row.try_get::<_, String>(0).map_err(db))
                .collect()
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
        Box::pin(async move {
            self.transaction(|tx| {
                Box::pin(async move {
                    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                    claim_picked(
                        tx,
                        &job,
                        &worker,
                        lease_ms,
                        "'pending'",
                        "ORDER BY position LIMIT $5",
                        &limit,
                    )
                    .await
                })
            })
            .await
        })
    }

    fn renew(
        &self,
        job: &str,
        worker: &str,
        lease_ms: u64,
    ) -> BoxFuture<'_, Result<u64, LedgerError>> {
        let (job, worker) = (job.to_owned(), worker.to_owned());
        Box::pin(async move {
            let now = now_ms();
            let until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
            self.client
                .lock()
                .await
                .execute(
                    "UPDATE smsgate_messages SET lease_until_ms = $1 WHERE job = $2 \
                     AND worker = $3 AND state IN ('claimed', 'in_flight')",
                    &[&until, &job, &worker],
                )
                .await
                .map_err(db)
        })
    }
}
