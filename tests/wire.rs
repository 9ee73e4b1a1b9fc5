//! The exact wire format of every operation, locked by snapshots (pinned clock and
//! credentials): method, full URL with query encoding, every header in order (sign included)
//! and the body bytes, as the generated clients send them from borrowed bodies. Also: each
//! vendor document's request sample, fed through the client, yields the documented body.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on broken fixtures by design

use std::path::Path;

use serde_json::Value;
use smsgate_nxcloud::bodies::{MtRequest, MultiMtItem, MultiMtRequest};
use smsgate_nxcloud::models::LinkVerbose;
use smsgate_onbuka::bodies::{
    BatchMessage, GetBalanceRequest, GetReportRequest, GetSentRcdRequest, SendBatchRequest,
    SendSmsRequest,
};
use smsgate_transport::clock::FixedClock;
use smsgate_transport::endpoint::{Joined, StrList};
use smsgate_transport::wire::WireRequest;

/// The credentials of the vendor pages' header example.
const API_KEY: &str = "bDqJFiq9";
const API_SECRET: &str = "7bz1lzh9";
const APP_ID: &str = "4luaKsL2";
const DOC_TIMESTAMP: u64 = 1_630_468_800;
/// vendor-notes.md's nxcloud test vector credentials.
const ACCESS_KEY: &str = "fme2na3kdi3ki";
const ACCESS_SECRET: &str = "abciiiko2k3";
const NX_TS: u64 = 1_655_710_885_431;

fn itniotech() -> smsgate_itniotech::Client {
    smsgate_itniotech::Client::builder()
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .app_id(APP_ID)
        .clock(FixedClock::from_secs(DOC_TIMESTAMP))
        .build()
        .unwrap()
}

fn laaffic() -> smsgate_laaffic::Client {
    smsgate_laaffic::Client::builder()
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .app_id(APP_ID)
        .clock(FixedClock::from_secs(DOC_TIMESTAMP))
        .build()
        .unwrap()
}

fn nxcloud() -> smsgate_nxcloud::Client {
    smsgate_nxcloud::Client::builder()
        .access_key(ACCESS_KEY)
        .access_secret(ACCESS_SECRET)
        .app_key("appKey")
        .clock(FixedClock::from_millis(NX_TS))
        .build()
        .unwrap()
}

fn fixture(rel: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../specs")
        .join(rel);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn body_json(request: &WireRequest) -> Value {
    serde_json::from_slice(request.body.as_deref().unwrap()).unwrap()
}

/// Snapshots `request` and checks that no secret is in it.
fn lock(name: &str, request: &WireRequest) {
    let text = request.to_string();
    for secret in [API_SECRET, ACCESS_SECRET] {
        assert!(!text.contains(secret), "{name} shows a secret");
    }
    insta::assert_snapshot!(name, text);
}

const UNICODE_NUMBERS: [&str; 2] = ["8613800138000", "8613800138001"];
const UNICODE_ORDER_IDS: [&str; 2] = ["order-1", "order-2"];
const UNICODE_TEXT: &str = "Your code: 4711 — 验证码 ✓ & 50% \"off\"";
const SECOND_NUMBER: [&str; 1] = ["919876543210"];

/// Two numbers, order ids, a sender id and text that needs escaping (appId left to the client).
fn unicode_message() -> SendSmsRequest<'static> {
    SendSmsRequest {
        numbers: Joined::commas(&UNICODE_NUMBERS),
        content: UNICODE_TEXT,
        sender_id: Some("smsgate"),
        order_id: Some(Joined::commas(&UNICODE_ORDER_IDS)),
        ..Default::default()
    }
}

/// The unicode message and a second text, as one batch.
fn unicode_batch() -> [BatchMessage<'static>; 2] {
    let first = unicode_message();
    [
        BatchMessage {
            numbers: first.numbers,
            content: first.content,
            sender_id: first.sender_id,
            order_id: first.order_id,
        },
        BatchMessage {
            numbers: Joined::commas(&SECOND_NUMBER),
            content: "second text",
            ..Default::default()
        },
    ]
}

