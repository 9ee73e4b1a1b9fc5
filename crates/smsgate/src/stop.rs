//! [`StopSignal`]: stop a send midway without losing a verdict.

use std::sync::Arc;

use tokio::sync::watch;

/// Asks a running [`SmsGate::send_streaming`](crate::SmsGate::send_streaming) to stop.
///
/// [`stop`](Self::stop): no new request starts (its messages end [`Outcome::NotSent`]); requests
/// already in flight settle as usual, bounded by the request timeout.
/// [`abandon`](Self::abandon): in-flight requests are given up too; their messages end
/// [`Outcome::Unknown`], since the vendor may have received them. Clones share one signal, so
/// a signal handler can hold one clone while the send holds another.
///
/// [`Outcome::NotSent`]: crate::Outcome::NotSent
/// [`Outcome::Unknown`]: crate::Outcome::Unknown
///
/// ```
/// let stop = smsgate::StopSignal::new();
/// let handler = stop.clone();
/// handler.stop();
/// assert!(stop.is_stopped() && !stop.is_abandoned());
/// ```
#[derive(Debug, Clone)]
pub struct StopSignal {
    level: Arc<watch::Sender<u8>>,
}

const STOP: u8 = 1;
const ABANDON: u8 = 2;

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl StopSignal {
    /// A signal not yet given.
    pub fn new() -> Self {
        Self {
            level: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Starts no new request; in-flight ones settle.
    pub fn stop(&self) {
        self.raise(STOP);
    }

    /// Gives up in-flight requests as well (implies [`stop`](Self::stop)).
    pub fn abandon(&self) {
        self.raise(ABANDON);
    }

    /// Whether [`stop`](Self::stop) (or [`abandon`](Self::abandon)) was called.
    pub fn is_stopped(&self) -> bool {
        *self.level.borrow() >= STOP
    }

    /// Whether [`abandon`](Self::abandon) was called.
    pub fn is_abandoned(&self) -> bool {
        *self.level.borrow() >= ABANDON
    }

    /// Resolves once the signal is stopped.
    pub async fn stopped(&self) {
        self.reached(STOP).await;
    }

    /// Resolves once the signal is abandoned.
    pub async fn abandoned(&self) {
        self.reached(ABANDON).await;
    }

    fn raise(&self, level: u8) {
        self.level.send_if_modified(|current| {
            let raised = *current < level;
            if raised {
                *current = level;
            }
            raised
        });
    }

    async fn reached(&self, level: u8) {
        let mut receiver = self.level.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail; if it ever did, the
        // signal can no longer change and waiting forever is the truthful answer.
        if receiver
            .wait_for(|&current| current >= level)
            .await
            .is_err()
        {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_at_their_level() {
        let signal = StopSignal::new();
        let waiter = tokio::spawn({
            let signal = signal.clone();
            async move { signal.stopped().await }
        });
        let abandoner = tokio::spawn({
            let signal = signal.clone();
            async move { signal.abandoned().await }
        });
        tokio::task::yield_now().await;
        signal.stop();
        waiter.await.unwrap();
        assert!(!abandoner.is_finished());
        signal.abandon();
        abandoner.await.unwrap();
        // Lowering is not possible.
        signal.stop();
        assert!(signal.is_abandoned());
    }
}
