//! Vonage's two auth schemes for the SMS API, and the signature of its signed webhooks.
//!
//! - `vonage-key-secret` ([`VonageKeySecret`]): `api_key` and `api_secret` as parameters of
//!   the form body (POST) or the query string (GET).
//! - `vonage-signature` ([`VonageSignature`]): `api_key`, a UNIX `timestamp` and `sig`, a hash
//!   of the sorted parameters with the signature secret ("Signing Messages"): [`signature`].
//!
//! Both add their parameters after the body is serialised, so the signed bytes are the sent
//! ones; printing a request shows `api_secret=[redacted]`.

use hmac::{Hmac, KeyInit, Mac};
use smsgate_transport::secret::Secret;
use smsgate_transport::sign::{Signer, constant_time_eq, hex_lower, md5_hex};
use smsgate_transport::spec::{FixedHeader, HttpMethod};
use smsgate_transport::wire::WireRequest;

/// How `sig` is computed: the dashboard's choice for the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureMethod {
    /// `md5hash` (the default): hex MD5 of the parameter string followed by the secret.
    #[default]
    Md5Hash,
    /// `md5`: HMAC-MD5 of the parameter string, keyed with the secret.
    HmacMd5,
    /// `sha1`: HMAC-SHA1.
    HmacSha1,
    /// `sha256`: HMAC-SHA256.
    HmacSha256,
    /// `sha512`: HMAC-SHA512.
    HmacSha512,
}

impl SignatureMethod {
    /// The method of a `signature_method` setting (`md5hash`, `md5`, `sha1`, `sha256`,
    /// `sha512`); empty is the default, anything else `None`.
    pub fn from_setting(value: &str) -> Option<Self> {
        Some(match value {
            "" | "md5hash" => Self::Md5Hash,
            "md5" => Self::HmacMd5,
            "sha1" => Self::HmacSha1,
            "sha256" => Self::HmacSha256,
            "sha512" => Self::HmacSha512,
            _ => return None,
        })
    }
}

/// The string Vonage hashes: `&name=value` for every parameter but `sig`, sorted by name, `&`
/// and `=` inside values replaced by `_`.
pub fn signing_string<'p>(params: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    let mut sorted: Vec<(&str, &str)> = params.into_iter().filter(|(k, _)| *k != "sig").collect();
    sorted.sort_unstable();
    let mut text = String::new();
    for (name, value) in sorted {
        text.push('&');
        text.push_str(name);
        text.push('=');
        text.extend(
            value
                .chars()
                .map(|c| if c == '&' || c == '=' { '_' } else { c }),
        );
    }
    text
}

/// `sig` of `params` (a request's or a webhook's, `sig` itself ignored) with `secret`:
/// lowercase hex.
pub fn signature<'p>(
    params: impl IntoIterator<Item = (&'p str, &'p str)>,
    secret: &str,
    method: SignatureMethod,
) -> String {
    let text = signing_string(params);
    fn hmac_hex<M: Mac + KeyInit>(secret: &str, text: &str) -> String {
        let mut mac = <M as KeyInit>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(text.as_bytes());
        hex_lower(&mac.finalize().into_bytes())
    }
    match method {
        SignatureMethod::Md5Hash => md5_hex(&[text.as_bytes(), secret.as_bytes()]),
        SignatureMethod::HmacMd5 => hmac_hex::<Hmac<md5::Md5>>(secret, &text),
        SignatureMethod::HmacSha1 => hmac_hex::<Hmac<sha1::Sha1>>(secret, &text),
        SignatureMethod::HmacSha256 => hmac_hex::<Hmac<sha2::Sha256>>(secret, &text),
        SignatureMethod::HmacSha512 => hmac_hex::<Hmac<sha2::Sha512>>(secret, &text),
    }
}

/// Whether a signed webhook's parameters carry a valid `sig` (compared case-insensitively:
/// Vonage sends it upper-case) for `secret`.
pub fn verify_signature(
    params: &[(String, String)],
    secret: &str,
    method: SignatureMethod,
) -> bool {
    let Some((_, sig)) = params.iter().find(|(k, _)| k == "sig") else {
        return false;
    };
    let expected = signature(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        secret,
        method,
    );
    // Vonage writes its webhook signatures upper-case.
    constant_time_eq(expected.as_bytes(), sig.to_ascii_lowercase().as_bytes())
}

/// [`verify_signature`] for a signed webhook received at `now_secs`: its `timestamp` must also
/// lie within `window_secs` of now (Vonage names no window; 300 s is what its SDKs use), so
/// that a captured webhook cannot be replayed later.
pub fn verify_webhook(
    params: &[(String, String)],
    secret: &str,
    method: SignatureMethod,
    now_secs: u64,
    window_secs: u64,
) -> bool {
    let fresh = params
        .iter()
        .find(|(k, _)| k == "timestamp")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .is_some_and(|at| at.abs_diff(now_secs) <= window_secs);
    fresh && verify_signature(params, secret, method)
}

