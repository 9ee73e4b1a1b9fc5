//! `smsgate receive`: an HTTP server for the delivery reports of every vendor of the registry,
//! each at its own path, matched into a ledger by provider message id and written as JSON lines.
//!
//! Who may report: a vendor that signs its pushes (Twilio; Vonage when signed webhooks are on)
//! is checked with the account's secret; a vendor that does not sign them is accepted only
//! under an unguessable path token, `/TOKEN/VENDOR`. Every vendor is also served under the
//! token path (signatures still checked when the secret is configured), so one push URL
//! template, `http://HOST/TOKEN/{vendor}`, serves all.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use smsgate::DeliveryStatus;
use smsgate::registry::{PushRequest, PushSignature, Settings, Vendor};
use smsgate_ledger::{Ledger, ReportMatch, TextPolicy};
use tokio::sync::{Notify, Semaphore};

use crate::cli::ReceiveArgs;
use crate::config::ConfigFile;
use crate::{CliError, note};

/// The environment variable a path token may come from (rather than the command line, which
/// other users of the machine can read).
pub const TOKEN_ENV: &str = "SMSGATE_RECEIVE_TOKEN";

/// The longest a report's body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The shortest path token taken: 128 bits of a random token's alphabet.
const MIN_TOKEN_CHARS: usize = 22;

/// One vendor's reports.
struct Route {
    vendor: &'static Vendor,
    settings: Settings,
    /// Whether its pushes' signatures are checked (it signs them and its secret is set).
    checked: bool,
}

/// What every request shares.
struct Receiver {
    routes: Vec<Route>,
    token: String,
    /// The URL vendors call, without a trailing `/` (what signatures over the URL cover).
    public_url: String,
    ledger: Arc<dyn Ledger>,
    max_body: usize,
    slots: Arc<Semaphore>,
    /// Standard output; `Err` once a write failed (the server then stops).
    out: Mutex<Result<std::io::Stdout, ()>>,
    stop: Notify,
}

/// Runs the receiver until a signal (exit 0) or a failed write to standard output (exit 4).
pub async fn receive(config: &ConfigFile, args: &ReceiveArgs) -> Result<u8, CliError> {
    let given = args.token.clone().or_else(|| std::env::var(TOKEN_ENV).ok());
    let generated = given.is_none();
    let token = match given {
        Some(token) => check_token(token)?,
        None => generate_token()?,
    };
    let ledger = smsgate_ledger::open(&args.ledger, TextPolicy::Keep)
        .await
        .map_err(|err| CliError::Config(err.to_string()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| CliError::Io(format!("cannot listen on {}: {err}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|err| CliError::Io(format!("cannot listen on {}: {err}", args.listen)))?;
    let public_url = match &args.public_url {
        Some(url) => {
            crate::config::check_url(url)
                .map_err(|reason| CliError::Usage(format!("--public-url: {reason}")))?;
            url.trim_end_matches('/').to_owned()
        }
        None => format!("http://{addr}"),
    };
    let mut routes = Vec::new();
    for vendor in smsgate::registry() {
        if vendor.pushes.is_empty() {
            continue;
        }
        let settings = config.present_settings(vendor)?;
        let checked = vendor.push_check.is_some_and(|check| {
            vendor.pushes[0].signature != PushSignature::Never
                && settings.get(check.secret_key).is_some()
        });
        routes.push(Route {
            vendor,
            settings,
            checked,
        });
    }
    let receiver = Arc::new(Receiver {
        routes,
        token,
        public_url,
        ledger,
        max_body: args.max_body,
        slots: Arc::new(Semaphore::new(args.concurrency.max(1))),
        out: Mutex::new(Ok(std::io::stdout())),
        stop: Notify::new(),
    });
    banner(&receiver, args, generated);
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&receiver));
    let signal = crate::shutdown_signal();
    let stopping = Arc::clone(&receiver);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        tokio::select! {
            _ = signal => {}
            () = stopping.stop.notified() => {}
        }
    });
    server
        .await
        .map_err(|err| CliError::Io(format!("the receiver failed: {err}")))?;
    let failed = receiver
        .out
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_err();
    Ok(if failed { 4 } else { 0 })
}

