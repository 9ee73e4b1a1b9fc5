//! Signing schemes, applied as a hook to a [`WireRequest`] whose body is already serialised:
//! the bytes that are signed are the bytes that are sent.

use std::fmt;

use md5::{Digest, Md5};

use crate::secret::Secret;
use crate::spec::{AuthScheme, FixedHeader};
use crate::wire::WireRequest;

/// Adds authentication headers to a request.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The scheme this signer implements.
    fn scheme(&self) -> AuthScheme;

    /// Adds the headers for `request` (whose body is final) at `now_millis`.
    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64);
}

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// itniotech / laaffic: `Api-Key`, `Timestamp` (epoch seconds) and
/// `Sign` = lowercase hex md5(apiKey + apiSecret + timestamp). The body is not signed.
#[derive(Clone, Debug)]
pub struct KeySecretTimestampMd5 {
    api_key: String,
    api_secret: Secret,
}

impl KeySecretTimestampMd5 {
    /// A signer for these credentials.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
        }
    }

    /// The api key (not a secret: it travels in every request).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The `Sign` header for a timestamp in epoch seconds.
    pub fn signature(&self, timestamp_secs: u64) -> String {
        md5_hex(&[
            self.api_key.as_bytes(),
            self.api_secret.expose().as_bytes(),
            timestamp_secs.to_string().as_bytes(),
        ])
    }
}

impl Signer for KeySecretTimestampMd5 {
    fn scheme(&self) -> AuthScheme {
        AuthScheme::KeySecretTimestampMd5
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64) {
        let timestamp = now_millis / 1000;
        request.set_header("Content-Type", "application/json;charset=UTF-8");
        request.set_header("Sign", &self.signature(timestamp));
        request.set_header("Timestamp", &timestamp.to_string());
        request.set_header("Api-Key", &self.api_key);
        for header in fixed_headers {
            request.set_header(header.name, header.value);
        }
    }
}

/// nxcloud: headers `accessKey`, `ts` (epoch milliseconds), `bizType`, `action`, and `sign` =
/// lowercase hex md5 of `accessKey=…&action=…&bizType=…&ts=…` + `&body=<exact body bytes>` (left out
/// without a body) + `&accessSecret=…`.
#[derive(Clone, Debug)]
pub struct NxcloudHeaderBodyMd5 {
    access_key: String,
    access_secret: Secret,
}

impl NxcloudHeaderBodyMd5 {
    /// A signer for these credentials.
    pub fn new(access_key: impl Into<String>, access_secret: impl Into<Secret>) -> Self {
        Self {
            access_key: access_key.into(),
            access_secret: access_secret.into(),
        }
    }

    /// The access key (not a secret: it travels in every request).
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The `sign` header for these header values and body bytes.
    pub fn signature(
        &self,
        ts_millis: u64,
        biz_type: &str,
        action: &str,
        body: Option<&[u8]>,
    ) -> String {
        let ts = ts_millis.to_string();
        // The four headers other than sign, sorted by name in ASCII order.
        let mut headers = [
            ("accessKey", self.access_key.as_str()),
            ("action", action),
            ("bizType", biz_type),
            ("ts", ts.as_str()),
        ];
        headers.sort_by(|a, b| a.0.cmp(b.0));
        let headers_str = headers
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let secret = self.access_secret.expose().as_bytes();
        match body {
            Some(body) => md5_hex(&[
                headers_str.as_bytes(),
                b"&body=",
                body,
                b"&accessSecret=",
                secret,
            ]),
            None => md5_hex(&[headers_str.as_bytes(), b"&accessSecret=", secret]),
        }
    }
}

