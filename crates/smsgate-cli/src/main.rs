//! `smsgate`: send SMS through itniotech, laaffic and nxcloud — or through the built-in
//! simulator (`--sandbox`) with no account and no network.
//!
//! Exit codes ([`cli::EXIT_CODES`]): 0 all accepted, 1 some rejected or not sent, 2 usage or
//! configuration error, 3 some outcomes unknown, 4 the outcomes could not be written, 130/143
//! stopped by SIGINT/SIGTERM.

mod cli;
mod config;
mod ledger;
mod output;
mod progress;
mod receive;
mod reconcile;
mod template;

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::Parser;
use smsgate::{Message, NumberPolicy, Provider, QueryError, SmsGate, StopSignal};
use smsgate_sandbox::{Sandbox, SandboxConfig};

use crate::cli::{
    Cli, Command, InputArgs, PreviewArgs, ReportArgs, SandboxArgs, SendArgs, StatusArgs, TargetArgs,
};
use crate::config::{
    ConfigFile, clients, parse_faults, sandbox_accounts, sandbox_balance, sandbox_exports,
};
use crate::output::{Refusals, Row, Summary};

/// Messages sent per call of the gate while streaming a CSV file.
const CHUNK: usize = 1000;

/// What stops the command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// Missing or invalid configuration.
    #[error("{0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = init_logs(cli.verbose, cli.quiet) {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

/// Whether `--quiet` was given (no progress display).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The log on standard error: `RUST_LOG` when set, else warnings (`-q`: errors; `-v`: what
/// smsgate does; `-vv`: its requests too). No secret is logged at any level: the transport
/// redacts them before anything is formatted.
fn init_logs(verbose: u8, quiet: bool) -> Result<(), CliError> {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let targets = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => directives
            .parse::<Targets>()
            .map_err(|err| CliError::Usage(format!("RUST_LOG={directives:?}: {err}")))?,
        _ => {
            let (ours, others) = match (quiet, verbose) {
                (true, _) => (LevelFilter::ERROR, LevelFilter::ERROR),
                (false, 0) => (LevelFilter::WARN, LevelFilter::WARN),
                (false, 1) => (LevelFilter::INFO, LevelFilter::WARN),
                (false, 2) => (LevelFilter::DEBUG, LevelFilter::WARN),
                (false, _) => (LevelFilter::TRACE, LevelFilter::DEBUG),
            };
            // Every smsgate crate's target starts with `smsgate`.
            Targets::new()
                .with_target("smsgate", ours)
                .with_default(others)
        }
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .without_time()
                .with_target(verbose > 0),
        )
        .with(targets)
        .init();
    Ok(())
}

async fn run(cli: Cli) -> Result<u8, CliError> {
    let config = ConfigFile::load(cli.config.as_deref())?;
    match cli.command {
        Command::Send(args) => send(&config, args).await,
        Command::Preview(args) => preview_command(&config, args),
        Command::Balance(target) => balance(&config, &target).await,
        Command::Report(args) => report(&config, &args).await,
        Command::Sandbox(args) => sandbox(&config, &args).await,
        Command::Status(args) => status(&args).await,
        Command::Receive(args) => receive::receive(&config, &args).await,
        Command::Reconcile(args) => reconcile::reconcile(&config, &args).await,
    }
}

/// Starts the in-process simulator when `--sandbox` is given.
async fn maybe_sandbox(target: &TargetArgs) -> Result<Option<Sandbox>, CliError> {
    if !target.sandbox {
        return Ok(None);
    }
    let config = SandboxConfig {
        faults: parse_faults(&target.faults)?,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|err| CliError::Io(format!("cannot start the sandbox: {err}")))?;
    Ok(Some(sandbox))
}

/// The gate of a `send`: `clients` in order, routed by the config's `[routing]`.
fn gate(
    config: &ConfigFile,
    clients: &[Arc<dyn Provider>],
    args: &SendArgs,
    numbers: &NumberPolicy,
    refusals: &Refusals,
) -> Result<SmsGate, CliError> {
    let refusals = refusals.clone();
    let mut builder = SmsGate::builder()
        .concurrency(args.concurrency)
        .number_policy(numbers.clone())
        .allow_duplicates(true)
        .on_failover(move |hop| refusals.record(hop));
    if args.target.sandbox {
        // The built-in simulator draws its faults from its seed and the request: references
        // from a fixed seed make two runs of the same input draw the same faults.
        builder = builder.reference_seed(0);
    }
    for client in clients {
        builder = builder.provider(Arc::clone(client));
    }
    Ok(route(builder, config, clients)?.build())
}

/// `builder` (with `clients` added) routed by the config's `[routing]`, when it has one.
fn route(
    builder: smsgate::SmsGateBuilder,
    config: &ConfigFile,
    clients: &[Arc<dyn Provider>],
) -> Result<smsgate::SmsGateBuilder, CliError> {
    let names: Vec<&str> = clients.iter().map(|c| c.name()).collect();
    match config.routing_for(&names)? {
        Some(routing) => builder
            .routing(routing)
            .map_err(|err| CliError::Config(format!("[routing]: {err}"))),
        None => Ok(builder),
    }
}

/// One input row: a message to send, or a row that could not be read.
enum Slot {
    Message {
        line: Option<u64>,
        message: Message,
    },
    Unreadable {
        line: Option<u64>,
        to: Arc<str>,
        reason: String,
    },
}

/// Reads the messages: `--to`/`--content`, or the CSV file row by row.
fn input(args: &InputArgs) -> Result<Box<dyn Iterator<Item = Slot>>, CliError> {
    if let Some(path) = &args.csv {
        // Only the headers are trimmed here: the number, sender id and client ref are trimmed
        // per field below, and the content is sent byte-exact as the file holds it.
        let reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::Headers)
            .from_path(path)
            .map_err(|err| CliError::Io(format!("cannot read {}: {err}", path.display())))?;
        return csv_rows(reader, path, args.content.as_deref());
    }
    // One text shared by every message.
    let content: Arc<str> = args.content.as_deref().unwrap_or_default().into();
    let sender: Option<Arc<str>> = args.sender_id.as_deref().map(Into::into);
    let to = args.to.clone();
    Ok(Box::new(to.into_iter().map(move |to| {
        let mut message = Message::new(to, Arc::clone(&content));
        message.sender_id = sender.clone();
        Slot::Message {
            line: None,
            message,
        }
    })))
}

