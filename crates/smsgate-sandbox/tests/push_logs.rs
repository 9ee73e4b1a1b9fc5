//! Dropped pushes are logged as a summary, never once per message, and never with the push
//! URL (which may carry a token). In its own test binary: it installs a global subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smsgate_itniotech::generated::client::Credentials;
use smsgate_onbuka::bodies::SendSmsRequest;
use smsgate_sandbox::{PushSettings, Sandbox, SandboxConfig};
use smsgate_transport::endpoint::Joined;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn dropped_pushes_are_logged_as_a_summary_without_the_url() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    // A port nobody listens on: every push attempt is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let sandbox = Sandbox::start(SandboxConfig {
        push_url: Some(format!("http://127.0.0.1:{port}/dr?token=s3cr3t-token")),
        push: PushSettings {
            queue_capacity: 10,
            concurrency: 2,
            retries: 1,
            backoff: Duration::from_millis(5),
            shutdown_grace: Duration::from_millis(200),
            ..PushSettings::default()
        },
        ..SandboxConfig::default().with_balance("itniotech", 1_000_000.0)
    })
    .await
    .unwrap();
    let client = sandbox
        .client_builder::<Credentials>()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for round in 0..3 {
        let numbers: Vec<String> = (0..1000)
            .map(|i| format!("86138{:08}", round * 1000 + i))
            .collect();
        client
            .send_sms(&SendSmsRequest {
                numbers: Joined::commas(&numbers),
                content: "x",
                ..Default::default()
            })
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = sandbox.shutdown().await;
    assert!(stats.dropped() > 2_900, "{stats:?}");

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(
        warnings.len(),
        1,
        "a run shorter than the 10 s reporting period warns once, at shutdown: {warnings:#?}"
    );
    let last = warnings.last().unwrap();
    assert!(
        last.contains(&format!("dropped_queue_full={}", stats.dropped_queue_full)),
        "{last}"
    );
    assert!(
        logs.contains("delivery-report push failed"),
        "attempts are logged at debug"
    );
    assert!(
        !logs.contains("s3cr3t"),
        "the push URL is never logged:\n{logs}"
    );
}
