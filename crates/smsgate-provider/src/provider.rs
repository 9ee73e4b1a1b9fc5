//! The [`Provider`] trait: what the gate needs from a vendor; vendor crates implement it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use smsgate_transport::Error as TransportError;
use smsgate_transport::spec::{CodeTable, ErrorClass};
use smsgate_transport::wire::WireRequest;

use crate::outcome::{Reason, RejectKind};
use crate::query::{Balance, Query, QueryError, SentRecord};
use crate::status::DeliveryStatus;

/// A boxed future, as [`Provider`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How much one request of a provider can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Most recipients in one request that sends one text to many numbers.
    pub uniform_recipients: usize,
    /// Most recipients in one request that carries different texts.
    pub mixed_recipients: usize,
    /// Most characters of content.
    pub max_content_chars: usize,
    /// Most characters of a sender id (`None`: sender ids are not sent).
    pub max_sender_id_chars: Option<usize>,
}

/// A vendor's documented flow limits: what a gate uses for its provider unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FlowLimits {
    /// Most requests in flight at once, if the vendor documents (or implies) a cap.
    pub concurrency: Option<usize>,
    /// Most requests started per second, if the vendor documents one.
    pub requests_per_second: Option<f64>,
}

/// One message inside a request, already normalised; borrowed from the gate's own records, so
/// handing a request to a provider copies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Reference sent with the message (`orderId` / `sysMessageId`) and used to match the answer.
    pub reference: &'a str,
    /// Digits with country code.
    pub number: &'a str,
    /// The text.
    pub content: &'a str,
    /// Sender id.
    pub sender_id: Option<&'a str>,
}

/// The verdict on one entry of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryVerdict {
    /// Accepted, with the provider's message id.
    Accepted(String),
    /// Refused for this entry alone (number or content).
    Rejected(Reason),
    /// No verdict for this entry.
    Unknown(String),
}

/// What a provider made of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// The provider answered; one verdict per entry it speaks of. Entries it does not mention
    /// are settled by the gate (see [`Submission::Answered::unlisted`]).
    Answered {
        /// Verdicts by position in the submitted entries (an [`EntryMatcher`](crate::EntryMatcher) finds it from an
        /// answer line); the first verdict for a position wins, out-of-range ones are ignored.
        verdicts: Vec<(usize, EntryVerdict)>,
        /// What an entry the answer does not list means.
        unlisted: EntryVerdict,
    },
    /// The provider refused the whole request and sent nothing.
    Refused {
        /// Why.
        reason: Reason,
        /// Whether another provider may send the same messages (authentication, account,
        /// throttling, connection never made).
        retry_safe: bool,
        /// Whether the provider throttled the request (the same request may be retried later).
        throttled: bool,
    },
    /// The request may have reached the provider; no verdict (timeout, 5xx, undecodable answer).
    Unknown(String),
}

/// A provider whose send can be awaited without boxing it: the vendors of the registry implement
/// it, so a gate dispatches to them statically (no allocation per request).
pub trait InlineSubmit: Provider {
    /// The same as [`Provider::submit`], unboxed.
    fn submit_inline<'a>(
        &'a self,
        entries: &'a [Entry<'a>],
        uniform: bool,
    ) -> impl Future<Output = Submission> + Send + 'a;
}

/// A vendor behind the gate.
pub trait Provider: Send + Sync {
    /// Name used in outcomes (`itniotech`, or a name of your choosing).
    fn name(&self) -> &str;

    /// What one request can carry.
    fn capacity(&self) -> Capacity;

    /// Sends `entries` in one request. All entries fit [`Provider::capacity`]; `uniform` is true
    /// when they share content and sender id.
    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], uniform: bool) -> BoxFuture<'a, Submission>;

    /// The exact request [`Provider::submit`] would send for `entries`, without sending it
    /// (for dry runs).
    fn dry_run(&self, entries: &[Entry<'_>], uniform: bool) -> Result<WireRequest, String> {
        let _ = (entries, uniform);
        Err(format!("{} cannot show its requests", self.name()))
    }

    /// Most message ids one status query takes (`None`: the provider cannot be polled, its
    /// delivery reports only come as pushes).
    fn status_batch(&self) -> Option<usize> {
        None
    }

    /// Polls the delivery status of `message_ids` (at most [`Provider::status_batch`]).
    fn poll_status<'a>(
        &'a self,
        message_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<DeliveryStatus>, QueryError>> {
        let _ = message_ids;
        let error = QueryError::not_offered(self.name(), Query::DeliveryStatus);
        Box::pin(async move { Err(error) })
    }

    /// The account balance ([`QueryError::NotOffered`]: the vendor's API has no balance query).
    fn balance(&self) -> BoxFuture<'_, Result<Balance, QueryError>> {
        let error = QueryError::not_offered(self.name(), Query::Balance);
        Box::pin(async move { Err(error) })
    }

    /// The longest time range one [`Provider::sent_records`] query covers (`None`: the vendor
    /// cannot list what it received).
    fn sent_records_range(&self) -> Option<std::time::Duration> {
        None
    }

    /// Every message the vendor received from `from_ms` to `to_ms` (UNIX milliseconds, a
    /// range at most [`Provider::sent_records_range`] long), all pages: how an outcome left
    /// unknown is settled.
    fn sent_records(
        &self,
        from_ms: u64,
        to_ms: u64,
    ) -> BoxFuture<'_, Result<Vec<SentRecord>, QueryError>> {
        let _ = (from_ms, to_ms);
        let error = QueryError::not_offered(self.name(), Query::SentRecords);
        Box::pin(async move { Err(error) })
    }

    /// The vendor's documented flow limits (default: none documented), the defaults of a
    /// gate's per-provider options.
    fn flow_limits(&self) -> FlowLimits {
        FlowLimits::default()
    }

    /// The concrete client behind this provider, for a gate that dispatches to the registry's
    /// clients statically ([`InlineSubmit`]); `None` (the default) keeps it behind `dyn`.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// Forwards every method, so a shared or boxed provider is a provider too (the gate's
