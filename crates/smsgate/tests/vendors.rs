//! The gate over the real vendor clients against local mock servers (wiremock): mixed batches
//! over two vendors, partial acceptance, the unknown cases never resent, failover, throttle
//! back-off, chunk boundaries and delivery-status reconciliation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::time::Duration;

use serde_json::{Value, json};
use smsgate::{DeliveryClass, ErrorClass, Message, Outcome, RejectKind, SmsGate};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers an itniotech send by accepting every number, echoing its orderId.
struct AcceptAllOnbuka;

impl Respond for AcceptAllOnbuka {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let items: Vec<Value> = match body.get("array") {
            Some(array) => array.as_array().unwrap().clone(),
            None => vec![body.clone()],
        };
        let mut accepted = Vec::new();
        for item in items {
            let numbers: Vec<&str> = item["numbers"].as_str().unwrap().split(',').collect();
            let orders: Vec<&str> = item["orderId"].as_str().unwrap().split(',').collect();
            for (number, order) in numbers.iter().zip(orders) {
                accepted.push(
                    json!({"msgId": format!("it-{order}"), "number": number, "orderId": order}),
                );
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({"status":"0","reason":"success","success": accepted.len().to_string(),"fail":"0","array": accepted}))
    }
}

/// Answers an nxcloud multi/mt by accepting every item, echoing its sysMessageId.
struct AcceptAllNxcloud;

impl Respond for AcceptAllNxcloud {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let data: Vec<Value> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| json!({"phone": item["phone"], "messageid": item["sysMessageId"], "status": "Success"}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"code":0,"message":"Success","data":data}))
    }
}

fn itniotech(server: &MockServer) -> smsgate::itniotech::Client {
    smsgate::itniotech::Client::builder()
        .api_key("k")
        .api_secret("s")
        .app_id("a")
        .base_url(server.uri())
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap()
}

fn nxcloud(server: &MockServer) -> smsgate::nxcloud::Client {
    smsgate::nxcloud::Client::builder()
        .access_key("k")
        .access_secret("s")
        .app_key("a")
        .base_url(server.uri())
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap()
}

fn mixed(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| Message::new(format!("+86 138{i:08}"), format!("text {}", i % 3)))
        .collect()
}

#[tokio::test]
async fn mixed_batch_fails_over_from_nxcloud_to_itniotech() {
    let nx = MockServer::start().await;
    let it = MockServer::start().await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code":1102,"message":"Insufficient balance","data":null})),
        )
        .expect(1)
        .mount(&nx)
        .await;
    Mock::given(method("POST"))
        .and(path("/sms/sendSms/batch"))
        .respond_with(AcceptAllOnbuka)
        .expect(1)
        .mount(&it)
        .await;
    let gate = SmsGate::builder()
        .provider(nxcloud(&nx))
        .provider(itniotech(&it))
        .build();
    let report = gate.send(&mixed(9)).await;
    assert_eq!(report.accepted(), 9);
    for d in &report.deliveries {
        let Outcome::Accepted {
            provider,
            message_id,
        } = &d.outcome
        else {
            panic!("{d:?}")
        };
        assert_eq!(provider, "itniotech");
        assert_eq!(message_id, &format!("it-{}", d.reference.as_ref().unwrap()));
        assert_eq!(d.tried, ["nxcloud", "itniotech"]);
    }
}

#[tokio::test]
async fn mixed_batch_over_two_vendors_by_capacity() {
    // A 1001-character text fits itniotech (1024) but not nxcloud (1000).
    let nx = MockServer::start().await;
    let it = MockServer::start().await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(AcceptAllNxcloud)
        .expect(1)
        .mount(&nx)
        .await;
    Mock::given(path("/sms/sendSms"))
        .respond_with(AcceptAllOnbuka)
        .expect(1)
        .mount(&it)
        .await;
    let gate = SmsGate::builder()
        .provider(nxcloud(&nx))
        .provider(itniotech(&it))
        .build();
    let mut input = mixed(4);
    input.push(Message::new("+8613899999999", "y".repeat(1001)));
    let report = gate.send(&input).await;
    let providers: Vec<&str> = report
        .deliveries
        .iter()
        .map(|d| match &d.outcome {
            Outcome::Accepted { provider, .. } => provider.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        providers,
        ["nxcloud", "nxcloud", "nxcloud", "nxcloud", "itniotech"]
    );
}

#[tokio::test]
async fn partial_acceptance_is_per_number() {
    let it = MockServer::start().await;
    let gate_numbers = ["8613800000001", "8613800000002", "8613800000003"];
    // Accept only the first number (echo its orderId from the request).
    struct FirstOnly;
    impl Respond for FirstOnly {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let order = body["orderId"]
                .as_str()
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({"status":"0","reason":"success","success":"1","fail":"2","array":[{"msgId":"m1","number":"8613800000001","orderId":order}]}))
        }
    }
    Mock::given(path("/sms/sendSms"))
        .respond_with(FirstOnly)
        .expect(1)
        .mount(&it)
        .await;
    let gate = SmsGate::builder().provider(itniotech(&it)).build();
    let report = gate
        .send(&gate_numbers.map(|n| Message::new(n, "same")))
        .await;
    assert!(
        matches!(&report.deliveries[0].outcome, Outcome::Accepted { message_id, .. } if message_id == "m1")
    );
    for d in &report.deliveries[1..] {
        assert!(
            matches!(&d.outcome, Outcome::Rejected { provider: Some(p), retry_safe: false, reason } if p == "itniotech" && reason.kind == RejectKind::Vendor(ErrorClass::Number)),
            "{d:?}"
        );
    }
}

