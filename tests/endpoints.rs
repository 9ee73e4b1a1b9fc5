//! The generated operation layer (`generated/bodies.rs` and `generated/client.rs` of every vendor
//! crate) sends exactly the requests the wire snapshots lock: for every operation of every
//! vendor, the signed request of a client built from its settings by key (`.setting`) or all
//! at once (`.credentials`) equals, byte for byte, the committed snapshot
//! (`tests/snapshots/wire__*.snap`, read here as a file, never rewritten). Plus the generated
//! checks, settings and path overrides.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on broken fixtures by design

use std::path::Path;

use smsgate_nxcloud::generated::bodies as nxb;
use smsgate_nxcloud::generated::models::LinkVerbose;
use smsgate_onbuka::bodies as ob;
use smsgate_transport::clock::FixedClock;
use smsgate_transport::endpoint::Joined;
use smsgate_transport::wire::WireRequest;
use smsgate_transport::{ConfigError, ValidationKind};

const API_KEY: &str = "bDqJFiq9";
const API_SECRET: &str = "7bz1lzh9";
const APP_ID: &str = "4luaKsL2";
const DOC_TIMESTAMP: u64 = 1_630_468_800;
const ACCESS_KEY: &str = "fme2na3kdi3ki";
const ACCESS_SECRET: &str = "abciiiko2k3";
const NX_TS: u64 = 1_655_710_885_431;

const NUMBERS: [&str; 2] = ["8613800138000", "8613800138001"];
const TEXT: &str = "Your code: 4711 — 验证码 ✓ & 50% \"off\"";

/// The committed wire snapshot `wire__<name>.snap`, without insta's header.
fn snapshot(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("wire__{name}.snap"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    // `---\n<metadata>---\n<contents>`
    let contents = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_, contents)| contents)
        .unwrap_or_else(|| panic!("{} is not an insta snapshot", path.display()));
    contents.trim_end().to_owned()
}

/// `request` is, byte for byte, what snapshot `name` locks.
fn assert_locked(name: &str, request: &WireRequest) {
    assert_eq!(request.to_string().trim_end(), snapshot(name), "{name}");
}

macro_rules! onbuka_clients {
    ($krate:ident) => {{
        let by_key = $krate::Client::builder()
            .setting("api_key", API_KEY)
            .setting("api_secret", API_SECRET)
            .setting("app_id", APP_ID)
            .clock(FixedClock::from_secs(DOC_TIMESTAMP))
            .build()
            .unwrap();
        let typed = $krate::Client::builder()
            .credentials($krate::Credentials {
                api_key: API_KEY.into(),
                api_secret: API_SECRET.into(),
                app_id: APP_ID.into(),
            })
            .clock(FixedClock::from_secs(DOC_TIMESTAMP))
            .build()
            .unwrap();
        [by_key, typed]
    }};
}

macro_rules! onbuka_locked_bytes {
    ($krate:ident, $vendor:literal, $report_ids:expr) => {{
        let order_ids = ["order-1", "order-2"];
        // The caller leaves appId empty: the client fills it from its settings.
        let body = ob::SendSmsRequest {
            numbers: Joined::commas(&NUMBERS),
            content: TEXT,
            order_id: Some(Joined::commas(&order_ids)),
            sender_id: Some("smsgate"),
            ..Default::default()
        };
        let second = ["919876543210"];
        let array = [
            ob::BatchMessage {
                numbers: Joined::commas(&NUMBERS),
                content: TEXT,
                order_id: Some(Joined::commas(&order_ids)),
                sender_id: Some("smsgate"),
            },
            ob::BatchMessage {
                numbers: Joined::commas(&second),
                content: "second text",
                ..Default::default()
            },
        ];
        let ids: &[&str] = $report_ids;
        for client in onbuka_clients!($krate) {
            assert_locked(
                concat!($vendor, "_send_sms"),
                &client.prepare_send_sms(&body).unwrap(),
            );
            assert_locked(
                concat!($vendor, "_send_sms_get"),
                &client.prepare_send_sms_get(&body).unwrap(),
            );
            assert_locked(
                concat!($vendor, "_send_batch"),
                &client
                    .prepare_send_batch(&ob::SendBatchRequest {
                        array: &array,
                        ..Default::default()
                    })
                    .unwrap(),
            );
            assert_locked(
                concat!($vendor, "_balance"),
                &client
                    .prepare_get_balance(&ob::GetBalanceRequest::default())
                    .unwrap(),
            );
            assert_locked(
                concat!($vendor, "_report"),
                &client
                    .prepare_get_report(&ob::GetReportRequest {
                        msg_ids: Joined::commas(&ids),
                        ..Default::default()
                    })
                    .unwrap(),
            );
            assert_locked(
                concat!($vendor, "_sent_records"),
                &client
                    .prepare_get_sent_rcd(&ob::GetSentRcdRequest {
                        start_time: "2021-02-12T00:00:00+08:00",
                        end_time: "2021-02-13T00:00:00+08:00",
                        start_index: Some(50_000),
                        ..Default::default()
                    })
                    .unwrap(),
            );
            // An appId given in the body is sent as given.
            let other = client
                .prepare_get_balance(&ob::GetBalanceRequest { app_id: "other" })
                .unwrap();
            assert!(other.url.ends_with("?appId=other"), "{}", other.url);
        }
    }};
}

