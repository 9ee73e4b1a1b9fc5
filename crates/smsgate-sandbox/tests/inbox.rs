//! The inbox: what the simulator received, through the Rust methods and the JSON API alike —
//! newest first, filters, the bounded ring and its dropped count, clearing, redaction of every
//! vendor's secrets, injected faults, delivery-report pushes, and the live event stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::time::Duration;

use serde_json::Value;
use smsgate_itniotech::generated::client::Credentials as ItniotechCredentials;
use smsgate_nxcloud::generated::bodies::MtRequest;
use smsgate_nxcloud::generated::client::Credentials as NxcloudCredentials;
use smsgate_onbuka::bodies::SendSmsRequest;
use smsgate_sandbox::{
    Faults, InboxEvent, InjectedFault, MessageDetail, MessageFilter, MessageList, PushState,
    ReportOutcome, Sandbox, SandboxConfig, TextEncoding,
};
use smsgate_transport::endpoint::{Joined, StrList};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sms<'a>(numbers: &'a dyn StrList, content: &'a str) -> SendSmsRequest<'a> {
    SendSmsRequest {
        numbers: Joined::commas(numbers),
        content,
        ..Default::default()
    }
}

async fn itniotech_send(sandbox: &Sandbox, numbers: &[&str], content: &str) -> Value {
    let client = sandbox
        .client_builder::<ItniotechCredentials>()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let answer = client.send_sms(&sms(&numbers, content)).await.unwrap();
    serde_json::to_value(answer).unwrap()
}

fn all() -> MessageFilter {
    MessageFilter::default()
}

async fn get(url: &str) -> (u16, Value) {
    let answer = http_get(url).await.unwrap();
    let status = answer.status().as_u16();
    let body = answer.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Every secret setting of every account (what must never show in the inbox).
fn secrets(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .config()
        .accounts
        .values()
        .flat_map(|account| account.settings())
        .filter(|(_, value)| value.is_secret())
        .map(|(_, value)| value.expose().to_owned())
        .collect()
}

#[tokio::test]
async fn messages_are_listed_newest_first_with_encoding_parts_and_ids() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let first = itniotech_send(&sandbox, &["8613800138000", "8613800138001"], "hello").await;
    let long = "  Ваш код: 4711, спасибо!  ".repeat(4);
    let second = itniotech_send(&sandbox, &["447400123456"], &long).await;

    let list = sandbox.messages(&all());
    assert_eq!((list.kept, list.dropped, list.capacity), (3, 0, 10_000));
    let [newest, middle, oldest] = list.messages.as_slice() else {
        panic!("{list:?}");
    };
    assert!(newest.id > middle.id && middle.id > oldest.id);
    assert_eq!(newest.vendor, "itniotech");
    assert_eq!(newest.operation, "sendSms");
    assert_eq!(newest.to, "447400123456");
    assert_eq!(newest.to_formatted, "+44 7400 123456");
    assert_eq!(newest.text, long, "the text exactly, whitespace kept");
    assert_eq!(newest.encoding, TextEncoding::Ucs2);
    assert_eq!(newest.parts, 2);
    assert_eq!(
        newest.vendor_message_id.as_deref(),
        second["array"][0]["msgId"].as_str()
    );
    assert_eq!(oldest.to_formatted, "+86 138 0013 8000");
    assert_eq!((oldest.encoding, oldest.parts), (TextEncoding::Gsm7, 1));
    assert_eq!(
        oldest.vendor_message_id.as_deref(),
        first["array"][0]["msgId"].as_str()
    );
    assert_eq!(oldest.fault, None);
    assert!(oldest.report.outcome.is_some());
    assert_eq!(oldest.report.push, PushState::NotPushed);

    // The detail carries the request both messages of the first send came in, and its answer.
    let detail = sandbox.message(oldest.id).unwrap();
    assert_eq!(detail.request.method, "POST");
    assert!(detail.request.body.contains("8613800138000,8613800138001"));
    let answer = detail.answer.unwrap();
    assert_eq!(answer.status, 200);
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["array"], json_ids(&first), "{body}");
    assert_eq!(sandbox.message(middle.id).unwrap().request, detail.request);

    // The API answers the same as the methods.
    let (status, api) = get(&format!("{}/_sandbox/messages", sandbox.url())).await;
    assert_eq!(status, 200);
    let api: MessageList = serde_json::from_value(api).unwrap();
    assert_eq!(api, sandbox.messages(&all()));
    let (status, api) = get(&format!(
        "{}/_sandbox/messages/{}",
        sandbox.url(),
        oldest.id
    ))
    .await;
    assert_eq!(status, 200);
    let api: MessageDetail = serde_json::from_value(api).unwrap();
    assert_eq!(api, sandbox.message(oldest.id).unwrap());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn filters_by_number_vendor_text_and_since() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let before = smsgate_sandbox_now();
    itniotech_send(&sandbox, &["8613800138000"], "Your code is 1234").await;
    let nxcloud = sandbox
        .client_builder::<NxcloudCredentials>()
        .build()
        .unwrap();
    nxcloud
        .send(&MtRequest {
            phone: Joined::commas(&["447400123456"]),
            content: "Parcel arriving today",
            ..Default::default()
        })
        .await
        .unwrap();

    let filter = |f: MessageFilter| -> Vec<String> {
        sandbox
            .messages(&f)
            .messages
            .into_iter()
            .map(|m| m.to)
            .collect()
    };
    assert_eq!(
        filter(MessageFilter {
            vendor: Some("nxcloud".into()),
            ..all()
        }),
        ["447400123456"]
    );
    assert_eq!(
        filter(MessageFilter {
            to: Some("+86 138-0013".into()),
            ..all()
        }),
        ["8613800138000"]
    );
    assert_eq!(
        filter(MessageFilter {
            text: Some("PARCEL".into()),
            ..all()
        }),
        ["447400123456"]
    );
    assert_eq!(
        filter(MessageFilter {
            since_ms: Some(before),
            ..all()
        })
        .len(),
        2
    );
    assert!(
        filter(MessageFilter {
            since_ms: Some(before + 3_600_000),
            ..all()
        })
        .is_empty()
    );
    assert_eq!(
        filter(MessageFilter {
            limit: Some(1),
            ..all()
        }),
        ["447400123456"]
    );

    // The same over HTTP; `since` as milliseconds or a UTC time.
    let list = |query: &str| {
        let url = format!("{}/_sandbox/messages?{query}", sandbox.url());
        async move {
            let (status, body) = get(&url).await;
            (status, body)
        }
    };
    let (status, body) = list("vendor=itniotech&to=8613800138000").await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["messages"][0]["text"], "Your code is 1234");
    let (_, body) = list(&format!("since={before}")).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "{body}");
    let (_, body) = list("since=2999-01-01T00:00:00Z").await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 0, "{body}");
    let (status, body) = list("since=yesterday").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("since"), "{body}");
    sandbox.shutdown().await;
}