fn batch<'a>(array: &'a [BatchMessage<'a>]) -> SendBatchRequest<'a> {
    SendBatchRequest {
        array,
        ..Default::default()
    }
}

fn report<L: StrList>(ids: &L) -> GetReportRequest<'_> {
    GetReportRequest {
        msg_ids: Joined::commas(ids),
        ..Default::default()
    }
}

/// The records of the documented day (Beijing time), from the second page on: times with
/// offsets URL-encoded (`+` as `%2B`), `startIndex` sent.
fn sent_records() -> GetSentRcdRequest<'static> {
    GetSentRcdRequest {
        start_time: "2021-02-12T00:00:00+08:00",
        end_time: "2021-02-13T00:00:00+08:00",
        start_index: Some(50_000),
        ..Default::default()
    }
}

/// The page's getSentRcd parameters, through the client: the fixture's query, parameter for
/// parameter.
fn documented_sent_records_query(request: &WireRequest, vendor: &str) {
    let (_, query) = request.url.split_once('?').unwrap();
    let mut ours: Vec<&str> = query.split('&').collect();
    let documented = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../specs/{vendor}/examples/GetSentRcdRequest.doc.query"
    )))
    .unwrap();
    let mut theirs: Vec<&str> = documented.trim().split('&').collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    assert_eq!(request.body, None);
}

#[test]
fn itniotech_wire_format() {
    let client = itniotech();
    lock(
        "itniotech_send_sms",
        &client.prepare_send_sms(&unicode_message()).unwrap(),
    );
    lock(
        "itniotech_send_sms_get",
        &client.prepare_send_sms_get(&unicode_message()).unwrap(),
    );
    lock(
        "itniotech_send_batch",
        &client.prepare_send_batch(&batch(&unicode_batch())).unwrap(),
    );
    lock(
        "itniotech_balance",
        &client
            .prepare_get_balance(&GetBalanceRequest::default())
            .unwrap(),
    );
    lock(
        "itniotech_report",
        &client
            .prepare_get_report(&report(&["2207201629421000001", "2207201629421000002"]))
            .unwrap(),
    );
    lock(
        "itniotech_sent_records",
        &client.prepare_get_sent_rcd(&sent_records()).unwrap(),
    );
    let documented = GetSentRcdRequest {
        start_index: Some(0),
        ..sent_records()
    };
    documented_sent_records_query(
        &client.prepare_get_sent_rcd(&documented).unwrap(),
        "itniotech",
    );
}

#[test]
fn laaffic_wire_format() {
    let client = laaffic();
    lock(
        "laaffic_send_sms",
        &client.prepare_send_sms(&unicode_message()).unwrap(),
    );
    lock(
        "laaffic_send_sms_get",
        &client.prepare_send_sms_get(&unicode_message()).unwrap(),
    );
    lock(
        "laaffic_send_batch",
        &client.prepare_send_batch(&batch(&unicode_batch())).unwrap(),
    );
    lock(
        "laaffic_balance",
        &client
            .prepare_get_balance(&GetBalanceRequest::default())
            .unwrap(),
    );
    lock(
        "laaffic_report",
        &client
            .prepare_get_report(&report(&["2207201629421000001"]))
            .unwrap(),
    );
    lock(
        "laaffic_sent_records",
        &client.prepare_get_sent_rcd(&sent_records()).unwrap(),
    );
    let documented = GetSentRcdRequest {
        start_index: Some(0),
        ..sent_records()
    };
    documented_sent_records_query(
        &client.prepare_get_sent_rcd(&documented).unwrap(),
        "laaffic",
    );
}

#[test]
fn nxcloud_wire_format() {
    let client = nxcloud();
    let items = [
        MultiMtItem {
            phone: "8613800138000",
            content: "Your code: 4711 — 验证码 ✓",
            sys_message_id: Some("order-0000001"),
            source_address: Some("SMSGATE"),
            ..Default::default()
        },
        MultiMtItem {
            phone: "8613800138001",
            content: "Tap #1# to confirm",
            short_link: Some("https://s.example/abc"),
            link_verbose: Some(LinkVerbose::X0),
            dr_url: Some("https://hooks.example/dr"),
            ext: Some("ticket-42"),
            ..Default::default()
        },
    ];
    lock(
        "nxcloud_send_multi",
        &client
            .prepare_send_multi(&MultiMtRequest {
                items: &items,
                ..Default::default()
            })
            .unwrap(),
    );
    let message = MtRequest {
        phone: Joined::commas(&UNICODE_NUMBERS),
        content: "hello & goodbye",
        ..Default::default()
    };
    lock("nxcloud_send", &client.prepare_send(&message).unwrap());
}

