//! `SmsGate::send_once`: a message named by its idempotency key is sent at most once across
//! restarts (two gates, one after the other, on one SQLite ledger) and replicas (two gates at
//! once on one PostgreSQL ledger), against the simulator; bad input is refused before sending.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

use std::sync::Arc;
use std::time::Duration;

use smsgate::ledger::{Ledger, NewMessage, PostgresLedger, SqliteLedger, State, TextPolicy};
use smsgate::{Message, Provider, SendOnceError, SmsGate};
use smsgate_itniotech::Credentials;
use smsgate_sandbox::{Sandbox, SandboxConfig};

/// Messages the simulator charged for (one part each).
async fn charged(provider: &dyn Provider) -> u64 {
    let balance: f64 = provider.balance().await.unwrap().amount.parse().unwrap();
    ((1000.0 - balance) / 0.005).round() as u64
}

fn gate_on(sandbox: &Sandbox, ledger: Arc<dyn Ledger>, job: &str) -> (SmsGate, Arc<dyn Provider>) {
    let provider: Arc<dyn Provider> =
        Arc::new(sandbox.client_builder::<Credentials>().build().unwrap());
    let gate = SmsGate::builder()
        .provider(Arc::clone(&provider))
        .ledger(ledger, job)
        .ledger_lease(Duration::from_millis(600))
        .build();
    (gate, provider)
}

fn orders(range: std::ops::Range<u32>) -> Vec<Message> {
    range
        .map(|i| {
            Message::new(
                format!("+8613{:09}", 900_000_000 + i),
                format!("order {i} shipped"),
            )
            .idempotency_key(format!("order-{i}-shipped"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_service_never_sends_a_key_twice() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let first: Arc<dyn Ledger> = Arc::new(SqliteLedger::open(&path, TextPolicy::Keep).unwrap());
    let (gate, provider) = gate_on(&sandbox, first, "shop");
    let report = gate.send_once(&orders(0..5)).await.unwrap();
    assert_eq!(report.accepted(), 5, "{report:?}");
    assert_eq!(charged(provider.as_ref()).await, 5);
    drop(gate);

    // A restart: a new gate, the same ledger file. The five known keys come back as they were
    // (no request); the two new ones are sent.
    let again: Arc<dyn Ledger> = Arc::new(SqliteLedger::open(&path, TextPolicy::Keep).unwrap());
    let (gate, provider) = gate_on(&sandbox, again, "shop");
    let second = gate.send_once(&orders(3..10)).await.unwrap();
    assert_eq!(second.deliveries.len(), 7);
    assert_eq!(charged(provider.as_ref()).await, 10);
    for (k, delivery) in second.deliveries.iter().enumerate() {
        assert_eq!(delivery.index, k);
        assert!(delivery.outcome.is_accepted(), "{delivery:?}");
    }
    // Keys 3 and 4: the very outcomes of the first call.
    for i in [3usize, 4] {
        assert_eq!(
            second.deliveries[i - 3].outcome,
            report.deliveries[i].outcome
        );
        assert_eq!(second.deliveries[i - 3].to, report.deliveries[i].to);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let ledger: Arc<dyn Ledger> = Arc::new(SqliteLedger::open_in_memory(TextPolicy::Keep).unwrap());
    let (gate, provider) = gate_on(&sandbox, Arc::clone(&ledger), "shop");
    let unkeyed = vec![Message::new("+8613800138000", "no key")];
    assert_eq!(
        gate.send_once(&unkeyed).await.unwrap_err(),
        SendOnceError::MissingKey { index: 0 }
    );
    let mut twice = orders(0..2);
    twice[1].idempotency_key = twice[0].idempotency_key.clone();
    assert!(matches!(
        gate.send_once(&twice).await.unwrap_err(),
        SendOnceError::DuplicateKey {
            first: 0,
            second: 1,
            ..
        }
    ));
    // A key names one message for good: another text under it is refused.
    gate.send_once(&orders(0..1)).await.unwrap();
    let changed = vec![
        Message::new("+8613900000000", "order 0 cancelled").idempotency_key("order-0-shipped"),
    ];
    assert!(matches!(
        gate.send_once(&changed).await.unwrap_err(),
        SendOnceError::Ledger(_)
    ));
    assert_eq!(charged(provider.as_ref()).await, 1);
    // Without a ledger there is no send_once.
    let plain = SmsGate::builder().provider(provider).build();
    assert_eq!(
        plain.send_once(&orders(0..1)).await.unwrap_err(),
        SendOnceError::NoLedger
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_send_each_key_once_and_take_over_from_a_dead_one() {
    let url = std::env::var("SMSGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("SMSGATE_TEST_POSTGRES_URL is not set: run `cargo xtask ci`; this test never skips")
    });
    let job = format!(
        "replicas-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let connect = || async {
        Arc::new(
            PostgresLedger::connect(&url, TextPolicy::Keep)
                .await
                .unwrap(),
        ) as Arc<dyn Ledger>
    };
    let (one, provider) = gate_on(&sandbox, connect().await, &job);
    let (two, _) = gate_on(&sandbox, connect().await, &job);
    // The same 40 keys on both replicas at once.
    let messages = orders(0..40);
    let (a, b) = tokio::join!(one.send_once(&messages), two.send_once(&messages));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.accepted(), 40);
    assert_eq!(b.accepted(), 40);
    for (x, y) in a.deliveries.iter().zip(&b.deliveries) {
        assert_eq!(x.outcome, y.outcome, "both replicas report the one send");
    }
    assert_eq!(charged(provider.as_ref()).await, 40);

    // A replica that died after claiming key 40 (its lease lapses): another sends it.
    let ledger = connect().await;
    let dead = orders(40..41);
    let key = dead[0].idempotency_key.as_deref().unwrap().to_owned();
    let sent = one.send_once(&orders(41..42)).await.unwrap();
    assert_eq!(sent.accepted(), 1);
    let position = {
        // The position send_once gives the key: load it the same way, then claim it as "dead".
        let hex = smsgate_transport::sign::md5_hex(&[key.as_bytes()]);
        u64::from_str_radix(&hex[..16], 16).unwrap() & (i64::MAX as u64)
    };
    ledger
        .load(
            &job,
            vec![NewMessage {
                position,
                client_ref: key.clone(),
                number: dead[0].to.to_string(),
                text: dead[0].content.to_string(),
                sender_id: None,
            }],
        )
        .await
        .unwrap();
    assert_eq!(
        ledger
            .claim_positions(&job, "dead-replica", vec![position], 300)
            .await
            .unwrap()
            .len(),
        1
    );
    let taken_over = tokio::time::timeout(Duration::from_secs(20), two.send_once(&dead))
        .await
        .expect("waits for the dead replica's lease, then sends")
        .unwrap();
    assert_eq!(taken_over.accepted(), 1);
    assert_eq!(
        ledger.message(&job, position).await.unwrap().unwrap().state,
        State::Accepted
    );
    assert_eq!(charged(provider.as_ref()).await, 42);
    sandbox.shutdown().await;
}