#[tokio::test]
async fn an_answer_without_order_ids_is_matched_by_number() {
    let it = MockServer::start().await;
    // The platform lists accepted numbers, in another order, and leaves orderId out (null or
    // absent); one number (…02) it does not list: refused, since its counts agree.
    Mock::given(path("/sms/sendSms"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status":"0","reason":"success","success":"2","fail":"1","array":[
                {"msgId":"m3","number":"8613800000003","orderId":null},
                {"msgId":"m1","number":"8613800000001"}
            ]}),
        ))
        .expect(1)
        .mount(&it)
        .await;
    let gate = SmsGate::builder().provider(itniotech(&it)).build();
    let input =
        ["+86 138 0000 0001", "8613800000002", "+8613800000003"].map(|n| Message::new(n, "same"));
    let report = gate.send(&input).await;
    let ids: Vec<Option<&str>> = report
        .deliveries
        .iter()
        .map(|d| match &d.outcome {
            Outcome::Accepted { message_id, .. } => Some(message_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [Some("m1"), None, Some("m3")]);
    assert!(
        report.deliveries[1].outcome.is_rejected(),
        "{:?}",
        report.deliveries[1]
    );
}

#[tokio::test]
async fn partial_failure_items_of_nxcloud() {
    struct SecondFails;
    impl Respond for SecondFails {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let items = body["items"].as_array().unwrap();
            ResponseTemplate::new(200).set_body_json(json!({"code":0,"message":"Success","data":[
                {"phone": items[0]["phone"], "messageid": items[0]["sysMessageId"], "status": "Success"},
                {"phone": items[1]["phone"], "messageid": items[1]["sysMessageId"], "status": "Failure", "message": "Incorrect phone number format"}]}))
        }
    }
    let nx = MockServer::start().await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(SecondFails)
        .expect(1)
        .mount(&nx)
        .await;
    let report = SmsGate::builder()
        .provider(nxcloud(&nx))
        .build()
        .send(&mixed(3))
        .await;
    assert!(report.deliveries[0].outcome.is_accepted());
    assert!(
        matches!(&report.deliveries[1].outcome, Outcome::Rejected { reason, .. } if reason.text == "Incorrect phone number format")
    );
    assert!(
        report.deliveries[2].outcome.is_unknown(),
        "an item the answer does not list stays unknown"
    );
}

#[tokio::test]
async fn unknown_cases_are_never_resent() {
    for (template, what) in [
        (
            ResponseTemplate::new(500).set_body_string("oops"),
            "HTTP 500",
        ),
        (
            ResponseTemplate::new(200).set_body_string("<html>garbage</html>"),
            "garbage body",
        ),
        (
            ResponseTemplate::new(200).set_body_string("{\"status\":\"0\",\"reason\":\"succ"),
            "truncated body",
        ),
        (
            ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
            "timeout after the request was written",
        ),
    ] {
        let it = MockServer::start().await;
        let nx = MockServer::start().await;
        Mock::given(path("/sms/sendSms"))
            .respond_with(template)
            .expect(1)
            .mount(&it)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(AcceptAllNxcloud)
            .expect(0)
            .mount(&nx)
            .await;
        let gate = SmsGate::builder()
            .provider(itniotech(&it))
            .provider(nxcloud(&nx))
            .build();
        let report = gate
            .send(
                &(0..3)
                    .map(|i| Message::new(format!("86138000000{i:02}"), "same"))
                    .collect::<Vec<_>>(),
            )
            .await;
        assert_eq!(report.unknown(), 3, "{what}");
        assert!(
            report.deliveries.iter().all(|d| d.tried == ["itniotech"]),
            "{what}"
        );
    }
}

