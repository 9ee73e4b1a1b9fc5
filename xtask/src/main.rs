//! `cargo xtask`: workspace automation for smsgate.
//!
//! - `cargo xtask gen` regenerates `crates/smsgate-<vendor>/src/generated/` from `specs/`, and
//!   `crates/smsgate/src/generated/numbering_plan.tsv` from the `phonenumber` crate's metadata.
//! - `cargo xtask gen --check` fails, naming each stale file, when regeneration would change anything.
//! - `cargo xtask ci` runs everything CI runs: the drift check, fmt, clippy, tests and docs.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  gen [--check]   regenerate crates/smsgate-<vendor>/src/generated/ from specs/ (and the
                  numbering plan from the phonenumber crate's metadata)
                  (--check: change nothing, fail if any generated file is stale)
  ci              run every CI step: gen --check, fmt --check, clippy, test, doc
  bench [PART..]  run the benchmarks; PART is codec, e2e, memory, compile, ledger or
                  drivers (default: all); see BENCHMARKS.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["gen"] => in_workspace(|workspace| gen_command(workspace, false)),
        ["gen", "--check"] => in_workspace(|workspace| gen_command(workspace, true)),
        ["ci"] => in_workspace(ci),
        ["bench", parts @ ..] => in_workspace(|workspace| bench(workspace, parts)),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Runs `task` in the workspace root, or says why there is none.