/// The CSV file's rows as messages: the text from its `content` column, or `template` (the
/// `--content` given with `--csv`) filled from each row's columns.
fn csv_rows(
    mut reader: csv::Reader<File>,
    path: &std::path::Path,
    template: Option<&str>,
) -> Result<Box<dyn Iterator<Item = Slot>>, CliError> {
    let headers = reader
        .headers()
        .map_err(|err| {
            CliError::Io(format!(
                "{}: cannot read the header row: {err}",
                path.display()
            ))
        })?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let template = template
        .map(|text| template::Template::new(text, headers.iter()))
        .transpose()
        .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;
    let content = column("content");
    let (Some(to), true) = (column("to"), content.is_some() || template.is_some()) else {
        return Err(CliError::Usage(format!(
            "{}: the header row must name the columns to,content[,sender_id,client_ref] \
             (or to, with --content as a template)",
            path.display()
        )));
    };
    let (sender, client_ref) = (column("sender_id"), column("client_ref"));
    Ok(Box::new(reader.into_records().map(move |record| {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map(csv::Position::line);
                return Slot::Unreadable {
                    line,
                    to: "".into(),
                    reason: format!("line {}: {err}", line.unwrap_or(0)),
                };
            }
        };
        let line = record.position().map(csv::Position::line);
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let text = match &template {
            Some(template) => match template.fill(&record) {
                Ok(text) => Some(text).filter(|t| !t.is_empty()),
                Err(empty) => {
                    return Slot::Unreadable {
                        line,
                        to: field(Some(to)).unwrap_or_default().into(),
                        reason: format!("line {}: {empty}", line.unwrap_or(0)),
                    };
                }
            },
            None => content
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        };
        match (field(Some(to)), text) {
            (Some(to), Some(content)) => {
                let mut message = Message::new(to, content);
                message.sender_id = field(sender).map(Into::into);
                message.client_ref = field(client_ref).map(Into::into);
                Slot::Message { line, message }
            }
            (to, _) => Slot::Unreadable {
                line,
                to: to.unwrap_or_default().into(),
                reason: format!(
                    "line {}: the row needs both `to` and `content`",
                    line.unwrap_or(0)
                ),
            },
        }
    })))
}

/// A line of a query's answer on standard output, what the vendor wrote with its control
/// characters escaped.
pub(crate) fn print_line(line: &str) -> Result<(), CliError> {
    writeln!(
        std::io::stdout(),
        "{}",
        smsgate_transport::redact::escape_controls(line)
    )
    .map_err(|err| CliError::Io(format!("cannot write to standard output: {err}")))
}

/// A line on standard error, best effort (a closed stderr must not stop the run).
pub(crate) fn note(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "smsgate: {message}");
}

/// One place outcome lines go, and whether writing there failed.
struct Output<W: Write> {
    /// What it is, for messages (`/tmp/r.jsonl`, `standard output`).
    name: String,
    writer: W,
    /// JSON lines, or text lines.
    json: bool,
    failed: bool,
}

impl<W: Write> Output<W> {
    /// Writes `row`; the failure's description, the first time one happens.
    fn write(&mut self, row: &Row, refusals: &Refusals) -> Option<String> {
        if self.failed {
            return None;
        }
        let written = if self.json {
            writeln!(self.writer, "{}", row.to_json())
        } else {
            writeln!(self.writer, "{}", row.to_text(refusals))
        };
        written.err().map(|err| self.fail(&err))
    }

    fn flush(&mut self) -> Option<String> {
        if self.failed {
            return None;
        }
        self.writer.flush().err().map(|err| self.fail(&err))
    }

    fn fail(&mut self, err: &std::io::Error) -> String {
        self.failed = true;
        format!("cannot write {}: {err}", self.name)
    }
}

/// Where outcome lines go: the `--output` file, standard output, or both. Every row is counted
/// in the summary. A write failure stops sending (exit 4) but not the writing of the other
/// output; once no output is left, rows go to standard error as JSON lines, so that no
/// outcome is lost.
struct Outcomes {
    file: Option<Output<BufWriter<File>>>,
    stdout: Option<Output<BufWriter<std::io::Stdout>>>,
    summary: Summary,
    /// Whole requests providers refused (named in text lines, warned about at the end).
    refusals: Refusals,
    /// The first write failure: the run stops at once and exits 4.
    failed: Option<String>,
}

impl Outcomes {
    fn open(args: &SendArgs, refusals: Refusals) -> Result<Self, CliError> {
        let file = match &args.output {
            Some(path) => {
                let file = File::create(path).map_err(|err| {
                    CliError::Io(format!("cannot write {}: {err}", path.display()))
                })?;
                Some(Output {
                    name: path.display().to_string(),
                    writer: BufWriter::new(file),
                    json: true,
                    failed: false,
                })
            }
            None => None,
        };
        // Text on standard output unless the lines go to a file; JSON there with --json.
        let stdout = (args.json || file.is_none()).then(|| Output {
            name: "to standard output".to_owned(),
            writer: BufWriter::new(std::io::stdout()),
            json: args.json,
            failed: false,
        });
        Ok(Self {
            file,
            stdout,
            summary: Summary::default(),
            refusals,
            failed: None,
        })
    }

    /// Whether an output is still writable.
    fn any_left(&self) -> bool {
        self.file.as_ref().is_some_and(|o| !o.failed)
            || self.stdout.as_ref().is_some_and(|o| !o.failed)
    }

