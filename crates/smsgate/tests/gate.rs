//! The gate over scripted in-memory providers: planning and chunk boundaries, failover that
//! moves exactly the refused messages, throttle back-off, unknown outcomes never resent,
//! duplicates, deadline, hooks, input order — and a property test of the exactly-once invariant.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use smsgate::provider::{BoxFuture, Capacity, Entry, EntryVerdict, Submission};
use smsgate::{ErrorClass, Message, Outcome, Provider, Reason, RejectKind, SmsGate};

/// What a scripted provider does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    AcceptAll,
    /// Accepts every other entry, rejects the rest per number.
    AcceptHalf,
    /// Refuses the whole request; another provider may send it.
    RefuseRetrySafe,
    /// Refuses the whole request for content; do not fail over.
    RefuseContent,
    /// Throttles the request.
    Throttle,
    /// No verdict (timeout after sending, 5xx).
    Unknown,
    /// Answers but lists only the first entry.
    ListFirstOnly,
}

const BEHAVIOURS: [Behaviour; 7] = [
    Behaviour::AcceptAll,
    Behaviour::AcceptHalf,
    Behaviour::RefuseRetrySafe,
    Behaviour::RefuseContent,
    Behaviour::Throttle,
    Behaviour::Unknown,
    Behaviour::ListFirstOnly,
];

/// A request as a provider received it.
#[derive(Debug, Clone)]
struct Received {
    provider: String,
    references: Vec<String>,
    uniform: bool,
    behaviour: Behaviour,
}

type Log = Arc<Mutex<Vec<Received>>>;

struct Scripted {
    name: String,
    capacity: Capacity,
    script: Box<dyn Fn(usize) -> Behaviour + Send + Sync>,
    calls: Mutex<usize>,
    log: Log,
}

impl Scripted {
    fn new(
        name: &str,
        log: &Log,
        script: impl Fn(usize) -> Behaviour + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.to_owned(),
            capacity: Capacity {
                uniform_recipients: 1000,
                mixed_recipients: 1000,
                max_content_chars: 1024,
                max_sender_id_chars: Some(32),
            },
            script: Box::new(script),
            calls: Mutex::new(0),
            log: Arc::clone(log),
        }
    }

    fn with_capacity(mut self, uniform: usize, mixed: usize, content: usize) -> Self {
        self.capacity = Capacity {
            uniform_recipients: uniform,
            mixed_recipients: mixed,
            max_content_chars: content,
            max_sender_id_chars: Some(32),
        };
        self
    }
}

fn reason(class: ErrorClass) -> Reason {
    Reason {
        code: Some("x".into()),
        text: format!("{class}"),
        kind: RejectKind::Vendor(class),
    }
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        &self.name
    }

    fn capacity(&self) -> Capacity {
        self.capacity
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls - 1
        };
        let behaviour = (self.script)(call);
        self.log.lock().unwrap().push(Received {
            provider: self.name.clone(),
            references: entries.iter().map(|e| e.reference.to_owned()).collect(),
            uniform,
            behaviour,
        });
        let submission = match behaviour {
            Behaviour::AcceptAll => Submission::Answered {
                verdicts: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        (
                            i,
                            EntryVerdict::Accepted(format!("{}-{}", self.name, e.reference)),
                        )
                    })
                    .collect(),
                unlisted: EntryVerdict::Unknown("unlisted".into()),
            },
            Behaviour::AcceptHalf => Submission::Answered {
                verdicts: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let verdict = if i % 2 == 0 {
                            EntryVerdict::Accepted(format!("{}-{}", self.name, e.reference))
                        } else {
                            EntryVerdict::Rejected(reason(ErrorClass::Number))
                        };
                        (i, verdict)
                    })
                    .collect(),
                unlisted: EntryVerdict::Unknown("unlisted".into()),
            },
            Behaviour::RefuseRetrySafe => Submission::Refused {
                reason: reason(ErrorClass::Account),
                retry_safe: true,
                throttled: false,
            },
            Behaviour::RefuseContent => Submission::Refused {
                reason: reason(ErrorClass::Content),
                retry_safe: false,
                throttled: false,
            },
            Behaviour::Throttle => Submission::Refused {
                reason: reason(ErrorClass::RateLimit),
                retry_safe: true,
                throttled: true,
            },
            Behaviour::Unknown => Submission::Unknown("timed out after sending".into()),
            Behaviour::ListFirstOnly => Submission::Answered {
                verdicts: entries
                    .iter()
                    .take(1)
                    .map(|e| {
                        (
                            0,
                            EntryVerdict::Accepted(format!("{}-{}", self.name, e.reference)),
                        )
                    })
                    .collect(),
                unlisted: EntryVerdict::Rejected(reason(ErrorClass::Number)),
            },
        };
        Box::pin(async move { submission })
    }
}

