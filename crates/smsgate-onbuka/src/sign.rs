//! The platform's auth scheme `key-secret-timestamp-md5`.

use smsgate_transport::secret::Secret;
use smsgate_transport::sign::{Signer, md5_hex};
use smsgate_transport::spec::FixedHeader;
use smsgate_transport::wire::WireRequest;

/// Headers `Api-Key`, `Timestamp` (epoch seconds) and `Sign` = lowercase hex
/// md5(apiKey + apiSecret + timestamp). The body is not signed.
#[derive(Clone, Debug)]
pub struct KeySecretTimestampMd5 {
    api_key: String,
    api_secret: Secret,
}

impl KeySecretTimestampMd5 {
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
    const SCHEME: &'static str = "key-secret-timestamp-md5";

    fn new(key: String, secret: Secret) -> Self {
        Self {
            api_key: key,
            api_secret: secret,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use smsgate_transport::spec::HttpMethod;

    /// vendor-notes.md: the value shown in the vendor pages' header example.
    #[test]
    fn key_secret_timestamp_vector() {
        let signer = KeySecretTimestampMd5::new("bDqJFiq9".into(), "7bz1lzh9".into());
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
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            headers,
            [
                ("Content-Type", "application/json;charset=UTF-8"),
                ("Sign", "05d7a50893e22a5c4bb3216ae3396c7c"),
                ("Timestamp", "1630468800"),
                ("Api-Key", "bDqJFiq9"),
            ]
        );
        let debug = format!("{signer:?}");
        assert!(
            !debug.contains("7bz1lzh9") && debug.contains("[redacted]"),
            "{debug}"
        );
    }
}