#[test]
fn itniotech_endpoints_send_the_locked_bytes() {
    onbuka_locked_bytes!(
        smsgate_itniotech,
        "itniotech",
        &["2207201629421000001", "2207201629421000002"]
    );
}

#[test]
fn laaffic_endpoints_send_the_locked_bytes() {
    onbuka_locked_bytes!(smsgate_laaffic, "laaffic", &["2207201629421000001"]);
}

fn nxcloud_clients() -> [smsgate_nxcloud::Client; 2] {
    let by_key = smsgate_nxcloud::Client::builder()
        .setting("access_key", ACCESS_KEY)
        .setting("access_secret", ACCESS_SECRET)
        .setting("app_key", "appKey")
        .clock(FixedClock::from_millis(NX_TS))
        .build()
        .unwrap();
    let typed = smsgate_nxcloud::Client::builder()
        .credentials(smsgate_nxcloud::Credentials {
            access_key: ACCESS_KEY.into(),
            access_secret: ACCESS_SECRET.into(),
            app_key: "appKey".into(),
            multi_mt_path: None,
        })
        .clock(FixedClock::from_millis(NX_TS))
        .build()
        .unwrap();
    [by_key, typed]
}

fn nxcloud_client() -> smsgate_nxcloud::Client {
    let [_, typed] = nxcloud_clients();
    typed
}

fn itniotech_client() -> smsgate_itniotech::Client {
    let [by_key, _] = onbuka_clients!(smsgate_itniotech);
    by_key
}

#[test]
fn nxcloud_endpoints_send_the_locked_bytes() {
    let bodies = [
        nxb::MultiMtItem {
            phone: "8613800138000",
            content: "Your code: 4711 — 验证码 ✓",
            sys_message_id: Some("order-0000001"),
            source_address: Some("SMSGATE"),
            ..Default::default()
        },
        nxb::MultiMtItem {
            phone: "8613800138001",
            content: "Tap #1# to confirm",
            short_link: Some("https://s.example/abc"),
            link_verbose: Some(LinkVerbose::X0),
            dr_url: Some("https://hooks.example/dr"),
            ext: Some("ticket-42"),
            ..Default::default()
        },
    ];
    let body = nxb::MtRequest {
        phone: Joined::commas(&NUMBERS),
        content: "hello & goodbye",
        ..Default::default()
    };
    for client in nxcloud_clients() {
        assert_locked(
            "nxcloud_send_multi",
            &client
                .prepare_send_multi(&nxb::MultiMtRequest {
                    items: &bodies,
                    ..Default::default()
                })
                .unwrap(),
        );
        assert_locked("nxcloud_send", &client.prepare_send(&body).unwrap());
    }
}