impl Signer for NxcloudHeaderBodyMd5 {
    fn scheme(&self) -> AuthScheme {
        AuthScheme::NxcloudHeaderBodyMd5
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64) {
        let fixed = |name: &str| {
            fixed_headers
                .iter()
                .find(|h| h.name == name)
                .map_or("", |h| h.value)
        };
        let (biz_type, action) = (fixed("bizType"), fixed("action"));
        let sign = self.signature(now_millis, biz_type, action, request.body.as_deref());
        request.set_header("Content-Type", "application/json");
        request.set_header("accessKey", &self.access_key);
        request.set_header("ts", &now_millis.to_string());
        request.set_header("bizType", biz_type);
        request.set_header("action", action);
        request.set_header("sign", &sign);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::HttpMethod;

    /// vendor-notes.md: the value shown in the vendor pages' header example.
    #[test]
    fn key_secret_timestamp_vector() {
        let signer = KeySecretTimestampMd5::new("bDqJFiq9", "7bz1lzh9");
        assert_eq!(
            signer.signature(1_630_468_800),
            "05d7a50893e22a5c4bb3216ae3396c7c"
        );

        let mut request = WireRequest::new(
            HttpMethod::Post,
            "https://api.itniotech.com/sms/sendSms".into(),
            Some(b"{}".to_vec()),
        );
        signer.sign(&mut request, &[], 1_630_468_800_999);
        assert_eq!(
            request.headers,
            [
                (
                    "Content-Type".to_owned(),
                    "application/json;charset=UTF-8".to_owned()
                ),
                (
                    "Sign".to_owned(),
                    "05d7a50893e22a5c4bb3216ae3396c7c".to_owned()
                ),
                ("Timestamp".to_owned(), "1630468800".to_owned()),
                ("Api-Key".to_owned(), "bDqJFiq9".to_owned()),
            ]
        );
    }

    /// vendor-notes.md: three bodies, three signatures; the exact bytes matter.
    #[test]
    fn nxcloud_vectors() {
        let signer = NxcloudHeaderBodyMd5::new("fme2na3kdi3ki", "abciiiko2k3");
        let cases: [(&str, &str); 3] = [
            (
                r#"{"name":"牛小信","id":10001}"#,
                "87c3560d3331ae23f1021e2025722354",
            ),
            (
                r#"{"id":10001,"name":"牛小信"}"#,
                "7750759da06333f20d0640be09355e34",
            ),
            (
                r#"{"id": 10001, "name": "牛小信"}"#,
                "d0c24a9886c629330d7f3f2056c65bc2",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                signer.signature(1_655_710_885_431, "1", "send", Some(body.as_bytes())),
                expected,
                "{body}"
            );
        }

        let fixed = [
            FixedHeader {
                name: "bizType",
                value: "1",
            },
            FixedHeader {
                name: "action",
                value: "send",
            },
        ];
        let mut request = WireRequest::new(
            HttpMethod::Post,
            "https://x/".into(),
            Some(cases[0].0.as_bytes().to_vec()),
        );
        signer.sign(&mut request, &fixed, 1_655_710_885_431);
        assert_eq!(
            request.header("sign"),
            Some("87c3560d3331ae23f1021e2025722354")
        );
        assert_eq!(request.header("ts"), Some("1655710885431"));
        assert_eq!(request.header("accessKey"), Some("fme2na3kdi3ki"));
    }

    #[test]
    fn nxcloud_without_body_leaves_body_out() {
        let signer = NxcloudHeaderBodyMd5::new("k", "s");
        let expected = md5_hex(&[b"accessKey=k&action=a&bizType=3&ts=1&accessSecret=s"]);
        assert_eq!(signer.signature(1, "3", "a", None), expected);
    }

    #[test]
    fn signers_do_not_show_secrets() {
        let a = format!("{:?}", KeySecretTimestampMd5::new("bDqJFiq9", "7bz1lzh9"));
        let b = format!(
            "{:?}",
            NxcloudHeaderBodyMd5::new("fme2na3kdi3ki", "abciiiko2k3")
        );
        assert!(!a.contains("7bz1lzh9") && a.contains("[redacted]"), "{a}");
        assert!(
            !b.contains("abciiiko2k3") && b.contains("[redacted]"),
            "{b}"
        );
    }
}
