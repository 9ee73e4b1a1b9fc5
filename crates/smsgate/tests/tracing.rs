//! The facade's tracing output: plan, attempts, failover and per-message outcomes, numbers
//! masked.
//!
//! Alone in its own test binary on purpose: tracing caches each call site's interest
//! process-wide, and a test on another thread that reaches a call site first, with no
//! subscriber, can race this test's scoped subscriber and leave the call site switched off.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use smsgate::provider::{BoxFuture, Capacity, Entry, EntryVerdict, Submission};
use smsgate::{ErrorClass, Message, Provider, Reason, RejectKind, SmsGate};

/// A `MakeWriter` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Refuses every request as a whole (account problem, retry-safe), or accepts every entry.
struct Fixed {
    name: &'static str,
    refuse: bool,
}

impl Provider for Fixed {
    fn name(&self) -> &str {
        self.name
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            uniform_recipients: 1000,
            mixed_recipients: 1000,
            max_content_chars: 1024,
            max_sender_id_chars: None,
        }
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
        Box::pin(async move {
            if self.refuse {
                return Submission::Refused {
                    reason: Reason {
                        code: Some("x".into()),
                        text: "account".into(),
                        kind: RejectKind::Vendor(ErrorClass::Account),
                    },
                    retry_safe: true,
                    throttled: false,
                };
            }
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

#[tokio::test]
async fn plan_hops_and_outcomes_are_traced_with_numbers_masked() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let gate = SmsGate::builder()
        .provider(Fixed {
            name: "a",
            refuse: true,
        })
        .provider(Fixed {
            name: "b",
            refuse: false,
        })
        .build();
    let report = gate
        .send(&[
            Message::new("+8613800138000", "hi"),
            Message::new("+8613800138001", "hi"),
        ])
        .await;
    assert_eq!(report.accepted(), 2);
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "smsgate.send",
        "plan",
        "smsgate.attempt",
        "attempt finished",
        "failover",
        "outcome",
        "number=8613*****8000",
        "verdict=\"accepted\"",
    ] {
        assert!(logs.contains(expected), "missing {expected:?} in:\n{logs}");
    }
    assert!(
        !logs.contains("8613800138000") && !logs.contains("8613800138001"),
        "numbers must be masked:\n{logs}"
    );
}