/// How far a signed webhook's `timestamp` may lie from now ([`verify_webhook`]).
pub const WEBHOOK_WINDOW_SECS: u64 = 300;

/// The parameters of a webhook: a JSON object's fields (strings as they are, other values as
/// JSON text), or form fields (a form body or a query string).
pub fn webhook_params(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(body)
        .map_err(|err| err.to_string())?
        .trim();
    if text.starts_with('{') {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|err| err.to_string())?;
        Ok(object
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect())
    } else {
        serde_urlencoded::from_str(text.trim_start_matches('?')).map_err(|err| err.to_string())
    }
}

/// A receiver's check of a delivery receipt ([`PushCheck`](smsgate_provider::PushCheck)) for
/// an account that signs its webhooks: `sig` with the `signature_secret` and
/// `signature_method`, and a `timestamp` within [`WEBHOOK_WINDOW_SECS`] of now.
pub fn check_push(
    push: &smsgate_provider::PushRequest<'_>,
    settings: &smsgate_provider::Settings,
) -> Result<(), String> {
    let secret = settings
        .get("signature_secret")
        .filter(|s| !s.is_empty())
        .ok_or("no signature_secret to check the receipt's sig with")?;
    let method =
        SignatureMethod::from_setting(settings.get("signature_method").unwrap_or_default())
            .ok_or("signature_method is not one of md5hash, md5, sha1, sha256, sha512")?;
    let params = webhook_params(push.body)?;
    if !params.iter().any(|(k, _)| k == "sig") {
        return Err("the receipt is not signed (no sig)".to_owned());
    }
    if verify_webhook(&params, secret, method, push.now_secs, WEBHOOK_WINDOW_SECS) {
        Ok(())
    } else {
        Err("sig does not match, or timestamp is not within 300 s of now".to_owned())
    }
}

/// Appends `params` to the request's form body (POST) or query string (GET).
fn append(request: &mut WireRequest, params: &[(&str, &str)]) {
    let mut encoded = String::new();
    for (name, value) in params {
        if !encoded.is_empty() {
            encoded.push('&');
        }
        encoded.push_str(name);
        encoded.push('=');
        encoded.extend(percent_encoding::utf8_percent_encode(
            value,
            percent_encoding::NON_ALPHANUMERIC,
        ));
    }
    let target = match (&request.method, request.body.as_mut()) {
        (HttpMethod::Get, _) | (_, None) => {
            let separator = if request.url.contains('?') { '&' } else { '?' };
            request.url.push(separator);
            request.url.push_str(&encoded);
            return;
        }
        (_, Some(body)) => body,
    };
    if !target.is_empty() {
        target.push(b'&');
    }
    target.extend_from_slice(encoded.as_bytes());
}

/// The parameters a request already carries (form body, or query string of a GET).
fn params_of(request: &WireRequest) -> Vec<(String, String)> {
    let text = match (&request.method, request.body.as_deref()) {
        (HttpMethod::Get, _) | (_, None) => request
            .url
            .split_once('?')
            .map_or("", |(_, q)| q)
            .as_bytes(),
        (_, Some(body)) => body,
    };
    serde_urlencoded::from_bytes(text).unwrap_or_default()
}

/// `vonage-key-secret`: `api_key` and `api_secret` as parameters.
#[derive(Clone, Debug)]
pub struct VonageKeySecret {
    key: String,
    secret: Secret,
}

impl Signer for VonageKeySecret {
    const SCHEME: &'static str = "vonage-key-secret";

    fn new(key: String, secret: Secret) -> Self {
        Self { key, secret }
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], _now_millis: u64) {
        append(
            request,
            &[("api_key", &self.key), ("api_secret", self.secret.expose())],
        );
        request.redact_param("api_secret");
        for header in fixed_headers {
            request.set_header(header.name, header.value);
        }
    }
}

/// `vonage-signature`: `api_key`, `timestamp` and `sig` ([`signature`]) as parameters.
#[derive(Clone, Debug)]
pub struct VonageSignature {
    key: String,
    secret: Secret,
    method: SignatureMethod,
}

impl VonageSignature {
    /// The hash this signer uses.
    pub fn method(&self) -> SignatureMethod {
        self.method
    }
}

impl Signer for VonageSignature {
    const SCHEME: &'static str = "vonage-signature";

    fn new(key: String, secret: Secret) -> Self {
        Self {
            key,
            secret,
            method: SignatureMethod::default(),
        }
    }