/// The answer's `array` with the ids and numbers only (the typed answer drops null fields).
fn json_ids(answer: &Value) -> Value {
    answer["array"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::json!({"msgId": e["msgId"], "number": e["number"], "orderId": null}))
        .collect()
}

/// Now, UNIX milliseconds, minus a second of slack.
fn smsgate_sandbox_now() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(now.as_millis()).unwrap() - 1000
}

#[tokio::test]
async fn the_ring_keeps_the_newest_counts_the_dropped_and_clears() {
    let sandbox = Sandbox::start(SandboxConfig {
        inbox_capacity: 3,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let numbers: Vec<String> = (0..5).map(|i| format!("861380013800{i}")).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    itniotech_send(&sandbox, &numbers, "hello").await;
    let list = sandbox.messages(&all());
    assert_eq!((list.kept, list.dropped, list.capacity), (3, 2, 3));
    let kept: Vec<&str> = list.messages.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(kept, ["8613800138004", "8613800138003", "8613800138002"]);
    let newest = list.messages[0].id;
    assert!(sandbox.message(newest - 3).is_none(), "dropped");

    let (status, body) = get(&format!(
        "{}/_sandbox/messages/{}",
        sandbox.url(),
        newest - 3
    ))
    .await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("--keep"), "{body}");

    let cleared = http_client()
        .delete(format!("{}/_sandbox/messages", sandbox.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status().as_u16(), 204);
    let list = sandbox.messages(&all());
    assert_eq!((list.kept, list.dropped, list.messages.len()), (0, 0, 0));
    assert!(sandbox.message(newest).is_none());

    // Ids go on after a clear.
    itniotech_send(&sandbox, &["8613800138000"], "again").await;
    assert!(sandbox.messages(&all()).messages[0].id > newest);
    sandbox.clear();
    assert_eq!(sandbox.messages(&all()).kept, 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn keep_zero_keeps_nothing_and_counts_everything_dropped() {
    let sandbox = Sandbox::start(SandboxConfig {
        inbox_capacity: 0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let answer = itniotech_send(&sandbox, &["8613800138000"], "hello").await;
    assert_eq!(answer["success"], "1", "sends still work: {answer}");
    let list = sandbox.messages(&all());
    assert_eq!((list.kept, list.dropped, list.capacity), (0, 1, 0));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn no_vendor_secret_shows_in_the_inbox() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    itniotech_send(&sandbox, &["8613800138000"], "itniotech text").await;
    sandbox
        .client_builder::<NxcloudCredentials>()
        .build()
        .unwrap()
        .send(&MtRequest {
            phone: Joined::commas(&["447400123456"]),
            content: "nxcloud text",
            ..Default::default()
        })
        .await
        .unwrap();
    sandbox
        .client_builder::<smsgate_twilio::generated::client::Credentials>()
        .build()
        .unwrap()
        .create_message(&smsgate_twilio::bodies::CreateMessageRequest {
            to: "+14155552345",
            from: Some("+15005550006"),
            body: "twilio text",
            ..Default::default()
        })
        .await
        .unwrap();
    sandbox
        .client_builder::<smsgate_vonage::generated::client::Credentials>()
        .build()
        .unwrap()
        .send_sms(&smsgate_vonage::bodies::SendSmsRequest {
            to: "447700900123",
            text: "vonage text",
            ..Default::default()
        })
        .await
        .unwrap();

    let list = sandbox.messages(&all());
    let vendors: Vec<&str> = list.messages.iter().map(|m| m.vendor.as_str()).collect();
    assert_eq!(vendors, ["vonage", "twilio", "nxcloud", "itniotech"]);
    let secrets = secrets(&sandbox);
    assert!(secrets.len() >= 4, "{secrets:?}");
    for message in &list.messages {
        assert_eq!(message.text, format!("{} text", message.vendor));
        let (_, detail) = get(&format!(
            "{}/_sandbox/messages/{}",
            sandbox.url(),
            message.id
        ))
        .await;
        let shown = detail.to_string();
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "{secret} shows in {shown}"
            );
        }
        let detail: MessageDetail = serde_json::from_value(detail).unwrap();
        // Every signature, key and Authorization header is replaced, not left out.
        let redacted_headers: Vec<&str> = detail
            .request
            .headers
            .iter()
            .filter(|h| h.value == "[redacted]")
            .map(|h| h.name.as_str())
            .collect();
        match message.vendor.as_str() {
            "itniotech" => {
                assert!(redacted_headers.contains(&"sign"), "{redacted_headers:?}");
                assert!(
                    redacted_headers.contains(&"api-key"),
                    "{redacted_headers:?}"
                );
            }
            "nxcloud" => {
                assert!(redacted_headers.contains(&"sign"), "{redacted_headers:?}");
                assert!(
                    redacted_headers.contains(&"accesskey"),
                    "{redacted_headers:?}"
                );
            }
            "twilio" => {
                assert!(
                    redacted_headers.contains(&"authorization"),
                    "{redacted_headers:?}"
                );
            }
            "vonage" => {
                let params = format!("{}&{}", detail.request.query, detail.request.body);
                assert!(
                    params.contains("api_secret=[redacted]") || params.contains("sig=[redacted]"),
                    "{params}"
                );
                assert!(params.contains("api_key=[redacted]"), "{params}");
            }
            other => panic!("unexpected vendor {other}"),
        }
        assert!(detail.request.body.contains("text"), "{:?}", detail.request);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_faults_are_shown() {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: Faults {
            reject_rate: 1.0,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let answer = itniotech_send(&sandbox, &["8613800138000"], "refused").await;
    assert_eq!(answer["fail"], "1", "{answer}");
    let message = sandbox.messages(&all()).messages.remove(0);
    assert_eq!(message.fault, Some(InjectedFault::Rejected));
    assert_eq!(message.vendor_message_id, None);
    assert_eq!(message.report.outcome, None);
    sandbox.shutdown().await;

    let sandbox = Sandbox::start(SandboxConfig {
        faults: Faults {
            http_500_rate: 1.0,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = sandbox
        .client_builder::<ItniotechCredentials>()
        .build()
        .unwrap();
    assert!(
        client
            .send_sms(&sms(&["8613800138000"], "x"))
            .await
            .is_err()
    );
    let message = sandbox.messages(&all()).messages.remove(0);
    assert_eq!(message.fault, Some(InjectedFault::Http500));
    assert!(message.vendor_message_id.is_some(), "accepted all the same");
    let detail = sandbox.message(message.id).unwrap();
    assert_eq!(detail.answer.unwrap().status, 200, "the answer withheld");
    sandbox.shutdown().await;
}

/// The next event, within 5 s.
async fn next(events: &mut smsgate_sandbox::InboxSubscription) -> InboxEvent {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream is open")
}

#[tokio::test]
async fn events_announce_messages_pushes_and_clearing() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let sandbox = Sandbox::start(SandboxConfig {
        push_url: Some(format!("{}/push", receiver.uri())),
        delivery_rate: 1.0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let mut events = sandbox.subscribe();
    itniotech_send(&sandbox, &["8613800138000"], "live").await;
    let InboxEvent::Received {
        message,
        kept,
        dropped,
        oldest_kept,
    } = next(&mut events).await
    else {
        panic!("expected received");
    };
    assert_eq!((message.text.as_str(), kept, dropped), ("live", 1, 0));
    assert_eq!(oldest_kept, Some(message.id));
    assert_eq!(message.report.outcome, Some(ReportOutcome::Delivered));
    // The push goes out: the message is updated.
    let mut pushed = false;
    while !pushed {
        match next(&mut events).await {
            InboxEvent::Updated { message: updated } => {
                assert_eq!(updated.id, message.id);
                pushed = updated.report.push == PushState::Pushed;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        sandbox
            .message(message.id)
            .unwrap()
            .message
            .report
            .pushes_delivered,
        1
    );
    sandbox.clear();
    assert_eq!(next(&mut events).await, InboxEvent::Cleared);

    // Over HTTP: server-sent events, named by kind.
    let mut stream = http_get(format!("{}/_sandbox/events", sandbox.url()))
        .await
        .unwrap();
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    // The stream opens with `ready`; then a send arrives as `received`.
    while !seen.contains("event: ready") {
        seen.push_str(&String::from_utf8_lossy(
            &stream.chunk().await.unwrap().unwrap(),
        ));
    }
    itniotech_send(&sandbox, &["8613800138009"], "over sse").await;
    let read = async {
        while !seen.contains("over sse") {
            seen.push_str(&String::from_utf8_lossy(
                &stream.chunk().await.unwrap().unwrap(),
            ));
        }
        seen
    };
    let seen = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .unwrap();
    assert!(
        seen.contains("event: received\ndata: {\"kind\":\"received\""),
        "{seen}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_page_is_served_from_the_binary_with_a_strict_policy() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    assert_eq!(sandbox.inbox_url(), format!("{}/", sandbox.url()));
    let page = http_get(sandbox.inbox_url()).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/_sandbox/inbox.js") && html.contains("/_sandbox/inbox.css"));
    // Every simulated vendor can be filtered by.
    for vendor in smsgate_sandbox::VENDORS {
        let name = vendor.spec().name;
        assert!(
            html.contains(&format!("<option value=\"{name}\">{name}</option>")),
            "{name}"
        );
    }
    for (path, kind) in [
        ("/_sandbox/inbox.js", "text/javascript"),
        ("/_sandbox/inbox.css", "text/css"),
    ] {
        let asset = http_get(format!("{}{path}", sandbox.url())).await.unwrap();
        assert_eq!(asset.status().as_u16(), 200);
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    // Message text reaches the page only as text, never as markup.
    let script = http_get(format!("{}/_sandbox/inbox.js", sandbox.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!script.contains("innerHTML") && !script.contains("insertAdjacentHTML"));
    // The vendor APIs stay where they were.
    let answer = itniotech_send(&sandbox, &["8613800138000"], "still served").await;
    assert_eq!(answer["success"], "1");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn on_loopback_the_inbox_refuses_foreign_host_names() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = http_client();
    let url = format!("{}/_sandbox/messages", sandbox.url());
    let answer = |host: &'static str| {
        let request = client.get(&url).header("Host", host);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(answer("rebound.example:8080").await, 403);
    assert_eq!(answer("localhost:8080").await, 200);
    assert_eq!(answer("127.0.0.1").await, 200);
    // The vendor APIs are not the inbox: they answer whatever the host.
    let vendor = client
        .post(format!("{}/sms/sendSms", sandbox.url()))
        .header("Host", "rebound.example")
        .send()
        .await
        .unwrap();
    assert_ne!(vendor.status().as_u16(), 403);
    sandbox.shutdown().await;
}

/// A reqwest client with smsgate's TLS settings (reqwest is built without a default provider).
fn http_client() -> reqwest::Client {
    smsgate_transport::http::client_builder()
        .unwrap()
        .build()
        .unwrap()
}

/// `GET url` with [`http_client`].
async fn http_get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    http_client().get(url).send().await
}
