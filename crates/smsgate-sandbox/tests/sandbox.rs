//! The simulator against the real clients: every operation of every vendor works end to end,
//! each malformed case gets the vendor's own code, faults are injected as configured, and
//! delivery reports are pushed in each vendor's format.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::time::Duration;

use serde_json::Value;
use smsgate_itniotech::TextMessage;
use smsgate_nxcloud::sign::NxcloudHeaderBodyMd5;
use smsgate_nxcloud::{MtMessage, MultiItem};
use smsgate_sandbox::{Faults, Sandbox, SandboxConfig};
use smsgate_transport::clock::FixedClock;
use smsgate_transport::http::{HttpClient, HttpConfig};
use smsgate_transport::sign::Signer;
use smsgate_transport::spec::{DeliveryClass, ErrorClass};
use smsgate_transport::wire::WireRequest;

fn itniotech(sandbox: &Sandbox) -> smsgate_itniotech::ClientBuilder {
    let account = &sandbox.config().itniotech;
    smsgate_itniotech::Client::builder()
        .api_key(&account.api_key)
        .api_secret(account.api_secret.clone())
        .app_id(&account.app_id)
        .base_url(sandbox.url())
        .timeout(Duration::from_secs(2))
}

fn laaffic(sandbox: &Sandbox) -> smsgate_laaffic::Client {
    let account = &sandbox.config().laaffic;
    smsgate_laaffic::Client::builder()
        .api_key(&account.api_key)
        .api_secret(account.api_secret.clone())
        .app_id(&account.app_id)
        .base_url(sandbox.url())
        .build()
        .unwrap()
}

fn nxcloud(sandbox: &Sandbox) -> smsgate_nxcloud::ClientBuilder {
    let account = &sandbox.config().nxcloud;
    smsgate_nxcloud::Client::builder()
        .access_key(&account.access_key)
        .access_secret(account.access_secret.clone())
        .app_key(&account.app_key)
        .base_url(sandbox.url())
        .timeout(Duration::from_secs(2))
}

