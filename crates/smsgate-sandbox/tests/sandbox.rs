//! The simulator against the generated clients: every operation of every vendor works end to
//! end, each malformed case gets the vendor's own code, faults are injected as configured, and
//! delivery reports are pushed in each vendor's format.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::time::Duration;

use serde_json::Value;
use smsgate_itniotech::generated::client::Credentials as ItniotechCredentials;
use smsgate_laaffic::generated::client::Credentials as LaafficCredentials;
use smsgate_nxcloud::generated::bodies::{MtRequest, MultiMtItem, MultiMtRequest};
use smsgate_nxcloud::generated::client::Credentials as NxcloudCredentials;
use smsgate_onbuka::bodies::{
    BatchMessage, GetBalanceRequest, GetReportRequest, SendBatchRequest, SendSmsRequest,
};
use smsgate_sandbox::{Faults, Sandbox, SandboxConfig};
use smsgate_transport::clock::FixedClock;
use smsgate_transport::endpoint::{Joined, StrList};
use smsgate_transport::http::{HttpClient, HttpConfig};
use smsgate_transport::sign::Signer;
use smsgate_transport::spec::{DeliveryClass, ErrorClass};
use smsgate_transport::wire::WireRequest;

fn itniotech(sandbox: &Sandbox) -> smsgate_transport::client::ClientBuilder<ItniotechCredentials> {
    sandbox
        .client_builder::<ItniotechCredentials>()
        .timeout(Duration::from_secs(2))
}

fn laaffic(sandbox: &Sandbox) -> smsgate_laaffic::generated::client::Client {
    sandbox
        .client_builder::<LaafficCredentials>()
        .build()
        .unwrap()
}

fn nxcloud(sandbox: &Sandbox) -> smsgate_transport::client::ClientBuilder<NxcloudCredentials> {
    sandbox
        .client_builder::<NxcloudCredentials>()
        .timeout(Duration::from_secs(2))
}

/// One text to `numbers`.
fn sms<'a>(numbers: &'a dyn StrList, content: &'a str) -> SendSmsRequest<'a> {
    SendSmsRequest {
        numbers: Joined::commas(numbers),
        content,
        ..Default::default()
    }
}

/// One nxcloud batch item.
fn item<'a>(phone: &'a str, content: &'a str) -> MultiMtItem<'a> {
    MultiMtItem {
        phone,
        content,
        ..Default::default()
    }
}

