//! Redaction of what the inbox keeps of a request and its answer: the value of every header,
//! parameter or JSON field whose name suggests a secret, and every secret of the sandbox's
//! accounts wherever else it appears.

use axum::http::{HeaderMap, Method};
use smsgate_transport::redact::REDACTED;

use crate::inbox::{RawHeader, RawRequest};

/// Parts of a header, parameter or field name that mark its value as secret (compared in
/// lower case): `Authorization`, `Sign`, `sig`, `api_secret`, `Api-Key`, `accessKey`,
/// `auth_token`, `password`, `Cookie`.
const SECRET_NAME_PARTS: &[&str] = &[
    "auth",
    "sig",
    "secret",
    "key",
    "token",
    "password",
    "passwd",
    "cookie",
    "credential",
];

/// Shortest account secret replaced wherever it appears (a shorter one would redact ordinary
/// text).
const MIN_SECRET_LEN: usize = 4;

/// Whether a header, parameter or field named `name` may carry a secret.
pub fn secret_name(name: &str) -> bool {
    // Asked for every field of every request the inbox keeps: no copy of the name.
    let name = name.as_bytes();
    SECRET_NAME_PARTS.iter().any(|part| {
        name.windows(part.len())
            .any(|window| window.eq_ignore_ascii_case(part.as_bytes()))
    })
}

/// Redacts with a fixed list of secret values besides the names.
#[derive(Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor of `secrets` (values shorter than 4 characters are ignored), longest first.
    pub fn new(mut secrets: Vec<String>) -> Self {
        secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every known secret replaced.
    fn values(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }

    /// A request as the inbox keeps it, redacted, its body cut after `max_body` bytes.
    pub fn request(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &[u8],
        max_body: usize,
    ) -> RawRequest {
        let form = is_form(headers);
        let shown_headers = headers
            .iter()
            .map(|(name, value)| RawHeader {
                name: name.as_str().to_owned(),
                value: if secret_name(name.as_str()) {
                    REDACTED.to_owned()
                } else {
                    self.values(&String::from_utf8_lossy(value.as_bytes()))
                },
            })
            .collect();
        RawRequest {
            method: method.as_str().to_owned(),
            path: self.values(path),
            query: self.values(&redact_params(query)),
            headers: shown_headers,
            body: self.body(body, form, max_body),
            body_bytes: body.len(),
        }
    }

    /// An answer body as the inbox keeps it, redacted, cut after `max_body` bytes.
    pub fn answer(&self, body: &[u8], max_body: usize) -> String {
        self.body(body, false, max_body)
    }

    /// A body as text, its secrets redacted where they are named (JSON fields, form
    /// parameters) and wherever a known secret appears, cut after `max_body` bytes. Only a
    /// window a little longer than what is kept is read, so a huge body costs no more than a
    /// small one; a secret cut by the window's end is redacted up to it.
    fn body(&self, body: &[u8], form: bool, max_body: usize) -> String {
        let longest_secret = self.secrets.first().map_or(0, String::len);
        let window = &body[..body.len().min(max_body + longest_secret + 1024)];
        let text = String::from_utf8_lossy(window);
        let trimmed = text.trim_start();
        let named = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            redact_json_text(&text)
        } else if form || looks_like_params(&text) {
            redact_params(&text)
        } else {
            text.into_owned()
        };
        let mut kept = cut(self.values(&named), max_body);
        if window.len() < body.len() && !kept.contains("more bytes not kept") {
            kept.push_str(&format!(
                "\n… ({} more bytes not kept)",
                body.len() - window.len()
            ));
        }
        kept
    }
}

/// Whether the request says its body is a form.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
}

/// Whether `text` reads as `name=value&...` (a form body sent without its content type).
fn looks_like_params(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && text.split('&').all(|pair| pair.contains('='))
}

/// `name=value&...` with the value of every secret-named parameter replaced.
pub fn redact_params(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret_name(&decoded(name)) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A parameter name percent-decoded (`api%5Fkey` is `api_key`).
fn decoded(name: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("{name}="))
        .ok()
        .and_then(|pairs| pairs.into_iter().next())
        .map_or_else(|| name.to_owned(), |(name, _)| name)
}

