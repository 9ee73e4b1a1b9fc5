//! The SQLite ledger's state machine, crash recovery and report matching, on real files.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

mod common;

use std::collections::BTreeSet;

use smsgate_ledger::{
    Ledger, LedgerError, NewMessage, Settled, Settlement, SqliteLedger, State, TextPolicy,
};
use smsgate_provider::DeliveryStatus;
use smsgate_transport::spec::DeliveryClass;

fn rows(n: u64) -> Vec<NewMessage> {
    (0..n)
        .map(|i| {
            NewMessage::new(
                i,
                format!("ref-{i:04}"),
                format!("86138001380{i:02}"),
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
async fn loading_is_idempotent_and_claims_go_in_position_order() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = SqliteLedger::open(dir.path().join("l.db"), TextPolicy::Keep).unwrap();
    assert_eq!(ledger.load("job", rows(10)).await.unwrap(), 10);
    assert_eq!(ledger.load("job", rows(12)).await.unwrap(), 2);
    assert_eq!(
        count(&ledger.counts("job").await.unwrap(), State::Pending),
        12
    );

    let first = ledger.claim("job", "a", 5, 60_000).await.unwrap();
    let second = ledger.claim("job", "b", 5, 60_000).await.unwrap();
    let positions =
        |ms: &[smsgate_ledger::Message]| ms.iter().map(|m| m.position).collect::<Vec<_>>();
    assert_eq!(positions(&first), [0, 1, 2, 3, 4]);
    assert_eq!(positions(&second), [5, 6, 7, 8, 9]);
    assert!(
        first
            .iter()
            .all(|m| m.state == State::Claimed && m.worker.as_deref() == Some("a"))
    );
    assert_eq!(first[3].text.as_deref(), Some("text 3"));
    assert_eq!(first[3].client_ref, "ref-0003");
    // Another job's rows are its own.
    assert_eq!(ledger.load("other", rows(3)).await.unwrap(), 3);
    assert_eq!(
        ledger.claim("job", "c", 100, 60_000).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn only_a_claimed_row_starts_and_only_a_row_in_flight_settles_once() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    ledger.load("job", rows(3)).await.unwrap();
    ledger.claim("job", "a", 2, 60_000).await.unwrap();
    // Another worker's row, or a row nobody claimed, cannot start.
    assert!(matches!(
        ledger.start("job", "b", vec![0]).await,
        Err(LedgerError::Transition { position: 0, .. })
    ));
    assert!(ledger.start("job", "a", vec![2]).await.is_err());
    ledger.start("job", "a", vec![0, 1]).await.unwrap();
    assert!(
        ledger.start("job", "a", vec![0]).await.is_err(),
        "started twice"
    );

    ledger
        .settle(
            "job",
            vec![
                Settlement::accepted(
                    0,
                    "nxcloud",
                    "m-0",
                    vec!["itniotech".into(), "nxcloud".into()],
                ),
                Settlement::other(1, Settled::Rejected { retry_safe: false }, "invalid number"),
            ],
        )
        .await
        .unwrap();
    let accepted = ledger.message("job", 0).await.unwrap().unwrap();
    assert_eq!(accepted.state, State::Accepted);
    assert_eq!(accepted.provider_message_id.as_deref(), Some("m-0"));
    assert_eq!(accepted.tried, ["itniotech", "nxcloud"]);
    let rejected = ledger.message("job", 1).await.unwrap().unwrap();
    assert_eq!(
        (rejected.state, rejected.retry_safe),
        (State::Rejected, Some(false))
    );
    // A second outcome for the same row is refused: exactly one outcome per row.
    assert!(
        ledger
            .settle("job", vec![Settlement::other(0, Settled::Unknown, "again")])
            .await
            .is_err()
    );
    assert!(ledger.message("job", 9).await.unwrap().is_none());
}

/// A process killed mid-run leaves rows claimed and in flight; reopening the file and
/// recovering turns every row in flight into `unknown` (never resent) and releases the rest,
/// so the rerun sends only what never left.
#[tokio::test]
async fn a_crash_mid_run_never_sends_a_row_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    {
        let ledger = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
        ledger.load("job", rows(10)).await.unwrap();
        let claimed = ledger.claim("job", "run-1", 6, 600_000).await.unwrap();
        assert_eq!(claimed.len(), 6);
        ledger
            .start("job", "run-1", vec![0, 1, 2, 3])
            .await
            .unwrap();
        ledger
            .settle(
                "job",
                vec![Settlement::accepted(0, "nxcloud", "m-0", vec![])],
            )
            .await
            .unwrap();
        // Killed here: rows 1-3 in flight, 4-5 claimed, 6-9 pending.
    }
    let ledger = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    let recovery = ledger.recover("job", true).await.unwrap();
    assert_eq!(recovery.unknown, [1, 2, 3]);
    assert_eq!(recovery.released, 2);
    let unknown = ledger.messages("job", vec![State::Unknown]).await.unwrap();
    assert_eq!(unknown.len(), 3);
    assert!(
        unknown[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("may have reached")
    );

    let again = ledger.claim("job", "run-2", 100, 600_000).await.unwrap();
    let positions: Vec<u64> = again.iter().map(|m| m.position).collect();
    assert_eq!(
        positions,
        [4, 5, 6, 7, 8, 9],
        "only rows that never left are sent"
    );
    // Every row has exactly one place: final, or claimed by the rerun.
    let counts = ledger.counts("job").await.unwrap();
    let total: u64 = counts.iter().map(|c| c.messages).sum();
    assert_eq!(total, 10);
    assert_eq!(count(&counts, State::Accepted), 1);
    assert_eq!(count(&counts, State::Unknown), 3);
    assert_eq!(count(&counts, State::Claimed), 6);
}

/// Workers lease their rows: a claim whose lease ended goes back to pending, a row in flight
/// of a worker whose lease ended becomes unknown; live leases are left alone.
#[tokio::test]
async fn leases_decide_what_a_dead_worker_left() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    ledger.load("job", rows(6)).await.unwrap();
    ledger.claim("job", "dead", 3, 0).await.unwrap();
    ledger.start("job", "dead", vec![0]).await.unwrap();
    ledger.claim("job", "alive", 3, 600_000).await.unwrap();
    ledger.start("job", "alive", vec![3]).await.unwrap();
    let recovery = ledger.recover("job", false).await.unwrap();
    assert_eq!(recovery.unknown, [0]);
    assert_eq!(recovery.released, 2);
    let message = |p| {
        let ledger = ledger.clone();
        async move { ledger.message("job", p).await.unwrap().unwrap().state }
    };
    assert_eq!(message(0).await, State::Unknown);
    assert_eq!(message(1).await, State::Pending);
    assert_eq!(message(3).await, State::InFlight);
    assert_eq!(message(4).await, State::Claimed);
    // A row never sent (a stop) is not final: a rerun sends it.
    ledger
        .settle(
            "job",
            vec![Settlement::other(4, Settled::NotSent, "stopped")],
        )
        .await
        .unwrap();
    assert!(!State::NotSent.is_final() && State::Unknown.is_final());
    let again = ledger
        .claim_positions("job", "rerun", vec![4], 60_000)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "a row never sent is sent by a rerun");
}

/// Two connections to one file (two processes' worth) claiming at once never share a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_share_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let first = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    let second = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    first.load("job", rows(90)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..6 {
        let ledger = if w % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let claimed = ledger.claim("job", &worker, 4, 60_000).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.iter().map(|m| m.position));
            }
        }));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for task in tasks {
        for position in task.await.unwrap() {
            total += 1;
            assert!(seen.insert(position), "row {position} claimed twice");
        }
    }
    assert_eq!((total, seen.len()), (90, 90));
}

