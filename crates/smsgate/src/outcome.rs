//! What happened to each message.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use smsgate_transport::spec::ErrorClass;

use crate::message::Segments;

/// A provider's name as outcomes carry it: shared, so a report of a million messages holds
/// one copy; compares with `&str` and derefs to `str`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderName(Arc<str>);

impl ProviderName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ProviderName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ProviderName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ProviderName {
    fn from(name: &str) -> Self {
        Self(name.into())
    }
}

impl From<String> for ProviderName {
    fn from(name: String) -> Self {
        Self(name.into())
    }
}

impl fmt::Debug for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ProviderName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for ProviderName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for ProviderName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// The providers a message was tried on, in order, once per request attempt. Messages that
/// went through the same requests share one list.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Tried(Arc<[ProviderName]>);

impl Tried {
    /// This list followed by `provider` `attempts` times.
    pub fn then(&self, provider: &ProviderName, attempts: usize) -> Self {
        let mut list = Vec::with_capacity(self.0.len() + attempts);
        list.extend_from_slice(&self.0);
        list.extend(std::iter::repeat_n(provider.clone(), attempts));
        Self(list.into())
    }
}

impl Deref for Tried {
    type Target = [ProviderName];
    fn deref(&self) -> &[ProviderName] {
        &self.0
    }
}

impl fmt::Debug for Tried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Tried {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.0.len() == N && self.0.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl PartialEq<[&str]> for Tried {
    fn eq(&self, other: &[&str]) -> bool {
        self.0.len() == other.len() && self.0.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl FromIterator<ProviderName> for Tried {
    fn from_iter<I: IntoIterator<Item = ProviderName>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Why a message was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectKind {
    /// The vendor refused it; `class` is the normalised class of its code.
    Vendor(ErrorClass),
    /// The number cannot be a phone number (refused before sending).
    InvalidNumber,
    /// The content is empty or longer than every provider allows (refused before sending).
    InvalidContent,
    /// The same (number, content) came earlier in the same call, at input `of`; not sent twice.
    Duplicate {
        /// Index of the first occurrence.
        of: usize,
    },
    /// The overall deadline passed before the message could be sent.
    DeadlineExceeded,
    /// No provider is configured.
    NoProvider,
}

/// A rejection reason: the vendor's code and text (when a vendor gave one) and a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The vendor's code as received, if any.
    pub code: Option<String>,
    /// Human-readable reason.
    pub text: String,
    /// Normalised kind.
    pub kind: RejectKind,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} (code {code})", self.text),
            None => f.write_str(&self.text),
        }
    }
}

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A provider accepted the message.
    Accepted {
        /// Provider that accepted it.
        provider: ProviderName,
        /// The provider's message id (query delivery with it).
        message_id: String,
    },
    /// The message was not sent. `retry_safe` is true when nothing reached a handset for sure
    /// (the whole request was refused, or it was never sent), so sending it again cannot
    /// duplicate it.
    Rejected {
        /// Provider that rejected it (`None`: refused by smsgate before any provider).
        provider: Option<ProviderName>,
        /// Why.
        reason: Reason,
        /// Whether sending it again is safe.
        retry_safe: bool,
    },
    /// The request may have reached the provider but no verdict came back (timeout after
    /// sending, HTTP 5xx, undecodable answer). Never retried, never failed over.
    Unknown {
        /// Provider the request went to.
        provider: ProviderName,
        /// What went wrong.
        cause: String,
    },
}

impl Outcome {
    /// Whether a provider accepted the message.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }

    /// Whether the message was rejected.
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }

    /// Whether the verdict is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown { .. })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted {
                provider,
                message_id,
            } => write!(f, "accepted by {provider} as {message_id}"),
            Self::Rejected {
                provider: Some(provider),
                reason,
                ..
            } => write!(f, "rejected by {provider}: {reason}"),
            Self::Rejected {
                provider: None,
                reason,
                ..
            } => write!(f, "rejected: {reason}"),
            Self::Unknown { provider, cause } => write!(f, "unknown at {provider}: {cause}"),
        }
    }
}

/// What happened to one input message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Position in the input.
    pub index: usize,
    /// The recipient as given.
    pub to: String,
    /// The recipient as sent (digits with country code), if it could be read.
    pub number: Option<String>,
    /// Your reference, as given.
    pub client_ref: Option<String>,
    /// The reference smsgate sent with the message (`orderId` / `sysMessageId`), if it was sent.
    pub reference: Option<String>,
    /// Segments the content costs.
    pub segments: Segments,
    /// Providers tried, in order (a provider appears once per request attempt).
    pub tried: Tried,
    /// The verdict.
    pub outcome: Outcome,
}

/// The result of [`SmsGate::send`](crate::SmsGate::send): exactly one [`Delivery`] per input
/// message, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// One entry per input message, in input order.
    pub deliveries: Vec<Delivery>,
}

impl Report {
    /// Count of accepted messages.
    pub fn accepted(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.outcome.is_accepted())
            .count()
    }

    /// Count of rejected messages.
    pub fn rejected(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.outcome.is_rejected())
            .count()
    }

    /// Count of messages whose verdict is unknown.
    pub fn unknown(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.outcome.is_unknown())
            .count()
    }
}
