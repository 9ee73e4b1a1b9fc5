//! The exact request that goes on the wire: method, full URL, headers in order, body bytes.
//!
//! Clients build a [`WireRequest`] (body serialised once), a [`Signer`](crate::sign::Signer)
//! adds headers over those bytes, and the HTTP client sends exactly that. Printing one shows
//! the request as sent (for snapshots and dry runs); it holds no secret.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::spec::HttpMethod;

/// Characters left as they are in a query value: RFC 3986 unreserved, plus `,` (the vendors'
/// list separator, which their own samples leave unescaped). Everything else is percent-encoded;
/// a space becomes `%20`, never `+`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b',');

/// One request, exactly as it will be sent.
///
/// `Debug` and `Display` print the URL with its userinfo redacted
/// ([`crate::redact::redact_url`]) and the value of every parameter a signer marked secret
/// ([`WireRequest::redact_param`]) replaced; the fields keep them as sent.
#[derive(Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// HTTP method.
    pub method: HttpMethod,
    /// Full URL, query string included.
    pub url: String,
    /// Headers in the order they are sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes (`None` for GET).
    pub body: Option<Vec<u8>>,
    /// Query or form parameters whose values are secrets, never printed.
    secret_params: Vec<&'static str>,
}

impl WireRequest {
    /// A request without headers.
    pub fn new(method: HttpMethod, url: String, body: Option<Vec<u8>>) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body,
            secret_params: Vec::new(),
        }
    }

    /// Marks query or form parameter `name` secret (a vendor that takes its secret as a
    /// parameter): printing the request shows `name=[redacted]`.
    pub fn redact_param(&mut self, name: &'static str) {
        if !self.secret_params.contains(&name) {
            self.secret_params.push(name);
        }
    }

    /// The URL as printed: userinfo and secret parameters redacted.
    fn shown_url(&self) -> String {
        crate::redact::redact_params(&crate::redact::redact_url(&self.url), &self.secret_params)
            .into_owned()
    }

    /// The body as printed (UTF-8, lossy), secret parameters of a form body redacted.
    fn shown_body(&self) -> Option<String> {
        let body = String::from_utf8_lossy(self.body.as_deref()?);
        Some(crate::redact::redact_params(&body, &self.secret_params).into_owned())
    }

    /// A POST whose body is `value` serialised as JSON, once.
    pub fn json<T: Serialize>(url: String, value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::new(
            HttpMethod::Post,
            url,
            Some(serde_json::to_vec(value)?),
        ))
    }

    /// A GET whose query string is `value`'s fields (a flat object of strings), sorted by name
    /// (the order the generated models serialise in), absent fields left out.
    pub fn query<T: Serialize>(url: String, value: &T) -> Result<Self, serde_json::Error> {
        let query = query_string(value)?;
        let url = if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        };
        Ok(Self::new(HttpMethod::Get, url, None))
    }

    /// A POST whose body is `value`'s fields form-urlencoded (sorted by name, absent fields
    /// left out), with its `Content-Type`.
    pub fn form<T: Serialize>(url: String, value: &T) -> Result<Self, serde_json::Error> {
        let body = query_string(value)?.into_bytes();
        let mut request = Self::new(HttpMethod::Post, url, Some(body));
        request.set_header("Content-Type", "application/x-www-form-urlencoded");
        Ok(request)
    }

    /// A request for `operation` at `url`, `value` encoded as the operation's spec says (a
    /// JSON body, a query string, or a form body).
    pub fn for_operation<T: Serialize>(
        operation: &crate::spec::Operation,
        url: String,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        match operation.encoding {
            crate::spec::RequestEncoding::Json => Self::json(url, value),
            crate::spec::RequestEncoding::Query => Self::query(url, value),
            crate::spec::RequestEncoding::Form => Self::form(url, value),
        }
    }

    /// Sets a header, replacing one of the same name (case-insensitive).
    pub fn set_header(&mut self, name: &str, value: &str) {
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value.to_owned(),
            None => self.headers.push((name.to_owned(), value.to_owned())),
        }
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for WireRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireRequest")
            .field("method", &self.method)
            .field("url", &self.shown_url())
            .field("headers", &Headers(&self.headers))
            .field("body", &self.shown_body())
            .finish()
    }
}

impl fmt::Display for WireRequest {
    /// The request as text: request line (URL userinfo redacted), headers, blank line, body
    /// (UTF-8, lossy).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.shown_url())?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", shown(name, value))?;
        }
        if let Some(body) = self.shown_body() {
            writeln!(f)?;
            write!(f, "{body}")?;
        }
        Ok(())
    }
}

/// A header's value as printed: an `Authorization` header carries the credentials themselves
/// (HTTP Basic is the secret, base64-encoded), so only its scheme is shown.
fn shown<'v>(name: &str, value: &'v str) -> std::borrow::Cow<'v, str> {
    if !name.eq_ignore_ascii_case("authorization") {
        return value.into();
    }
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} {}", crate::redact::REDACTED).into(),
        None => crate::redact::REDACTED.into(),
    }
}

/// Headers for `Debug`, values shown as [`shown`] does.
struct Headers<'h>(&'h [(String, String)]);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .map(|(name, value)| (name, shown(name, value))),
            )
            .finish()
    }
}

