//! The simulator's hardening: delivery-report pushes are bounded (queue, connections, time)
//! and counted, redirects are never followed, failed pushes are retried, request bodies are
//! limited, and seeded faults do not depend on the order requests arrive in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smsgate_itniotech::generated::client::{
    Client as Itniotech, Credentials as ItniotechCredentials,
};
use smsgate_nxcloud::generated::bodies::{MultiMtItem, MultiMtRequest};
use smsgate_nxcloud::generated::client::{Client as Nxcloud, Credentials as NxcloudCredentials};
use smsgate_onbuka::bodies::{BatchMessage, SendBatchRequest, SendSmsRequest};
use smsgate_sandbox::{Faults, PushSettings, PushStats, Sandbox, SandboxConfig};
use smsgate_transport::endpoint::{Joined, StrList};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn itniotech(sandbox: &Sandbox, timeout: Duration) -> Itniotech {
    sandbox
        .client_builder::<ItniotechCredentials>()
        .timeout(timeout)
        .build()
        .unwrap()
}

fn nxcloud(sandbox: &Sandbox, timeout: Duration) -> Nxcloud {
    sandbox
        .client_builder::<NxcloudCredentials>()
        .timeout(timeout)
        .build()
        .unwrap()
}

/// One text to `numbers`.
fn sms<'a>(numbers: &'a dyn StrList, content: &'a str) -> SendSmsRequest<'a> {
    SendSmsRequest {
        numbers: Joined::commas(numbers),
        content,
        ..Default::default()
    }
}

/// One nxcloud item.
fn item<'a>(phone: &'a str, content: &'a str) -> MultiMtItem<'a> {
    MultiMtItem {
        phone,
        content,
        ..Default::default()
    }
}

/// An nxcloud batch of `items`.
fn multi<'a>(items: &'a [MultiMtItem<'a>]) -> MultiMtRequest<'a> {
    MultiMtRequest {
        items,
        ..Default::default()
    }
}

/// A count the wire carries as a string.
fn count(value: Option<&String>) -> usize {
    value.unwrap().parse().unwrap()
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
        ..SandboxConfig::default().with_balance("itniotech", 1_000_000.0)
    })
    .await
    .unwrap()
}

/// Numbers `from..from + count`, 1000 per message.
fn messages(from: usize, count: usize) -> Vec<Vec<String>> {
    let numbers: Vec<String> = (from..from + count)
        .map(|i| format!("86138{i:08}"))
        .collect();
    numbers.chunks(1000).map(<[String]>::to_vec).collect()
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
    for numbers in messages(0, TOTAL) {
        let answer = client.send_sms(&sms(&numbers, "x")).await.unwrap();
        assert_eq!(count(answer.success.as_ref()), 1000);
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
    for numbers in messages(0, TOTAL) {
        client.send_sms(&sms(&numbers, "x")).await.unwrap();
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
        .send_sms(&sms(&["8613800138000"], "x"))
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
        .send_multi(&multi(&[item("8613800138000", "x")]))
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
    http_client()
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
    let (text, nx_text, sender) = (long(1024), long(1000), "S".repeat(32));
    let client = itniotech(&sandbox, Duration::from_secs(60));
    let numbers: Vec<String> = (0..1000).map(|i| format!("861380013{i:06}")).collect();
    let orders: Vec<String> = (0..1000).map(|i| format!("{i:064}")).collect();
    let one = SendSmsRequest {
        sender_id: Some(&sender),
        order_id: Some(Joined::commas(&orders)),
        ..sms(&numbers, &text)
    };
    let answer = client.send_sms(&one).await.unwrap();
    assert_eq!(count(answer.success.as_ref()), 1000);
    let singles: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let single_orders: Vec<[&str; 1]> = orders.iter().map(|o| [o.as_str()]).collect();
    let batch: Vec<BatchMessage<'_>> = singles
        .iter()
        .zip(&single_orders)
        .map(|(number, order)| BatchMessage {
            numbers: Joined::commas(number),
            content: &text,
            order_id: Some(Joined::commas(order)),
            sender_id: Some(&sender),
        })
        .collect();
    let answer = client
        .send_batch(&SendBatchRequest {
            array: &batch,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(count(answer.success.as_ref()), 1000);
    let sys_ids: Vec<String> = (0..200).map(|i| format!("{i:050}")).collect();
    let (source, ext) = ("A".repeat(20), "e".repeat(256));
    let items: Vec<MultiMtItem<'_>> = (0..200)
        .map(|i| MultiMtItem {
            sys_message_id: Some(&sys_ids[i]),
            source_address: Some(&source),
            ext: Some(&ext),
            ..item(&numbers[i], &nx_text)
        })
        .collect();
    let answer = nxcloud(&sandbox, Duration::from_secs(60))
        .send_multi(&multi(&items))
        .await
        .unwrap();
    assert_eq!(answer.data.unwrap().len(), 200);
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
                let phones: Vec<String> = (0..3).map(|k| format!("8613900{i:04}{k:02}")).collect();
                let (content, sys_id) = (format!("n{i}"), format!("sys-{i:010}"));
                let items: Vec<MultiMtItem<'_>> = phones
                    .iter()
                    .enumerate()
                    .map(|(k, phone)| MultiMtItem {
                        sys_message_id: (k == 0).then_some(sys_id.as_str()),
                        ..item(phone, &content)
                    })
                    .collect();
                outcome(nx.send_multi(&multi(&items)).await, |answer| {
                    let mut accepted: Vec<String> = answer
                        .data
                        .unwrap_or_default()
                        .iter()
                        .map(|r| format!("{}:{}", r.phone, r.status))
                        .collect();
                    accepted.sort();
                    accepted.join(",")
                })
            } else {
                let numbers = [format!("8613800{i:04}01"), format!("8613800{i:04}02")];
                let content = format!("text {i}");
                outcome(onbuka.send_sms(&sms(&numbers, &content)).await, |answer| {
                    let mut accepted: Vec<String> =
                        answer.array.iter().map(|a| a.number.clone()).collect();
                    accepted.sort();
                    format!(
                        "{} failed {}",
                        accepted.join(","),
                        count(answer.fail.as_ref())
                    )
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
            let json: Result<smsgate_itniotech::generated::models::DeliveryReportPush, _> =
                serde_json::from_slice(&request.body);
            if let Ok(push) = json {
                (push.mobile.to_string(), format!("{:?}", push.status))
            } else {
                let push: smsgate_nxcloud::generated::models::DeliveryReport =
                    serde_urlencoded::from_bytes(&request.body).unwrap();
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

/// A reqwest client with smsgate's TLS settings (reqwest is built without a default provider).
fn http_client() -> reqwest::Client {
    smsgate_transport::http::client_builder()
        .unwrap()
        .build()
        .unwrap()
}
