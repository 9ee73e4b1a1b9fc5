//! The [`Provider`] trait: what the gate needs from a vendor. It lives in `smsgate-provider`
//! (vendor crates implement it without depending on the facade) and is re-exported here.

pub use smsgate_provider::{
    Balance, BoxFuture, Capacity, Entry, EntryMatcher, EntryVerdict, FlowLimits, Provider, Query,
    QueryError, SentRecord, Submission, submission_from_error,
};

use crate::status::DeliveryStatus;

/// Polls `provider` for the delivery status of `message_ids`, as many per query as it takes
/// ([`Provider::status_batch`]); [`QueryError::NotOffered`] when it cannot be polled (its
/// reports only come as pushes). Stops at the first failed query.
pub async fn poll_status(
    provider: &dyn Provider,
    message_ids: &[String],
) -> Result<Vec<DeliveryStatus>, QueryError> {
    let Some(batch) = provider.status_batch() else {
        return Err(QueryError::not_offered(
            provider.name(),
            Query::DeliveryStatus,
        ));
    };
    let mut statuses = Vec::with_capacity(message_ids.len());
    for chunk in message_ids.chunks(batch.max(1)) {
        statuses.extend(provider.poll_status(chunk).await?);
    }
    Ok(statuses)
}
