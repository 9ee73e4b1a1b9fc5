//! A local simulator of every smsgate vendor — itniotech, laaffic and nxcloud — on one loopback
//! port, under each vendor's own paths (`/sms/...`, `/v3/...`, `/v1/sms/...`).
//!
//! It behaves like the vendors document: it checks signatures and timestamp windows, validates
//! bodies against the same JSON Schemas the clients are generated from and answers each
//! violated limit with the vendor's own code, assigns message ids in the vendor's format,
//! answers in the vendor's exact response shape, keeps an account balance that sends deduct
//! from, serves balance, delivery-status and sent-records queries from what it accepted, and can push
//! delivery reports. Faults (latency, HTTP 500, dropped connections, malformed bodies,
//! per-number rejections, rate limits) are injected from a seed, so a run is repeatable: each
//! draw depends on the seed and the request itself, not on arrival order (see [`Faults`]).
//!
//! Delivery reports go through a bounded queue ([`PushSettings::queue_capacity`]) drained by
//! a fixed pool of workers ([`PushSettings::concurrency`]); each push has connect and total
//! timeouts and is retried with exponential back-off; redirects are never followed. A report
//! that finds the queue full, or fails every attempt, is dropped and counted
//! ([`Sandbox::push_stats`]); drops are logged as a `warn` at most every 10 s and at
//! shutdown. Request bodies over [`SandboxConfig::max_body_bytes`] are answered HTTP 413.
//!
//! Every message received is kept in an inbox, a ring of the last
//! [`SandboxConfig::inbox_capacity`] messages (default 10 000; older ones dropped and counted),
//! each with the request it came in (secrets redacted), the answer given, the injected fault and
//! its delivery-report pushes. A web page at `/` shows it live (server-sent events); a JSON API
//! beside it (`GET /_sandbox/messages`, `GET /_sandbox/messages/{id}`, `DELETE
//! /_sandbox/messages`, `GET /_sandbox/events`) and the methods [`Sandbox::messages`],
//! [`Sandbox::message`], [`Sandbox::clear`] and [`Sandbox::subscribe`] give the same to programs
//! and tests.
//!
//! Routes and validation come from what `cargo xtask gen` produced for each vendor: every
//! generated operation is served at its method and path, its request decoded as its encoding
//! says and validated against the bundled schema, its signature recomputed by the vendor's own
//! signer. What remains per vendor is behaviour ([`SimulatedVendor`]: ids, answer shapes,
//! codes, pushes), registered in [`VENDORS`] one line per vendor. Accounts are generic too:
//! [`SandboxConfig::accounts`] holds one per vendor, its settings by config key.
//!
//! ```
//! use smsgate_itniotech::generated::client::Credentials;
//! use smsgate_onbuka::bodies::SendSmsRequest;
//! use smsgate_sandbox::{Sandbox, SandboxConfig};
//! use smsgate_transport::endpoint::Joined;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In-process, on a free loopback port; credentials come back with it.
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! assert_eq!(
//!     sandbox.config().account("itniotech").and_then(|a| a.setting("api_key")),
//!     Some("sandbox-itniotech-key")
//! );
//! // A generated client with the account's settings, pointed at the sandbox.
//! let client = sandbox.client_builder::<Credentials>().build()?;
//! let numbers = ["8613800138000"];
//! let body = SendSmsRequest { numbers: Joined::commas(&numbers), content: "hello", ..Default::default() };
//! let answer = client.send_sms(&body).await?;
//! assert_eq!(answer.success.as_deref(), Some("1"));
//! // What the sandbox received, as its inbox keeps it.
//! let received = sandbox.messages(&smsgate_sandbox::MessageFilter::default());
//! assert_eq!(received.messages[0].text, "hello");
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod draw;
mod inbox;
mod nxcloud;
mod onbuka;
mod push;
mod redact;
mod registry;
mod router;
mod signature;
pub mod simulate;
mod state;
mod twilio;
mod vonage;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use smsgate_transport::client::{ClientBuilder, Credentials};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Account, AccountValue, DEFAULT_BALANCE, Faults, SandboxConfig, UnknownSetting};
pub use inbox::{
    DEFAULT_INBOX_CAPACITY, DeliveryReport, InboxEvent, InboxMessage, InboxSubscription,
    InjectedFault, MessageDetail, MessageFilter, MessageList, PushState, RawAnswer, RawHeader,
    RawRequest, ReportOutcome, TextEncoding,
};
pub use push::{PushSettings, PushStats};
pub use registry::{VENDORS, vendor};
pub use router::typed_fields;
pub use simulate::SimulatedVendor;
pub use state::Schemas;

