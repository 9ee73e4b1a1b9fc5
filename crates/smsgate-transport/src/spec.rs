//! Types that generated vendor code uses to describe endpoints and status codes.
//!
//! Every value here is produced by `cargo xtask gen` from `specs/<vendor>/operations.json` and
//! `specs/<vendor>/errors.json`; hand-written clients read them instead of repeating URLs and limits.

use std::fmt;

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`: parameters travel in the query string.
    Get,
    /// `POST`: parameters travel in the body.
    Post,
}

impl HttpMethod {
    /// The method as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an operation's request type is put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestEncoding {
    /// The request type serialised as a JSON body.
    Json,
    /// The request type's fields as URL query parameters (percent-encoded).
    Query,
    /// The request type's fields as an `application/x-www-form-urlencoded` POST body.
    Form,
}

/// How a vendor's push (callback) body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushEncoding {
    /// A JSON object.
    Json,
    /// `application/x-www-form-urlencoded` fields (or the same fields in a query string).
    Form,
}

/// A callback the vendor sends to the user (a delivery report), generated from `operations.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Push {
    /// Vendor name.
    pub vendor: &'static str,
    /// Push name as used in the spec (`deliveryReport`).
    pub name: &'static str,
    /// Body encoding.
    pub encoding: PushEncoding,
    /// Name of the generated body type.
    pub body_type: &'static str,
    /// How a receiver answers a push it took.
    pub ack: PushAck,
    /// Whether the vendor signs its pushes.
    pub signature: PushSignature,
}

/// The answer a push receiver gives a push it took (the vendor retries on anything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PushAck {
    /// HTTP status (2xx).
    pub status: u16,
    /// Content type of the body (`None`: no body).
    pub content_type: Option<&'static str>,
    /// Body (empty when there is none).
    pub body: &'static str,
}

/// Whether a vendor signs its pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushSignature {
    /// Never: a receiver must accept them only under an unguessable path.
    Never,
    /// Always (with a secret of the account's settings).
    Always,
    /// When the account turned signing on.
    Optional,
}

/// A fixed header value an operation sends with its authentication headers (e.g. nxcloud `bizType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedHeader {
    /// Header name, as written on the wire.
    pub name: &'static str,
    /// Header value.
    pub value: &'static str,
}

/// Client-side limits of one operation, from the vendor's documentation.
///
/// `None` means the vendor documents no limit for that dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Limits {
    /// Most phone numbers in one request (over all items of a batch).
    pub max_numbers: Option<usize>,
    /// Most items in one request's item array.
    pub max_items: Option<usize>,
    /// Most characters (Unicode scalar values) of message content.
    pub max_content_chars: Option<usize>,
    /// Most characters of a sender id.
    pub max_sender_id_chars: Option<usize>,
    /// Most message ids in one query.
    pub max_ids: Option<usize>,
}

/// One vendor endpoint, generated from `operations.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    /// Vendor name (`itniotech`, `laaffic`, `nxcloud`).
    pub vendor: &'static str,
    /// Operation name as used in the spec (`sendSms`, `multiMt`, ...).
    pub name: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Default base URL (scheme and host, no trailing slash); clients let users override it.
    pub base_url: &'static str,
    /// Path below the base URL, starting with `/`.
    pub path: &'static str,
    /// How the request type is encoded.
    pub encoding: RequestEncoding,
    /// Name of the authentication scheme, as `operations.json` writes it
    /// (`key-secret-timestamp-md5`): the [`Signer::SCHEME`](crate::sign::Signer::SCHEME) of the
    /// signer that signs its requests.
    pub auth: &'static str,
    /// Whether a vendor's alternative auth mode (`auth.alternative` in `operations.json`:
    /// Twilio's API keys, Vonage's signed requests) may sign it; `false` for an operation only
    /// the main mode signs (Vonage's balance query takes no signature).
    pub alternative_auth: bool,
    /// Fixed headers that go with the authentication headers.
    pub fixed_headers: &'static [FixedHeader],
    /// Name of the generated request type.
    pub request_type: &'static str,
    /// Name of the generated response type.
    pub response_type: &'static str,
    /// Documented limits.
    pub limits: Limits,
}

impl Operation {
    /// The default URL: base URL followed by path.
    pub fn default_url(&self) -> String {
        format!("{}{}", self.base_url, self.path)
    }
}

