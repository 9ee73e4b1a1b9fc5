//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The exit codes, as `--help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    every message accepted
  1    some rejected, or not sent (a stopped run's rows never sent: safe to send again)
  2    usage or configuration error (nothing sent)
  3    some outcomes unknown (the request may have reached the provider: never resend blindly)
  4    the outcomes could not be written (--output or standard output failed); sending stopped
  130  stopped by SIGINT, 143 stopped by SIGTERM: requests in flight settled, every row written
When several apply, the highest wins (4, then 130/143, then 3, then 1): after a stop, look for
`unknown` rows (a second signal abandons requests in flight as unknown) in the output.

Safety: redirects are never followed; vendor answers over 1 MiB are cut off (outcome unknown);
numbers are read with the libphonenumber numbering plan (+ and country code, or
--default-region); texts are sent byte-exact, C0 control characters (but tab, CR, LF) refused.";

/// `report`'s exit codes.
pub const REPORT_EXIT_CODES: &str = "\
Exit codes:
  0    every id found
  1    some id not found by any provider asked, or a provider's query failed (its error on stderr)
  2    usage or configuration error, or no provider can be polled (their reports are pushed:
       `smsgate receive`); --sandbox is refused (a simulator started empty knows no id)";

/// `balance`'s exit codes.
pub const BALANCE_EXIT_CODES: &str = "\
Exit codes:
  0    every provider with a balance query answered (those without one, such as nxcloud, are
       left out, said once on stderr)
  1    some provider's query failed (its error on the line)
  2    usage or configuration error, or none of the providers has a balance query";

/// Send SMS through itniotech, laaffic, nxcloud, Twilio and Vonage — or through the built-in
/// simulator.
#[derive(Debug, Parser)]
#[command(name = "smsgate", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// Configuration file (TOML): credentials, provider order, base URLs. See smsgate.example.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More log on standard error: -v what smsgate does (info), -vv with its requests (debug).
    /// RUST_LOG (such as `smsgate=debug,hyper=warn`) takes precedence when set.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Errors only: no progress, no warnings in the log (outcomes and the summary are still
    /// written).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send messages and print one outcome per message.
    #[command(after_help = EXIT_CODES)]
    Send(SendArgs),
    /// Show segments, numbers and texts as sent and the planned requests, without sending
    /// (no credentials needed).
    Preview(PreviewArgs),
    /// Show each provider's account balance.
    #[command(after_help = BALANCE_EXIT_CODES)]
    Balance(TargetArgs),
    /// Show the delivery status of provider message ids (an id no provider knows is printed as
    /// not found).
    #[command(after_help = REPORT_EXIT_CODES)]
    Report(ReportArgs),
    /// Run the simulator of every vendor until Ctrl-C; its root URL is the inbox of what it received.
    Sandbox(SandboxArgs),
    /// Show how many messages of a ledger job are in each state, per provider.
    Status(StatusArgs),
    /// Ask the providers what became of a ledger job's messages: poll accepted ones without a
    /// final report, look unknown ones up in what the vendor lists as received.
    Reconcile(ReconcileArgs),
    /// Receive every vendor's delivery reports into a ledger until Ctrl-C (one JSON line per
    /// report on standard output).
    Receive(ReceiveArgs),
}

/// `reconcile`: a job of a ledger, settled with the providers' answers.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The ledger: sqlite:PATH or postgres://user@host:port/db.
    #[arg(long, value_name = "URL")]
    pub ledger: String,
    /// The job.
    #[arg(long, value_name = "NAME")]
    pub job: String,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    /// Minutes after its send before a message the vendor does not list as received counts as
    /// never accepted (it becomes not_sent: a rerun sends it); until then it stays unknown.
    #[arg(long, default_value_t = 10, value_name = "MINUTES")]
    pub settle_after: u64,
}

/// `receive`: an HTTP server for delivery reports.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Address to listen on (a vendor must be able to reach it: behind a proxy or a tunnel,
    /// also give --public-url).
    #[arg(long, default_value = "127.0.0.1:8090", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The ledger reports are matched into: sqlite:PATH or postgres://user@host:port/db.
    #[arg(long, value_name = "URL")]
    pub ledger: String,
    /// The secret path token of vendors that do not sign their reports (at least 22 of
    /// A-Z a-z 0-9 - _); default: $SMSGATE_RECEIVE_TOKEN, else a new one, printed at start.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The URL vendors call, as they see it (https://hooks.example.com): what Twilio signs.
    /// Default: http://ADDR.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Largest report body taken, in bytes (larger: HTTP 413).
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    pub max_body: usize,
    /// Reports handled at once (more: HTTP 503, which vendors retry).
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub concurrency: usize,
}

/// `status`: a job of a ledger.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The ledger: sqlite:PATH or postgres://user@host:port/db.
    #[arg(long, value_name = "URL")]
    pub ledger: String,
    /// The job.
    #[arg(long, value_name = "NAME")]
    pub job: String,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The messages: `--to` and `--content`, or a CSV file; how numbers are read and repeats