    /// Counts `row` and writes it to every output still writable (to standard error when none is).
    fn write(&mut self, row: &Row) {
        self.summary.add(row);
        let mut recorded = false;
        if let Some(file) = &mut self.file {
            match file.write(row, &self.refusals) {
                Some(failure) => {
                    self.failed.get_or_insert(failure);
                }
                None => recorded |= !file.failed,
            }
        }
        if let Some(stdout) = &mut self.stdout {
            match stdout.write(row, &self.refusals) {
                Some(failure) => {
                    self.failed.get_or_insert(failure);
                }
                None => recorded |= !stdout.failed,
            }
        }
        if !recorded {
            let _ = writeln!(std::io::stderr(), "{}", row.to_json());
        }
    }

    /// Flushes every output still writable; `false` once any write has failed.
    fn flush(&mut self) -> bool {
        if let Some(failure) = self.file.as_mut().and_then(Output::flush) {
            self.failed.get_or_insert(failure);
        }
        if let Some(failure) = self.stdout.as_mut().and_then(Output::flush) {
            self.failed.get_or_insert(failure);
        }
        self.failed.is_none()
    }
}

/// SIGINT and SIGTERM: the first stops the run (no new request; in-flight ones settle; every
/// outcome and the summary are written), the second abandons the requests in flight.
struct Signals {
    /// 130 after SIGINT, 143 after SIGTERM, 0 while none came.
    received: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

impl Signals {
    fn listen(stop: StopSignal) -> Result<Self, CliError> {
        let received = Arc::new(AtomicU8::new(0));
        let code = Arc::clone(&received);
        let mut signals = StopSignals::install()?;
        let task = tokio::spawn(async move {
            // The first signal stops, the next abandons (a stop by a failed output is not one).
            let mut first = true;
            while let Some(signal) = signals.next().await {
                let _ = code.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                if std::mem::take(&mut first) {
                    stop.stop();
                    note(format_args!(
                        "stopping: no new request starts; requests in flight settle and every outcome is written \
                         (signal again to abandon them)"
                    ));
                } else {
                    stop.abandon();
                    note(format_args!(
                        "abandoning the requests in flight: their outcomes are unknown"
                    ));
                }
            }
        });
        Ok(Self { received, task })
    }

