//! `cargo xtask bench`: items 4 (memory), 5 (compile cost) and 7 (the ledger) of BENCHMARKS.md,
//! which need processes and clean builds rather than a benchmark harness.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The release `smsgate` cargo built: under `CARGO_TARGET_DIR` when set, else the workspace's
/// `target/`.
fn smsgate_binary(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("release/smsgate")
}

/// A scratch directory under the system's temporary directory, made empty; removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `rows` rows of `to,content`, each number distinct.
fn write_csv(path: &Path, rows: usize) -> Result<(), String> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| e.to_string())?);
    writeln!(file, "to,content").map_err(|e| e.to_string())?;
    for i in 0..rows {
        writeln!(file, "+86 13{i:09},Your code is {}", i % 9973).map_err(|e| e.to_string())?;
    }
    file.flush().map_err(|e| e.to_string())
}

/// `smsgate sandbox` in its own process (its memory and CPU are not the CLI's), killed on drop.
struct Simulator {
    child: Child,
    url: String,
}

impl Simulator {
    /// Starts it on a free port with a balance no run exhausts, plus `extra` arguments
    /// (`--fault latency=50ms`), and reads its URL from the banner.
    fn start(binary: &Path, extra: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["sandbox", "--port", "0", "--balance", "1000000000"])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let url = (|| {
            let stdout = child.stdout.take().ok_or("no sandbox output")?;
            let mut lines = BufReader::new(stdout).lines();
            let first = lines
                .next()
                .ok_or("sandbox printed nothing")?
                .map_err(|e| e.to_string())?;
            // Keep reading what it prints, so that it never writes into a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            first
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .map(str::to_owned)
                .ok_or_else(|| "no URL in the sandbox banner".to_owned())
        })();
        match url {
            Ok(url) => Ok(Self { child, url }),
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(err)
            }
        }
    }

    /// `command` (`smsgate`, or a program that runs it) given `send --provider nxcloud --csv CSV`
    /// against this simulator; the caller adds the rest of the arguments.
    fn send(&self, mut command: Command, csv: &Path) -> Command {
        command
            .args(["send", "--provider", "nxcloud", "--csv"])
            .arg(csv)
            .env("NXCLOUD_ACCESS_KEY", "sandbox-nxcloud-key")
            .env("NXCLOUD_ACCESS_SECRET", "sandbox-nxcloud-secret")
            .env("NXCLOUD_APP_KEY", "sandbox-nxcloud-app")
            .env("NXCLOUD_BASE_URL", &self.url)
            .stdout(Stdio::null());
        command
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` to its end; an error names `what` and carries the end of its stderr.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    check_exit(&output, what)
}

fn check_exit(output: &std::process::Output, what: &str) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    Err(format!(
        "{what} failed ({}): {}",
        output.status,
        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
    ))
}

/// Peak RSS (KiB) of `smsgate send --csv` over `rows` rows, against a simulator running in its
/// own process (so that the simulator's memory is not counted).
pub fn csv_peak_rss(workspace: &Path, rows: usize, extra_args: &[&str]) -> Result<u64, String> {
    let binary = smsgate_binary(workspace);
    let dir = Scratch::new(&format!("smsgate-bench-{rows}"))?;
    let csv = dir.0.join("recipients.csv");
    write_csv(&csv, rows)?;
    let simulator = Simulator::start(&binary, &[])?;
    let mut time = Command::new("/usr/bin/time");
    time.args(["-f", "%M"]).arg(&binary);
    let output = simulator
        .send(time, &csv)
        .args(["--output", "/dev/null"])
        .args(extra_args)
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    drop(simulator);
    check_exit(&output, "smsgate send")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .rev()
        .find_map(|line| line.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("no peak RSS in: {stderr}"))
}

/// Peak RSS (KiB) of `smsgate send --csv` over `rows` rows recording into a fresh SQLite ledger.
pub fn csv_peak_rss_sqlite(workspace: &Path, rows: usize) -> Result<u64, String> {
    let dir = Scratch::new(&format!("smsgate-bench-ledger-{rows}"))?;
    let ledger = format!("sqlite:{}", dir.0.join("ledger.db").display());
    csv_peak_rss(
        workspace,
        rows,
        &[
            "--ledger",
            &ledger,
            "--job",
            &format!("bench-memory-{rows}"),
        ],
    )
}

/// One round of the SQLite throughput comparison: rows a second without and with a ledger.
pub struct Throughput {
    pub plain: f64,
    pub ledger: f64,
}

/// `rounds` rounds of `send --csv` over `rows` rows against a loopback simulator, once without
/// a ledger and once with a fresh SQLite ledger each (the order alternates between rounds); a
/// fresh simulator for every run, so that none pays for the messages an earlier one left.
pub fn sqlite_throughput(
    workspace: &Path,
    rows: usize,
    rounds: usize,
) -> Result<Vec<Throughput>, String> {
    let binary = smsgate_binary(workspace);
    let dir = Scratch::new("smsgate-bench-sqlite")?;
    let csv = dir.0.join("recipients.csv");
    write_csv(&csv, rows)?;
    let timed = |ledger: Option<usize>| -> Result<f64, String> {
        let simulator = Simulator::start(&binary, &[])?;
        let mut command = simulator.send(Command::new(&binary), &csv);
        command.args(["--output", "/dev/null"]);
        let db = dir.0.join(format!("ledger-{}", ledger.unwrap_or_default()));
        if let Some(round) = ledger {
            std::fs::create_dir_all(&db).map_err(|e| e.to_string())?;
            command
                .arg("--ledger")
                .arg(format!("sqlite:{}", db.join("ledger.db").display()))
                .args(["--job", &format!("bench-{round}")]);
        }
        let started = Instant::now();
        run(&mut command, "smsgate send")?;
        let secs = started.elapsed().as_secs_f64();
        // The database (and its -wal, -shm) goes at once: the disk is not the benchmark's.
        let _ = std::fs::remove_dir_all(&db);
        Ok(rows as f64 / secs)
    };
    let mut results = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (plain, ledger) = if round % 2 == 0 {
            let plain = timed(None)?;
            (plain, timed(Some(round))?)
        } else {
            let ledger = timed(Some(round))?;
            (timed(None)?, ledger)
        };
        println!(
            "round {}: without a ledger {plain:>8.0} rows/s, with SQLite {ledger:>8.0} rows/s, \
             ratio {:.2}x",
            round + 1,
            ledger / plain
        );
        results.push(Throughput { plain, ledger });
    }
    Ok(results)
}

/// The PostgreSQL workers comparison: the same file sent by one worker, then by three at once.
pub struct Scaling {
    pub rows: usize,
    pub one_secs: f64,
    pub three_secs: f64,
    /// When the three wrote their last outcome line (a worker through its input waits, polling,
    /// until the others' rows are settled: up to 5 s with the default lease).
    pub three_last_outcome_secs: f64,
}

/// Outcome lines a worker wrote for rows it sent itself: their input positions.
fn sent_positions(output: &Path) -> Result<Vec<u64>, String> {
    let text = std::fs::read_to_string(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let mut positions = Vec::new();
    for line in text.lines() {
        let row: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}: {e}", output.display()))?;
        // Rows another worker settled first are written back from the ledger (`recorded`).
        if row.get("recorded").is_some() {
            continue;
        }
        if row["status"] != "accepted" {
            return Err(format!(
                "{}: a row was not accepted: {line}",
                output.display()
            ));
        }
        positions.push(row["index"].as_u64().ok_or("an outcome without index")?);
    }
    Ok(positions)
}

/// `smsgate status --json` of `job`: messages per state, and the total.
fn job_counts(
    binary: &Path,
    ledger: &str,
    job: &str,
) -> Result<(BTreeMap<String, u64>, u64), String> {
    let output = Command::new(binary)
        .args(["status", "--ledger", ledger, "--job", job, "--json"])
        .output()
        .map_err(|e| format!("cannot run smsgate status: {e}"))?;
    check_exit(&output, "smsgate status")?;
    let status: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("smsgate status: {e}"))?;
    let mut counts = BTreeMap::new();
    for count in status["counts"].as_array().into_iter().flatten() {
        let state = count["state"].as_str().unwrap_or("?").to_owned();
        *counts.entry(state).or_default() += count["messages"].as_u64().unwrap_or(0);
    }
    Ok((counts, status["total"].as_u64().unwrap_or(0)))
}

/// Checks that job `job` holds every one of `rows` rows exactly once, each accepted.
fn check_job(binary: &Path, ledger: &str, job: &str, rows: usize) -> Result<(), String> {
    let (counts, total) = job_counts(binary, ledger, job)?;
    if total != rows as u64 || counts.get("accepted") != Some(&(rows as u64)) {
        return Err(format!(
            "job {job}: {total} messages, by state {counts:?}; expected {rows} accepted"
        ));
    }
    Ok(())
}

/// `rounds` rounds of `rows` rows sent through a PostgreSQL ledger against a simulator that
/// answers every request after `latency_ms`: by one worker (job `bench-one-…`) and by three
/// started at once on the same file (job `bench-three-…`), one then three in even rounds and
/// three then one in odd ones (neither always runs just after the other's writes, while the
/// database vacuums them). Every row must end with exactly one outcome: one accepted message in
/// the ledger, written by exactly one of the three.
pub fn postgres_scaling(
    workspace: &Path,
    postgres: &str,
    rows: usize,
    latency_ms: u64,
    rounds: usize,
) -> Result<Vec<Scaling>, String> {
    let binary = smsgate_binary(workspace);
    let dir = Scratch::new("smsgate-bench-postgres")?;
    let csv = dir.0.join("recipients.csv");
    write_csv(&csv, rows)?;
    // Jobs of their own, in case the database is one that outlives this run.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let latency = format!("latency={latency_ms}ms");
    let run = Workers {
        binary: &binary,
        postgres,
        csv: &csv,
        dir: &dir.0,
        rows,
        latency: &latency,
    };
    let mut results = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (one, three) = (
            format!("bench-one-{stamp}-{round}"),
            format!("bench-three-{stamp}-{round}"),
        );
        let (one_secs, (three_secs, last_outcome)) = if round % 2 == 0 {
            let one_secs = run.one(&one)?;
            (one_secs, run.three(&three)?)
        } else {
            let three_secs = run.three(&three)?;
            (run.one(&one)?, three_secs)
        };
        println!(
            "round {}: one worker {one_secs:.2} s, three {three_secs:.2} s (last outcome written \
             after {last_outcome:.2} s), speed-up {:.2}x",
            round + 1,
            one_secs / three_secs
        );
        results.push(Scaling {
            rows,
            one_secs,
            three_secs,
            three_last_outcome_secs: last_outcome,
        });
    }
    Ok(results)
}

/// What one round of the workers comparison runs on.
struct Workers<'a> {
    binary: &'a Path,
    postgres: &'a str,
    csv: &'a Path,
    dir: &'a Path,
    rows: usize,
    latency: &'a str,
}

impl Workers<'_> {
    /// Seconds one worker takes to send the file as `job`, against a fresh simulator.
    fn one(&self, job: &str) -> Result<f64, String> {
        let (binary, postgres, rows) = (self.binary, self.postgres, self.rows);
        let simulator = Simulator::start(binary, &["--fault", self.latency])?;
        let started = Instant::now();
        run(
            simulator.send(Command::new(binary), self.csv).args([
                "--output",
                "/dev/null",
                "--ledger",
                postgres,
                "--job",
                job,
            ]),
            "smsgate send (one worker)",
        )?;
        let one_secs = started.elapsed().as_secs_f64();
        drop(simulator);
        check_job(binary, postgres, job, rows)?;
        Ok(one_secs)
    }

    /// Seconds three workers started at once take to send the file as `job`, and when the last
    /// outcome line was written; checks that each row was sent by exactly one of them.
    fn three(&self, three: &str) -> Result<(f64, f64), String> {
        let (binary, postgres, rows, csv) = (self.binary, self.postgres, self.rows, self.csv);
        let simulator = Simulator::start(binary, &["--fault", self.latency])?;
        let outputs: Vec<PathBuf> = (0..3)
            .map(|k| self.dir.join(format!("worker-{k}.jsonl")))
            .collect();
        let logs: Vec<PathBuf> = (0..3)
            .map(|k| self.dir.join(format!("worker-{k}.log")))
            .collect();
        let (started, started_at) = (Instant::now(), std::time::SystemTime::now());
        let mut workers = Vec::new();
        for (output, log) in outputs.iter().zip(&logs) {
            let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
            let child = simulator
                .send(Command::new(binary), csv)
                .arg("--output")
                .arg(output)
                .args(["--ledger", postgres, "--job", three])
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start a worker: {e}"))?;
            workers.push(Some(child));
        }
        // When each one ends (polled), and whether it succeeded.
        let mut each = [0f64; 3];
        let mut failed = None;
        while workers.iter().any(Option::is_some) {
            std::thread::sleep(std::time::Duration::from_millis(10));
            for (k, slot) in workers.iter_mut().enumerate() {
                let Some(child) = slot else { continue };
                let Some(status) = child.try_wait().map_err(|e| e.to_string())? else {
                    continue;
                };
                each[k] = started.elapsed().as_secs_f64();
                *slot = None;
                if !status.success() {
                    let log = std::fs::read_to_string(&logs[k]).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(5).collect();
                    failed.get_or_insert(format!(
                        "worker {k} failed ({status}): {}",
                        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
                    ));
                }
            }
        }
        let three_secs = started.elapsed().as_secs_f64();
        drop(simulator);
        if let Some(err) = failed {
            return Err(err);
        }
        check_job(binary, postgres, three, rows)?;
        let mut last_outcome = 0f64;
        for output in &outputs {
            let written = std::fs::metadata(output)
                .and_then(|m| m.modified())
                .map_err(|e| format!("{}: {e}", output.display()))?;
            let after = written.duration_since(started_at).unwrap_or_default();
            last_outcome = last_outcome.max(after.as_secs_f64());
        }
        let mut sent_by = [0usize; 3];
        let mut seen = vec![false; rows];
        for (k, output) in outputs.iter().enumerate() {
            for position in sent_positions(output)? {
                let slot = seen
                    .get_mut(position as usize)
                    .ok_or_else(|| format!("position {position} is not in the file"))?;
                if std::mem::replace(slot, true) {
                    return Err(format!("row {position} was sent by two workers"));
                }
                sent_by[k] += 1;
            }
        }
        if let Some(missing) = seen.iter().position(|sent| !sent) {
            return Err(format!("row {missing} was sent by no worker"));
        }
        println!(
            "  three workers: each done after {}; sent {} + {} + {}",
            each.iter()
                .map(|s| format!("{s:.2} s"))
                .collect::<Vec<_>>()
                .join(", "),
            sent_by[0],
            sent_by[1],
            sent_by[2]
        );
        Ok((three_secs, last_outcome))
    }
}

/// Seconds of a clean `cargo build` of `package` in `manifest`'s workspace, in a fresh target
/// directory, offline (the registry cache is warm after the workspace build).
fn clean_build_secs(manifest: &Path, package: &str, target: &Path) -> Result<f64, String> {
    let _ = std::fs::remove_dir_all(target);
    let started = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "build",
            "--offline",
            "--quiet",
            "-p",
            package,
            "--manifest-path",
        ])
        .arg(manifest)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo build -p {package} failed"));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// A scratch crate `name` in `dir` whose library re-exports `uses`, depending on `dependencies`
/// (Cargo.toml lines), resolved from the workspace's lock file where it has them.
fn scratch_crate(
    workspace: &Path,
    dir: &Path,
    name: &str,
    dependencies: &str,
    uses: &str,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n{dependencies}\n[workspace]\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/lib.rs"), format!("pub use {{{uses}}};\n"))
        .map_err(|e| e.to_string())?;
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"))
        .map_err(|e| e.to_string())?;
    Ok(dir.join("Cargo.toml"))
}

/// (smsgate-nxcloud, floor) clean debug-build seconds. The floor is a scratch crate with only
/// reqwest + tokio + serde_json + md-5, resolved to the workspace's versions.
pub fn compile_cost(workspace: &Path) -> Result<(f64, f64), String> {
    let scratch = std::env::temp_dir().join("smsgate-compile-floor");
    let manifest = scratch_crate(
        workspace,
        &scratch,
        "compile-floor",
        // The TLS stack the SDK uses (rustls with ring), so that the ratio is the SDK's own cost.
        "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls-no-provider\"] }\n\
         rustls = { version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }\n\
         tokio = { version = \"1\", default-features = false, features = [\"rt\"] }\n\
         serde_json = \"1\"\nmd-5 = \"0.11\"\n",
        "md5, reqwest, rustls, serde_json, tokio",
    )?;
    let targets: PathBuf = std::env::temp_dir().join("smsgate-compile-targets");
    let floor = clean_build_secs(&manifest, "compile-floor", &targets.join("floor"))?;
    let sdk = clean_build_secs(
        &workspace.join("Cargo.toml"),
        "smsgate-nxcloud",
        &targets.join("sdk"),
    )?;
    let _ = std::fs::remove_dir_all(&targets);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok((sdk, floor))
}

/// The clean build of one database stack.
pub struct DriverCost {
    pub name: &'static str,
    pub secs: f64,
    /// Distinct packages in `cargo tree -e normal` (the scratch crate included).
    pub crates: usize,
    /// The same with build dependencies (`-e normal,build`).
    pub crates_with_build: usize,
    /// The versions resolved of the drivers and of the bundled SQLite (`sqlx v0.8.6`, ...).
    pub versions: Vec<String>,
}

/// Distinct packages `cargo tree --prefix none -e EDGES` lists for `manifest` (`name vX.Y.Z`).
fn tree(manifest: &Path, edges: &str) -> Result<std::collections::BTreeSet<String>, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["tree", "--offline", "--prefix", "none", "-e", edges])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .map_err(|e| e.to_string())?;
    check_exit(&output, "cargo tree")?;
    Ok(std::str::from_utf8(&output.stdout)
        .map_err(|e| e.to_string())?
        .lines()
        // A package listed again is marked ` (*)`, a proc-macro ` (proc-macro)`, a path one
        // ` (/its/path)`.
        .map(|line| line.split(" (").next().unwrap_or(line).trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect())
}

/// Why the ledger uses rusqlite + tokio-postgres rather than sqlx: a clean debug build of a
/// scratch crate depending on the ledger's two drivers (as `smsgate-ledger` declares them)
/// versus one depending on sqlx with the same two databases (its SQLite is bundled too), and
/// how many packages each pulls in. sqlx is fetched first when the registry cache lacks it (the
/// one step that may need the network); the builds are offline.
pub fn driver_cost(workspace: &Path) -> Result<[DriverCost; 2], String> {
    let root = Scratch::new("smsgate-compile-drivers")?;
    let tokio = "tokio = { version = \"1\", default-features = false, features = [\"rt\"] }\n";
    let stacks = [
        (
            "rusqlite + tokio-postgres",
            "drivers-ledger",
            format!(
                "rusqlite = {{ version = \"0.37\", features = [\"bundled\"] }}\n\
                 tokio-postgres = {{ version = \"0.7\", default-features = false, features = [\"runtime\"] }}\n{tokio}"
            ),
            "rusqlite, tokio, tokio_postgres",
        ),
        (
            "sqlx (sqlite + postgres)",
            "drivers-sqlx",
            format!(
                "sqlx = {{ version = \"0.8\", default-features = false, features = [\"runtime-tokio\", \"sqlite\", \"postgres\"] }}\n{tokio}"
            ),
            "sqlx, tokio",
        ),
    ];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut costs = Vec::new();
    for (label, name, dependencies, uses) in stacks {
        let manifest = scratch_crate(workspace, &root.0.join(name), name, &dependencies, uses)?;
        let fetch = |offline: bool| {
            Command::new(&cargo)
                .args(["fetch", "--quiet", "--manifest-path"])
                .arg(&manifest)
                .args(offline.then_some("--offline"))
                // An offline miss is expected (the online fetch follows); an online one is not.
                .stderr(if offline {
                    Stdio::null()
                } else {
                    Stdio::inherit()
                })
                .status()
                .is_ok_and(|s| s.success())
        };
        if !fetch(true) && !fetch(false) {
            return Err(format!(
                "cannot fetch the dependencies of {label} (offline, then online)"
            ));
        }
        let secs = clean_build_secs(&manifest, name, &root.0.join(format!("target-{name}")))?;
        let normal = tree(&manifest, "normal")?;
        let versions = normal
            .iter()
            .filter(|p| {
                ["sqlx ", "rusqlite ", "tokio-postgres ", "libsqlite3-sys "]
                    .iter()
                    .any(|name| p.starts_with(name))
            })
            .cloned()
            .collect();
        costs.push(DriverCost {
            name: label,
            secs,
            crates: normal.len(),
            crates_with_build: tree(&manifest, "normal,build")?.len(),
            versions,
        });
        let _ = std::fs::remove_dir_all(root.0.join(format!("target-{name}")));
    }
    costs
        .try_into()
        .map_err(|_| "two stacks expected".to_owned())
}
