//! Delivery-report pushes: a bounded queue drained by a fixed pool of workers, each push with
//! timeouts and retries, and counters of what was delivered, retried and dropped.
//!
//! Memory is bounded by the queue's capacity: a report that finds the queue full is dropped
//! and counted, never buffered. Connections to the push URL are bounded by the pool's size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::inbox::PushTracker;

/// How often the drop counts are logged while running (when they grew), besides once at
/// shutdown.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// How much of a push answer's body is read (so a small answer keeps its connection alive);
/// the rest is never read.
const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// How delivery-report pushes are queued, sent and retried.
#[derive(Debug, Clone, PartialEq)]
pub struct PushSettings {
    /// Most reports waiting to be pushed; a report that finds the queue full is dropped and
    /// counted in [`PushStats::dropped_queue_full`]. Default 10 000 (0 counts as 1).
    pub queue_capacity: usize,
    /// Pushes in flight at once (the worker pool's size, so also the most connections open to
    /// the push URL). Default 8 (0 counts as 1).
    pub concurrency: usize,
    /// Longest wait for a connection to the push URL. Default 2 s.
    pub connect_timeout: Duration,
    /// Longest one push attempt may take, connection included. Default 5 s.
    pub timeout: Duration,
    /// Attempts after the first failed one (a failure is a transport error, a timeout or any
    /// status other than 2xx, redirects included: they are never followed). Default 3.
    pub retries: u32,
    /// Wait before the first retry; it doubles before each next one. Default 500 ms
    /// (so 0.5 s, 1 s, 2 s).
    pub backoff: Duration,
    /// How long [`Sandbox::shutdown`](crate::Sandbox::shutdown) lets queued pushes finish;
    /// what is still queued or in flight then is dropped and counted in
    /// [`PushStats::dropped_at_shutdown`]. Default 2 s.
    pub shutdown_grace: Duration,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 10_000,
            concurrency: 8,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            retries: 3,
            backoff: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

/// What became of delivery-report pushes so far. Every report the sandbox produced is
/// counted exactly once as queued or dropped because the queue was full; every queued one
/// ends delivered, dropped after its retries, dropped at shutdown, or is still
/// [`pending`](Self::pending). After [`Sandbox::shutdown`](crate::Sandbox::shutdown),
/// `delivered + dropped() == total()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushStats {
    /// Reports accepted into the queue (and reports produced after shutdown, which are
    /// dropped at once and counted in `dropped_at_shutdown` too).
    pub queued: u64,
    /// Reports the push URL answered with a 2xx status.
    pub delivered: u64,
    /// Retry attempts made (a report pushed at the third attempt counts 2).
    pub retried: u64,
    /// Reports dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Reports dropped after their last attempt failed.
    pub dropped_failed: u64,
    /// Reports still queued or in flight when the sandbox shut down (or produced after).
    pub dropped_at_shutdown: u64,
}

impl PushStats {
    /// Every report produced: queued or dropped because the queue was full.
    pub fn total(&self) -> u64 {
        self.queued + self.dropped_queue_full
    }

    /// Every report dropped, for whatever reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.dropped_failed + self.dropped_at_shutdown
    }

    /// Reports queued or in flight, not yet delivered or dropped.
    pub fn pending(&self) -> u64 {
        self.queued
            .saturating_sub(self.delivered + self.dropped_failed + self.dropped_at_shutdown)
    }
}

/// Why one push attempt failed.
#[derive(Debug, thiserror::Error)]
enum PushError {
    /// No answer: connection refused or reset, timeout.
    #[error("push not answered: {0}")]
    Transport(reqwest::Error),
    /// An answer other than 2xx (a redirect included).
    #[error("push answered with HTTP {0}")]
    Status(reqwest::StatusCode),
}

/// One report to push.
struct Job {
    /// Where to (the push URL, its `{vendor}` filled).
    url: Arc<str>,
    content_type: &'static str,
    body: Bytes,
    /// Further headers (a vendor's webhook signature).
    headers: Vec<(&'static str, String)>,
    /// Tells the inbox what became of it.
    tracker: Option<PushTracker>,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    retried: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_failed: AtomicU64,
    dropped_at_shutdown: AtomicU64,
}

impl Counters {
    /// Counts a report produced after shutdown: queued and dropped at once.
    fn drop_late(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.dropped_at_shutdown.fetch_add(1, Ordering::SeqCst);
    }

