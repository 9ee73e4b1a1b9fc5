//! Vonage as the sandbox simulates it, through the generated client, the provider and the
//! gate: both auth modes (key and secret, signed with each method), one answer entry per part
//! of a long text read into one verdict, the status table's refusals (barred, throttled, no
//! credit, bad signature), JSON delivery receipts (one per part, signed when the account
//! signs) and the balance.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use smsgate::provider::{Entry, EntryVerdict, Provider, Submission};
use smsgate::{DeliveryClass, ErrorClass, Message, Outcome, RejectKind, SmsGate};
use smsgate_sandbox::{Faults, Sandbox, SandboxConfig};
use smsgate_transport::clock::FixedClock;
use smsgate_vonage::bodies::{BalanceRequest, SendSmsRequest};
use smsgate_vonage::codes::BalanceError;
use smsgate_vonage::generated::client::{Credentials, GetBalance};
use smsgate_vonage::models::{MessageType, SendSmsResponse};
use smsgate_vonage::sign::{SignatureMethod, verify_signature};

const TO: &str = "447700900123";
const SIGNATURE_SECRET: &str = "sandbox-vonage-signature-secret";
const METHODS: [(&str, SignatureMethod); 5] = [
    ("md5hash", SignatureMethod::Md5Hash),
    ("md5", SignatureMethod::HmacMd5),
    ("sha1", SignatureMethod::HmacSha1),
    ("sha256", SignatureMethod::HmacSha256),
    ("sha512", SignatureMethod::HmacSha512),
];

fn builder(sandbox: &Sandbox) -> smsgate_transport::client::ClientBuilder<Credentials> {
    sandbox
        .client_builder::<Credentials>()
        .timeout(Duration::from_secs(5))
}

fn client(sandbox: &Sandbox) -> smsgate_vonage::Client {
    builder(sandbox).build().unwrap()
}

fn sms<'a>(to: &'a str, text: &'a str) -> SendSmsRequest<'a> {
    SendSmsRequest {
        to,
        text,
        ..Default::default()
    }
}

/// A configuration whose Vonage account signs its requests with `method`.
fn signed(method: &str) -> SandboxConfig {
    let mut config = SandboxConfig::default();
    config
        .account_mut("vonage")
        .unwrap()
        .set("signature_secret", SIGNATURE_SECRET)
        .unwrap()
        .set("signature_method", method)
        .unwrap();
    config
}

/// The only part of a one-part answer: its status.
fn status(answer: &SendSmsResponse) -> &str {
    assert_eq!(answer.message_count, "1", "{answer:?}");
    assert_eq!(answer.messages.len(), 1, "{answer:?}");
    &answer.messages[0].status
}

fn entry<'a>(number: &'a str, content: &'a str) -> Entry<'a> {
    Entry {
        reference: "00000000000000000042",
        number,
        content,
        sender_id: None,
    }
}

/// The single verdict of an answered submission (panics otherwise).
fn only_verdict(submission: Submission) -> EntryVerdict {
    match submission {
        Submission::Answered { mut verdicts, .. } => {
            assert_eq!(verdicts.len(), 1, "{verdicts:?}");
            let (index, verdict) = verdicts.remove(0);
            assert_eq!(index, 0);
            verdict
        }
        other => panic!("expected an answer, got {other:?}"),
    }
}

