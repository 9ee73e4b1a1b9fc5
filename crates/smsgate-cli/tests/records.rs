//! No outcome record is ever lost, and nothing the user gave is changed: the real `smsgate`
//! binary stopped by SIGINT/SIGTERM mid-run, writing to a full disk or a closed pipe, reading
//! CSV fields with spaces, and refusing configuration it cannot use (bad URLs, TOML errors that
//! would echo a secret, `--duplicate-window 0`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary with no vendor credentials in its environment.
fn smsgate() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("smsgate"));
    for (key, _) in std::env::vars() {
        if ["ITNIOTECH_", "LAAFFIC_", "NXCLOUD_"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// A CSV of `rows` rows, each with its own text, to numbers that are valid CN mobiles.
fn csv(dir: &std::path::Path, rows: usize) -> std::path::PathBuf {
    let path = dir.join("in.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "to,content").unwrap();
    for i in 0..rows {
        writeln!(file, "+861380013{:04},text {i}", i % 10_000).unwrap();
    }
    file.flush().unwrap();
    path
}

fn jsonl(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Collects the child's standard error in a thread, returning once it says it is sending
/// (its signal handlers are in place by then); the handle yields the whole text.
fn await_sending(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let stderr = child.stderr.take().unwrap();
    let (ready, sending) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("smsgate: sending") {
                let _ = ready.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    sending
        .recv_timeout(Duration::from_secs(60))
        .expect("the run starts sending");
    reader
}

/// Every input row has exactly one line.
fn assert_one_line_per_row(lines: &[Value], rows: usize) {
    let mut seen = vec![0u32; rows];
    for line in lines {
        seen[usize::try_from(line["index"].as_u64().unwrap()).unwrap()] += 1;
    }
    let missing: Vec<usize> = (0..rows).filter(|&i| seen[i] != 1).collect();
    assert!(
        missing.is_empty(),
        "rows without exactly one line: {missing:?}"
    );
}

fn count(lines: &[Value], status: &str) -> usize {
    lines.iter().filter(|l| l["status"] == status).count()
}

/// `smsgate send --csv input --output output` to nxcloud (200 rows a request) in the built-in
/// simulator answering after `latency`, `concurrency` requests at a time; returns once the run
/// says it is sending, with its standard error being collected.
fn slow_run(
    latency: &str,
    concurrency: &str,
    input: &std::path::Path,
    output: &std::path::Path,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let mut child = smsgate()
        .args([
            "send",
            "--sandbox",
            "--fault",
            &format!("latency={latency}"),
        ])
        .args([
            "--provider",
            "nxcloud",
            "--concurrency",
            concurrency,
            "--csv",
        ])
        .arg(input)
        .arg("--output")
        .arg(output)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = await_sending(&mut child);
    (child, stderr)
}

/// A run against a slow gateway (1 s a request, one at a time, 200 rows a request), stopped by
/// `signal` once its first request settled: the request in flight settles, every row gets one
/// line, the rows never sent are `not_sent`, the summary is written and the exit code names
/// the signal.
fn stopped_run(signal_name: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let rows = 3001;
    let input = csv(dir.path(), rows - 1);
    // The last row repeats the first: after the stop it is still a duplicate, not `not_sent`
    // (a rerun of the not_sent rows must not send it twice).
    std::fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .unwrap()
        .write_all(b"+8613800130000,text 0\n")
        .unwrap();
    let output = dir.path().join("out.jsonl");
    let (mut child, stderr) = slow_run("1000ms", "1", &input, &output);
    // Wait for the first request to settle (a line in the file), then stop during the next.
    let waited = Instant::now();
    while std::fs::metadata(&output).map_or(0, |m| m.len()) == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "nothing settled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, signal_name);
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "stopped late");
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
    assert!(stderr.contains("not sent"), "summary written: {stderr}");
    let lines = jsonl(&output);
    assert_eq!(lines.len(), rows);
    assert_one_line_per_row(&lines, rows);
    let accepted = count(&lines, "accepted");
    let not_sent = count(&lines, "not_sent");
    // At least one request settled before the signal; the one in flight settled after it.
    assert_eq!(accepted % 200, 0, "whole requests: {accepted}");
    assert!(accepted >= 400, "accepted {accepted}");
    assert!(not_sent > 0, "the run stopped");
    assert_eq!(accepted + not_sent + 1, rows);
    let last = lines
        .iter()
        .find(|l| l["index"] == rows as u64 - 1)
        .unwrap();
    assert_eq!(last["status"], "rejected", "{last}");
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .contains("duplicate of message 0")
    );
    for line in lines.iter().filter(|l| l["status"] == "not_sent") {
        assert_eq!(line["retry_safe"], true);
    }
}

#[test]
fn sigint_lets_in_flight_requests_settle_and_writes_every_row() {
    stopped_run("INT", 130);
}

#[test]
fn sigterm_lets_in_flight_requests_settle_and_writes_every_row() {
    stopped_run("TERM", 143);
}

#[test]
fn a_second_signal_abandons_requests_in_flight_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 1000;
    let input = csv(dir.path(), rows);
    let output = dir.path().join("out.jsonl");
    let (mut child, stderr) = slow_run("20000ms", "2", &input, &output);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "abandoned late");
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("abandoning"), "{stderr}");
    let lines = jsonl(&output);
    assert_one_line_per_row(&lines, rows);
    // Two requests of 200 were in flight: unknown, never "not sent" (they may have arrived).
    assert_eq!(count(&lines, "unknown"), 400);
    assert_eq!(count(&lines, "not_sent"), 600);
}