/// builder takes an `Arc<dyn Provider>` a caller also keeps for balance queries).
macro_rules! forward_provider {
    ($($pointer:ident),*) => {$(
        impl<P: Provider + ?Sized> Provider for $pointer<P> {
            fn name(&self) -> &str {
                (**self).name()
            }

            fn capacity(&self) -> Capacity {
                (**self).capacity()
            }

            fn submit<'a>(
                &'a self,
                entries: &'a [Entry<'a>],
                uniform: bool,
            ) -> BoxFuture<'a, Submission> {
                (**self).submit(entries, uniform)
            }

            fn dry_run(&self, entries: &[Entry<'_>], uniform: bool) -> Result<WireRequest, String> {
                (**self).dry_run(entries, uniform)
            }

            fn status_batch(&self) -> Option<usize> {
                (**self).status_batch()
            }

            fn as_any(&self) -> Option<&dyn std::any::Any> {
                (**self).as_any()
            }

            fn flow_limits(&self) -> FlowLimits {
                (**self).flow_limits()
            }

            fn poll_status<'a>(
                &'a self,
                message_ids: &'a [String],
            ) -> BoxFuture<'a, Result<Vec<DeliveryStatus>, QueryError>> {
                (**self).poll_status(message_ids)
            }

            fn balance(&self) -> BoxFuture<'_, Result<Balance, QueryError>> {
                (**self).balance()
            }

            fn sent_records_range(&self) -> Option<std::time::Duration> {
                (**self).sent_records_range()
            }

            fn sent_records(
                &self,
                from_ms: u64,
                to_ms: u64,
            ) -> BoxFuture<'_, Result<Vec<SentRecord>, QueryError>> {
                (**self).sent_records(from_ms, to_ms)
            }
        }
    )*};
}

forward_provider!(Arc, Box);

/// Turns a vendor-client error into a submission.
pub fn submission_from_error<C: CodeTable<Class = ErrorClass>>(
    err: TransportError<C>,
) -> Submission {
    match err {
        TransportError::Vendor { code, reason, .. } => {
            let class = code.class();
            let text = if reason.is_empty() {
                code.meaning().to_owned()
            } else {
                reason
            };
            refused(
                Some(code.code().to_owned()),
                text,
                class,
                class.is_request_refused(),
            )
        }
        TransportError::InvalidRequest(err) => Submission::Refused {
            reason: Reason {
                code: None,
                text: err.to_string(),
                kind: RejectKind::InvalidContent,
            },
            retry_safe: false,
            throttled: false,
        },
        // The connection was never made: nothing reached the vendor.
        TransportError::Transport {
            may_have_reached_vendor: false,
            message,
            failure,
            ..
        } => refused(
            None,
            format!("{failure}: {message}"),
            ErrorClass::VendorFault,
            true,
        ),
        TransportError::Transport {
            message, failure, ..
        } => Submission::Unknown(format!("{failure}: {message}")),
        // A 3xx: smsgate never follows redirects, but the request reached whoever answered
        // and may have been acted on, like any unexpected status. Never a failover.
        err @ TransportError::UnexpectedStatus {
            status: 300..=399, ..
        } => Submission::Unknown(err.to_string()),
        TransportError::UnexpectedStatus {
            status,
            body_excerpt,
            ..
        } => unexpected_status(status, &body_excerpt),
        TransportError::Undecodable {
            status, message, ..
        } => Submission::Unknown(format!("undecodable answer (HTTP {status}): {message}")),
    }
}

/// A request refused as a whole, with the vendor's code (if any) and its class.
fn refused(code: Option<String>, text: String, class: ErrorClass, retry_safe: bool) -> Submission {
    Submission::Refused {
        reason: Reason {
            code,
            text,
            kind: RejectKind::Vendor(class),
        },
        retry_safe,
        throttled: class == ErrorClass::RateLimit,
    }
}

/// A 4xx or 5xx answer: 429 is throttling, another 4xx a refusal before processing (401 and
/// 403 authentication), a 5xx may have been acted on (unknown, never a failover).
fn unexpected_status(status: u16, body_excerpt: &str) -> Submission {
    let text = format!("HTTP {status}: {body_excerpt}");
    match status {
        429 => refused(Some("429".to_owned()), text, ErrorClass::RateLimit, true),
        500.. => Submission::Unknown(text),
        401 | 403 => refused(Some(status.to_string()), text, ErrorClass::Auth, true),
        _ => refused(
            Some(status.to_string()),
            text,
            ErrorClass::InvalidRequest,
            true,
        ),
    }
}
