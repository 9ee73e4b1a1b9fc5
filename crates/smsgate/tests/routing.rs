//! Routing over in-memory providers: prefix rules (first match wins), round-robin and weighted
//! splits, failover along a rule's list only, preview and dry-run showing the routes a send
//! takes, and the typed errors of a routing that does not fit the providers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use smsgate::provider::{BoxFuture, Capacity, Entry, EntryVerdict, Submission};
use smsgate::{
    ErrorClass, Hop, Message, Outcome, Provider, Reason, RejectKind, Routing, RoutingError, SmsGate,
};

/// Accepts everything (or refuses every request as a whole, retry-safe) and records the
/// numbers it was given.
struct Recorder {
    name: &'static str,
    refuse: bool,
    numbers: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            refuse: false,
            numbers: Arc::default(),
        }
    }

    fn refusing(name: &'static str) -> Self {
        Self {
            refuse: true,
            ..Self::new(name)
        }
    }
}

impl Provider for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            uniform_recipients: 100,
            mixed_recipients: 100,
            max_content_chars: 1000,
            max_sender_id_chars: None,
        }
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
        self.numbers
            .lock()
            .unwrap()
            .extend(entries.iter().map(|e| e.number.to_owned()));
        let submission = if self.refuse {
            Submission::Refused {
                reason: Reason {
                    code: Some("1003".into()),
                    text: "invalid sign".into(),
                    kind: RejectKind::Vendor(ErrorClass::Account),
                },
                retry_safe: true,
                throttled: false,
            }
        } else {
            Submission::Answered {
                verdicts: entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (i, EntryVerdict::Accepted(format!("id-{}", e.reference))))
                    .collect(),
                unlisted: EntryVerdict::Unknown("unlisted".into()),
            }
        };
        Box::pin(async move { submission })
    }
}

/// `n` messages to UK numbers and `n` to Chinese ones, interleaved.
fn mixed(n: usize) -> Vec<Message> {
    (0..n)
        .flat_map(|i| {
            [
                Message::new(format!("+4474009{i:05}"), "hi"),
                Message::new(format!("+86138{i:08}"), "hi"),
            ]
        })
        .collect()
}

/// Who accepted each message.
fn accepted_by(report: &smsgate::Report) -> Vec<String> {
    report
        .deliveries
        .iter()
        .map(|d| match &d.outcome {
            Outcome::Accepted { provider, .. } => provider.as_str().to_owned(),
            other => panic!("message {} not accepted: {other:?}", d.index),
        })
        .collect()
}

