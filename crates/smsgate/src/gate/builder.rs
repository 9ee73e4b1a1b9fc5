//! [`SmsGateBuilder`]: providers in priority order (each one a slot of the gate) and the
//! gate's limits and hooks.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{Mutex, Semaphore};

use super::request::Pacer;
use super::routing::{Router, Routing, RoutingError};
use super::{Hop, HopHook, OutcomeHook, Slot, SmsGate};
use crate::number::NumberPolicy;
use crate::outcome::{Delivery, ProviderName, Reference};
use crate::provider::Provider;

/// Per-provider flow control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderOptions {
    /// Most requests in flight to this provider at once (default 4, or the vendor's
    /// documented cap: [`ProviderOptions::documented`]).
    pub concurrency: usize,
    /// Most requests started per second (`None`: no limit, or the vendor's documented rate).
    pub requests_per_second: Option<f64>,
}

impl ProviderOptions {
    /// The defaults for `provider`: its flow limits ([`Provider::flow_limits`]: Vonage's
    /// documented 30 requests per second; 10 requests in flight for Twilio, whose account
    /// concurrency cap is real but unpublished), 4 requests in flight and no rate where it
    /// gives none.
    pub fn documented(provider: &dyn Provider) -> Self {
        let limits = provider.flow_limits();
        let default = Self::default();
        Self {
            concurrency: limits.concurrency.unwrap_or(default.concurrency),
            requests_per_second: limits.requests_per_second.or(default.requests_per_second),
        }
    }
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            requests_per_second: None,
        }
    }
}

/// Builds an [`SmsGate`].
pub struct SmsGateBuilder {
    slots: Vec<Slot>,
    routing: Option<Routing>,
    concurrency: usize,
    throttle_retries: u32,
    throttle_backoff: Duration,
    deadline: Option<Duration>,
    allow_duplicates: bool,
    numbers: NumberPolicy,
    on_outcome: Option<OutcomeHook>,
    on_hop: Option<HopHook>,
    reference_seed: Option<u64>,
    #[cfg(feature = "ledger")]
    ledger: Option<super::ledger::GateLedger>,
}