/// The nxcloud sign covers the exact body bytes sent.
#[test]
fn nxcloud_signs_the_bytes_it_sends() {
    let items = [MultiMtItem {
        phone: "8615088888888",
        content: "牛小信",
        ..Default::default()
    }];
    let request = nxcloud()
        .prepare_send_multi(&MultiMtRequest {
            items: &items,
            ..Default::default()
        })
        .unwrap();
    let signer =
        <smsgate_nxcloud::sign::NxcloudHeaderBodyMd5 as smsgate_transport::sign::Signer>::new(
            ACCESS_KEY.into(),
            ACCESS_SECRET.into(),
        );
    let expected = signer.signature(NX_TS, "3", "mtsend", request.body.as_deref());
    assert_eq!(request.header("sign"), Some(expected.as_str()));
    assert_eq!(request.header("bizType"), Some("3"));
    assert_eq!(request.header("action"), Some("mtsend"));
}

/// The zh page's batch: two texts, order ids, `senderId` "" (sent as written).
fn doc_batch() -> [BatchMessage<'static>; 2] {
    const FIRST: [&str; 2] = ["91856321412", "91856321413"];
    const FIRST_IDS: [&str; 2] = ["56584", "56585"];
    const SECOND: [&str; 1] = ["91856321414"];
    const SECOND_IDS: [&str; 1] = ["56586"];
    [
        BatchMessage {
            numbers: Joined::commas(&FIRST),
            content: "test message",
            sender_id: Some(""),
            order_id: Some(Joined::commas(&FIRST_IDS)),
        },
        BatchMessage {
            numbers: Joined::commas(&SECOND),
            content: "test message1",
            sender_id: Some(""),
            order_id: Some(Joined::commas(&SECOND_IDS)),
        },
    ]
}

#[test]
fn itniotech_documented_samples_round_trip_through_the_client() {
    let client = itniotech();
    let numbers = ["91856321412", "91856321413"];
    let order_ids = ["21412", "21413"];
    let doc = SendSmsRequest {
        numbers: Joined::commas(&numbers),
        content: "hello world",
        sender_id: Some("123"),
        order_id: Some(Joined::commas(&order_ids)),
        ..Default::default()
    };

    // POST: the documented body and the documented headers (the pages' Sign for their Timestamp).
    let post = client.prepare_send_sms(&doc).unwrap();
    assert_eq!(
        body_json(&post),
        fixture("itniotech/examples/SendSmsRequest.doc-post.json")
    );
    assert_eq!(post.url, "https://api.itniotech.com/sms/sendSms");
    assert_eq!(
        post.header("Sign"),
        Some("05d7a50893e22a5c4bb3216ae3396c7c")
    );
    assert_eq!(post.header("Timestamp"), Some("1630468800"));
    assert_eq!(post.header("Api-Key"), Some("bDqJFiq9"));
    assert_eq!(
        post.header("Content-Type"),
        Some("application/json;charset=UTF-8")
    );

    // GET: the documented query, parameter for parameter (content as %20, commas kept).
    let get = client.prepare_send_sms_get(&doc).unwrap();
    let (base, query) = get.url.split_once('?').unwrap();
    assert_eq!(base, "https://api.itniotech.com/sms/sendSms");
    let mut ours: Vec<&str> = query.split('&').collect();
    let documented = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../specs/itniotech/examples/SendSmsRequest.doc-get.query"),
    )
    .unwrap();
    let mut theirs: Vec<&str> = documented.trim().split('&').collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    assert_eq!(get.body, None);

    // Batch: the zh page's body (senderId "" included).
    let array = doc_batch();
    let request = client.prepare_send_batch(&batch(&array)).unwrap();
    assert_eq!(
        body_json(&request),
        fixture("itniotech/examples/SendBatchRequest.doc.json")
    );
    assert_eq!(request.url, "https://api.itniotech.com/sms/sendSms/batch");
}