fn counts(names: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for name in names {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn the_first_matching_prefix_rule_picks_the_providers() {
    let nxcloud = Recorder::new("nxcloud");
    let itniotech = Recorder::new("itniotech");
    let (nx_numbers, it_numbers) = (Arc::clone(&nxcloud.numbers), Arc::clone(&itniotech.numbers));
    let gate = SmsGate::builder()
        .provider(nxcloud)
        .provider(itniotech)
        .routing(
            Routing::default()
                .rule("+447400", ["nxcloud"]) // more specific first: first match wins
                .rule("44", ["itniotech"]),
        )
        .unwrap()
        .build();
    let messages = vec![
        Message::new("+447400900001", "a"),
        Message::new("+447911123456", "b"),
        Message::new("+8613800000003", "c"),
    ];
    let report = gate.send(&messages).await;
    assert_eq!(accepted_by(&report), ["nxcloud", "itniotech", "nxcloud"]);
    assert_eq!(
        *nx_numbers.lock().unwrap(),
        ["447400900001", "8613800000003"]
    );
    assert_eq!(*it_numbers.lock().unwrap(), ["447911123456"]);
}

#[tokio::test]
async fn round_robin_takes_turns_and_weighted_splits_by_weight() {
    let gate = SmsGate::builder()
        .provider(Recorder::new("nxcloud"))
        .provider(Recorder::new("itniotech"))
        .routing(Routing::round_robin())
        .unwrap()
        .build();
    let report = gate.send(&mixed(50)).await;
    let names = accepted_by(&report);
    assert_eq!(
        &names[..4],
        ["nxcloud", "itniotech", "nxcloud", "itniotech"]
    );
    assert_eq!(
        counts(&names),
        BTreeMap::from([("itniotech", 50), ("nxcloud", 50)])
    );
    // The turn carries over to the next call: after one more message, itniotech's turn.
    let one = gate.send(&[Message::new("+8613800000099", "x")]).await;
    assert_eq!(accepted_by(&one), ["nxcloud"]);
    let next = gate.send(&mixed(1)).await;
    assert_eq!(accepted_by(&next), ["itniotech", "nxcloud"]);

    let gate = SmsGate::builder()
        .provider(Recorder::new("nxcloud"))
        .provider(Recorder::new("itniotech"))
        .provider(Recorder::new("laaffic")) // no weight: only a failover target
        .routing(Routing::weighted([("nxcloud", 3), ("itniotech", 1)]))
        .unwrap()
        .build();
    let report = gate.send(&mixed(2000)).await;
    let names = accepted_by(&report);
    let split = counts(&names);
    assert_eq!(split.get("laaffic"), None);
    assert!((2990..=3010).contains(&split["nxcloud"]), "{split:?}");
    assert_eq!(split["nxcloud"] + split["itniotech"], 4000);
}

#[tokio::test]
async fn failover_moves_refused_messages_along_their_rule_only() {
    let hops: Arc<Mutex<Vec<Hop>>> = Arc::default();
    let recorded = Arc::clone(&hops);
    let laaffic = Recorder::new("laaffic");
    let laaffic_numbers = Arc::clone(&laaffic.numbers);
    let gate = SmsGate::builder()
        .provider(Recorder::refusing("nxcloud"))
        .provider(Recorder::new("itniotech"))
        .provider(laaffic)
        .routing(Routing::default().rule("44", ["nxcloud", "laaffic"]))
        .unwrap()
        .on_failover(move |hop| recorded.lock().unwrap().push(hop.clone()))
        .build();
    let report = gate.send(&mixed(3)).await;
    let names = accepted_by(&report);
    // UK numbers fail over to laaffic (their rule's next), the others to itniotech.
    assert_eq!(
        names,
        [
            "laaffic",
            "itniotech",
            "laaffic",
            "itniotech",
            "laaffic",
            "itniotech"
        ]
    );
    assert_eq!(laaffic_numbers.lock().unwrap().len(), 3);
    for delivery in &report.deliveries {
        assert_eq!(delivery.tried.len(), 2, "{delivery:?}");
    }
    let hops = hops.lock().unwrap();
    let mut seen: Vec<(String, Option<String>, usize)> = hops
        .iter()
        .map(|h| {
            (
                h.from.as_str().to_owned(),
                h.to.as_ref().map(|t| t.as_str().to_owned()),
                h.messages,
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("nxcloud".into(), Some("itniotech".into()), 3),
            ("nxcloud".into(), Some("laaffic".into()), 3),
        ]
    );
}

#[tokio::test]
async fn a_rule_whose_providers_all_refuse_ends_rejected_retry_safe() {
    let gate = SmsGate::builder()
        .provider(Recorder::refusing("nxcloud"))
        .provider(Recorder::new("itniotech"))
        .routing(Routing::default().rule("44", ["nxcloud"]))
        .unwrap()
        .build();
    let report = gate
        .send(&[
            Message::new("+447400900001", "a"),
            Message::new("+8613800000001", "b"),
        ])
        .await;
    match &report.deliveries[0].outcome {
        Outcome::Rejected {
            provider: Some(provider),
            retry_safe: true,
            reason,
        } => {
            assert_eq!(provider.as_str(), "nxcloud");
            assert_eq!(reason.text, "invalid sign");
        }
        other => panic!("{other:?}"),
    }
    // Never tried on a provider outside its rule.
    assert_eq!(report.deliveries[0].tried.len(), 1);
    assert!(matches!(
        &report.deliveries[1].outcome,
        Outcome::Accepted { provider, .. } if provider.as_str() == "itniotech"
    ));
}

#[tokio::test]
async fn preview_and_dry_run_show_the_routes_a_send_takes_without_moving_the_turn() {
    let gate = SmsGate::builder()
        .provider(Recorder::new("nxcloud"))
        .provider(Recorder::new("itniotech"))
        .routing(Routing::round_robin().rule("44", ["itniotech"]))
        .unwrap()
        .build();
    // Three messages on the round-robin list: a preview that moved the turn would shift the
    // next one's parity.
    let messages = vec![
        Message::new("+8613800000001", "a"),
        Message::new("+8613800000002", "b"),
        Message::new("+447400900003", "c"),
        Message::new("+8613800000004", "d"),
    ];
    let planned_of = |preview: smsgate::Preview| {
        let mut planned: Vec<(String, Vec<usize>)> = preview
            .requests
            .iter()
            .map(|r| (r.provider.clone(), r.messages.clone()))
            .collect();
        planned.sort();
        planned
    };
    let expected = [
        ("itniotech".to_owned(), vec![1, 2]),
        ("nxcloud".to_owned(), vec![0, 3]),
    ];
    for _ in 0..2 {
        assert_eq!(planned_of(gate.preview(&messages)), expected);
        assert_eq!(gate.dry_run(&messages).len(), 2);
    }
    // In parts, a cursor carries the turn as the whole input would take it.
    let mut cursor = smsgate::RouteCursor::default();
    let first = gate.preview_continuing(&messages[..1], &mut cursor);
    assert_eq!(first.requests[0].provider, "nxcloud");
    let rest = gate.dry_run_continuing(&messages[1..], &mut cursor);
    let mut rest: Vec<(String, Vec<usize>)> =
        rest.into_iter().map(|r| (r.provider, r.messages)).collect();
    rest.sort();
    // Indexes are the part's: message 1 of the whole is 0 here.
    assert_eq!(
        rest,
        [
            ("itniotech".to_owned(), vec![0, 1]),
            ("nxcloud".to_owned(), vec![2])
        ]
    );
    let report = gate.send(&messages).await;
    assert_eq!(
        accepted_by(&report),
        ["nxcloud", "itniotech", "itniotech", "nxcloud"]
    );
}

#[test]
fn a_routing_that_does_not_fit_the_providers_is_a_typed_error() {
    let builder = || SmsGate::builder().provider(Recorder::new("nxcloud"));
    let err = builder()
        .routing(Routing::default().rule("44", ["twilio"]))
        .unwrap_err();
    assert_eq!(
        err,
        RoutingError::UnknownProvider {
            name: "twilio".into(),
            configured: "nxcloud".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "routing names the provider \"twilio\", which is not configured (configured: nxcloud)"
    );
    assert!(matches!(
        builder().routing(Routing::weighted([("vonage", 1)])),
        Err(RoutingError::UnknownProvider { .. })
    ));
    assert!(matches!(
        builder().routing(Routing::default().rule("4x", ["nxcloud"])),
        Err(RoutingError::InvalidPrefix { index: 1, .. })
    ));
    assert!(matches!(
        builder().routing(Routing::default().rule("44", Vec::<String>::new())),
        Err(RoutingError::EmptyRule { index: 1, .. })
    ));
    assert!(matches!(
        builder().routing(Routing::default().rule("44", ["nxcloud", "nxcloud"])),
        Err(RoutingError::Repeated { .. })
    ));
}