/// An nxcloud batch of `items`.
fn multi<'a>(items: &'a [MultiMtItem<'a>]) -> MultiMtRequest<'a> {
    MultiMtRequest {
        items,
        ..Default::default()
    }
}

fn count(value: Option<&String>) -> u32 {
    value.unwrap().parse().unwrap()
}

async fn raw(sandbox: &Sandbox, request: WireRequest) -> Value {
    let op = smsgate_itniotech::generated::operations::SEND_SMS;
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
    let balance = || async {
        let answer = client
            .get_balance(&GetBalanceRequest::default())
            .await
            .unwrap();
        answer.balance.unwrap().parse::<f64>().unwrap()
    };
    let before = balance().await;

    let numbers = ["8613800138000", "8613800138001"];
    let orders = ["o1", "o2"];
    let answer = client
        .send_sms(&SendSmsRequest {
            order_id: Some(Joined::commas(&orders)),
            ..sms(&numbers, "hello")
        })
        .await
        .unwrap();
    assert_eq!(
        (count(answer.success.as_ref()), count(answer.fail.as_ref())),
        (2, 0),
        "counts are strings on the wire"
    );
    assert_eq!(answer.array[0].order_id.as_deref(), Some("o1"));
    assert_eq!(
        answer.array[0].msg_id.len(),
        19,
        "yyMMddHHmmss + 7 digits, like 2207201629421000001"
    );

    let answer = client
        .send_sms_get(&sms(&["8613800138002"], "hello world & more"))
        .await
        .unwrap();
    assert_eq!(count(answer.success.as_ref()), 1);
    assert_eq!(answer.array[0].order_id, None);
    let second = ["8613800138004", "8613800138005"];
    let batch = [
        BatchMessage {
            numbers: Joined::commas(&["8613800138003"]),
            content: "a",
            ..Default::default()
        },
        BatchMessage {
            numbers: Joined::commas(&second),
            content: "b",
            ..Default::default()
        },
    ];
    let answer = client
        .send_batch(&SendBatchRequest {
            array: &batch,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(count(answer.success.as_ref()), 3);

    let after = balance().await;
    assert!(
        (before - after - 6.0 * 0.005).abs() < 1e-6,
        "six parts charged: {before} → {after}"
    );

    let ids: Vec<String> = answer
        .array
        .iter()
        .map(|a| a.msg_id.clone())
        .chain(["nope".to_owned()])
        .collect();
    let report = client
        .get_report(&GetReportRequest {
            msg_ids: Joined::commas(&ids),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(report.array.len(), 3);
    assert_eq!(count(report.nofound.as_ref()), 1);
    assert!(report.array.iter().all(|m| matches!(
        smsgate_itniotech::generated::codes::ReportStatus::from_code(&m.status).class(),
        DeliveryClass::Delivered | DeliveryClass::Undelivered
    )));

    let la = laaffic(&sandbox);
    let answer = la.send_sms(&sms(&["8613800138000"], "hi")).await.unwrap();
    assert_eq!(count(answer.success.as_ref()), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_nxcloud_operation_end_to_end() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = nxcloud(&sandbox).build().unwrap();
    let items = [
        MultiMtItem {
            sys_message_id: Some("order-0000001"),
            ..item("8613800138000", "hello")
        },
        item("8613800138001", "second"),
    ];
    let answer = client.send_multi(&multi(&items)).await.unwrap();
    let results = answer.data.unwrap();
    assert_eq!(
        results[0].messageid, "order-0000001",
        "sysMessageId honoured"
    );
    assert_eq!(results[1].messageid.len(), 32);
    assert!(results.iter().all(|r| r.status == "Success"));
    let answer = client
        .send(&MtRequest {
            phone: Joined::commas(&["8613800138000"]),
            content: "single",
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(answer.data.unwrap().as_array().unwrap().len(), 1);
    // The curl sample's /api path is served too.
    let api = nxcloud(&sandbox)
        .setting("multi_mt_path", "/api/sms/multi/mt")
        .build()
        .unwrap();
    assert!(
        api.send_multi(&multi(&[item("8613800138000", "x")]))
            .await
            .is_ok()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn onbuka_refusals_carry_the_vendor_codes() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // Wrong secret → -1; stale timestamp → -16.
    let wrong = itniotech(&sandbox)
        .setting("api_secret", "wrong")
        .build()
        .unwrap();
    let err = wrong
        .send_sms(&sms(&["8613800138000"], "x"))
        .await
        .unwrap_err();
    assert_eq!(vendor_code(err), "-1");
    let stale = itniotech(&sandbox)
        .clock(FixedClock::from_secs(1_630_468_800))
        .build()
        .unwrap();
    let err = stale
        .send_sms(&sms(&["8613800138000"], "x"))
        .await
        .unwrap_err();
    assert_eq!(vendor_code(err), "-16");

    // Bodies the client would refuse, sent raw (the onbuka sign does not cover the body).
    let client = itniotech(&sandbox).build().unwrap();
    let app = sandbox
        .config()
        .account("itniotech")
        .unwrap()
        .setting("app_id")
        .unwrap()
        .to_owned();
    let send = |body: Value| {
        let mut request = client
            .prepare_send_sms(&sms(&["8613800138000"], "x"))
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
    let mut missing = client
        .prepare_get_balance(&GetBalanceRequest::default())
        .unwrap();
    missing.headers.retain(|(name, _)| name != "Sign");
    assert_eq!(raw(&sandbox, missing).await["status"], "-1");

    // Balance runs out → -10.
    let poor = Sandbox::start(SandboxConfig::default().with_balance("itniotech", 0.001))
        .await
        .unwrap();
    let client = itniotech(&poor).build().unwrap();
    let err = client
        .send_sms(&sms(&["8613800138000"], "x"))
        .await
        .unwrap_err();
    assert_eq!(err.vendor_class(), Some(ErrorClass::Account));
    assert_eq!(vendor_code(err), "-10");
}

#[tokio::test]
async fn nxcloud_refusals_carry_the_vendor_codes() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let one = [item("8613800138000", "x")];
    let wrong = nxcloud(&sandbox)
        .setting("access_secret", "wrong")
        .build()
        .unwrap();
    assert_eq!(
        vendor_code(wrong.send_multi(&multi(&one)).await.unwrap_err()),
        "1003"
    );
    let stale = nxcloud(&sandbox)
        .clock(FixedClock::from_millis(1_655_710_885_431))
        .build()
        .unwrap();
    assert_eq!(
        vendor_code(stale.send_multi(&multi(&one)).await.unwrap_err()),
        "1004"
    );

    let client = nxcloud(&sandbox).build().unwrap();
    let app = client.credentials().app_key.clone();
    let signed = |body: Value| {
        let mut request = client.prepare_send_multi(&multi(&one)).unwrap();
        request.body = Some(serde_json::to_vec(&body).unwrap());
        request.headers.retain(|(name, _)| name == "Content-Type");
        let now =
            smsgate_transport::clock::Clock::now_millis(&smsgate_transport::clock::SystemClock);
        client.core().signer().sign(
            &mut request,
            smsgate_nxcloud::generated::operations::SEND_MULTI.fixed_headers,
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

    let poor = Sandbox::start(SandboxConfig::default().with_balance("nxcloud", 0.0))
        .await
        .unwrap();
    let err = nxcloud(&poor)
        .build()
        .unwrap()
        .send_multi(&multi(&one))
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
    let message = sms(&["8613800138000"], "x");

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
    let one = [item("8613800138000", "x")];
    assert!(nx.send_multi(&multi(&one)).await.is_ok());
    assert_eq!(
        vendor_code(nx.send_multi(&multi(&one)).await.unwrap_err()),
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
        let answer = itniotech(&sandbox)
            .build()
            .unwrap()
            .send_sms(&sms(&numbers, "x"))
            .await
            .unwrap();
        assert!(count(answer.fail.as_ref()) > 0 && count(answer.success.as_ref()) > 0);
        runs.push(
            answer
                .array
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
        .send_sms(&SendSmsRequest {
            order_id: Some(Joined::commas(&["o1"])),
            ..sms(&["8613800138000"], "x")
        })
        .await
        .unwrap();
    let items = [MultiMtItem {
        sys_message_id: Some("order-0000009"),
        ..item("8613800138001", "x")
    }];
    nxcloud(&sandbox)
        .build()
        .unwrap()
        .send_multi(&multi(&items))
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
    let content_type = |r: &&wiremock::Request, prefix: &str| {
        r.headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with(prefix))
    };
    let json = received
        .iter()
        .find(|r| content_type(r, "application/json"))
        .unwrap();
    let push: smsgate_itniotech::generated::models::DeliveryReportPush =
        serde_json::from_slice(&json.body).unwrap();
    assert_eq!(
        (push.mobile.as_str(), push.order_id.as_deref()),
        ("8613800138000", Some("o1"))
    );
    let form = received
        .iter()
        .find(|r| content_type(r, "application/x-www-form-urlencoded"))
        .unwrap();
    let push: smsgate_nxcloud::generated::models::DeliveryReport =
        serde_urlencoded::from_bytes(&form.body).unwrap();
    assert!(
        push.messageid.starts_with("order-0000009-"),
        "{}",
        push.messageid
    );
}

/// The registry's provider of `vendor`, against the sandbox.
fn provider(
    sandbox: &Sandbox,
    vendor: &'static smsgate::registry::Vendor,
) -> std::sync::Arc<dyn smsgate::Provider> {
    let mut settings = smsgate::registry::Settings::new(vendor);
    for (key, value) in sandbox.settings(vendor.name) {
        settings.set(key, value).unwrap();
    }
    vendor
        .provider(&settings.with_base_url(sandbox.url()).unwrap())
        .unwrap()
}

#[tokio::test]
async fn the_gate_runs_on_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let gate = smsgate::SmsGate::builder()
        .provider(provider(&sandbox, &smsgate_nxcloud::VENDOR))
        .provider(provider(&sandbox, &smsgate_itniotech::VENDOR))
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
