//! The PostgreSQL ledger against a real server: `SMSGATE_TEST_POSTGRES_URL` (set by
//! `cargo xtask ci`, which starts a throwaway cluster with `.ci/postgres.sh`). Never skipped: a
//! missing server fails these tests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

mod common;

use std::collections::BTreeSet;

use smsgate_ledger::{
    Ledger, LedgerError, NewMessage, PostgresLedger, Settled, Settlement, State, TextPolicy,
};
use smsgate_provider::DeliveryStatus;
use smsgate_transport::spec::DeliveryClass;

fn url() -> String {
    std::env::var("SMSGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "SMSGATE_TEST_POSTGRES_URL is not set: run `cargo xtask ci` (it starts a throwaway \
             PostgreSQL with .ci/postgres.sh), or start one and set the variable; these tests \
             never skip"
        )
    })
}

async fn connect() -> PostgresLedger {
    PostgresLedger::connect(&url(), TextPolicy::Keep)
        .await
        .unwrap()
}

/// A job name no other test (or earlier run on the same database) uses.
fn job(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos}")
}

fn rows(n: u64) -> Vec<NewMessage> {
    (0..n)
        .map(|i| {
            NewMessage::new(
                i,
                format!("ref-{i}"),
                format!("86138001{i:05}"),
                format!("text {i}"),
            )
        })
        .collect()
}

fn count(counts: &[smsgate_ledger::Count], state: State) -> u64 {
    counts
        .iter()
        .filter(|c| c.state == state)
        .map(|c| c.messages)
        .sum()
}

#[tokio::test]
async fn loading_is_idempotent_across_workers() {
    let job = job("load");
    let (a, b) = (connect().await, connect().await);
    // Several workers load the same file: the rows exist once.
    let (x, y) = tokio::join!(a.load(&job, rows(50)), b.load(&job, rows(50)));
    assert_eq!(x.unwrap() + y.unwrap(), 50);
    assert_eq!(count(&a.counts(&job).await.unwrap(), State::Pending), 50);
}

/// Three workers (three connections) claiming in chunks: every row is claimed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_claim_each_row_exactly_once() {
    let job = job("claim");
    let loader = connect().await;
    loader.load(&job, rows(300)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..3 {
        let job = job.clone();
        tasks.push(tokio::spawn(async move {
            let ledger = connect().await;
            let worker = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let claimed = ledger.claim(&job, &worker, 7, 60_000).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                assert!(claimed.len() <= 7, "a claim took {} rows", claimed.len());
                let positions: Vec<u64> = claimed.iter().map(|m| m.position).collect();
                ledger
                    .start(&job, &worker, positions.clone())
                    .await
                    .unwrap();
                let settled = positions
                    .iter()
                    .map(|p| Settlement::accepted(*p, "nxcloud", format!("id-{p}"), vec![]))
                    .collect();
                ledger.settle(&job, settled).await.unwrap();
                mine.extend(positions);
            }
        }));
    }
    let mut seen = BTreeSet::new();
    let mut per_worker = Vec::new();
    for task in tasks {
        let mine = task.await.unwrap();
        per_worker.push(mine.len());
        for p in mine {
            assert!(seen.insert(p), "row {p} claimed twice");
        }
    }
    assert_eq!(seen.len(), 300);
    assert_eq!(
        count(&loader.counts(&job).await.unwrap(), State::Accepted),
        300
    );
}

/// A worker killed with rows in flight and claimed: its in-flight rows become unknown once its
/// lease ends, its claimed rows return to pending, and the survivors send only those.
#[tokio::test]
async fn a_killed_workers_rows_are_recovered() {
    let job = job("kill");
    {
        let doomed = connect().await;
        doomed.load(&job, rows(10)).await.unwrap();
        assert_eq!(doomed.claim(&job, "doomed", 5, 0).await.unwrap().len(), 5);
        doomed.start(&job, "doomed", vec![0, 1]).await.unwrap();
        // Its connection closes here, as a process killed with -9 closes it.
    }
    let survivor = connect().await;
    let alive = survivor.claim(&job, "alive", 2, 600_000).await.unwrap();
    assert_eq!(
        alive.iter().map(|m| m.position).collect::<Vec<_>>(),
        [5, 6],
        "the doomed worker's rows stay claimed until recovered"
    );
    let recovery = survivor.recover(&job, false).await.unwrap();
    assert_eq!(recovery.unknown, [0, 1]);
    assert_eq!(recovery.released, 3);
    let rest = survivor.claim(&job, "alive", 100, 600_000).await.unwrap();
    assert_eq!(
        rest.iter().map(|m| m.position).collect::<Vec<_>>(),
        [2, 3, 4, 7, 8, 9]
    );
    // The live worker's rows were left alone; in-flight rows are never handed out again.
    let unknown = survivor.messages(&job, vec![State::Unknown]).await.unwrap();
    assert_eq!(unknown.len(), 2);
    assert!(matches!(
        survivor.start(&job, "alive", vec![0]).await,
        Err(LedgerError::Transition { position: 0, .. })
    ));
}