    /// The exit code a received signal calls for (130 SIGINT, 143 SIGTERM).
    fn exit_code(&self) -> Option<u8> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Applies the repeat check to a freshly read row.
fn check_repeat(
    slot: Slot,
    seen: &mut DuplicateWindow,
    index: usize,
    allow_duplicates: bool,
) -> Slot {
    match slot {
        Slot::Message { line, message } if !allow_duplicates => {
            match seen.first_of(&message, index) {
                Some(first) => Slot::Unreadable {
                    line,
                    to: message.to.clone(),
                    reason: format!(
                        "duplicate of message {first} (same number and content); not sent twice"
                    ),
                },
                None => Slot::Message { line, message },
            }
        }
        other => other,
    }
}

/// The row of a slot that never reaches the gate: unreadable rows are rejected; messages are
/// `not_sent` (the run stopped before they were sent).
fn unsent_row(index: usize, slot: Slot) -> Row {
    match slot {
        Slot::Message { line, message } => {
            Row::not_sent(index, line, message.to, message.client_ref)
        }
        Slot::Unreadable { line, to, reason } => Row {
            index,
            line,
            to,
            client_ref: None,
            delivery: None,
            unreadable: Some(reason),
            not_sent: None,
            recorded: None,
        },
    }
}

async fn send(config: &ConfigFile, args: SendArgs) -> Result<u8, CliError> {
    let numbers = config.number_policy(
        args.input.default_region.as_deref(),
        args.input.lenient_numbers,
    )?;
    let refusals = Refusals::default();
    let sandbox = maybe_sandbox(&args.target).await?;
    let clients = if args.dry_run && sandbox.is_none() {
        // Nothing is sent: missing credentials are placeholders (the requests say so).
        config::planning_clients(config, &args.target.provider)?
    } else {
        clients(config, &args.target.provider, sandbox.as_ref())?
    };
    let gate = gate(config, &clients, &args, &numbers, &refusals)?;
    let rows = input(&args.input)?;
    let code = if args.dry_run {
        plan_only(&gate, &args.input, rows, Plan::Requests, &numbers)?
    } else {
        let providers = clients.iter().map(|c| c.name().to_owned()).collect();
        let ledger = ledger::LedgerRun::open(&args, providers).await?;
        send_rows(&gate, &args, rows, &numbers, ledger, refusals).await?
    };
    if let Some(sandbox) = sandbox {
        // Every outcome is written by now: a signal during the simulator's shutdown (which
        // may wait a few seconds for its pushes) ends the wait.
        tokio::select! {
            _ = sandbox.shutdown() => {}
            _ = shutdown_signal() => {}
        }
    }
    Ok(code)
}

/// `preview`: segments, numbers and texts as they would be sent, and the planned requests.
/// Needs no credentials (missing ones are placeholders).
fn preview_command(config: &ConfigFile, args: PreviewArgs) -> Result<u8, CliError> {
    let numbers = config.number_policy(
        args.input.default_region.as_deref(),
        args.input.lenient_numbers,
    )?;
    let clients = config::planning_clients(config, &args.provider)?;
    let mut builder = SmsGate::builder()
        .number_policy(numbers.clone())
        .allow_duplicates(true);
    for client in &clients {
        builder = builder.provider(Arc::clone(client));
    }
    let gate = route(builder, config, &clients)?.build();
    let rows = input(&args.input)?;
    plan_only(
        &gate,
        &args.input,
        rows,
        Plan::Preview { json: args.json },
        &numbers,
    )
}

/// Sends every row and writes one outcome line per row as its request settles; returns the
/// exit code.
async fn send_rows(
    gate: &SmsGate,
    args: &SendArgs,
    mut rows: Box<dyn Iterator<Item = Slot>>,
    numbers: &NumberPolicy,
    ledger: Option<ledger::LedgerRun>,
    refusals: Refusals,
) -> Result<u8, CliError> {
    let stop = StopSignal::new();
    let signals = Signals::listen(stop.clone())?;
    let mut out = Outcomes::open(args, refusals)?;
    let rows_given = args
        .input
        .csv
        .is_none()
        .then_some(args.input.to.len() as u64);
    let mut progress = progress::Progress::new(
        rows_given,
        args.input.csv.as_deref(),
        QUIET.load(std::sync::atomic::Ordering::Relaxed),
    );
    let mut input = Input {
        rows: &mut rows,
        seen: DuplicateWindow::for_run(&args.input, numbers),
        index: 0,
        without_plus: None,
        allow_duplicates: args.input.allow_duplicates,
        deferred: Vec::new(),
    };
    let mut ledger_failed: Option<String> = None;

    // Each chunk is read (and, with a ledger, recorded and marked in flight) while the one
    // before it is sent: the ledger's work overlaps the requests instead of adding to them.
    let mut next = Some(input.prepare(ledger.as_ref(), &stop).await);
    while let Some(chunk) = next.take() {
        for row in &chunk.lines {
            out.write(row);
        }
        progress.update(out.summary.tally());
        if let Some(err) = &chunk.ledger_failed {
            ledger_failed = Some(err.clone());
            stop.stop();
        }
        // Stopped (a signal, or an output failed): the chunk is not sent, and says so in every
        // output still writable.
        if !out.flush() || stop.is_stopped() {
            stop.stop();
            chunk.not_sent(&mut out, ledger.as_ref());
            break;
        }
        if chunk.last && chunk.messages.is_empty() {
            break;
        }
        // Outcomes are written and flushed as each request settles; a write failure stops
        // the send at once (no new request starts).
        let places = &chunk.places;
        let sending = gate.send_streaming(&chunk.messages, &stop, |settled| {
            if let Some(run) = &ledger {
                run.record(settled, places);
                if run.failed() {
                    stop.stop();
                }
            }
            for delivery in settled {
                let (index, line) = places[delivery.index];
                out.write(&Row {
                    index,
                    line,
                    to: delivery.to.clone(),
                    client_ref: delivery.client_ref.clone(),
                    delivery: Some(delivery.clone()),
                    unreadable: None,
                    not_sent: None,
                    recorded: None,
                });
            }
            if !out.flush() {
                stop.stop();
            }
            progress.update(out.summary.tally());
        });
        let preparing = async {
            if chunk.last {
                None
            } else {
                Some(input.prepare(ledger.as_ref(), &stop).await)
            }
        };
        let (_, prepared) = tokio::join!(sending, preparing);
        next = prepared;
    }
    if stop.is_stopped() {
        // A chunk prepared while the last one was sending is never sent.
        if let Some(chunk) = next.take() {
            for row in &chunk.lines {
                out.write(row);
            }
            chunk.not_sent(&mut out, ledger.as_ref());
        }
        // Chunks skipped while another worker took them were never taken by this one.
        for (messages, places) in input.deferred.drain(..) {
            for row in not_sent_rows(messages, places) {
                out.write(&row);
            }
        }
        write_unread(
            input.rows,
            &mut out,
            &mut input.seen,
            input.index,
            args.input.allow_duplicates,
        );
    }
    progress.finish();
    if let Some(run) = ledger
        && let Err(err) = run.finish().await
    {
        ledger_failed.get_or_insert(err.to_string());
    }
    let (seen, without_plus) = (input.seen, input.without_plus);
    if let Some(err) = ledger_failed {
        // The outputs hold every line; the ledger lacks some outcomes: a rerun of the job
        // treats their rows as unknown, never resends them.
        note(format_args!(
            "the ledger could not record every outcome: {err}"
        ));
        conclude(&mut out, &seen, without_plus.as_deref(), numbers, &signals)?;
        return Ok(OUTPUT_FAILED);
    }
    conclude(&mut out, &seen, without_plus.as_deref(), numbers, &signals)
}

/// The rows of a send still to read, and what reading them has learnt so far.
struct Input<'a> {
    rows: &'a mut Box<dyn Iterator<Item = Slot>>,
    seen: DuplicateWindow,
    /// The input position of the next row.
    index: usize,
    /// A number given without `+` while no default region is set (the run says how it was
    /// read).
    without_plus: Option<Arc<str>>,
    allow_duplicates: bool,
    /// Chunks read while another worker was taking them: taken before the next chunk is read.
    deferred: Vec<SkippedChunk>,
}

/// A chunk's messages with their input places (index, line), not taken yet.
type SkippedChunk = (Vec<Message>, Vec<(usize, Option<u64>)>);

/// The lines of messages never started (at their input places): not sent, safe to send again.
fn not_sent_rows(
    messages: Vec<Message>,
    places: Vec<(usize, Option<u64>)>,
) -> impl Iterator<Item = Row> {
    messages
        .into_iter()
        .zip(places)
        .map(|(message, (index, line))| Row::not_sent(index, line, message.to, message.client_ref))
}

/// A chunk of rows ready to send: read and, with a ledger, recorded and marked in flight.
struct Chunk {
    messages: Vec<Message>,
    /// Each message's input position and line.
    places: Vec<(usize, Option<u64>)>,
    /// Lines known before sending: unreadable rows, rows an earlier run settled.
    lines: Vec<Row>,
    /// Input rows read for it.
    read: usize,
    /// Nothing is left after it (the input is through, and no stopped worker left rows).
    last: bool,
    /// The ledger holds its messages in flight (a chunk never sent must be released).
    in_flight: bool,
    /// The ledger failed: this chunk's rows are not sent and the send stops.
    ledger_failed: Option<String>,
}

impl Chunk {
    /// The messages this worker took (recorded and marked in flight), with their input places.
    fn taken(&mut self, messages: Vec<Message>, places: Vec<(usize, Option<u64>)>) {
        self.messages = messages;
        self.places = places;
        self.in_flight = true;
    }

    /// The ledger refused to take `messages`: nothing of them was started, so each is written
    /// as not sent (safe to send again), and the run ends.
    fn refused(
        &mut self,
        messages: Vec<Message>,
        places: Vec<(usize, Option<u64>)>,
        err: &smsgate_ledger::LedgerError,
    ) {
        self.lines.extend(not_sent_rows(messages, places));
        self.ledger_failed = Some(err.to_string());
        self.last = true;
    }

