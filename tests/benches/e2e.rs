//! End-to-end throughput on loopback: the `smsgate` facade, the vendor client, and a
//! hand-written reqwest loop building the same signed requests (the "raw" baseline), all with
//! the same concurrency against the same minimal stub server that answers a fixed valid body.
//! Prints requests/s, messages/s and each contender's ratio to raw.
//!
//! Run with `cargo bench -p smsgate-tests --bench e2e` (or `cargo xtask bench`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde_json::{Value, json};
use smsgate_itniotech::bodies::SendSmsRequest;
use smsgate_transport::endpoint::Joined;

const CONCURRENCY: usize = 8;
const API_KEY: &str = "bench-key";
const API_SECRET: &str = "bench-secret";
const APP_ID: &str = "bench-app";

/// A stub that answers every `sendSms` with the same valid body.
async fn stub(numbers: usize) -> String {
    let array: Vec<Value> = (0..numbers).map(|i| json!({"msgId": format!("2511251441{i:09}"), "number": format!("86138{i:08}"), "orderId": null})).collect();
    let body = bytes::Bytes::from(serde_json::to_vec(&json!({"status":"0","reason":"success","success": numbers.to_string(),"fail":"0","array":array})).unwrap());
    let app = axum::Router::new().route(
        "/sms/sendSms",
        // Read the request body whole (an unread body makes the server close the connection,
        // which races the client's next request on it), then answer the fixed body.
        axum::routing::post(move |_request: bytes::Bytes| {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Order ids as the facade makes them (20 digits).
fn order_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("17645000000000{i:06}")).collect()
}

fn numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("86138{i:08}")).collect()
}

/// Runs `requests` calls of `call` with `CONCURRENCY` workers; returns requests per second.
async fn measure<F, Fut>(requests: usize, call: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (call, next) = (Arc::clone(&call), Arc::clone(&next));
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    call().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    requests as f64 / started.elapsed().as_secs_f64()
}

async fn scenario(per_request: usize, requests: usize) {
    let url = stub(per_request).await;
    let client = smsgate_itniotech::Client::builder()
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .app_id(APP_ID)
        .base_url(&url)
        .build()
        .unwrap();
    let gate = Arc::new(
        smsgate::SmsGate::builder()
            .provider_with(
                client.clone(),
                smsgate::ProviderOptions {
                    concurrency: CONCURRENCY,
                    requests_per_second: None,
                },
            )
            .concurrency(CONCURRENCY)
            .allow_duplicates(true)
            .build(),
    );
    // Every contender sends the same request: numbers, text and one order id per number (the
    // facade always sends them: they are how it settles each number).
    let message = Arc::new((numbers(per_request), order_ids(per_request)));
    let messages: Arc<Vec<smsgate::Message>> = Arc::new(
        numbers(per_request)
            .into_iter()
            .map(|n| smsgate::Message::new(n, "Your verification code is 471123."))
            .collect(),
    );
    let http = smsgate_transport::http::client_builder()
        .expect("TLS settings")
        .build()
        .expect("a reqwest client");
    let joined = numbers(per_request).join(",");
    let joined_ids = order_ids(per_request).join(",");

    // `E2E_ONLY=facade|client|raw` measures one contender alone (for profiling it).
    let only = std::env::var("E2E_ONLY").ok();
    let runs = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let mut best = [0f64; 3];
    // Interleave the contenders and keep each one's best round: the machine is shared.
    for _round in 0..5 {
        let (gate, messages) = (Arc::clone(&gate), Arc::clone(&messages));
        let facade = if !runs("facade") {
            0.0
        } else {
            measure(requests, move || {
                let (gate, messages) = (Arc::clone(&gate), Arc::clone(&messages));
                async move {
                    std::hint::black_box(gate.send(&messages).await);
                }
            })
            .await
        };
        let (c, m) = (client.clone(), Arc::clone(&message));
        let direct = if !runs("client") {
            0.0
        } else {
            measure(requests, move || {
                let (c, m) = (c.clone(), Arc::clone(&m));
                async move {
                    let (numbers, ids) = &*m;
                    let body = SendSmsRequest {
                        numbers: Joined::commas(numbers),
                        content: "Your verification code is 471123.",
                        order_id: Some(Joined::commas(ids)),
                        ..Default::default()
                    };
                    std::hint::black_box(c.send_sms(&body).await.unwrap());
                }
            })
            .await
        };
        let (http, url, joined, joined_ids) = (
            http.clone(),
            url.clone(),
            joined.clone(),
            joined_ids.clone(),
        );
        let raw = if !runs("raw") {
            0.0
        } else {
            measure(requests, move || {
            let (http, url, joined, joined_ids) = (http.clone(), url.clone(), joined.clone(), joined_ids.clone());
            async move {
                let body = serde_json::to_vec(&json!({"appId": APP_ID, "numbers": joined, "content": "Your verification code is 471123.", "orderId": joined_ids})).unwrap();
                let timestamp = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).to_string();
                let sign: String = Md5::digest(format!("{API_KEY}{API_SECRET}{timestamp}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
                let response = http
                    .post(format!("{url}/sms/sendSms"))
                    .header("Content-Type", "application/json;charset=UTF-8")
                    .header("Sign", sign)
                    .header("Timestamp", timestamp)
                    .header("Api-Key", API_KEY)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let bytes = response.bytes().await.unwrap();
                std::hint::black_box(serde_json::from_slice::<Value>(&bytes).unwrap());
            }
        })
        .await
        };
        for (slot, value) in best.iter_mut().zip([facade, direct, raw]) {
            *slot = slot.max(value);
        }
    }
    let [facade, direct, raw] = best;
    for (name, rps) in [("facade", facade), ("client", direct), ("raw reqwest", raw)] {
        println!(
            "{per_request:>5} number(s)/request  {name:<12} {rps:>10.0} req/s {:>12.0} msg/s  {:>5.2}x raw",
            rps * per_request as f64,
            rps / raw
        );
    }
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench`-less arguments; only measure
    // when cargo bench asks.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("concurrency {CONCURRENCY}, loopback stub answering a fixed body");
        // `E2E_NUMBERS=1` or `=1000` runs one scenario alone (for profiling it).
        let numbers = std::env::var("E2E_NUMBERS").ok();
        for (per_request, requests) in [(1, 4000), (1000, 200)] {
            if numbers
                .as_deref()
                .is_none_or(|n| n == per_request.to_string())
            {
                scenario(per_request, requests).await;
            }
        }
    });
    let _ = Duration::ZERO;
}
