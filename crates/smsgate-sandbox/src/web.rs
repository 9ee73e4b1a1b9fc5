//! The inbox over HTTP, beside the vendor APIs on the same port: the page at `/` (HTML, CSS and
//! JavaScript embedded in the binary; no CDN, no build step) and its JSON API under
//! `/_sandbox/`:
//!
//! - `GET /_sandbox/messages` (`?to=`, `?vendor=`, `?text=`, `?since=` UNIX milliseconds or
//!   `2024-02-29T00:00:00Z`, `?limit=`): a [`MessageList`], newest first;
//! - `GET /_sandbox/messages/{id}`: a [`MessageDetail`] (HTTP 404 when not kept);
//! - `DELETE /_sandbox/messages`: empties the inbox (HTTP 204);
//! - `GET /_sandbox/events`: server-sent events, each an [`InboxEvent`] as JSON, its name the
//!   event's `kind`.
//!
//! Listening on loopback, these answer only requests whose `Host` is a loopback name or an IP
//! address (HTTP 403 otherwise): a web page the developer visits cannot rebind its own domain
//! to 127.0.0.1 and read the inbox. (Cross-origin reads and `DELETE` are refused by the
//! browser already: no CORS headers are sent.)

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::inbox::{InboxEvent, MessageDetail, MessageFilter, MessageList, parse_since};
use crate::state::State;

/// The page's HTML.
const PAGE: &str = include_str!("web/inbox.html");
/// The page's style sheet.
const STYLE: &str = include_str!("web/inbox.css");
/// The page's script.
const SCRIPT: &str = include_str!("web/inbox.js");

/// Only the page's own files run: no inline script, nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The inbox's routes (merged with the vendors' before their fallback).
pub fn routes(state: Arc<State>) -> Router<Arc<State>> {
    Router::new()
        .route("/", get(page))
        .route("/_sandbox/inbox.css", get(style))
        .route("/_sandbox/inbox.js", get(script))
        .route("/_sandbox/messages", get(list).delete(clear))
        .route("/_sandbox/messages/{id}", get(detail))
        .route("/_sandbox/events", get(events))
        .route_layer(axum::middleware::from_fn_with_state(state, host_guard))
}

/// Refuses (HTTP 403) a request whose `Host` is neither a loopback name nor an IP address,
/// unless the sandbox listens beyond loopback.
async fn host_guard(
    AxumState(state): AxumState<Arc<State>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match host {
        Some(host) if !state.inbox_any_host && !loopback_host(host) => {
            tracing::warn!(host, "inbox request for a foreign Host refused");
            error(
                StatusCode::FORBIDDEN,
                format!(
                    "the inbox answers only to loopback names and IP addresses, not {host:?} (listen beyond loopback with --bind to reach it by another name)"
                ),
            )
        }
        _ => next.run(request).await,
    }
}

/// Whether `host` (a `Host` header: a name or address, maybe with a port) is `localhost`, a
/// `*.localhost` name or an IP address.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:8080
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// An embedded file with its content type and the page's security headers.
fn asset(content_type: &'static str, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `value` as a JSON answer with `status`.
fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "inbox answer not serialisable");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A JSON error: `{"error": message}`.
fn error(status: StatusCode, message: String) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    to: Option<String>,
    vendor: Option<String>,
    text: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
}

async fn list(
    AxumState(state): AxumState<Arc<State>>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(err) => return error(StatusCode::BAD_REQUEST, err.body_text()),
    };
    let since_ms = match query.since.as_deref().filter(|s| !s.is_empty()) {
        Some(since) => match parse_since(since) {
            Some(ms) => Some(ms),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "since={since:?} is neither UNIX milliseconds nor a UTC time like 2024-02-29T00:00:00Z"
                    ),
                );
            }
        },
        None => None,
    };
    let filter = MessageFilter {
        to: query.to,
        vendor: query.vendor,
        text: query.text,
        since_ms,
        limit: query.limit,
    };
    let list: MessageList = state.inbox.messages(&filter);
    json(StatusCode::OK, &list)
}

async fn detail(AxumState(state): AxumState<Arc<State>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a message id"),
        );
    };
    match state.inbox.message(id) {
        Some(detail) => json::<MessageDetail>(StatusCode::OK, &detail),
        None => error(
            StatusCode::NOT_FOUND,
            format!("message {id} is not in the inbox (cleared, or dropped to stay within --keep)"),
        ),
    }
}

async fn clear(AxumState(state): AxumState<Arc<State>>) -> StatusCode {
    state.inbox.clear();
    StatusCode::NO_CONTENT
}

async fn events(AxumState(state): AxumState<Arc<State>>) -> impl IntoResponse {
    let subscription = state.inbox.subscribe();
    let stream = futures_util::stream::unfold(subscription, |mut subscription| async move {
        let event = subscription.next().await?;
        let sse = match serde_json::to_string(&event) {
            Ok(data) => Event::default().event(event.name()).data(data),
            Err(err) => {
                tracing::error!(error = %err, "inbox event not serialisable");
                Event::default()
                    .event(InboxEvent::Cleared.name())
                    .data("{}")
            }
        };
        Some((Ok::<_, Infallible>(sse), subscription))
    });
    // The first event opens the stream at once, so a page knows it is live.
    let hello = futures_util::stream::once(async {
        Ok::<_, Infallible>(Event::default().event("ready").data("{}"))
    });
    let mut response = Sse::new(futures_util::StreamExt::chain(hello, stream))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::loopback_host;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "app.localhost",
            "[::1]:80",
            "10.0.0.2:8080",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }
}