#[tokio::test]
async fn reports_match_by_provider_id_and_unknown_ids_are_kept() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::HashOnly).unwrap();
    ledger.load("job", rows(2)).await.unwrap();
    let claimed = ledger.claim("job", "a", 2, 60_000).await.unwrap();
    assert_eq!(claimed[0].text, None, "hash only");
    assert_eq!(claimed[0].text_md5.len(), 32);
    ledger.start("job", "a", vec![0, 1]).await.unwrap();
    ledger
        .settle(
            "job",
            vec![
                Settlement::accepted(0, "vonage", "v-0", vec![]),
                Settlement::accepted(1, "vonage", "v-1", vec![]),
            ],
        )
        .await
        .unwrap();
    let status = |id: &str, state: DeliveryClass| DeliveryStatus {
        provider: "vonage".into(),
        message_id: id.into(),
        number: None,
        state,
        vendor_status: state.as_str().into(),
        detail: None,
        at: None,
    };
    // Still on its way: the message stays accepted, the report is noted.
    let pending = ledger
        .record_report(status("v-0", DeliveryClass::Pending))
        .await
        .unwrap();
    assert_eq!(pending.state, Some(State::Accepted));
    let delivered = ledger
        .record_report(status("v-0", DeliveryClass::Delivered))
        .await
        .unwrap();
    assert_eq!(delivered.message, Some(("job".to_owned(), 0)));
    assert_eq!(delivered.state, Some(State::Delivered));
    let message = ledger.message("job", 0).await.unwrap().unwrap();
    assert_eq!(
        message.report,
        Some(("delivered".to_owned(), "delivered".to_owned()))
    );
    let failed = ledger
        .record_report(status("v-1", DeliveryClass::Undelivered))
        .await
        .unwrap();
    assert_eq!(failed.state, Some(State::Undelivered));
    let stranger = ledger
        .record_report(status("nobody", DeliveryClass::Delivered))
        .await
        .unwrap();
    assert_eq!(stranger.message, None);
    let counts = ledger.counts("job").await.unwrap();
    assert_eq!(count(&counts, State::Delivered), 1);
    assert_eq!(count(&counts, State::Undelivered), 1);
}