fn in_workspace(task: impl FnOnce(&Path) -> ExitCode) -> ExitCode {
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR"));
    let from_env = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let current = std::env::current_dir().ok();
    let starts = [from_env.as_deref(), current.as_deref(), Some(compiled_in)];
    match find_workspace_root(starts.into_iter().flatten()) {
        Some(root) => task(&root),
        None => {
            eprintln!(
                "error: cannot find the smsgate workspace (a Cargo.toml with [workspace] next to \
                 xtask/) above $CARGO_MANIFEST_DIR, the current directory or {}; run \
                 `cargo xtask` from inside the repository",
                compiled_in.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the first directory, walking up from each of `starts` in turn, whose
/// `Cargo.toml` declares `[workspace]` and which holds `xtask/Cargo.toml`.
///
/// The run-time places come first (`cargo run` sets `CARGO_MANIFEST_DIR` for the process; the
/// current directory serves a binary run by hand), the compile-time manifest directory last: it
/// is stale once the checkout has moved. Asking for `xtask/` skips `fuzz/`, its own workspace.
fn find_workspace_root<'a>(starts: impl IntoIterator<Item = &'a Path>) -> Option<PathBuf> {
    starts.into_iter().find_map(|start| {
        start
            .ancestors()
            .find(|dir| is_workspace_root(dir))
            .map(Path::to_path_buf)
    })
}

fn is_workspace_root(dir: &Path) -> bool {
    dir.join("xtask/Cargo.toml").is_file()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
}

fn gen_command(workspace: &Path, check_only: bool) -> ExitCode {
    let started = Instant::now();
    let outputs = match xtask::generate(workspace) {
        Ok(outputs) => outputs,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    if check_only {
        let stale = xtask::check(workspace, &outputs);
        if stale.is_empty() {
            println!(
                "gen --check: {} generated files are up to date ({:.2?})",
                outputs.len(),
                started.elapsed()
            );
            return ExitCode::SUCCESS;
        }
        for file in &stale {
            eprintln!("error: {file}");
        }
        eprintln!(
            "generated code is out of date with specs/: run `cargo xtask gen` and commit the result"
        );
        return ExitCode::FAILURE;
    }
    match xtask::write(workspace, &outputs) {
        Ok(changed) => {
            for path in &changed {
                println!("wrote {}", path.display());
            }
            println!(
                "gen: {} files, {} changed ({:.2?})",
                outputs.len(),
                changed.len(),
                started.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn ci(workspace: &Path) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let steps = [
        Step::new("generated code matches specs", &["xtask", "gen", "--check"]),
        Step::new("formatting", &["fmt", "--all", "--check"]),
        Step::new(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        // The cargo-fuzz targets are their own workspace (run with nightly); CI keeps them
        // compiling and formatted on stable. They build in the workspace's target directory,
        // so the dependencies both share are checked once.
        Step {
            envs: &[("CARGO_TARGET_DIR", "target")],
            ..Step::new(
                "fuzz targets compile",
                &[
                    "check",
                    "--manifest-path",
                    "fuzz/Cargo.toml",
                    "--bins",
                    "--locked",
                ],
            )
        },
        Step::new(
            "fuzz targets formatting",
            &["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"],
        ),
        Step::new("tests", &["test", "--workspace", "--locked"]),
        Step {
            envs: &[("RUSTDOCFLAGS", "-D warnings")],
            ..Step::new("docs", &["doc", "--workspace", "--no-deps", "--locked"])
        },
    ];
    let started = Instant::now();
    // The ledger's tests run against a real PostgreSQL: the one given, or a throwaway cluster.
    let postgres = match TestPostgres::start(workspace) {
        Ok(postgres) => postgres,
        Err(err) => {
            eprintln!("==> postgres: FAILED ({err})");
            return ExitCode::FAILURE;
        }
    };
    // The inbox's browser test drives a real headless Chromium: the chromedriver given, or the
    // Debian one (installed when absent).
    let chromedriver = match test_chromedriver(workspace) {
        Ok(chromedriver) => chromedriver,
        Err(err) => {
            eprintln!("==> chromium: FAILED ({err})");
            return ExitCode::FAILURE;
        }
    };
    let mut tally = TestTally::default();
    for Step { name, args, envs } in steps {
        println!("==> {name}: cargo {}", args.join(" "));
        let step_started = Instant::now();
        let status = run_counting_tests(
            Command::new(&cargo)
                .args(args)
                .envs(envs.iter().copied())
                .env(TestPostgres::URL_VAR, &postgres.url)
                .env(CHROMEDRIVER_VAR, &chromedriver)
                .current_dir(workspace),
            &mut tally,
        );
        match status {
            Ok(status) if status.success() => {
                println!("==> {name}: ok ({:.1?})", step_started.elapsed())
            }
            Ok(status) => {
                eprintln!("==> {name}: FAILED ({status})");
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("==> {name}: cannot run cargo: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("==> ci: all steps passed ({:.1?})", started.elapsed());
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    ExitCode::SUCCESS
}

/// Where the inbox's browser test finds chromedriver (Chromium: `SMSGATE_TEST_CHROMIUM`, default
/// `/usr/bin/chromium`).
const CHROMEDRIVER_VAR: &str = "SMSGATE_TEST_CHROMEDRIVER";

/// The chromedriver the browser test uses: `SMSGATE_TEST_CHROMEDRIVER` when set, else the one
/// `.ci/chromium.sh` prints (it installs Debian's chromium and chromium-driver when absent).
fn test_chromedriver(workspace: &Path) -> Result<String, String> {
    if let Ok(path) = std::env::var(CHROMEDRIVER_VAR) {
        return Ok(path);
    }
    let script = workspace.join(".ci/chromium.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|err| format!("cannot run {}: {err}", script.display()))?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || path.is_empty() {
        return Err(format!("{}: {}", script.display(), output.status));
    }
    println!("==> chromium: chromedriver at {path}");
    Ok(path)
}

/// The PostgreSQL the ledger tests use: `SMSGATE_TEST_POSTGRES_URL` when set, else a throwaway
/// cluster `.ci/postgres.sh` starts (installing PostgreSQL when absent), stopped on drop.
struct TestPostgres {
    url: String,
    /// The cluster's directory, when this run started it.
    started: Option<(PathBuf, PathBuf)>,
}

impl TestPostgres {
    const URL_VAR: &'static str = "SMSGATE_TEST_POSTGRES_URL";

    fn start(workspace: &Path) -> Result<Self, String> {
        if let Ok(url) = std::env::var(Self::URL_VAR) {
            return Ok(Self { url, started: None });
        }
        let script = workspace.join(".ci/postgres.sh");
        let dir = std::env::temp_dir().join(format!("smsgate-ci-postgres-{}", std::process::id()));
        println!("==> postgres: a throwaway cluster in {}", dir.display());
        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(&dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|err| format!("cannot run {}: {err}", script.display()))?;
        let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() || url.is_empty() {
            // Whatever it got to (a server started, a directory made) is undone.
            let _ = Command::new("bash")
                .arg(&script)
                .arg("stop")
                .arg(&dir)
                .status();
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!("{} start: {}", script.display(), output.status));
        }
        println!("==> postgres: {url}");
        Ok(Self {
            url,
            started: Some((script, dir)),
        })
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some((script, dir)) = &self.started {
            let _ = Command::new("bash")
                .arg(script)
                .arg("stop")
                .arg(dir)
                .status();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The parts of `cargo xtask bench`, in the order they run.
const BENCH_PARTS: [&str; 6] = ["codec", "e2e", "memory", "compile", "ledger", "drivers"];

/// Rows of the SQLite throughput comparison (enough that the process's start, ~0.1 s, is small
/// next to the run), and its rounds (the median ratio is reported).
const LEDGER_SQLITE_ROWS: usize = 100_000;
const LEDGER_SQLITE_ROUNDS: usize = 5;
/// Rows of the PostgreSQL workers comparison (one worker takes about 4 s here), and
/// the simulator's latency per request; `BENCH_LEDGER_PG_ROWS` and `BENCH_LEDGER_PG_LATENCY_MS`
/// override them.
const LEDGER_POSTGRES_ROWS: usize = 30_000;
const LEDGER_POSTGRES_LATENCY_MS: u64 = 50;
/// Rounds of the PostgreSQL workers comparison (the median speed-up is reported: one round
/// takes about 5 s, and a 2-core machine's speed drifts by more than the target's margin).
const LEDGER_POSTGRES_ROUNDS: usize = 5;

/// The value of the environment variable `name`, else `default`.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a number")),
        Err(_) => Ok(default),
    }
}

/// `cargo build --release -p smsgate-cli`: the binary the memory and ledger parts run.
fn build_release_cli(cargo: &str, workspace: &Path) -> bool {
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "smsgate-cli"])
        .current_dir(workspace)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("==> cannot build smsgate-cli");
        return false;
    }
    true
}

/// Runs the benchmark suite, or the named parts of it: criterion micro benchmarks (codec), the
/// end-to-end throughput binary (e2e), peak RSS of the CLI (memory), clean-build time (compile),
/// the CLI with a SQLite or PostgreSQL ledger (ledger), and the ledger's database drivers'
/// build cost next to sqlx's (drivers).
fn bench(workspace: &Path, parts: &[&str]) -> ExitCode {
    if let Some(unknown) = parts.iter().find(|p| !BENCH_PARTS.contains(p)) {
        eprintln!(
            "unknown benchmark part {unknown:?}; parts: {}",
            BENCH_PARTS.join(", ")
        );
        return ExitCode::FAILURE;
    }
    let wanted = |part: &str| parts.is_empty() || parts.contains(&part);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let runs: [(&str, &[&str]); 2] = [
        (
            "codec",
            &[
                "bench",
                "-p",
                "smsgate-tests",
                "--bench",
                "codec",
                "--",
                "--warm-up-time",
                "2",
                "--measurement-time",
                "5",
            ],
        ),
        ("e2e", &["bench", "-p", "smsgate-tests", "--bench", "e2e"]),
    ];
    for (part, args) in runs {
        if !wanted(part) {
            continue;
        }
        println!("==> cargo {}", args.join(" "));
        match Command::new(&cargo)
            .args(args)
            .current_dir(workspace)
            .status()
        {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("==> benchmark failed ({status})");
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("==> cannot run cargo: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    if wanted("memory") {
        println!(
            "==> memory: peak RSS of `smsgate send --csv` (release) against a simulator in its own process"
        );
        if !build_release_cli(&cargo, workspace) {
            return ExitCode::FAILURE;
        }
        for extra in [&[][..], &["--allow-duplicates"][..]] {
            let mut peaks = Vec::new();
            for rows in [100_000usize, 1_000_000] {
                match bench::csv_peak_rss(workspace, rows, extra) {
                    Ok(kib) => {
                        println!(
                            "{rows:>9} rows {:<20} peak RSS {:>8.1} MiB",
                            extra.join(" "),
                            kib as f64 / 1024.0
                        );
                        peaks.push(kib as f64);
                    }
                    Err(err) => {
                        eprintln!("==> memory benchmark failed: {err}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            if let [small, large] = peaks[..] {
                println!(
                    "ratio 1M / 100k rows {:<20} {:.2}x (target <= 1.2x, and under 100 MiB)",
                    extra.join(" "),
                    large / small
                );
            }
        }
    }
    if wanted("compile") {
        println!(
            "==> compile cost: clean debug build of smsgate-nxcloud vs reqwest + tokio + serde_json + md-5"
        );
        match bench::compile_cost(workspace) {
            Ok((sdk, floor)) => println!(
                "smsgate-nxcloud {sdk:.1} s, floor {floor:.1} s, ratio {:.2}x (target <= 1.3x)",
                sdk / floor
            ),
            Err(err) => {
                eprintln!("==> compile benchmark failed: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    if wanted("ledger") {
        if !build_release_cli(&cargo, workspace) {
            return ExitCode::FAILURE;
        }
        if let Err(err) = bench_ledger(workspace) {
            eprintln!("==> ledger benchmark failed: {err}");
            return ExitCode::FAILURE;
        }
    }
    if wanted("drivers") {
        println!(
            "==> drivers: clean debug build of rusqlite + tokio-postgres (the ledger's) vs sqlx \
             (sqlite + postgres)"
        );
        match bench::driver_cost(workspace) {
            Ok([ours, sqlx]) => {
                for stack in [&ours, &sqlx] {
                    println!(
                        "{:<26} {:>6.1} s, {} crates ({} with build dependencies); {}",
                        stack.name,
                        stack.secs,
                        stack.crates,
                        stack.crates_with_build,
                        stack.versions.join(", ")
                    );
                }
                println!(
                    "sqlx / ledger's drivers: build {:.2}x, crates {:.2}x",
                    sqlx.secs / ours.secs,
                    sqlx.crates as f64 / ours.crates as f64
                );
            }
            Err(err) => {
                eprintln!("==> drivers benchmark failed: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The ledger's targets (issue 13): SQLite throughput next to no ledger, PostgreSQL workers
/// scaling, and memory with a ledger.
fn bench_ledger(workspace: &Path) -> Result<(), String> {
    println!(
        "==> ledger 1/3: `send --csv` ({LEDGER_SQLITE_ROWS} rows) with a SQLite ledger vs without, \
         loopback simulator"
    );
    let rounds = bench::sqlite_throughput(workspace, LEDGER_SQLITE_ROWS, LEDGER_SQLITE_ROUNDS)?;
    let mut ratios: Vec<f64> = rounds.iter().map(|r| r.ledger / r.plain).collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "median ratio with / without a ledger {:.2}x (target >= 0.7x)",
        ratios[ratios.len() / 2]
    );

    let rows = env_or("BENCH_LEDGER_PG_ROWS", LEDGER_POSTGRES_ROWS)?;
    let latency_ms = env_or("BENCH_LEDGER_PG_LATENCY_MS", LEDGER_POSTGRES_LATENCY_MS)?;
    println!(
        "==> ledger 2/3: `send --csv` ({rows} rows) with a PostgreSQL ledger, one worker vs three \
         at once, simulator latency {latency_ms} ms"
    );
    let postgres = TestPostgres::start(workspace)?;
    let rounds = bench::postgres_scaling(
        workspace,
        &postgres.url,
        rows,
        latency_ms,
        LEDGER_POSTGRES_ROUNDS,
    )?;
    drop(postgres);
    let median = |of: &dyn Fn(&bench::Scaling) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(of).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    println!(
        "median speed-up one / three workers {:.2}x (target >= 2.5x; to the last outcome written \
         {:.2}x); one {:.0} rows/s, three {:.0} rows/s",
        median(&|r| r.one_secs / r.three_secs),
        median(&|r| r.one_secs / r.three_last_outcome_secs),
        median(&|r| r.rows as f64 / r.one_secs),
        median(&|r| r.rows as f64 / r.three_secs)
    );

    println!("==> ledger 3/3: peak RSS of `send --csv --ledger sqlite:...`");
    let mut peaks = Vec::new();
    for rows in [100_000usize, 1_000_000] {
        let kib = bench::csv_peak_rss_sqlite(workspace, rows)?;
        println!(
            "{rows:>9} rows --ledger sqlite  peak RSS {:>8.1} MiB",
            kib as f64 / 1024.0
        );
        peaks.push(kib as f64);
    }
    if let [small, large] = peaks[..] {
        println!(
            "ratio 1M / 100k rows with a ledger {:.2}x (target <= 1.2x)",
            large / small
        );
    }
    Ok(())
}

/// Totals of the `test result:` lines cargo test printed.
#[derive(Default)]
struct TestTally {
    passed: u64,
    failed: u64,
}

impl TestTally {
    /// Adds `test result: ok. 8 passed; 0 failed; ...`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => {}
            }
        }
    }
}

/// Runs `command`, echoing its stdout line by line and counting test results in it.
fn run_counting_tests(
    command: &mut Command,
    tally: &mut TestTally,
) -> std::io::Result<std::process::ExitStatus> {
    use std::io::BufRead as _;
    let mut child = command.stdout(std::process::Stdio::piped()).spawn()?;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            tally.add_line(&line);
        }
    }
    child.wait()
}

/// One CI step: a cargo command and the environment it needs.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    envs: &'static [(&'static str, &'static str)],
}

impl Step {
    const fn new(name: &'static str, args: &'static [&'static str]) -> Self {
        Self {
            name,
            args,
            envs: &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A checkout: the workspace, its xtask, a member crate and `fuzz/`, a workspace of its own.
    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"xtask\"]\n",
        );
        write(
            &root.join("xtask/Cargo.toml"),
            "[package]\nname = \"xtask\"\n",
        );
        write(
            &root.join("crates/a/Cargo.toml"),
            "[package]\nname = \"a\"\n",
        );
        write(
            &root.join("fuzz/Cargo.toml"),
            "[package]\nname = \"f\"\n\n[workspace]\n",
        );
        std::fs::create_dir_all(root.join("crates/a/src")).unwrap();
        dir
    }

    #[test]
    fn finds_the_root_walking_up_from_any_directory_in_it() {
        let dir = checkout();
        let root = dir.path();
        for start in ["", "xtask", "crates/a/src", "fuzz"] {
            assert_eq!(
                find_workspace_root([root.join(start).as_path()]).as_deref(),
                Some(root),
                "from {start:?}"
            );
        }
    }

    #[test]
    fn the_first_start_inside_a_workspace_wins_and_stale_ones_are_skipped() {
        let (moved, other) = (checkout(), checkout());
        let outside = tempfile::tempdir().unwrap();
        // Where the checkout was when xtask was built: gone, and not inside any workspace.
        let stale = outside.path().join("old/checkout/xtask");
        let member = moved.path().join("crates/a");
        let starts = [stale.as_path(), outside.path(), &member, other.path()];
        assert_eq!(find_workspace_root(starts).as_deref(), Some(moved.path()));
        assert_eq!(find_workspace_root([stale.as_path(), outside.path()]), None);
    }
}
