//! The HTTP client every vendor client shares: reqwest with rustls (certificate verification
//! always on), connection pooling and keep-alive, timeouts, user agent, optional proxy.
//!
//! Hardened against a hostile or broken server:
//!
//! - **Redirects are never followed.** Following one would re-send the signed headers
//!   (`Api-Key`, `Sign`, `Timestamp`, ...) and the body to wherever `Location` points. A 3xx
//!   answer is [`Error::UnexpectedStatus`] with the `Location`'s origin
//!   (`redirect_origin`, `scheme://host:port` only) and is never read further; like every
//!   unexpected status it may have reached the vendor.
//! - **Response bodies are capped** at [`HttpConfig::max_body_bytes`]
//!   ([`DEFAULT_MAX_BODY_BYTES`], 1 MiB): a `Content-Length` above it is refused before reading,
//!   and a body (chunked or endless) is read chunk by chunk and dropped as soon as it passes
//!   the limit — [`TransportFailure::BodyTooLarge`], which may have reached the vendor. A
//!   non-2xx answer is read only up to [`ERROR_BODY_PREFIX_LIMIT`] bytes (its excerpt is
//!   shorter still).
//! - The total timeout ([`HttpConfig::timeout`]) covers the body too: a server trickling bytes
//!   ends in [`TransportFailure::Timeout`].
//! - **TLS** is rustls with the *ring* provider and the platform's certificate verifier
//!   ([`tls_config`]); verification cannot be turned off. The process-wide rustls provider,
//!   if an application installed one, is left alone.
//! - [`HttpConfig`]'s `Debug` and every error redact a proxy's userinfo
//!   ([`crate::redact::redact_url`]).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;

use crate::error::{
    BODY_EXCERPT_LIMIT, ConfigError, Error, TransportFailure, bounded, floor_char_boundary,
};
use crate::redact::redact_url;
use crate::spec::{HttpMethod, Operation};
use crate::wire::WireRequest;

/// Default time allowed to open a connection (DNS, TCP, TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed for a whole request, from connecting to the last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most bytes of a response body read (1 MiB); a vendor answer is a few kilobytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most bytes read of the body of a non-2xx answer (only its excerpt is kept, at most
/// [`BODY_EXCERPT_LIMIT`] bytes; the rest is never read).
pub const ERROR_BODY_PREFIX_LIMIT: usize = 4 * 1024;
/// User agent sent with every request.
pub const USER_AGENT: &str = concat!("smsgate/", env!("CARGO_PKG_VERSION"));

/// Settings of the HTTP client.
///
/// `Debug` prints the proxy with its userinfo redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Time allowed to connect ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included ([`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
    /// `User-Agent` header ([`USER_AGENT`]).
    pub user_agent: String,
    /// Proxy URL for every request (`http://…`, `https://…`), if any.
    pub proxy: Option<String>,
    /// Most bytes of a response body read ([`DEFAULT_MAX_BODY_BYTES`]); a longer body is
    /// [`TransportFailure::BodyTooLarge`].
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: USER_AGENT.to_owned(),
            proxy: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("proxy", &self.proxy.as_deref().map(redact_url))
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// An HTTP answer: status and body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Body as received.
    pub body: Bytes,
}

/// A pooled HTTP client. Cheap to clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    max_body_bytes: usize,
    urls: Arc<UrlCache>,
}

/// Parsed URLs of the last few distinct query-less request URLs: an operation's URL is the
/// same on every request, and parsing it (IDNA processing of the host included) costs more
/// than building the rest of a small request.
#[derive(Default)]
struct UrlCache(Mutex<Vec<(Box<str>, reqwest::Url)>>);

impl fmt::Debug for UrlCache {
    /// The count only: a cached URL may carry userinfo (a base URL `http://user:pw@host`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.0.lock().map_or(0, |urls| urls.len());
        f.debug_struct("UrlCache").field("cached", &cached).finish()
    }
}

impl UrlCache {
    /// Most URLs kept: a client talks to a handful of operations.
    const CAPACITY: usize = 16;

