//! `send --ledger URL --job NAME`: every row recorded before its request leaves and after it
//! settles, so a rerun of the same job resumes without sending anything twice.

use std::io::Read;
use std::sync::Arc;

use md5::{Digest, Md5};
use smsgate::{Delivery, Message};
use smsgate_ledger::{Ledger, LedgerError, NewMessage, Settled, Settlement, TextPolicy};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cli::SendArgs;
use crate::output::{Recorded, Row};
use crate::{CliError, note};

/// The most outcomes one ledger transaction records (batches queued together are merged up
/// to it).
const SETTLE_AT_MOST: usize = 5000;

/// How long the ledger task waits for more outcomes before recording fewer than a chunk's
/// worth: requests that answer together are recorded in one transaction, whose cost (the
/// pages of the provider-id index it touches, written once per commit) is shared.
const SETTLE_GATHER: std::time::Duration = std::time::Duration::from_millis(5);

/// A send's ledger: the job, this process's worker name, and the task that records outcomes.
pub struct LedgerRun {
    ledger: Arc<dyn Ledger>,
    /// The lock that makes this process the SQLite ledger's only sender (held while it lives).
    _sender_lock: Option<std::fs::File>,
    job: String,
    worker: String,
    /// How long this worker's claims last without a heartbeat.
    lease_ms: u64,
    /// Rows read, recorded and marked in flight together (`--ledger-chunk`); the next chunk is
    /// recorded while one is sent, so a crash leaves at most twice this many unknown.
    chunk: usize,
    /// Every provider this run may send through, in order (recorded with each row it starts).
    providers: Vec<String>,
    /// Renews this worker's claims every third of the lease.
    heartbeat: JoinHandle<()>,
    /// Whether other workers may share the job (PostgreSQL): then this worker, once through
    /// its input, also sends the rows a dead worker's lapsed lease released.
    shared: bool,
    settle: mpsc::UnboundedSender<Vec<Settlement>>,
    settler: JoinHandle<Result<(), LedgerError>>,
    /// Rows of this run's chunks that another worker held.
    held_elsewhere: std::sync::atomic::AtomicU64,
}