    fn stats(&self) -> PushStats {
        PushStats {
            queued: self.queued.load(Ordering::SeqCst),
            delivered: self.delivered.load(Ordering::SeqCst),
            retried: self.retried.load(Ordering::SeqCst),
            dropped_queue_full: self.dropped_queue_full.load(Ordering::SeqCst),
            dropped_failed: self.dropped_failed.load(Ordering::SeqCst),
            dropped_at_shutdown: self.dropped_at_shutdown.load(Ordering::SeqCst),
        }
    }
}

/// Logs the drop counts every [`WARN_EVERY`] in which they grew.
async fn report_drops(counters: Arc<Counters>) {
    let mut ticks = tokio::time::interval(WARN_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await;
    let mut logged = 0;
    loop {
        ticks.tick().await;
        let stats = counters.stats();
        let dropped = stats.dropped_queue_full + stats.dropped_failed;
        if dropped > logged {
            tracing::warn!(
                dropped_queue_full = stats.dropped_queue_full,
                dropped_failed = stats.dropped_failed,
                delivered = stats.delivered,
                retried = stats.retried,
                "delivery-report pushes dropped (counts so far)"
            );
            logged = dropped;
        }
    }
}

/// The push queue and its workers.
pub struct Pusher {
    /// The push URL, perhaps with a `{vendor}` placeholder.
    url: Arc<str>,
    sender: mpsc::Sender<Job>,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    counters: Arc<Counters>,
    /// `true` once shut down; pushes hold it shared so none slips in while shutting down.
    closed: RwLock<bool>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    grace: Duration,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("stats", &self.counters.stats())
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// Starts the workers (on the current Tokio runtime) pushing to `url`.
    pub fn start(url: String, settings: &PushSettings) -> std::io::Result<Self> {
        let concurrency = settings.concurrency.max(1);
        let http = smsgate_transport::http::client_builder()
            .map_err(std::io::Error::other)?
            .redirect(reqwest::redirect::Policy::none())
            // Only the configured URL: an environment proxy would see every report.
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .pool_max_idle_per_host(concurrency)
            .build()
            .map_err(std::io::Error::other)?;
        let (sender, receiver) = mpsc::channel(settings.queue_capacity.max(1));
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let counters = Arc::new(Counters::default());
        let url: Arc<str> = url.into();
        let mut workers: Vec<JoinHandle<()>> = (0..concurrency)
            .map(|_| {
                let worker = Worker {
                    receiver: Arc::clone(&receiver),
                    counters: Arc::clone(&counters),
                    http: http.clone(),
                    retries: settings.retries,
                    backoff: settings.backoff,
                };
                tokio::spawn(worker.run())
            })
            .collect();
        workers.push(tokio::spawn(report_drops(Arc::clone(&counters))));
        Ok(Self {
            url,
            sender,
            receiver,
            counters,
            closed: RwLock::new(false),
            workers: Mutex::new(workers),
            grace: settings.shutdown_grace,
        })
    }

    /// The URL `vendor`'s reports go to: the push URL, `{vendor}` in it replaced by the
    /// vendor's name (one receiver path per vendor).
    pub fn url_for(&self, vendor: &str) -> Arc<str> {
        if self.url.contains("{vendor}") {
            self.url.replace("{vendor}", vendor).into()
        } else {
            Arc::clone(&self.url)
        }
    }

    /// Queues one report of `vendor` with further headers (a vendor's webhook signature);
    /// drops (and counts) it if the queue is full. `tracker` hears what became of it.
    pub fn push_with(
        &self,
        vendor: &str,
        content_type: &'static str,
        body: Bytes,
        headers: Vec<(&'static str, String)>,
        tracker: Option<PushTracker>,
    ) {
        let closed = self.closed.read().unwrap_or_else(PoisonError::into_inner);
        if *closed {
            self.counters.drop_late();
            if let Some(tracker) = tracker {
                tracker.done(false);
            }
            return;
        }
        match self.sender.try_send(Job {
            url: self.url_for(vendor),
            content_type,
            body,
            headers,
            tracker,
        }) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::SeqCst);
            }
            Err(mpsc::error::TrySendError::Full(job)) => {
                self.counters
                    .dropped_queue_full
                    .fetch_add(1, Ordering::SeqCst);
                if let Some(tracker) = job.tracker {
                    tracker.done(false);
                }
            }
            Err(mpsc::error::TrySendError::Closed(job)) => {
                self.counters.drop_late();
                if let Some(tracker) = job.tracker {
                    tracker.done(false);
                }
            }
        }
    }