#[test]
fn ledger_urls() {
    assert!(SqliteLedger::open_url("sqlite::memory:", TextPolicy::Keep).is_ok());
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("x.db").display());
    assert!(SqliteLedger::open_url(&url, TextPolicy::Keep).is_ok());
    let err = SqliteLedger::open_url("postgres://u:pw@h/db", TextPolicy::Keep).unwrap_err();
    assert!(!err.to_string().contains("pw"), "{err}");
}

/// A worker reading its input in chunks claims exactly the chunk's pending rows: rows with an
/// outcome or held by another worker are left out, and read back with `messages_at`.
#[tokio::test]
async fn a_chunk_claims_only_its_own_pending_rows() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    ledger.load("job", rows(10)).await.unwrap();
    ledger
        .claim_positions("job", "other", vec![2], 60_000)
        .await
        .unwrap();
    ledger
        .claim_positions("job", "me", vec![0], 60_000)
        .await
        .unwrap();
    ledger.start("job", "me", vec![0]).await.unwrap();
    ledger
        .settle(
            "job",
            vec![Settlement::accepted(0, "nxcloud", "m0", vec![])],
        )
        .await
        .unwrap();
    let mine = ledger
        .claim_positions("job", "me", vec![0, 1, 2, 3, 42], 60_000)
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|m| m.position).collect::<Vec<_>>(), [1, 3]);
    let seen = ledger.messages_at("job", vec![3, 0, 2, 42]).await.unwrap();
    let states: Vec<(u64, State)> = seen.iter().map(|m| (m.position, m.state)).collect();
    assert_eq!(
        states,
        [
            (0, State::Accepted),
            (2, State::Claimed),
            (3, State::Claimed)
        ]
    );
    // Rows beyond the chunk stay pending for the chunk that holds them.
    assert_eq!(
        ledger.message("job", 4).await.unwrap().unwrap().state,
        State::Pending
    );
}

/// A job whose input changed (a row inserted, a text edited) is refused, never answered with
/// another message's outcome.
#[tokio::test]
async fn a_changed_input_is_refused_at_its_first_changed_row() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::HashOnly).unwrap();
    ledger.load("job", rows(3)).await.unwrap();
    assert_eq!(
        ledger.load("job", rows(3)).await.unwrap(),
        0,
        "the same input again"
    );
    let mut changed = rows(3);
    changed[1].text = "an edited text".to_owned();
    let err = ledger.load("job", changed).await.unwrap_err();
    assert!(
        matches!(&err, LedgerError::Transition { position: 1, reason, .. } if reason.contains("another job")),
        "{err:?}"
    );
    let mut other_number = rows(1);
    other_number[0].number = "447400123456".to_owned();
    assert!(ledger.load("job", other_number).await.is_err());
}

#[tokio::test]
async fn early_reports_are_applied_and_shared_ids_told_apart_by_number() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    common::early_and_shared_reports(&ledger, "job").await;
}