impl fmt::Debug for SmsGateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGateBuilder")
            .field("providers", &super::slot_names(&self.slots))
            .field("routing", &self.routing)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl SmsGateBuilder {
    /// A builder with no provider and the default limits.
    pub(super) fn new() -> Self {
        Self {
            slots: Vec::new(),
            routing: None,
            concurrency: 8,
            throttle_retries: 3,
            throttle_backoff: Duration::from_millis(500),
            deadline: None,
            allow_duplicates: false,
            numbers: NumberPolicy::default(),
            on_outcome: None,
            on_hop: None,
            reference_seed: None,
            #[cfg(feature = "ledger")]
            ledger: None,
        }
    }

    /// Adds a provider after the ones already added (priority order), with the options its
    /// vendor documents ([`ProviderOptions::documented`]).
    pub fn provider(self, provider: impl Provider + 'static) -> Self {
        let options = ProviderOptions::documented(&provider);
        self.provider_with(provider, options)
    }

    /// Adds a provider with its own concurrency cap and request rate.
    pub fn provider_with(
        mut self,
        provider: impl Provider + 'static,
        options: ProviderOptions,
    ) -> Self {
        let pacer = options
            .requests_per_second
            .filter(|rate| *rate > 0.0 && rate.is_finite())
            .map(|rate| Pacer {
                interval: Duration::from_secs_f64(1.0 / rate),
                next: Mutex::new(Instant::now()),
            });
        // A slot's id is its index in `slots`: fixed once pushed.
        self.slots.push(Slot {
            name: ProviderName::new(self.slots.len(), provider.name()),
            provider: crate::registry::SlotProvider::new(provider),
            semaphore: Semaphore::new(options.concurrency.max(1)),
            pacer,
        });
        self
    }

    /// Routes messages by `routing` (a strategy and prefix rules) instead of trying the
    /// providers in the order they were added. Call it after adding the providers: it checks
    /// that every name it uses is one of theirs.
    ///
    /// ```
    /// # fn gate(nxcloud: smsgate::nxcloud::Client, itniotech: smsgate::itniotech::Client)
    /// # -> Result<smsgate::SmsGate, smsgate::RoutingError> {
    /// use smsgate::{Routing, SmsGate};
    /// let gate = SmsGate::builder()
    ///     .provider(nxcloud)
    ///     .provider(itniotech)
    ///     // Three messages in four to nxcloud; UK numbers only through itniotech.
    ///     .routing(Routing::weighted([("nxcloud", 3), ("itniotech", 1)]).rule("44", ["itniotech"]))?
    ///     .build();
    /// # Ok(gate) }
    /// ```
    pub fn routing(mut self, routing: Routing) -> Result<Self, RoutingError> {
        Router::new(&routing, &self.slots)?;
        self.routing = Some(routing);
        Ok(self)
    }

    /// Most requests in flight over all providers (default 8).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// How often a throttled request is retried on the same provider before failing over
    /// (default 3), and the first back-off (default 500 ms, doubling each time).
    pub fn throttle_retries(mut self, retries: u32, first_backoff: Duration) -> Self {
        self.throttle_retries = retries;
        self.throttle_backoff = first_backoff;
        self
    }

    /// Time allowed for a whole [`SmsGate::send`]. Messages not sent by then end rejected
    /// (`DeadlineExceeded`, retry-safe); a request still in flight ends unknown.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sends repeated (number, content) pairs of one call every time (default: only the first,
    /// later ones are rejected as `Duplicate`).
    pub fn allow_duplicates(mut self, allow: bool) -> Self {
        self.allow_duplicates = allow;
        self
    }

    /// Makes the references the gate sends (`orderId` / `sysMessageId`) start from `seed`
    /// instead of the clock, so that two runs send the same bytes — what a seeded simulator
    /// needs to give the same faults. Only for tests and simulators: against a real vendor,
    /// references must differ between runs.
    pub fn reference_seed(mut self, seed: u64) -> Self {
        self.reference_seed = Some(seed);
        self
    }

    /// How numbers are read (default: strict, no default region — see [`NumberPolicy`]).
    /// [`SmsGate::send`], [`SmsGate::preview`] and [`SmsGate::dry_run`] all read them so.
    pub fn number_policy(mut self, policy: NumberPolicy) -> Self {
        self.numbers = policy;
        self
    }

    /// Calls `hook` with each message's final delivery, in input order.
    pub fn on_outcome(mut self, hook: impl Fn(&Delivery) + Send + Sync + 'static) -> Self {
        self.on_outcome = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` at each failover hop.
    pub fn on_failover(mut self, hook: impl Fn(&Hop) + Send + Sync + 'static) -> Self {
        self.on_hop = Some(Arc::new(hook));
        self
    }

    /// The gate. Loads the numbering-plan metadata the first time in the process (tens of
    /// milliseconds), so that the first send does not.
    pub fn build(self) -> SmsGate {
        self.numbers.load_metadata();
        let seed = self.reference_seed.map_or_else(
            || {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() % 10_000_000_000_000)
                    .unwrap_or(0)
            },
            |seed| u128::from(seed % 10_000_000_000_000),
        );
        // Checked by `routing` against fewer or the same slots: adding providers since cannot
        // make it fail (a new provider is in no rule and has no weight).
        let router = self
            .routing
            .as_ref()
            .and_then(|routing| Router::new(routing, &self.slots).ok())
            .unwrap_or_else(|| Router::priority(&self.slots));
        SmsGate {
            router,
            slots: self.slots,
            global: Semaphore::new(self.concurrency),
            throttle_retries: self.throttle_retries,
            throttle_backoff: self.throttle_backoff,
            deadline: self.deadline,
            allow_duplicates: self.allow_duplicates,
            numbers: self.numbers,
            on_outcome: self.on_outcome,
            on_hop: self.on_hop,
            reference_prefix: Reference::prefix_digits(u64::try_from(seed).unwrap_or(0)),
            next_reference: AtomicU64::new(0),
            #[cfg(feature = "ledger")]
            ledger: self.ledger,
        }
    }

    /// Records every message of [`SmsGate::send_once`](super::SmsGate::send_once) in `ledger`
    /// under `job` (one job per service: every replica gives the same), claimed with a lease of
    /// 60 s that a heartbeat renews while the request is out ([`SmsGateBuilder::ledger_lease`]).
    #[cfg(feature = "ledger")]
    pub fn ledger(
        mut self,
        ledger: std::sync::Arc<dyn smsgate_ledger::Ledger>,
        job: impl Into<String>,
    ) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        self.ledger = Some(super::ledger::GateLedger {
            ledger,
            job: job.into(),
            worker: format!("gate-pid{}-{nanos:x}", std::process::id()),
            lease: Duration::from_secs(60),
        });
        self
    }

    /// How long this replica's claim on a message lasts without a heartbeat: a replica that
    /// dies leaves its unsent messages to the others after this (its messages in flight end
    /// `unknown`). Default 60 s; needs [`SmsGateBuilder::ledger`] first.
    #[cfg(feature = "ledger")]
    pub fn ledger_lease(mut self, lease: Duration) -> Self {
        if let Some(ledger) = &mut self.ledger {
            ledger.lease = lease.max(Duration::from_millis(30));
        }
        self
    }
}
