//! Vendor clients against a local mock server (wiremock): success, partial success, every
//! error-code class, HTTP 500, timeout, connection refused, truncated and non-JSON bodies, and
//! client-side validation that sends nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::time::Duration;

use serde_json::json;
use smsgate_itniotech::codes::{ReportStatus, StatusCode};
use smsgate_itniotech::{Error, TextMessage};
use smsgate_nxcloud::codes::{ItemStatus, ResponseCode};
use smsgate_nxcloud::{MtMessage, MultiItem};
use smsgate_transport::ValidationKind;
use smsgate_transport::error::TransportFailure;
use smsgate_transport::spec::{DeliveryClass, ErrorClass};
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "s3cr3t-api-secret";
const NX_SECRET: &str = "s3cr3t-access-secret";

fn itniotech(server: &MockServer) -> smsgate_itniotech::Client {
    smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url(server.uri())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn nxcloud(server: &MockServer) -> smsgate_nxcloud::Client {
    smsgate_nxcloud::Client::builder()
        .access_key("key")
        .access_secret(NX_SECRET)
        .app_key("app")
        .base_url(server.uri())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

async fn answer(server: &MockServer, http_path: &str, template: ResponseTemplate) {
    Mock::given(path(http_path))
        .respond_with(template)
        .expect(1)
        .mount(server)
        .await;
}

fn two_numbers() -> TextMessage {
    TextMessage::new(["8613800138000", "8613800138001"], "hello").order_ids(["a1", "a2"])
}

#[tokio::test]
async fn itniotech_success_and_partial_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms/sendSms"))
        .and(header_exists("Sign"))
        .and(header("Api-Key", "key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "0", "reason": "success", "success": "1", "fail": "1",
            "array": [{"msgId": "2207201629421000001", "number": "8613800138000", "orderId": "a1"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let receipt = itniotech(&server).send_sms(&two_numbers()).await.unwrap();
    assert_eq!((receipt.accepted_count, receipt.failed_count), (1, 1));
    assert_eq!(receipt.accepted.len(), 1);
    assert_eq!(receipt.accepted[0].message_id, "2207201629421000001");
    assert_eq!(receipt.accepted[0].order_id.as_deref(), Some("a1"));
}

#[tokio::test]
async fn itniotech_null_order_ids_and_get_and_batch_paths() {
    let server = MockServer::start().await;
    let body = json!({"status": "0", "reason": "success", "success": "2", "fail": "0", "array": [
        {"msgId": "1", "number": "8613800138000", "orderId": null},
        {"msgId": "2", "number": "8613800138001"}]});
    Mock::given(method("GET"))
        .and(path("/sms/sendSms"))
        .and(query_param("content", "hi there"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sms/sendSms/batch"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let client = itniotech(&server);
    let receipt = client
        .send_sms_get(&TextMessage::new(
            ["8613800138000", "8613800138001"],
            "hi there",
        ))
        .await
        .unwrap();
    assert_eq!(
        receipt
            .accepted
            .iter()
            .map(|a| a.order_id.clone())
            .collect::<Vec<_>>(),
        [None, None]
    );
    let receipt = client
        .send_batch(&[
            TextMessage::new(["8613800138000"], "a"),
            TextMessage::new(["8613800138001"], "b"),
        ])
        .await
        .unwrap();
    assert_eq!(receipt.accepted_count, 2);
}

#[tokio::test]
async fn itniotech_every_error_class() {
    let cases = [
        ("-1", StatusCode::AuthenticationError, ErrorClass::Auth),
        ("-2", StatusCode::IpRestricted, ErrorClass::Auth),
        ("-3", StatusCode::SensitiveContent, ErrorClass::Content),
        ("-9", StatusCode::InvalidNumber, ErrorClass::Number),
        ("-10", StatusCode::InsufficientBalance, ErrorClass::Account),
        ("-15", StatusCode::QueriedTooOften, ErrorClass::RateLimit),
        ("-16", StatusCode::TimestampExpired, ErrorClass::Auth),
        ("-18", StatusCode::PortProgramError, ErrorClass::VendorFault),
        (
            "-22",
            StatusCode::ParameterError,
            ErrorClass::InvalidRequest,
        ),
        (
            "-77",
            StatusCode::Unknown("-77".into()),
            ErrorClass::Unspecified,
        ),
    ];
    for (code, expected, class) in cases {
        let server = MockServer::start().await;
        // Error answers carry no array, counts or msgIds.
        answer(
            &server,
            "/sms/sendSms",
            ResponseTemplate::new(200).set_body_json(json!({"status": code, "reason": "nope"})),
        )
        .await;
        let err = itniotech(&server)
            .send_sms(&two_numbers())
            .await
            .unwrap_err();
        let Error::Vendor {
            code: got, reason, ..
        } = &err
        else {
            panic!("{code}: {err:?}")
        };
        assert_eq!((got, reason.as_str()), (&expected, "nope"));
        assert_eq!(err.vendor_class(), Some(class), "{code}");
        assert!(err.may_have_reached_vendor());
        assert!(!err.to_string().contains(SECRET));
    }
}

#[tokio::test]
async fn itniotech_http_and_body_failures() {
    let server = MockServer::start().await;
    answer(
        &server,
        "/sms/sendSms",
        ResponseTemplate::new(500).set_body_string("internal error"),
    )
    .await;
    let err = itniotech(&server)
        .send_sms(&two_numbers())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedStatus { status: 500, body_excerpt, .. } if body_excerpt == "internal error"),
        "{err:?}"
    );
    assert!(err.may_have_reached_vendor());

    for (body, what) in [
        (&b"{\"status\":\"0\",\"reason\":\"succ"[..], "truncated"),
        (&b"<html>502 Bad Gateway</html>"[..], "not JSON"),
        (
            &b"{\"status\":\"0\",\"reason\":\"success\",\"success\":\"two\",\"array\":[]}"[..],
            "count not a number",
        ),
        (
            &b"{\"status\":0,\"reason\":\"success\"}"[..],
            "status not a string",
        ),
    ] {
        let server = MockServer::start().await;
        answer(
            &server,
            "/sms/sendSms",
            ResponseTemplate::new(200).set_body_bytes(body.to_vec()),
        )
        .await;
        let err = itniotech(&server)
            .send_sms(&two_numbers())
            .await
            .unwrap_err();
        let Error::Undecodable { raw, status, .. } = &err else {
            panic!("{what}: {err:?}")
        };
        assert_eq!((&raw[..], *status), (body, 200), "{what}: raw bytes kept");
    }
}

#[tokio::test]
async fn itniotech_timeout_and_refused_connection() {
    let server = MockServer::start().await;
    answer(
        &server,
        "/sms/sendSms",
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
    )
    .await;
    let err = itniotech(&server)
        .send_sms(&two_numbers())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                failure: TransportFailure::Timeout,
                may_have_reached_vendor: true,
                ..
            }
        ),
        "{err:?}"
    );

    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = client.send_sms(&two_numbers()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                failure: TransportFailure::Connect,
                may_have_reached_vendor: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn itniotech_balance_and_report() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sms/getBalance"))
        .and(query_param("appId", "app"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status":"0","reason":"success","balance":"12.5000","gift":"0","credit":"0"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sms/getReport"))
        .and(query_param("msgIds", "1,2,3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status":"0","reason":"success","success":"1","fail":"1","sending":"0","nofound":"1","array":[
            {"msgId":"1","number":"8613800138000","receiveTime":"2022-07-20T16:29:45+08:00","status":"0"},
            {"msgId":"2","number":"8613800138001","status":"7"}]})))
        .mount(&server)
        .await;
    let client = itniotech(&server);
    let balance = client.balance().await.unwrap();
    assert_eq!(balance.balance, "12.5000");
    let report = client.report(&["1", "2", "3"]).await.unwrap();
    assert_eq!(
        (
            report.delivered,
            report.failed,
            report.sending,
            report.not_found
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(report.messages[0].status, ReportStatus::Delivered);
    assert_eq!(report.messages[0].status.class(), DeliveryClass::Delivered);
    assert_eq!(report.messages[1].status, ReportStatus::Unknown("7".into()));
}

#[tokio::test]
async fn laaffic_uses_its_v3_paths() {
    let server = MockServer::start().await;
    answer(
        &server,
        "/v3/sendSms",
        ResponseTemplate::new(200).set_body_json(json!({"status":"-10","reason":"余额不足"})),
    )
    .await;
    let client = smsgate_laaffic::Client::builder()
        .api_key("k")
        .api_secret(SECRET)
        .app_id("a")
        .base_url(server.uri())
        .build()
        .unwrap();
    let err = client.send_sms(&two_numbers()).await.unwrap_err();
    assert_eq!(err.vendor_class(), Some(ErrorClass::Account));
    let smsgate_laaffic::Error::Vendor { code, .. } = err else {
        panic!()
    };
    assert_eq!(code.original(), Some("客戶餘額不足,不能滿足本次發送"));
}

/// Every case is refused before any traffic: the mock expects no request at all.
#[tokio::test]
async fn itniotech_validation_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = itniotech(&server);
    let many = |n: usize| (0..n).map(|i| format!("86138{i:08}")).collect::<Vec<_>>();

    let check = |err: Error, field: &str, kind: ValidationKind| {
        let Error::InvalidRequest(v) = &err else {
            panic!("{err:?}")
        };
        assert_eq!((v.field.as_str(), &v.kind), (field, &kind), "{err}");
        assert!(!err.may_have_reached_vendor());
    };
    check(
        client
            .send_sms(&TextMessage::new(["8613800138000"], ""))
            .await
            .unwrap_err(),
        "content",
        ValidationKind::Empty,
    );
    check(
        client
            .send_sms(&TextMessage::new(["8613800138000"], "é".repeat(1025)))
            .await
            .unwrap_err(),
        "content",
        ValidationKind::TooLong {
            chars: 1025,
            limit: 1024,
        },
    );
    assert!(
        client
            .prepare_send_sms(&TextMessage::new(["8613800138000"], "é".repeat(1024)))
            .is_ok()
    );
    check(
        client
            .send_sms(&TextMessage::new(many(1001), "x"))
            .await
            .unwrap_err(),
        "numbers",
        ValidationKind::TooMany {
            count: 1001,
            limit: 1000,
        },
    );
    assert!(
        client
            .prepare_send_sms(&TextMessage::new(many(1000), "x"))
            .is_ok()
    );
    check(
        client
            .send_sms_get(&TextMessage::new(many(101), "x"))
            .await
            .unwrap_err(),
        "numbers",
        ValidationKind::TooMany {
            count: 101,
            limit: 100,
        },
    );
    check(
        client
            .send_sms(&TextMessage::new(Vec::<String>::new(), "x"))
            .await
            .unwrap_err(),
        "numbers",
        ValidationKind::Empty,
    );
    let err = client
        .send_sms(&TextMessage::new(["8613800138000", "+8613800138001"], "x"))
        .await
        .unwrap_err();
    let Error::InvalidRequest(v) = &err else {
        panic!()
    };
    assert_eq!(v.field, "numbers[1]");
    check(
        client
            .send_sms(&TextMessage::new(["8613800138000"], "x").order_ids(["a", "b"]))
            .await
            .unwrap_err(),
        "orderId",
        ValidationKind::CountMismatch {
            count: 2,
            other_field: "numbers",
            other_count: 1,
        },
    );
    check(
        client
            .send_sms(&TextMessage::new(["8613800138000"], "x").sender_id("s".repeat(33)))
            .await
            .unwrap_err(),
        "senderId",
        ValidationKind::TooLong {
            chars: 33,
            limit: 32,
        },
    );
    check(
        client.send_batch::<String>(&[]).await.unwrap_err(),
        "array",
        ValidationKind::Empty,
    );
    check(
        client
            .send_batch(&[
                TextMessage::new(many(600), "a"),
                TextMessage::new(many(401), "b"),
            ])
            .await
            .unwrap_err(),
        "array[].numbers",
        ValidationKind::TooMany {
            count: 1001,
            limit: 1000,
        },
    );
    check(
        client
            .send_batch(&[TextMessage::new(["1"], "a"), TextMessage::new(["2"], "")])
            .await
            .unwrap_err(),
        "array[1].content",
        ValidationKind::Empty,
    );
    let ids: Vec<String> = (0..201).map(|i| i.to_string()).collect();
    check(
        client.report(&ids).await.unwrap_err(),
        "msgIds",
        ValidationKind::TooMany {
            count: 201,
            limit: 200,
        },
    );
    assert_eq!(
        Error::from(
            client
                .prepare_send_sms(&TextMessage::new(["8613800138000"], "é".repeat(1031)))
                .unwrap_err()
        )
        .to_string(),
        "itniotech sendSms: content is 1031 characters, the limit is 1024"
    );
}

#[tokio::test]
async fn nxcloud_success_partial_and_failures() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/sms/multi/mt"))
        .and(header("bizType", "3"))
        .and(header("action", "mtsend"))
        .and(header_exists("sign"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"code":0,"message":"Success","data":[
            {"phone":"8613800138000","messageid":"order-0000001","status":"Success"},
            {"phone":"8613800138001","messageid":"x2","status":"Failure","message":"Incorrect phone number format"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let items = [
        MultiItem::new("8613800138000", "a").sys_message_id("order-0000001"),
        MultiItem::new("8613800138001", "b"),
    ];
    let receipt = nxcloud(&server).send_multi(&items).await.unwrap();
    assert_eq!(receipt.results[0].status, ItemStatus::Success);
    assert_eq!(receipt.results[0].message_id, "order-0000001");
    assert_eq!(receipt.results[1].status, ItemStatus::Failure);
    assert_eq!(
        receipt.results[1].message.as_deref(),
        Some("Incorrect phone number format")
    );

    let cases = [
        (
            json!({"code":1003,"message":"invalid sign","data":null}),
            ResponseCode::InvalidSignature,
            ErrorClass::Auth,
        ),
        (
            json!({"code":"13008","message":"TPS limit exceeded"}),
            ResponseCode::TpsLimitExceeded,
            ErrorClass::RateLimit,
        ),
        (
            json!({"code":1102,"message":"Insufficient balance","data":null}),
            ResponseCode::InsufficientBalance,
            ErrorClass::Account,
        ),
        (
            json!({"code":13001,"message":"too long","data":null}),
            ResponseCode::ContentTooLong,
            ErrorClass::Content,
        ),
        (
            json!({"code":9000,"message":"Request parameter error","data":null}),
            ResponseCode::RequestParameterError,
            ErrorClass::InvalidRequest,
        ),
        (
            json!({"code":-1,"message":"Failure"}),
            ResponseCode::Failure,
            ErrorClass::Unspecified,
        ),
        (
            json!({"code":13004,"message":"?","data":null}),
            ResponseCode::Unknown("13004".into()),
            ErrorClass::Unspecified,
        ),
    ];
    for (body, expected, class) in cases {
        let server = MockServer::start().await;
        answer(
            &server,
            "/v1/sms/multi/mt",
            ResponseTemplate::new(200).set_body_json(body),
        )
        .await;
        let err = nxcloud(&server).send_multi(&items).await.unwrap_err();
        let smsgate_nxcloud::Error::Vendor { code, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(code, &expected);
        assert_eq!(err.vendor_class(), Some(class));
    }

    let server = MockServer::start().await;
    answer(&server, "/v1/sms/multi/mt", ResponseTemplate::new(500)).await;
    assert!(matches!(
        nxcloud(&server).send_multi(&items).await.unwrap_err(),
        smsgate_nxcloud::Error::UnexpectedStatus { status: 500, .. }
    ));
    let server = MockServer::start().await;
    answer(
        &server,
        "/v1/sms/multi/mt",
        ResponseTemplate::new(200).set_body_string("{\"code\":0,\"data\":[{\"phone\""),
    )
    .await;
    assert!(matches!(
        nxcloud(&server).send_multi(&items).await.unwrap_err(),
        smsgate_nxcloud::Error::Undecodable { .. }
    ));
}

#[tokio::test]
async fn nxcloud_single_send_reads_message_ids_in_any_shape() {
    for (data, ids) in [
        (json!({"messageid": "m1"}), vec!["m1"]),
        (
            json!([{"messageid": "m1"}, {"messageId": "m2"}]),
            vec!["m1", "m2"],
        ),
        (json!("m9"), vec!["m9"]),
        (json!(null), vec![]),
    ] {
        let server = MockServer::start().await;
        answer(
            &server,
            "/v1/sms/mt",
            ResponseTemplate::new(200)
                .set_body_json(json!({"code":"0","message":"Success","data":data})),
        )
        .await;
        let receipt = nxcloud(&server)
            .send(&MtMessage::new(["8613800138000"], "hi"))
            .await
            .unwrap();
        assert_eq!(receipt.message_ids, ids);
    }
}

#[tokio::test]
async fn nxcloud_validation_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = nxcloud(&server);
    let field_of = |err: smsgate_nxcloud::Error| match err {
        smsgate_nxcloud::Error::InvalidRequest(v) => (v.field, v.kind),
        other => panic!("{other:?}"),
    };
    let items: Vec<_> = (0..201)
        .map(|i| MultiItem::new(format!("86138{i:08}"), "x"))
        .collect();
    assert_eq!(
        field_of(client.send_multi(&items).await.unwrap_err()),
        (
            "items".into(),
            ValidationKind::TooMany {
                count: 201,
                limit: 200
            }
        )
    );
    assert!(client.prepare_send_multi(&items[..200]).is_ok());
    assert_eq!(
        field_of(client.send_multi::<String>(&[]).await.unwrap_err()).0,
        "items"
    );
    assert_eq!(
        field_of(
            client
                .send_multi(&[MultiItem::new("8613800138000", "€".repeat(1001))])
                .await
                .unwrap_err()
        ),
        (
            "items[0].content".into(),
            ValidationKind::TooLong {
                chars: 1001,
                limit: 1000
            }
        )
    );
    assert_eq!(
        field_of(
            client
                .send_multi(&[MultiItem::new("86 138", "x")])
                .await
                .unwrap_err()
        )
        .0,
        "items[0].phone"
    );
    assert_eq!(
        field_of(
            client
                .send_multi(&[MultiItem::new("8613800138000", "x").source_address("has space")])
                .await
                .unwrap_err()
        )
        .0,
        "items[0].sourceAddress"
    );
    assert_eq!(
        field_of(
            client
                .send_multi(&[MultiItem::new("8613800138000", "x").sys_message_id("msg001")])
                .await
                .unwrap_err()
        )
        .0,
        "items[0].sysMessageId"
    );
    assert_eq!(
        field_of(
            client
                .send(&MtMessage::new(["8613800138000"], ""))
                .await
                .unwrap_err()
        )
        .0,
        "content"
    );
}

#[test]
fn delivery_report_pushes_parse() {
    let itniotech = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/itniotech/examples/DeliveryReportPush.notes.json"
    ))
    .unwrap();
    let push = smsgate_itniotech::parse_delivery_report(&itniotech).unwrap();
    assert_eq!(
        (push.msgid.as_str(), push.status),
        ("2207201629421000001", 0)
    );
    assert!(smsgate_itniotech::parse_delivery_report(b"{\"msgid\":1}").is_err());
    assert!(smsgate_itniotech::parse_delivery_report(b"").is_err());

    let nxcloud = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/nxcloud/examples/DeliveryReport.notes.form"
    ))
    .unwrap();
    let push = smsgate_nxcloud::parse_delivery_report(&nxcloud).unwrap();
    assert_eq!(push.status, "2");
    assert_eq!(push.drtime.as_deref(), Some("2023-05-05 17:05:12"));
    assert_eq!(
        smsgate_nxcloud::codes::DeliveryStatus::from_code(&push.status).class(),
        DeliveryClass::Delivered
    );
    let as_query =
        smsgate_nxcloud::parse_delivery_report(b"?phone=1&status=5&messageid=m-0000000001")
            .unwrap();
    assert_eq!(as_query.status, "5");
    assert!(
        smsgate_nxcloud::parse_delivery_report(b"phone=1").is_err(),
        "status and messageid are required"
    );
    assert!(smsgate_nxcloud::parse_delivery_report(&[0xff, 0xfe]).is_err());
}

/// Debug, Display and errors never show a secret, for every credential type.
#[test]
fn secrets_never_show() {
    let it = smsgate_itniotech::Client::builder()
        .api_key("k")
        .api_secret(SECRET)
        .app_id("a");
    assert!(!format!("{it:?}").contains(SECRET));
    let it = it.build().unwrap();
    assert!(!format!("{it:?}").contains(SECRET) && format!("{it:?}").contains("[redacted]"));
    let la = smsgate_laaffic::Client::builder()
        .api_key("k")
        .api_secret(SECRET)
        .app_id("a")
        .build()
        .unwrap();
    assert!(!format!("{la:#?}").contains(SECRET));
    let nx = smsgate_nxcloud::Client::builder()
        .access_key("k")
        .access_secret(NX_SECRET)
        .app_key("a");
    assert!(!format!("{nx:?}").contains(NX_SECRET));
    let nx = nx.build().unwrap();
    assert!(!format!("{nx:?}").contains(NX_SECRET) && format!("{nx:?}").contains("[redacted]"));
    let request = nx
        .prepare_send_multi(&[MultiItem::new("8613800138000", "x")])
        .unwrap();
    assert!(!request.to_string().contains(NX_SECRET));
}

#[test]
fn missing_settings_are_named() {
    let err = smsgate_itniotech::Client::builder()
        .api_key("k")
        .app_id("a")
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "itniotech api_secret is not set");
    let err = smsgate_nxcloud::Client::builder()
        .access_key("k")
        .access_secret("s")
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "nxcloud app_key is not set");
    let err = smsgate_itniotech::Client::builder()
        .api_key("k")
        .api_secret("s")
        .app_id("a")
        .base_url("localhost:80")
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid base URL"), "{err}");
}
