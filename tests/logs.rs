//! What the clients log: a `smsgate.request` span per call with vendor, operation, recipient
//! count, status and latency — never a secret, never a phone number.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use smsgate_itniotech::bodies::SendSmsRequest;
use smsgate_nxcloud::bodies::{MultiMtItem, MultiMtRequest};
use smsgate_transport::endpoint::Joined;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A `MakeWriter` that appends to a shared buffer.
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

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every log line at every level, into a buffer, for as long as the guard lives.
fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    (capture, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn logs_carry_counts_not_secrets_or_numbers() {
    let (capture, _guard) = capture();

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"status":"-10","reason":"balance","code":1003,"message":"sign"}),
            ),
        )
        .mount(&server)
        .await;
    let itniotech = smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret("itniotech-secret-value")
        .app_id("app")
        .base_url(server.uri())
        .build()
        .unwrap();
    let numbers = ["8613800138000", "8613800138001"];
    let _ = itniotech
        .send_sms(&SendSmsRequest {
            numbers: Joined::commas(&numbers),
            content: "hello",
            ..Default::default()
        })
        .await
        .unwrap_err();
    let nxcloud = smsgate_nxcloud::Client::builder()
        .access_key("key")
        .access_secret("nxcloud-secret-value")
        .app_key("app")
        .base_url(server.uri())
        .build()
        .unwrap();
    let _ = nxcloud
        .send_multi(&MultiMtRequest {
            items: &[MultiMtItem {
                phone: "8613800138002",
                content: "hello",
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();

    // A refused connection logs a warning too.
    let refused = smsgate_nxcloud::Client::builder()
        .access_key("key")
        .access_secret("nxcloud-secret-value")
        .app_key("app")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let _ = refused
        .send_multi(&MultiMtRequest {
            items: &[MultiMtItem {
                phone: "8613800138003",
                content: "hello",
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("smsgate.request"), "{logs}");
    assert!(
        logs.contains("vendor=\"itniotech\"")
            && logs.contains("operation=\"sendSms\"")
            && logs.contains("recipients=2"),
        "{logs}"
    );
    assert!(
        logs.contains("vendor=\"nxcloud\"") && logs.contains("operation=\"sendMulti\""),
        "{logs}"
    );
    assert!(
        logs.contains("status=200") && logs.contains("latency_ms="),
        "{logs}"
    );
    assert!(
        logs.contains("vendor call failed") && logs.contains("may_have_reached_vendor=false"),
        "{logs}"
    );
    for forbidden in [
        "itniotech-secret-value",
        "nxcloud-secret-value",
        "8613800138000",
        "8613800138001",
        "8613800138002",
        "8613800138003",
    ] {
        assert!(!logs.contains(forbidden), "logs show {forbidden}:\n{logs}");
    }
}

/// A vendor's reason that names the number (Twilio's 21408 does) is masked in the failover
/// warning; Vonage's secret, sent as a parameter, never shows either.
#[tokio::test]
async fn failover_warnings_mask_the_numbers_in_vendor_reasons() {
    let (capture, _guard) = capture();

    let twilio_server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 21408,
            "message": "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +447400123456.",
            "more_info": "https://www.twilio.com/docs/errors/21408",
            "status": 400
        })))
        .mount(&twilio_server)
        .await;
    let vonage_server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "message-count": "1",
            "messages": [{"to": "447400123456", "message-id": "a1", "status": "0"}]
        })))
        .mount(&vonage_server)
        .await;
    let twilio = smsgate_twilio::Client::builder()
        .account_sid("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .auth_token("twilio-token-value")
        .from("+15005550006")
        .base_url(twilio_server.uri())
        .build()
        .unwrap();
    let vonage = smsgate_vonage::Client::builder()
        .api_key("abcd1234")
        .api_secret("vonage-secret-value")
        .from("smsgate")
        .base_url(vonage_server.uri())
        .build()
        .unwrap();
    let gate = smsgate::SmsGate::builder()
        .provider(twilio)
        .provider(vonage)
        .build();
    let report = gate
        .send(&[smsgate::Message::new("+447400123456", "hello")])
        .await;
    assert!(
        matches!(
            report.deliveries[0].outcome,
            smsgate::Outcome::Accepted { .. }
        ),
        "{report:?}"
    );

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("failover") && logs.contains("21408"),
        "{logs}"
    );
    for forbidden in ["447400123456", "twilio-token-value", "vonage-secret-value"] {
        assert!(!logs.contains(forbidden), "logs show {forbidden}:\n{logs}");
    }
}
