//! One request: its permits (global, per provider, pacer), the attempts while the provider
//! throttles it, and the deadline and stop signal that end it early.

use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore, SemaphorePermit};
use tracing::Instrument;

use super::Slot;
use crate::outcome::Reason;
use crate::provider::{Entry, EntryVerdict, Submission};
use crate::stop::StopSignal;

/// Spaces request starts at least `interval` apart.
pub(super) struct Pacer {
    pub(super) interval: Duration,
    pub(super) next: Mutex<Instant>,
}

impl Pacer {
    /// Waits for this request's turn; the turns of concurrent callers are `interval` apart.
    async fn wait(&self) {
        let start = {
            let mut next = self.next.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + self.interval;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }
}

/// The result of one request after throttle retries.
pub(super) enum RequestResult {
    /// The provider answered: verdicts by entry position, and what an unlisted entry means.
    Answered {
        verdicts: Vec<(usize, EntryVerdict)>,
        unlisted: EntryVerdict,
    },
    /// The provider refused the whole request (nothing was sent); `retry_safe`: it may go to
    /// the next provider.
    Refused { reason: Reason, retry_safe: bool },
    /// The request may have reached the provider; no verdict came back.
    Unknown(String),
    /// The deadline passed before the request (or its next attempt) went out.
    Deadline,
    /// The send was stopped before this request went out.
    NotSent,
}

/// What bounds every request of one send.
#[derive(Clone, Copy)]
pub(super) struct RequestLimits<'a> {
    /// Requests in flight over all providers.
    pub(super) global: &'a Semaphore,
    /// Throttle retries on the same provider, and the first back-off (doubling each time).
    pub(super) retries: u32,
    pub(super) backoff: Duration,
    pub(super) deadline: Option<Instant>,
    pub(super) stop: Option<&'a StopSignal>,
}

impl<'a> RequestLimits<'a> {
    fn stopped(&self) -> bool {
        self.stop.is_some_and(StopSignal::is_stopped)
    }

    /// Why no attempt may start now (deadline passed, or send stopped), if so.
    fn ended(&self) -> Option<RequestResult> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(RequestResult::Deadline)
        } else if self.stopped() {
            Some(RequestResult::NotSent)
        } else {
            None
        }
    }

    /// A global and a per-provider permit, after the provider's pacer; `None` when the send is
    /// stopped while waiting (or a semaphore is closed).
    async fn permits<'s>(
        &self,
        slot: &'s Slot,
    ) -> Option<(SemaphorePermit<'a>, SemaphorePermit<'s>)> {
        let permits = async {
            let permits = (self.global.acquire().await, slot.semaphore.acquire().await);
            if let Some(pacer) = &slot.pacer {
                // Boxed: only rate-limited providers pay for a pacer's wait in their state.
                Box::pin(pacer.wait()).await;
            }
            permits
        };
        // Held once, raced against a stop only when the send can be stopped (boxed: the
        // common send without a stop signal carries no room for it).
        let mut permits = std::pin::pin!(permits);
        let mut stopped = self.stop.map(|stop| Box::pin(stop.stopped()));
        let permits = std::future::poll_fn(|cx| {
            if let Poll::Ready(permits) = permits.as_mut().poll(cx) {
                return Poll::Ready(Some(permits));
            }
            match stopped.as_mut().map(|stopped| stopped.as_mut().poll(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(None),
                _ => Poll::Pending,
            }
        })
        .await;
        match permits {
            Some((Ok(global), Ok(own))) => Some((global, own)),
            _ => None,
        }
    }

    /// `submission` bounded by the deadline and by abandonment: either ends it unknown (the
    /// request may have reached the vendor).
    ///
    /// One poll function over the three, so the submission's future (the largest part of a
    /// send's state) is held once, not once per combination of limits; it is borrowed pinned,
    /// not moved in (an `async fn` keeps a future given by value twice: argument and local).
    /// The deadline's timer and the abandonment wait are boxed, and only when configured.
    async fn bounded<F: Future<Output = Submission>>(
        &self,
        mut submission: std::pin::Pin<&mut F>,
    ) -> Submission {
        let mut deadline = self
            .deadline
            .map(|d| Box::pin(tokio::time::sleep_until(d.into())));
        let mut abandoned = self.stop.map(|stop| Box::pin(stop.abandoned()));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(submission) = submission.as_mut().poll(cx) {
                return Poll::Ready(submission);
            }
            if let Some(Poll::Ready(())) = deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
                return Poll::Ready(Submission::Unknown(
                    "the deadline passed while the request was in flight".to_owned(),
                ));
            }
            if let Some(Poll::Ready(())) = abandoned.as_mut().map(|a| a.as_mut().poll(cx)) {
                // A second stop gives up requests in flight: they may have reached the vendor.
                return Poll::Ready(Submission::Unknown(
                    "abandoned in flight after the send was stopped; the request may have reached the provider"
                        .to_owned(),
                ));
            }
            Poll::Pending
        })
        .await
    }

    /// Waits out the back-off after throttle number `throttles` (from 0); `Err` when the
    /// deadline would pass first or the send is stopped meanwhile.
    async fn back_off(&self, provider: &str, throttles: u32) -> Result<(), RequestResult> {
        let wait = self.backoff.saturating_mul(2u32.saturating_pow(throttles));
        tracing::info!(
            provider,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "throttled; retrying the same request"
        );
        match (self.deadline, self.stop) {
            (Some(d), _) if Instant::now() + wait >= d => Err(RequestResult::Deadline),
            (_, Some(stop)) => match unless(tokio::time::sleep(wait), stop.stopped()).await {
                Some(()) => Ok(()),
                None => Err(RequestResult::NotSent),
            },
            (_, None) => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
        }
    }
}