#[test]
fn generated_checks_refuse_bad_input_before_traffic_naming_field_and_limit() {
    let new = itniotech_client();
    let long = "x".repeat(1025);
    let err = new
        .prepare_send_sms(&ob::SendSmsRequest {
            numbers: Joined::commas(&NUMBERS),
            content: &long,
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "itniotech sendSms: content is 1025 characters, the limit is 1024"
    );

    let many: Vec<String> = (0..101).map(|i| format!("86138{i:08}")).collect();
    let err = new
        .prepare_send_sms_get(&ob::SendSmsRequest {
            numbers: Joined::commas(&many),
            content: "hi",
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("numbers has 101 entries, the limit is 100"),
        "{err}"
    );

    let plus = ["+8613800138000"];
    let err = new
        .prepare_send_sms(&ob::SendSmsRequest {
            numbers: Joined::commas(&plus),
            content: "hi",
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("numbers[0]"), "{err}");

    let one_id = ["o-1"];
    let err = new
        .prepare_send_sms(&ob::SendSmsRequest {
            numbers: Joined::commas(&NUMBERS),
            content: "hi",
            order_id: Some(Joined::commas(&one_id)),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("orderId"), "{err}");

    let array: Vec<ob::BatchMessage<'_>> = (0..2)
        .map(|_| ob::BatchMessage {
            numbers: Joined::commas(&many),
            content: "hi",
            ..Default::default()
        })
        .collect();
    let big: Vec<String> = (0..900).map(|i| format!("86139{i:08}")).collect();
    let array = [
        array[0],
        ob::BatchMessage {
            numbers: Joined::commas(&big),
            content: "hi",
            ..Default::default()
        },
    ];
    let err = new
        .prepare_send_batch(&ob::SendBatchRequest {
            array: &array,
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("array[].numbers has 1001 entries, the limit is 1000"),
        "{err}"
    );

    let nx = nxcloud_client();
    let items = [nxb::MultiMtItem {
        phone: "8613800138000",
        content: "hi",
        sys_message_id: Some("msg001"),
        ..Default::default()
    }];
    let err = nx
        .prepare_send_multi(&nxb::MultiMtRequest {
            items: &items,
            ..Default::default()
        })
        .unwrap_err();
    let smsgate_transport::Error::InvalidRequest(err) = err else {
        panic!("{err}")
    };
    assert_eq!(err.field, "items[0].sysMessageId");
    assert_eq!(
        err.kind,
        ValidationKind::Malformed {
            rule: "10 to 50 characters of [0-9a-zA-Z-]"
        }
    );
    let esc = [nxb::MultiMtItem {
        phone: "8613800138000",
        content: "a\u{1b}[2J",
        ..Default::default()
    }];
    let err = nx
        .prepare_send_multi(&nxb::MultiMtRequest {
            items: &esc,
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("items[0].content"), "{err}");
    let none: [nxb::MultiMtItem<'_>; 0] = [];
    assert!(
        nx.prepare_send_multi(&nxb::MultiMtRequest {
            items: &none,
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn generated_settings_name_what_is_missing_and_keep_secrets_out_of_debug() {
    let err = smsgate_itniotech::Client::builder()
        .setting("api_key", API_KEY)
        .setting("app_id", APP_ID)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::Missing(what) if what == "itniotech api_secret"),
        "{err}"
    );

    let nx = nxcloud_client();
    let debug = format!("{nx:?}");
    assert!(
        !debug.contains(ACCESS_SECRET) && debug.contains("[redacted]"),
        "{debug}"
    );

    let client = smsgate_nxcloud::Client::builder()
        .setting("access_key", "k")
        .setting("access_secret", "s")
        .setting("app_key", "a")
        .setting("multi_mt_path", "/api/sms/multi/mt")
        .base_url("http://api2.nxcloud.com/")
        .build()
        .unwrap();
    let items = [nxb::MultiMtItem {
        phone: "8615088888888",
        content: "x",
        ..Default::default()
    }];
    let request = client
        .prepare_send_multi(&nxb::MultiMtRequest {
            items: &items,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(request.url, "http://api2.nxcloud.com/api/sms/multi/mt");

    let bad_path = smsgate_nxcloud::Client::builder()
        .setting("access_key", "k")
        .setting("access_secret", "s")
        .setting("app_key", "a")
        .setting("multi_mt_path", "api/sms")
        .build()
        .unwrap_err();
    assert!(
        bad_path
            .to_string()
            .contains("multi_mt_path must start with /"),
        "{bad_path}"
    );
}

/// The last value given for a setting wins (an empty one means unset), and settings given both
/// typed and by key are refused rather than one set silently ignored.
#[test]
fn settings_are_taken_as_given_last_and_never_mixed() {
    let err = smsgate_itniotech::Client::builder()
        .api_key(API_KEY)
        .api_key("")
        .api_secret(API_SECRET)
        .app_id(APP_ID)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::Missing(what) if what == "itniotech api_key"),
        "{err}"
    );
    let err = smsgate_itniotech::Client::builder()
        .credentials(smsgate_itniotech::Credentials {
            api_key: API_KEY.into(),
            api_secret: API_SECRET.into(),
            app_id: APP_ID.into(),
        })
        .setting("app_id", "other")
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::Conflict { .. }), "{err}");
    let err = smsgate_itniotech::Client::builder()
        .setting("api_key", API_KEY)
        .setting("no_such_key", "x")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no_such_key"), "{err}");
}
