//! `send_streaming`: outcomes handed over as requests settle, and a stop that starts no new
//! request, lets in-flight ones settle (or abandons them) and leaves no message without a
//! verdict.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smsgate::provider::{BoxFuture, Capacity, Entry, EntryVerdict, Submission};
use smsgate::{Delivery, Message, Outcome, Provider, SmsGate, StopSignal};

/// Accepts every entry after `delay`; one recipient per request, so each message is a request.
struct Slow {
    delay: Duration,
    started: Arc<AtomicUsize>,
}

impl Provider for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            uniform_recipients: 1,
            mixed_recipients: 1,
            max_content_chars: 1000,
            max_sender_id_chars: None,
        }
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
        self.started.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Submission::Answered {
                verdicts: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (i, EntryVerdict::Accepted(format!("id-{}", e.reference))))
                    .collect(),
                unlisted: EntryVerdict::Unknown("unlisted".into()),
            }
        })
    }
}

fn gate(delay: Duration, concurrency: usize) -> (SmsGate, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    let gate = SmsGate::builder()
        .provider_with(
            Slow {
                delay,
                started: Arc::clone(&started),
            },
            smsgate::ProviderOptions {
                concurrency,
                requests_per_second: None,
            },
        )
        .concurrency(concurrency)
        .build();
    (gate, started)
}

fn messages(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| Message::new(format!("+86138001380{i:02}"), format!("text {i}")))
        .collect()
}

/// Every index handed over exactly once, and the same verdict as the report's.
fn assert_streamed_once(streamed: &[Delivery], report: &smsgate::Report) {
    let mut seen = vec![0usize; report.deliveries.len()];
    for delivery in streamed {
        seen[delivery.index] += 1;
        assert_eq!(delivery, &report.deliveries[delivery.index]);
    }
    assert!(seen.iter().all(|&n| n == 1), "handed over: {seen:?}");
}

#[tokio::test]
async fn outcomes_are_handed_over_as_each_request_settles() {
    let (gate, _) = gate(Duration::from_millis(50), 1);
    let mut input = messages(4);
    input.push(Message::new("not a number", "x"));
    let stop = StopSignal::new();
    let started = Instant::now();
    let mut batches: Vec<(Duration, Vec<Delivery>)> = Vec::new();
    let report = gate
        .send_streaming(&input, &stop, |settled| {
            batches.push((started.elapsed(), settled.to_vec()));
        })
        .await;
    // The local rejection first, then one batch per request, spaced by the provider's delay.
    assert_eq!(batches.len(), 5, "{batches:?}");
    assert_eq!(batches[0].1.len(), 1);
    assert_eq!(batches[0].1[0].index, 4);
    assert!(batches[0].1[0].outcome.is_rejected());
    assert!(batches[1].0 < batches[4].0);
    assert!(batches[4].0 - batches[1].0 >= Duration::from_millis(100));
    let streamed: Vec<Delivery> = batches.into_iter().flat_map(|(_, d)| d).collect();
    assert_streamed_once(&streamed, &report);
    assert_eq!(report.accepted(), 4);
}

#[tokio::test]
async fn a_stop_starts_no_new_request_and_lets_in_flight_ones_settle() {
    let (gate, started) = gate(Duration::from_millis(200), 2);
    let input = messages(20);
    let stop = StopSignal::new();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopper.stop();
    });
    let mut streamed = Vec::new();
    let began = Instant::now();
    let report = gate
        .send_streaming(&input, &stop, |settled| streamed.extend_from_slice(settled))
        .await;
    // Two rounds of two started (t=0, t=200); the second settles after the stop at t=300.
    assert!(began.elapsed() < Duration::from_millis(1000));
    let sent = started.load(Ordering::SeqCst);
    assert_eq!(sent, 4);
    assert_eq!(report.accepted(), sent, "in-flight requests settled");
    assert_eq!(report.not_sent(), 20 - sent);
    for delivery in &report.deliveries {
        if let Outcome::NotSent { reason } = &delivery.outcome {
            assert!(reason.contains("stopped"), "{reason}");
            assert!(delivery.tried.is_empty());
            assert!(delivery.reference.is_none());
        }
    }
    assert_streamed_once(&streamed, &report);
}

#[tokio::test]
async fn abandoning_ends_in_flight_requests_unknown() {
    let (gate, started) = gate(Duration::from_secs(30), 2);
    let input = messages(5);
    let stop = StopSignal::new();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stopper.stop();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stopper.abandon();
    });
    let streamed = Mutex::new(Vec::new());
    let began = Instant::now();
    let report = gate
        .send_streaming(&input, &stop, |settled| {
            streamed.lock().unwrap().extend_from_slice(settled);
        })
        .await;
    assert!(began.elapsed() < Duration::from_secs(5));
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(report.unknown(), 2);
    assert_eq!(report.not_sent(), 3);
    for delivery in report.deliveries.iter().filter(|d| d.outcome.is_unknown()) {
        assert!(delivery.outcome.to_string().contains("may have reached"));
    }
    assert_streamed_once(&streamed.into_inner().unwrap(), &report);
}

#[tokio::test]
async fn a_signal_stopped_before_the_send_sends_nothing() {
    let (gate, started) = gate(Duration::from_millis(1), 4);
    let stop = StopSignal::new();
    stop.stop();
    let report = gate.send_streaming(&messages(3), &stop, |_| {}).await;
    assert_eq!(started.load(Ordering::SeqCst), 0);
    assert_eq!(report.not_sent(), 3);
}