#[tokio::test]
async fn connection_refused_fails_over() {
    let nx = MockServer::start().await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(AcceptAllNxcloud)
        .expect(1)
        .mount(&nx)
        .await;
    let dead = smsgate::itniotech::Client::builder()
        .api_key("k")
        .api_secret("s")
        .app_id("a")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let report = SmsGate::builder()
        .provider(dead)
        .provider(nxcloud(&nx))
        .build()
        .send(&mixed(2))
        .await;
    assert!(report.deliveries.iter().all(
        |d| matches!(&d.outcome, Outcome::Accepted { provider, .. } if provider == "nxcloud")
    ));
}

#[tokio::test]
async fn nxcloud_throttle_backs_off_and_retries_the_same_request() {
    let nx = MockServer::start().await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code":13008,"message":"TPS limit exceeded","data":null})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&nx)
        .await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(AcceptAllNxcloud)
        .expect(1)
        .mount(&nx)
        .await;
    let gate = SmsGate::builder()
        .provider(nxcloud(&nx))
        .throttle_retries(2, Duration::from_millis(30))
        .build();
    let report = gate.send(&mixed(3)).await;
    assert_eq!(report.accepted(), 3);
    assert!(
        report
            .deliveries
            .iter()
            .all(|d| d.tried == ["nxcloud", "nxcloud"])
    );
    let requests = nx.received_requests().await.unwrap();
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same request, same references"
    );
}

#[tokio::test]
async fn chunk_boundaries_on_the_wire() {
    for (n, requests) in [(999usize, 1u64), (1000, 1), (1001, 2)] {
        let it = MockServer::start().await;
        Mock::given(path("/sms/sendSms"))
            .respond_with(AcceptAllOnbuka)
            .expect(requests)
            .mount(&it)
            .await;
        let input: Vec<Message> = (0..n)
            .map(|i| Message::new(format!("86138{i:08}"), "same"))
            .collect();
        let report = SmsGate::builder()
            .provider(itniotech(&it))
            .build()
            .send(&input)
            .await;
        assert_eq!(report.accepted(), n);
    }
    for (n, requests) in [(200usize, 1u64), (201, 2)] {
        let nx = MockServer::start().await;
        Mock::given(path("/v1/sms/multi/mt"))
            .respond_with(AcceptAllNxcloud)
            .expect(requests)
            .mount(&nx)
            .await;
        let report = SmsGate::builder()
            .provider(nxcloud(&nx))
            .build()
            .send(&mixed(n))
            .await;
        assert_eq!(report.accepted(), n);
    }
}

#[tokio::test]
async fn reconcile_polls_where_the_vendor_allows() {
    let it = MockServer::start().await;
    let nx = MockServer::start().await;
    Mock::given(path("/sms/sendSms"))
        .respond_with(AcceptAllOnbuka)
        .mount(&it)
        .await;
    Mock::given(path("/v1/sms/multi/mt"))
        .respond_with(AcceptAllNxcloud)
        .mount(&nx)
        .await;
    struct Report;
    impl Respond for Report {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let ids = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "msgIds")
                .unwrap()
                .1
                .into_owned();
            let array: Vec<Value> = ids.split(',').enumerate().map(|(i, id)| json!({"msgId": id, "number": "x", "status": if i == 0 { "0" } else { "1" }})).collect();
            ResponseTemplate::new(200).set_body_json(
                json!({"status":"0","reason":"success","success":"1","fail":"1","array":array}),
            )
        }
    }
    Mock::given(path("/sms/getReport"))
        .respond_with(Report)
        .expect(1)
        .mount(&it)
        .await;
    let itniotech_gate = SmsGate::builder()
        .provider(itniotech(&it))
        .provider(nxcloud(&nx))
        .build();
    let report = itniotech_gate
        .send(
            &(0..2)
                .map(|i| Message::new(format!("86138000000{i:02}"), "same"))
                .collect::<Vec<_>>(),
        )
        .await;
    let statuses = itniotech_gate.reconcile(&report).await;
    assert_eq!(
        statuses[0].as_ref().unwrap().state,
        DeliveryClass::Delivered
    );
    assert_eq!(
        statuses[1].as_ref().unwrap().state,
        DeliveryClass::Undelivered
    );

    let nx_gate = SmsGate::builder().provider(nxcloud(&nx)).build();
    let report = nx_gate.send(&mixed(1)).await;
    assert_eq!(
        nx_gate.reconcile(&report).await,
        [None],
        "nxcloud only pushes delivery reports"
    );
}
