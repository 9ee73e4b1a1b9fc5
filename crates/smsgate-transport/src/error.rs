//! One error type for every vendor call, in the spirit of progenitor-client: what went wrong,
//! and — for sending — whether the request may have reached the vendor.

use std::fmt;

use bytes::Bytes;

use crate::spec::{CodeTable, ErrorClass};

/// What client-side validation refused. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{vendor} {operation}: {field} {kind}")]
pub struct ValidationError {
    /// Vendor name.
    pub vendor: &'static str,
    /// Operation name.
    pub operation: &'static str,
    /// Field at fault, as the vendor names it (`content`, `numbers[3]`, `items[0].sysMessageId`).
    pub field: String,
    /// What is wrong, with the value's size and the limit.
    pub kind: ValidationKind,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationKind {
    /// The value is empty but required.
    Empty,
    /// The value is longer than the vendor allows (characters = Unicode scalar values).
    TooLong {
        /// Characters in the value.
        chars: usize,
        /// Most characters allowed.
        limit: usize,
    },
    /// A list has more entries than the vendor allows in one request.
    TooMany {
        /// Entries given.
        count: usize,
        /// Most entries allowed.
        limit: usize,
    },
    /// Two lists must have the same length.
    CountMismatch {
        /// Entries in this field.
        count: usize,
        /// The field it must match.
        other_field: &'static str,
        /// Entries in that field.
        other_count: usize,
    },
    /// The value breaks a format rule.
    Malformed {
        /// The rule, in words.
        rule: &'static str,
    },
    /// The value holds a control character: C0 (`U+0000`–`U+001F`) other than tab, line feed
    /// and carriage return, or DEL (`U+007F`). Gateways and handsets treat them unpredictably
    /// (a NUL may cut the text, an escape sequence may reach a terminal that logs it).
    ControlCharacter {
        /// Position of the first such character, counted in characters (Unicode scalar
        /// values) from 1.
        position: usize,
        /// Its code point (`0x1b` for ESC).
        code_point: u32,
    },
}

impl fmt::Display for ValidationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("is empty"),
            Self::TooLong { chars, limit } => {
                write!(f, "is {chars} characters, the limit is {limit}")
            }
            Self::TooMany { count, limit } => {
                write!(f, "has {count} entries, the limit is {limit} per request")
            }
            Self::CountMismatch {
                count,
                other_field,
                other_count,
            } => {
                write!(
                    f,
                    "has {count} entries but {other_field} has {other_count}; the counts must match"
                )
            }
            Self::Malformed { rule } => write!(f, "is malformed: {rule}"),
            Self::ControlCharacter {
                position,
                code_point,
            } => write!(
                f,
                "holds control character U+{code_point:04X} at character {position}; only tab, \
                 line feed and carriage return are allowed"
            ),
        }
    }
}

/// How a transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// No connection could be made (refused, DNS, TLS handshake, connect timeout).
    Connect,
    /// The request was sent (or partly) but no complete answer came in time.
    Timeout,
    /// The connection failed while sending or receiving.
    Io,
    /// The answer's body was larger than the configured limit
    /// ([`crate::http::HttpConfig::max_body_bytes`]): announced so in `Content-Length`, or
    /// passed the limit while being read. Reading stopped there; the request had been sent.
    BodyTooLarge {
        /// Most body bytes accepted.
        limit: usize,
    },
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connection failed"),
            Self::Timeout => f.write_str("timed out"),
            Self::Io => f.write_str("connection broke"),
            Self::BodyTooLarge { limit } => {
                write!(f, "answer body larger than the limit of {limit} bytes")
            }
        }
    }
}