fn messages(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            Message::new(format!("+86 138{i:08}"), format!("text {}", i % 3))
                .client_ref(format!("ref-{i}"))
        })
        .collect()
}

fn same_text(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| Message::new(format!("86138{i:08}"), "same"))
        .collect()
}

fn new_log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

#[tokio::test]
async fn every_message_gets_one_outcome_in_input_order() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::AcceptHalf))
        .build();
    let mut input = messages(7);
    input.insert(3, Message::new("not a number", "x"));
    input.push(Message::new("+8613800000000", ""));
    let report = gate.send(&input).await;
    assert_eq!(report.deliveries.len(), input.len());
    for (i, delivery) in report.deliveries.iter().enumerate() {
        assert_eq!(delivery.index, i);
        assert_eq!(delivery.to, input[i].to);
        assert_eq!(delivery.client_ref, input[i].client_ref);
    }
    assert!(
        matches!(&report.deliveries[3].outcome, Outcome::Rejected { provider: None, reason, retry_safe: false } if matches!(reason.kind, RejectKind::InvalidNumber(_)))
    );
    assert!(
        matches!(&report.deliveries[8].outcome, Outcome::Rejected { reason, .. } if reason.kind == RejectKind::InvalidContent)
    );
    assert_eq!(
        report.accepted() + report.rejected() + report.unknown(),
        input.len()
    );
    assert_eq!(
        report.deliveries[0].number.as_deref(),
        Some("8613800000000")
    );
}

#[tokio::test]
async fn chunk_boundaries_follow_each_provider_capacity() {
    for (n, expected) in [(999, vec![999]), (1000, vec![1000]), (1001, vec![1000, 1])] {
        let log = new_log();
        let gate = SmsGate::builder()
            .provider(Scripted::new("a", &log, |_| Behaviour::AcceptAll))
            .build();
        let report = gate.send(&same_text(n)).await;
        assert_eq!(report.accepted(), n);
        let mut sizes: Vec<usize> = log
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.references.len())
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(sizes, expected, "{n} numbers");
        assert!(
            log.lock().unwrap().iter().all(|r| r.uniform),
            "one text: the one-text operation"
        );
    }
    for (n, expected) in [(200, vec![200]), (201, vec![200, 1])] {
        let log = new_log();
        let gate = SmsGate::builder()
            .provider(
                Scripted::new("nx", &log, |_| Behaviour::AcceptAll).with_capacity(200, 200, 1000),
            )
            .build();
        let report = gate.send(&messages(n)).await;
        assert_eq!(report.accepted(), n);
        let mut sizes: Vec<usize> = log
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.references.len())
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(sizes, expected, "{n} items");
    }
}

#[tokio::test]
async fn mixed_contents_go_in_the_fewest_batches() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::AcceptAll))
        .build();
    // 1500 numbers, three texts: 1000 in one uniform request, 500 in one mixed batch.
    let mut input = Vec::new();
    for i in 0..1500 {
        input.push(Message::new(
            format!("86138{i:08}"),
            if i < 1100 {
                "A"
            } else if i < 1300 {
                "B"
            } else {
                "C"
            },
        ));
    }
    let report = gate.send(&input).await;
    assert_eq!(report.accepted(), 1500);
    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    assert!(
        received
            .iter()
            .any(|r| r.uniform && r.references.len() == 1000)
    );
    assert!(
        received
            .iter()
            .any(|r| !r.uniform && r.references.len() == 500)
    );
}

