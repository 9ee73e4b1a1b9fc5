//! What happened to each message.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::message::Segments;

/// `Deref<Target = str>`, `Debug` and `Display` as the text, and comparison with `str`, `&str`
/// and `String`, for a type with an `as_str` method.
macro_rules! str_like {
    ($type:ty) => {
        impl Deref for $type {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $type {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $type {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<String> for $type {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other.as_str()
            }
        }
    };
}

str_like!(ProviderName);
str_like!(PhoneNumber);
str_like!(Reference);

/// A provider's name as outcomes carry it: the provider's slot in its gate and the name that
/// slot holds. Derefs to `str`, compares with `&str`, prints as the name.
///
/// A gate's providers are its slots: slot `n` is the `n`-th provider given to the builder,
/// and [`slot`](Self::slot) says which one decided. The name is shared with the slot (an
/// `Arc<str>`): cloning one copies a pointer and bumps the slot's count, without allocating,
/// and no table outlives the gate. Two names are equal when their text is, whatever their
/// slots (reports of two gates built alike compare equal).
#[derive(Clone)]
pub struct ProviderName {
    slot: usize,
    name: Arc<str>,
}

impl ProviderName {
    /// The name of the provider in slot `slot`, called `name`.
    pub(crate) fn new(slot: usize, name: &str) -> Self {
        Self {
            slot,
            name: Arc::from(name),
        }
    }

    /// The provider's slot: its position among the providers given to the gate's builder.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl PartialEq for ProviderName {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.name, &other.name) || self.name == other.name
    }
}

impl Eq for ProviderName {}

impl std::hash::Hash for ProviderName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl PartialOrd for ProviderName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ProviderName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name.cmp(&other.name)
    }
}

impl AsRef<str> for ProviderName {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

/// The providers a message was tried on, in order, once per request attempt. Up to two
/// attempts (nearly every message) are held inline: no allocation.
#[derive(Clone, Default)]
pub struct Tried(TriedList);

#[derive(Clone, Default)]
enum TriedList {
    #[default]
    Empty,
    One(ProviderName),
    Two([ProviderName; 2]),
    /// Three attempts or more.
    Spilled(Box<[ProviderName]>),
}

impl Tried {
    /// This list followed by `provider` `attempts` times.
    pub fn then(&self, provider: ProviderName, attempts: usize) -> Self {
        let mut tried = self.clone();
        tried.push(&provider, attempts);
        tried
    }

    /// Appends `provider` `attempts` times, in place.
    pub(crate) fn push(&mut self, provider: &ProviderName, attempts: usize) {
        self.0 = match (std::mem::take(&mut self.0), attempts) {
            (list, 0) => list,
            (TriedList::Empty, 1) => TriedList::One(provider.clone()),
            (TriedList::Empty, 2) => TriedList::Two([provider.clone(), provider.clone()]),
            (TriedList::One(first), 1) => TriedList::Two([first, provider.clone()]),
            (list, _) => {
                let mut names = match list {
                    TriedList::Spilled(names) => names.into_vec(),
                    list => Tried(list).to_vec(),
                };
                names.extend(std::iter::repeat_n(provider, attempts).cloned());
                TriedList::Spilled(names.into_boxed_slice())
            }
        };
    }
}

impl Deref for Tried {
    type Target = [ProviderName];
    fn deref(&self) -> &[ProviderName] {
        match &self.0 {
            TriedList::Empty => &[],
            TriedList::One(name) => std::slice::from_ref(name),
            TriedList::Two(names) => names,
            TriedList::Spilled(names) => names,
        }
    }
}

impl PartialEq for Tried {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Tried {}

impl std::hash::Hash for Tried {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl fmt::Debug for Tried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Tried {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl PartialEq<[&str]> for Tried {
    fn eq(&self, other: &[&str]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl FromIterator<ProviderName> for Tried {
    fn from_iter<I: IntoIterator<Item = ProviderName>>(iter: I) -> Self {
        let names: Vec<ProviderName> = iter.into_iter().collect();
        if names.len() > 2 {
            return Self(TriedList::Spilled(names.into_boxed_slice()));
        }
        let mut tried = Self::default();
        for name in &names {
            tried.push(name, 1);
        }
        tried
    }
}

/// A normalised phone number (country code and number, at most 15 digits), held inline (no
/// allocation); derefs to `str`, compares with `&str`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    digits: [u8; 15],
    len: u8,
}

impl PhoneNumber {
    /// `digits` as a number, if it is 1 to 15 ASCII digits.
    pub fn from_digits(digits: &str) -> Option<Self> {
        let bytes = digits.as_bytes();
        if bytes.is_empty() || bytes.len() > 15 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut number = Self {
            digits: [b'0'; 15],
            len: bytes.len() as u8,
        };
        number.digits[..bytes.len()].copy_from_slice(bytes);
        Some(number)
    }

    /// A number [`normalize_number`](crate::normalize_number) produced (1 to 15 digits, already
    /// checked): copied without checking again.
    pub(crate) fn from_normalized(digits: &str) -> Self {
        let bytes = &digits.as_bytes()[..digits.len().min(15)];
        let mut number = Self {
            digits: [b'0'; 15],
            len: bytes.len() as u8,
        };
        number.digits[..bytes.len()].copy_from_slice(bytes);
        number
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// The reference smsgate sends with a message (`orderId` / `sysMessageId`): 20 digits, held
/// inline (no allocation); compares with `&str`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference([u8; 20]);

impl Reference {
    /// The 13 digits of `prefix` (modulo 10^13), to start references with.
    pub(crate) fn prefix_digits(prefix: u64) -> [u8; 13] {
        let mut digits = [b'0'; 13];
        let mut rest = prefix % 10_000_000_000_000;
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        digits
    }

    /// The reference made of 13 `prefix` digits and a 7-digit `counter` (modulo 10^7).
    pub(crate) fn new(prefix: &[u8; 13], counter: u64) -> Self {
        let mut digits = [b'0'; 20];
        digits[..13].copy_from_slice(prefix);
        let mut rest = counter % 10_000_000;
        for digit in digits[13..].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        Self(digits)
    }

    /// The digits as bytes (ASCII).
    pub(crate) fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

pub use smsgate_provider::{Reason, RejectKind};

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
    /// The message was never handed to a provider because the send was stopped
    /// ([`StopSignal`](crate::StopSignal)) first. Nothing was sent: sending it again is safe.
    NotSent {
        /// Why it was not sent.
        reason: String,
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

    /// Whether the message was never sent because the send was stopped.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Self::NotSent { .. })
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
            Self::NotSent { reason } => write!(f, "not sent: {reason}"),
        }
    }
}

/// What happened to one input message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Position in the input.
    pub index: usize,
    /// The recipient as given (shared with the input message: not a copy).
    pub to: Arc<str>,
    /// The recipient as sent (digits with country code), if it could be read.
    pub number: Option<PhoneNumber>,
    /// Your reference, as given (shared with the input message).
    pub client_ref: Option<Arc<str>>,
    /// The reference smsgate sent with the message (`orderId` / `sysMessageId`), if it was sent.
    pub reference: Option<Reference>,
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

    /// Count of messages never sent because the send was stopped.
    pub fn not_sent(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.outcome.is_not_sent())
            .count()
    }
}