/// Most bytes of an unexpected body kept in [`Error::UnexpectedStatus`].
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// A failed vendor call. `C` is the vendor's generated status-code table.
#[derive(Debug, thiserror::Error)]
pub enum Error<C> {
    /// Client-side validation refused the request; nothing was sent.
    #[error(transparent)]
    InvalidRequest(#[from] ValidationError),
    /// The HTTP exchange failed.
    #[error("{vendor} {operation}: {failure} ({}): {message}", if *may_have_reached_vendor { "the request may have reached the vendor" } else { "the request was not sent" })]
    Transport {
        /// Vendor name.
        vendor: &'static str,
        /// Operation name.
        operation: &'static str,
        /// How it failed.
        failure: TransportFailure,
        /// Whether the vendor may have received (and acted on) the request.
        may_have_reached_vendor: bool,
        /// The underlying error, without URL.
        message: String,
    },
    /// The vendor answered with an HTTP status other than 2xx.
    ///
    /// A 3xx is one of these too: smsgate never follows redirects (a redirect would re-send
    /// the signed headers and the body to wherever `Location` points), so the message names
    /// the redirect's origin and says it was refused.
    #[error("{vendor} {operation}: {}", StatusMessage { status: *status, body_excerpt, redirect_origin: redirect_origin.as_deref() })]
    UnexpectedStatus {
        /// Vendor name.
        vendor: &'static str,
        /// Operation name.
        operation: &'static str,
        /// HTTP status code.
        status: u16,
        /// The first bytes of the body (lossy UTF-8, at most [`BODY_EXCERPT_LIMIT`] bytes;
        /// empty for a 3xx, whose body is not read).
        body_excerpt: String,
        /// For a 3xx with a usable `Location`: the origin it pointed to (`scheme://host:port`,
        /// never path, query or userinfo). `None` otherwise.
        redirect_origin: Option<String>,
    },
    /// The vendor answered 2xx with a body that is not the documented shape.
    #[error("{vendor} {operation}: undecodable response (HTTP {status}): {message}")]
    Undecodable {
        /// Vendor name.
        vendor: &'static str,
        /// Operation name.
        operation: &'static str,
        /// HTTP status code.
        status: u16,
        /// What the decoder said.
        message: String,
        /// The body as received.
        raw: Bytes,
    },
    /// The vendor refused the request with a status code.
    #[error("{vendor} {operation}: {code}: {reason:?}")]
    Vendor {
        /// Vendor name.
        vendor: &'static str,
        /// Operation name.
        operation: &'static str,
        /// The code, typed (`Unknown(raw)` when undocumented).
        code: C,
        /// The vendor's reason text ([`Error::vendor`] keeps at most [`BODY_EXCERPT_LIMIT`] bytes).
        reason: String,
    },
}

/// Most characters of a body shown in an error message.
pub const MESSAGE_EXCERPT_CHARS: usize = 200;

/// A body excerpt as one line of at most [`MESSAGE_EXCERPT_CHARS`] characters: markup tags
/// (`<title>`, `<br/>`) dropped, runs of whitespace one space, `…` where it was cut. An HTML
/// error page becomes its text: `502 Bad Gateway nginx`.
pub fn one_line_summary(body: &str) -> String {
    let mut words = String::new();
    let mut in_tag = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A tag starts with a letter, `/`, `!` or `?`: `a < b` in a JSON body is text.
            '<' if !in_tag
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                in_tag = true;
                words.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c => words.push(c),
        }
    }
    let text = words.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(MESSAGE_EXCERPT_CHARS) {
        Some(_) => {
            let cut: String = text.chars().take(MESSAGE_EXCERPT_CHARS - 1).collect();
            format!("{cut}…")
        }
        None => text,
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn an_html_page_becomes_one_short_line_of_its_text() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 \
                    Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body></html>";
        assert_eq!(
            one_line_summary(page),
            "502 Bad Gateway 502 Bad Gateway nginx"
        );
        let long = "word ".repeat(100);
        let summary = one_line_summary(&long);
        assert_eq!(summary.chars().count(), MESSAGE_EXCERPT_CHARS);
        assert!(summary.ends_with('…'));
        let exact = "x".repeat(MESSAGE_EXCERPT_CHARS);
        assert_eq!(one_line_summary(&exact), exact);
        assert_eq!(one_line_summary("  \n "), "");
        assert_eq!(
            one_line_summary("{\"error\": \"a < b\"}"),
            "{\"error\": \"a < b\"}"
        );
    }
}

/// The part of [`Error::UnexpectedStatus`]'s message after vendor and operation.
struct StatusMessage<'a> {
    status: u16,
    body_excerpt: &'a str,
    redirect_origin: Option<&'a str>,
}

