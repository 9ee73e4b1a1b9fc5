//! Signature checks for every auth scheme alike: the vendor's own signer, built from the
//! account's settings, signs the received request again and the headers must agree.
//!
//! Which header carries what is learnt from the signer itself, once per operation: signing a
//! probe at two times shows the header that holds the time (and its unit: the value equals
//! the probe's milliseconds or seconds), the headers that never change (the key, the
//! operation's fixed headers) and those that change with time and body (the signature).

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use smsgate_transport::client::Credentials;
use smsgate_transport::sign::Signer as _;
use smsgate_transport::spec::{FixedHeader, Operation};
use smsgate_transport::wire::WireRequest;

use crate::config::Account;
use crate::simulate::AuthFailure;

/// Signs a request as the vendor's client would: request, fixed headers, time in ms.
pub type SignFn = Arc<dyn Fn(&mut WireRequest, &[FixedHeader], u64) + Send + Sync>;

/// The signer of `C`'s scheme for `account`'s settings (`None` if a required one is missing).
pub fn signer_of<C: Credentials>(account: &Account) -> Option<SignFn> {
    let credentials = C::from_settings(&mut |key| account.setting(key).map(str::to_owned)).ok()?;
    let signer = credentials.signer();
    Some(Arc::new(move |request, fixed, now| {
        signer.sign(request, fixed, now);
    }))
}

/// First probe time (ms); its seconds and milliseconds differ in text.
const PROBE_A: u64 = 1_234_567_890_123;
/// Second probe time (ms), a day and a second later.
const PROBE_B: u64 = PROBE_A + 86_401_001;

/// The header that carries the signing time.
#[derive(Debug, Clone)]
struct TimeHeader {
    name: String,
    /// Milliseconds per unit of the value (1 or 1000).
    millis_per_unit: u64,
}

/// How one operation's requests are checked.
pub struct Verifier {
    sign: SignFn,
    operation: &'static Operation,
    time: Option<TimeHeader>,
    /// Headers whose value never changes and is not a fixed header: the key.
    constant: Vec<(String, String)>,
    /// Headers that change with time or body: the signature.
    signed: Vec<String>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("operation", &self.operation.name)
            .field("time", &self.time)
            .field("signed", &self.signed)
            .finish_non_exhaustive()
    }
}

fn probe(sign: &SignFn, operation: &Operation, now: u64) -> WireRequest {
    let mut request = WireRequest::new(
        operation.method,
        format!("http://probe{}", operation.path),
        Some(b"{}".to_vec()),
    );
    sign(&mut request, operation.fixed_headers, now);
    request
}