#[tokio::test]
async fn retry_safe_refusal_moves_exactly_the_refused_messages() {
    let log = new_log();
    let hops = Arc::new(Mutex::new(Vec::new()));
    let hops_seen = Arc::clone(&hops);
    // Provider a: capacity 2; its second request is refused as a whole (balance).
    let gate = SmsGate::builder()
        .provider_with(
            Scripted::new("a", &log, |call| {
                if call == 1 {
                    Behaviour::RefuseRetrySafe
                } else {
                    Behaviour::AcceptAll
                }
            })
            .with_capacity(2, 2, 1024),
            smsgate::ProviderOptions {
                concurrency: 1,
                requests_per_second: None,
            },
        )
        .provider(Scripted::new("b", &log, |_| Behaviour::AcceptAll))
        .on_failover(move |hop| hops_seen.lock().unwrap().push(hop.clone()))
        .build();
    let report = gate.send(&same_text(6)).await;
    assert_eq!(report.accepted(), 6);
    let received = log.lock().unwrap().clone();
    let refused: Vec<String> = received
        .iter()
        .filter(|r| r.behaviour == Behaviour::RefuseRetrySafe)
        .flat_map(|r| r.references.clone())
        .collect();
    let to_b: Vec<String> = received
        .iter()
        .filter(|r| r.provider == "b")
        .flat_map(|r| r.references.clone())
        .collect();
    assert_eq!(refused.len(), 2);
    assert_eq!(to_b, refused, "exactly the refused messages move to b");
    for d in &report.deliveries {
        let Outcome::Accepted { provider, .. } = &d.outcome else {
            panic!()
        };
        if refused.contains(&d.reference.unwrap().to_string()) {
            assert_eq!(
                (
                    provider.as_str(),
                    d.tried.iter().map(|p| p.as_str()).collect()
                ),
                ("b", vec!["a", "b"])
            );
        } else {
            assert_eq!(
                (
                    provider.as_str(),
                    d.tried.iter().map(|p| p.as_str()).collect()
                ),
                ("a", vec!["a"])
            );
        }
    }
    let hops = hops.lock().unwrap();
    assert_eq!(hops.len(), 1);
    assert_eq!(
        (
            hops[0].from.as_str(),
            hops[0].to.as_deref(),
            hops[0].messages
        ),
        ("a", Some("b"), 2)
    );
}

#[tokio::test]
async fn per_number_and_content_refusals_do_not_fail_over() {
    for behaviour in [
        Behaviour::AcceptHalf,
        Behaviour::RefuseContent,
        Behaviour::ListFirstOnly,
    ] {
        let log = new_log();
        let gate = SmsGate::builder()
            .provider(Scripted::new("a", &log, move |_| behaviour))
            .provider(Scripted::new("b", &log, |_| Behaviour::AcceptAll))
            .build();
        let report = gate.send(&same_text(4)).await;
        assert!(
            log.lock().unwrap().iter().all(|r| r.provider == "a"),
            "{behaviour:?} must not fail over"
        );
        assert!(report.deliveries.iter().all(|d| !matches!(
            &d.outcome,
            Outcome::Rejected {
                retry_safe: true,
                ..
            }
        )));
        assert_eq!(report.accepted() + report.rejected(), 4, "{behaviour:?}");
    }
}

#[tokio::test]
async fn unknown_outcomes_are_never_resent() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::Unknown))
        .provider(Scripted::new("b", &log, |_| Behaviour::AcceptAll))
        .build();
    let report = gate.send(&messages(5)).await;
    assert_eq!(report.unknown(), 5);
    let received = log.lock().unwrap().clone();
    assert_eq!(
        received.len(),
        1,
        "one request, never repeated, never failed over"
    );
    assert!(
        report
            .deliveries
            .iter()
            .all(|d| matches!(&d.outcome, Outcome::Unknown { provider, .. } if provider == "a"))
    );
}

