//! A local simulator of every smsgate vendor — itniotech, laaffic and nxcloud — on one loopback
//! port, under each vendor's own paths (`/sms/...`, `/v3/...`, `/v1/sms/...`).
//!
//! It behaves like the vendors document: it checks signatures and timestamp windows, validates
//! bodies against the same JSON Schemas the clients are generated from and answers each
//! violated limit with the vendor's own code, assigns message ids in the vendor's format,
//! answers in the vendor's exact response shape, keeps an account balance that sends deduct
//! from, serves balance and delivery-status queries from what it accepted, and can push
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
//! ```
//! use smsgate_itniotech::TextMessage;
//! use smsgate_sandbox::{Sandbox, SandboxConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In-process, on a free loopback port; credentials come back with it.
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let account = &sandbox.config().itniotech;
//! let client = smsgate_itniotech::Client::builder()
//!     .api_key(&account.api_key)
//!     .api_secret(account.api_secret.clone())
//!     .app_id(&account.app_id)
//!     .base_url(sandbox.url())
//!     .build()?;
//! let receipt = client.send_sms(&TextMessage::new(["8613800138000"], "hello")).await?;
//! assert_eq!(receipt.accepted_count, 1);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod draw;
mod nxcloud;
mod onbuka;
mod push;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use push::{PushSettings, PushStats};
pub use state::{Faults, NxcloudAccount, OnbukaAccount, SandboxConfig};

/// A running simulator.
#[derive(Debug)]
pub struct Sandbox {
    url: String,
    addr: SocketAddr,
    config: SandboxConfig,
    pusher: Option<Arc<push::Pusher>>,
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
            Some(url) => Some(Arc::new(
                push::Pusher::start(url.clone(), &config.push).map_err(std::io::Error::other)?,
            )),
            None => None,
        };
        let app = router(Arc::new(state::State::new(config.clone(), pusher.clone())))
            .layer(DefaultBodyLimit::max(config.max_body_bytes));
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
            stop: Some(stop),
            task,
        })
    }

    /// Base URL of every vendor API (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Credentials, balances and faults it runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
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

fn router(state: Arc<state::State>) -> Router {
    onbuka::routes(Arc::clone(&state)).merge(nxcloud::routes(state))
}
