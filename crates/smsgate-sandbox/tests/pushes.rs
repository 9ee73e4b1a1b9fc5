//! The simulator's hardening: delivery-report pushes are bounded (queue, connections, time)
//! and counted, redirects are never followed, failed pushes are retried, request bodies are
//! limited, and seeded faults do not depend on the order requests arrive in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smsgate_itniotech::TextMessage;
use smsgate_nxcloud::MultiItem;
use smsgate_sandbox::{Faults, PushSettings, PushStats, Sandbox, SandboxConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn itniotech(sandbox: &Sandbox, timeout: Duration) -> smsgate_itniotech::Client {
    let account = &sandbox.config().itniotech;
    smsgate_itniotech::Client::builder()
        .api_key(&account.api_key)
        .api_secret(account.api_secret.clone())
        .app_id(&account.app_id)
        .base_url(sandbox.url())
        .timeout(timeout)
        .build()
        .unwrap()
}

fn nxcloud(sandbox: &Sandbox, timeout: Duration) -> smsgate_nxcloud::Client {
    let account = &sandbox.config().nxcloud;
    smsgate_nxcloud::Client::builder()
        .access_key(&account.access_key)
        .access_secret(account.access_secret.clone())
        .app_key(&account.app_key)
        .base_url(sandbox.url())
        .timeout(timeout)
        .build()
        .unwrap()
}

/// Push settings that keep a test to a second or two.
fn fast_pushes() -> PushSettings {
    PushSettings {
        queue_capacity: 64,
        concurrency: 4,
        connect_timeout: Duration::from_millis(300),
        timeout: Duration::from_millis(300),
        retries: 2,
        backoff: Duration::from_millis(10),
        shutdown_grace: Duration::from_millis(500),
    }
}

async fn start(push_url: String, push: PushSettings) -> Sandbox {
    Sandbox::start(SandboxConfig {
        push_url: Some(push_url),
        push,
        // Room for every message of the floods below.
        itniotech: smsgate_sandbox::OnbukaAccount {
            balance: 1_000_000.0,
            ..SandboxConfig::default().itniotech
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// Numbers `from..from + count`, 1000 per message.
fn messages(from: usize, count: usize) -> Vec<TextMessage> {
    let numbers: Vec<String> = (from..from + count)
        .map(|i| format!("86138{i:08}"))
        .collect();
    numbers
        .chunks(1000)
        .map(|chunk| TextMessage::new(chunk.to_vec(), "x"))
        .collect()
}

/// Polls the sandbox's push counts until `done` holds (at most `limit`).
async fn wait_for(sandbox: &Sandbox, limit: Duration, done: impl Fn(&PushStats) -> bool) {
    let start = Instant::now();
    while !done(&sandbox.push_stats()) && start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A push target that accepts connections and never answers, counting connections accepted
/// and the most held open at once.
struct Silent {
    url: String,
    accepted: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
}

async fn silent_listener() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/dr", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let (acc, max) = (Arc::clone(&accepted), Arc::clone(&max_open));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            acc.fetch_add(1, Ordering::SeqCst);
            let (open, max) = (Arc::clone(&open), Arc::clone(&max));
            tokio::spawn(async move {
                // A client closes a timed-out connection asynchronously: give that close a
                // moment to arrive before counting this one as open beside it.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Silent {
        url,
        accepted,
        max_open,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_push_url_costs_bounded_connections_memory_and_time() {
    const TOTAL: usize = 5_000;
    let silent = silent_listener().await;
    let settings = fast_pushes();
    let sandbox = start(silent.url.clone(), settings.clone()).await;
    let client = itniotech(&sandbox, Duration::from_secs(30));

    let started = Instant::now();
    for message in messages(0, TOTAL) {
        assert_eq!(
            client.send_sms(&message).await.unwrap().accepted_count,
            1000
        );
    }
    let sending = started.elapsed();
    assert!(
        sending < Duration::from_secs(10),
        "sends do not wait for pushes: {sending:?}"
    );
    let stats = sandbox.push_stats();
    assert_eq!(stats.total(), TOTAL as u64);
    // The queue holds what the workers have not taken; the rest is dropped, not buffered.
    assert!(stats.dropped_queue_full > 0, "{stats:?}");
    assert!(stats.queued < (TOTAL / 2) as u64, "{stats:?}");

    // Every attempt of the first pushes times out: they are dropped after their retries.
    wait_for(&sandbox, Duration::from_secs(5), |s| {
        s.dropped_failed >= settings.concurrency as u64
    })
    .await;
    let stats = sandbox.push_stats();
    assert!(
        stats.dropped_failed >= settings.concurrency as u64,
        "{stats:?}"
    );
    assert_eq!(stats.delivered, 0);
    assert!(stats.retried >= 2 * stats.dropped_failed, "{stats:?}");

    let stopping = Instant::now();
    let stats = sandbox.shutdown().await;
    let stopped = stopping.elapsed();
    assert!(
        stopped < settings.shutdown_grace + Duration::from_secs(2),
        "shutdown is bounded: {stopped:?}"
    );
    assert_eq!(stats.pending(), 0);
    assert_eq!(stats.delivered + stats.dropped(), TOTAL as u64, "{stats:?}");
    assert!(
        stats.dropped_at_shutdown > 0,
        "the queue was still full: {stats:?}"
    );

    let max_open = silent.max_open.load(Ordering::SeqCst);
    let accepted = silent.accepted.load(Ordering::SeqCst);
    assert!(
        max_open <= settings.concurrency,
        "at most {} connections open at once, saw {max_open}",
        settings.concurrency
    );
    assert!(accepted >= settings.concurrency, "{accepted}");
    // Each worker opens at most one connection per attempt, and a silent attempt lasts the
    // whole timeout.
    let attempts_per_worker = started.elapsed().as_millis() / settings.timeout.as_millis() + 2;
    assert!(
        accepted as u128 <= settings.concurrency as u128 * attempts_per_worker,
        "one connection per attempt in flight, not per message: {accepted}"
    );
}

#[tokio::test]
async fn a_flood_bigger_than_the_queue_is_dropped_and_counted_exactly() {
    const TOTAL: usize = 3_000;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("success"))
        .mount(&hook)
        .await;
    let settings = PushSettings {
        queue_capacity: 100,
        concurrency: 2,
        ..fast_pushes()
    };
    let sandbox = start(format!("{}/dr", hook.uri()), settings).await;
    let client = itniotech(&sandbox, Duration::from_secs(30));
    for message in messages(0, TOTAL) {
        client.send_sms(&message).await.unwrap();
    }
    wait_for(&sandbox, Duration::from_secs(10), |s| s.pending() == 0).await;
    let stats = sandbox.shutdown().await;
    assert!(stats.dropped_queue_full > 0, "{stats:?}");
    assert_eq!(stats.dropped(), stats.dropped_queue_full, "{stats:?}");
    assert_eq!(stats.delivered + stats.dropped(), TOTAL as u64, "{stats:?}");
    assert!(stats.delivered >= 100, "{stats:?}");
    let received = hook.received_requests().await.unwrap().len();
    assert_eq!(received as u64, stats.delivered, "{stats:?}");
}

#[tokio::test]
async fn a_push_redirect_is_never_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("success"))
        .mount(&elsewhere)
        .await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("Location", format!("{}/dr", elsewhere.uri())),
        )
        .mount(&hook)
        .await;
    let sandbox = start(format!("{}/dr", hook.uri()), fast_pushes()).await;
    itniotech(&sandbox, Duration::from_secs(5))
        .send_sms(&TextMessage::new(["8613800138000"], "x"))
        .await
        .unwrap();
    wait_for(&sandbox, Duration::from_secs(5), |s| s.dropped_failed == 1).await;
    let stats = sandbox.shutdown().await;
    assert_eq!(
        (stats.delivered, stats.retried, stats.dropped_failed),
        (0, 2, 1),
        "a 3xx is a failed push: {stats:?}"
    );
    assert_eq!(hook.received_requests().await.unwrap().len(), 3);
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the redirect target received nothing"
    );
}

#[tokio::test]
async fn a_failing_push_is_retried_and_delivered_once() {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&hook)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("success"))
        .with_priority(2)
        .mount(&hook)
        .await;
    let sandbox = start(
        format!("{}/dr", hook.uri()),
        PushSettings {
            retries: 3,
            ..fast_pushes()
        },
    )
    .await;
    nxcloud(&sandbox, Duration::from_secs(5))
        .send_multi(&[MultiItem::new("8613800138000", "x")])
        .await
        .unwrap();
    wait_for(&sandbox, Duration::from_secs(5), |s| s.delivered == 1).await;
    // Nothing more arrives later.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stats = sandbox.shutdown().await;
    assert_eq!(
        (
            stats.queued,
            stats.delivered,
            stats.retried,
            stats.dropped()
        ),
        (1, 1, 2, 0),
        "{stats:?}"
    );
    let received = hook.received_requests().await.unwrap();
    assert_eq!(received.len(), 3, "two failures, one success");
    assert!(received.windows(2).all(|pair| pair[0].body == pair[1].body));
}

async fn post_raw(url: String, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn request_bodies_over_the_limit_get_413_and_the_largest_legal_ones_fit() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let limit = sandbox.config().max_body_bytes;
    for path in [
        "/sms/sendSms",
        "/sms/sendSms/batch",
        "/v3/sendSms",
        "/v1/sms/multi/mt",
    ] {
        assert_eq!(
            post_raw(format!("{}{path}", sandbox.url()), vec![b' '; limit + 1]).await,
            413,
            "{path}"
        );
    }

    // The largest legal requests: 1000 numbers with order ids and the longest text of
    // four-byte characters; a batch of 1000 such texts; nxcloud's 200 such items.
    let long = |chars: usize| "😀".repeat(chars);
    let client = itniotech(&sandbox, Duration::from_secs(60));
    let numbers: Vec<String> = (0..1000).map(|i| format!("861380013{i:06}")).collect();
    let orders: Vec<String> = (0..1000).map(|i| format!("{i:064}")).collect();
    let one = TextMessage::new(numbers.clone(), long(1024))
        .sender_id("S".repeat(32))
        .order_ids(orders.clone());
    assert_eq!(client.send_sms(&one).await.unwrap().accepted_count, 1000);
    let batch: Vec<TextMessage> = numbers
        .iter()
        .zip(&orders)
        .map(|(number, order)| {
            TextMessage::new([number.clone()], long(1024))
                .sender_id("S".repeat(32))
                .order_ids([order.clone()])
        })
        .collect();
    assert_eq!(
        client.send_batch(&batch).await.unwrap().accepted_count,
        1000
    );
    let items: Vec<MultiItem> = (0..200)
        .map(|i| {
            let mut item = MultiItem::new(format!("861380013{i:06}"), long(1000))
                .sys_message_id(format!("{i:050}"))
                .source_address("A".repeat(20));
            item.options.ext = Some("e".repeat(256));
            item
        })
        .collect();
    let receipt = nxcloud(&sandbox, Duration::from_secs(60))
        .send_multi(&items)
        .await
        .unwrap();
    assert_eq!(receipt.results.len(), 200);
    sandbox.shutdown().await;

    // The limit is configurable.
    let sandbox = Sandbox::start(SandboxConfig {
        max_body_bytes: 4096,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(
        post_raw(format!("{}/sms/sendSms", sandbox.url()), vec![b' '; 4097]).await,
        413
    );
    let err = itniotech(&sandbox, Duration::from_secs(5))
        .send_sms(&one)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            smsgate_transport::Error::UnexpectedStatus { status: 413, .. }
        ),
        "{err:?}"
    );
    sandbox.shutdown().await;
}

/// What one request got: its fault, or which of its numbers were accepted.
fn outcome<T, C: smsgate_transport::spec::CodeTable>(
    result: Result<T, smsgate_transport::Error<C>>,
    accepted: impl FnOnce(T) -> String,
) -> String {
    match result {
        Ok(value) => accepted(value),
        Err(smsgate_transport::Error::UnexpectedStatus { status, .. }) => format!("http {status}"),
        Err(smsgate_transport::Error::Undecodable { .. }) => "malformed".to_owned(),
        Err(smsgate_transport::Error::Transport { .. }) => "dropped".to_owned(),
        Err(other) => format!("{other}"),
    }
}

/// Sends the same 60 requests (itniotech and nxcloud) in the given order, all at once when
/// `concurrent`; returns each request's outcome and the delivery report of every number.
async fn seeded_run(
    reverse: bool,
    concurrent: bool,
) -> (BTreeMap<usize, String>, Vec<(String, String)>) {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("success"))
        .mount(&hook)
        .await;
    let sandbox = Sandbox::start(SandboxConfig {
        faults: Faults {
            http_500_rate: 0.15,
            drop_rate: 0.1,
            malformed_rate: 0.15,
            reject_rate: 0.3,
            ..Faults::default()
        },
        delivery_rate: 0.5,
        seed: 42,
        push_url: Some(format!("{}/dr", hook.uri())),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let onbuka = itniotech(&sandbox, Duration::from_secs(10));
    let nx = nxcloud(&sandbox, Duration::from_secs(10));
    let request = |i: usize| {
        let (onbuka, nx) = (onbuka.clone(), nx.clone());
        async move {
            let outcome = if i % 3 == 0 {
                let items: Vec<MultiItem> = (0..3)
                    .map(|k| {
                        let item = MultiItem::new(format!("8613900{i:04}{k:02}"), format!("n{i}"));
                        if k == 0 {
                            item.sys_message_id(format!("sys-{i:010}"))
                        } else {
                            item
                        }
                    })
                    .collect();
                outcome(nx.send_multi(&items).await, |receipt| {
                    let mut accepted: Vec<String> = receipt
                        .results
                        .iter()
                        .map(|r| format!("{}:{:?}", r.phone, r.status))
                        .collect();
                    accepted.sort();
                    accepted.join(",")
                })
            } else {
                let numbers = [format!("8613800{i:04}01"), format!("8613800{i:04}02")];
                let message = TextMessage::new(numbers, format!("text {i}"));
                outcome(onbuka.send_sms(&message).await, |receipt| {
                    let mut accepted: Vec<String> =
                        receipt.accepted.iter().map(|a| a.number.clone()).collect();
                    accepted.sort();
                    format!("{} failed {}", accepted.join(","), receipt.failed_count)
                })
            };
            (i, outcome)
        }
    };
    let mut order: Vec<usize> = (0..60).collect();
    if reverse {
        order.reverse();
    }
    let outcomes: BTreeMap<usize, String> = if concurrent {
        let tasks: Vec<_> = order
            .into_iter()
            .map(|i| tokio::spawn(request(i)))
            .collect();
        let mut outcomes = BTreeMap::new();
        for task in tasks {
            let (i, outcome) = task.await.unwrap();
            outcomes.insert(i, outcome);
        }
        outcomes
    } else {
        let mut outcomes = BTreeMap::new();
        for i in order {
            let (i, outcome) = request(i).await;
            outcomes.insert(i, outcome);
        }
        outcomes
    };
    wait_for(&sandbox, Duration::from_secs(5), |s| s.pending() == 0).await;
    let stats = sandbox.shutdown().await;
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    let mut reports: Vec<(String, String)> = hook
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| {
            if let Ok(push) = smsgate_itniotech::parse_delivery_report(&request.body) {
                (push.mobile.to_string(), format!("{:?}", push.status))
            } else {
                let push = smsgate_nxcloud::parse_delivery_report(&request.body).unwrap();
                (push.phone.to_string(), format!("{:?}", push.result))
            }
        })
        .collect();
    reports.sort();
    (outcomes, reports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_do_not_depend_on_arrival_order() {
    let (in_order, in_order_reports) = seeded_run(false, false).await;
    let (reversed, reversed_reports) = seeded_run(true, true).await;
    let faults = in_order
        .values()
        .filter(|o| matches!(o.as_str(), "http 500" | "malformed" | "dropped"))
        .count();
    assert!(
        (5..45).contains(&faults),
        "the rates draw some of each: {in_order:#?}"
    );
    assert!(
        in_order
            .values()
            .any(|o| o.contains("Failure") || !o.ends_with("failed 0"))
    );
    assert_eq!(in_order, reversed, "same seed, same fault per request");
    assert!(in_order_reports.len() > 30, "{in_order_reports:?}");
    assert_eq!(
        in_order_reports, reversed_reports,
        "same seed, same delivery outcome per number"
    );
}