    /// `text` parsed, from the cache when seen before; `None` when it does not parse (reqwest
    /// then reports it as it always has).
    fn get(&self, text: &str) -> Option<reqwest::Url> {
        // URLs with a query string change with every request: not worth keeping.
        if text.contains('?') {
            return reqwest::Url::parse(text).ok();
        }
        let mut urls = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, url)) = urls.iter().find(|(known, _)| &**known == text) {
            return Some(url.clone());
        }
        let url = reqwest::Url::parse(text).ok()?;
        if urls.len() == Self::CAPACITY {
            urls.remove(0);
        }
        urls.push((text.into(), url.clone()));
        Some(url)
    }
}

/// Why [`HttpClient::execute`] got no usable answer.
enum Failure {
    Reqwest(reqwest::Error),
    Redirect { status: u16, origin: Option<String> },
    TooLarge { limit: usize, message: String },
}

impl From<reqwest::Error> for Failure {
    fn from(err: reqwest::Error) -> Self {
        Self::Reqwest(err)
    }
}

/// The TLS settings of every smsgate HTTP client: rustls on *ring* (TLS 1.2 and 1.3, its safe
/// defaults), server certificates checked by the platform's verifier (the system trust store
/// on Linux, the OS verifier on macOS and Windows). There is no way to turn verification off.
///
/// Building it touches no process-wide state; [`HttpClient::new`] uses it, and so can other
/// reqwest clients that should trust exactly what smsgate trusts ([`client_builder`]).
pub fn tls_config() -> Result<rustls::ClientConfig, ConfigError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map(|builder| builder.with_no_client_auth())
        .map_err(|err| ConfigError::Http(format!("cannot set up TLS: {err}")))
}

/// A `reqwest::ClientBuilder` with smsgate's TLS settings ([`tls_config`]), for the other HTTP a
/// service does beside the SDK (webhooks, health checks, tests). reqwest is built here without a
/// default TLS provider: `reqwest::Client::new()` would fail, this does not.
pub fn client_builder() -> Result<reqwest::ClientBuilder, ConfigError> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls_config()?))
}