/// A configured token: long enough and made of URL-safe characters.
fn check_token(token: String) -> Result<String, CliError> {
    let safe = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if token.len() < MIN_TOKEN_CHARS || !safe {
        return Err(CliError::Usage(format!(
            "the path token (--token or {TOKEN_ENV}) must be at least {MIN_TOKEN_CHARS} \
             characters of A-Z, a-z, 0-9, - and _ (it is what keeps forged reports out)"
        )));
    }
    Ok(token)
}

/// A fresh token: 192 bits from the operating system's random source, base64url.
fn generate_token() -> Result<String, CliError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|err| CliError::Io(format!("no random source for the path token: {err}")))?;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    Ok(bytes
        .chunks(3)
        .flat_map(|c| {
            let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
            [18, 12, 6, 0].map(|shift| char::from(ALPHABET[((n >> shift) & 63) as usize]))
        })
        .collect())
}

/// Where each vendor's reports go, on standard error (standard output holds the reports). A
/// token given (`--token`, `SMSGATE_RECEIVE_TOKEN`) is never printed: the paths show `TOKEN`;
/// a generated one is printed this once.
fn banner(receiver: &Receiver, args: &ReceiveArgs, generated: bool) {
    let base = &receiver.public_url;
    note(format_args!(
        "receiving delivery reports on {base} into {}",
        smsgate_ledger::shown_url(&args.ledger)
    ));
    let token = if generated {
        note(format_args!(
            "a new path token was generated (shown only now; give it again with {TOKEN_ENV} to \
             keep these URLs): {}",
            receiver.token
        ));
        receiver.token.as_str()
    } else {
        "TOKEN"
    };
    if args.public_url.is_none() && args.listen.ip().is_unspecified() {
        note(format_args!(
            "listening on {}: give --public-url (the URL vendors call) or Twilio's signatures, \
             which cover the URL, will not match",
            args.listen
        ));
    }
    for route in &receiver.routes {
        let name = route.vendor.name;
        let tokened = format!("{base}/{token}/{name}");
        let how = match (route.checked, route.vendor.push_check) {
            (true, Some(check)) => {
                format!(
                    "{base}/{name} (signature checked with {}; also under the token path)",
                    check.secret_key
                )
            }
            (false, Some(check)) => format!(
                "{tokened} (no {} configured: signatures not checked, accepted under the token \
                 path only)",
                check.secret_key
            ),
            (_, None) => format!("{tokened} (unsigned pushes: accepted under the token path only)"),
        };
        note(format_args!("  {name:<10} {how}"));
    }
    note(format_args!(
        "the simulator pushes here with: smsgate sandbox --push-url '{base}/{token}/{{vendor}}'"
    ));
}