/// The itniotech balance the simulator at `url` reports.
fn balance(url: &str) -> f64 {
    let out = smsgate()
        .env("ITNIOTECH_API_KEY", "sandbox-itniotech-key")
        .env("ITNIOTECH_API_SECRET", "sandbox-itniotech-secret")
        .env("ITNIOTECH_APP_ID", "sandbox-itniotech-app")
        .env("ITNIOTECH_BASE_URL", url)
        .args(["balance", "--provider", "itniotech"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// `smsgate send` against a simulator running in this test, with its credentials.
fn send_to(url: &str) -> Command {
    let mut cmd = smsgate();
    cmd.env("ITNIOTECH_API_KEY", "sandbox-itniotech-key")
        .env("ITNIOTECH_API_SECRET", "sandbox-itniotech-secret")
        .env("ITNIOTECH_APP_ID", "sandbox-itniotech-app")
        .env("ITNIOTECH_BASE_URL", url)
        .args(["send", "--provider", "itniotech", "--concurrency", "1"]);
    cmd
}

fn sandbox() -> (tokio::runtime::Runtime, smsgate_sandbox::Sandbox) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(smsgate_sandbox::Sandbox::start(
            smsgate_sandbox::SandboxConfig::default(),
        ))
        .unwrap();
    (runtime, sandbox)
}

#[test]
fn a_full_disk_stops_sending_at_once_with_exit_code_4() {
    let (runtime, sandbox) = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let input = csv(dir.path(), 5000);
    let before = balance(sandbox.url());
    let out = send_to(sandbox.url())
        .arg("--csv")
        .arg(&input)
        .args(["--output", "/dev/full"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("cannot write /dev/full"), "{stderr}");
    // One request of at most 1000 messages went out, not five.
    let spent = before - balance(sandbox.url());
    assert!(
        spent > 0.0 && spent <= 1000.0 * 0.005 + 1e-9,
        "spent {spent}"
    );
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn a_closed_pipe_stops_sending_at_once_with_exit_code_4() {
    let (runtime, sandbox) = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let input = csv(dir.path(), 5000);
    let before = balance(sandbox.url());
    let output = dir.path().join("out.jsonl");
    let mut child = send_to(sandbox.url())
        .arg("--csv")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(first.contains("\"status\""), "{first}");
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    let spent = before - balance(sandbox.url());
    assert!(spent <= 2000.0 * 0.005 + 1e-9, "spent {spent}");
    // The healthy --output file still holds one line per row: what was sent, and not_sent.
    let lines = jsonl(&output);
    assert_one_line_per_row(&lines, 5000);
    let accepted = count(&lines, "accepted");
    assert!(
        (spent - accepted as f64 * 0.005).abs() < 1e-6,
        "{accepted} accepted, spent {spent}"
    );
    assert_eq!(accepted + count(&lines, "not_sent"), 5000);
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn csv_texts_are_sent_byte_exact_and_only_other_fields_are_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "to , content ,client_ref\n \
         +8613800138000 ,\"  padded both sides  \", ref-1 \n\
         +8613800138001,\"\ttab\tand\r\nquoted newline\n\",ref-2\n",
    )
    .unwrap();
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--provider",
            "itniotech",
            "--dry-run",
            "--csv",
        ])
        .arg(&input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(r#""content":"  padded both sides  ""#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#""content":"\ttab\tand\r\nquoted newline\n""#),
        "{stdout}"
    );
    assert!(stdout.contains("8613800138000"), "{stdout}");
    // Sent for real, the references come back trimmed.
    let output = dir.path().join("out.jsonl");
    let out = smsgate()
        .args(["send", "--sandbox", "--provider", "itniotech", "--csv"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = jsonl(&output);
    assert_eq!(lines[0]["client_ref"], "ref-1");
    assert_eq!(lines[0]["to"], "+8613800138000");
}

#[test]
fn a_duplicate_window_of_zero_is_refused() {
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--duplicate-window",
            "0",
            "--to",
            "+8613800138000",
            "--content",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-duplicates"));
}

/// `smsgate --config FILE send ...` with `contents` as the file: exit code and standard error.
fn send_with_config(contents: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgate.toml");
    std::fs::write(&config, contents).unwrap();
    let out = smsgate()
        .arg("--config")
        .arg(&config)
        .args(["send", "--to", "+8613800138000", "--content", "x"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unparsable_base_url_is_refused_at_load_naming_its_key() {
    let (code, stderr) = send_with_config(
        "[itniotech]\napi_key = \"k\"\napi_secret = \"s\"\napp_id = \"a\"\nbase_url = \"http://[::1\"\n",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`base_url` under [itniotech]"), "{stderr}");
    // The same from the environment names the variable.
    let out = smsgate()
        .env("ITNIOTECH_API_KEY", "k")
        .env("ITNIOTECH_API_SECRET", "s")
        .env("ITNIOTECH_APP_ID", "a")
        .env("ITNIOTECH_BASE_URL", "http://user:pw@[::1")
        .args(["send", "--to", "+8613800138000", "--content", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ITNIOTECH_BASE_URL"), "{stderr}");
    assert!(!stderr.contains("pw"), "userinfo redacted: {stderr}");
}

#[test]
fn a_toml_error_names_file_line_column_and_key_but_not_the_value() {
    let (code, stderr) = send_with_config("[itniotech]\napi_key = \"k\"\napi_secret = 123456789\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stderr.contains("123456789"), "{stderr}");
    assert!(stderr.contains("smsgate.toml:3:"), "{stderr}");
    assert!(stderr.contains("itniotech.api_secret"), "{stderr}");
    // A syntax error on a secret's line does not echo it either.
    let (code, stderr) = send_with_config("[nxcloud]\naccess_secret = \"s3cr3t\" junk\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    assert!(stderr.contains("smsgate.toml:2:"), "{stderr}");
}

#[test]
fn national_numbers_need_a_default_region() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--provider",
            "itniotech",
            "--to",
            "13800138000",
            "--content",
            "x",
        ])
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Digits without + and without a region: the run says how they were read.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pass --default-region"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = &jsonl(&output)[0];
    assert_eq!(line["status"], "rejected");
    assert_eq!(line["class"], "invalid-number");
    assert!(
        line["reason"].as_str().unwrap().contains("region"),
        "{line}"
    );
    // With CN as the default region, from the flag or from the config file.
    let config = dir.path().join("smsgate.toml");
    std::fs::write(&config, "default_region = \"CN\"\n").unwrap();
    for (global, region) in [
        (&[][..], &["--default-region", "CN"][..]),
        (&["--config", config.to_str().unwrap()][..], &[][..]),
    ] {
        let out = smsgate()
            .args(global)
            .args(["send", "--sandbox", "--provider", "itniotech"])
            .args(region)
            .args(["--to", "138 0013 8000", "--content", "x", "--output"])
            .arg(&output)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = &jsonl(&output)[0];
        assert_eq!(line["number"], "8613800138000");
    }
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--default-region",
            "XX",
            "--to",
            "1",
            "--content",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--default-region"));
}

#[test]
fn the_built_in_simulator_gives_the_same_faults_on_every_run() {
    let run = || {
        let out = smsgate()
            .args([
                "send",
                "--sandbox",
                "--fault",
                "reject=0.5",
                "--provider",
                "itniotech",
                "--json",
            ])
            .args([
                "--to",
                "+8613800138000,+8613800138001,+8613800138002,+8613800138003",
            ])
            .args([
                "--to",
                "+8613800138004,+8613800138005,+8613800138006,+8613800138007",
            ])
            .args(["--content", "hi"])
            .output()
            .unwrap();
        let mut lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        lines.sort_by_key(|l| l["index"].as_u64());
        lines
            .iter()
            .map(|l| l["status"].to_string())
            .collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first.len(), 8);
    assert!(
        first.iter().any(|s| s.contains("rejected"))
            && first.iter().any(|s| s.contains("accepted"))
    );
    assert_eq!(run(), first);
}