#[tokio::test]
async fn throttled_requests_back_off_and_retry_then_fail_over() {
    let log = new_log();
    // Throttled twice, then accepted: the same request is retried on the same provider.
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |call| {
            if call < 2 {
                Behaviour::Throttle
            } else {
                Behaviour::AcceptAll
            }
        }))
        .provider(Scripted::new("b", &log, |_| Behaviour::AcceptAll))
        .throttle_retries(3, Duration::from_millis(20))
        .build();
    let started = std::time::Instant::now();
    let report = gate.send(&same_text(3)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "backed off 20 + 40 ms"
    );
    assert_eq!(report.accepted(), 3);
    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|r| r.provider == "a" && r.references == received[0].references)
    );
    assert_eq!(report.deliveries[0].tried, ["a", "a", "a"]);

    // Always throttled: after the retries, the request fails over.
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::Throttle))
        .provider(Scripted::new("b", &log, |_| Behaviour::AcceptAll))
        .throttle_retries(2, Duration::from_millis(1))
        .build();
    let report = gate.send(&same_text(3)).await;
    assert!(
        report
            .deliveries
            .iter()
            .all(|d| matches!(&d.outcome, Outcome::Accepted { provider, .. } if provider == "b"))
    );
    assert_eq!(
        log.lock()
            .unwrap()
            .iter()
            .filter(|r| r.provider == "a")
            .count(),
        3
    );
}

#[tokio::test]
async fn refused_everywhere_ends_rejected_and_retry_safe() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::RefuseRetrySafe))
        .provider(Scripted::new("b", &log, |_| Behaviour::RefuseRetrySafe))
        .build();
    let report = gate.send(&same_text(2)).await;
    for d in &report.deliveries {
        assert!(
            matches!(&d.outcome, Outcome::Rejected { provider: Some(p), retry_safe: true, reason } if p == "b" && reason.kind == RejectKind::Vendor(ErrorClass::Account))
        );
        assert_eq!(d.tried, ["a", "b"]);
    }
}

#[tokio::test]
async fn duplicates_are_flagged_not_sent_twice() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::AcceptAll))
        .build();
    let input = [
        Message::new("+8613800138000", "hi"),
        Message::new("8613800138000", "hi"),
        Message::new("8613800138000", "other"),
    ];
    let report = gate.send(&input).await;
    assert!(report.deliveries[0].outcome.is_accepted());
    assert!(
        matches!(&report.deliveries[1].outcome, Outcome::Rejected { reason, .. } if reason.kind == RejectKind::Duplicate { of: 0 })
    );
    assert!(report.deliveries[2].outcome.is_accepted());
    assert_eq!(
        log.lock()
            .unwrap()
            .iter()
            .map(|r| r.references.len())
            .sum::<usize>(),
        2
    );

    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::AcceptAll))
        .allow_duplicates(true)
        .build();
    assert_eq!(gate.send(&input).await.accepted(), 3);
}

#[tokio::test]
async fn content_too_long_for_one_provider_goes_to_the_next() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(
            Scripted::new("short", &log, |_| Behaviour::AcceptAll).with_capacity(200, 200, 1000),
        )
        .provider(Scripted::new("long", &log, |_| Behaviour::AcceptAll))
        .build();
    let input = [
        Message::new("8613800138000", "x".repeat(1001)),
        Message::new("8613800138001", "x"),
        Message::new("8613800138002", "x".repeat(1025)),
    ];
    let report = gate.send(&input).await;
    assert!(
        matches!(&report.deliveries[0].outcome, Outcome::Accepted { provider, .. } if provider == "long")
    );
    assert!(
        matches!(&report.deliveries[1].outcome, Outcome::Accepted { provider, .. } if provider == "short")
    );
    assert!(
        matches!(&report.deliveries[2].outcome, Outcome::Rejected { reason, .. } if reason.kind == RejectKind::InvalidContent)
    );
}

#[tokio::test]
async fn deadline_rejects_what_could_not_start() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::Throttle))
        .throttle_retries(5, Duration::from_millis(200))
        .deadline(Duration::from_millis(50))
        .build();
    let report = gate.send(&same_text(2)).await;
    assert!(report.deliveries.iter().all(|d| matches!(&d.outcome, Outcome::Rejected { retry_safe: true, reason, .. } if reason.kind == RejectKind::DeadlineExceeded)));
}

#[tokio::test]
async fn no_provider_rejects_everything_retry_safe() {
    let report = SmsGate::builder().build().send(&same_text(2)).await;
    assert!(report.deliveries.iter().all(|d| matches!(&d.outcome, Outcome::Rejected { retry_safe: true, reason, .. } if reason.kind == RejectKind::NoProvider)));
}

#[tokio::test]
async fn hooks_see_every_outcome_in_order() {
    let log = new_log();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_hook = Arc::clone(&seen);
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::AcceptAll))
        .on_outcome(move |d| seen_hook.lock().unwrap().push(d.index))
        .build();
    gate.send(&messages(4)).await;
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3]);
}