/// `text` (JSON, possibly cut short) with the value of every secret-named field, at any depth,
/// replaced by `"[redacted]"` (an object or array value as a whole); everything else is kept
/// byte for byte, formatting included.
fn redact_json_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut shown = String::with_capacity(text.len());
    let (mut at, mut copied) = (0, 0);
    while at < bytes.len() {
        if bytes[at] != b'"' {
            at += 1;
            continue;
        }
        let end = string_end(bytes, at);
        let colon = skip_space(bytes, end);
        let is_key = end > at + 1 && bytes.get(colon) == Some(&b':');
        if is_key && secret_name(&text[at + 1..end - 1]) {
            let value = skip_space(bytes, colon + 1);
            let value_end = value_end(bytes, value);
            if value_end > value {
                shown.push_str(&text[copied..value]);
                shown.push('"');
                shown.push_str(REDACTED);
                shown.push('"');
                copied = value_end;
                at = value_end;
                continue;
            }
        }
        at = end;
    }
    shown.push_str(&text[copied..]);
    shown
}

/// Just past the string starting with the quote at `start` (the end of `bytes` if unterminated).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The first byte from `at` that is not JSON whitespace.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        at += 1;
    }
    at
}

/// Just past the JSON value starting at `start`: a string, a balanced object or array, or a
/// literal up to the next delimiter (the end of `bytes` if it is cut short).
fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start) {
        None => start,
        Some(b'"') => string_end(bytes, start),
        Some(b'{' | b'[') => {
            let (mut depth, mut at) = (0usize, start);
            while at < bytes.len() {
                match bytes[at] {
                    b'"' => {
                        at = string_end(bytes, at);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            bytes.len()
        }
        Some(_) => {
            let mut at = start;
            while at < bytes.len()
                && !matches!(bytes[at], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                at += 1;
            }
            at
        }
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), saying how much was cut.
fn cut(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let more = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("\n… ({more} more bytes not kept)"));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn secret_names_cover_every_vendor_scheme() {
        for name in [
            "Authorization",
            "Sign",
            "sig",
            "api_secret",
            "Api-Key",
            "accessKey",
            "X-Twilio-Signature",
            "auth_token",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in ["To", "Body", "content", "numbers", "senderId", "Timestamp"] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn requests_lose_their_secrets() {
        let redactor = Redactor::new(vec!["hunter22".to_owned(), "abc".to_owned()]);
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Basic QUM6dG9rZW4=".parse().unwrap());
        headers.insert("sign", "0123abcd".parse().unwrap());
        headers.insert("x-note", "pw is hunter22".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        let body = br#"{"appKey":"k1","content":"hi abc","nested":[{"api_secret":"s"}]}"#;
        let request = redactor.request(
            &Method::POST,
            "/send",
            "api_key=k&api_secret=hunter22&to=1",
            &headers,
            body,
            1024,
        );
        let shown = serde_json::to_string(&request).unwrap();
        for secret in ["QUM6", "0123abcd", "hunter22", "k1", "\"s\""] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert_eq!(
            request.query,
            "api_key=[redacted]&api_secret=[redacted]&to=1"
        );
        assert!(request.body.contains("hi abc"), "{}", request.body);
        assert!(
            request
                .headers
                .iter()
                .any(|h| h.value == "pw is [redacted]")
        );
    }

    #[test]
    fn form_bodies_and_long_bodies() {
        let redactor = Redactor::new(Vec::new());
        let request = redactor.request(
            &Method::POST,
            "/x",
            "",
            &HeaderMap::new(),
            b"To=%2B1&Body=hi+there&AuthToken=t",
            1024,
        );
        assert_eq!(request.body, "To=%2B1&Body=hi+there&AuthToken=[redacted]");
        let json = redactor.answer(
            br#"{ "sid" : "SM1",  "auth_token":"t0k", "n": {"api_key": 12, "x": [1, {"Sign": {"a": "}"}}]}, "Body": "a \"sig\": b" }"#,
            1024,
        );
        assert_eq!(
            json,
            r#"{ "sid" : "SM1",  "auth_token":"[redacted]", "n": {"api_key": "[redacted]", "x": [1, {"Sign": "[redacted]"}]}, "Body": "a \"sig\": b" }"#
        );
        // Cut short: what is there is still redacted.
        assert_eq!(
            redactor.answer(br#"{"a": 1, "api_secret": "abcd"#, 1024),
            r#"{"a": 1, "api_secret": "[redacted]""#
        );
        let long = cut("é".repeat(10), 5);
        assert!(long.starts_with("éé\n…"), "{long}");
    }
}
