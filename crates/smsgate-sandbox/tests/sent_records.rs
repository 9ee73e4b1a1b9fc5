//! The platform's sent records by time range (`getSentRcd`) on the simulator, for both brands:
//! what the generated clients sent is what `Provider::sent_records` lists back (ids and
//! numbers), nothing before it, pages from `startIndex`, the platform's codes for a bad range,
//! and a range over 31 days refused by the provider before any request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use smsgate::Provider;
use smsgate_itniotech::generated::client::Credentials as ItniotechCredentials;
use smsgate_laaffic::generated::client::Credentials as LaafficCredentials;
use smsgate_onbuka::bodies::{BatchMessage, GetSentRcdRequest, SendBatchRequest, SendSmsRequest};
use smsgate_onbuka::iso_utc;
use smsgate_sandbox::{Sandbox, SandboxConfig};
use smsgate_transport::endpoint::{Joined, StrList};
use smsgate_transport::http::{HttpClient, HttpConfig};
use smsgate_transport::wire::WireRequest;

const DAY_MS: u64 = 86_400_000;

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

fn itniotech(sandbox: &Sandbox) -> smsgate_itniotech::Client {
    sandbox
        .client_builder::<ItniotechCredentials>()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn laaffic(sandbox: &Sandbox) -> smsgate_laaffic::Client {
    sandbox
        .client_builder::<LaafficCredentials>()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn sms<'a>(numbers: &'a dyn StrList, content: &'a str) -> SendSmsRequest<'a> {
    SendSmsRequest {
        numbers: Joined::commas(numbers),
        content,
        ..Default::default()
    }
}

/// (id, number) pairs, sorted.
fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

/// What `provider` lists from `from_ms` to `to_ms`, as sorted (id, number) pairs; every record
/// sent on, with its time.
async fn listed(provider: &dyn Provider, from_ms: u64, to_ms: u64) -> Vec<(String, String)> {
    let records = provider.sent_records(from_ms, to_ms).await.unwrap();
    assert!(
        records.iter().all(|r| !r.failed && r.at.is_some()),
        "{records:?}"
    );
    sorted(
        records
            .into_iter()
            .map(|r| (r.message_id, r.number))
            .collect(),
    )
}

/// The platform code of a `getSentRcd` refusal.
fn code<C: smsgate_transport::spec::CodeTable>(err: smsgate_transport::Error<C>) -> String {
    match err {
        smsgate_transport::Error::Vendor { code, .. } => code.code().to_owned(),
        other => panic!("expected a vendor error, got {other:?}"),
    }
}

/// Sends `request` as it is and reads the answer's JSON.
async fn raw(request: WireRequest) -> Value {
    let op = smsgate_itniotech::generated::operations::GET_SENT_RCD;
    let response = HttpClient::new(&HttpConfig::default())
        .unwrap()
        .execute::<()>(&op, request, 1)
        .await
        .unwrap();
    serde_json::from_slice(&response.body).unwrap()
}

#[tokio::test]
async fn sent_records_list_what_each_brand_accepted() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let (it, la) = (itniotech(&sandbox), laaffic(&sandbox));
    assert_eq!(
        it.sent_records_range(),
        Some(Duration::from_secs(31 * 86_400))
    );
    let before = now_ms();

    let answer = it
        .send_sms(&sms(&["8613800138000", "8613800138001"], "hello"))
        .await
        .unwrap();
    let mut sent_it: Vec<(String, String)> = answer
        .array
        .into_iter()
        .map(|a| (a.msg_id, a.number))
        .collect();
    let second = ["8613800138003", "8613800138004"];
    let batch = [
        BatchMessage {
            numbers: Joined::commas(&["8613800138002"]),
            content: "a",
            ..Default::default()
        },
        BatchMessage {
            numbers: Joined::commas(&second),
            content: "b",
            ..Default::default()
        },
    ];
    let answer = it
        .send_batch(&SendBatchRequest {
            array: &batch,
            ..Default::default()
        })
        .await
        .unwrap();
    sent_it.extend(answer.array.into_iter().map(|a| (a.msg_id, a.number)));
    let sent_it = sorted(sent_it);
    assert_eq!(sent_it.len(), 5);

    let answer = la
        .send_sms(&sms(&["919876543210", "919876543211"], "hi"))
        .await
        .unwrap();
    let sent_la = sorted(
        answer
            .array
            .into_iter()
            .map(|a| (a.msg_id, a.number))
            .collect(),
    );
    assert_eq!(sent_la.len(), 2);
    let after = now_ms();

    // Exactly what each brand's account accepted, the other brand's messages left out.
    assert_eq!(listed(&it, before, after).await, sent_it);
    assert_eq!(listed(&la, before, after).await, sent_la);
    // A range reaching back before them ends the second before they were sent: nothing.
    assert!(
        listed(&it, before - 10 * DAY_MS, before - 2000)
            .await
            .is_empty()
    );
    assert!(
        listed(&la, before - 31 * DAY_MS, before - 2000)
            .await
            .is_empty()
    );

    // Pages start at startIndex, in time then id order.
    let (start, end) = (iso_utc(before), iso_utc(after));
    let query = |start_index| GetSentRcdRequest {
        start_time: &start,
        end_time: &end,
        start_index,
        ..Default::default()
    };
    let all = it.get_sent_rcd(&query(None)).await.unwrap();
    assert_eq!(all.success.as_deref(), Some("5"));
    assert_eq!(all.fail.as_deref(), Some("0"));
    assert!(all.array.iter().all(|r| r.status == "0"));
    let rest = it.get_sent_rcd(&query(Some(3))).await.unwrap();
    assert_eq!(
        rest.array
            .iter()
            .map(|r| r.msg_id.as_str())
            .collect::<Vec<_>>(),
        all.array[3..]
            .iter()
            .map(|r| r.msg_id.as_str())
            .collect::<Vec<_>>()
    );
    assert!(
        it.get_sent_rcd(&query(Some(5)))
            .await
            .unwrap()
            .array
            .is_empty()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_ranges_get_the_platform_codes() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let it = itniotech(&sandbox);
    let query = |start_time, end_time| GetSentRcdRequest {
        start_time,
        end_time,
        ..Default::default()
    };
    // 31 days is the longest range; one second more, or an end before the start, is -25.
    let longest = query("2021-02-12T00:00:00+08:00", "2021-03-15T00:00:00+08:00");
    assert!(it.get_sent_rcd(&longest).await.unwrap().array.is_empty());
    for (start, end) in [
        ("2021-02-12T00:00:00+08:00", "2021-03-15T00:00:01+08:00"),
        ("2021-02-12T00:00:00+08:00", "2021-02-11T23:59:59+08:00"),
        // The same instants written with other offsets: 31 days and a second.
        ("2021-02-11T16:00:00+00:00", "2021-03-15T00:00:01+08:00"),
    ] {
        let err = it.get_sent_rcd(&query(start, end)).await.unwrap_err();
        assert_eq!(code(err), "-25", "{start} → {end}");
    }
    // The client refuses a malformed time; sent as it is, the platform answers -11.
    let mut request = it
        .prepare_get_sent_rcd(&query(
            "2021-02-12T00:00:00+08:00",
            "2021-02-13T00:00:00+08:00",
        ))
        .unwrap();
    assert!(
        it.prepare_get_sent_rcd(&query("yesterday", "2021-02-13T00:00:00+08:00"))
            .is_err()
    );
    request.url = request.url.replace(
        "startTime=2021-02-12T00%3A00%3A00%2B08%3A00",
        "startTime=2021-02-30T00%3A00%3A00%2B08%3A00",
    );
    assert!(request.url.contains("2021-02-30"), "{}", request.url);
    let answer = raw(request.clone()).await;
    assert_eq!(answer["status"], "-11", "{answer}");
    request.url = request
        .url
        .replace("&startTime=2021-02-30T00%3A00%3A00%2B08%3A00", "");
    assert!(!request.url.contains("startTime"), "{}", request.url);
    assert_eq!(raw(request).await["status"], "-14");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_range_over_31_days_is_refused_before_any_request() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = smsgate_laaffic::Client::builder()
        .api_key("key")
        .api_secret("secret")
        .app_id("app")
        .base_url(server.uri())
        .build()
        .unwrap();
    let start = 1_630_468_800_000;
    for (from, to) in [(start, start + 31 * DAY_MS + 1), (start, start - 1)] {
        let err = client.sent_records(from, to).await.unwrap_err();
        assert!(
            matches!(&err, smsgate::QueryError::Failed(text) if text.starts_with("laaffic sent records")),
            "{err:?}"
        );
    }
    server.verify().await;
}