/// One push: route, check, parse, record, write, acknowledge.
async fn handle(State(receiver): State<Arc<Receiver>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let Some((route, tokened)) = receiver.route(&path) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    if !tokened && !route.checked {
        return plain(StatusCode::NOT_FOUND, "not found");
    }
    let Ok(_slot) = Arc::clone(&receiver.slots).try_acquire_owned() else {
        // A busy receiver sheds load rather than queueing without bound.
        return plain(StatusCode::SERVICE_UNAVAILABLE, "busy, retry later");
    };
    let method = request.method().clone();
    if method != Method::POST && method != Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "POST or GET");
    }
    let query = request.uri().query().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    // A slow sender holds a slot at most this long.
    let read = axum::body::to_bytes(request.into_body(), receiver.max_body);
    let body = match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a delivery report is never this large",
            );
        }
        Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "too slow"),
    };
    // A GET report (and a POST from older accounts) carries its fields in the query string.
    let params: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        query.as_bytes()
    } else {
        &body
    };
    let vendor = route.vendor;
    if route.checked
        && let Some(check) = vendor.push_check
    {
        let url = if query.is_empty() {
            format!("{}{path}", receiver.public_url)
        } else {
            format!("{}{path}?{query}", receiver.public_url)
        };
        let push = PushRequest {
            method: method.as_str(),
            url: &url,
            headers: &headers,
            body: params,
            now_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        };
        if let Err(reason) = (check.check)(&push, &route.settings) {
            note(format_args!(
                "a {} delivery report was refused (HTTP 403): {reason}",
                vendor.name
            ));
            return plain(StatusCode::FORBIDDEN, "signature refused");
        }
    }
    let statuses = match (vendor.parse_report)(params) {
        Ok(statuses) => statuses,
        Err(err) => {
            note(format_args!(
                "an unreadable delivery report was refused (HTTP 400): {err}"
            ));
            return plain(StatusCode::BAD_REQUEST, "unreadable delivery report");
        }
    };
    for status in statuses {
        let matched = match receiver.ledger.record_report(status.clone()).await {
            Ok(matched) => matched,
            Err(err) => {
                // Not acknowledged: the vendor sends it again.
                note(format_args!(
                    "a {} delivery report was not acknowledged (HTTP 503; the vendor sends it \
                     again): {err}",
                    vendor.name
                ));
                return plain(StatusCode::SERVICE_UNAVAILABLE, "cannot record it now");
            }
        };
        if !receiver.write(&report_line(&status, &matched)) {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "cannot record it now");
        }
    }
    let ack = vendor.pushes[0].ack;
    let mut response = Response::new(Body::from(ack.body));
    *response.status_mut() = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK);
    if let Some(content_type) = ack
        .content_type
        .and_then(|ct| HeaderValue::from_str(ct).ok())
    {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
}

impl Receiver {
    /// The route of `path` (`/TOKEN/VENDOR` or `/VENDOR`) and whether it carried the token.
    fn route(&self, path: &str) -> Option<(&Route, bool)> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (name, tokened) = match segments.as_slice() {
            [token, name] => {
                let same = smsgate_transport::sign::constant_time_eq(
                    token.as_bytes(),
                    self.token.as_bytes(),
                );
                if !same {
                    return None;
                }
                (*name, true)
            }
            [name] => (*name, false),
            _ => return None,
        };
        self.routes
            .iter()
            .find(|r| r.vendor.name == name)
            .map(|r| (r, tokened))
    }

    /// Writes one line to standard output; on failure stops the server (the report is in the
    /// ledger; the vendor's retry records it again).
    fn write(&self, line: &str) -> bool {
        // A stalled reader of standard output blocks this thread only, not the runtime.
        tokio::task::block_in_place(|| self.write_blocking(line))
    }

    fn write_blocking(&self, line: &str) -> bool {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let Ok(stdout) = out.as_mut() else {
            return false;
        };
        let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
        if let Err(err) = written {
            note(format_args!(
                "cannot write to standard output ({err}): stopping; the ledger holds every report received"
            ));
            *out = Err(());
            self.stop.notify_one();
            return false;
        }
        true
    }
}

/// A report as one JSON line: what the vendor said, and what the ledger made of it.
fn report_line(status: &DeliveryStatus, matched: &ReportMatch) -> String {
    let (job, position) = match &matched.message {
        Some((job, position)) => (Some(job.as_str()), Some(*position)),
        None => (None, None),
    };
    serde_json::json!({
        "provider": status.provider,
        "message_id": status.message_id,
        "state": status.state.as_str(),
        "vendor_status": status.vendor_status,
        "number": status.number,
        "detail": status.detail,
        "at": status.at,
        "matched": matched.message.is_some(),
        "job": job,
        "position": position,
        "ledger_state": matched.state.map(|s| s.as_str()),
    })
    .to_string()
}

/// A short plain-text answer.
fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
}