    fn with_variant(mut self, variant: &str) -> Self {
        self.method = SignatureMethod::from_setting(variant).unwrap_or_default();
        self
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64) {
        let timestamp = (now_millis / 1000).to_string();
        let mut params = params_of(request);
        params.push(("api_key".to_owned(), self.key.clone()));
        params.push(("timestamp".to_owned(), timestamp.clone()));
        let sig = signature(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            self.secret.expose(),
            self.method,
        );
        append(
            request,
            &[
                ("api_key", &self.key),
                ("timestamp", &timestamp),
                ("sig", &sig),
            ],
        );
        for header in fixed_headers {
            request.set_header(header.name, header.value);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The webhook vector of Vonage's node SDK tests (`signature.ts`).
    #[test]
    fn vonage_webhook_vectors() {
        let params = [
            ("message-timestamp", "2013-11-21 15:27:30"),
            ("messageId", "020000001B0FE827"),
            ("msisdn", "14843472194"),
            ("text", "Test again"),
            ("timestamp", "1385047698"),
            ("to", "13239877404"),
            ("type", "text"),
        ];
        let secret = "my_secret_key_for_testing";
        for (method, expected) in [
            (SignatureMethod::Md5Hash, "d2e7b1dc968737c5998ad624e02f90b7"),
            (SignatureMethod::HmacMd5, "DDEBD46008C2D4E93CCE578A332A52D5"),
            (
                SignatureMethod::HmacSha1,
                "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A",
            ),
            (
                SignatureMethod::HmacSha256,
                "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330",
            ),
            (
                SignatureMethod::HmacSha512,
                "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
            ),
        ] {
            assert_eq!(
                signature(params, secret, method),
                expected.to_ascii_lowercase()
            );
            let mut signed: Vec<(String, String)> = params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            signed.push(("sig".to_owned(), expected.to_owned()));
            assert!(verify_signature(&signed, secret, method));
            signed.last_mut().unwrap().1.replace_range(0..1, "0");
            assert!(!verify_signature(&signed, secret, method) || expected.starts_with('0'));
        }
    }

    #[test]
    fn webhooks_must_be_fresh() {
        let mut params: Vec<(String, String)> = [("messageId", "x"), ("timestamp", "1000")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let sig = signature(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            "s",
            SignatureMethod::HmacSha256,
        );
        params.push(("sig".to_owned(), sig));
        assert!(verify_webhook(
            &params,
            "s",
            SignatureMethod::HmacSha256,
            1200,
            300
        ));
        assert!(!verify_webhook(
            &params,
            "s",
            SignatureMethod::HmacSha256,
            1400,
            300
        ));
        assert!(!verify_webhook(
            &params,
            "t",
            SignatureMethod::HmacSha256,
            1000,
            300
        ));
    }

    /// The request vectors of Vonage's python SDK tests (`test_auth.py`).
    #[test]
    fn vonage_request_vectors() {
        let params = [
            ("param1", "value1"),
            ("param2", "value2"),
            ("timestamp", "1234567890"),
        ];
        assert_eq!(
            signature(params, "signature_secret", SignatureMethod::HmacSha256),
            "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"
        );
        assert_eq!(
            signature(params, "signature_secret", SignatureMethod::HmacMd5),
            "724c2bf6ca423c36e20631b11d1c5753"
        );
        let escaped = [
            ("param1", "value&1"),
            ("param2", "value=2"),
            ("timestamp", "1234567890"),
        ];
        assert_eq!(
            signature(escaped, "signature_secret", SignatureMethod::HmacMd5),
            "2bbf0abafb2c55e5af6231513896a2ac"
        );
    }

    #[test]
    fn signers_append_parameters_and_hide_the_secret() {
        let mut request = WireRequest::new(
            HttpMethod::Post,
            "https://rest.nexmo.com/sms/json".to_owned(),
            Some(b"from=Acme&text=Hi+there&to=447700900000".to_vec()),
        );
        VonageKeySecret::new("abcd1234".to_owned(), "s3cr3t!x".into()).sign(&mut request, &[], 0);
        assert_eq!(
            request.body.as_deref().unwrap(),
            b"from=Acme&text=Hi+there&to=447700900000&api_key=abcd1234&api_secret=s3cr3t%21x"
        );
        for shown in [request.to_string(), format!("{request:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }

        let mut request = WireRequest::new(
            HttpMethod::Post,
            "https://rest.nexmo.com/sms/json".to_owned(),
            Some(b"from=Acme&text=Hi+there&to=447700900000".to_vec()),
        );
        let signer =
            VonageSignature::new("abcd1234".to_owned(), "sigsecret".into()).with_variant("sha256");
        signer.sign(&mut request, &[], 1_461_605_396_000);
        let params = params_of(&request);
        assert!(verify_signature(
            &params,
            "sigsecret",
            SignatureMethod::HmacSha256
        ));
        assert!(params.contains(&("timestamp".to_owned(), "1461605396".to_owned())));
        assert!(params.contains(&("text".to_owned(), "Hi there".to_owned())));

        let mut get = WireRequest::new(
            HttpMethod::Get,
            "https://rest.nexmo.com/account/get-balance".to_owned(),
            None,
        );
        VonageKeySecret::new("abcd1234".to_owned(), "s3cr3t".into()).sign(&mut get, &[], 0);
        assert_eq!(
            get.url,
            "https://rest.nexmo.com/account/get-balance?api_key=abcd1234&api_secret=s3cr3t"
        );
        assert!(get.to_string().contains("api_secret=[redacted]"));
    }
}
