//! The generated operation layer (`generated/bodies.rs` and `generated/client.rs` of every vendor
//! crate) sends exactly the requests the wire snapshots lock: for every operation of every
//! vendor, the generated endpoint's signed request equals, byte for byte, the one the
//! snapshot-locked client builds from the same data. Plus the generated checks, settings and
//! path overrides.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on broken fixtures by design

use smsgate_itniotech::TextMessage;
use smsgate_nxcloud::generated::bodies as nxb;
use smsgate_nxcloud::generated::models::LinkVerbose;
use smsgate_nxcloud::{MessageOptions, MtMessage, MultiItem};
use smsgate_onbuka::bodies as ob;
use smsgate_transport::clock::FixedClock;
use smsgate_transport::endpoint::Joined;
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

macro_rules! onbuka_pair {
    ($krate:ident) => {{
        let old = $krate::Client::builder()
            .api_key(API_KEY)
            .api_secret(API_SECRET)
            .app_id(APP_ID)
            .clock(FixedClock::from_secs(DOC_TIMESTAMP))
            .build()
            .unwrap();
        let new = $krate::generated::client::Client::builder()
            .setting("api_key", API_KEY)
            .setting("api_secret", API_SECRET)
            .setting("app_id", APP_ID)
            .clock(FixedClock::from_secs(DOC_TIMESTAMP))
            .build()
            .unwrap();
        (old, new)
    }};
}

macro_rules! onbuka_same_bytes {
    ($krate:ident) => {{
        let (old, new) = onbuka_pair!($krate);
        let message = TextMessage::new(NUMBERS, TEXT)
            .order_ids(["o-1", "o-2"])
            .sender_id("SMSGATE");
        let order_ids = ["o-1", "o-2"];
        // The caller leaves appId empty: the client fills it from its settings.
        let body = ob::SendSmsRequest {
            numbers: Joined::commas(&NUMBERS),
            content: TEXT,
            order_id: Some(Joined::commas(&order_ids)),
            sender_id: Some("SMSGATE"),
            ..Default::default()
        };
        assert_eq!(
            new.prepare_send_sms(&body).unwrap(),
            old.prepare_send_sms(&message).unwrap()
        );
        assert_eq!(
            new.prepare_send_sms_get(&body).unwrap(),
            old.prepare_send_sms_get(&message).unwrap()
        );
        let second = ["919876543210"];
        let array = [
            ob::BatchMessage {
                numbers: Joined::commas(&NUMBERS),
                content: TEXT,
                order_id: Some(Joined::commas(&order_ids)),
                sender_id: Some("SMSGATE"),
            },
            ob::BatchMessage {
                numbers: Joined::commas(&second),
                content: "second text",
                ..Default::default()
            },
        ];
        let batch = [message.clone(), TextMessage::new(second, "second text")];
        assert_eq!(
            new.prepare_send_batch(&ob::SendBatchRequest {
                array: &array,
                ..Default::default()
            })
            .unwrap(),
            old.prepare_send_batch(&batch).unwrap()
        );
        assert_eq!(
            new.prepare_get_balance(&ob::GetBalanceRequest::default())
                .unwrap(),
            old.prepare_balance().unwrap()
        );
        let ids = ["2207201629421000001", "2207201629421000002"];
        assert_eq!(
            new.prepare_get_report(&ob::GetReportRequest {
                msg_ids: Joined::commas(&ids),
                ..Default::default()
            })
            .unwrap(),
            old.prepare_report(&ids).unwrap()
        );
    }};
}

#[test]
fn itniotech_endpoints_send_the_locked_bytes() {
    onbuka_same_bytes!(smsgate_itniotech);
}

#[test]
fn laaffic_endpoints_send_the_locked_bytes() {
    onbuka_same_bytes!(smsgate_laaffic);
}

fn nxcloud_pair() -> (
    smsgate_nxcloud::Client,
    smsgate_nxcloud::generated::client::Client,
) {
    let old = smsgate_nxcloud::Client::builder()
        .access_key(ACCESS_KEY)
        .access_secret(ACCESS_SECRET)
        .app_key("appKey")
        .clock(FixedClock::from_millis(NX_TS))
        .build()
        .unwrap();
    let new = smsgate_nxcloud::generated::client::Client::builder()
        .credentials(smsgate_nxcloud::generated::client::Credentials {
            access_key: ACCESS_KEY.into(),
            access_secret: ACCESS_SECRET.into(),
            app_key: "appKey".into(),
            multi_mt_path: None,
        })
        .clock(FixedClock::from_millis(NX_TS))
        .build()
        .unwrap();
    (old, new)
}

#[test]
fn nxcloud_endpoints_send_the_locked_bytes() {
    let (old, new) = nxcloud_pair();
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
    assert_eq!(
        new.prepare_send_multi(&nxb::MultiMtRequest {
            items: &bodies,
            ..Default::default()
        })
        .unwrap(),
        old.prepare_send_multi(&items).unwrap()
    );
    let message = MtMessage::new(NUMBERS, "hello & goodbye");
    let body = nxb::MtRequest {
        phone: Joined::commas(&NUMBERS),
        content: "hello & goodbye",
        ..Default::default()
    };
    assert_eq!(
        new.prepare_send(&body).unwrap(),
        old.prepare_send(&message).unwrap()
    );
}

#[test]
fn generated_checks_refuse_bad_input_before_traffic_naming_field_and_limit() {
    let (_, new) = onbuka_pair!(smsgate_itniotech);
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

    let (_, nx) = nxcloud_pair();
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
    let err = smsgate_itniotech::generated::client::Client::builder()
        .setting("api_key", API_KEY)
        .setting("app_id", APP_ID)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::Missing(what) if what == "itniotech api_secret"),
        "{err}"
    );

    let (_, nx) = nxcloud_pair();
    let debug = format!("{nx:?}");
    assert!(
        !debug.contains(ACCESS_SECRET) && debug.contains("[redacted]"),
        "{debug}"
    );

    let client = smsgate_nxcloud::generated::client::Client::builder()
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

    let bad_path = smsgate_nxcloud::generated::client::Client::builder()
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
