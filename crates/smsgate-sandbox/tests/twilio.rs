//! Twilio as the sandbox simulates it, through the generated client, the provider and the
//! gate: the test credentials' magic numbers and their codes, both credential pairs, Message
//! fetches, the balance, and status callbacks signed with `X-Twilio-Signature`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::sync::Arc;
use std::time::Duration;

use smsgate::provider::{Entry, EntryVerdict, Provider, Submission};
use smsgate::{DeliveryClass, ErrorClass, Message, Outcome, RejectKind, SmsGate};
use smsgate_sandbox::{Sandbox, SandboxConfig};
use smsgate_transport::clock::FixedClock;
use smsgate_twilio::bodies::{CreateMessageRequest, FetchBalanceRequest, FetchMessageRequest};
use smsgate_twilio::codes::ErrorCode;
use smsgate_twilio::generated::client::{CreateMessage, Credentials};
use smsgate_twilio::webhook::{SIGNATURE_HEADER, verify_signature};

/// The magic `From` that passes every check.
const VALID_FROM: &str = "+15005550006";
/// An ordinary mobile number.
const TO: &str = "+14155552345";
/// An API Key SID of the documented shape.
const API_KEY: &str = "SK0123456789abcdef0123456789abcdef";
const API_SECRET: &str = "sandbox-twilio-api-secret";