/// flagged (`send` and `preview`).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Recipients, comma separated (E.164 such as +8613800138000, or digits with country code).
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "csv",
        conflicts_with = "csv"
    )]
    pub to: Vec<String>,
    /// The text, sent byte-exact. With --csv, a template: `{column}` is filled from each row's
    /// column of that name (`Hi {name}, your code is {code}`), `{{` and `}}` are literal braces;
    /// the file then needs no content column.
    #[arg(long, required_unless_present = "csv")]
    pub content: Option<String>,
    /// Sender id (with --to).
    #[arg(long)]
    pub sender_id: Option<String>,
    /// CSV file with columns to,content and optionally sender_id,client_ref; read as a stream, any size.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Send every repeated (number, content) pair instead of flagging repeats.
    #[arg(long)]
    pub allow_duplicates: bool,
    /// How many distinct (number, content) pairs the repeat check remembers: a repeat within
    /// that many earlier rows is flagged, one further back is sent again. Memory stays fixed
    /// (about 50 bytes a pair), whatever the file's size; raise it to cover a bigger file whole.
    /// At least 1 (use --allow-duplicates to switch the check off).
    #[arg(long, value_name = "ROWS", default_value_t = 100_000, value_parser = at_least_one_row)]
    pub duplicate_window: usize,
    /// Region (ISO 3166 code such as CN, GB) whose national numbers are accepted without a
    /// country code: `13800138000` with CN is sent as 8613800138000. Without it, a number needs
    /// `+` and its country code. Overrides `default_region` in the config file.
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
    /// Accept numbers of a possible length that the numbering-plan metadata does not (yet)
    /// know as valid (new ranges); off by default.
    #[arg(long)]
    pub lenient_numbers: bool,
}

/// Where messages come from and how they are sent.
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write one JSON outcome per line to FILE, as each request settles (`index` and `line` give
    /// the input position); flushed as they come, so a stopped run keeps every line.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print one JSON outcome per line on standard output instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print the requests that would be sent (secrets and signatures redacted), send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Requests in flight at once, over all providers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Record every message in a ledger (sqlite:PATH, or postgres://user@host:port/db for
    /// several workers): marked in flight before its request leaves, settled after. Running the
    /// same job again resumes: rows with an outcome are written again from the ledger, rows an
    /// earlier run left in flight are unknown (never resent), the rest are sent.
    #[arg(long, value_name = "URL")]
    pub ledger: Option<String>,
    /// The ledger job (default: the input file's name and a hash of its contents, or of the
    /// recipients and text given with --to).
    #[arg(long, value_name = "NAME", requires = "ledger")]
    pub job: Option<String>,
    /// Rows recorded and marked in flight together before they are sent. The next chunk is
    /// recorded while one is sent, so a crash leaves at most twice this many rows unknown
    /// (`smsgate reconcile` settles them); larger chunks send faster.
    #[arg(long, value_name = "ROWS", default_value_t = 1000, requires = "ledger", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub ledger_chunk: u64,
    /// Keep only the MD5 of each text in the ledger (texts may be personal data); rows a stopped
    /// worker left are then sent by a run that reads the input, not from the ledger.
    #[arg(long, requires = "ledger")]
    pub ledger_hash_text: bool,
    /// Seconds a worker's claim on its rows lasts without a heartbeat (renewed every third of
    /// it): a worker killed without a word leaves its unsent rows to the others after this.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, requires = "ledger", value_parser = clap::value_parser!(u64).range(3..))]
    pub lease: u64,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Which providers, and whether to use the simulator.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Providers in priority order (itniotech, laaffic, nxcloud), comma separated.
    #[arg(long, value_delimiter = ',')]
    pub provider: Vec<String>,
    /// Start the simulator in-process and use it with its own credentials (no account, no network).
    #[arg(long)]
    pub sandbox: bool,
    /// With --sandbox: a fault to inject (see `smsgate sandbox --help`).
    #[arg(long = "fault", value_name = "NAME=VALUE", requires = "sandbox")]
    pub faults: Vec<String>,
}

/// `smsgate preview`: what a send would do, sending nothing (no credentials needed: missing
/// ones are placeholders, said so).
#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object per message (then one per planned request) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Providers in priority order (default: those configured, else every vendor), comma
    /// separated.
    #[arg(long, value_delimiter = ',')]
    pub provider: Vec<String>,
}

/// `smsgate report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Provider message ids.
    #[arg(required = true)]
    pub message_ids: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// `smsgate sandbox`. Credentials are the defaults it prints, or those of the `--config` file's
/// `[itniotech]`, `[laaffic]` and `[nxcloud]` sections.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on. Anything but loopback lets whoever reaches the port read every
    /// message text in the inbox.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Messages the inbox (the page at the sandbox's URL, and /_sandbox/messages) keeps; older
    /// ones are dropped and counted. 0 keeps none.
    #[arg(long, value_name = "N", default_value_t = smsgate_sandbox::DEFAULT_INBOX_CAPACITY)]
    pub keep: usize,
    /// Seed of every random draw (faults, delivery results).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Starting balance of every sandbox account (a send costs 0.005 per SMS part).
    #[arg(long, default_value_t = 1000.0)]
    pub balance: f64,
    /// Push delivery reports to this URL.
    #[arg(long, value_name = "URL")]
    pub push_url: Option<String>,
    /// Faults: latency=200ms, http500=0.1, drop=0.05, malformed=0.05, reject=0.2, rate-limit=5 (per second).
    #[arg(long = "fault", value_name = "NAME=VALUE")]
    pub faults: Vec<String>,
}

/// `--duplicate-window`: a number of rows, at least 1 (0 would switch the check off silently).
fn at_least_one_row(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => {
            Err("0 would switch the repeat check off; use --allow-duplicates for that".to_owned())
        }
        Ok(rows) => Ok(rows),
        Err(err) => Err(format!("{value:?} is not a number of rows: {err}")),
    }
}