    /// Writes this chunk's messages as not sent (the send stopped before them) and tells the
    /// ledger, which had marked them in flight.
    fn not_sent(self, out: &mut Outcomes, ledger: Option<&ledger::LedgerRun>) {
        if let (Some(run), true) = (ledger, self.in_flight) {
            run.unsent(&self.places, "the send stopped before it was sent");
        }
        for row in not_sent_rows(self.messages, self.places) {
            out.write(&row);
        }
    }
}

impl Input<'_> {
    /// Reads the next chunk; with a ledger, records it and takes this worker's share (marked
    /// in flight, committed before any of its requests leaves). Through the input, with a
    /// ledger other workers share: the rows dead workers left, until none is left.
    async fn prepare(&mut self, ledger: Option<&ledger::LedgerRun>, stop: &StopSignal) -> Chunk {
        let size = ledger.map_or(CHUNK, ledger::LedgerRun::chunk);
        let mut chunk = Chunk {
            messages: Vec::new(),
            places: Vec::new(),
            lines: Vec::new(),
            read: 0,
            last: false,
            in_flight: false,
            ledger_failed: None,
        };
        // Chunks skipped while another worker was taking them: it has loaded them since (a
        // chunk was sent meanwhile), so they are taken (waiting if need be) before reading on.
        if let Some(run) = ledger
            && !stop.is_stopped()
        {
            while let Some((messages, places)) = self.deferred.pop() {
                let lines = &mut chunk.lines;
                match run
                    .take_chunk(&messages, &places, &mut |row| lines.push(row))
                    .await
                {
                    Ok((mine, _)) if mine.is_empty() => {}
                    Ok((mine, mine_places)) => {
                        chunk.taken(mine, mine_places);
                        return chunk;
                    }
                    Err(err) => {
                        chunk.refused(messages, places, &err);
                        return chunk;
                    }
                }
            }
        }
        // With a ledger other workers share, a chunk they hold already gives this worker
        // nothing to send: it reads on (while its current chunk is sending) to the next one
        // that does, keeping the lines of rows settled earlier, up to a chunk's worth.
        loop {
            let mut messages = Vec::with_capacity(size);
            let mut places = Vec::with_capacity(size);
            let mut read = 0;
            // Rows refused before sending are final at once.
            for slot in self.rows.by_ref().take(size) {
                match check_repeat(slot, &mut self.seen, self.index, self.allow_duplicates) {
                    Slot::Message { line, message } => {
                        if !message.to.trim_start().starts_with('+') {
                            self.without_plus
                                .get_or_insert_with(|| Arc::clone(&message.to));
                        }
                        messages.push(message);
                        places.push((self.index, line));
                    }
                    unreadable @ Slot::Unreadable { .. } => {
                        chunk.lines.push(unsent_row(self.index, unreadable));
                    }
                }
                self.index += 1;
                read += 1;
            }
            chunk.read += read;
            let Some(run) = ledger else {
                chunk.messages = messages;
                chunk.places = places;
                chunk.last = read == 0;
                return chunk;
            };
            if stop.is_stopped() {
                // Not recorded: written as not sent by the caller.
                chunk.messages = messages;
                chunk.places = places;
                return chunk;
            }
            if read == 0 && chunk.read > 0 {
                // Through the input after skipping: the lines first, released rows next time.
                return chunk;
            }
            let taken = if read == 0 {
                chunk.last = true;
                match run.take_released(stop).await {
                    Ok((left, _)) if left.is_empty() => return chunk,
                    taken => {
                        chunk.last = false;
                        taken
                    }
                }
            } else {
                let lines = &mut chunk.lines;
                match run
                    .try_take_chunk(&messages, &places, &mut |row| lines.push(row))
                    .await
                {
                    Ok(Some(taken)) => Ok(taken),
                    Ok(None) => {
                        // Another worker is loading this chunk: read on, take it later.
                        self.deferred.push((messages, places));
                        continue;
                    }
                    Err(err) => Err(err),
                }
            };
            match taken {
                Ok((mine, mine_places)) => {
                    if mine.is_empty() && read > 0 && chunk.lines.len() < size {
                        continue;
                    }
                    chunk.taken(mine, mine_places);
                    return chunk;
                }
                Err(err) => {
                    chunk.refused(messages, places, &err);
                    return chunk;
                }
            }
        }
    }
}

/// Stopped (a signal, or an output failed): every row never read still gets its line, in an
/// output still writable. With none left, one note says where the unsent rows begin.
fn write_unread(
    rows: &mut dyn Iterator<Item = Slot>,
    out: &mut Outcomes,
    seen: &mut DuplicateWindow,
    mut index: usize,
    allow_duplicates: bool,
) {
    let first_unread = index;
    let mut unread = 0u64;
    for slot in rows {
        let slot = check_repeat(slot, seen, index, allow_duplicates);
        if out.any_left() {
            out.write(&unsent_row(index, slot));
        } else {
            out.summary.add(&unsent_row(index, slot));
            unread += 1;
        }
        index += 1;
    }
    if unread > 0 {
        note(format_args!(
            "{unread} row(s) from input position {first_unread} on were not sent (not_sent)"
        ));
    }
}

/// The end of a send: the summary (or the output failure), the run's notes, the exit code.
fn conclude(
    out: &mut Outcomes,
    seen: &DuplicateWindow,
    without_plus: Option<&str>,
    numbers: &NumberPolicy,
    signals: &Signals,
) -> Result<u8, CliError> {
    out.flush();
    for warning in out.refusals.warnings() {
        if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            note(format_args!("{warning}"));
        }
    }
    if let Some(failure) = &out.failed {
        note(format_args!(
            "{failure}; sending stopped, outcomes of this run:"
        ));
        let _ = out.summary.write(&mut std::io::stderr());
        return Ok(OUTPUT_FAILED);
    }
    let summary_written = match &mut out.stdout {
        Some(stdout) if !stdout.json => writeln!(stdout.writer)
            .and_then(|()| out.summary.write(&mut stdout.writer))
            .and_then(|()| stdout.writer.flush()),
        _ => out.summary.write(&mut std::io::stderr()),
    };
    if let Err(err) = summary_written {
        note(format_args!("cannot write the summary: {err}"));
        return Ok(OUTPUT_FAILED);
    }
    if seen.overflowed {
        note(format_args!(
            "the repeat check covered the last {} distinct (number, content) pairs; \
             repeats further apart were sent again (raise --duplicate-window to cover the file)",
            seen.capacity
        ));
    }
    if let (Some(example), None) = (without_plus, numbers.default_region()) {
        note(format_args!(
            "numbers without + (such as {:?}) were read with their country code first; if the input \
             holds national numbers, pass --default-region (a national number can also be a valid \
             number of another country)",
            smsgate_transport::redact::escape_controls(example)
        ));
    }
    Ok(signals
        .exit_code()
        .unwrap_or_else(|| out.summary.exit_code()))
}

