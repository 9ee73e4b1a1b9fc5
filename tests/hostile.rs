//! Every vendor client against hostile local servers (raw TCP on 127.0.0.1): redirects to a
//! second listener, a 1 GiB `Content-Length`, a real body over the limit, an endless chunked
//! stream, a trickling body, a non-2xx with a huge body; control characters refused before any
//! traffic; proxy and base-URL credentials never printed; and the facade's verdict on each
//! (unknown, never rejected, never failed over).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smsgate_itniotech::bodies::SendSmsRequest;
use smsgate_nxcloud::bodies::{MtRequest, MultiMtItem, MultiMtRequest};
use smsgate_transport::endpoint::Joined;
use smsgate_transport::error::{BODY_EXCERPT_LIMIT, TransportFailure};
use smsgate_transport::http::{DEFAULT_MAX_BODY_BYTES, HttpConfig};
use smsgate_transport::{ConfigError, ValidationKind};

const SECRET: &str = "s3cr3t-api-secret";
const NX_SECRET: &str = "s3cr3t-access-secret";
const TW_SECRET: &str = "s3cr3t-auth-token";
const VN_SECRET: &str = "s3cr3t-vonage-secret";

/// What a hostile server observed.
#[derive(Default)]
struct Seen {
    /// Connections accepted.
    connections: AtomicUsize,
    /// Bytes the server wrote (endless answers).
    written: AtomicUsize,
    /// An endless answer stopped because the client went away.
    client_gone: AtomicBool,
}

/// A local server answering every connection with `answer` after reading one request.
struct Hostile {
    url: String,
    seen: Arc<Seen>,
}

impl Hostile {
    fn start(answer: impl Fn(&mut TcpStream, &Seen) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let answer = Arc::new(answer);
        let server_seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                server_seen.connections.fetch_add(1, Ordering::SeqCst);
                let (answer, seen) = (Arc::clone(&answer), Arc::clone(&server_seen));
                std::thread::spawn(move || {
                    if read_request(&mut stream) {
                        answer(&mut stream, &seen);
                    }
                });
            }
        });
        Self { url, seen }
    }

    /// Answers with exactly `bytes`.
    fn fixed(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        Self::start(move |stream, _| {
            let _ = stream.write_all(&bytes);
        })
    }

    /// Answers `status` with a chunked body that never ends.
    fn endless(status: &'static str) -> Self {
        Self::start(move |stream, seen| {
            let head = format!("HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n\r\n");
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let mut chunk = b"4000\r\n".to_vec();
            chunk.extend(std::iter::repeat_n(b'x', 0x4000));
            chunk.extend(b"\r\n");
            while stream.write_all(&chunk).is_ok() {
                seen.written.fetch_add(chunk.len(), Ordering::SeqCst);
            }
            seen.client_gone.store(true, Ordering::SeqCst);
        })
    }

    fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// Waits (up to 3 s, without blocking the runtime) until the client has dropped an endless
    /// answer; returns the bytes the server managed to write.
    async fn wait_client_gone(&self) -> usize {
        let started = Instant::now();
        while !self.seen.client_gone.load(Ordering::SeqCst) {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "the client kept reading"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.seen.written.load(Ordering::SeqCst)
    }
}

/// Reads a request's head and its `Content-Length` body; false when the client went away.
fn read_request(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).is_ok()
}

/// A listener that must never see a connection (the target of a redirect).
struct Bystander(TcpListener);

impl Bystander {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self(listener)
    }

    fn origin(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }

    fn assert_untouched(&self) {
        std::thread::sleep(Duration::from_millis(50));
        match self.0.accept() {
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(_) => panic!("{} received a connection", self.origin()),
            Err(err) => panic!("{err}"),
        }
    }
}