/// A running simulator.
#[derive(Debug)]
pub struct Sandbox {
    url: String,
    addr: SocketAddr,
    config: SandboxConfig,
    pusher: Option<Arc<push::Pusher>>,
    inbox: Arc<inbox::Inbox>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// Starts on `127.0.0.1` on a free port.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts on `addr` (port 0 picks a free port). Fails if the address cannot be bound or
    /// the push client cannot be built.
    pub async fn bind(addr: SocketAddr, config: SandboxConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let pusher = match &config.push_url {
            Some(url) => Some(Arc::new(push::Pusher::start(url.clone(), &config.push)?)),
            None => None,
        };
        let mut state = state::State::new(config.clone(), pusher.clone());
        // On loopback the inbox answers only to loopback host names (see `web`).
        state.inbox_any_host = !addr.ip().is_loopback();
        let state = Arc::new(state);
        let inbox = Arc::clone(&state.inbox);
        let app =
            router::router(state, VENDORS).layer(DefaultBodyLimit::max(config.max_body_bytes));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(err) = server.await {
                tracing::error!(error = %err, "sandbox server failed");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(Self {
            url: format!("http://{addr}"),
            addr,
            config,
            pusher,
            inbox,
            stop: Some(stop),
            task,
        })
    }

    /// Base URL of every vendor API (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The inbox page's URL (`http://127.0.0.1:<port>/`).
    pub fn inbox_url(&self) -> String {
        format!("{}/", self.url)
    }

    /// The messages received that pass `filter`, newest first, with the inbox's counts (what
    /// `GET /_sandbox/messages` answers).
    pub fn messages(&self, filter: &MessageFilter) -> MessageList {
        self.inbox.messages(filter)
    }

    /// Message `id` with the request it came in (secrets redacted) and the answer given, if
    /// still kept (what `GET /_sandbox/messages/{id}` answers).
    pub fn message(&self, id: u64) -> Option<MessageDetail> {
        self.inbox.message(id)
    }

    /// Empties the inbox and resets its dropped count (what `DELETE /_sandbox/messages` does).
    pub fn clear(&self) {
        self.inbox.clear();
    }

    /// What happens in the inbox from now on (what `GET /_sandbox/events` streams).
    pub fn subscribe(&self) -> InboxSubscription {
        self.inbox.subscribe()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Credentials, balances and faults it runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// A builder of `C`'s generated client with the sandbox account's settings and the
    /// sandbox's URL (no settings if the vendor is not simulated); override any with
    /// [`ClientBuilder::setting`].
    pub fn client_builder<C: Credentials>(&self) -> ClientBuilder<C> {
        let builder = ClientBuilder::<C>::default().base_url(self.url());
        self.settings(C::VENDOR)
            .fold(builder, |builder, (key, value)| builder.setting(key, value))
    }

    /// The settings of `vendor`'s account (secrets exposed), by config key; none if the
    /// vendor is not simulated.
    pub fn settings(&self, vendor: &str) -> impl Iterator<Item = (&'static str, &str)> {
        self.config
            .account(vendor)
            .into_iter()
            .flat_map(|account| account.settings().map(|(key, value)| (key, value.expose())))
    }

    /// What became of delivery-report pushes so far: queued, delivered, retried and dropped
    /// (all zero without a push URL).
    pub fn push_stats(&self) -> PushStats {
        self.pusher
            .as_ref()
            .map(|pusher| pusher.stats())
            .unwrap_or_default()
    }

    /// Stops accepting connections and waits (at most 5 s) for the server to end, then lets
    /// queued pushes finish for at most [`PushSettings::shutdown_grace`] and drops the rest.
    /// Returns the final push counts: `delivered + dropped() == total()`.
    pub async fn shutdown(mut self) -> PushStats {
        // Open inbox pages hold event streams: end them, or the server waits for them.
        self.inbox.close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
        match &self.pusher {
            Some(pusher) => pusher.shutdown().await,
            None => PushStats::default(),
        }
    }

    /// Runs until the server ends (for `smsgate sandbox`).
    pub async fn serve_forever(mut self) {
        let _ = (&mut self.task).await;
    }
}
