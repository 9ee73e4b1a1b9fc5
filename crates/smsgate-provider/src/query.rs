//! What a provider answers besides sends: its balance, and the errors of its queries.

use std::fmt;

use smsgate_transport::Error as TransportError;
use smsgate_transport::spec::{CodeTable, ErrorClass};

/// An account balance. Amounts are decimal strings, as the vendor sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The balance.
    pub amount: String,
    /// The currency, if the vendor names it.
    pub currency: Option<String>,
    /// Gift (bonus) balance, if reported.
    pub gift: Option<String>,
    /// Credit line, if reported.
    pub credit: Option<String>,
}

/// One message a vendor lists as sent to it (a sent-records query), whatever smsgate recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord {
    /// Its message id at the vendor.
    pub message_id: String,
    /// The number, as the vendor writes it.
    pub number: String,
    /// When the vendor received it, as the vendor writes it.
    pub at: Option<String>,
    /// The vendor accepted it but could not send it on.
    pub failed: bool,
}

/// A query a provider may offer besides sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Query {
    /// The account balance ([`Provider::balance`](crate::Provider::balance)).
    Balance,
    /// Delivery status by message id ([`Provider::poll_status`](crate::Provider::poll_status)).
    DeliveryStatus,
    /// The messages received in a time range
    /// ([`Provider::sent_records`](crate::Provider::sent_records)).
    SentRecords,
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Balance => "balance",
            Self::DeliveryStatus => "delivery-status",
            Self::SentRecords => "sent-records",
        })
    }
}

/// Why a balance or delivery-status query gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The vendor's API has no such query (nxcloud has no balance query; it pushes its
    /// delivery reports instead of answering polls).
    #[error("{vendor} has no {query} query in its API")]
    NotOffered {
        /// The provider's name.
        vendor: String,
        /// The query it lacks.
        query: Query,
    },
    /// The vendor answered with an error code.
    #[error("{message}")]
    Vendor {
        /// The vendor's code as received.
        code: String,
        /// Its normalised class.
        class: ErrorClass,
        /// The whole error, vendor and operation included.
        message: String,
    },
    /// The query was refused before sending, failed in transport, or its answer could not be
    /// read.
    #[error("{0}")]
    Failed(String),
}

impl QueryError {
    /// `vendor` has no `query`.
    pub fn not_offered(vendor: &str, query: Query) -> Self {
        Self::NotOffered {
            vendor: vendor.to_owned(),
            query,
        }
    }
}

impl<C: CodeTable<Class = ErrorClass>> From<TransportError<C>> for QueryError {
    fn from(err: TransportError<C>) -> Self {
        match &err {
            TransportError::Vendor { code, .. } => Self::Vendor {
                code: code.code().to_owned(),
                class: code.class(),
                message: err.to_string(),
            },
            _ => Self::Failed(err.to_string()),
        }
    }
}