async fn raw(sandbox: &Sandbox, request: WireRequest) -> Value {
    let op = smsgate_itniotech::operations::SEND_SMS;
    let response = HttpClient::new(&HttpConfig::default())
        .unwrap()
        .execute::<()>(&op, request, 1)
        .await
        .unwrap();
    let _ = sandbox;
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

fn vendor_code<C: smsgate_transport::spec::CodeTable>(err: smsgate_transport::Error<C>) -> String {
    match err {
        smsgate_transport::Error::Vendor { code, .. } => code.code().to_owned(),
        other => panic!("expected a vendor error, got {other:?}"),
    }
}

#[tokio::test]
async fn every_onbuka_operation_end_to_end() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = itniotech(&sandbox).build().unwrap();
    let before = client
        .balance()
        .await
        .unwrap()
        .balance
        .parse::<f64>()
        .unwrap();

    let receipt = client
        .send_sms(
            &TextMessage::new(["8613800138000", "8613800138001"], "hello").order_ids(["o1", "o2"]),
        )
        .await
        .unwrap();
    assert_eq!((receipt.accepted_count, receipt.failed_count), (2, 0));
    assert_eq!(receipt.accepted[0].order_id.as_deref(), Some("o1"));
    assert_eq!(
        receipt.accepted[0].message_id.len(),
        19,
        "yyMMddHHmmss + 7 digits, like 2207201629421000001"
    );
    assert!(
        receipt.raw.success.as_deref() == Some("2"),
        "counts are strings on the wire"
    );

    let receipt = client
        .send_sms_get(&TextMessage::new(["8613800138002"], "hello world & more"))
        .await
        .unwrap();
    assert_eq!(receipt.accepted_count, 1);
    assert_eq!(receipt.accepted[0].order_id, None);
    let receipt = client
        .send_batch(&[
            TextMessage::new(["8613800138003"], "a"),
            TextMessage::new(["8613800138004", "8613800138005"], "b"),
        ])
        .await
        .unwrap();
    assert_eq!(receipt.accepted_count, 3);

    let after = client
        .balance()
        .await
        .unwrap()
        .balance
        .parse::<f64>()
        .unwrap();
    assert!(
        (before - after - 6.0 * 0.005).abs() < 1e-6,
        "six parts charged: {before} → {after}"
    );

    let ids: Vec<String> = receipt
        .accepted
        .iter()
        .map(|a| a.message_id.clone())
        .chain(["nope".to_owned()])
        .collect();
    let report = client.report(&ids).await.unwrap();
    assert_eq!(report.messages.len(), 3);
    assert_eq!(report.not_found, 1);
    assert!(report.messages.iter().all(|m| matches!(
        m.status.class(),
        DeliveryClass::Delivered | DeliveryClass::Undelivered
    )));

    let la = laaffic(&sandbox);
    assert_eq!(
        la.send_sms(&TextMessage::new(["8613800138000"], "hi"))
            .await
            .unwrap()
            .accepted_count,
        1
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_nxcloud_operation_end_to_end() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = nxcloud(&sandbox).build().unwrap();
    let receipt = client
        .send_multi(&[
            MultiItem::new("8613800138000", "hello").sys_message_id("order-0000001"),
            MultiItem::new("8613800138001", "second"),
        ])
        .await
        .unwrap();
    assert_eq!(
        receipt.results[0].message_id, "order-0000001",
        "sysMessageId honoured"
    );
    assert_eq!(receipt.results[1].message_id.len(), 32);
    assert!(
        receipt
            .results
            .iter()
            .all(|r| r.status == smsgate_nxcloud::codes::ItemStatus::Success)
    );
    let receipt = client
        .send(&MtMessage::new(["8613800138000"], "single"))
        .await
        .unwrap();
    assert_eq!(receipt.message_ids.len(), 1);
    // The curl sample's /api path is served too.
    let api = nxcloud(&sandbox)
        .multi_mt_path("/api/sms/multi/mt")
        .build()
        .unwrap();
    assert!(
        api.send_multi(&[MultiItem::new("8613800138000", "x")])
            .await
            .is_ok()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn onbuka_refusals_carry_the_vendor_codes() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // Wrong secret → -1; stale timestamp → -16.
    let wrong = itniotech(&sandbox).api_secret("wrong").build().unwrap();
    assert_eq!(
        vendor_code(
            wrong
                .send_sms(&TextMessage::new(["8613800138000"], "x"))
                .await
                .unwrap_err()
        ),
        "-1"
    );
    let stale = itniotech(&sandbox)
        .clock(FixedClock::from_secs(1_630_468_800))
        .build()
        .unwrap();
    assert_eq!(
        vendor_code(
            stale
                .send_sms(&TextMessage::new(["8613800138000"], "x"))
                .await
                .unwrap_err()
        ),
        "-16"
    );

    // Bodies the client would refuse, sent raw (the onbuka sign does not cover the body).
    let client = itniotech(&sandbox).build().unwrap();
    let app = sandbox.config().itniotech.app_id.clone();
    let send = |body: Value| {
        let mut request = client
            .prepare_send_sms(&TextMessage::new(["8613800138000"], "x"))
            .unwrap();
        request.body = Some(serde_json::to_vec(&body).unwrap());
        request
    };
    let many: Vec<String> = (0..1001).map(|i| format!("86138{i:08}")).collect();
    for (body, code) in [
        (
            serde_json::json!({"appId": app, "numbers": "8613800138000", "content": "x".repeat(1025)}),
            "-5",
        ),
        (
            serde_json::json!({"appId": app, "numbers": "8613800138000", "content": ""}),
            "-4",
        ),
        (
            serde_json::json!({"appId": app, "numbers": "", "content": "x"}),
            "-8",
        ),
        (
            serde_json::json!({"appId": app, "numbers": "+8613800138000", "content": "x"}),
            "-9",
        ),
        (
            serde_json::json!({"appId": app, "numbers": many.join(","), "content": "x"}),
            "-7",
        ),
        (
            serde_json::json!({"appId": app, "numbers": "8613800138000", "content": "x", "orderId": "1,2"}),
            "-22",
        ),
        (
            serde_json::json!({"appId": "someone-else", "numbers": "8613800138000", "content": "x"}),
            "-1",
        ),
    ] {
        let answer = raw(&sandbox, send(body.clone())).await;
        assert_eq!(answer["status"], code, "{body}");
        assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    let mut missing = client.prepare_balance().unwrap();
    missing.headers.retain(|(name, _)| name != "Sign");
    assert_eq!(raw(&sandbox, missing).await["status"], "-1");

    // Balance runs out → -10.
    let poor = Sandbox::start(SandboxConfig {
        itniotech: smsgate_sandbox::OnbukaAccount {
            balance: 0.001,
            ..SandboxConfig::default().itniotech
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = itniotech(&poor).build().unwrap();
    let err = client
        .send_sms(&TextMessage::new(["8613800138000"], "x"))
        .await
        .unwrap_err();
    assert_eq!(err.vendor_class(), Some(ErrorClass::Account));
    assert_eq!(vendor_code(err), "-10");
}

#[tokio::test]
async fn nxcloud_refusals_carry_the_vendor_codes() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let wrong = nxcloud(&sandbox).access_secret("wrong").build().unwrap();
    assert_eq!(
        vendor_code(
            wrong
                .send_multi(&[MultiItem::new("8613800138000", "x")])
                .await
                .unwrap_err()
        ),
        "1003"
    );
    let stale = nxcloud(&sandbox)
        .clock(FixedClock::from_millis(1_655_710_885_431))
        .build()
        .unwrap();
    assert_eq!(
        vendor_code(
            stale
                .send_multi(&[MultiItem::new("8613800138000", "x")])
                .await
                .unwrap_err()
        ),
        "1004"
    );

    let client = nxcloud(&sandbox).build().unwrap();
    let account = &sandbox.config().nxcloud;
    let signer =
        NxcloudHeaderBodyMd5::new(account.access_key.clone(), account.access_secret.clone());
    let app = account.app_key.clone();
    let signed = |body: Value| {
        let mut request = client
            .prepare_send_multi(&[MultiItem::new("8613800138000", "x")])
            .unwrap();
        request.body = Some(serde_json::to_vec(&body).unwrap());
        request.headers.retain(|(name, _)| name == "Content-Type");
        let now =
            smsgate_transport::clock::Clock::now_millis(&smsgate_transport::clock::SystemClock);
        signer.sign(
            &mut request,
            smsgate_nxcloud::operations::SEND_MULTI.fixed_headers,
            now,
        );
        request
    };
    let items = |n: usize| {
        (0..n)
            .map(|i| serde_json::json!({"phone": format!("86138{i:08}"), "content": "x"}))
            .collect::<Vec<_>>()
    };
    for (body, code) in [
        (
            serde_json::json!({"appKey": app, "items": [{"phone": "8613800138000", "content": "x".repeat(1001)}]}),
            13001,
        ),
        (
            serde_json::json!({"appKey": app, "items": [{"phone": "8613800138000", "content": "x", "sourceAddress": "bad address!"}]}),
            13006,
        ),
        (
            serde_json::json!({"appKey": app, "items": items(201)}),
            9000,
        ),
        (
            serde_json::json!({"appKey": app, "items": [{"phone": "8613800138000", "content": "x", "sysMessageId": "msg001"}]}),
            9000,
        ),
        (
            serde_json::json!({"appKey": "other", "items": items(1)}),
            13002,
        ),
    ] {
        assert_eq!(
            raw(&sandbox, signed(body.clone())).await["code"],
            code,
            "{body}"
        );
    }
    // A bad number fails its item only.
    let answer = raw(&sandbox, signed(serde_json::json!({"appKey": app, "items": [{"phone": "8613800138000", "content": "x"}, {"phone": "86-138", "content": "x"}]}))).await;
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["data"][0]["status"], "Success");
    assert_eq!(
        (
            answer["data"][1]["status"].as_str(),
            answer["data"][1]["message"].as_str()
        ),
        (Some("Failure"), Some("Incorrect phone number format"))
    );
    // A missing header → 1001.
    let mut missing = signed(serde_json::json!({"appKey": app, "items": items(1)}));
    missing.headers.retain(|(name, _)| name != "ts");
    assert_eq!(raw(&sandbox, missing).await["code"], 1001);

    let poor = Sandbox::start(SandboxConfig {
        nxcloud: smsgate_sandbox::NxcloudAccount {
            balance: 0.0,
            ..SandboxConfig::default().nxcloud
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let err = nxcloud(&poor)
        .build()
        .unwrap()
        .send_multi(&[MultiItem::new("8613800138000", "x")])
        .await
        .unwrap_err();
    assert_eq!(vendor_code(err), "1102");
}

#[tokio::test]
async fn faults_are_injected() {
    let config = |faults: Faults| SandboxConfig {
        faults,
        ..SandboxConfig::default()
    };
    let message = TextMessage::new(["8613800138000"], "x");

    let sandbox = Sandbox::start(config(Faults {
        http_500_rate: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let err = itniotech(&sandbox)
        .build()
        .unwrap()
        .send_sms(&message)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            smsgate_transport::Error::UnexpectedStatus { status: 500, .. }
        ),
        "{err:?}"
    );

    let sandbox = Sandbox::start(config(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let err = itniotech(&sandbox)
        .build()
        .unwrap()
        .send_sms(&message)
        .await
        .unwrap_err();
    assert!(
        matches!(err, smsgate_transport::Error::Undecodable { .. }),
        "{err:?}"
    );

    let sandbox = Sandbox::start(config(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let err = itniotech(&sandbox)
        .build()
        .unwrap()
        .send_sms(&message)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            smsgate_transport::Error::Transport {
                may_have_reached_vendor: true,
                ..
            }
        ),
        "{err:?}"
    );

    let sandbox = Sandbox::start(config(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    }))
    .await
    .unwrap();
    let err = itniotech(&sandbox)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap()
        .send_sms(&message)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            smsgate_transport::Error::Transport {
                failure: smsgate_transport::error::TransportFailure::Timeout,
                ..
            }
        ),
        "{err:?}"
    );

    let sandbox = Sandbox::start(config(Faults {
        rate_limit_per_second: Some(1),
        ..Faults::default()
    }))
    .await
    .unwrap();
    let client = itniotech(&sandbox).build().unwrap();
    assert!(client.send_sms(&message).await.is_ok());
    assert_eq!(
        vendor_code(client.send_sms(&message).await.unwrap_err()),
        "-15"
    );
    let nx = nxcloud(&sandbox).build().unwrap();
    assert!(
        nx.send_multi(&[MultiItem::new("8613800138000", "x")])
            .await
            .is_ok()
    );
    assert_eq!(
        vendor_code(
            nx.send_multi(&[MultiItem::new("8613800138000", "x")])
                .await
                .unwrap_err()
        ),
        "13008"
    );

    // Per-number rejections, repeatable from the seed.
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sandbox = Sandbox::start(config(Faults {
            reject_rate: 0.5,
            ..Faults::default()
        }))
        .await
        .unwrap();
        let numbers: Vec<String> = (0..40).map(|i| format!("86138{i:08}")).collect();
        let receipt = itniotech(&sandbox)
            .build()
            .unwrap()
            .send_sms(&TextMessage::new(numbers, "x"))
            .await
            .unwrap();
        assert!(receipt.failed_count > 0 && receipt.accepted_count > 0);
        runs.push(
            receipt
                .accepted
                .iter()
                .map(|a| a.number.clone())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(runs[0], runs[1], "same seed, same rejections");
}

#[tokio::test]
async fn delivery_reports_are_pushed_in_each_vendor_format() {
    let hook = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("success"))
        .mount(&hook)
        .await;
    let sandbox = Sandbox::start(SandboxConfig {
        push_url: Some(format!("{}/dr", hook.uri())),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    itniotech(&sandbox)
        .build()
        .unwrap()
        .send_sms(&TextMessage::new(["8613800138000"], "x").order_ids(["o1"]))
        .await
        .unwrap();
    nxcloud(&sandbox)
        .build()
        .unwrap()
        .send_multi(&[MultiItem::new("8613800138001", "x").sys_message_id("order-0000009")])
        .await
        .unwrap();
    let mut received = Vec::new();
    for _ in 0..50 {
        received = hook.received_requests().await.unwrap();
        if received.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(received.len(), 2);
    let json = received
        .iter()
        .find(|r| {
            r.headers
                .get("content-type")
                .is_some_and(|v| v.to_str().unwrap().starts_with("application/json"))
        })
        .unwrap();
    let push = smsgate_itniotech::parse_delivery_report(&json.body).unwrap();
    assert_eq!(
        (push.mobile.as_str(), push.order_id.as_deref()),
        ("8613800138000", Some("o1"))
    );
    let form = received
        .iter()
        .find(|r| {
            r.headers.get("content-type").is_some_and(|v| {
                v.to_str()
                    .unwrap()
                    .starts_with("application/x-www-form-urlencoded")
            })
        })
        .unwrap();
    let push = smsgate_nxcloud::parse_delivery_report(&form.body).unwrap();
    assert!(
        push.messageid.starts_with("order-0000009-"),
        "{}",
        push.messageid
    );
}

#[tokio::test]
async fn the_gate_runs_on_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gate = smsgate::SmsGate::builder()
        .provider(nxcloud(&sandbox).build().unwrap())
        .provider(itniotech(&sandbox).build().unwrap())
        .build();
    let messages: Vec<smsgate::Message> = (0..250)
        .map(|i| smsgate::Message::new(format!("+86 138{i:08}"), format!("text {}", i % 4)))
        .collect();
    let report = gate.send(&messages).await;
    assert_eq!(report.accepted(), 250);
    let statuses = gate.reconcile(&report).await;
    assert!(
        statuses.iter().all(Option::is_none),
        "nxcloud took them all; it only pushes reports"
    );
}
