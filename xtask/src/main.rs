//! `cargo xtask`: workspace automation for smsgate.
//!
//! - `cargo xtask gen` regenerates `crates/smsgate-<vendor>/src/generated/` from `specs/`.
//! - `cargo xtask gen --check` fails, naming each stale file, when regeneration would change anything.
//! - `cargo xtask ci` runs everything CI runs: the drift check, fmt, clippy, tests and docs.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  gen [--check]   regenerate crates/smsgate-<vendor>/src/generated/ from specs/
                  (--check: change nothing, fail if any generated file is stale)
  ci              run every CI step: gen --check, fmt --check, clippy, test, doc
  bench [PART..]  run the benchmarks; PART is codec, e2e, memory or compile (default: all);
                  see BENCHMARKS.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let workspace = workspace_root();
    match args.as_slice() {
        ["gen"] => gen_command(&workspace, false),
        ["gen", "--check"] => gen_command(&workspace, true),
        ["ci"] => ci(&workspace),
        ["bench", parts @ ..] => bench(&workspace, parts),
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

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
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
        // compiling and formatted on stable.
        Step::new(
            "fuzz targets compile",
            &[
                "check",
                "--manifest-path",
                "fuzz/Cargo.toml",
                "--bins",
                "--locked",
            ],
        ),
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
    let mut tally = TestTally::default();
    for Step { name, args, envs } in steps {
        println!("==> {name}: cargo {}", args.join(" "));
        let step_started = Instant::now();
        let status = run_counting_tests(
            Command::new(&cargo)
                .args(args)
                .envs(envs.iter().copied())
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

/// The parts of `cargo xtask bench`, in the order they run.
const BENCH_PARTS: [&str; 4] = ["codec", "e2e", "memory", "compile"];

/// Runs the benchmark suite, or the named parts of it: criterion micro benchmarks (codec), the
/// end-to-end throughput binary (e2e), peak RSS of the CLI (memory), clean-build time (compile).
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
        let status = Command::new(&cargo)
            .args(["build", "--release", "-p", "smsgate-cli"])
            .current_dir(workspace)
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("==> cannot build smsgate-cli");
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
    ExitCode::SUCCESS
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