fn client(sandbox: &Sandbox) -> smsgate_twilio::Client {
    sandbox
        .client_builder::<Credentials>()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn message<'a>(from: &'a str, to: &'a str) -> CreateMessageRequest<'a> {
    CreateMessageRequest {
        to,
        from: Some(from),
        body: "Your code is 4711",
        ..Default::default()
    }
}

/// The typed code of a vendor error (panics on any other error).
fn vendor_code(err: smsgate_twilio::Error) -> ErrorCode {
    match err {
        smsgate_transport::Error::Vendor { code, .. } => code,
        other => panic!("expected a vendor error, got {other:?}"),
    }
}

/// The HTTP status and JSON body of a create, as received.
async fn create_raw(
    client: &smsgate_twilio::Client,
    body: &CreateMessageRequest<'_>,
) -> (u16, serde_json::Value) {
    let raw = client
        .core()
        .send_raw(&CreateMessage { body })
        .await
        .unwrap();
    (raw.status, serde_json::from_slice(&raw.body).unwrap())
}

fn is_message_sid(sid: &str) -> bool {
    sid.len() == 34
        && sid.starts_with("SM")
        && sid[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The registry's provider of `vendor`, against the sandbox.
fn provider(
    sandbox: &Sandbox,
    vendor: &'static smsgate::registry::Vendor,
) -> Arc<dyn smsgate::Provider> {
    let mut settings = smsgate::registry::Settings::new(vendor);
    for (key, value) in sandbox.settings(vendor.name) {
        settings.set(key, value).unwrap();
    }
    vendor
        .provider(&settings.with_base_url(sandbox.url()).unwrap())
        .unwrap()
}

#[tokio::test]
async fn the_magic_from_succeeds_with_http_201_and_a_queued_message() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client(&sandbox);
    let (status, body) = create_raw(&client, &message(VALID_FROM, TO)).await;
    assert_eq!(status, 201, "{body}");
    assert!(is_message_sid(body["sid"].as_str().unwrap()), "{body}");

    let created = client
        .create_message(&message(VALID_FROM, TO))
        .await
        .unwrap();
    let sid = created.sid.as_deref().unwrap();
    assert!(is_message_sid(sid), "{sid}");
    assert_eq!(created.status.as_deref(), Some("queued"));
    assert_eq!(created.num_segments.as_deref(), Some("1"));
    assert_eq!(created.num_segments_count(), Some(Ok(1)));
    assert_eq!(created.to.as_deref(), Some(TO));
    assert_eq!(created.from.as_deref(), Some(VALID_FROM));
    assert_eq!(created.error_code, None);
    let account_sid = sandbox
        .config()
        .account("twilio")
        .and_then(|a| a.setting("account_sid"))
        .unwrap();
    assert_eq!(created.account_sid.as_deref(), Some(account_sid));
    assert_ne!(created.sid, body["sid"].as_str().map(str::to_owned));
    sandbox.shutdown().await;
}

/// Twilio's test-credentials table: the magic `From` and `To` numbers and their codes.
const MAGIC: &[(&str, &str, ErrorCode)] = &[
    ("+15005550001", TO, ErrorCode::InvalidFromNumber),
    ("+15005550007", TO, ErrorCode::FromNotValidForAccount),
    ("+15005550008", TO, ErrorCode::SenderQueueFull),
    (VALID_FROM, "+15005550001", ErrorCode::InvalidToNumber),
    (VALID_FROM, "+15005550002", ErrorCode::ToNotReachable),
    (VALID_FROM, "+15005550003", ErrorCode::RegionNotEnabled),
    (VALID_FROM, "+15005550004", ErrorCode::Unsubscribed),
    (VALID_FROM, "+15005550009", ErrorCode::ToNotMobile),
];

#[tokio::test]
async fn every_magic_number_answers_its_code_typed() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client(&sandbox);
    for (from, to, expected) in MAGIC {
        let (status, body) = create_raw(&client, &message(from, to)).await;
        assert_eq!(status, 400, "{from} -> {to}: {body}");
        assert_eq!(
            body["code"].as_u64().map(|c| c.to_string()).as_deref(),
            Some(expected.code()),
            "{body}"
        );
        assert_eq!(body["status"], 400);
        let err = client.create_message(&message(from, to)).await.unwrap_err();
        assert!(!err.to_string().is_empty());
        assert_eq!(&vendor_code(err), expected, "{from} -> {to}");
    }
    // Nothing refused was charged.
    let balance = client
        .fetch_balance(&FetchBalanceRequest::default())
        .await
        .unwrap();
    assert_eq!(balance.balance.as_deref(), Some("1000.00000"));
    sandbox.shutdown().await;
}

/// From, To, and the refusal expected (code, class, retry-safe); `None`: accepted.
type MagicCase = (
    &'static str,
    &'static str,
    Option<(&'static str, ErrorClass, bool)>,
);

#[tokio::test]
async fn the_gate_rejects_each_magic_number_with_its_class_and_retry_safety() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gate = SmsGate::builder()
        .provider(provider(&sandbox, &smsgate_twilio::VENDOR))
        .throttle_retries(1, Duration::from_millis(5))
        .build();
    let cases: &[MagicCase] = &[
        (VALID_FROM, TO, None),
        (
            "+15005550001",
            "+14155552346",
            Some(("21212", ErrorClass::InvalidRequest, false)),
        ),
        (
            "+15005550007",
            "+14155552347",
            Some(("21606", ErrorClass::Account, true)),
        ),
        (
            "+15005550008",
            "+14155552348",
            Some(("21611", ErrorClass::RateLimit, true)),
        ),
        (
            VALID_FROM,
            "+15005550001",
            Some(("21211", ErrorClass::Number, false)),
        ),
        (
            VALID_FROM,
            "+15005550002",
            Some(("21612", ErrorClass::Number, false)),
        ),
        (
            VALID_FROM,
            "+15005550003",
            Some(("21408", ErrorClass::Account, true)),
        ),
        (
            VALID_FROM,
            "+15005550004",
            Some(("21610", ErrorClass::Number, false)),
        ),
        (
            VALID_FROM,
            "+15005550009",
            Some(("21614", ErrorClass::Number, false)),
        ),
    ];
    let messages: Vec<Message> = cases
        .iter()
        .enumerate()
        .map(|(i, (from, to, _))| Message::new(*to, format!("text {i}")).sender_id(*from))
        .collect();
    let report = gate.send(&messages).await;
    assert_eq!(report.deliveries.len(), cases.len());
    for ((from, to, expected), delivery) in cases.iter().zip(&report.deliveries) {
        let case = format!("{from} -> {to}: {:?}", delivery.outcome);
        match (expected, &delivery.outcome) {
            (
                None,
                Outcome::Accepted {
                    provider,
                    message_id,
                },
            ) => {
                assert_eq!(provider, "twilio");
                assert!(is_message_sid(message_id), "{case}");
            }
            (
                Some((code, class, safe)),
                Outcome::Rejected {
                    provider,
                    reason,
                    retry_safe,
                },
            ) => {
                assert_eq!(provider.as_deref(), Some("twilio"), "{case}");
                assert_eq!(reason.code.as_deref(), Some(*code), "{case}");
                assert_eq!(reason.kind, RejectKind::Vendor(*class), "{case}");
                assert_eq!(retry_safe, safe, "{case}");
                // A throttled request is retried once on the same provider.
                let attempts = if *class == ErrorClass::RateLimit {
                    2
                } else {
                    1
                };
                assert_eq!(delivery.tried.len(), attempts, "{case}");
            }
            _ => panic!("{case}"),
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn retry_safe_refusals_fail_over_and_per_number_refusals_do_not() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gate = SmsGate::builder()
        .provider(provider(&sandbox, &smsgate_twilio::VENDOR))
        .provider(provider(&sandbox, &smsgate_vonage::VENDOR))
        .throttle_retries(0, Duration::from_millis(1))
        .build();
    let report = gate
        .send(&[
            // 21408 (account): the request was refused whole, the next provider sends it.
            Message::new("+15005550003", "a"),
            // 21606 (account) and 21611 (throttled): the same.
            Message::new("+14155552347", "b").sender_id("+15005550007"),
            Message::new("+14155552348", "c").sender_id("+15005550008"),
            // 21211 (number): a refusal of this number, not failed over.
            Message::new("+15005550001", "d"),
        ])
        .await;
    for delivery in &report.deliveries[..3] {
        assert!(
            matches!(&delivery.outcome, Outcome::Accepted { provider, .. } if provider == "vonage"),
            "{:?}",
            delivery.outcome
        );
        assert_eq!(delivery.tried, ["twilio", "vonage"]);
    }
    let last = &report.deliveries[3];
    assert!(
        matches!(&last.outcome, Outcome::Rejected { provider: Some(p), retry_safe: false, .. } if p == "twilio"),
        "{:?}",
        last.outcome
    );
    assert_eq!(last.tried, ["twilio"]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_auth_token_is_20003_with_http_401() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = sandbox
        .client_builder::<Credentials>()
        .setting("auth_token", "not-the-token")
        .build()
        .unwrap();
    let (status, body) = create_raw(&client, &message(VALID_FROM, TO)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], 20003);
    assert_eq!(
        vendor_code(
            client
                .create_message(&message(VALID_FROM, TO))
                .await
                .unwrap_err()
        ),
        ErrorCode::AuthenticationFailed
    );
    assert_eq!(
        vendor_code(
            client
                .fetch_balance(&FetchBalanceRequest::default())
                .await
                .unwrap_err()
        ),
        ErrorCode::AuthenticationFailed
    );
    // Through the provider: refused whole, retry-safe, an authentication failure.
    let entry = Entry {
        reference: "00000000000000000001",
        number: "14155552345",
        content: "hi",
        sender_id: None,
    };
    match Provider::submit(&client, &[entry], true).await {
        Submission::Refused {
            reason,
            retry_safe,
            throttled,
        } => {
            assert_eq!(reason.code.as_deref(), Some("20003"));
            assert_eq!(reason.kind, RejectKind::Vendor(ErrorClass::Auth));
            assert!(retry_safe);
            assert!(!throttled);
        }
        other => panic!("{other:?}"),
    }
    // The right token with another account's SID in the path is refused too.
    let other_account = sandbox
        .client_builder::<Credentials>()
        .setting("account_sid", "AC00000000000000000000000000000000")
        .build()
        .unwrap();
    assert_eq!(
        vendor_code(
            other_account
                .create_message(&message(VALID_FROM, TO))
                .await
                .unwrap_err()
        ),
        ErrorCode::AuthenticationFailed
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_api_key_and_the_account_sid_pair_both_sign() {
    let mut config = SandboxConfig::default();
    config
        .account_mut("twilio")
        .unwrap()
        .set("api_key", API_KEY)
        .unwrap()
        .set("api_secret", API_SECRET)
        .unwrap();
    let sandbox = Sandbox::start(config).await.unwrap();
    let basic = |user: &str, password: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let account_sid = sandbox
        .config()
        .account("twilio")
        .and_then(|a| a.setting("account_sid"))
        .unwrap()
        .to_owned();

    // The sandbox's settings carry the key: the client signs with it, not the Auth Token.
    let keyed = client(&sandbox);
    let prepared = keyed
        .prepare_create_message(&message(VALID_FROM, TO))
        .unwrap();
    assert_eq!(
        prepared.header("Authorization"),
        Some(basic(API_KEY, API_SECRET).as_str())
    );
    assert!(
        prepared.url.contains(&format!("/Accounts/{account_sid}/")),
        "{}",
        prepared.url
    );
    let created = keyed
        .create_message(&message(VALID_FROM, TO))
        .await
        .unwrap();
    assert!(is_message_sid(created.sid.as_deref().unwrap()));
    assert!(
        keyed
            .fetch_balance(&FetchBalanceRequest::default())
            .await
            .is_ok()
    );

    // Without the key: the Account SID and Auth Token.
    let paired = sandbox
        .client_builder::<Credentials>()
        .setting("api_key", "")
        .setting("api_secret", "")
        .build()
        .unwrap();
    let prepared = paired
        .prepare_create_message(&message(VALID_FROM, TO))
        .unwrap();
    assert_eq!(
        prepared.header("Authorization"),
        Some(basic(&account_sid, "sandbox-twilio-secret").as_str())
    );
    assert!(
        paired
            .create_message(&message(VALID_FROM, TO))
            .await
            .is_ok()
    );

    // The key with a wrong secret, or a key the account does not have: 20003.
    for (key, secret) in [
        (API_KEY, "wrong-secret"),
        ("SKffffffffffffffffffffffffffffffff", API_SECRET),
    ] {
        let wrong = sandbox
            .client_builder::<Credentials>()
            .setting("api_key", key)
            .setting("api_secret", secret)
            .build()
            .unwrap();
        assert_eq!(
            vendor_code(
                wrong
                    .create_message(&message(VALID_FROM, TO))
                    .await
                    .unwrap_err()
            ),
            ErrorCode::AuthenticationFailed,
            "{key}"
        );
    }
    // HTTP Basic carries no time: a client whose clock is far off still signs.
    let old_clock = sandbox
        .client_builder::<Credentials>()
        .clock(FixedClock::from_secs(1_000_000_000))
        .build()
        .unwrap();
    assert!(
        old_clock
            .create_message(&message(VALID_FROM, TO))
            .await
            .is_ok()
    );
    sandbox.shutdown().await;
}

async fn sandbox_delivering(rate: f64) -> Sandbox {
    Sandbox::start(SandboxConfig {
        delivery_rate: rate,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_sent_message_is_fetched_delivered_or_undelivered() {
    for (rate, status, error) in [(1.0, "delivered", None), (0.0, "undelivered", Some(30003))] {
        let sandbox = sandbox_delivering(rate).await;
        let client = client(&sandbox);
        let created = client
            .create_message(&message(VALID_FROM, TO))
            .await
            .unwrap();
        let sid = created.sid.unwrap();
        let fetched = client
            .fetch_message(&FetchMessageRequest { sid: &sid })
            .await
            .unwrap();
        assert_eq!(fetched.sid.as_deref(), Some(sid.as_str()));
        assert_eq!(fetched.status.as_deref(), Some(status));
        assert_eq!(fetched.error_code, error);
        assert_eq!(fetched.to.as_deref(), Some(TO));

        let state = smsgate_twilio::message_status(&fetched);
        let expected = if rate > 0.5 {
            DeliveryClass::Delivered
        } else {
            DeliveryClass::Undelivered
        };
        assert_eq!(state.state, expected);
        if error.is_some() {
            assert!(
                state.detail.as_deref().unwrap().ends_with("(30003)"),
                "{state:?}"
            );
        }
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn an_unknown_sid_is_20404_and_polling_leaves_it_out() {
    let sandbox = sandbox_delivering(1.0).await;
    let client = client(&sandbox);
    let unknown = "SM00000000000000000000000000000000";
    let raw = client
        .core()
        .send_raw(&smsgate_twilio::generated::client::FetchMessage {
            body: &FetchMessageRequest { sid: unknown },
        })
        .await
        .unwrap();
    assert_eq!(raw.status, 404);
    assert_eq!(
        vendor_code(
            client
                .fetch_message(&FetchMessageRequest { sid: unknown })
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    // A malformed sid is refused before any traffic.
    assert!(matches!(
        client
            .fetch_message(&FetchMessageRequest { sid: "nope" })
            .await,
        Err(smsgate_transport::Error::InvalidRequest(_))
    ));

    let sid = client
        .create_message(&message(VALID_FROM, TO))
        .await
        .unwrap()
        .sid
        .unwrap();
    let statuses = Provider::poll_status(&client, &[unknown.to_owned(), sid.clone()])
        .await
        .unwrap();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0].message_id, sid);
    assert_eq!(statuses[0].provider, "twilio");
    assert_eq!(statuses[0].state, DeliveryClass::Delivered);
    assert_eq!(statuses[0].number.as_deref(), Some(TO));

    // The gate reconciles what Twilio accepted by fetching it.
    let gate = SmsGate::builder()
        .provider(provider(&sandbox, &smsgate_twilio::VENDOR))
        .build();
    let report = gate.send(&[Message::new(TO, "reconcile me")]).await;
    assert_eq!(report.accepted(), 1);
    let statuses = gate.reconcile(&report).await;
    let status = statuses[0].as_ref().unwrap();
    assert_eq!(status.state, DeliveryClass::Delivered);
    assert_eq!(status.vendor_status, "delivered");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_balance_is_fetched_and_sends_deduct_from_it() {
    let sandbox = Sandbox::start(SandboxConfig::default().with_balance("twilio", 12.5))
        .await
        .unwrap();
    let client = client(&sandbox);
    let balance = client
        .fetch_balance(&FetchBalanceRequest::default())
        .await
        .unwrap();
    assert_eq!(balance.balance.as_deref(), Some("12.50000"));
    assert_eq!(balance.currency.as_deref(), Some("USD"));

    // 200 GSM characters are two segments, each charged.
    let long = "x".repeat(200);
    let created = client
        .create_message(&CreateMessageRequest {
            body: &long,
            ..message(VALID_FROM, TO)
        })
        .await
        .unwrap();
    assert_eq!(created.num_segments.as_deref(), Some("2"));
    let balance = Provider::balance(&client).await.unwrap();
    assert_eq!(balance.amount, "12.49000");
    assert_eq!(balance.currency.as_deref(), Some("USD"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_empty_balance_refuses_the_send() {
    let sandbox = Sandbox::start(SandboxConfig::default().with_balance("twilio", 0.0))
        .await
        .unwrap();
    let client = client(&sandbox);
    let err = client
        .create_message(&message(VALID_FROM, TO))
        .await
        .unwrap_err();
    let code = vendor_code(err);
    assert_eq!(code.class(), ErrorClass::Account, "{code:?}");
    sandbox.shutdown().await;
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

async fn hook() -> wiremock::MockServer {
    let hook = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    hook
}

#[tokio::test]
async fn status_callbacks_are_signed_forms_the_webhook_check_accepts() {
    for (rate, final_status, final_class) in [
        (1.0, "delivered", DeliveryClass::Delivered),
        (0.0, "undelivered", DeliveryClass::Undelivered),
    ] {
        let hook = hook().await;
        // A query string is part of the signed URL.
        let push_url = format!("{}/twilio/status?tenant=7", hook.uri());
        let sandbox = Sandbox::start(SandboxConfig {
            push_url: Some(push_url.clone()),
            delivery_rate: rate,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let token = sandbox
            .config()
            .account("twilio")
            .and_then(|a| a.setting("auth_token"))
            .unwrap()
            .to_owned();
        let sid = client(&sandbox)
            .create_message(&message(VALID_FROM, TO))
            .await
            .unwrap()
            .sid
            .unwrap();
        let pushes = received(&hook, 2).await;
        assert_eq!(pushes.len(), 2, "sent, then the final status");
        let mut statuses = Vec::new();
        for push in &pushes {
            assert_eq!(push.url.path(), "/twilio/status");
            assert_eq!(push.url.query(), Some("tenant=7"));
            let content_type = push.headers.get("content-type").unwrap().to_str().unwrap();
            assert!(
                content_type.starts_with("application/x-www-form-urlencoded"),
                "{content_type}"
            );
            let header = push
                .headers
                .get(SIGNATURE_HEADER)
                .expect("every callback is signed")
                .to_str()
                .unwrap();
            let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&push.body).unwrap();
            assert!(verify_signature(&push_url, &params, &token, header));
            assert!(!verify_signature(&push_url, &params, "wrong-token", header));
            assert!(!verify_signature(
                &format!("{}/twilio/status", hook.uri()),
                &params,
                &token,
                header
            ));
            let mut tampered = params.clone();
            for (name, value) in &mut tampered {
                if name == "MessageStatus" {
                    value.push('x');
                }
            }
            assert!(!verify_signature(&push_url, &tampered, &token, header));

            let callback = smsgate_twilio::parse_status_callback(&push.body).unwrap();
            assert_eq!(callback.message_sid, sid);
            assert_eq!(callback.to.as_deref(), Some(TO));
            assert_eq!(callback.from.as_deref(), Some(VALID_FROM));
            let parsed = (smsgate_twilio::VENDOR.parse_report)(&push.body).unwrap();
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].message_id, sid);
            assert_eq!(parsed[0].vendor_status, callback.message_status);
            statuses.push(parsed.into_iter().next().unwrap());
        }
        statuses.sort_by_key(|s| s.vendor_status != "sent");
        assert_eq!(statuses[0].vendor_status, "sent");
        assert_eq!(statuses[0].state, DeliveryClass::Pending);
        assert_eq!(statuses[1].vendor_status, final_status);
        assert_eq!(statuses[1].state, final_class);
        if final_class == DeliveryClass::Undelivered {
            assert!(
                statuses[1].detail.as_deref().unwrap().ends_with("(30003)"),
                "{:?}",
                statuses[1]
            );
        } else {
            assert_eq!(statuses[1].detail, None);
        }
        let stats = sandbox.shutdown().await;
        assert_eq!(stats.delivered, 2, "{stats:?}");
    }
}

#[tokio::test]
async fn refused_messages_push_nothing() {
    let hook = hook().await;
    let sandbox = Sandbox::start(SandboxConfig {
        push_url: Some(format!("{}/twilio/status", hook.uri())),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = client(&sandbox);
    assert!(
        client
            .create_message(&message(VALID_FROM, "+15005550002"))
            .await
            .is_err()
    );
    let stats = sandbox.shutdown().await;
    assert_eq!(stats.total(), 0, "{stats:?}");
    assert!(hook.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_provider_sends_one_message_per_recipient_in_e164() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client(&sandbox);
    assert_eq!(Provider::capacity(&client).uniform_recipients, 1);
    let entry = Entry {
        reference: "00000000000000000002",
        number: "14155552345",
        content: "hello",
        sender_id: None,
    };
    // The number gets its `+`; the `from` setting fills the sender.
    let wire = Provider::dry_run(&client, &[entry], true).unwrap();
    let body = String::from_utf8(wire.body.unwrap()).unwrap();
    assert!(body.contains("To=%2B14155552345"), "{body}");
    assert!(body.contains("From=%2B15005550006"), "{body}");
    match Provider::submit(&client, &[entry], true).await {
        Submission::Answered { verdicts, .. } => {
            assert_eq!(verdicts.len(), 1);
            assert!(
                matches!(&verdicts[0], (0, EntryVerdict::Accepted(sid)) if is_message_sid(sid)),
                "{verdicts:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The per-number magic To is a vendor refusal of class number, not retry-safe.
    let barred = Entry {
        number: "15005550002",
        ..entry
    };
    match Provider::submit(&client, &[barred], true).await {
        Submission::Refused {
            reason, retry_safe, ..
        } => {
            assert_eq!(reason.code.as_deref(), Some("21612"));
            assert_eq!(reason.kind, RejectKind::Vendor(ErrorClass::Number));
            assert!(!retry_safe);
        }
        other => panic!("{other:?}"),
    }
    sandbox.shutdown().await;
}