#[test]
fn preview_plans_without_sending() {
    let log = new_log();
    let gate = SmsGate::builder()
        .provider(Scripted::new("a", &log, |_| Behaviour::AcceptAll).with_capacity(2, 2, 1024))
        .build();
    let mut input = same_text(3);
    input.push(Message::new("bad", "x"));
    input.push(Message::new("8613800138009", "€".repeat(81)));
    let preview = gate.preview(&input);
    assert!(log.lock().unwrap().is_empty());
    assert_eq!(
        preview.messages[3]
            .rejected
            .as_ref()
            .map(|r| matches!(r.kind, RejectKind::InvalidNumber(_))),
        Some(true)
    );
    assert_eq!(preview.messages[4].segments.parts, 2);
    assert_eq!(preview.total_parts(), 3 + 2);
    let sizes: Vec<usize> = preview.requests.iter().map(|r| r.messages.len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 4);
    assert!(preview.requests.iter().all(|r| r.provider == "a"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the providers do, every input appears exactly once, in order; nothing accepted
    /// is sent again; a message reaches a later provider only after a retry-safe refusal; an
    /// unknown message is never sent again.
    #[test]
    fn exactly_once_whatever_the_providers_do(
        picks in proptest::collection::vec((0u8..40, 0u8..4, proptest::bool::weighted(0.05)), 0..120),
        seeds in proptest::collection::vec(0usize..1000, 3),
        capacities in proptest::collection::vec(1usize..50, 3),
    ) {
        let input: Vec<Message> = picks
            .iter()
            .map(|(n, c, bad)| Message::new(if *bad { "oops".to_owned() } else { format!("+86 138{n:08}") }, format!("text {c}")))
            .collect();
        let log = new_log();
        let mut builder = SmsGate::builder().throttle_retries(2, Duration::from_millis(0)).allow_duplicates(seeds[0] % 2 == 0);
        for (p, (seed, cap)) in seeds.iter().zip(&capacities).enumerate() {
            let seed = *seed;
            let provider = Scripted::new(&format!("p{p}"), &log, move |call| BEHAVIOURS[(seed + call * 7) % BEHAVIOURS.len()]).with_capacity(*cap, *cap, 1024);
            builder = builder.provider(provider);
        }
        let gate = builder.build();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let report = runtime.block_on(gate.send(&input));

        prop_assert_eq!(report.deliveries.len(), input.len());
        for (i, d) in report.deliveries.iter().enumerate() {
            prop_assert_eq!(d.index, i);
            prop_assert_eq!(&d.to, &input[i].to);
        }
        prop_assert_eq!(report.accepted() + report.rejected() + report.unknown(), input.len());

        // Per reference: the providers that got it, in order, and what each did.
        let received = log.lock().unwrap().clone();
        let mut history: HashMap<String, Vec<(String, Behaviour)>> = HashMap::new();
        for r in &received {
            for reference in &r.references {
                history.entry(reference.clone()).or_default().push((r.provider.clone(), r.behaviour));
            }
        }
        for d in &report.deliveries {
            let Some(reference) = &d.reference else {
                prop_assert!(d.tried.is_empty());
                continue;
            };
            let sends = history.get(reference.as_str()).cloned().unwrap_or_default();
            prop_assert_eq!(sends.len(), d.tried.len());
            // Every send but the last was refused without sending (throttle or retry-safe).
            for (_, behaviour) in &sends[..sends.len().saturating_sub(1)] {
                prop_assert!(matches!(behaviour, Behaviour::Throttle | Behaviour::RefuseRetrySafe), "resent after {:?}", behaviour);
            }
            match &d.outcome {
                Outcome::Accepted { provider, message_id } => {
                    let last = sends.last().unwrap();
                    prop_assert_eq!(last.0.as_str(), provider.as_str());
                    prop_assert_eq!(message_id, &format!("{provider}-{reference}"));
                }
                Outcome::Unknown { provider, .. } => prop_assert_eq!(sends.last().unwrap().0.as_str(), provider.as_str()),
                Outcome::Rejected { .. } => {}
                Outcome::NotSent { .. } => prop_assert!(false, "nothing stopped this send"),
            }
        }
    }
}

/// Accepts everything after a pause, counting requests in flight.
struct Slow {
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    peak: Arc<std::sync::atomic::AtomicUsize>,
    starts: Arc<Mutex<Vec<std::time::Instant>>>,
}

impl Provider for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            uniform_recipients: 1,
            mixed_recipients: 1,
            max_content_chars: 1024,
            max_sender_id_chars: None,
        }
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            self.starts.lock().unwrap().push(std::time::Instant::now());
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            Submission::Answered {
                verdicts: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (i, EntryVerdict::Accepted(e.reference.to_owned())))
                    .collect(),
                unlisted: EntryVerdict::Unknown("unlisted".into()),
            }
        })
    }
}