#[tokio::test]
async fn a_heartbeat_keeps_claims_and_only_released_rows_are_reclaimed() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    ledger.load("job", rows(4)).await.unwrap();
    // A worker holds rows 0 and 1 with a lease already over; row 2 was never sent.
    ledger
        .claim_positions("job", "a", vec![0, 1], 0)
        .await
        .unwrap();
    ledger
        .claim_positions("job", "b", vec![2], 60_000)
        .await
        .unwrap();
    ledger
        .settle(
            "job",
            vec![Settlement::other(2, Settled::NotSent, "stopped")],
        )
        .await
        .unwrap();
    // Its heartbeat renews both: nothing is recovered.
    assert_eq!(ledger.renew("job", "a", 60_000).await.unwrap(), 2);
    let recovery = ledger.recover("job", false).await.unwrap();
    assert_eq!(recovery.released, 0);
    // Without a heartbeat they lapse, and go back to pending.
    assert_eq!(ledger.renew("job", "a", 0).await.unwrap(), 2);
    let recovery = ledger.recover("job", false).await.unwrap();
    assert_eq!(recovery.released, 2);
    // Released rows are reclaimed; the not-sent row is left to a rerun.
    let taken = ledger.claim_released("job", "c", 10, 60_000).await.unwrap();
    let positions: Vec<u64> = taken.iter().map(|m| m.position).collect();
    assert_eq!(positions, vec![0, 1, 3]);
    assert!(taken.iter().all(|m| m.worker.as_deref() == Some("c")));
}

#[tokio::test]
async fn a_late_pending_report_never_replaces_a_final_one() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    common::a_late_pending_report_never_replaces_a_final_one(&ledger, "job").await;
}

#[tokio::test]
async fn a_ledger_from_before_sent_ms_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // The schema as it was: without sent_ms.
        let old = rusqlite::Connection::open(&path).unwrap();
        let schema = smsgate_ledger::SCHEMA.replace("    sent_ms             BIGINT,\n", "");
        assert_ne!(schema, smsgate_ledger::SCHEMA);
        old.execute_batch(&schema).unwrap();
    }
    let ledger = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    ledger.load("job", rows(1)).await.unwrap();
    ledger.claim("job", "a", 1, 60_000).await.unwrap();
    ledger.start("job", "a", vec![0]).await.unwrap();
    let message = ledger.message("job", 0).await.unwrap().unwrap();
    assert!(message.sent_ms.is_some());
}

#[tokio::test]
async fn a_chunk_is_taken_once() {
    let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap();
    common::a_chunk_is_taken_once(&ledger, "job").await;
}

#[tokio::test]
async fn a_ledger_with_the_first_indexes_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // The indexes as they were: by state, and by provider id over every row.
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(smsgate_ledger::SCHEMA).unwrap();
        old.execute_batch(
            "CREATE INDEX smsgate_messages_by_state ON smsgate_messages (job, state, position);
             CREATE INDEX smsgate_messages_by_provider_id
                 ON smsgate_messages (provider, provider_message_id);",
        )
        .unwrap();
    }
    let ledger = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    let index_names = || {
        let connection = rusqlite::Connection::open(&path).unwrap();
        let mut names: Vec<String> = connection
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name = 'smsgate_messages' AND sql IS NOT NULL",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        names.sort();
        names
    };
    // The old indexes are gone; the one by provider id is made when an id is first looked up.
    assert!(index_names().is_empty(), "{:?}", index_names());
    // Reports still find their messages through the new index.
    let taken = ledger
        .take("job", "a", rows(2), 60_000, vec!["nxcloud".to_owned()])
        .await
        .unwrap();
    assert_eq!(taken.mine, [0, 1]);
    ledger
        .settle(
            "job",
            vec![Settlement::accepted(0, "nxcloud", "id-0", vec![])],
        )
        .await
        .unwrap();
    // Recording outcomes makes no index; the first report looked up does, and finds its row.
    assert!(index_names().is_empty(), "{:?}", index_names());
    let matched = ledger
        .record_report(DeliveryStatus {
            provider: "nxcloud".into(),
            message_id: "id-0".into(),
            number: None,
            state: DeliveryClass::Delivered,
            vendor_status: "DELIVRD".into(),
            detail: None,
            at: None,
        })
        .await
        .unwrap();
    assert_eq!(matched.message, Some(("job".to_owned(), 0)));
    assert_eq!(index_names(), ["smsgate_messages_by_provider_message_id"]);
    // A reconciliation's lookup on a ledger opened afresh finds it made, and its rows.
    let reopened = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    assert_eq!(
        reopened
            .held_ids("nxcloud", vec!["id-0".into(), "id-9".into()])
            .await
            .unwrap(),
        ["id-0"]
    );
    let connection = rusqlite::Connection::open(&path).unwrap();
    let plan: String = connection
        .query_row(
            "EXPLAIN QUERY PLAN SELECT position FROM smsgate_messages \
             WHERE provider = 'nxcloud' AND provider_message_id = 'id-0'",
            [],
            |row| row.get(3),
        )
        .unwrap();
    assert!(
        plan.contains("smsgate_messages_by_provider_message_id"),
        "{plan}"
    );
}