impl LedgerRun {
    /// Opens the ledger `--ledger` names and recovers what an earlier run of the job left:
    /// rows in flight become `unknown` (listed, never resent), claimed rows are released.
    pub async fn open(args: &SendArgs, providers: Vec<String>) -> Result<Option<Self>, CliError> {
        let Some(url) = &args.ledger else {
            return Ok(None);
        };
        let config = |err: LedgerError| CliError::Config(err.to_string());
        let text = if args.ledger_hash_text {
            TextPolicy::HashOnly
        } else {
            TextPolicy::Keep
        };
        let ledger = smsgate_ledger::open(url, text).await.map_err(config)?;
        let job = match &args.job {
            Some(job) => job.clone(),
            None => default_job(args)?,
        };
        // One sender owns a SQLite ledger (a lock held until it exits, released by the system
        // even on SIGKILL): whatever an earlier one left in flight is stranded. On PostgreSQL
        // other workers may be sending: only lapsed leases are recovered.
        let single = url.starts_with("sqlite:");
        let sender_lock = if single { sender_lock(url)? } else { None };
        let recovery = ledger.recover(&job, single).await.map_err(config)?;
        if !recovery.unknown.is_empty() {
            let shown: Vec<String> = recovery
                .unknown
                .iter()
                .take(20)
                .map(u64::to_string)
                .collect();
            note(format_args!(
                "{} row(s) of job {job:?} were in flight when an earlier run stopped: they are now \
                 unknown and are never sent again (input positions {}{}); `smsgate reconcile \
                 --ledger URL --job {job:?}` asks the providers what became of them (a message \
                 no provider received becomes not_sent, and the next run sends it)",
                recovery.unknown.len(),
                shown.join(", "),
                if recovery.unknown.len() > 20 {
                    ", ..."
                } else {
                    ""
                }
            ));
        }
        note(format_args!("ledger job {job:?}"));
        let worker = format!(
            "pid{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default()
        );
        let lease_ms = args.lease.saturating_mul(1000);
        let heartbeat = {
            let (ledger, job, worker) = (Arc::clone(&ledger), job.clone(), worker.clone());
            tokio::spawn(async move {
                let mut every =
                    tokio::time::interval(std::time::Duration::from_millis(lease_ms / 3));
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut failing = false;
                loop {
                    every.tick().await;
                    match ledger.renew(&job, &worker, lease_ms).await {
                        Ok(_) => failing = false,
                        Err(err) if !failing => {
                            failing = true;
                            note(format_args!(
                                "cannot renew this worker's claims ({err}): if this lasts {} s, \
                                 other workers may take its unsent rows",
                                lease_ms / 1000
                            ));
                        }
                        Err(_) => {}
                    }
                }
            })
        };
        let chunk = usize::try_from(args.ledger_chunk).unwrap_or(usize::MAX);
        let (settle, mut batches) = mpsc::unbounded_channel::<Vec<Settlement>>();
        let settler = {
            let (ledger, job) = (Arc::clone(&ledger), job.clone());
            tokio::spawn(async move {
                while let Some(mut batch) = batches.recv().await {
                    // Whatever queued meanwhile goes in the same transaction, and what comes
                    // within a few milliseconds, up to a chunk's worth: when requests answer
                    // faster than the ledger records, it records in fewer, larger commits.
                    // (A crash leaves unknown what was not recorded: at most about a chunk.)
                    while batch.len() < SETTLE_AT_MOST {
                        match batches.try_recv() {
                            Ok(more) => batch.extend(more),
                            Err(mpsc::error::TryRecvError::Empty) if batch.len() < chunk => {
                                match tokio::time::timeout(SETTLE_GATHER, batches.recv()).await {
                                    Ok(Some(more)) => batch.extend(more),
                                    Ok(None) | Err(_) => break,
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    ledger.settle(&job, batch).await?;
                }
                Ok(())
            })
        };
        Ok(Some(Self {
            ledger,
            _sender_lock: sender_lock,
            job,
            worker,
            lease_ms,
            chunk,
            providers,
            heartbeat,
            shared: !single,
            settle,
            settler,
            held_elsewhere: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    /// Records a chunk and takes this worker's share of it: loads its rows (once), claims the
    /// pending ones, writes the outcome an earlier run recorded for each settled one, and marks
    /// the claimed ones in flight. The messages to send, with their input places.
    ///
    /// Nothing is written unless every step succeeded: on an error the caller writes the
    /// chunk's rows as not sent (none was started, or `start` rolled back).
    pub async fn take_chunk(
        &self,
        messages: &[Message],
        places: &[(usize, Option<u64>)],
        write: &mut dyn FnMut(Row),
    ) -> Result<(Vec<Message>, Vec<(usize, Option<u64>)>), LedgerError> {
        Ok(self
            .take_or_skip(messages, places, write, true)
            .await?
            .unwrap_or_default())
    }

    /// [`take_chunk`](Self::take_chunk), unless another worker is taking the same chunk right
    /// now: `None` at once (nothing written), and the caller takes it later.
    pub async fn try_take_chunk(
        &self,
        messages: &[Message],
        places: &[(usize, Option<u64>)],
        write: &mut dyn FnMut(Row),
    ) -> Result<Option<(Vec<Message>, Vec<(usize, Option<u64>)>)>, LedgerError> {
        self.take_or_skip(messages, places, write, false).await
    }

    async fn take_or_skip(
        &self,
        messages: &[Message],
        places: &[(usize, Option<u64>)],
        write: &mut dyn FnMut(Row),
        wait: bool,
    ) -> Result<Option<(Vec<Message>, Vec<(usize, Option<u64>)>)>, LedgerError> {
        let rows = messages
            .iter()
            .zip(places)
            .map(|(m, (index, _))| NewMessage {
                position: *index as u64,
                client_ref: m.client_ref.as_deref().unwrap_or_default().to_owned(),
                number: m.to.to_string(),
                text: m.content.to_string(),
                sender_id: m.sender_id.as_deref().map(str::to_owned),
            })
            .collect();
        // Loaded, this worker's share claimed and marked in flight, the rest read: one step,
        // committed before any request of the chunk leaves.
        let (job, worker, providers) = (&self.job, &self.worker, self.providers.clone());
        let taken = if wait {
            self.ledger
                .take(job, worker, rows, self.lease_ms, providers)
                .await?
        } else {
            match self
                .ledger
                .try_take(job, worker, rows, self.lease_ms, providers)
                .await?
            {
                Some(taken) => taken,
                None => return Ok(None),
            }
        };
        let mut mine = taken.mine;
        mine.sort_unstable();
        // Rows another worker holds (or a run that stopped less than a lease ago) are its to
        // report: counted, said once at the end.
        self.held_elsewhere
            .fetch_add(taken.held_elsewhere, std::sync::atomic::Ordering::Relaxed);
        let mut recorded_rows = Vec::new();
        for recorded in taken.settled {
            let Some(k) = places
                .iter()
                .position(|(i, _)| *i as u64 == recorded.position)
            else {
                continue;
            };
            let (index, line) = places[k];
            recorded_rows.push(Row {
                index,
                line,
                to: Arc::clone(&messages[k].to),
                client_ref: messages[k].client_ref.clone(),
                delivery: None,
                unreadable: None,
                not_sent: None,
                recorded: Some(Recorded {
                    state: recorded.state.as_str(),
                    provider: recorded.provider,
                    message_id: recorded.provider_message_id,
                    reason: recorded.reason,
                    retry_safe: recorded.retry_safe,
                }),
            });
        }
        for row in recorded_rows {
            write(row);
        }
        let (send, send_places) = messages
            .iter()
            .cloned()
            .zip(places.iter().copied())
            .filter(|(_, (index, _))| mine.binary_search(&(*index as u64)).is_ok())
            .unzip();
        Ok(Some((send, send_places)))
    }

    /// Once this worker has read its whole input: the rows of the job that dead workers left
    /// (their leases lapsed: claimed rows released to pending; rows in flight become unknown),
    /// claimed and marked in flight, as messages with their input positions (`line`
    /// unknown). Empty when none is left; while other workers still hold rows it waits for
    /// them to finish or lapse. Only where workers share the job (PostgreSQL).
    pub async fn take_released(
        &self,
        stop: &smsgate::StopSignal,
    ) -> Result<(Vec<Message>, Vec<(usize, Option<u64>)>), LedgerError> {
        if !self.shared {
            return Ok((Vec::new(), Vec::new()));
        }
        // Leases lapse only a lease after a worker stops: looking for what they released is
        // done every twelfth of a lease; whether others still hold rows (one count) more often,
        // so that the run ends soon after the last of them.
        let recover_every = std::time::Duration::from_millis((self.lease_ms / 12).clamp(50, 5_000));
        // When it last looked; `None`: look now (first, and once more when the others are through).
        let mut recovered_at: Option<std::time::Instant> = None;
        loop {
            if stop.is_stopped() {
                return Ok((Vec::new(), Vec::new()));
            }
            if self.failed() {
                return Err(LedgerError::Database(
                    "outcomes can no longer be recorded".to_owned(),
                ));
            }
            if recovered_at.is_some_and(|at| at.elapsed() < recover_every) {
                if self.ledger.held_elsewhere(&self.job, &self.worker).await? == 0 {
                    // One last look for released rows before the run ends.
                    recovered_at = None;
                    continue;
                }
                tokio::select! {
                    () = self.ledger.wait_for_settlements(WAIT_FOR_OTHERS) => {}
                    () = stop.stopped() => {}
                }
                continue;
            }
            recovered_at = Some(std::time::Instant::now());
            let recovery = self.ledger.recover(&self.job, false).await?;
            if !recovery.unknown.is_empty() {
                note(format_args!(
                    "{} row(s) of job {:?} were in flight at a worker that stopped: they are now \
                     unknown and are never sent again; `smsgate reconcile` asks the providers \
                     what became of them",
                    recovery.unknown.len(),
                    self.job
                ));
            }
            let claimed = self
                .ledger
                .claim_released(&self.job, &self.worker, self.chunk, self.lease_ms)
                .await?;
            if !claimed.is_empty() {
                // Without its text (a hash-only ledger) a row cannot be sent from the ledger:
                // it goes back as not sent, for a run that reads the input.
                let (claimed, textless): (Vec<_>, Vec<_>) =
                    claimed.into_iter().partition(|m| m.text.is_some());
                if !textless.is_empty() {
                    let reason = "released by a stopped worker; the ledger keeps only text hashes: \
                                  a run reading the input sends it";
                    let settlements = textless
                        .iter()
                        .map(|m| Settlement::other(m.position, Settled::NotSent, reason))
                        .collect();
                    self.ledger.settle(&self.job, settlements).await?;
                    note(format_args!(
                        "{} row(s) of job {:?} a stopped worker left are not sent: the ledger keeps \
                         only their text hashes (run the job again to send them)",
                        textless.len(),
                        self.job
                    ));
                }
                if claimed.is_empty() {
                    continue;
                }
                let positions = claimed.iter().map(|m| m.position).collect();
                self.ledger
                    .start_through(&self.job, &self.worker, positions, self.providers.clone())
                    .await?;
                let mut messages = Vec::with_capacity(claimed.len());
                let mut places = Vec::with_capacity(claimed.len());
                for row in claimed {
                    let Some(text) = row.text else {
                        continue;
                    };
                    let mut message = Message::new(row.number, text);
                    if !row.client_ref.is_empty() {
                        message = message.client_ref(row.client_ref);
                    }
                    if let Some(sender_id) = row.sender_id {
                        message = message.sender_id(sender_id);
                    }
                    messages.push(message);
                    places.push((usize::try_from(row.position).unwrap_or(usize::MAX), None));
                }
                note(format_args!(
                    "sending {} row(s) of job {:?} that a stopped worker left",
                    messages.len(),
                    self.job
                ));
                return Ok((messages, places));
            }
            if self.ledger.held_elsewhere(&self.job, &self.worker).await? == 0 {
                return Ok((Vec::new(), Vec::new()));
            }
            // Other workers are still sending (or died: their leases lapse).
            tokio::select! {
                () = self.ledger.wait_for_settlements(WAIT_FOR_OTHERS) => {}
                () = stop.stopped() => {}
            }
        }
    }

    /// Queues `not_sent` for rows this worker marked in flight but never sent (their input
    /// places), with `reason`: a rerun sends them.
    pub fn unsent(&self, places: &[(usize, Option<u64>)], reason: &str) {
        let batch = places
            .iter()
            .map(|(index, _)| Settlement::other(*index as u64, Settled::NotSent, reason))
            .collect();
        // The settler ends only on a ledger error, which `finish` reports.
        let _ = self.settle.send(batch);
    }

    /// Rows read and recorded together.
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// Queues the outcomes of settled messages (`places` maps their index in the chunk sent to
    /// input positions) for the ledger.
    pub fn record(&self, settled: &[Delivery], places: &[(usize, Option<u64>)]) {
        let batch = settled
            .iter()
            .map(|d| d.settlement(places[d.index].0 as u64))
            .collect();
        // The settler ends only on a ledger error, which `finish` reports.
        let _ = self.settle.send(batch);
    }

    /// Whether recording failed (the send stops: an outcome must never go unrecorded).
    pub fn failed(&self) -> bool {
        self.settler.is_finished()
    }

    /// Waits until every outcome is recorded.
    pub async fn finish(self) -> Result<(), LedgerError> {
        let held = self
            .held_elsewhere
            .load(std::sync::atomic::Ordering::Relaxed);
        if held > 0 {
            note(format_args!(
                "{held} row(s) of job {:?} were held by another worker (or by a run that stopped \
                 less than {} s ago): their outcomes are that worker's to write; `smsgate \
                 status` counts them",
                self.job,
                self.lease_ms / 1000
            ));
        }
        self.heartbeat.abort();
        drop(self.settle);
        self.settler
            .await
            .map_err(|err| LedgerError::Database(format!("the ledger task failed: {err}")))?
    }
}

/// Longest wait between two counts of the rows other workers hold (a ledger that hears their
/// outcomes commit, PostgreSQL, counts again as soon as they do).
const WAIT_FOR_OTHERS: std::time::Duration = std::time::Duration::from_millis(200);

/// Makes this process the only sender on the SQLite ledger `url` names: an exclusive lock on
/// `PATH.send-lock` (readers such as `status`, `receive` and `reconcile` take none).
fn sender_lock(url: &str) -> Result<Option<std::fs::File>, CliError> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    if path.is_empty() || path == ":memory:" {
        return Ok(None);
    }
    let lock_path = format!("{path}.send-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|err| CliError::Io(format!("cannot open {lock_path}: {err}")))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::Usage(format!(
            "another smsgate send is using the ledger {} (one sender per SQLite ledger; several \
             workers share a PostgreSQL ledger)",
            smsgate_ledger::shown_url(url)
        ))),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(CliError::Io(format!("cannot lock {lock_path}: {err}")))
        }
    }
}

/// The job a run names by default: the input file's name and the MD5 of its contents and of
/// the `--content` template if any (the same file resumes its job; another file, an edited one
/// or another template is another job), or of the recipients and text given with `--to`.
fn default_job(args: &SendArgs) -> Result<String, CliError> {
    let mut hasher = Md5::new();
    let stem = match &args.input.csv {
        Some(path) => {
            let mut file = std::fs::File::open(path)
                .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = file
                    .read(&mut buffer)
                    .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
            // A template is part of the input: another one makes other texts, another job.
            if let Some(template) = &args.input.content {
                hasher.update(b"\0template\0");
                hasher.update(template.as_bytes());
            }
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".to_owned())
        }
        None => {
            hasher.update(args.input.to.join(",").as_bytes());
            hasher.update(b"\n");
            hasher.update(args.input.content.as_deref().unwrap_or_default().as_bytes());
            "to".to_owned()
        }
    };
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    Ok(format!("{stem}-{hex}"))
}
