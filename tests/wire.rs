//! The exact wire format of every operation, locked by snapshots (pinned clock and
//! credentials): method, full URL with query encoding, every header in order (sign included)
//! and the body bytes. Also: each vendor document's request sample, fed through the client,
//! yields the documented body.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on broken fixtures by design

use std::path::Path;

use serde_json::Value;
use smsgate_itniotech::TextMessage;
use smsgate_nxcloud::{MessageOptions, MtMessage, MultiItem};
use smsgate_transport::clock::FixedClock;
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

fn unicode_message() -> TextMessage {
    TextMessage::new(
        ["8613800138000", "8613800138001"],
        "Your code: 4711 — 验证码 ✓ & 50% \"off\"",
    )
    .sender_id("smsgate")
    .order_ids(["order-1", "order-2"])
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
    let batch = [
        unicode_message(),
        TextMessage::new(["919876543210"], "second text"),
    ];
    lock(
        "itniotech_send_batch",
        &client.prepare_send_batch(&batch).unwrap(),
    );
    lock("itniotech_balance", &client.prepare_balance().unwrap());
    lock(
        "itniotech_report",
        &client
            .prepare_report(&["2207201629421000001", "2207201629421000002"])
            .unwrap(),
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
    let batch = [
        unicode_message(),
        TextMessage::new(["919876543210"], "second text"),
    ];
    lock(
        "laaffic_send_batch",
        &client.prepare_send_batch(&batch).unwrap(),
    );
    lock("laaffic_balance", &client.prepare_balance().unwrap());
    lock(
        "laaffic_report",
        &client.prepare_report(&["2207201629421000001"]).unwrap(),
    );
}

#[test]
fn nxcloud_wire_format() {
    let client = nxcloud();
    let items = [
        MultiItem::new("8613800138000", "Your code: 4711 — 验证码 ✓")
            .sys_message_id("order-0000001")
            .source_address("SMSGATE"),
        MultiItem {
            phone: "8613800138001".into(),
            content: "Tap #1# to confirm".into(),
            options: MessageOptions {
                short_link: Some("https://s.example/abc".into()),
                link_verbose: Some(false),
                dr_url: Some("https://hooks.example/dr".into()),
                ext: Some("ticket-42".into()),
                ..MessageOptions::default()
            },
        },
    ];
    lock(
        "nxcloud_send_multi",
        &client.prepare_send_multi(&items).unwrap(),
    );
    let message = MtMessage::new(["8613800138000", "8613800138001"], "hello & goodbye");
    lock("nxcloud_send", &client.prepare_send(&message).unwrap());
}

/// The nxcloud sign covers the exact body bytes sent.
#[test]
fn nxcloud_signs_the_bytes_it_sends() {
    let request = nxcloud()
        .prepare_send_multi(&[MultiItem::new("8615088888888", "牛小信")])
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

#[test]
fn itniotech_documented_samples_round_trip_through_the_client() {
    let client = itniotech();
    let doc = TextMessage::new(["91856321412", "91856321413"], "hello world")
        .sender_id("123")
        .order_ids(["21412", "21413"]);

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
    let batch = [
        TextMessage::new(["91856321412", "91856321413"], "test message")
            .sender_id("")
            .order_ids(["56584", "56585"]),
        TextMessage::new(["91856321414"], "test message1")
            .sender_id("")
            .order_ids(["56586"]),
    ];
    let request = client.prepare_send_batch(&batch).unwrap();
    assert_eq!(
        body_json(&request),
        fixture("itniotech/examples/SendBatchRequest.doc.json")
    );
    assert_eq!(request.url, "https://api.itniotech.com/sms/sendSms/batch");
}

#[test]
fn laaffic_documented_samples_round_trip_through_the_client() {
    let client = laaffic();
    let batch = [
        TextMessage::new(["91856321412", "91856321413"], "test message")
            .sender_id("")
            .order_ids(["56584", "56585"]),
        TextMessage::new(["91856321414"], "test message1")
            .sender_id("")
            .order_ids(["56586"]),
    ];
    let request = client.prepare_send_batch(&batch).unwrap();
    assert_eq!(
        body_json(&request),
        fixture("laaffic/examples/SendBatchRequest.doc.json")
    );
    assert_eq!(request.url, "https://api.laaffic.com/v3/sendSms/batch");
    assert_eq!(
        request.header("Sign"),
        Some("05d7a50893e22a5c4bb3216ae3396c7c")
    );
    let code_sample = client
        .prepare_send_batch(&[TextMessage::new(
            ["91856321412", "91856321413"],
            "hello world",
        )])
        .unwrap();
    assert_eq!(
        body_json(&code_sample),
        fixture("laaffic/examples/SendBatchRequest.code-sample.json")
    );
}

#[test]
fn nxcloud_documented_sample_round_trips_through_the_client() {
    let items = [
        MultiItem::new("8618651883168", "content1").sys_message_id("msg0000001"),
        MultiItem::new("8618651883279", "content2").sys_message_id("msg0000002"),
    ];
    let request = nxcloud().prepare_send_multi(&items).unwrap();
    assert_eq!(
        body_json(&request),
        fixture("nxcloud/examples/MultiMtRequest.doc.json")
    );
    assert_eq!(request.url, "https://api2.nxcloud.com/v1/sms/multi/mt");

    let mt = nxcloud()
        .prepare_send(&MtMessage {
            phones: vec!["8615088888888".into(), "8615088888889".into()],
            content: "Your code is 1234".into(),
            options: MessageOptions {
                source_address: Some("SMSGATE".into()),
                link_verbose: Some(false),
                ext: Some("order-42".into()),
                ..MessageOptions::default()
            },
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
    let request = client
        .prepare_send_multi(&[MultiItem::new("8615088888888", "x")])
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
        client.prepare_balance().unwrap().url,
        "http://127.0.0.1:9/sms/getBalance?appId=a"
    );
}
