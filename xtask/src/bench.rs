//! `cargo xtask bench`: items 4 (memory) and 5 (compile cost) of BENCHMARKS.md, which need
//! processes and clean builds rather than a benchmark harness.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Peak RSS (KiB) of `smsgate send --csv` over `rows` rows, against a simulator running in its
/// own process (so that the simulator's memory is not counted).
pub fn csv_peak_rss(workspace: &Path, rows: usize, extra_args: &[&str]) -> Result<u64, String> {
    // Where cargo put it: `CARGO_TARGET_DIR` when set, else the workspace's `target/`.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let binary = target.join("release/smsgate");
    let dir = std::env::temp_dir().join(format!("smsgate-bench-{rows}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let csv = dir.join("recipients.csv");
    {
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(&csv).map_err(|e| e.to_string())?);
        writeln!(file, "to,content").map_err(|e| e.to_string())?;
        for i in 0..rows {
            writeln!(file, "+86 13{i:09},Your code is {}", i % 9973).map_err(|e| e.to_string())?;
        }
    }
    let mut sandbox = Command::new(&binary)
        .args(["sandbox", "--port", "0", "--balance", "1000000000"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let url = {
        let stdout = sandbox.stdout.take().ok_or("no sandbox output")?;
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
            .ok_or("no URL in the sandbox banner")?
            .to_owned()
    };
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(&binary)
        .args([
            "send",
            "--provider",
            "nxcloud",
            "--output",
            "/dev/null",
            "--csv",
        ])
        .arg(&csv)
        .args(extra_args)
        .env("NXCLOUD_ACCESS_KEY", "sandbox-nxcloud-key")
        .env("NXCLOUD_ACCESS_SECRET", "sandbox-nxcloud-secret")
        .env("NXCLOUD_APP_KEY", "sandbox-nxcloud-app")
        .env("NXCLOUD_BASE_URL", &url)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .rev()
        .find_map(|line| line.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("no peak RSS in: {stderr}"))
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

/// (smsgate-nxcloud, floor) clean debug-build seconds. The floor is a scratch crate with only
/// reqwest + tokio + serde_json + md-5, resolved to the workspace's versions.
pub fn compile_cost(workspace: &Path) -> Result<(f64, f64), String> {
    let scratch = std::env::temp_dir().join("smsgate-compile-floor");
    std::fs::create_dir_all(scratch.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        scratch.join("Cargo.toml"),
        "[package]\nname = \"compile-floor\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[dependencies]\n\
         reqwest = { version = \"0.13\", default-features = false, features = [\"rustls\"] }\n\
         tokio = { version = \"1\", default-features = false, features = [\"rt\"] }\n\
         serde_json = \"1\"\nmd-5 = \"0.11\"\n\n[workspace]\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        scratch.join("src/lib.rs"),
        "pub use {md5, reqwest, serde_json, tokio};\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy(workspace.join("Cargo.lock"), scratch.join("Cargo.lock"))
        .map_err(|e| e.to_string())?;
    let targets: PathBuf = std::env::temp_dir().join("smsgate-compile-targets");
    let floor = clean_build_secs(
        &scratch.join("Cargo.toml"),
        "compile-floor",
        &targets.join("floor"),
    )?;
    let sdk = clean_build_secs(
        &workspace.join("Cargo.toml"),
        "smsgate-nxcloud",
        &targets.join("sdk"),
    )?;
    let _ = std::fs::remove_dir_all(&targets);
    Ok((sdk, floor))
}