/// Asserts a whole-request refusal: its code, class, and whether it was throttled.
fn assert_refused(submission: Submission, code: &str, class: ErrorClass, throttled: bool) {
    match submission {
        Submission::Refused {
            reason,
            retry_safe,
            throttled: was_throttled,
        } => {
            assert_eq!(reason.code.as_deref(), Some(code), "{reason:?}");
            assert_eq!(reason.kind, RejectKind::Vendor(class), "{reason:?}");
            assert!(!reason.text.is_empty());
            assert!(retry_safe, "nothing was sent: {reason:?}");
            assert_eq!(was_throttled, throttled, "{reason:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A Vonage message id: the shape of a UUID.
fn is_message_id(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The registry's provider of Vonage, against the sandbox.
fn provider(sandbox: &Sandbox) -> Arc<dyn smsgate::Provider> {
    let vendor = &smsgate_vonage::VENDOR;
    let mut settings = smsgate::registry::Settings::new(vendor);
    for (key, value) in sandbox.settings(vendor.name) {
        settings.set(key, value).unwrap();
    }
    vendor
        .provider(&settings.with_base_url(sandbox.url()).unwrap())
        .unwrap()
}

#[tokio::test]
async fn key_and_secret_mode_sends_and_echoes_the_reference() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client(&sandbox);
    let prepared = client.prepare_send_sms(&sms(TO, "hello")).unwrap();
    let body = String::from_utf8(prepared.body.clone().unwrap()).unwrap();
    assert!(body.contains("api_secret="), "{body}");
    assert!(!body.contains("sig="), "{body}");
    // The `from` setting fills the sender.
    assert!(body.contains("from=smsgate"), "{body}");

    let answer = client
        .send_sms(&SendSmsRequest {
            client_ref: Some("my-ref-1"),
            ..sms(TO, "hello")
        })
        .await
        .unwrap();
    assert_eq!(status(&answer), "0");
    let part = &answer.messages[0];
    assert!(
        is_message_id(part.message_id.as_deref().unwrap()),
        "{part:?}"
    );
    assert_eq!(part.to.as_deref(), Some(TO));
    assert_eq!(part.client_ref.as_deref(), Some("my-ref-1"));
    assert_eq!(part.remaining_balance.as_deref(), Some("999.99500000"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn signed_mode_is_accepted_with_every_method() {
    for (name, _) in METHODS {
        let sandbox = Sandbox::start(signed(name)).await.unwrap();
        let client = client(&sandbox);
        let prepared = client.prepare_send_sms(&sms(TO, "hello")).unwrap();
        let body = String::from_utf8(prepared.body.clone().unwrap()).unwrap();
        // A signed request carries timestamp and sig, never the API secret (status 32).
        assert!(
            body.contains("&sig=") && body.contains("&timestamp="),
            "{name}: {body}"
        );
        assert!(!body.contains("api_secret"), "{name}: {body}");

        let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
        assert_eq!(status(&answer), "0", "{name}: {answer:?}");
        // The account API takes no signature: the balance query goes with key and secret.
        let query = client
            .prepare_get_balance(&BalanceRequest::default())
            .unwrap();
        assert!(
            query.url.contains("api_secret=") && !query.url.contains("sig="),
            "{name}: {query}"
        );
        let balance = client
            .get_balance(&BalanceRequest::default())
            .await
            .unwrap();
        assert!(
            (balance.value - 999.995).abs() < 1e-9,
            "{name}: {balance:?}"
        );
        sandbox.shutdown().await;
    }
}

/// An account that only signs (no API secret) cannot query its balance: the account API
/// refuses a signature, typed as an authentication failure.
#[tokio::test]
async fn a_signed_balance_query_is_refused() {
    let sandbox = Sandbox::start(signed("sha256")).await.unwrap();
    let (_, api_key) = sandbox
        .settings("vonage")
        .find(|(key, _)| *key == "api_key")
        .unwrap();
    let signing_only = smsgate_vonage::Client::builder()
        .api_key(api_key)
        .signature_secret(SIGNATURE_SECRET)
        .signature_method("sha256")
        .from("smsgate")
        .base_url(sandbox.url())
        .build()
        .unwrap();
    let query = signing_only
        .prepare_get_balance(&BalanceRequest::default())
        .unwrap();
    assert!(query.url.contains("sig="), "{query}");
    let err = signing_only
        .get_balance(&BalanceRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            smsgate_transport::Error::Vendor {
                code: smsgate_vonage::codes::BalanceError::AuthenticationFailed,
                ..
            }
        ),
        "{err:?}"
    );
    // Sending still works signed.
    let answer = signing_only.send_sms(&sms(TO, "hello")).await.unwrap();
    assert_eq!(status(&answer), "0");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_signature_secret_or_method_is_status_14_refused_as_auth() {
    let sandbox = Sandbox::start(signed("sha256")).await.unwrap();
    for wrong in [
        builder(&sandbox).setting("signature_secret", "not-the-secret"),
        builder(&sandbox).setting("signature_method", "md5hash"),
        builder(&sandbox).setting("signature_method", "sha512"),
    ] {
        let client = wrong.build().unwrap();
        let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
        assert_eq!(status(&answer), "14", "{answer:?}");
        assert!(answer.messages[0].error_text.is_some());
        assert_refused(
            smsgate_vonage::verdict(&answer),
            "14",
            ErrorClass::Auth,
            false,
        );
        assert_refused(
            Provider::submit(&client, &[entry(TO, "hello")], true).await,
            "14",
            ErrorClass::Auth,
            false,
        );
    }
    // An account that does not sign refuses a signed request.
    let unsigned = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = builder(&unsigned)
        .setting("signature_secret", SIGNATURE_SECRET)
        .build()
        .unwrap();
    let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
    assert_eq!(status(&answer), "14", "{answer:?}");
    unsigned.shutdown().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_stale_timestamp_is_status_14_and_a_recent_one_passes() {
    let sandbox = Sandbox::start(signed("md5hash")).await.unwrap();
    let now = now_secs();
    for (clock, expected) in [
        (FixedClock::from_secs(1_000_000_000), "14"),
        (FixedClock::from_secs(now - 3600), "14"),
        (FixedClock::from_secs(now + 3600), "14"),
        (FixedClock::from_secs(now - 60), "0"),
    ] {
        let client = builder(&sandbox).clock(clock).build().unwrap();
        let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
        assert_eq!(status(&answer), expected, "{clock:?}: {answer:?}");
    }
    // Key-and-secret requests carry no time: an old clock does not matter.
    let plain = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = builder(&plain)
        .clock(FixedClock::from_secs(1_000_000_000))
        .build()
        .unwrap();
    assert_eq!(
        status(&client.send_sms(&sms(TO, "hello")).await.unwrap()),
        "0"
    );
    plain.shutdown().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_api_key_is_status_4_refused_as_auth() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = builder(&sandbox)
        .setting("api_key", "deadbeef")
        .build()
        .unwrap();
    let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
    assert_eq!(status(&answer), "4", "{answer:?}");
    assert_refused(
        Provider::submit(&client, &[entry(TO, "hello")], true).await,
        "4",
        ErrorClass::Auth,
        false,
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_api_secret_is_status_4() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = builder(&sandbox)
        .setting("api_secret", "not-the-secret")
        .build()
        .unwrap();
    let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
    assert_eq!(status(&answer), "4", "{answer:?}");
    assert_refused(
        Provider::submit(&client, &[entry(TO, "hello")], true).await,
        "4",
        ErrorClass::Auth,
        false,
    );
    sandbox.shutdown().await;
}

/// 400 GSM-7 characters: 3 parts of 153.
fn long_gsm() -> String {
    "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(400)
        .collect()
}

/// 100 Cyrillic characters: UCS-2, 2 parts of 67.
fn long_cyrillic() -> String {
    "Съешь же ещё этих мягких французских булок, да выпей чаю. "
        .chars()
        .cycle()
        .take(100)
        .collect()
}

#[tokio::test]
async fn a_long_text_answers_one_entry_per_part_and_one_verdict() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client(&sandbox);
    let (gsm, cyrillic) = (long_gsm(), long_cyrillic());
    assert_eq!(smsgate::segments(&gsm).parts, 3);
    assert_eq!(smsgate::segments(&cyrillic).parts, 2);

    for (text, parts, kind) in [
        (&gsm, 3, MessageType::Text),
        (&cyrillic, 2, MessageType::Unicode),
    ] {
        let answer = client
            .send_sms(&SendSmsRequest {
                client_ref: Some("ref-long"),
                type_: Some(kind),
                ..sms(TO, text)
            })
            .await
            .unwrap();
        assert_eq!(answer.message_count, parts.to_string());
        assert_eq!(answer.message_count_count(), Some(Ok(parts)));
        assert_eq!(answer.messages.len(), parts as usize);
        let ids: BTreeSet<&str> = answer
            .messages
            .iter()
            .map(|p| p.message_id.as_deref().unwrap())
            .collect();
        assert_eq!(ids.len(), parts as usize, "a distinct id per part");
        for part in &answer.messages {
            assert_eq!(part.status, "0");
            assert_eq!(part.client_ref.as_deref(), Some("ref-long"));
        }
        // One verdict for the recipient: accepted with the first part's id.
        let verdict = only_verdict(smsgate_vonage::verdict(&answer));
        assert_eq!(
            verdict,
            EntryVerdict::Accepted(answer.messages[0].message_id.clone().unwrap())
        );
    }

    // The provider: `type=unicode` for the Cyrillic text only, one accepted verdict each.
    for (text, kind) in [(&gsm, "type=text"), (&cyrillic, "type=unicode")] {
        let wire = Provider::dry_run(&client, &[entry(TO, text)], true).unwrap();
        let body = String::from_utf8(wire.body.unwrap()).unwrap();
        assert!(body.contains(kind), "{body}");
        assert!(body.contains("client-ref=00000000000000000042"), "{body}");
        let verdict = only_verdict(Provider::submit(&client, &[entry(TO, text)], true).await);
        assert!(
            matches!(&verdict, EntryVerdict::Accepted(id) if is_message_id(id)),
            "{verdict:?}"
        );
    }
    // Every part was charged: (3 + 2) twice, at 0.005.
    let balance = client
        .get_balance(&BalanceRequest::default())
        .await
        .unwrap();
    assert!(
        (balance.value - (1000.0 - 10.0 * 0.005)).abs() < 1e-9,
        "{balance:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_gate_accepts_a_long_text_once() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gate = SmsGate::builder().provider(provider(&sandbox)).build();
    let report = gate
        .send(&[
            Message::new("+447400123456", long_gsm()),
            Message::new("+447400123457", long_cyrillic()),
        ])
        .await;
    assert_eq!(report.accepted(), 2, "{report:?}");
    assert_eq!(report.deliveries[0].segments.parts, 3);
    assert_eq!(report.deliveries[1].segments.parts, 2);
    for delivery in &report.deliveries {
        assert_eq!(delivery.tried, ["vonage"]);
    }
    // Vonage is not polled: its receipts come as pushes.
    assert!(gate.reconcile(&report).await.iter().all(Option::is_none));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_rejected_number_is_status_7_and_a_rejected_verdict() {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: Faults {
            reject_rate: 1.0,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = client(&sandbox);
    let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
    assert_eq!(status(&answer), "7");
    assert!(answer.messages[0].error_text.is_some());
    match only_verdict(Provider::submit(&client, &[entry(TO, "hello")], true).await) {
        EntryVerdict::Rejected(reason) => {
            assert_eq!(reason.code.as_deref(), Some("7"));
            assert_eq!(reason.kind, RejectKind::Vendor(ErrorClass::Number));
        }
        other => panic!("{other:?}"),
    }
    // Through the gate: rejected, not retry-safe, nothing charged.
    let gate = SmsGate::builder().provider(provider(&sandbox)).build();
    let report = gate.send(&[Message::new("+447400123458", "hi")]).await;
    match &report.deliveries[0].outcome {
        Outcome::Rejected {
            provider: Some(provider),
            reason,
            retry_safe: false,
        } => {
            assert_eq!(provider, "vonage");
            assert_eq!(reason.code.as_deref(), Some("7"));
            assert_eq!(reason.kind, RejectKind::Vendor(ErrorClass::Number));
        }
        other => panic!("{other:?}"),
    }
    let balance = client
        .get_balance(&BalanceRequest::default())
        .await
        .unwrap();
    assert!((balance.value - 1000.0).abs() < 1e-9, "{balance:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn over_the_rate_limit_is_status_1_refused_throttled_and_retry_safe() {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: Faults {
            rate_limit_per_second: Some(1),
            ..Faults::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = client(&sandbox);
    let first = client.send_sms(&sms(TO, "one")).await.unwrap();
    assert_eq!(status(&first), "0");
    // The next ones come within the same second.
    let second = client.send_sms(&sms(TO, "two")).await.unwrap();
    assert_eq!(status(&second), "1", "{second:?}");
    assert_refused(
        smsgate_vonage::verdict(&second),
        "1",
        ErrorClass::RateLimit,
        true,
    );
    assert_refused(
        Provider::submit(&client, &[entry(TO, "three")], true).await,
        "1",
        ErrorClass::RateLimit,
        true,
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn without_credit_it_is_status_9_refused_as_account() {
    let sandbox = Sandbox::start(SandboxConfig::default().with_balance("vonage", 0.0))
        .await
        .unwrap();
    let client = client(&sandbox);
    let answer = client.send_sms(&sms(TO, "hello")).await.unwrap();
    assert_eq!(status(&answer), "9", "{answer:?}");
    assert_refused(
        Provider::submit(&client, &[entry(TO, "hello")], true).await,
        "9",
        ErrorClass::Account,
        false,
    );
    sandbox.shutdown().await;
}

async fn hook() -> wiremock::MockServer {
    let hook = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    hook
}

/// Waits (at most 3 s) until `hook` has received `count` requests.
async fn received(hook: &wiremock::MockServer, count: usize) -> Vec<wiremock::Request> {
    let mut requests = Vec::new();
    for _ in 0..150 {
        requests = hook.received_requests().await.unwrap();
        if requests.len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    requests
}

/// A pushed receipt: JSON, every field a string.
fn receipt_params(request: &wiremock::Request) -> Vec<(String, String)> {
    let content_type = request
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    body.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn receipts_are_pushed_as_json_one_per_part_echoing_the_reference() {
    for (rate, vendor_status, class) in [
        (1.0, "delivered", DeliveryClass::Delivered),
        (0.0, "failed", DeliveryClass::Undelivered),
    ] {
        let hook = hook().await;
        let sandbox = Sandbox::start(SandboxConfig {
            push_url: Some(format!("{}/vonage/dlr", hook.uri())),
            delivery_rate: rate,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let gsm = long_gsm();
        let answer = client(&sandbox)
            .send_sms(&SendSmsRequest {
                client_ref: Some("order-17"),
                ..sms(TO, &gsm)
            })
            .await
            .unwrap();
        let ids: BTreeSet<String> = answer
            .messages
            .iter()
            .map(|p| p.message_id.clone().unwrap())
            .collect();
        assert_eq!(ids.len(), 3);
        let pushes = received(&hook, 3).await;
        assert_eq!(pushes.len(), 3, "one receipt per part");
        let mut pushed = BTreeSet::new();
        for push in &pushes {
            assert_eq!(push.url.path(), "/vonage/dlr");
            let params = receipt_params(push);
            assert_eq!(param(&params, "client-ref"), Some("order-17"));
            assert_eq!(param(&params, "msisdn"), Some(TO));
            assert_eq!(param(&params, "to"), Some("smsgate"));
            assert_eq!(param(&params, "status"), Some(vendor_status));
            assert_eq!(param(&params, "api-key"), Some("5a4db0c1"));
            // The account does not sign: no signature fields.
            for name in ["sig", "timestamp", "nonce"] {
                assert_eq!(param(&params, name), None, "{name}");
            }
            let receipt = smsgate_vonage::parse_delivery_receipt(&push.body).unwrap();
            assert_eq!(receipt.client_ref.as_deref(), Some("order-17"));
            let statuses = (smsgate_vonage::VENDOR.parse_report)(&push.body).unwrap();
            assert_eq!(statuses.len(), 1);
            let status = &statuses[0];
            assert_eq!(status.provider, "vonage");
            assert_eq!(status.state, class);
            assert_eq!(status.number.as_deref(), Some(TO));
            match class {
                DeliveryClass::Delivered => assert_eq!(status.detail, None),
                _ => assert!(
                    status.detail.as_deref().unwrap().ends_with("(2)"),
                    "{status:?}"
                ),
            }
            pushed.insert(status.message_id.clone());
        }
        assert_eq!(pushed, ids, "a receipt for each part's id");
        let stats = sandbox.shutdown().await;
        assert_eq!(stats.delivered, 3, "{stats:?}");
    }
}

#[tokio::test]
async fn signed_accounts_push_receipts_the_webhook_check_accepts() {
    for (name, method) in METHODS {
        let hook = hook().await;
        let sandbox = Sandbox::start(SandboxConfig {
            push_url: Some(format!("{}/vonage/dlr", hook.uri())),
            ..signed(name)
        })
        .await
        .unwrap();
        let answer = client(&sandbox)
            .send_sms(&SendSmsRequest {
                client_ref: Some("signed-ref"),
                ..sms(TO, "hello")
            })
            .await
            .unwrap();
        assert_eq!(status(&answer), "0");
        let pushes = received(&hook, 1).await;
        assert_eq!(pushes.len(), 1, "{name}");
        let params = receipt_params(&pushes[0]);
        let timestamp: u64 = param(&params, "timestamp").unwrap().parse().unwrap();
        assert!(timestamp.abs_diff(now_secs()) < 60, "{name}: {timestamp}");
        assert!(!param(&params, "nonce").unwrap().is_empty());
        assert!(param(&params, "sig").is_some());
        assert_eq!(param(&params, "client-ref"), Some("signed-ref"));
        assert!(
            verify_signature(&params, SIGNATURE_SECRET, method),
            "{name}: {params:?}"
        );
        assert!(!verify_signature(&params, "wrong-secret", method), "{name}");
        for (other_name, other) in METHODS {
            if other_name != name {
                assert!(
                    !verify_signature(&params, SIGNATURE_SECRET, other),
                    "{name} verified as {other_name}"
                );
            }
        }
        let mut tampered = params.clone();
        for (key, value) in &mut tampered {
            if key == "status" {
                *value = "failed".to_owned();
            }
        }
        assert!(
            !verify_signature(&tampered, SIGNATURE_SECRET, method),
            "{name}"
        );
        let statuses = (smsgate_vonage::VENDOR.parse_report)(&pushes[0].body).unwrap();
        assert_eq!(
            Some(statuses[0].message_id.as_str()),
            answer.messages[0].message_id.as_deref()
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn the_balance_is_read_and_sends_deduct_from_it() {
    let sandbox = Sandbox::start(SandboxConfig::default().with_balance("vonage", 2.5))
        .await
        .unwrap();
    let client = client(&sandbox);
    let balance = client
        .get_balance(&BalanceRequest::default())
        .await
        .unwrap();
    assert!((balance.value - 2.5).abs() < 1e-9, "{balance:?}");
    assert!(!balance.auto_reload);
    client.send_sms(&sms(TO, "hello")).await.unwrap();
    let balance = Provider::balance(&client).await.unwrap();
    let amount: f64 = balance.amount.parse().unwrap();
    assert!((amount - 2.495).abs() < 1e-9, "{balance:?}");
    assert_eq!(balance.currency.as_deref(), Some("EUR"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_balance_with_wrong_credentials_is_http_401_typed() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let signed_sandbox = Sandbox::start(signed("sha1")).await.unwrap();
    for wrong in [
        builder(&sandbox).setting("api_secret", "not-the-secret"),
        builder(&sandbox).setting("api_key", "deadbeef"),
        // A signing account's balance query goes with key and secret: a wrong secret fails.
        builder(&signed_sandbox).setting("api_secret", "not-the-secret"),
    ] {
        let client = wrong.build().unwrap();
        let raw = client
            .core()
            .send_raw(&GetBalance {
                body: &BalanceRequest::default(),
            })
            .await
            .unwrap();
        assert_eq!(raw.status, 401);
        let body: Value = serde_json::from_slice(&raw.body).unwrap();
        assert_eq!(body["error-code"], "401", "{body}");
        assert!(body["error-code-label"].is_string(), "{body}");
        match client.get_balance(&BalanceRequest::default()).await {
            Err(smsgate_transport::Error::Vendor { code, .. }) => {
                assert_eq!(code, BalanceError::AuthenticationFailed);
                assert_eq!(code.class(), ErrorClass::Auth);
            }
            other => panic!("{other:?}"),
        }
        assert!(Provider::balance(&client).await.is_err());
    }
    signed_sandbox.shutdown().await;
    sandbox.shutdown().await;
}

/// Sends the signed `sendSms` of `client` for `body` with `extra` parameters added, re-signed
/// with the account's secret (md5hash), as raw bytes.
async fn send_resigned(
    client: &smsgate_vonage::Client,
    body: &SendSmsRequest<'_>,
    extra: &[(&str, &str)],
) -> SendSmsResponse {
    let mut request = client.prepare_send_sms(body).unwrap();
    let mut params: Vec<(String, String)> =
        serde_urlencoded::from_bytes(request.body.as_deref().unwrap()).unwrap();
    params.retain(|(k, _)| k != "sig");
    params.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let sig = smsgate_vonage::sign::signature(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SIGNATURE_SECRET,
        SignatureMethod::Md5Hash,
    );
    params.push(("sig".to_owned(), sig));
    request.body = Some(serde_urlencoded::to_string(&params).unwrap().into_bytes());
    let response = smsgate_transport::http::HttpClient::new(&Default::default())
        .unwrap()
        .execute::<()>(&smsgate_vonage::operations::SEND_SMS, request, 1)
        .await
        .unwrap();
    serde_json::from_slice(&response.body).unwrap()
}

#[tokio::test]
async fn a_signed_request_carrying_the_api_secret_too_is_status_32() {
    let sandbox = Sandbox::start(signed("md5hash")).await.unwrap();
    let client = client(&sandbox);
    let api_secret = sandbox
        .config()
        .account("vonage")
        .and_then(|a| a.setting("api_secret"))
        .unwrap()
        .to_owned();
    // Re-signed as it is, the request passes.
    let answer = send_resigned(&client, &sms(TO, "hello"), &[]).await;
    assert_eq!(status(&answer), "0", "{answer:?}");
    let answer = send_resigned(&client, &sms(TO, "hello"), &[("api_secret", &api_secret)]).await;
    assert_eq!(status(&answer), "32", "{answer:?}");
    sandbox.shutdown().await;
}
