//! Redaction of configured URLs before they are printed, and vendor text made safe to print.
//!
//! A proxy or base URL may carry credentials in its userinfo (`http://user:pass@proxy:3128`).
//! Everything that prints a configured URL — `Debug` of [`crate::http::HttpConfig`] and of the
//! vendor clients and builders, [`crate::ConfigError`] messages, the CLI — runs it through
//! [`redact_url`] first.

use std::borrow::Cow;

/// What replaces the userinfo of a URL.
pub const REDACTED: &str = "[redacted]";

/// `url` with its userinfo (user name and password) replaced by [`REDACTED`]:
/// `http://user:pass@proxy:3128/x` becomes `http://[redacted]@proxy:3128/x`.
///
/// Works on text, not on a parsed URL, so that malformed input (which is exactly what error
/// messages print) is redacted too; it never panics. The authority is what follows `scheme://`
/// (or the start of the text when there is no scheme, as in `user:pass@proxy:3128`) up to the
/// first `/`, `\\`, `?` or `#`; when it holds an `@`, everything before the last `@` is
/// replaced. A URL without userinfo is returned as it is, borrowed.
///
/// ```
/// use smsgate_transport::redact::redact_url;
///
/// assert_eq!(redact_url("http://u:pw@proxy:3128"), "http://[redacted]@proxy:3128");
/// assert_eq!(redact_url("https://api.example/v1?a=b@c"), "https://api.example/v1?a=b@c");
/// assert_eq!(redact_url("u:pw@proxy:3128"), "[redacted]@proxy:3128");
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let authority_start = authority_start(url);
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    match authority.rfind('@') {
        Some(at) if &authority[..at] != REDACTED => {
            let mut redacted = String::with_capacity(url.len() + REDACTED.len());
            redacted.push_str(&url[..authority_start]);
            redacted.push_str(REDACTED);
            redacted.push_str(&url[authority_start + at..]);
            Cow::Owned(redacted)
        }
        _ => Cow::Borrowed(url),
    }
}

/// `text` (a URL with a query string, or a form body) with the value of every `&`-separated
/// parameter named in `names` replaced by [`REDACTED`]. Borrowed when there is none.
///
/// ```
/// use smsgate_transport::redact::redact_params;
/// assert_eq!(
///     redact_params("https://h/b?api_key=k&api_secret=s3", &["api_secret"]),
///     "https://h/b?api_key=k&api_secret=[redacted]"
/// );
/// assert_eq!(redact_params("to=1&api_secret=s&x=2", &["api_secret"]), "to=1&api_secret=[redacted]&x=2");
/// ```
pub fn redact_params<'t>(text: &'t str, names: &[&str]) -> Cow<'t, str> {
    let query_start = text.find('?').map_or(0, |q| q + 1);
    let (head, params) = text.split_at(query_start);
    let secret = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(name, value)| names.contains(&name) && value != REDACTED)
    };
    if names.is_empty() || !params.split('&').any(secret) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len());
    shown.push_str(head);
    for (i, pair) in params.split('&').enumerate() {
        if i > 0 {
            shown.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if secret(pair) => {
                shown.push_str(name);
                shown.push('=');
                shown.push_str(REDACTED);
            }
            _ => shown.push_str(pair),
        }
    }
    Cow::Owned(shown)
}

/// Where the authority of `url` starts: after `scheme:` and any slashes when `url` starts with
/// a scheme followed by `//` (or by anything for `http:`/`https:`, which URL parsers read with
/// or without slashes), after any leading `:`, `/`, `\\` otherwise.
fn authority_start(url: &str) -> usize {
    // Without a scheme, leading separators (`://host`) are not part of the authority.
    let no_scheme = url.len() - url.trim_start_matches([':', '/', '\\']).len();
    let Some(colon) = url.find(':') else {
        return no_scheme;
    };
    let scheme = &url[..colon];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let after = &url[colon + 1..];
    let special = ["http", "https", "ws", "wss", "ftp"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s));
    if !is_scheme || !(special || after.starts_with("//")) {
        return no_scheme;
    }
    let slashes = after.len() - after.trim_start_matches(['/', '\\']).len();
    colon + 1 + slashes
}

/// `text` with every control character (C0, DEL, C1: what a terminal acts on, such as ESC
/// sequences that clear the screen or set the title) written as an escape (`\u{1b}`, `\n`), so
/// that text a vendor or server chose can be printed on one line without acting on the
/// terminal. Borrowed when there is none.
///
/// ```
/// use smsgate_transport::redact::escape_controls;
/// assert_eq!(escape_controls("ok"), "ok");
/// assert_eq!(escape_controls("\u{1b}]0;title\u{7}\nx"), "\\u{1b}]0;title\\u{7}\\nx");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_replaced_and_everything_else_kept() {
        let cases = [
            (
                "http://user:pass@proxy:3128",
                "http://[redacted]@proxy:3128",
            ),
            ("http://user@proxy:3128/", "http://[redacted]@proxy:3128/"),
            ("https://:pass@h/p?q#f", "https://[redacted]@h/p?q#f"),
            // A password holding `@` (not percent-encoded): everything before the last `@`.
            ("http://u:p@ss@h:1", "http://[redacted]@h:1"),
            ("socks5://u:pw@h:1080", "socks5://[redacted]@h:1080"),
            ("u:pw@h:1", "[redacted]@h:1"),
            ("HTTP://U:PW@H", "HTTP://[redacted]@H"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn urls_without_userinfo_are_borrowed_as_they_are() {
        for url in [
            "",
            "http://",
            "https://api.example.com/v1/sms",
            "http://127.0.0.1:8080",
            "https://h/path@not-userinfo?x=a@b#c@d",
            "/v1/sms/multi/mt",
            "not a url",
            "http://[redacted]@h",
        ] {
            assert!(
                matches!(redact_url(url), Cow::Borrowed(u) if u == url),
                "{url}"
            );
        }
    }

    #[test]
    fn malformed_input_never_panics_and_never_leaks() {
        for url in [
            "http://u:pw@",
            "://u:pw@h",
            "@",
            "u:pw@",
            "http://u:pw@[::1",
            "http://u:pw@h\u{0}x",
            "http://ü:pẃ@ĥ/€",
            "http:u:pw@h",
            "http:///u:pw@h",
        ] {
            let redacted = redact_url(url);
            assert!(
                !redacted.contains("pw") && !redacted.contains("pẃ"),
                "{url} → {redacted}"
            );
        }
        // URL parsers skip any slashes after a special scheme, and read `http:h` as `http://h`.
        assert_eq!(redact_url("http:///u:pw@h"), "http:///[redacted]@h");
        assert_eq!(redact_url("http:u:pw@h"), "http:[redacted]@h");
    }
}