fn slow() -> (
    Slow,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<Mutex<Vec<std::time::Instant>>>,
) {
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let starts = Arc::new(Mutex::new(Vec::new()));
    (
        Slow {
            in_flight: Arc::default(),
            peak: Arc::clone(&peak),
            starts: Arc::clone(&starts),
        },
        peak,
        starts,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_capped_per_provider_and_overall() {
    let (provider, peak, _) = slow();
    let gate = SmsGate::builder()
        .provider_with(
            provider,
            smsgate::ProviderOptions {
                concurrency: 3,
                requests_per_second: None,
            },
        )
        .build();
    assert_eq!(gate.send(&same_text(12)).await.accepted(), 12);
    assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 3);

    let (provider, peak, _) = slow();
    let gate = SmsGate::builder()
        .provider_with(
            provider,
            smsgate::ProviderOptions {
                concurrency: 8,
                requests_per_second: None,
            },
        )
        .concurrency(2)
        .build();
    assert_eq!(gate.send(&same_text(8)).await.accepted(), 8);
    assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn request_rate_is_limited_per_provider() {
    let (provider, _, starts) = slow();
    let gate = SmsGate::builder()
        .provider_with(
            provider,
            smsgate::ProviderOptions {
                concurrency: 8,
                requests_per_second: Some(50.0),
            },
        )
        .build();
    assert_eq!(gate.send(&same_text(5)).await.accepted(), 5);
    let mut starts = starts.lock().unwrap().clone();
    starts.sort();
    // The pacer schedules starts 20 ms apart; a loaded machine may wake one task late and the
    // next on time, so the bound is on each start's distance from the first (10 ms of slack;
    // without pacing all five start within a millisecond).
    for (i, start) in starts.iter().enumerate() {
        let expected =
            Duration::from_millis(20 * i as u64).saturating_sub(Duration::from_millis(10));
        assert!(
            *start - starts[0] >= expected,
            "request {i} started {:?} after the first, expected at least {expected:?}",
            *start - starts[0]
        );
    }
}

/// Panics inside `submit`: nobody knows what it sent.
struct Panicking;

impl Provider for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            uniform_recipients: 2,
            mixed_recipients: 2,
            max_content_chars: 1024,
            max_sender_id_chars: None,
        }
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
        Box::pin(async move {
            if entries.iter().any(|e| e.number.ends_with('3')) {
                panic!("provider bug");
            }
            Submission::Answered {
                verdicts: (0..entries.len())
                    .map(|i| (i, EntryVerdict::Accepted(format!("id-{i}"))))
                    .collect(),
                unlisted: EntryVerdict::Unknown("unlisted".into()),
            }
        })
    }
}

#[tokio::test]
async fn a_panicking_provider_fails_its_request_only_and_its_messages_end_unknown() {
    let gate = SmsGate::builder().provider(Panicking).build();
    let input: Vec<Message> = ["+8613800138001", "+8613800138002", "+8613800138003"]
        .iter()
        .map(|n| Message::new(*n, "hello"))
        .collect();
    // Two requests: [1, 2] is answered, [3] panics.
    let report = gate.send(&input).await;
    assert_eq!(report.deliveries.len(), 3);
    assert!(report.deliveries[0].outcome.is_accepted());
    assert!(report.deliveries[1].outcome.is_accepted());
    let Outcome::Unknown { provider, .. } = &report.deliveries[2].outcome else {
        panic!("{:?}", report.deliveries[2].outcome)
    };
    assert_eq!(provider, "panicking");
}
