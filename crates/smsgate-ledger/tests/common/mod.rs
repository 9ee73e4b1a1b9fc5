//! Checks both backends run alike.

use smsgate_ledger::{Ledger, LedgerError, NewMessage, Settlement, State};
use smsgate_provider::DeliveryStatus;
use smsgate_transport::spec::DeliveryClass;

fn report(id: &str, number: Option<&str>, state: DeliveryClass) -> DeliveryStatus {
    DeliveryStatus {
        provider: "nxcloud".into(),
        message_id: id.into(),
        number: number.map(str::to_owned),
        state,
        vendor_status: state.as_str().into(),
        detail: None,
        at: Some("2026-12-01 08:00:00".into()),
    }
}

/// A report that arrives before its message's acceptance is recorded (a vendor may report
/// within milliseconds) is kept, then applied when the acceptance is; rows that share one
/// provider id (one request to many numbers) are told apart by the report's number.
pub async fn early_and_shared_reports(ledger: &dyn Ledger, job: &str) {
    let rows = (0..3)
        .map(|i| NewMessage::new(i, format!("r{i}"), format!("+86138001380{i:02}"), "hi"))
        .collect();
    ledger.load(job, rows).await.unwrap();
    ledger.claim(job, "w", 3, 60_000).await.unwrap();
    ledger.start(job, "w", vec![0, 1, 2]).await.unwrap();
    let early_id = format!("{job}-early");
    let shared_id = format!("{job}-shared");

    // Before any outcome: unmatched, kept.
    let early = ledger
        .record_report(report(
            &early_id,
            Some("8613800138000"),
            DeliveryClass::Pending,
        ))
        .await
        .unwrap();
    assert_eq!(early.message, None);
    let early = ledger
        .record_report(report(
            &early_id,
            Some("8613800138000"),
            DeliveryClass::Delivered,
        ))
        .await
        .unwrap();
    assert_eq!(early.message, None);
    ledger
        .settle(
            job,
            vec![
                Settlement::accepted(0, "nxcloud", early_id.clone(), vec![]),
                Settlement::accepted(1, "nxcloud", shared_id.clone(), vec![]),
                Settlement::accepted(2, "nxcloud", shared_id.clone(), vec![]),
            ],
        )
        .await
        .unwrap();
    let message = ledger.message(job, 0).await.unwrap().unwrap();
    assert_eq!(message.state, State::Delivered, "{message:?}");
    assert_eq!(
        message.report,
        Some(("delivered".to_owned(), "delivered".to_owned()))
    );

    // One id, two numbers: each report goes to its number's row.
    let second = ledger
        .record_report(report(
            &shared_id,
            Some("8613800138002"),
            DeliveryClass::Undelivered,
        ))
        .await
        .unwrap();
    assert_eq!(second.message, Some((job.to_owned(), 2)));
    assert_eq!(second.state, Some(State::Undelivered));
    let first = ledger
        .record_report(report(
            &shared_id,
            Some("+86 138 0013 8001"),
            DeliveryClass::Delivered,
        ))
        .await
        .unwrap();
    assert_eq!(first.message, Some((job.to_owned(), 1)));
    // A number neither row has is no row's report: kept unmatched.
    let stranger = ledger
        .record_report(report(
            &shared_id,
            Some("8613800138099"),
            DeliveryClass::Delivered,
        ))
        .await
        .unwrap();
    assert_eq!(stranger.message, None);
    assert_eq!(
        ledger.message(job, 2).await.unwrap().unwrap().state,
        State::Undelivered
    );
}

/// Pushes overtake each other: a report still on its way that arrives after a final one
/// changes neither the state nor the last report.
pub async fn a_late_pending_report_never_replaces_a_final_one(ledger: &dyn Ledger, job: &str) {
    ledger
        .load(job, vec![NewMessage::new(0, "r0", "+8613800138000", "hi")])
        .await
        .unwrap();
    ledger.claim(job, "w", 1, 60_000).await.unwrap();
    ledger.start(job, "w", vec![0]).await.unwrap();
    let id = format!("{job}-late");
    // Early, out of order: delivered, then sent.
    for class in [DeliveryClass::Delivered, DeliveryClass::Pending] {
        ledger
            .record_report(report(&id, None, class))
            .await
            .unwrap();
    }
    ledger
        .settle(
            job,
            vec![Settlement::accepted(0, "nxcloud", id.clone(), vec![])],
        )
        .await
        .unwrap();
    let message = ledger.message(job, 0).await.unwrap().unwrap();
    assert_eq!(message.state, State::Delivered);
    assert_eq!(message.report.unwrap().0, "delivered");
    // Late, out of order again, once matched.
    let late = ledger
        .record_report(report(&id, None, DeliveryClass::Pending))
        .await
        .unwrap();
    assert_eq!(late.state, Some(State::Delivered));
    let message = ledger.message(job, 0).await.unwrap().unwrap();
    assert_eq!(message.report.unwrap().0, "delivered");
}

