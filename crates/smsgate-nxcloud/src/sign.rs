//! nxcloud's auth scheme `nxcloud-header-body-md5` (vendor-notes.md: the pages leave it out).

use smsgate_transport::secret::Secret;
use smsgate_transport::sign::{Signer, fixed_header, md5_hex};
use smsgate_transport::spec::FixedHeader;
use smsgate_transport::wire::WireRequest;

/// Headers `accessKey`, `ts` (epoch milliseconds), `bizType`, `action`, and `sign` = lowercase
/// hex md5 of `accessKey=…&action=…&bizType=…&ts=…` + `&body=<exact body bytes>` (left out
/// without a body) + `&accessSecret=…`.
#[derive(Clone, Debug)]
pub struct NxcloudHeaderBodyMd5 {
    access_key: String,
    access_secret: Secret,
}

impl NxcloudHeaderBodyMd5 {
    /// The `sign` header for these header values and body bytes.
    pub fn signature(
        &self,
        ts_millis: u64,
        biz_type: &str,
        action: &str,
        body: Option<&[u8]>,
    ) -> String {
        let ts = ts_millis.to_string();
        // The four headers other than sign, by name in ASCII order.
        let headers = format!(
            "accessKey={}&action={action}&bizType={biz_type}&ts={ts}",
            self.access_key
        );
        let secret = self.access_secret.expose().as_bytes();
        match body {
            Some(body) => md5_hex(&[
                headers.as_bytes(),
                b"&body=",
                body,
                b"&accessSecret=",
                secret,
            ]),
            None => md5_hex(&[headers.as_bytes(), b"&accessSecret=", secret]),
        }
    }
}

impl Signer for NxcloudHeaderBodyMd5 {
    const SCHEME: &'static str = "nxcloud-header-body-md5";

    fn new(key: String, secret: Secret) -> Self {
        Self {
            access_key: key,
            access_secret: secret,
        }
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64) {
        let biz_type = fixed_header(fixed_headers, "bizType");
        let action = fixed_header(fixed_headers, "action");
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
    use smsgate_transport::spec::HttpMethod;

    fn signer(key: &str, secret: &str) -> NxcloudHeaderBodyMd5 {
        NxcloudHeaderBodyMd5::new(key.to_owned(), secret.into())
    }

    /// vendor-notes.md: three bodies, three signatures; the exact bytes matter.
    #[test]
    fn vendor_note_vectors() {
        let signer = signer("fme2na3kdi3ki", "abciiiko2k3");
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
        let debug = format!("{signer:?}");
        assert!(
            !debug.contains("abciiiko2k3") && debug.contains("[redacted]"),
            "{debug}"
        );
    }

    #[test]
    fn without_body_leaves_body_out() {
        let expected = md5_hex(&[b"accessKey=k&action=a&bizType=3&ts=1&accessSecret=s"]);
        assert_eq!(signer("k", "s").signature(1, "3", "a", None), expected);
    }
}
