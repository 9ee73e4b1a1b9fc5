//! A durable record of every message smsgate sends, from plan to handset.
//!
//! A *job* is a list of messages, each at its input position. The ledger holds one row per
//! message and moves it through its states; a row is marked `in_flight` and committed
//! **before** its request leaves, so a crash can never make smsgate send it twice:
//!
//! ```text
//! pending → claimed → in_flight → accepted | rejected | unknown | not_sent
//!                                  accepted → delivered | undelivered | expired  (reports, polls)
//! ```
//!
//! - [`Ledger::load`] adds a job's rows once (loading the same rows again changes nothing).
//! - [`Ledger::claim`] hands a worker the next pending rows, with a lease.
//! - [`Ledger::start`] marks claimed rows in flight; [`Ledger::settle`] records outcomes.
//! - [`Ledger::recover`] settles what a dead worker left: rows in flight become `unknown`
//!   (never resent automatically: the request may have reached the vendor), claimed rows whose
//!   lease expired go back to `pending`.
//! - [`Ledger::record_report`] matches a delivery report by provider and message id; a report
//!   for an id the ledger does not know is kept too.
//!
//! Two backends: SQLite ([`SqliteLedger`]: one file, WAL, the default) and PostgreSQL
//! ([`PostgresLedger`]: many workers on one job, rows claimed with `FOR UPDATE SKIP LOCKED`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), smsgate_ledger::LedgerError> {
//! use smsgate_ledger::{Ledger, NewMessage, Settled, Settlement, SqliteLedger, State, TextPolicy};
//!
//! let ledger = SqliteLedger::open_in_memory(TextPolicy::Keep)?;
//! let rows = vec![NewMessage::new(0, "ref-0", "8613800138000", "hi")];
//! assert_eq!(ledger.load("job-1", rows.clone()).await?, 1);
//! assert_eq!(ledger.load("job-1", rows).await?, 0); // idempotent
//! let claimed = ledger.claim("job-1", "worker-a", 100, 60_000).await?;
//! ledger.start("job-1", "worker-a", vec![claimed[0].position]).await?; // committed before sending
//! ledger
//!     .settle("job-1", vec![Settlement::accepted(0, "nxcloud", "m-1", vec!["nxcloud".into()])])
//!     .await?;
//! let message = ledger.message("job-1", 0).await?.unwrap();
//! assert_eq!(message.state, State::Accepted);
//! # let _ = Settled::Unknown;
//! # Ok(()) }
//! ```

mod model;
mod postgres;
mod sqlite;

pub use model::{
    Count, Ledger, LedgerError, Message, NewMessage, Recovery, ReportMatch, Settled, Settlement,
    State, Taken, TextPolicy,
};
pub use postgres::PostgresLedger;
pub use sqlite::SqliteLedger;

/// Opens the ledger a URL names: `sqlite:PATH` (`sqlite::memory:` in memory) or
/// `postgres://user@host:port/db` (also `postgresql://`).
pub async fn open(url: &str, text: TextPolicy) -> Result<std::sync::Arc<dyn Ledger>, LedgerError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(std::sync::Arc::new(
            PostgresLedger::connect(url, text).await?,
        ));
    }
    if url.starts_with("sqlite:") {
        return Ok(std::sync::Arc::new(SqliteLedger::open_url(url, text)?));
    }
    Err(LedgerError::Url {
        url: model::shown_url(url),
        reason: "expected sqlite:PATH or postgres://user@host:port/db".to_owned(),
    })
}

/// A ledger URL as it may be shown (in a banner, an error): without its userinfo and query
/// string, either of which may hold a password.
pub fn shown_url(url: &str) -> String {
    model::shown_url(url)
}

/// The schema every backend creates (portable SQL; times in UNIX milliseconds).
pub const SCHEMA: &str = include_str!("../migrations/0001_ledger.sql");

/// What PostgreSQL adds to [`SCHEMA`]: the index of open rows its workers poll, and the digests
/// of loaded chunks.
pub(crate) const POSTGRES_SCHEMA: &str = include_str!("../migrations/0002_postgres.sql");

/// What SQLite changes in [`SCHEMA`]: no index by state (one sender, which scans once a run).
pub(crate) const SQLITE_SCHEMA: &str = include_str!("../migrations/0002_sqlite.sql");

/// The index by provider message id: part of PostgreSQL's schema, made by SQLite on first use.
pub(crate) const PROVIDER_ID_INDEX: &str = include_str!("../migrations/0003_provider_id_index.sql");