/// Sends one request, retrying it on the same provider while the provider throttles it
/// (nothing was sent) and retries remain. Returns the attempts made and the result.
///
/// An attempt counts only once it is handed to the provider: a request that ends waiting for
/// permits, the deadline or a stop made no attempt and sent nothing.
pub(super) async fn run_request(
    slot: &Slot,
    entries: &[Entry<'_>],
    uniform: bool,
    limits: RequestLimits<'_>,
) -> (usize, RequestResult) {
    let mut attempts = 0usize;
    let mut throttles = 0u32;
    loop {
        if let Some(end) = limits.ended() {
            return (attempts, end);
        }
        let submission = match attempt(slot, entries, uniform, limits, attempts + 1).await {
            Ok(submission) => submission,
            Err(end) => return (attempts, end),
        };
        attempts += 1;
        match submission {
            Submission::Answered { verdicts, unlisted } => {
                return (attempts, RequestResult::Answered { verdicts, unlisted });
            }
            Submission::Refused {
                throttled: true, ..
            } if throttles < limits.retries => {
                if let Err(end) = limits.back_off(slot.provider.name(), throttles).await {
                    return (attempts, end);
                }
                throttles += 1;
            }
            Submission::Refused {
                reason, retry_safe, ..
            } => return (attempts, RequestResult::Refused { reason, retry_safe }),
            Submission::Unknown(cause) => return (attempts, RequestResult::Unknown(cause)),
        }
    }
}

/// Attempt number `attempt` of a request: waits for its permits, then submits it, holding the
/// permits until the provider answers. `Err`: it never went out (stopped, or the deadline).
async fn attempt(
    slot: &Slot,
    entries: &[Entry<'_>],
    uniform: bool,
    limits: RequestLimits<'_>,
    attempt: usize,
) -> Result<Submission, RequestResult> {
    let Some(_permits) = limits.permits(slot).await else {
        return Err(if limits.stopped() {
            RequestResult::NotSent
        } else {
            RequestResult::Deadline
        });
    };
    if let Some(end) = limits.ended() {
        return Err(end);
    }
    let provider = &slot.provider;
    let span = tracing::info_span!(
        "smsgate.attempt",
        provider = provider.name(),
        recipients = entries.len(),
        attempt
    );
    let submission = std::pin::pin!(provider.submit(entries, uniform).instrument(span.clone()));
    let submission = limits.bounded(submission).await;
    let verdict = match &submission {
        Submission::Answered { .. } => "answered",
        Submission::Refused {
            throttled: true, ..
        } => "throttled",
        Submission::Refused {
            retry_safe: true, ..
        } => "refused, retry-safe",
        Submission::Refused { .. } => "refused",
        Submission::Unknown(_) => "unknown",
    };
    span.in_scope(|| tracing::debug!(verdict, "attempt finished"));
    Ok(submission)
}

/// `future`'s output, or `None` when `cancel` resolves first (then `future` is dropped).
async fn unless<F: Future>(future: F, cancel: impl Future<Output = ()>) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let cancel = std::pin::pin!(cancel);
    match futures_util::future::select(future, cancel).await {
        futures_util::future::Either::Left((output, _)) => Some(output),
        futures_util::future::Either::Right(((), _)) => None,
    }
}