impl HttpClient {
    /// Builds a client from `config`. It never follows redirects and uses no proxy but
    /// `config.proxy` (environment proxies are ignored).
    pub fn new(config: &HttpConfig) -> Result<Self, ConfigError> {
        let mut builder = client_builder()?
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            // A redirect would re-send the signed headers and the body elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_keepalive(Duration::from_secs(60));
        builder = match &config.proxy {
            Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy).map_err(|err| {
                ConfigError::Http(format!(
                    "invalid proxy {:?}: {}",
                    redact_url(proxy),
                    redact_url(&err.without_url().to_string())
                ))
            })?),
            // Only an explicit proxy is used: environment proxies would send traffic (and the
            // vendor credentials) somewhere the user did not configure.
            None => builder.no_proxy(),
        };
        let client = builder
            .build()
            .map_err(|err| ConfigError::Http(redact_url(&err.without_url().to_string()).into()))?;
        Ok(Self {
            client,
            max_body_bytes: config.max_body_bytes,
            urls: Arc::default(),
        })
    }

    /// `request` as reqwest's, unchanged.
    fn request_builder(&self, request: WireRequest) -> reqwest::RequestBuilder {
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = match self.urls.get(&request.url) {
            Some(url) => self.client.request(method, url),
            None => self.client.request(method, &request.url),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        builder
    }

    /// Sends `request` exactly as it is, inside a `smsgate.request` tracing span (vendor,
    /// operation, recipient count, HTTP status, latency; never a secret or a number).
    ///
    /// A 3xx answer is [`Error::UnexpectedStatus`] (redirects are never followed); a 2xx body
    /// longer than [`HttpConfig::max_body_bytes`] is [`TransportFailure::BodyTooLarge`]; of
    /// any other status at most [`ERROR_BODY_PREFIX_LIMIT`] body bytes are read and returned.
    pub async fn execute<C>(
        &self,
        operation: &Operation,
        request: WireRequest,
        recipients: usize,
    ) -> Result<RawResponse, Error<C>> {
        let span = tracing::info_span!(
            "smsgate.request",
            vendor = operation.vendor,
            operation = operation.name,
            recipients,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let builder = span.in_scope(|| self.request_builder(request));
        let result = async {
            let response = builder.send().await?;
            let status = response.status().as_u16();
            if response.status().is_redirection() {
                return Err(Failure::Redirect {
                    status,
                    origin: redirect_origin(&response),
                });
            }
            let body = read_body(response, self.max_body_bytes).await?;
            Ok(RawResponse { status, body })
        }
        .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        span.record("latency_ms", latency_ms);
        let (failure, may_have_reached_vendor, message) = match result {
            Ok(raw) => {
                span.record("status", raw.status);
                tracing::debug!(parent: &span, status = raw.status, latency_ms, bytes = raw.body.len(), "vendor answered");
                return Ok(raw);
            }
            Err(Failure::Redirect { status, origin }) => {
                span.record("status", status);
                tracing::warn!(parent: &span, status, redirect_origin = origin.as_deref(), latency_ms, "redirect refused");
                return Err(Error::UnexpectedStatus {
                    vendor: operation.vendor,
                    operation: operation.name,
                    status,
                    body_excerpt: String::new(),
                    redirect_origin: origin,
                });
            }
            Err(Failure::TooLarge { limit, message }) => {
                (TransportFailure::BodyTooLarge { limit }, true, message)
            }
            Err(Failure::Reqwest(err)) => {
                let (failure, may_have_reached_vendor) = classify(&err);
                // Host and port (never path or query, which may carry keys) say where a
                // connection failed; the causes say why (refused, DNS, TLS).
                let peer = err.url().and_then(|url| {
                    Some(format!(
                        "{}:{}",
                        url.host_str()?,
                        url.port_or_known_default()?
                    ))
                });
                let causes = error_chain(err);
                let message = match (failure, peer) {
                    (TransportFailure::Connect, Some(peer)) => {
                        format!("cannot connect to {peer}: {causes}")
                    }
                    _ => causes,
                };
                (failure, may_have_reached_vendor, message)
            }
        };
        tracing::warn!(parent: &span, %failure, may_have_reached_vendor, latency_ms, "vendor call failed");
        Err(Error::Transport {
            vendor: operation.vendor,
            operation: operation.name,
            failure,
            may_have_reached_vendor,
            message,
        })
    }
}

/// `err` and its causes on one line (`error sending request: client error (Connect): tcp
/// connect error: Connection refused (os error 111)`), without the URL, each cause once.
fn error_chain(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact_url(&text).into_owned()
}

/// The origin (`scheme://host[:port]`) a redirect's `Location` points to, resolved against
/// the request URL; `None` without a usable `Location`. Never path, query or userinfo.
fn redirect_origin(response: &reqwest::Response) -> Option<String> {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let origin = response.url().join(location).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The body of `response`: for a 2xx at most `limit` bytes (more is [`Failure::TooLarge`]),
/// for any other status its first [`ERROR_BODY_PREFIX_LIMIT`] bytes. Reads chunk by chunk and
/// stops (dropping the connection) as soon as it has enough, so memory stays bounded whatever
/// the server sends.
async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Bytes, Failure> {
    let status = response.status();
    let success = status.is_success();
    let too_large = |message: String| Failure::TooLarge { limit, message };
    let keep = if success {
        if let Some(announced) = response.content_length() {
            if announced > u64::try_from(limit).unwrap_or(u64::MAX) {
                return Err(too_large(format!(
                    "HTTP {} answer announced {announced} body bytes; none were read",
                    status.as_u16()
                )));
            }
        }
        limit
    } else {
        ERROR_BODY_PREFIX_LIMIT.min(limit)
    };
    // Most answers come in one chunk: keep it as it is, copy only when a second one comes.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    let mut received = 0usize;
    while let Some(chunk) = response.chunk().await? {
        if received.saturating_add(chunk.len()) > keep {
            if success {
                return Err(too_large(format!(
                    "HTTP {} answer passed {limit} body bytes; reading stopped there",
                    status.as_u16()
                )));
            }
            // Not a 2xx: the prefix is all anyone reads.
            let rest = keep - received;
            append(&mut first, &mut joined, chunk.slice(..rest));
            break;
        }
        received += chunk.len();
        append(&mut first, &mut joined, chunk);
    }
    Ok(match first {
        Some(only) if joined.is_empty() => only,
        _ => joined.freeze(),
    })
}

/// Adds `chunk` to a body kept as one chunk (`first`) until a second one comes.
fn append(first: &mut Option<Bytes>, joined: &mut BytesMut, chunk: Bytes) {
    if joined.is_empty() && first.is_none() {
        *first = Some(chunk);
        return;
    }
    if let Some(head) = first.take() {
        joined.extend_from_slice(&head);
    }
    joined.extend_from_slice(&chunk);
}

/// Whether a reqwest failure happened before the request could reach the vendor.
fn classify(err: &reqwest::Error) -> (TransportFailure, bool) {
    if err.is_connect() {
        // Refused, unresolvable, TLS failure or connect timeout: nothing was sent.
        (TransportFailure::Connect, false)
    } else if err.is_timeout() {
        (TransportFailure::Timeout, true)
    } else {
        (TransportFailure::Io, true)
    }
}

/// Checks the status and decodes a JSON body, keeping the raw bytes when it does not decode.
pub fn decode_json<T: DeserializeOwned, C>(
    operation: &Operation,
    raw: &RawResponse,
) -> Result<T, Error<C>> {
    if !(200..300).contains(&raw.status) {
        return Err(Error::UnexpectedStatus {
            vendor: operation.vendor,
            operation: operation.name,
            status: raw.status,
            body_excerpt: excerpt(&raw.body),
            redirect_origin: None,
        });
    }
    serde_json::from_slice(&raw.body).map_err(|err| undecodable(operation, raw, err.to_string()))
}

/// An [`Error::Undecodable`] for `raw`.
///
/// The decoder's message is kept to at most [`BODY_EXCERPT_LIMIT`] bytes: a decoder may quote
/// the offending value (`unknown variant "…"`), and a hostile answer can make that as long as
/// the body. The whole body stays in `raw`.
pub fn undecodable<C>(operation: &Operation, raw: &RawResponse, message: String) -> Error<C> {
    Error::Undecodable {
        vendor: operation.vendor,
        operation: operation.name,
        status: raw.status,
        message: bounded(
            crate::redact::escape_controls(&message).into_owned(),
            BODY_EXCERPT_LIMIT,
        ),
        raw: raw.body.clone(),
    }
}

/// At most [`BODY_EXCERPT_LIMIT`] bytes of `body` as text (invalid UTF-8 shown as U+FFFD,
/// control characters escaped), cut on a character boundary.
fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(BODY_EXCERPT_LIMIT)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    if body.len() > BODY_EXCERPT_LIMIT && text.ends_with('\u{FFFD}') {
        // Most likely a character cut in two by the limit, not an invalid byte.
        text.pop();
    }
    // Control characters escaped: a server's ESC sequences must not act on a terminal.
    if let std::borrow::Cow::Owned(escaped) = crate::redact::escape_controls(&text) {
        text = escaped;
    }
    // Each invalid byte became a three-byte U+FFFD: cut again to the limit.
    let end = floor_char_boundary(&text, BODY_EXCERPT_LIMIT);
    text.truncate(end);
    text
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::*;

    #[test]
    fn request_urls_are_parsed_once_and_queries_never_kept() {
        let cache = UrlCache::default();
        let url = "http://127.0.0.1:9/sms/sendSms";
        assert_eq!(cache.get(url).map(String::from), Some(url.to_owned()));
        assert_eq!(cache.get(url).map(String::from), Some(url.to_owned()));
        let with_query = "http://127.0.0.1:9/sms/getBalance?appId=a";
        assert_eq!(
            cache.get(with_query).map(String::from),
            Some(with_query.to_owned())
        );
        assert!(cache.get("not a url").is_none());
        for i in 0..40 {
            assert!(cache.get(&format!("http://h/{i}")).is_some());
        }
        let kept = cache.0.lock().map(|urls| urls.len()).unwrap_or_default();
        assert_eq!(kept, UrlCache::CAPACITY);
        let secret = UrlCache::default();
        assert!(secret.get("http://user:hunter2@127.0.0.1:9/x").is_some());
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("cached: 1"),
            "{debug}"
        );
    }
    use crate::spec::{Limits, RequestEncoding};

    const OP: Operation = Operation {
        vendor: "test",
        name: "op",
        method: HttpMethod::Post,
        base_url: "http://127.0.0.1",
        path: "/x",
        encoding: RequestEncoding::Json,
        auth: "key-secret-timestamp-md5",
        alternative_auth: true,
        fixed_headers: &[],
        request_type: "Req",
        response_type: "Res",
        limits: Limits {
            max_numbers: None,
            max_items: None,
            max_content_chars: None,
            max_sender_id_chars: None,
            max_ids: None,
        },
    };

    #[test]
    fn non_2xx_keeps_a_bounded_excerpt() {
        let raw = RawResponse {
            status: 502,
            body: Bytes::from("€".repeat(400)),
        };
        let Err(Error::<()>::UnexpectedStatus {
            status,
            body_excerpt,
            ..
        }) = decode_json::<serde_json::Value, ()>(&OP, &raw)
        else {
            panic!("expected an unexpected status");
        };
        assert_eq!(status, 502);
        assert!(body_excerpt.len() <= BODY_EXCERPT_LIMIT);
        assert!(body_excerpt.chars().all(|c| c == '€'));
    }

    #[test]
    fn terminal_control_sequences_from_a_server_are_escaped() {
        let hostile = "\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[31mFAKE: all accepted\u{9b}";
        let raw = RawResponse {
            status: 500,
            body: Bytes::from(hostile),
        };
        let Err(Error::<String>::UnexpectedStatus { body_excerpt, .. }) =
            decode_json::<serde_json::Value, String>(&OP, &raw)
        else {
            panic!("expected an unexpected status");
        };
        assert!(
            !body_excerpt.chars().any(char::is_control),
            "{body_excerpt:?}"
        );
        assert!(body_excerpt.contains("\\u{1b}]0;PWNED"), "{body_excerpt}");
        let err = Error::vendor(&OP, "-4".to_owned(), hostile);
        let Error::Vendor { reason, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(!reason.chars().any(char::is_control), "{reason:?}");
        assert!(!err.to_string().contains('\u{1b}'));
    }

    #[test]
    fn excerpts_of_invalid_utf8_stay_within_the_limit() {
        let raw = RawResponse {
            status: 500,
            body: Bytes::from(vec![0xff; 2000]),
        };
        let Err(Error::<()>::UnexpectedStatus { body_excerpt, .. }) =
            decode_json::<serde_json::Value, ()>(&OP, &raw)
        else {
            panic!("expected an unexpected status");
        };
        assert!(
            body_excerpt.len() <= BODY_EXCERPT_LIMIT,
            "{}",
            body_excerpt.len()
        );
        assert!(body_excerpt.starts_with('\u{FFFD}'));
    }

    #[test]
    fn undecodable_messages_stay_short_and_keep_the_body() {
        // serde quotes the unknown variant in its message: a hostile answer makes it huge.
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum Status {
            Ok,
        }
        let body = format!("\"{}\"", "x".repeat(100_000));
        let raw = RawResponse {
            status: 200,
            body: Bytes::from(body.clone()),
        };
        let Err(err) = decode_json::<Status, String>(&OP, &raw) else {
            panic!("expected undecodable");
        };
        assert!(
            err.to_string().len() < 2 * BODY_EXCERPT_LIMIT,
            "{}",
            err.to_string().len()
        );
        let Error::Undecodable {
            message, raw: kept, ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert!(message.ends_with('…'));
        assert_eq!(kept, body.as_bytes());
    }

    #[test]
    fn undecodable_bodies_keep_their_bytes() {
        let raw = RawResponse {
            status: 200,
            body: Bytes::from_static(b"{\"status\":"),
        };
        let Err(Error::<()>::Undecodable { raw: kept, .. }) =
            decode_json::<serde_json::Value, ()>(&OP, &raw)
        else {
            panic!("expected undecodable");
        };
        assert_eq!(kept, raw.body);
    }

    #[tokio::test]
    async fn connection_refused_is_not_sent() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = HttpClient::new(&HttpConfig::default()).unwrap();
        let request = WireRequest::new(
            HttpMethod::Get,
            format!("http://127.0.0.1:{port}/secret-path?key=k"),
            None,
        );
        let err = client.execute::<()>(&OP, request, 1).await.unwrap_err();
        let Error::Transport {
            failure,
            may_have_reached_vendor,
            message,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(failure, TransportFailure::Connect);
        assert!(!may_have_reached_vendor);
        // Host and port say where; the path and query (which may carry keys) never show.
        assert!(
            message.starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
            "{message}"
        );
        assert!(message.contains("Connection refused"), "{message}");
        assert!(
            !message.contains("secret-path") && !message.contains("key=k"),
            "{message}"
        );
    }

    /// A TLS server on loopback presenting `tests/fixtures/localhost.crt`, self-signed (no
    /// trust store holds it): it completes handshakes and answers every request with `ok`.
    async fn self_signed_server() -> (u16, tokio::task::JoinHandle<usize>) {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let cert =
            CertificateDer::from_pem_slice(include_bytes!("../tests/fixtures/localhost.crt"))
                .unwrap();
        let key = PrivateKeyDer::from_pem_slice(include_bytes!("../tests/fixtures/localhost.key"))
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            // Counts the requests that got through a handshake.
            let mut served = 0;
            while let Ok(Ok((stream, _))) =
                tokio::time::timeout(Duration::from_secs(2), listener.accept()).await
            {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    continue;
                };
                let mut buf = [0u8; 4096];
                if tls.read(&mut buf).await.unwrap_or(0) > 0 {
                    served += 1;
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await;
                }
            }
            served
        });
        (port, server)
    }

    #[tokio::test]
    async fn tls_verifies_the_server_certificate_and_sends_nothing_to_an_untrusted_one() {
        let (port, server) = self_signed_server().await;
        let client = HttpClient::new(&HttpConfig::default()).unwrap();
        let request = WireRequest::new(
            HttpMethod::Post,
            format!("https://localhost:{port}/send?key=k"),
            Some(b"{\"secret\":1}".to_vec()),
        );
        let err = client.execute::<String>(&OP, request, 1).await.unwrap_err();
        let Error::Transport {
            failure,
            may_have_reached_vendor,
            message,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        // The handshake ran (ring's TLS) and the certificate was refused: nothing was sent.
        assert_eq!(failure, TransportFailure::Connect);
        assert!(!may_have_reached_vendor);
        assert!(message.contains("invalid peer certificate"), "{message}");
        assert_eq!(
            server.await.unwrap(),
            0,
            "no request got past the handshake"
        );
    }

    #[test]
    fn tls_uses_ring_and_offers_tls_1_2_and_1_3() {
        let config = tls_config().unwrap();
        let versions: Vec<_> = config
            .crypto_provider()
            .cipher_suites
            .iter()
            .map(|suite| suite.version().version)
            .collect();
        assert!(versions.contains(&rustls::ProtocolVersion::TLSv1_3));
        assert!(versions.contains(&rustls::ProtocolVersion::TLSv1_2));
        // The provider is the one built into this crate, whatever the process default is.
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(
            config.crypto_provider().cipher_suites.len(),
            ring.cipher_suites.len()
        );
    }

    #[tokio::test]
    async fn sends_the_exact_request() {
        use wiremock::matchers::{body_bytes, header, method, path, query_param};
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(method("POST"))
            .and(path("/x"))
            .and(query_param("a", "b c"))
            .and(header("Sign", "s"))
            .and(header("user-agent", USER_AGENT))
            .and(body_bytes(b"{\"k\":1}".to_vec()))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("ok"))
            .expect(1)
            .mount(&server)
            .await;
        let client = HttpClient::new(&HttpConfig::default()).unwrap();
        let mut request = WireRequest::new(
            HttpMethod::Post,
            format!("{}/x?a=b%20c", server.uri()),
            Some(b"{\"k\":1}".to_vec()),
        );
        request.set_header("Sign", "s");
        let raw = client.execute::<()>(&OP, request, 1).await.unwrap();
        assert_eq!((raw.status, &raw.body[..]), (200, &b"ok"[..]));
    }

    /// A local server that accepts one connection, reads one request and hands the stream to
    /// `respond`; the handle returns what `respond` returns.
    fn hostile<T: Send + 'static>(
        respond: impl FnOnce(&mut TcpStream) -> T + Send + 'static,
    ) -> (String, std::thread::JoinHandle<T>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            read_request(&mut stream);
            respond(&mut stream)
        });
        (url, handle)
    }

    /// Reads a request's head and its `Content-Length` body.
    fn read_request(stream: &mut TcpStream) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).unwrap();
    }

    /// Writes 16 KiB chunks until the client goes away; returns the bytes written.
    fn endless_chunks(stream: &mut TcpStream, status: &str) -> usize {
        let head = format!("HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut chunk = b"4000\r\n".to_vec();
        chunk.extend(std::iter::repeat_n(b'x', 0x4000));
        chunk.extend(b"\r\n");
        let mut written = 0;
        while stream.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
        written
    }

    /// Waits for a server thread without blocking the runtime (the client's connection task
    /// must keep running to close the connection the server is waiting on).
    async fn join<T: Send + 'static>(server: std::thread::JoinHandle<T>) -> T {
        tokio::task::spawn_blocking(move || server.join().unwrap())
            .await
            .unwrap()
    }

    fn client_with(config: HttpConfig) -> HttpClient {
        HttpClient::new(&config).unwrap()
    }

    fn post(url: &str) -> WireRequest {
        let mut request = WireRequest::new(
            HttpMethod::Post,
            format!("{url}/x"),
            Some(b"{\"content\":\"secret text\"}".to_vec()),
        );
        request.set_header("Api-Key", "the-api-key");
        request.set_header("Sign", "the-signature");
        request
    }

    /// A second listener that must never see a connection.
    struct Bystander(TcpListener);

    impl Bystander {
        fn new() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            Self(listener)
        }

        fn port(&self) -> u16 {
            self.0.local_addr().unwrap().port()
        }

        fn assert_untouched(&self) {
            std::thread::sleep(Duration::from_millis(50));
            match self.0.accept() {
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Ok(_) => panic!("the redirect target received a connection"),
                Err(err) => panic!("{err}"),
            }
        }
    }

    #[tokio::test]
    async fn redirects_are_refused_naming_the_origin_only_and_never_followed() {
        for status in [301, 302, 303, 307, 308] {
            let bystander = Bystander::new();
            let location = format!(
                "http://user:pw@127.0.0.1:{}/stolen?token=t0ken#frag",
                bystander.port()
            );
            let (url, server) = hostile(move |stream| {
                let answer = format!(
                    "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                );
                stream.write_all(answer.as_bytes()).unwrap();
            });
            let config = HttpConfig {
                timeout: Duration::from_secs(3),
                ..HttpConfig::default()
            };
            let err = client_with(config)
                .execute::<String>(&OP, post(&url), 1)
                .await
                .unwrap_err();
            join(server).await;
            bystander.assert_untouched();
            let origin = format!("http://127.0.0.1:{}", bystander.port());
            let message = err.to_string();
            assert_eq!(
                message,
                format!(
                    "test op: HTTP {status} redirect to {origin} refused: smsgate never follows redirects"
                )
            );
            let Error::UnexpectedStatus {
                status: got,
                redirect_origin,
                ..
            } = &err
            else {
                panic!("{err:?}")
            };
            assert_eq!((*got, redirect_origin.as_deref()), (status, Some(&*origin)));
            for leak in ["stolen", "t0ken", "pw", "user", "frag"] {
                assert!(!format!("{err:?}").contains(leak), "{leak} in {err:?}");
            }
        }
    }

    #[tokio::test]
    async fn a_relative_or_missing_location_is_refused_too() {
        let (url, server) = hostile(|stream| {
            stream
                .write_all(
                    b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
                )
                .unwrap();
        });
        let err = client_with(HttpConfig::default())
            .execute::<String>(&OP, post(&url), 1)
            .await
            .unwrap_err();
        join(server).await;
        assert!(
            matches!(&err, Error::UnexpectedStatus { status: 302, redirect_origin: Some(o), .. } if *o == url),
            "{err:?}"
        );
        let (url, server) = hostile(|stream| {
            stream
                .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        });
        let err = client_with(HttpConfig::default())
            .execute::<String>(&OP, post(&url), 1)
            .await
            .unwrap_err();
        join(server).await;
        assert_eq!(
            err.to_string(),
            "test op: HTTP 307 redirect refused: smsgate never follows redirects"
        );
    }

    fn assert_too_large(err: &Error<String>, limit: usize) {
        let Error::Transport {
            failure,
            may_have_reached_vendor,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*failure, TransportFailure::BodyTooLarge { limit });
        assert!(may_have_reached_vendor, "the request was sent");
    }

    #[tokio::test]
    async fn an_announced_huge_body_is_refused_without_reading() {
        let (url, server) = hostile(|stream| {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n{\"status\":")
                .unwrap();
            // Keep the connection open: a client that reads would wait here until its timeout.
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
        });
        let config = HttpConfig {
            timeout: Duration::from_secs(5),
            ..HttpConfig::default()
        };
        let started = Instant::now();
        let err = client_with(config)
            .execute::<String>(&OP, post(&url), 1)
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert_too_large(&err, DEFAULT_MAX_BODY_BYTES);
        assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
        assert!(
            err.to_string().contains("announced 1073741824 body bytes"),
            "{err}"
        );
        // The client dropped the connection: the server's read ends.
        join(server).await;
    }

    #[tokio::test]
    async fn an_endless_chunked_body_stops_at_the_limit() {
        let (url, server) = hostile(|stream| endless_chunks(stream, "200 OK"));
        let started = Instant::now();
        let err = client_with(HttpConfig::default())
            .execute::<String>(&OP, post(&url), 1)
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert_too_large(&err, DEFAULT_MAX_BODY_BYTES);
        assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
        // The connection is gone: the server's writes fail soon, having sent a bounded amount.
        let written = join(server).await;
        assert!(written < 64 * 1024 * 1024, "{written} bytes written");
    }

    #[tokio::test]
    async fn the_limit_is_exact_for_length_and_chunked_bodies() {
        for (size, fits) in [(1000, true), (1001, false)] {
            let body = "x".repeat(size);
            let framed = [
                format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n{body}"),
                format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                    &body[..500],
                    size - 500,
                    &body[500..]
                ),
            ];
            for answer in framed {
                let (url, server) = hostile(move |stream| {
                    let _ = stream.write_all(answer.as_bytes());
                });
                let config = HttpConfig {
                    max_body_bytes: 1000,
                    ..HttpConfig::default()
                };
                let result = client_with(config)
                    .execute::<String>(&OP, post(&url), 1)
                    .await;
                join(server).await;
                match result {
                    Ok(raw) if fits => assert_eq!(raw.body.len(), size),
                    Err(err) if !fits => assert_too_large(&err, 1000),
                    other => panic!("{size} bytes: {other:?}"),
                }
            }
        }
    }

    #[tokio::test]
    async fn a_trickling_body_hits_the_total_timeout() {
        let (url, server) = hostile(|stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
            while stream.write_all(b"x").is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let config = HttpConfig {
            timeout: Duration::from_millis(500),
            ..HttpConfig::default()
        };
        let started = Instant::now();
        let err = client_with(config)
            .execute::<String>(&OP, post(&url), 1)
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
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
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
        join(server).await;
    }

    #[tokio::test]
    async fn a_non_2xx_answer_is_read_only_as_far_as_its_excerpt() {
        let (url, server) = hostile(|stream| endless_chunks(stream, "502 Bad Gateway"));
        let started = Instant::now();
        let raw = client_with(HttpConfig::default())
            .execute::<String>(&OP, post(&url), 1)
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!((raw.status, raw.body.len()), (502, ERROR_BODY_PREFIX_LIMIT));
        let written = join(server).await;
        assert!(written < 64 * 1024 * 1024, "{written} bytes written");
        let Err(Error::<String>::UnexpectedStatus { body_excerpt, .. }) =
            decode_json::<serde_json::Value, String>(&OP, &raw)
        else {
            panic!("expected an unexpected status");
        };
        assert_eq!(body_excerpt.len(), BODY_EXCERPT_LIMIT);
    }

    #[test]
    fn proxy_credentials_never_print() {
        let config = HttpConfig {
            proxy: Some("http://u:pw@h:1".to_owned()),
            ..HttpConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("pw"), "{debug}");
        assert!(debug.contains("http://[redacted]@h:1"), "{debug}");
        let client = HttpClient::new(&config).unwrap();
        assert!(!format!("{client:?}").contains("pw"), "{client:?}");
        for proxy in [
            "http://u:pw@[::1",
            "http://u:pw@h:notaport",
            "u:pw@h:99999999",
            "ftp://u:pw@h:1",
            "http://u:pw@exa mple:1",
        ] {
            let config = HttpConfig {
                proxy: Some(proxy.to_owned()),
                ..HttpConfig::default()
            };
            if let Err(err) = HttpClient::new(&config) {
                for text in [err.to_string(), format!("{err:?}")] {
                    assert!(!text.contains("pw"), "{proxy}: {text}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_slow_answer_times_out_and_may_have_reached_the_vendor() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let config = HttpConfig {
            timeout: Duration::from_millis(200),
            ..HttpConfig::default()
        };
        let client = HttpClient::new(&config).unwrap();
        let request = WireRequest::new(HttpMethod::Get, format!("{}/x", server.uri()), None);
        let err = client.execute::<()>(&OP, request, 1).await.unwrap_err();
        let Error::Transport {
            failure,
            may_have_reached_vendor,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(failure, TransportFailure::Timeout);
        assert!(may_have_reached_vendor);
    }
}
