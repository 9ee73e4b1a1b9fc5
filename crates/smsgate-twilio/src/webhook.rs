//! `X-Twilio-Signature`: how Twilio signs the requests it sends (status callbacks), and how to
//! check one.
//!
//! The signature is the base64 HMAC-SHA1, keyed with the account's Auth Token, of the full URL
//! Twilio requested (query string included) followed by every POST parameter, sorted by name
//! (then value), each written as its name immediately followed by its value.

use hmac::{Hmac, KeyInit, Mac};

/// The header Twilio signs its requests in.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The `X-Twilio-Signature` of a form POST to `url` carrying `params`, for `auth_token`.
pub fn signature<'p>(
    url: &str,
    params: impl IntoIterator<Item = (&'p str, &'p str)>,
    auth_token: &str,
) -> String {
    use base64::Engine as _;
    let mut sorted: Vec<(&str, &str)> = params.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` (the request's `X-Twilio-Signature`) signs a form POST to `url` carrying
/// `params` with `auth_token`. Like Twilio's own libraries it also accepts the URL with the
/// default port added or removed (Twilio's side is not consistent about it). Compared in
/// constant time.
pub fn verify_signature(
    url: &str,
    params: &[(String, String)],
    auth_token: &str,
    header: &str,
) -> bool {
    let pairs = || params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    url_variants(url).iter().any(|candidate| {
        let expected = signature(candidate, pairs(), auth_token);
        smsgate_transport::sign::constant_time_eq(expected.as_bytes(), header.as_bytes())
    })
}

/// A receiver's check of a status callback ([`PushCheck`](smsgate_provider::PushCheck)):
/// its `X-Twilio-Signature` over the URL Twilio called and the form fields, with the
/// account's `auth_token`.
pub fn check_push(
    push: &smsgate_provider::PushRequest<'_>,
    settings: &smsgate_provider::Settings,
) -> Result<(), String> {
    let token = settings
        .get("auth_token")
        .filter(|t| !t.is_empty())
        .ok_or("no auth_token to check X-Twilio-Signature with")?;
    let header = push
        .header(SIGNATURE_HEADER)
        .ok_or("no X-Twilio-Signature header")?;
    // A GET callback carries its fields in the URL, which the signature covers already.
    let params: Vec<(String, String)> = if push.method.eq_ignore_ascii_case("GET") {
        Vec::new()
    } else {
        serde_urlencoded::from_bytes(push.body).map_err(|err| format!("not a form body: {err}"))?
    };
    if verify_signature(push.url, &params, token, header) {
        Ok(())
    } else {
        Err("X-Twilio-Signature does not match (another auth token, or another URL than the one Twilio called: see --public-url)".to_owned())
    }
}

/// `url` as given, and with its scheme's default port toggled (added when absent, removed when
/// present).
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return variants,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let toggled = match authority.strip_suffix(port) {
        Some(host) => format!("{scheme}://{host}{path}"),
        None if !authority.contains(':') || authority.ends_with(']') => {
            format!("{scheme}://{authority}{port}{path}")
        }
        None => return variants,
    };
    variants.push(toggled);
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str) -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", from),
            ("Digits", "1234"),
            ("From", from),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    /// The example of Twilio's security page ("Validating requests").
    #[test]
    fn twilio_documentation_vector() {
        let params = params("+12349013030");
        let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert_eq!(
            signature(URL, pairs, "12345"),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(verify_signature(
            URL,
            &params,
            "12345",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!verify_signature(
            URL,
            &params,
            "12346",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!verify_signature(
            URL,
            &params[1..],
            "12345",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    /// The vectors of Twilio's SDK tests (twilio-python `test_request_validator.py`).
    #[test]
    fn twilio_sdk_vectors() {
        let params = params("+14158675309");
        assert!(verify_signature(
            URL,
            &params,
            "12345",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // Signed with the port: accepted without it, and the other way round.
        assert!(verify_signature(
            URL,
            &params,
            "12345",
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(verify_signature(
            with_port,
            &params,
            "12345",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(verify_signature(
            http,
            &params,
            "12345",
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        let duplicates: Vec<(String, String)> = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert!(verify_signature(
            URL,
            &duplicates,
            "12345",
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        ));
    }
}