#[tokio::test]
async fn outcomes_are_recorded_once_and_reports_matched() {
    let job = job("reports");
    let ledger = connect().await;
    ledger.load(&job, rows(3)).await.unwrap();
    ledger.claim(&job, "a", 3, 60_000).await.unwrap();
    ledger.start(&job, "a", vec![0, 1]).await.unwrap();
    let provider_id = format!("{job}-m0");
    ledger
        .settle(
            &job,
            vec![
                Settlement::accepted(0, "twilio", provider_id.clone(), vec!["twilio".into()]),
                Settlement::other(1, Settled::Rejected { retry_safe: true }, "auth"),
                Settlement::other(2, Settled::NotSent, "stopped"),
            ],
        )
        .await
        .unwrap();
    assert!(
        ledger
            .settle(&job, vec![Settlement::other(0, Settled::Unknown, "again")])
            .await
            .is_err()
    );
    let status = |id: &str, state| DeliveryStatus {
        provider: "twilio".into(),
        message_id: id.into(),
        number: None,
        state,
        vendor_status: "delivered".into(),
        detail: None,
        at: Some("2612011200".into()),
    };
    let matched = ledger
        .record_report(status(&provider_id, DeliveryClass::Delivered))
        .await
        .unwrap();
    assert_eq!(matched.message, Some((job.clone(), 0)));
    assert_eq!(matched.state, Some(State::Delivered));
    let stranger = ledger
        .record_report(status("SMnobody", DeliveryClass::Delivered))
        .await
        .unwrap();
    assert_eq!(stranger.message, None);
    let rejected = ledger.message(&job, 1).await.unwrap().unwrap();
    assert_eq!(
        (rejected.state, rejected.retry_safe),
        (State::Rejected, Some(true))
    );
    assert_eq!(
        ledger.message(&job, 2).await.unwrap().unwrap().state,
        State::NotSent
    );
}