/// Exit code when the outcomes could not be written.
const OUTPUT_FAILED: u8 = 4;

/// What [`plan_only`] shows.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// `preview`: each message's segments, number and text, then the requests (JSON lines
    /// with `json`).
    Preview { json: bool },
    /// `send --dry-run`: the exact requests, signatures redacted.
    Requests,
}

/// `preview` and `send --dry-run`: plans chunk by chunk, sends nothing.
fn plan_only(
    gate: &SmsGate,
    args: &InputArgs,
    mut rows: Box<dyn Iterator<Item = Slot>>,
    plan: Plan,
    numbers: &NumberPolicy,
) -> Result<u8, CliError> {
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let mut seen = DuplicateWindow::for_run(args, numbers);
    let mut index = 0usize;
    let io = |err: std::io::Error| CliError::Io(format!("cannot write the results: {err}"));
    // Round-robin and weighted turns carry from chunk to chunk, as a send of the file takes them.
    let mut cursor = smsgate::RouteCursor::default();
    loop {
        let mut chunk: Vec<(usize, Slot)> = Vec::with_capacity(CHUNK);
        for slot in rows.by_ref().take(CHUNK) {
            chunk.push((
                index,
                check_repeat(slot, &mut seen, index, args.allow_duplicates),
            ));
            index += 1;
        }
        if chunk.is_empty() {
            break;
        }
        let messages: Vec<Message> = chunk
            .iter()
            .filter_map(|(_, slot)| match slot {
                Slot::Message { message, .. } => Some(message.clone()),
                Slot::Unreadable { .. } => None,
            })
            .collect();
        if let Plan::Preview { json } = plan {
            preview(gate, &chunk, &messages, &mut cursor, json, &mut stdout).map_err(io)?;
            continue;
        }
        for planned in gate.dry_run_continuing(&messages, &mut cursor) {
            writeln!(
                stdout,
                "# {} — {} message(s)",
                planned.provider,
                planned.messages.len()
            )
            .map_err(io)?;
            match planned.request {
                Ok(request) => writeln!(stdout, "{}\n", redact(&request)).map_err(io)?,
                Err(reason) => writeln!(stdout, "(cannot show: {reason})\n").map_err(io)?,
            }
        }
    }
    stdout.flush().map_err(io)?;
    Ok(0)
}

/// The repeat check: the most recent `capacity` distinct (number, content) pairs and the index
/// of each one's first occurrence. Memory is bounded by `capacity`, not by the input's size.
#[derive(Debug)]
struct DuplicateWindow {
    capacity: usize,
    first: HashMap<(u64, u64), usize>,
    order: VecDeque<(u64, u64)>,
    /// Whether a pair was ever forgotten to make room (the check then no longer covers the
    /// whole input).
    overflowed: bool,
    /// How numbers are read (the gate's own policy: the same number spelled two ways is one).
    numbers: NumberPolicy,
}

impl DuplicateWindow {
    /// The window `args` ask for (none with `--allow-duplicates`).
    fn for_run(args: &InputArgs, numbers: &NumberPolicy) -> Self {
        let capacity = if args.allow_duplicates {
            0
        } else {
            args.duplicate_window
        };
        Self::new(capacity, numbers.clone())
    }

    fn new(capacity: usize, numbers: NumberPolicy) -> Self {
        // Room for twice the window up front: a full window then forgets and remembers pairs
        // without ever growing the table (removals leave tombstones; at most half-full, the
        // table is cleaned in place instead of doubled), so memory is the same after 100 000
        // rows as after 10 million. Beyond a few million pairs, the table grows as it fills.
        let room = capacity.min(1 << 22).saturating_mul(2);
        Self {
            capacity,
            first: HashMap::with_capacity(room),
            order: VecDeque::with_capacity(capacity.min(1 << 22)),
            overflowed: false,
            numbers,
        }
    }

    /// The first index of the same (number, content) within the window, remembering this one
    /// if new. The number is the key itself (its digits, exact); the content is hashed, so
    /// two different texts to one number collide only with a 64-bit hash collision.
    fn first_of(&mut self, message: &Message, index: usize) -> Option<usize> {
        if self.capacity == 0 {
            return None;
        }
        let number = self.numbers.normalize(&message.to).ok()?;
        let key = (number_key(&number), content_hash(&message.content));
        if let Some(&first) = self.first.get(&key) {
            return Some(first);
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.first.remove(&oldest);
            }
            self.overflowed = true;
        }
        self.order.push_back(key);
        self.first.insert(key, index);
        None
    }
}

/// A normalised number (at most 15 digits) as an exact integer: its value and its length.
fn number_key(digits: &str) -> u64 {
    let value = digits.bytes().fold(0u64, |acc, d| {
        acc.wrapping_mul(10)
            .wrapping_add(u64::from(d.wrapping_sub(b'0')))
    });
    (value << 4) | (digits.len() as u64 & 0xf)
}

fn content_hash(content: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    content.hash(&mut hasher);
    hasher.finish()
}

/// The request as text, with signature headers redacted.
fn redact(request: &smsgate_transport::wire::WireRequest) -> String {
    let mut request = request.clone();
    for (name, value) in &mut request.headers {
        if name.eq_ignore_ascii_case("sign") {
            *value = "[redacted]".to_owned();
        }
    }
    request.to_string()
}