#[test]
fn laaffic_documented_samples_round_trip_through_the_client() {
    let client = laaffic();
    let array = doc_batch();
    let request = client.prepare_send_batch(&batch(&array)).unwrap();
    assert_eq!(
        body_json(&request),
        fixture("laaffic/examples/SendBatchRequest.doc.json")
    );
    assert_eq!(request.url, "https://api.laaffic.com/v3/sendSms/batch");
    assert_eq!(
        request.header("Sign"),
        Some("05d7a50893e22a5c4bb3216ae3396c7c")
    );
    let numbers = ["91856321412", "91856321413"];
    let array = [BatchMessage {
        numbers: Joined::commas(&numbers),
        content: "hello world",
        ..Default::default()
    }];
    let code_sample = client.prepare_send_batch(&batch(&array)).unwrap();
    assert_eq!(
        body_json(&code_sample),
        fixture("laaffic/examples/SendBatchRequest.code-sample.json")
    );
}

#[test]
fn nxcloud_documented_sample_round_trips_through_the_client() {
    let items = [
        MultiMtItem {
            phone: "8618651883168",
            content: "content1",
            sys_message_id: Some("msg0000001"),
            ..Default::default()
        },
        MultiMtItem {
            phone: "8618651883279",
            content: "content2",
            sys_message_id: Some("msg0000002"),
            ..Default::default()
        },
    ];
    let request = nxcloud()
        .prepare_send_multi(&MultiMtRequest {
            items: &items,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        body_json(&request),
        fixture("nxcloud/examples/MultiMtRequest.doc.json")
    );
    assert_eq!(request.url, "https://api2.nxcloud.com/v1/sms/multi/mt");

    let phones = ["8615088888888", "8615088888889"];
    let mt = nxcloud()
        .prepare_send(&MtRequest {
            phone: Joined::commas(&phones),
            content: "Your code is 1234",
            source_address: Some("SMSGATE"),
            link_verbose: Some(LinkVerbose::X0),
            ext: Some("order-42"),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        body_json(&mt),
        fixture("nxcloud/examples/MtRequest.notes.json")
    );
    assert_eq!(mt.url, "https://api.nxcloud.com/v1/sms/mt");
}

#[test]
fn base_url_and_path_are_configurable() {
    let client = smsgate_nxcloud::Client::builder()
        .access_key("k")
        .access_secret("s")
        .app_key("a")
        .base_url("http://api2.nxcloud.com/")
        .multi_mt_path("/api/sms/multi/mt")
        .build()
        .unwrap();
    let items = [MultiMtItem {
        phone: "8615088888888",
        content: "x",
        ..Default::default()
    }];
    let request = client
        .prepare_send_multi(&MultiMtRequest {
            items: &items,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(request.url, "http://api2.nxcloud.com/api/sms/multi/mt");

    let client = smsgate_itniotech::Client::builder()
        .api_key("k")
        .api_secret("s")
        .app_id("a")
        .base_url("http://127.0.0.1:9/")
        .build()
        .unwrap();
    assert_eq!(
        client
            .prepare_get_balance(&GetBalanceRequest::default())
            .unwrap()
            .url,
        "http://127.0.0.1:9/sms/getBalance?appId=a"
    );
}

/// Twilio's OAS example Account SID and a token; an API key of the same shape.
const TWILIO_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TWILIO_TOKEN: &str = "twilio-auth-token-0123456789abcd";
const TWILIO_KEY: &str = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const TWILIO_KEY_SECRET: &str = "twilio-api-secret-0123456789abcd";
/// Vonage's 8-character key, its secret and signature secret (Vonage's SDK test vector).
const VONAGE_KEY: &str = "abcd1234";
const VONAGE_SECRET: &str = "vonage-secret-1";
const VONAGE_SIGNATURE_SECRET: &str = "signature_secret";

/// Snapshots `request` and checks that none of the Twilio and Vonage secrets is in it.
fn lock_global(name: &str, request: &WireRequest) {
    let text = request.to_string();
    for secret in [
        TWILIO_TOKEN,
        TWILIO_KEY_SECRET,
        VONAGE_SECRET,
        VONAGE_SIGNATURE_SECRET,
    ] {
        assert!(!text.contains(secret), "{name} shows a secret");
    }
    lock(name, request);
}

#[test]
fn twilio_wire_format() {
    use smsgate_twilio::bodies::{CreateMessageRequest, FetchBalanceRequest, FetchMessageRequest};
    let client = smsgate_twilio::Client::builder()
        .account_sid(TWILIO_SID)
        .auth_token(TWILIO_TOKEN)
        .from("+15005550006")
        .clock(FixedClock::from_secs(DOC_TIMESTAMP))
        .build()
        .unwrap();
    let message = CreateMessageRequest {
        to: "+14155552345",
        body: UNICODE_TEXT,
        status_callback: Some("https://example.com/twilio/status?x=1&y=2"),
        validity_period: Some(3600),
        ..Default::default()
    };
    let request = client.prepare_create_message(&message).unwrap();
    assert_eq!(
        request.header("Authorization").unwrap(),
        format!(
            "Basic {}",
            base64_of(&format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
        )
    );
    lock_global("twilio_create_message", &request);
    let sid = "SMb7c0a2ce80504485a6f653a7110836f5";
    lock_global(
        "twilio_fetch_message",
        &client
            .prepare_fetch_message(&FetchMessageRequest { sid })
            .unwrap(),
    );
    lock_global(
        "twilio_fetch_balance",
        &client
            .prepare_fetch_balance(&FetchBalanceRequest::default())
            .unwrap(),
    );
    // API-key mode: key and secret sign, the Account SID stays in the path.
    let keyed = smsgate_twilio::Client::builder()
        .account_sid(TWILIO_SID)
        .api_key(TWILIO_KEY)
        .api_secret(TWILIO_KEY_SECRET)
        .messaging_service_sid("MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .build()
        .unwrap();
    let request = keyed
        .prepare_create_message(&CreateMessageRequest {
            to: "+14155552345",
            body: "Hello! 👍",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        request.header("Authorization").unwrap(),
        format!(
            "Basic {}",
            base64_of(&format!("{TWILIO_KEY}:{TWILIO_KEY_SECRET}"))
        )
    );
    lock_global("twilio_create_message_api_key", &request);
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn vonage_wire_format() {
    use smsgate_vonage::bodies::{BalanceRequest, SendSmsRequest};
    use smsgate_vonage::models::MessageType;
    let message = SendSmsRequest {
        to: "447700900000",
        text: UNICODE_TEXT,
        type_: Some(MessageType::Unicode),
        client_ref: Some("order-1"),
        callback: Some("https://example.com/vonage/dlr"),
        status_report_req: Some(true),
        ..Default::default()
    };
    let keyed = smsgate_vonage::Client::builder()
        .api_key(VONAGE_KEY)
        .api_secret(VONAGE_SECRET)
        .from("Acme")
        .clock(FixedClock::from_secs(DOC_TIMESTAMP))
        .build()
        .unwrap();
    lock_global(
        "vonage_send_sms",
        &keyed.prepare_send_sms(&message).unwrap(),
    );
    lock_global(
        "vonage_get_balance",
        &keyed
            .prepare_get_balance(&BalanceRequest::default())
            .unwrap(),
    );
    for name in ["md5hash", "sha256"] {
        let signed = smsgate_vonage::Client::builder()
            .api_key(VONAGE_KEY)
            .signature_secret(VONAGE_SIGNATURE_SECRET)
            .signature_method(name)
            .from("Acme")
            .clock(FixedClock::from_secs(DOC_TIMESTAMP))
            .build()
            .unwrap();
        let request = signed.prepare_send_sms(&message).unwrap();
        let params: Vec<(String, String)> =
            serde_urlencoded::from_bytes(request.body.as_deref().unwrap()).unwrap();
        let method = smsgate_vonage::sign::SignatureMethod::from_setting(name).unwrap();
        assert!(smsgate_vonage::sign::verify_signature(
            &params,
            VONAGE_SIGNATURE_SECRET,
            method
        ));
        assert!(!params.iter().any(|(k, _)| k == "api_secret"));
        lock_global(&format!("vonage_send_sms_signed_{name}"), &request);
    }
    // A method Vonage does not offer is refused when the client is built.
    let err = smsgate_vonage::Client::builder()
        .api_key(VONAGE_KEY)
        .signature_secret(VONAGE_SIGNATURE_SECRET)
        .signature_method("sha3")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("signature_method"), "{err}");
}