/// `a=1&b=x%20y` from a flat object of strings, fields sorted by name (numbers and booleans are
/// written as JSON writes them; nulls are left out).
pub fn query_string<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    use serde::ser::Error as _;
    let serde_json::Value::Object(fields) = serde_json::to_value(value)? else {
        return Err(serde_json::Error::custom(
            "query parameters must be an object",
        ));
    };
    let mut pairs = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(text) => text,
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => value.to_string(),
            _ => {
                return Err(serde_json::Error::custom(format!(
                    "query parameter {name} is not a scalar"
                )));
            }
        };
        pairs.push(format!(
            "{}={}",
            utf8_percent_encode(&name, QUERY_VALUE),
            utf8_percent_encode(&text, QUERY_VALUE)
        ));
    }
    Ok(pairs.join("&"))
}

/// Checks an override base URL and drops a trailing slash.
pub fn normalise_base_url(url: &str) -> Result<String, crate::ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let refuse = |reason: &str| crate::ConfigError::BaseUrl {
        url: crate::redact::redact_url(url).into_owned(),
        reason: reason.to_owned(),
    };
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| refuse("it must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(refuse(
            "it must be scheme, host and optional path, without query",
        ));
    }
    // A URL that only looks right (`http://[::1`, `http://host:99999`) would fail every
    // request later: parse it now, as the HTTP client will.
    #[cfg(feature = "http")]
    match reqwest::Url::parse(trimmed) {
        Ok(parsed) if parsed.host_str().is_some_and(|h| !h.is_empty()) => {}
        Ok(_) => return Err(refuse("it has no host")),
        Err(err) => return Err(refuse(&format!("it does not parse: {err}"))),
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_body_is_the_sorted_fields_form_encoded() {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            #[serde(rename = "To")]
            to: &'a str,
            #[serde(rename = "Body")]
            body: &'a str,
            #[serde(rename = "From", skip_serializing_if = "Option::is_none")]
            from: Option<&'a str>,
        }
        let request = WireRequest::form(
            "https://api.example/Messages.json".to_owned(),
            &Body {
                to: "+15558675310",
                body: "Hi & bye 100%",
                from: None,
            },
        )
        .expect("a flat body");
        assert_eq!(request.method, HttpMethod::Post);
        assert_eq!(
            request.header("Content-Type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            request.body.as_deref(),
            Some(&b"Body=Hi%20%26%20bye%20100%25&To=%2B15558675310"[..])
        );
    }

    #[derive(Serialize)]
    struct Query {
        #[serde(rename = "appId")]
        app_id: &'static str,
        numbers: &'static str,
        content: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        sender: Option<&'static str>,
    }

    #[test]
    fn query_encoding_matches_the_vendor_sample() {
        let q = Query {
            app_id: "4luaKsL2",
            numbers: "91856321412,91856321413",
            content: "hello world",
            sender: None,
        };
        assert_eq!(
            query_string(&q).unwrap(),
            "appId=4luaKsL2&content=hello%20world&numbers=91856321412,91856321413"
        );
        let q = Query {
            app_id: "a",
            numbers: "1",
            content: "50% off & 短信+€ ~ok",
            sender: Some("x"),
        };
        assert_eq!(
            query_string(&q).unwrap(),
            "appId=a&content=50%25%20off%20%26%20%E7%9F%AD%E4%BF%A1%2B%E2%82%AC%20~ok&numbers=1&sender=x"
        );
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            normalise_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalise_base_url("https://proxy.example/sms-api").unwrap(),
            "https://proxy.example/sms-api"
        );
        assert!(normalise_base_url("127.0.0.1:8080").is_err());
        assert!(normalise_base_url("http://x/?a=b").is_err());
        assert!(normalise_base_url("http://").is_err());
        // A refused URL is named without its userinfo, in the message and in the field.
        let err = normalise_base_url("https://u:pw@h/x?y").unwrap_err();
        assert!(!err.to_string().contains("pw") && !format!("{err:?}").contains("pw"));
        assert!(
            err.to_string().contains("https://[redacted]@h/x?y"),
            "{err}"
        );
    }

    #[test]
    fn requests_print_without_url_userinfo() {
        let r = WireRequest::new(HttpMethod::Get, "https://u:pw@h/x".into(), None);
        assert_eq!(r.to_string(), "GET https://[redacted]@h/x\n");
        assert!(!format!("{r:?}").contains("pw"), "{r:?}");
        assert_eq!(r.url, "https://u:pw@h/x", "sent as given");
    }

    #[test]
    #[cfg(feature = "http")]
    fn base_urls_that_do_not_parse_are_refused_redacted() {
        for url in ["http://[::1", "http://host:99999", "http://u:pw@[::1"] {
            let err = normalise_base_url(url).unwrap_err().to_string();
            assert!(err.contains("does not parse"), "{url}: {err}");
            assert!(!err.contains("pw"), "{err}");
        }
        assert!(normalise_base_url("http://[::1]:8080").is_ok());
    }

    #[test]
    fn headers_replace_case_insensitively_and_keep_order() {
        let mut r = WireRequest::new(HttpMethod::Get, "http://x/".into(), None);
        r.set_header("A", "1");
        r.set_header("B", "2");
        r.set_header("a", "3");
        assert_eq!(
            r.headers,
            [
                ("A".to_owned(), "3".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(r.header("b"), Some("2"));
        assert_eq!(r.to_string(), "GET http://x/\nA: 3\nB: 2\n");
    }
}