/// One chunk's preview: a line (or JSON object) per row, then per planned request.
fn preview(
    gate: &SmsGate,
    chunk: &[(usize, Slot)],
    messages: &[Message],
    cursor: &mut smsgate::RouteCursor,
    json: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let preview = gate.preview_continuing(messages, cursor);
    let mut planned = preview.messages.iter();
    for (index, slot) in chunk {
        match slot {
            Slot::Unreadable { reason, line, to } => {
                if json {
                    let value = serde_json::json!({
                        "index": index, "line": line, "to": &**to,
                        "status": "rejected", "reason": reason,
                    });
                    writeln!(out, "{value}")?;
                } else {
                    writeln!(out, "{index:>6}  not sent: {reason}")?;
                }
            }
            Slot::Message { message, line } => {
                let Some(p) = planned.next() else { continue };
                let encoding = match p.segments.encoding {
                    smsgate::Encoding::Gsm7 => "GSM-7",
                    smsgate::Encoding::Ucs2 => "UCS-2",
                };
                if json {
                    let mut value = serde_json::json!({
                        "index": index, "line": line, "to": &*message.to,
                        "number": p.number.as_deref(), "text": &*message.content,
                        "parts": p.segments.parts, "encoding": encoding,
                        "units": p.segments.units,
                    });
                    if let Some(reason) = &p.rejected {
                        value["status"] = serde_json::json!("rejected");
                        value["reason"] = serde_json::json!(reason.to_string());
                    }
                    writeln!(out, "{value}")?;
                    continue;
                }
                let verdict = match &p.rejected {
                    Some(reason) => format!("not sent: {reason}"),
                    None => format!(
                        "{} part(s), {encoding}, {} units",
                        p.segments.parts, p.segments.units
                    ),
                };
                // The text as it will be sent (a template filled), quoted with its control
                // characters and edge whitespace visible.
                writeln!(
                    out,
                    "{index:>6}  {:<20} {:<16} {verdict}  {:?}",
                    message.to,
                    p.number.as_deref().unwrap_or("-"),
                    &*message.content
                )?;
            }
        }
    }
    for request in &preview.requests {
        let kind = if request.uniform { "one text" } else { "batch" };
        if json {
            let value = serde_json::json!({"request": {
                "provider": request.provider.as_str(), "kind": kind,
                "messages": request.messages.len(),
            }});
            writeln!(out, "{value}")?;
        } else {
            writeln!(
                out,
                "request: {} ({kind}), {} message(s)",
                request.provider,
                request.messages.len()
            )?;
        }
    }
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"total_parts": preview.total_parts()})
        )
    } else {
        writeln!(out, "total: {} SMS part(s)", preview.total_parts())
    }
}

/// Every provider's balance; a provider whose API has no balance query is skipped with a note.
async fn balance(config: &ConfigFile, target: &TargetArgs) -> Result<u8, CliError> {
    let sandbox = maybe_sandbox(target).await?;
    let mut code = 0;
    let mut skipped = Vec::new();
    let mut queried = false;
    for client in clients(config, &target.provider, sandbox.as_ref())? {
        match client.balance().await {
            Ok(balance) => {
                queried = true;
                print_line(&format!("{:<12} {}", client.name(), balance.amount))?;
            }
            Err(QueryError::NotOffered { vendor, .. }) => skipped.push(vendor),
            Err(err) => {
                queried = true;
                print_line(&format!("{:<12} unavailable: {err}", client.name()))?;
                code = 1;
            }
        }
    }
    if !skipped.is_empty() {
        note(format_args!(
            "skipped {}: no balance query in the vendor's API",
            skipped.join(", ")
        ));
    }
    if !queried {
        return Err(CliError::Usage(
            "none of the providers has a balance query".to_owned(),
        ));
    }
    Ok(code)
}

/// The delivery status of `message_ids` from every provider that can be polled (through the
/// facade's polling); providers that only push their reports are skipped.
async fn report(config: &ConfigFile, args: &ReportArgs) -> Result<u8, CliError> {
    if args.target.sandbox {
        return Err(CliError::Usage(
            "report --sandbox would ask a simulator started empty, which knows no message id: \
             run `smsgate sandbox` in another terminal, send to it, and ask it with the \
             environment it prints (its base URLs and credentials)"
                .to_owned(),
        ));
    }
    let clients = clients(config, &args.target.provider, None)?;
    let mut statuses = Vec::new();
    let mut pushing = Vec::new();
    let mut asked = Vec::new();
    let mut failed = false;
    for client in &clients {
        match smsgate::provider::poll_status(client.as_ref(), &args.message_ids).await {
            Ok(found) => {
                asked.push(client.name().to_owned());
                statuses.extend(found);
            }
            Err(QueryError::NotOffered { vendor, .. }) => pushing.push(vendor),
            Err(err) => {
                failed = true;
                note(format_args!(
                    "{}: {}",
                    client.name(),
                    smsgate_transport::redact::escape_controls(&err.to_string())
                ));
            }
        }
    }
    if pushing.len() == clients.len() {
        return Err(CliError::Usage(format!(
            "none of the providers can be polled for delivery status (reports of {} are pushed, not polled)",
            pushing.join(", ")
        )));
    }
    for status in &statuses {
        print_line(&format!(
            "{:<10} {:<22} {:<16} {} (vendor status {})",
            status.provider,
            status.message_id,
            status.number.as_deref().unwrap_or("-"),
            status.state,
            status.vendor_status
        ))?;
    }
    // An id no provider knows is said, never left out.
    let mut missing = 0;
    for id in &args.message_ids {
        if !statuses.iter().any(|s| &s.message_id == id) {
            missing += 1;
            print_line(&format!(
                "{:<10} {id:<22} {:<16} not found (asked {})",
                "-",
                "-",
                if asked.is_empty() {
                    "no provider successfully".to_owned()
                } else {
                    asked.join(", ")
                }
            ))?;
        }
    }
    if !pushing.is_empty() {
        note(format_args!(
            "not asked: {} (their reports are pushed, not polled: `smsgate receive`)",
            pushing.join(", ")
        ));
    }
    Ok(if missing > 0 || failed { 1 } else { 0 })
}

