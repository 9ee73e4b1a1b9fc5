//! Why a message was refused: [`Reason`] and [`RejectKind`].

use std::fmt;

use smsgate_transport::spec::ErrorClass;

/// Why a message was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectKind {
    /// The vendor refused it; `class` is the normalised class of its code.
    Vendor(ErrorClass),
    /// The number is not one the numbering plan reads as valid (refused before sending): what
    /// is wrong with it.
    InvalidNumber(crate::number::NumberProblem),
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