    /// What became of the pushes so far.
    pub fn stats(&self) -> PushStats {
        self.counters.stats()
    }

    /// Lets queued pushes finish for at most the grace period, then stops the workers and
    /// counts what is left as dropped.
    pub async fn shutdown(&self) -> PushStats {
        let deadline = Instant::now() + self.grace;
        while self.counters.stats().pending() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        {
            let mut closed = self.closed.write().unwrap_or_else(PoisonError::into_inner);
            *closed = true;
        }
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for worker in &workers {
            worker.abort();
        }
        for worker in workers {
            let _ = worker.await;
        }
        {
            // The workers are gone, so the lock is free; free what is still queued.
            let mut receiver = self.receiver.lock().await;
            receiver.close();
            while let Ok(job) = receiver.try_recv() {
                if let Some(tracker) = job.tracker {
                    tracker.done(false);
                }
            }
        }
        let stats = {
            // Reports produced now count as queued and dropped in two steps, under the read
            // side of this lock: with the write side held, none is half counted.
            let _closed = self.closed.write().unwrap_or_else(PoisonError::into_inner);
            let pending = self.counters.stats().pending();
            self.counters
                .dropped_at_shutdown
                .fetch_add(pending, Ordering::SeqCst);
            self.counters.stats()
        };
        if stats.dropped() > 0 {
            tracing::warn!(
                delivered = stats.delivered,
                retried = stats.retried,
                dropped_queue_full = stats.dropped_queue_full,
                dropped_failed = stats.dropped_failed,
                dropped_at_shutdown = stats.dropped_at_shutdown,
                "delivery-report pushes dropped"
            );
        } else {
            tracing::debug!(
                delivered = stats.delivered,
                retried = stats.retried,
                "delivery-report pushes done"
            );
        }
        stats
    }
}

impl Drop for Pusher {
    /// Without [`Pusher::shutdown`] (the sandbox was dropped), stops the workers and logs
    /// what was dropped or left queued.
    fn drop(&mut self) {
        let closed = *self
            .closed
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let stats = self.counters.stats();
        if !closed && stats.dropped() + stats.pending() > 0 {
            tracing::warn!(
                delivered = stats.delivered,
                retried = stats.retried,
                dropped_queue_full = stats.dropped_queue_full,
                dropped_failed = stats.dropped_failed,
                left_queued = stats.pending(),
                "delivery-report pushes dropped (sandbox dropped without shutdown)"
            );
        }
        for worker in self
            .workers
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            worker.abort();
        }
    }
}

/// One worker of the pool.
struct Worker {
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    counters: Arc<Counters>,
    http: reqwest::Client,
    retries: u32,
    backoff: Duration,
}

impl Worker {
    async fn run(self) {
        loop {
            let job = { self.receiver.lock().await.recv().await };
            let Some(job) = job else {
                return;
            };
            let delivered = self.deliver(&job).await;
            if let Some(tracker) = job.tracker {
                tracker.done(delivered);
            }
        }
    }

    /// Pushes one report, retrying with exponential back-off; whether it was answered 2xx.
    async fn deliver(&self, job: &Job) -> bool {
        let mut delay = self.backoff;
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
                self.counters.retried.fetch_add(1, Ordering::SeqCst);
            }
            match self.attempt(job).await {
                Ok(()) => {
                    self.counters.delivered.fetch_add(1, Ordering::SeqCst);
                    return true;
                }
                Err(err) => tracing::debug!(attempt, error = %err, "delivery-report push failed"),
            }
        }
        self.counters.dropped_failed.fetch_add(1, Ordering::SeqCst);
        false
    }

    async fn attempt(&self, job: &Job) -> Result<(), PushError> {
        let mut request = self
            .http
            .post(&*job.url)
            .header("Content-Type", job.content_type);
        for (name, value) in &job.headers {
            request = request.header(*name, value);
        }
        let mut response = request
            .body(job.body.clone())
            .send()
            .await
            .map_err(|err| PushError::Transport(err.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(PushError::Status(status));
        }
        // Read a small answer to its end (the connection stays reusable); never more.
        let mut read = 0;
        while read <= MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(())
    }
}