impl Verifier {
    /// Learns which header is what from two probes signed by `sign`.
    pub fn new(sign: SignFn, operation: &'static Operation) -> Self {
        let (a, b) = (
            probe(&sign, operation, PROBE_A),
            probe(&sign, operation, PROBE_B),
        );
        let mut verifier = Self {
            sign,
            operation,
            time: None,
            constant: Vec::new(),
            signed: Vec::new(),
        };
        for (name, value) in &a.headers {
            let fixed = operation
                .fixed_headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case(name));
            if fixed || name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            let time_unit = [(1, PROBE_A), (1000, PROBE_A / 1000)]
                .into_iter()
                .find(|(_, time)| *value == time.to_string());
            if let Some((millis_per_unit, _)) = time_unit {
                verifier.time = Some(TimeHeader {
                    name: name.clone(),
                    millis_per_unit,
                });
            } else if b.header(name) == Some(value.as_str()) {
                verifier.constant.push((name.clone(), value.clone()));
            } else {
                verifier.signed.push(name.clone());
            }
        }
        verifier
    }

    /// Checks a received request's headers (and body, for schemes that sign it) at
    /// `now_millis`, allowing `window` of skew.
    pub fn check(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now_millis: u64,
        window: Duration,
    ) -> Result<(), AuthFailure> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let names = self
            .constant
            .iter()
            .map(|(name, _)| name.as_str())
            .chain(self.signed.iter().map(String::as_str))
            .chain(self.time.iter().map(|t| t.name.as_str()))
            .chain(self.operation.fixed_headers.iter().map(|h| h.name));
        for name in names {
            if header(name).is_none() {
                return Err(AuthFailure::MissingHeader);
            }
        }
        if self
            .operation
            .fixed_headers
            .iter()
            .any(|h| header(h.name) != Some(h.value))
        {
            return Err(AuthFailure::FixedHeader);
        }
        if self
            .constant
            .iter()
            .any(|(name, value)| header(name) != Some(value.as_str()))
        {
            return Err(AuthFailure::UnknownKey);
        }
        let signed_at = match &self.time {
            Some(time) => {
                let value = header(&time.name).and_then(|v| v.parse::<u64>().ok());
                let millis = value
                    .and_then(|v| v.checked_mul(time.millis_per_unit))
                    .ok_or(AuthFailure::Stale)?;
                let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
                if now_millis.abs_diff(millis) > window {
                    return Err(AuthFailure::Stale);
                }
                millis
            }
            None => 0,
        };
        self.check_signature(&header, body, signed_at)
    }

    fn check_signature<'h>(
        &self,
        header: &dyn Fn(&str) -> Option<&'h str>,
        body: &[u8],
        signed_at: u64,
    ) -> Result<(), AuthFailure> {
        let mut expected = WireRequest::new(
            self.operation.method,
            format!("http://sandbox{}", self.operation.path),
            (!body.is_empty()).then(|| body.to_vec()),
        );
        (self.sign)(&mut expected, self.operation.fixed_headers, signed_at);
        for name in &self.signed {
            let matches = match (header(name), expected.header(name)) {
                (Some(got), Some(want)) => got.eq_ignore_ascii_case(want),
                _ => false,
            };
            if !matches {
                return Err(AuthFailure::BadSignature);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::http::{HeaderName, HeaderValue};

    use super::*;
    use crate::config::Account;

    /// `operation` signed by `C`'s signer for the default account at `now`, as received.
    fn received<C: Credentials>(operation: &Operation, now: u64) -> (HeaderMap, Vec<u8>) {
        let account = Account::with_defaults(C::VENDOR, C::SETTINGS);
        let sign = signer_of::<C>(&account).unwrap();
        let body = br#"{"a":1}"#.to_vec();
        let mut request =
            WireRequest::new(operation.method, "http://x/".to_owned(), Some(body.clone()));
        sign(&mut request, operation.fixed_headers, now);
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        (headers, body)
    }

    fn verifier<C: Credentials>(operation: &'static Operation) -> Verifier {
        let account = Account::with_defaults(C::VENDOR, C::SETTINGS);
        Verifier::new(signer_of::<C>(&account).unwrap(), operation)
    }

    /// Both schemes: the probes find the time header and its unit, and each tampering is
    /// told apart.
    #[test]
    fn probes_learn_each_scheme() {
        type Onbuka = smsgate_itniotech::generated::client::Credentials;
        type Nx = smsgate_nxcloud::generated::client::Credentials;
        let window = Duration::from_secs(60);
        let now = 1_700_000_000_123;

        let op = &smsgate_itniotech::generated::operations::SEND_SMS;
        let check = verifier::<Onbuka>(op);
        assert_eq!(check.time.as_ref().map(|t| t.millis_per_unit), Some(1000));
        let (headers, body) = received::<Onbuka>(op, now);
        assert_eq!(check.check(&headers, &body, now + 30_000, window), Ok(()));
        assert_eq!(
            check.check(&headers, &body, now + 90_000, window),
            Err(AuthFailure::Stale)
        );
        let mut wrong = headers.clone();
        wrong.insert("Sign", HeaderValue::from_static("0"));
        assert_eq!(
            check.check(&wrong, &body, now, window),
            Err(AuthFailure::BadSignature)
        );

        let op = &smsgate_nxcloud::generated::operations::SEND_MULTI;
        let check = verifier::<Nx>(op);
        assert_eq!(check.time.as_ref().map(|t| t.millis_per_unit), Some(1));
        let (headers, body) = received::<Nx>(op, now);
        assert_eq!(check.check(&headers, &body, now, window), Ok(()));
        assert_eq!(
            check.check(&headers, b"{}", now, window),
            Err(AuthFailure::BadSignature),
            "the body is signed"
        );
        let mut wrong = headers.clone();
        wrong.insert("accessKey", HeaderValue::from_static("other"));
        assert_eq!(
            check.check(&wrong, &body, now, window),
            Err(AuthFailure::UnknownKey)
        );
        wrong = headers.clone();
        wrong.insert("bizType", HeaderValue::from_static("1"));
        assert_eq!(
            check.check(&wrong, &body, now, window),
            Err(AuthFailure::FixedHeader)
        );
        wrong = headers;
        wrong.remove("ts");
        assert_eq!(
            check.check(&wrong, &body, now, window),
            Err(AuthFailure::MissingHeader)
        );
    }
}