/// `status`: the job's messages per state and provider; exit 2 when the ledger holds no such
/// job.
async fn status(args: &StatusArgs) -> Result<u8, CliError> {
    let ledger = smsgate_ledger::open(&args.ledger, smsgate_ledger::TextPolicy::Keep)
        .await
        .map_err(|err| CliError::Config(err.to_string()))?;
    let counts = ledger
        .counts(&args.job)
        .await
        .map_err(|err| CliError::Config(err.to_string()))?;
    if counts.is_empty() {
        return Err(CliError::Usage(format!(
            "the ledger holds no job {:?}",
            smsgate_transport::redact::escape_controls(&args.job)
        )));
    }
    let total: u64 = counts.iter().map(|c| c.messages).sum();
    if args.json {
        let rows: Vec<serde_json::Value> = counts
            .iter()
            .map(|c| {
                serde_json::json!({"state": c.state.as_str(), "provider": c.provider, "messages": c.messages})
            })
            .collect();
        let line = serde_json::json!({"job": args.job, "total": total, "counts": rows});
        print_line(&line.to_string())?;
        return Ok(0);
    }
    print_line(&format!(
        "{:<12} {:<12} {:>10}",
        "state", "provider", "messages"
    ))?;
    for c in &counts {
        print_line(&format!(
            "{:<12} {:<12} {:>10}",
            c.state.as_str(),
            c.provider.as_deref().unwrap_or("-"),
            c.messages
        ))?;
    }
    print_line(&format!("{:<12} {:<12} {total:>10}", "total", ""))?;
    Ok(0)
}

async fn sandbox(file: &ConfigFile, args: &SandboxArgs) -> Result<u8, CliError> {
    let mut config = SandboxConfig {
        faults: parse_faults(&args.faults)?,
        seed: args.seed,
        push_url: args.push_url.clone(),
        inbox_capacity: args.keep,
        ..SandboxConfig::default()
    };
    sandbox_balance(&mut config, args.balance);
    if let Some(url) = &args.push_url {
        config::check_url(url)
            .map_err(|reason| CliError::Usage(format!("--push-url: {reason}")))?;
    }
    let secret_from_file = sandbox_accounts(file, &mut config);
    let listen = std::net::SocketAddr::new(args.bind, args.port);
    let sandbox = Sandbox::bind(listen, config)
        .await
        .map_err(|err| CliError::Io(format!("cannot listen on {listen}: {err}")))?;
    print_banner(&sandbox, &secret_from_file);
    if !args.bind.is_loopback() {
        note(format_args!(
            "warning: listening on {listen}, not loopback: the inbox at {} shows every message text (and the redacted requests) to anyone who can reach this port",
            sandbox.inbox_url()
        ));
    }
    let pushing = sandbox.config().push_url.is_some();
    // Until a signal: every 10 s, a note when delivery-report pushes were dropped since.
    let signal = shutdown_signal();
    tokio::pin!(signal);
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(10));
    let mut dropped = 0;
    loop {
        tokio::select! {
            stopped = &mut signal => {
                stopped?;
                break;
            }
            _ = ticker.tick(), if pushing => {
                let stats = sandbox.push_stats();
                if stats.dropped() > dropped {
                    note(format_args!(
                        "{} delivery-report push(es) dropped so far ({} queue full, {} failed after retries); {} delivered",
                        stats.dropped(),
                        stats.dropped_queue_full,
                        stats.dropped_failed,
                        stats.delivered
                    ));
                    dropped = stats.dropped();
                }
            }
        }
    }
    let stats = sandbox.shutdown().await;
    if pushing {
        note(format_args!(
            "delivery-report pushes: {} delivered, {} retries, {} dropped ({} queue full, {} failed after retries, {} at shutdown)",
            stats.delivered,
            stats.retried,
            stats.dropped(),
            stats.dropped_queue_full,
            stats.dropped_failed,
            stats.dropped_at_shutdown
        ));
    }
    Ok(0)
}

/// The simulator's banner: where it listens, its credentials, how to stop it. Best effort: a
/// closed stdout (a pipe whose reader went away) must not stop the server.
fn print_banner(sandbox: &Sandbox, secret_from_file: &[&'static str]) {
    let url = sandbox.url();
    let mut out = std::io::stdout();
    let names: Vec<&str> = smsgate::registry().iter().map(|v| v.name).collect();
    let _ = writeln!(
        out,
        "smsgate sandbox listening on {url} ({})",
        names.join(", ")
    );
    let _ = writeln!(out, "credentials (sandbox only):");
    // A secret is printed only when the simulator made it up; one from the config file is the
    // user's, and may be a real one.
    for line in sandbox_exports(sandbox.config(), url, secret_from_file) {
        let _ = writeln!(out, "  {line}");
    }
    if !secret_from_file.is_empty() {
        let _ = writeln!(
            out,
            "  (the secrets of {} are those of the --config file, not shown)",
            secret_from_file.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "inbox: {} (every message received; JSON API under /_sandbox/messages)",
        sandbox.inbox_url()
    );
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
}

/// Resolves at the first SIGINT or SIGTERM (Ctrl-C elsewhere).
pub(crate) async fn shutdown_signal() -> Result<(), CliError> {
    StopSignals::install()?.next().await;
    Ok(())
}

/// SIGINT and SIGTERM as they come (Ctrl-C where there are no Unix signals).
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Takes the signals over from their default action (ending the process).
    fn install() -> Result<Self, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let cannot =
                |err: std::io::Error| CliError::Io(format!("cannot handle signals: {err}"));
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).map_err(cannot)?,
                terminate: signal(SignalKind::terminate()).map_err(cannot)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next signal's exit code (130 SIGINT, 143 SIGTERM); `None` once none can come.
    async fn next(&mut self) -> Option<u8> {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = self.interrupt.recv() => Some(130),
                Some(()) = self.terminate.recv() => Some(143),
                else => None,
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.ok().map(|()| 130)
        }
    }
}