impl fmt::Display for StatusMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status;
        if !(300..400).contains(&status) {
            let summary = one_line_summary(self.body_excerpt);
            if summary.is_empty() {
                return write!(f, "unexpected HTTP status {status} (empty body)");
            }
            return write!(f, "unexpected HTTP status {status}: {summary}");
        }
        match self.redirect_origin {
            Some(origin) => write!(f, "HTTP {status} redirect to {origin} refused"),
            None => write!(f, "HTTP {status} redirect refused"),
        }?;
        f.write_str(": smsgate never follows redirects")
    }
}

impl<C: CodeTable<Class = ErrorClass>> Error<C> {
    /// The normalised class of a vendor error (`None` for other errors).
    pub fn vendor_class(&self) -> Option<ErrorClass> {
        match self {
            Self::Vendor { code, .. } => Some(code.class()),
            _ => None,
        }
    }

    /// Whether the vendor may have received the request and acted on it. `false` means it
    /// certainly did not (invalid request, connection never made); a vendor error means it
    /// received it and answered.
    pub fn may_have_reached_vendor(&self) -> bool {
        match self {
            Self::InvalidRequest(_) => false,
            Self::Transport {
                may_have_reached_vendor,
                ..
            } => *may_have_reached_vendor,
            Self::UnexpectedStatus { .. } | Self::Undecodable { .. } | Self::Vendor { .. } => true,
        }
    }
}

/// `text` cut to at most `limit` bytes on a character boundary, `…` marking a cut.
pub(crate) fn bounded(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let end = floor_char_boundary(&text, limit - '…'.len_utf8());
        text.truncate(end);
        text.push('…');
    }
    text
}

/// The largest character boundary of `text` at or below `at`.
pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

impl<C> Error<C> {
    /// A vendor's refusal with `code`; the vendor's `reason` is kept to at most
    /// [`BODY_EXCERPT_LIMIT`] bytes (`…` marks a cut), its control characters escaped, so that
    /// a hostile answer cannot make an error, a log line or an outcome as long as its body, nor
    /// act on the terminal that prints it.
    pub fn vendor(operation: &crate::spec::Operation, code: C, reason: &str) -> Self {
        Self::Vendor {
            vendor: operation.vendor,
            operation: operation.name,
            code,
            reason: bounded(
                crate::redact::escape_controls(reason).into_owned(),
                BODY_EXCERPT_LIMIT,
            ),
        }
    }
}

/// A client could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is missing (a builder field or an environment variable).
    #[error("{0} is not set")]
    Missing(String),
    /// A setting's value is not one the vendor takes.
    #[error("{0}")]
    Invalid(String),
    /// A base URL is not an absolute http(s) URL.
    #[error("invalid base URL {:?}: {reason}", crate::redact::redact_url(url))]
    BaseUrl {
        /// The URL given, its userinfo redacted ([`crate::redact::redact_url`]) by every
        /// constructor in smsgate; the message redacts it again.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// A setting the vendor does not take.
    #[error("{vendor} takes no setting {key:?}")]
    UnknownSetting {
        /// Vendor name.
        vendor: &'static str,
        /// The key given.
        key: String,
    },
    /// Settings given in two ways that disagree (typed credentials and settings by key).
    #[error("{vendor}: {reason}")]
    Conflict {
        /// Vendor name.
        vendor: &'static str,
        /// What conflicts.
        reason: &'static str,
    },
    /// The HTTP client could not be built (proxy, TLS). The text never holds a proxy's
    /// userinfo.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// A required environment variable, non-empty; [`ConfigError::Missing`] names it otherwise.
pub fn env_var(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ConfigError::Missing(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_name_field_size_and_limit() {
        let err = ValidationError {
            vendor: "itniotech",
            operation: "sendSms",
            field: "content".into(),
            kind: ValidationKind::TooLong {
                chars: 1031,
                limit: 1024,
            },
        };
        assert_eq!(
            err.to_string(),
            "itniotech sendSms: content is 1031 characters, the limit is 1024"
        );
        let err = ValidationError {
            vendor: "itniotech",
            operation: "sendSms",
            field: "orderId".into(),
            kind: ValidationKind::CountMismatch {
                count: 3,
                other_field: "numbers",
                other_count: 2,
            },
        };
        assert_eq!(
            err.to_string(),
            "itniotech sendSms: orderId has 3 entries but numbers has 2; the counts must match"
        );
    }
}
