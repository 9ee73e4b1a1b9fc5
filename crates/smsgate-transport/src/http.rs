//! The HTTP client every vendor client shares: reqwest with rustls (certificate verification
//! always on), connection pooling and keep-alive, timeouts, user agent, optional proxy.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{BODY_EXCERPT_LIMIT, ConfigError, Error, TransportFailure};
use crate::spec::{HttpMethod, Operation};
use crate::wire::WireRequest;

/// Default time allowed to open a connection (DNS, TCP, TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed for a whole request, from connecting to the last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// User agent sent with every request.
pub const USER_AGENT: &str = concat!("smsgate/", env!("CARGO_PKG_VERSION"));

/// Settings of the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Time allowed to connect ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request ([`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
    /// `User-Agent` header ([`USER_AGENT`]).
    pub user_agent: String,
    /// Proxy URL for every request (`http://…`, `https://…`), if any.
    pub proxy: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: USER_AGENT.to_owned(),
            proxy: None,
        }
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
}

impl HttpClient {
    /// Builds a client from `config`.
    pub fn new(config: &HttpConfig) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_keepalive(Duration::from_secs(60));
        builder = match &config.proxy {
            Some(proxy) => builder.proxy(
                reqwest::Proxy::all(proxy)
                    .map_err(|err| ConfigError::Http(format!("invalid proxy {proxy:?}: {err}")))?,
            ),
            // Only an explicit proxy is used: environment proxies would send traffic (and the
            // vendor credentials) somewhere the user did not configure.
            None => builder.no_proxy(),
        };
        let client = builder
            .build()
            .map_err(|err| ConfigError::Http(err.to_string()))?;
        Ok(Self { client })
    }

    /// Sends `request` exactly as it is, inside a `smsgate.request` tracing span (vendor,
    /// operation, recipient count, HTTP status, latency; never a secret or a number).
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
        let _entered = span.enter();
        let started = Instant::now();
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        drop(_entered);
        let result = async {
            let response = builder.send().await?;
            let status = response.status().as_u16();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(RawResponse { status, body })
        }
        .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        span.record("latency_ms", latency_ms);
        match result {
            Ok(raw) => {
                span.record("status", raw.status);
                tracing::debug!(parent: &span, status = raw.status, latency_ms, bytes = raw.body.len(), "vendor answered");
                Ok(raw)
            }
            Err(err) => {
                let (failure, may_have_reached_vendor) = classify(&err);
                tracing::warn!(parent: &span, %failure, may_have_reached_vendor, latency_ms, "vendor call failed");
                Err(Error::Transport {
                    vendor: operation.vendor,
                    operation: operation.name,
                    failure,
                    may_have_reached_vendor,
                    message: err.without_url().to_string(),
                })
            }
        }
    }
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
        });
    }
    serde_json::from_slice(&raw.body).map_err(|err| undecodable(operation, raw, err.to_string()))
}

/// An [`Error::Undecodable`] for `raw`.
pub fn undecodable<C>(operation: &Operation, raw: &RawResponse, message: String) -> Error<C> {
    Error::Undecodable {
        vendor: operation.vendor,
        operation: operation.name,
        status: raw.status,
        message,
        raw: raw.body.clone(),
    }
}

/// At most [`BODY_EXCERPT_LIMIT`] bytes of `body`, cut on a character boundary.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT_LIMIT)]).into_owned();
    match text.strip_suffix('\u{FFFD}') {
        Some(cut) if body.len() > BODY_EXCERPT_LIMIT => cut.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{AuthScheme, Limits, RequestEncoding};

    const OP: Operation = Operation {
        vendor: "test",
        name: "op",
        method: HttpMethod::Post,
        base_url: "http://127.0.0.1",
        path: "/x",
        encoding: RequestEncoding::Json,
        auth: AuthScheme::KeySecretTimestampMd5,
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
        let request = WireRequest::new(HttpMethod::Get, format!("http://127.0.0.1:{port}/x"), None);
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
        assert!(!message.contains("127.0.0.1"), "URL is stripped: {message}");
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