/// `take`: a chunk loaded, claimed and marked in flight in one step; a second worker taking
/// the same chunk gets none of it; a changed message is refused and nothing is taken.
pub async fn a_chunk_is_taken_once(ledger: &dyn smsgate_ledger::Ledger, job: &str) {
    let chunk = |text: &str| -> Vec<NewMessage> {
        (0..3)
            .map(|i| NewMessage::new(i, format!("r{i}"), format!("+8613800138{i:03}"), text))
            .collect()
    };
    let first = ledger
        .take(job, "a", chunk("hi"), 60_000, vec!["nxcloud".into()])
        .await
        .unwrap();
    assert_eq!(first.mine, vec![0, 1, 2]);
    assert!(first.settled.is_empty() && first.held_elsewhere == 0);
    let message = ledger.message(job, 1).await.unwrap().unwrap();
    assert_eq!(message.state, State::InFlight);
    assert_eq!(message.tried, vec!["nxcloud".to_owned()]);
    assert!(message.sent_ms.is_some());
    let second = ledger
        .take(job, "b", chunk("hi"), 60_000, vec![])
        .await
        .unwrap();
    assert!(second.mine.is_empty());
    assert!(second.settled.is_empty());
    assert_eq!(second.held_elsewhere, 3);
    assert!(
        ledger
            .take(job, "b", chunk("changed"), 60_000, vec![])
            .await
            .is_err()
    );
    // A chunk partly held (2), partly loaded but never sent (3 to 5) and partly new (6): the
    // loaded and the new rows are taken, the held one is told.
    let row = |i: u64| NewMessage::new(i, format!("r{i}"), format!("+8613800138{i:03}"), "hi");
    ledger.load(job, (3..6).map(row).collect()).await.unwrap();
    let mixed = ledger
        .take(job, "c", (2..7).map(row).collect(), 60_000, vec![])
        .await
        .unwrap();
    assert_eq!(mixed.mine, vec![3, 4, 5, 6]);
    assert!(mixed.settled.is_empty());
    assert_eq!(mixed.held_elsewhere, 1);
    for position in 3..7 {
        let message = ledger.message(job, position).await.unwrap().unwrap();
        assert_eq!(message.state, State::InFlight, "row {position}");
        assert_eq!(message.worker.as_deref(), Some("c"), "row {position}");
    }
    // A chunk loaded whole but never sent (nothing of it new) is claimed by the next worker
    // to reach it.
    ledger.load(job, (7..10).map(row).collect()).await.unwrap();
    let loaded = ledger
        .take(job, "e", (7..10).map(row).collect(), 60_000, vec![])
        .await
        .unwrap();
    assert_eq!(loaded.mine, vec![7, 8, 9]);
    assert!(loaded.settled.is_empty());
    assert_eq!(loaded.held_elsewhere, 0);
    // Once row 2 has its outcome, a worker reaching the chunk is given it to write (and a
    // changed row among the settled ones is still refused).
    ledger
        .settle(
            job,
            vec![Settlement::accepted(
                2,
                "nxcloud",
                "id-2",
                vec!["nxcloud".into()],
            )],
        )
        .await
        .unwrap();
    let again = ledger
        .take(job, "d", (2..7).map(row).collect(), 60_000, vec![])
        .await
        .unwrap();
    assert!(again.mine.is_empty());
    assert_eq!(
        again
            .settled
            .iter()
            .map(|m| (m.position, m.state))
            .collect::<Vec<_>>(),
        vec![(2, State::Accepted)]
    );
    assert_eq!(again.held_elsewhere, 4);
    let mut edited: Vec<NewMessage> = (2..7).map(row).collect();
    edited[0].number = "+447400123456".to_owned();
    let refused = ledger
        .take(job, "d", edited, 60_000, vec![])
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, LedgerError::Transition { position: 2, .. }),
        "{refused:?}"
    );
}
