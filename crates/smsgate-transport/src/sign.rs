//! Signing: an open trait, one implementation per auth scheme, living with its vendor.
//!
//! A [`Signer`] adds authentication headers to a [`WireRequest`] whose body is already
//! serialised, so the bytes that are signed are the bytes that are sent. Each scheme has a name
//! ([`Signer::SCHEME`]) that `operations.json` refers to; the generator knows which type
//! implements each name and refuses a name it does not know.

use std::fmt;

use md5::{Digest, Md5};

use crate::secret::Secret;
use crate::spec::{FixedHeader, Operation};
use crate::wire::WireRequest;

/// Adds authentication headers to a request.
pub trait Signer: Send + Sync + fmt::Debug + 'static {
    /// The scheme's name as `operations.json` writes it (`key-secret-timestamp-md5`).
    const SCHEME: &'static str;

    /// A signer for an account's key (travels in requests) and secret (never printed).
    fn new(key: String, secret: Secret) -> Self
    where
        Self: Sized;

    /// Adds the headers for `request` (whose body is final) at `now_millis`.
    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64);

    /// This signer with the scheme's variant chosen by a setting (`variant` in
    /// `operations.json`, e.g. a hash algorithm); the generated settings check has refused
    /// any value the spec does not list. A scheme without variants ignores it.
    fn with_variant(self, variant: &str) -> Self
    where
        Self: Sized,
    {
        let _ = variant;
        self
    }

    /// Adds the headers for `request`, an `operation` request (its fixed headers, and which
    /// auth modes may sign it), at `now_millis`. What a client calls; a signer of two modes
    /// ([`Alternatives`]) picks the one the operation takes.
    fn sign_operation(&self, request: &mut WireRequest, operation: &Operation, now_millis: u64) {
        self.sign(request, operation.fixed_headers, now_millis);
    }

    /// Whether this signer signs operations of auth scheme `scheme`.
    fn serves(scheme: &str) -> bool
    where
        Self: Sized,
    {
        scheme == Self::SCHEME
    }
}

/// A vendor's two auth modes (`auth` and its `alternative` in `operations.json`) when their
/// schemes differ: the generated settings choose one per account.
#[derive(Clone, Debug)]
pub enum Alternatives<M, A> {
    /// The main scheme (`auth`).
    Main(M),
    /// The alternative scheme, chosen when its `when` setting is set, with the main scheme's
    /// signer when the main mode's settings are complete too: it signs the operations only the
    /// main mode may sign ([`Operation::alternative_auth`]).
    Alternative(A, Option<M>),
}

impl<M: Signer, A: Signer> Signer for Alternatives<M, A> {
    const SCHEME: &'static str = M::SCHEME;

    /// The main scheme's signer.
    fn new(key: String, secret: Secret) -> Self {
        Self::Main(M::new(key, secret))
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], now_millis: u64) {
        match self {
            Self::Main(signer) | Self::Alternative(_, Some(signer)) => {
                signer.sign(request, fixed_headers, now_millis);
            }
            Self::Alternative(signer, None) => signer.sign(request, fixed_headers, now_millis),
        }
    }

    fn sign_operation(&self, request: &mut WireRequest, operation: &Operation, now_millis: u64) {
        let fixed = operation.fixed_headers;
        match self {
            Self::Alternative(signer, _) if operation.alternative_auth => {
                signer.sign(request, fixed, now_millis);
            }
            // An operation only the main mode signs: with the main settings if given; without
            // them the vendor refuses it (an authentication error, typed).
            Self::Main(signer) | Self::Alternative(_, Some(signer)) => {
                signer.sign(request, fixed, now_millis);
            }
            Self::Alternative(signer, None) => signer.sign(request, fixed, now_millis),
        }
    }

    fn serves(scheme: &str) -> bool {
        M::serves(scheme) || A::serves(scheme)
    }
}

/// HTTP Basic authentication (`http-basic`): `Authorization: Basic base64(key:secret)`
/// (RFC 7617). Shared by every vendor that uses it, so it lives here. Printing a request shows
/// `Basic [redacted]`.
#[derive(Clone, Debug)]
pub struct HttpBasic {
    key: String,
    secret: Secret,
}

impl HttpBasic {
    /// The `Authorization` header's value.
    pub fn authorization(&self) -> String {
        use base64::Engine as _;
        let credentials = format!("{}:{}", self.key, self.secret.expose());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }
}

impl Signer for HttpBasic {
    const SCHEME: &'static str = "http-basic";

    fn new(key: String, secret: Secret) -> Self {
        Self { key, secret }
    }

    fn sign(&self, request: &mut WireRequest, fixed_headers: &[FixedHeader], _now_millis: u64) {
        request.set_header("Authorization", &self.authorization());
        for header in fixed_headers {
            request.set_header(header.name, header.value);
        }
    }
}

/// Lowercase hex MD5 of the concatenated `parts` (the digest several vendors sign with).
pub fn md5_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hex_lower(&hasher.finalize())
}

/// `bytes` as lowercase hex (how digests and HMACs are written into signatures).
pub fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

/// Whether `a` and `b` are equal, every byte compared whatever the first difference (a
/// signature check must not tell an attacker how much of a guess was right).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of a fixed header of an operation (`""` when the operation has none of that name).
pub fn fixed_header<'h>(fixed_headers: &'h [FixedHeader], name: &str) -> &'h str {
    fixed_headers
        .iter()
        .find(|h| h.name == name)
        .map_or("", |h| h.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7617, section 2: the example credentials.
    #[test]
    fn http_basic_is_rfc_7617_and_never_printed() {
        let signer = HttpBasic::new("Aladdin".to_owned(), "open sesame".into());
        assert_eq!(signer.authorization(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        let mut request = WireRequest::new(
            crate::spec::HttpMethod::Post,
            "https://api.example/x".to_owned(),
            Some(b"a=1".to_vec()),
        );
        signer.sign(&mut request, &[], 0);
        assert_eq!(
            request.header("Authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        for shown in [
            format!("{request}"),
            format!("{request:?}"),
            format!("{signer:?}"),
        ] {
            assert!(!shown.contains("QWxhZGRpbjpvcGVuIHNlc2FtZQ"), "{shown}");
            assert!(!shown.contains("open sesame"), "{shown}");
        }
        assert!(format!("{request}").contains("Authorization: Basic [redacted]"));
    }

    #[test]
    fn md5_hex_is_lowercase_hex_of_the_concatenation() {
        assert_eq!(md5_hex(&[b"a", b"bc"]), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_hex(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