/// One setting of a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    /// Its name in a config section (`api_key`); upper-cased after the vendor's environment
    /// prefix, its environment variable.
    pub name: &'static str,
    /// One line on what it is.
    pub doc: &'static str,
    /// Whether the provider cannot be built without it.
    pub required: bool,
    /// Whether it is a secret (never printed).
    pub secret: bool,
    /// Whether it is a URL (checked as one when the configuration is loaded).
    pub url: bool,
    /// The values it may take (empty: any).
    pub values: &'static [&'static str],
}

impl ConfigKey {
    /// A required setting that is not secret.
    pub const fn required(name: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            doc,
            required: true,
            secret: false,
            url: false,
            values: &[],
        }
    }

    /// A required secret.
    pub const fn secret(name: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            doc,
            required: true,
            secret: true,
            url: false,
            values: &[],
        }
    }

    /// An optional setting that is not secret.
    pub const fn optional(name: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            doc,
            required: false,
            secret: false,
            url: false,
            values: &[],
        }
    }

    /// The optional `base_url` setting every vendor takes.
    pub const BASE_URL: Self = Self {
        name: "base_url",
        doc: "replaces scheme and host of every operation (a proxy, a regional host, the simulator)",
        required: false,
        secret: false,
        url: true,
        values: &[],
    };
}

/// Normalised class of a vendor response or error code.
///
/// Classes let callers decide what to do with a code they have never seen by name: whether a
/// request was refused as a whole (nothing sent, safe to try another provider), whether the
/// content or a number was at fault, or whether the vendor itself failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The request succeeded.
    Success,
    /// Credentials, signature, timestamp or IP allow-list refused the request.
    Auth,
    /// The request was malformed (missing or invalid parameter).
    InvalidRequest,
    /// The message content was refused (empty, too long, sensitive words, template).
    Content,
    /// A phone number was refused (empty, malformed, too many).
    Number,
    /// The account cannot send (balance, locked, channel not bound, pricing).
    Account,
    /// The vendor throttled the request.
    RateLimit,
    /// The vendor failed internally.
    VendorFault,
    /// The vendor gave no reason (a bare "failure").
    Unspecified,
}

impl ErrorClass {
    /// Stable lower-case name, as written in `errors.json`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Auth => "auth",
            Self::InvalidRequest => "invalid-request",
            Self::Content => "content",
            Self::Number => "number",
            Self::Account => "account",
            Self::RateLimit => "rate-limit",
            Self::VendorFault => "vendor-fault",
            Self::Unspecified => "unspecified",
        }
    }

    /// Whether a code of this class means the vendor refused the whole request before sending
    /// anything, so the same messages may safely go to another provider.
    pub const fn is_request_refused(self) -> bool {
        matches!(self, Self::Auth | Self::Account | Self::RateLimit)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Normalised class of a delivery status (from a delivery report or a status query).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryClass {
    /// The handset received the message.
    Delivered,
    /// The message is still on its way.
    Pending,
    /// The network could not deliver the message.
    Undelivered,
    /// The message expired before delivery.
    Expired,
    /// The network or vendor rejected the message.
    Rejected,
    /// The vendor does not know.
    Unknown,
}

impl DeliveryClass {
    /// Stable lower-case name, as written in `errors.json`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Pending => "pending",
            Self::Undelivered => "undelivered",
            Self::Expired => "expired",
            Self::Rejected => "rejected",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for DeliveryClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A generated status-code table (one enum of `codes.rs`): every documented code a variant,
/// anything else `Unknown(raw)`.
pub trait CodeTable: Clone + fmt::Debug + fmt::Display + PartialEq + Send + Sync + 'static {
    /// The class vocabulary of the table ([`ErrorClass`] or [`DeliveryClass`]).
    type Class: Copy + fmt::Debug + PartialEq;

    /// Reads a code as received; never fails.
    fn from_code(code: &str) -> Self;

    /// The code as the vendor writes it.
    fn code(&self) -> &str;

    /// What the code means, in English.
    fn meaning(&self) -> &'static str;

    /// Normalised class.
    fn class(&self) -> Self::Class;

    /// Whether the vendor documents this code.
    fn is_documented(&self) -> bool;
}