fn itniotech(base_url: &str) -> smsgate_itniotech::Client {
    smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url(base_url)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

fn laaffic(base_url: &str) -> smsgate_laaffic::Client {
    smsgate_laaffic::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url(base_url)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

fn nxcloud(base_url: &str) -> smsgate_nxcloud::Client {
    smsgate_nxcloud::Client::builder()
        .access_key("key")
        .access_secret(NX_SECRET)
        .app_key("app")
        .base_url(base_url)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

fn twilio(base_url: &str) -> smsgate_twilio::Client {
    smsgate_twilio::Client::builder()
        .account_sid("AC0123456789abcdef0123456789abcdef")
        .auth_token(TW_SECRET)
        .from("+15005550006")
        .base_url(base_url)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

fn vonage(base_url: &str) -> smsgate_vonage::Client {
    smsgate_vonage::Client::builder()
        .api_key("abcd1234")
        .api_secret(VN_SECRET)
        .from("Acme")
        .base_url(base_url)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

const ONE: [&str; 1] = ["8613800138000"];

fn twilio_message() -> smsgate_twilio::bodies::CreateMessageRequest<'static> {
    smsgate_twilio::bodies::CreateMessageRequest {
        to: "+8613800138000",
        body: "hello",
        ..Default::default()
    }
}

fn vonage_sms() -> smsgate_vonage::bodies::SendSmsRequest<'static> {
    smsgate_vonage::bodies::SendSmsRequest {
        to: "8613800138000",
        text: "hello",
        ..Default::default()
    }
}

fn text() -> SendSmsRequest<'static> {
    SendSmsRequest {
        numbers: Joined::commas(&ONE),
        content: "hello",
        ..Default::default()
    }
}

fn item() -> MultiMtItem<'static> {
    MultiMtItem {
        phone: "8613800138000",
        content: "hello",
        ..Default::default()
    }
}

fn multi<'a>(items: &'a [MultiMtItem<'a>]) -> MultiMtRequest<'a> {
    MultiMtRequest {
        items,
        ..Default::default()
    }
}

/// What every client's error says, with whether it may have reached the vendor, and its
/// transport failure or HTTP status.
struct Failure {
    message: String,
    debug: String,
    may_have_reached_vendor: bool,
    failure: Option<TransportFailure>,
    status: Option<u16>,
    redirect_origin: Option<String>,
}

fn failure<C: smsgate_transport::spec::CodeTable<Class = smsgate_transport::spec::ErrorClass>>(
    err: smsgate_transport::Error<C>,
) -> Failure {
    let (failure, status, redirect_origin) = match &err {
        smsgate_transport::Error::Transport { failure, .. } => (Some(*failure), None, None),
        smsgate_transport::Error::UnexpectedStatus {
            status,
            redirect_origin,
            ..
        } => (None, Some(*status), redirect_origin.clone()),
        _ => (None, None, None),
    };
    Failure {
        message: err.to_string(),
        debug: format!("{err:?}"),
        may_have_reached_vendor: err.may_have_reached_vendor(),
        failure,
        status,
        redirect_origin,
    }
}

/// The same send through every vendor client at `base_url`.
async fn every_client(base_url: &str) -> Vec<(&'static str, Failure)> {
    vec![
        (
            "itniotech",
            failure(itniotech(base_url).send_sms(&text()).await.unwrap_err()),
        ),
        (
            "laaffic",
            failure(laaffic(base_url).send_sms(&text()).await.unwrap_err()),
        ),
        (
            "nxcloud",
            failure(
                nxcloud(base_url)
                    .send_multi(&multi(&[item()]))
                    .await
                    .unwrap_err(),
            ),
        ),
        (
            "twilio",
            failure(
                twilio(base_url)
                    .create_message(&twilio_message())
                    .await
                    .unwrap_err(),
            ),
        ),
        (
            "vonage",
            failure(vonage(base_url).send_sms(&vonage_sms()).await.unwrap_err()),
        ),
    ]
}

#[tokio::test]
async fn no_client_follows_a_redirect() {
    for status in [301, 302, 303, 307, 308] {
        let bystander = Bystander::new();
        let origin = bystander.origin();
        let location = format!(
            "http://user:pw@{}/stolen?key=k3y",
            origin.trim_start_matches("http://")
        );
        let server = Hostile::fixed(format!(
            "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        ));
        for (vendor, failure) in every_client(&server.url).await {
            assert_eq!(failure.status, Some(status), "{vendor}: {}", failure.debug);
            assert_eq!(
                failure.redirect_origin.as_deref(),
                Some(&*origin),
                "{vendor}"
            );
            assert!(
                failure.message.ends_with(&format!(
                    "HTTP {status} redirect to {origin} refused: smsgate never follows redirects"
                )),
                "{vendor}: {}",
                failure.message
            );
            assert!(failure.may_have_reached_vendor, "{vendor}");
            for leak in [
                "stolen", "k3y", "pw", SECRET, NX_SECRET, TW_SECRET, VN_SECRET,
            ] {
                assert!(!failure.debug.contains(leak), "{vendor}: {leak}");
            }
        }
        bystander.assert_untouched();
        assert_eq!(server.connections(), 5);
    }
}

#[tokio::test]
async fn a_redirect_to_plain_http_is_refused_like_any_other() {
    // The policy does not depend on the target: an `https` base URL redirected to `http` is
    // refused the same way. Shown from a plain server, which is enough for the policy.
    let bystander = Bystander::new();
    let server = Hostile::fixed(format!(
        "HTTP/1.1 302 Found\r\nLocation: {}/downgraded\r\nContent-Length: 0\r\n\r\n",
        bystander.origin()
    ));
    for (vendor, failure) in every_client(&server.url).await {
        assert_eq!(failure.status, Some(302), "{vendor}");
        assert!(failure.message.contains("smsgate never follows redirects"));
    }
    bystander.assert_untouched();
}

fn assert_too_large(vendor: &str, failure: &Failure, limit: usize) {
    assert_eq!(
        failure.failure,
        Some(TransportFailure::BodyTooLarge { limit }),
        "{vendor}: {}",
        failure.debug
    );
    assert!(failure.may_have_reached_vendor, "{vendor}");
}

#[tokio::test]
async fn an_announced_1_gib_body_is_refused_without_reading_it() {
    let server = Hostile::start(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n{");
        // Hold the connection: a client reading the body would wait for its timeout.
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let started = Instant::now();
    for (vendor, failure) in every_client(&server.url).await {
        assert_too_large(vendor, &failure, DEFAULT_MAX_BODY_BYTES);
        assert!(failure.message.contains("announced 1073741824 body bytes"));
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "{elapsed:?} for five clients"
    );
}

#[tokio::test]
async fn a_real_body_over_the_limit_is_a_typed_error() {
    let body = "x".repeat(DEFAULT_MAX_BODY_BYTES + 512 * 1024);
    // Once framed by length, once chunked (no length announced: read until past the limit).
    let length = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    for answer in [length, chunked] {
        let server = Hostile::fixed(answer);
        for (vendor, failure) in every_client(&server.url).await {
            assert_too_large(vendor, &failure, DEFAULT_MAX_BODY_BYTES);
        }
    }
    // The limit is the builder's: a smaller one refuses a small body.
    let server = Hostile::fixed(
        "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n".to_owned() + &"x".repeat(200),
    );
    let client = smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url(&server.url)
        .max_body_bytes(100)
        .build()
        .unwrap();
    assert_too_large(
        "itniotech",
        &failure(client.send_sms(&text()).await.unwrap_err()),
        100,
    );
    let client = smsgate_nxcloud::Client::builder()
        .access_key("key")
        .access_secret(NX_SECRET)
        .app_key("app")
        .base_url(&server.url)
        .max_body_bytes(100)
        .build()
        .unwrap();
    assert_too_large(
        "nxcloud",
        &failure(client.send_multi(&multi(&[item()])).await.unwrap_err()),
        100,
    );
}

#[tokio::test]
async fn an_endless_chunked_stream_is_dropped_just_past_the_limit() {
    for (vendor, send) in [
        ("itniotech", 0),
        ("laaffic", 1),
        ("nxcloud", 2),
        ("twilio", 3),
        ("vonage", 4),
    ] {
        let server = Hostile::endless("200 OK");
        let started = Instant::now();
        let err = match send {
            0 => failure(itniotech(&server.url).send_sms(&text()).await.unwrap_err()),
            1 => failure(laaffic(&server.url).send_sms(&text()).await.unwrap_err()),
            3 => failure(
                twilio(&server.url)
                    .create_message(&twilio_message())
                    .await
                    .unwrap_err(),
            ),
            4 => failure(
                vonage(&server.url)
                    .send_sms(&vonage_sms())
                    .await
                    .unwrap_err(),
            ),
            _ => failure(
                nxcloud(&server.url)
                    .send_multi(&multi(&[item()]))
                    .await
                    .unwrap_err(),
            ),
        };
        let elapsed = started.elapsed();
        assert_too_large(vendor, &err, DEFAULT_MAX_BODY_BYTES);
        assert!(elapsed < Duration::from_secs(1), "{vendor}: {elapsed:?}");
        // The server stops being read: its writes fail, having sent a bounded amount (the
        // limit plus what the sockets' buffers hold).
        let written = server.wait_client_gone().await;
        assert!(
            written < 64 * 1024 * 1024,
            "{vendor}: {written} bytes written"
        );
        eprintln!("{vendor}: stopped after {elapsed:?}, server wrote {written} bytes");
    }
}

#[tokio::test]
async fn a_trickling_body_ends_in_the_total_timeout() {
    let server = Hostile::start(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        while stream.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let client = smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url(&server.url)
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = failure(client.send_sms(&text()).await.unwrap_err());
    let elapsed = started.elapsed();
    assert_eq!(
        err.failure,
        Some(TransportFailure::Timeout),
        "{}",
        err.debug
    );
    assert!(err.may_have_reached_vendor);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_non_2xx_with_a_huge_body_keeps_a_bounded_excerpt() {
    for status in ["500 Internal Server Error", "404 Not Found"] {
        let server = Hostile::endless(status);
        let started = Instant::now();
        for (vendor, failure) in every_client(&server.url).await {
            assert!(
                failure.status.is_some_and(|s| s >= 404),
                "{vendor}: {}",
                failure.debug
            );
            assert!(failure.may_have_reached_vendor, "{vendor}");
            // Vendor, operation, status and the quoted excerpt (at most 512 bytes).
            assert!(
                failure.message.len() < BODY_EXCERPT_LIMIT + 100,
                "{vendor}: {} bytes",
                failure.message.len()
            );
        }
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(1), "{status}: {elapsed:?}");
        server.wait_client_gone().await;
    }
}

/// The validation error of an invalid request (panics on any other error).
fn failure_kind<C: std::fmt::Debug>(
    err: smsgate_transport::Error<C>,
) -> smsgate_transport::ValidationError {
    match err {
        smsgate_transport::Error::InvalidRequest(err) => err,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn control_characters_are_refused_before_any_traffic() {
    let server = Hostile::fixed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    let bad = SendSmsRequest {
        content: "pay \u{1b}[2J now",
        ..text()
    };
    for err in [
        failure_kind(itniotech(&server.url).send_sms(&bad).await.unwrap_err()),
        failure_kind(laaffic(&server.url).send_sms(&bad).await.unwrap_err()),
    ] {
        assert_eq!(err.field, "content");
        assert_eq!(
            err.kind,
            ValidationKind::ControlCharacter {
                position: 5,
                code_point: 0x1b
            }
        );
    }
    let items = [
        MultiMtItem {
            content: "fine",
            ..item()
        },
        MultiMtItem {
            phone: "8613800138001",
            content: "nul\u{0}",
            ..item()
        },
    ];
    let err = nxcloud(&server.url)
        .send_multi(&multi(&items))
        .await
        .unwrap_err();
    let smsgate_nxcloud::Error::InvalidRequest(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.field, "items[1].content");
    assert_eq!(
        err.kind,
        ValidationKind::ControlCharacter {
            position: 4,
            code_point: 0
        }
    );
    let del = MtRequest {
        phone: Joined::commas(&ONE),
        content: "del\u{7f}",
        ..Default::default()
    };
    assert!(matches!(
        nxcloud(&server.url).send(&del).await,
        Err(smsgate_nxcloud::Error::InvalidRequest(_))
    ));
    let err = failure_kind(
        twilio(&server.url)
            .create_message(&smsgate_twilio::bodies::CreateMessageRequest {
                body: "pay \u{1b}[2J now",
                ..twilio_message()
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(err.field, "Body");
    assert_eq!(
        err.kind,
        ValidationKind::ControlCharacter {
            position: 5,
            code_point: 0x1b
        }
    );
    let err = failure_kind(
        vonage(&server.url)
            .send_sms(&smsgate_vonage::bodies::SendSmsRequest {
                text: "del\u{7f}",
                ..vonage_sms()
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(err.field, "text");
    assert_eq!(
        err.kind,
        ValidationKind::ControlCharacter {
            position: 4,
            code_point: 0x7f
        }
    );
    assert_eq!(server.connections(), 0, "nothing was sent");
}

#[test]
fn proxy_and_base_url_credentials_never_print() {
    let config = HttpConfig {
        proxy: Some("http://u:pw@h:1".to_owned()),
        ..HttpConfig::default()
    };
    assert!(!format!("{config:?}").contains("pw"), "{config:?}");
    // The builders print their HTTP settings and base URL redacted.
    let builder = smsgate_itniotech::Client::builder()
        .proxy("http://u:pw@h:1")
        .base_url("https://u:pw@api.example");
    assert!(!format!("{builder:?}").contains("pw"), "{builder:?}");
    let builder = smsgate_nxcloud::Client::builder()
        .proxy("http://u:pw@h:1")
        .base_url("https://u:pw@api.example");
    assert!(!format!("{builder:?}").contains("pw"), "{builder:?}");
    let client = smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret(SECRET)
        .app_id("app")
        .base_url("https://u:pw@api.example")
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains("pw"), "{client:?}");
    // Configuration errors name the URL, redacted.
    let errors: Vec<ConfigError> = vec![
        smsgate_itniotech::Client::builder()
            .api_key("key")
            .api_secret(SECRET)
            .app_id("app")
            .base_url("https://u:pw@api.example?x=1")
            .build()
            .unwrap_err(),
        smsgate_nxcloud::Client::builder()
            .access_key("key")
            .access_secret(NX_SECRET)
            .app_key("app")
            .base_url("ftp://u:pw@api.example")
            .build()
            .unwrap_err(),
        smsgate_itniotech::Client::builder()
            .api_key("key")
            .api_secret(SECRET)
            .app_id("app")
            .proxy("http://u:pw@[::1")
            .build()
            .unwrap_err(),
    ];
    for err in errors {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains("pw"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
    }
}

/// The facade's verdict on hostile answers: unknown (the request went out), never rejected,
/// and never failed over to the next provider.
#[tokio::test]
async fn the_facade_calls_hostile_answers_unknown_and_never_fails_over() {
    let redirect_target = Bystander::new();
    let redirect = Hostile::fixed(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {}/x\r\nContent-Length: 0\r\n\r\n",
        redirect_target.origin()
    ));
    let endless = Hostile::endless("200 OK");
    let huge = Hostile::start(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
        let _ = stream.read_to_end(&mut Vec::new());
    });
    for (case, server) in [
        ("redirect", &redirect),
        ("endless", &endless),
        ("huge", &huge),
    ] {
        for first in ["itniotech", "twilio", "vonage"] {
            // The second provider would accept; it must never be asked.
            let fallback = Bystander::new();
            let builder = smsgate::SmsGate::builder();
            let builder = match first {
                "itniotech" => builder.provider(itniotech(&server.url)),
                "twilio" => builder.provider(twilio(&server.url)),
                _ => builder.provider(vonage(&server.url)),
            };
            let gate = builder.provider(nxcloud(&fallback.origin())).build();
            let started = Instant::now();
            let report = gate
                .send(&[smsgate::Message::new("+8613800138000", "hello")])
                .await;
            assert!(started.elapsed() < Duration::from_secs(2), "{case} {first}");
            let delivery = &report.deliveries[0];
            assert!(
                delivery.outcome.is_unknown(),
                "{case} {first}: {:?}",
                delivery.outcome
            );
            assert_eq!(delivery.tried, [first], "{case}");
            fallback.assert_untouched();
        }
    }
    redirect_target.assert_untouched();
}

/// A server that reads the request and never answers, or answers a byte at a time: the
/// Twilio and Vonage clients end in their total timeout, the request possibly acted on.
#[tokio::test]
async fn silence_and_trickles_end_in_the_total_timeout_for_twilio_and_vonage() {
    let silent = Hostile::start(|stream, _| {
        // Hold the connection open without a byte of answer.
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let trickle = Hostile::start(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 100000\r\n\r\n");
        while stream.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let timeout = Duration::from_millis(700);
    for server in [&silent, &trickle] {
        let twilio = smsgate_twilio::Client::builder()
            .account_sid("AC0123456789abcdef0123456789abcdef")
            .auth_token(TW_SECRET)
            .from("+15005550006")
            .base_url(&server.url)
            .timeout(timeout)
            .build()
            .unwrap();
        let vonage = smsgate_vonage::Client::builder()
            .api_key("abcd1234")
            .api_secret(VN_SECRET)
            .from("Acme")
            .base_url(&server.url)
            .timeout(timeout)
            .build()
            .unwrap();
        let started = Instant::now();
        let errors = [
            (
                "twilio",
                failure(twilio.create_message(&twilio_message()).await.unwrap_err()),
            ),
            (
                "vonage",
                failure(vonage.send_sms(&vonage_sms()).await.unwrap_err()),
            ),
        ];
        let elapsed = started.elapsed();
        for (vendor, err) in errors {
            assert_eq!(
                err.failure,
                Some(TransportFailure::Timeout),
                "{vendor}: {}",
                err.debug
            );
            assert!(err.may_have_reached_vendor, "{vendor}");
            for leak in [TW_SECRET, VN_SECRET] {
                assert!(!err.debug.contains(leak), "{vendor}");
            }
        }
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }
    assert_eq!(silent.connections(), 2);
    assert_eq!(trickle.connections(), 2);
}