#[tokio::test]
async fn a_bad_url_is_a_typed_error_without_the_password() {
    let err = PostgresLedger::connect("postgres://u:secret-pw@127.0.0.1:1/db", TextPolicy::Keep)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Url { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-pw"), "{err}");
}

/// Workers reading the same input each claim a chunk's pending rows: a row one worker holds is
/// skipped by the others, and every row of the chunk is claimed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_share_a_chunk_without_overlap() {
    let job = job("chunk");
    let loader = connect().await;
    loader.load(&job, rows(40)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..3 {
        let job = job.clone();
        tasks.push(tokio::spawn(async move {
            let ledger = connect().await;
            let mut mine = Vec::new();
            for chunk in (0..40u64).collect::<Vec<_>>().chunks(8) {
                let claimed = ledger
                    .claim_positions(&job, &format!("w{w}"), chunk.to_vec(), 60_000)
                    .await
                    .unwrap();
                assert!(claimed.iter().all(|m| chunk.contains(&m.position)));
                mine.extend(claimed.iter().map(|m| m.position));
            }
            mine
        }));
    }
    let mut seen = BTreeSet::new();
    for task in tasks {
        for p in task.await.unwrap() {
            assert!(seen.insert(p), "row {p} claimed twice");
        }
    }
    assert_eq!(seen.len(), 40);
    let all = loader.messages_at(&job, (0..40).collect()).await.unwrap();
    assert!(all.iter().all(|m| m.state == State::Claimed));
}

/// A password given in the query string or as a key=value connection string never shows.
#[tokio::test]
async fn no_form_of_password_is_shown() {
    for url in [
        "postgres://127.0.0.1:1/db?user=u&password=hunter2-query",
        "host=127.0.0.1 port=1 user=u password=hunter2-kv",
        "postgres://u:hunter2-userinfo@127.0.0.1:1/db",
    ] {
        let err = smsgate_ledger::open(url, TextPolicy::Keep)
            .await
            .err()
            .unwrap();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn early_reports_are_applied_and_shared_ids_told_apart_by_number() {
    let ledger = connect().await;
    common::early_and_shared_reports(&ledger, &job("early")).await;
}

#[tokio::test]
async fn a_late_pending_report_never_replaces_a_final_one() {
    let ledger = connect().await;
    common::a_late_pending_report_never_replaces_a_final_one(&ledger, &job("late")).await;
}

#[tokio::test]
async fn a_chunk_is_taken_once() {
    let ledger = connect().await;
    common::a_chunk_is_taken_once(&ledger, &job("take")).await;
}

/// A worker joining a job while others write starts at once: its start runs no schema statement
/// when the schema is current (a `CREATE INDEX IF NOT EXISTS` that finds its index still locks
/// the table against writes, which made a joining worker wait for, and deadlock with, others).
#[tokio::test]
async fn connecting_waits_for_no_open_transaction() {
    let ledger = connect().await;
    let job = job("join");
    ledger.load(&job, rows(3)).await.unwrap();
    let mut client = raw().await;
    let writing = client.transaction().await.unwrap();
    writing
        .execute(
            "UPDATE smsgate_messages SET updated_ms = updated_ms WHERE job = $1",
            &[&job],
        )
        .await
        .unwrap();
    writing
        .execute(
            "INSERT INTO smsgate_reports (provider, message_id, state, vendor_status, \
             received_ms, matched) VALUES ('nxcloud', $1, 'pending', '0', 0, FALSE)",
            &[&job],
        )
        .await
        .unwrap();
    let joined = tokio::time::timeout(std::time::Duration::from_secs(20), connect()).await;
    writing.rollback().await.unwrap();
    assert!(
        joined.is_ok(),
        "connecting waited for another transaction's writes"
    );
}

/// A raw connection to the test database, for looking at (or tampering with) the tables.
async fn raw() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// The digests recorded for `job`'s chunks, by bounds.
async fn chunk_digests(client: &tokio_postgres::Client, job: &str) -> Vec<(i64, i64, String)> {
    client
        .query(
            "SELECT first_position, last_position, digest FROM smsgate_chunks WHERE job = $1 \
             ORDER BY first_position, last_position",
            &[&job],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// A chunk reached again in the same bounds is compared by its digest: any change to a row's
/// number, text, reference or sender id (even only a sender id added) is refused at that row
/// and leaves the recorded digest as it was; the unchanged chunk is taken as loaded.
#[tokio::test]
async fn a_chunk_known_by_its_digest_still_refuses_any_change() {
    let ledger = connect().await;
    let client = raw().await;
    let job = job("digest");
    let given = rows(4);
    let first = ledger
        .take(&job, "a", given.clone(), 60_000, vec![])
        .await
        .unwrap();
    assert_eq!(first.mine, vec![0, 1, 2, 3]);
    let recorded = chunk_digests(&client, &job).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!((recorded[0].0, recorded[0].1), (0, 3));
    type Edit = fn(&mut NewMessage);
    let edits: [(&str, Edit); 4] = [
        ("number", |m| m.number = "8613800199999".to_owned()),
        ("text", |m| m.text.push('!')),
        ("reference", |m| m.client_ref = "another".to_owned()),
        ("sender id", |m| m.sender_id = Some("ACME".to_owned())),
    ];
    for (what, edit) in edits {
        let mut changed = given.clone();
        edit(&mut changed[2]);
        match ledger.take(&job, "b", changed, 60_000, vec![]).await {
            Err(LedgerError::Transition { position, .. }) => {
                assert_eq!(position, 2, "{what}");
            }
            other => panic!("a changed {what} was taken: {other:?}"),
        }
        assert_eq!(chunk_digests(&client, &job).await, recorded, "{what}");
    }
    let again = ledger.take(&job, "b", given, 60_000, vec![]).await.unwrap();
    assert!(again.mine.is_empty());
    assert_eq!(again.held_elsewhere, 4);
}

/// Rows of a known chunk deleted by hand are loaded again (and taken), never counted as held
/// by another worker; a ledger whose messages table was dropped forgets its chunks' digests.
#[tokio::test]
async fn a_known_chunk_missing_rows_loads_them_again() {
    let ledger = connect().await;
    let client = raw().await;
    let job = job("missing");
    ledger
        .take(&job, "a", rows(4), 60_000, vec![])
        .await
        .unwrap();
    client
        .execute(
            "DELETE FROM smsgate_messages WHERE job = $1 AND position IN (1, 3)",
            &[&job],
        )
        .await
        .unwrap();
    let again = ledger
        .take(&job, "b", rows(4), 60_000, vec![])
        .await
        .unwrap();
    assert_eq!(again.mine, vec![1, 3]);
    assert_eq!(again.held_elsewhere, 2);
    for position in [1, 3] {
        let message = ledger.message(&job, position).await.unwrap().unwrap();
        assert_eq!(message.state, State::InFlight);
        assert_eq!(message.worker.as_deref(), Some("b"));
    }
}

/// A ledger an older build made (no `smsgate_schema`, no chunk digests, no `sent_ms`, the old
/// index by state) is brought up to date on connect; an index dropped by hand later is made
/// again. In a schema of its own, so that no other test sees its tables.
#[tokio::test]
async fn an_older_ledger_is_upgraded_and_a_dropped_index_made_again() {
    let schema = job("upgrade").replace('-', "_");
    let client = raw().await;
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}; \
             CREATE TABLE smsgate_jobs (name TEXT PRIMARY KEY, created_ms BIGINT NOT NULL); \
             CREATE TABLE smsgate_messages (job TEXT NOT NULL, position BIGINT NOT NULL, \
             client_ref TEXT NOT NULL, number TEXT NOT NULL, text TEXT, text_md5 TEXT NOT NULL, \
             sender_id TEXT, state TEXT NOT NULL, retry_safe BOOLEAN, provider TEXT, \
             provider_message_id TEXT, tried TEXT NOT NULL DEFAULT '', reason TEXT, worker TEXT, \
             lease_until_ms BIGINT, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, \
             report_state TEXT, report_status TEXT, report_at TEXT, PRIMARY KEY (job, position)); \
             CREATE INDEX smsgate_messages_by_state ON smsgate_messages (job, state, position);"
        ))
        .await
        .unwrap();
    let base = url();
    let separator = if base.contains('?') { '&' } else { '?' };
    let scoped = format!("{base}{separator}options=-csearch_path%3D{schema}");
    let exists = |name: &'static str| {
        let client = &client;
        let schema = schema.clone();
        async move {
            client
                .query_one(
                    "SELECT to_regclass($1) IS NOT NULL",
                    &[&format!("{schema}.{name}")],
                )
                .await
                .unwrap()
                .get::<_, bool>(0)
        }
    };
    let ledger = PostgresLedger::connect(&scoped, TextPolicy::Keep)
        .await
        .unwrap();
    assert!(exists("smsgate_schema").await);
    assert!(exists("smsgate_chunks").await);
    assert!(exists("smsgate_messages_open").await);
    assert!(!exists("smsgate_messages_by_state").await);
    let taken = ledger
        .take("old", "a", rows(2), 60_000, vec![])
        .await
        .unwrap();
    assert_eq!(taken.mine, vec![0, 1]);
    assert!(
        ledger
            .message("old", 0)
            .await
            .unwrap()
            .unwrap()
            .sent_ms
            .is_some()
    );
    client
        .batch_execute(&format!("DROP INDEX {schema}.smsgate_messages_open"))
        .await
        .unwrap();
    PostgresLedger::connect(&scoped, TextPolicy::Keep)
        .await
        .unwrap();
    assert!(exists("smsgate_messages_open").await);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// A worker waiting for the others wakes when their outcomes commit, not at its next poll.
#[tokio::test]
async fn a_waiting_worker_hears_the_others_settle() {
    let job = job("wait");
    let (waiting, sending) = (connect().await, connect().await);
    let taken = sending
        .take(&job, "sender", rows(3), 60_000, vec!["nxcloud".into()])
        .await
        .unwrap();
    assert_eq!(taken.mine, vec![0, 1, 2]);
    // The first wait only starts listening.
    let started = std::time::Instant::now();
    waiting
        .wait_for_settlements(std::time::Duration::from_secs(30))
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(waiting.held_elsewhere(&job, "waiter").await.unwrap(), 3);
    let settle = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        sending
            .settle(
                &job,
                (0..3)
                    .map(|p| Settlement::accepted(p, "nxcloud", format!("id-{p}"), vec![]))
                    .collect(),
            )
            .await
            .unwrap();
    };
    let started = std::time::Instant::now();
    tokio::join!(
        waiting.wait_for_settlements(std::time::Duration::from_secs(30)),
        settle
    );
    // Woken by the notification (the timeout is 30 s).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(waiting.held_elsewhere(&job, "waiter").await.unwrap(), 0);
}

/// A worker reaching a chunk another one is taking right now skips it (`try_take`: `None`, no
/// row touched), and takes it once that one is through.
#[tokio::test]
async fn a_chunk_being_taken_elsewhere_is_skipped_not_waited_for() {
    let job = job("skip");
    let ledger = connect().await;
    // The chunk's lock, as another worker's `take` holds it (the job's key, the first position).
    let hex = smsgate_transport::sign::md5_hex(&[job.as_bytes()]);
    let job_key = u32::from_str_radix(&hex[..8], 16).unwrap() as i32;
    let mut other = raw().await;
    let holding = other.transaction().await.unwrap();
    holding
        .execute("SELECT pg_advisory_xact_lock($1, 0)", &[&job_key])
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let skipped = ledger
        .try_take(&job, "a", rows(3), 60_000, vec![])
        .await
        .unwrap();
    assert!(skipped.is_none());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(ledger.message(&job, 0).await.unwrap().is_none());
    holding.commit().await.unwrap();
    let taken = ledger
        .try_take(&job, "a", rows(3), 60_000, vec![])
        .await
        .unwrap()
        .expect("the lock is free");
    assert_eq!(taken.mine, vec![0, 1, 2]);
}

/// A claim reads only the rows it claims. The planner expects a job without statistics to hold
/// one row, and once turned the claim's update into a walk over every row of the job: at the
/// end of every worker's run (its last look for released rows, which finds none) and, on a
/// resume, once per chunk. Counted by the server's statistics for a schema of this test's own
/// (other tests write to the shared one meanwhile).
#[tokio::test]
async fn a_claim_reads_only_the_rows_it_claims() {
    const ROWS: u64 = 3000;
    let (admin, schema, scoped) = own_schema("claim_scope").await;
    // An earlier job, which the statistics know; then this one, which they do not (a job just
    // begun): its rows look rare to the planner.
    let (earlier, job) = (job("claim-scope-earlier"), job("claim-scope"));
    {
        let ledger = PostgresLedger::connect(&scoped, TextPolicy::Keep)
            .await
            .unwrap();
        for job in [&earlier, &job] {
            let taken = ledger
                .take(job, "a", rows(ROWS), 60_000, vec!["twilio".into()])
                .await
                .unwrap();
            assert_eq!(taken.mine.len() as u64, ROWS);
            let accepted = taken
                .mine
                .iter()
                .map(|p| {
                    Settlement::accepted(*p, "twilio", format!("{job}-{p}"), vec!["twilio".into()])
                })
                .collect();
            ledger.settle(job, accepted).await.unwrap();
            if job == &earlier {
                admin
                    .batch_execute(&format!("ANALYZE {schema}.smsgate_messages"))
                    .await
                    .unwrap();
            }
        }
        // Its connection closes: the server process behind it reports its counts as it exits.
    }
    let before = reported(&admin, &schema, |c| c.updated >= 2 * ROWS as i64).await;
    {
        let late = PostgresLedger::connect(&scoped, TextPolicy::Keep)
            .await
            .unwrap();
        let claimed = late.claim_released(&job, "b", 1000, 60_000).await.unwrap();
        assert!(claimed.is_empty(), "every row of the job is settled");
    }
    let after = reported(&admin, &schema, |c| c.index_scans > before.index_scans).await;
    let fetched = after.fetched - before.fetched;
    assert!(
        fetched < 100,
        "a claim that found nothing fetched {fetched} rows of a {ROWS}-row job by index"
    );
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// What the server counted for `schema.smsgate_messages`.
#[derive(Clone, Copy, Debug, Default)]
struct TableCounts {
    inserted: i64,
    updated: i64,
    index_scans: i64,
    /// Rows fetched by index scans.
    fetched: i64,
}

/// The server's counts for `schema.smsgate_messages` once `done` says they include what is
/// awaited (a server process reports its counts when its connection closes, a moment later).
async fn reported(
    admin: &tokio_postgres::Client,
    schema: &str,
    done: impl Fn(TableCounts) -> bool,
) -> TableCounts {
    for _ in 0..200 {
        let row = admin
            .query_opt(
                "SELECT n_tup_ins, n_tup_upd, idx_scan, idx_tup_fetch FROM pg_stat_user_tables \
                 WHERE schemaname = $1 AND relname = 'smsgate_messages'",
                &[&schema],
            )
            .await
            .unwrap();
        let counts = row.map_or(TableCounts::default(), |row| {
            let count = |k: usize| row.get::<_, Option<i64>>(k).unwrap_or_default();
            TableCounts {
                inserted: count(0),
                updated: count(1),
                index_scans: count(2),
                fetched: count(3),
            }
        });
        if done(counts) {
            return counts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server never reported the counts of a closed connection");
}

/// A schema of the calling test's own (its tables' statistics are its alone): a raw connection,
/// the schema's name, and a ledger URL whose tables live there.
async fn own_schema(name: &str) -> (tokio_postgres::Client, String, String) {
    let schema = job(name).replace('-', "_");
    let admin = raw().await;
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url().contains('?') { '&' } else { '?' };
    let scoped = format!("{}{separator}options=-c%20search_path%3D{schema}", url());
    (admin, schema, scoped)
}

/// A chunk whose rows an earlier run loaded but never sent is claimed by its own rows, not by a
/// walk over the job (the same planner trap as [`a_claim_reads_only_the_rows_it_claims`], in
/// `take`: on a resume it ran once per chunk).
#[tokio::test]
async fn taking_a_loaded_chunk_reads_that_chunk_only() {
    const ROWS: u64 = 10_000;
    let (admin, schema, scoped) = own_schema("take_scope").await;
    let (earlier, job) = (job("take-scope-earlier"), job("take-scope"));
    {
        let ledger = PostgresLedger::connect(&scoped, TextPolicy::Keep)
            .await
            .unwrap();
        ledger.load(&earlier, rows(1000)).await.unwrap();
        admin
            .batch_execute(&format!("ANALYZE {schema}.smsgate_messages"))
            .await
            .unwrap();
        // Loaded, never sent: all pending.
        assert_eq!(ledger.load(&job, rows(ROWS)).await.unwrap(), ROWS);
    }
    let before = reported(&admin, &schema, |c| c.inserted >= ROWS as i64 + 1000).await;
    {
        let late = PostgresLedger::connect(&scoped, TextPolicy::Keep)
            .await
            .unwrap();
        let chunk: Vec<NewMessage> = rows(ROWS).into_iter().skip(4000).take(1000).collect();
        let taken = late
            .take(&job, "b", chunk, 60_000, vec!["twilio".into()])
            .await
            .unwrap();
        assert_eq!(taken.mine, (4000..5000).collect::<Vec<u64>>());
    }
    let after = reported(&admin, &schema, |c| c.updated >= before.updated + 1000).await;
    let fetched = after.fetched - before.fetched;
    assert!(
        fetched < ROWS as i64 / 2,
        "taking a 1000-row chunk fetched {fetched} rows of a {ROWS}-row job by index"
    );
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// A batch of outcomes larger than PostgreSQL's shared lock table (64 locks a connection by
/// default) is recorded: the locks that order outcomes and delivery reports are a few buckets,
/// not one per message id (which put 20 000 locks in the table and failed with "out of shared
/// memory", for every session of the database).
#[tokio::test]
async fn a_batch_of_outcomes_larger_than_the_lock_table_is_recorded() {
    const ROWS: u64 = 20_000;
    let job = job("lock-table");
    let ledger = connect().await;
    let taken = ledger
        .take(&job, "a", rows(ROWS), 60_000, vec!["twilio".into()])
        .await
        .unwrap();
    let accepted = taken
        .mine
        .iter()
        .map(|p| Settlement::accepted(*p, "twilio", format!("{job}-{p}"), vec!["twilio".into()]))
        .collect();
    ledger.settle(&job, accepted).await.unwrap();
    let counts = ledger.counts(&job).await.unwrap();
    assert_eq!(count(&counts, State::Accepted), ROWS);
}
