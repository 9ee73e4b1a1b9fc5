//! `send --ledger`: a run killed with SIGKILL mid-send, then run again, sends nothing twice
//! and ends with exactly one line per row; a finished job run again sends nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A child process killed when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A simulator in its own process (it outlives the killed sender), with `latency` per answer:
/// its URL and the itniotech credentials it prints.
fn sandbox(latency: &str) -> (Killed, String, Vec<(String, String)>) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["sandbox", "--port", "0", "--fault"])
        .arg(format!("latency={latency}"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_owned();
    let exports = lines
        .map(Result::unwrap)
        .find(|l| l.contains("ITNIOTECH_API_KEY="))
        .unwrap();
    let env = exports
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (Killed(child), url, env)
}

fn send(env: &[(String, String)], csv: &Path, ledger: &str, output: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("smsgate"));
    cmd.args(["send", "--provider", "itniotech", "--csv"])
        .arg(csv)
        .args(["--ledger", ledger, "--output"])
        .arg(output)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Messages the simulator charged for: its balance fell by the price of one part each.
fn charged(env: &[(String, String)]) -> u64 {
    let out = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["balance", "--provider", "itniotech"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let balance: f64 = stdout
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    ((1000.0 - balance) / 0.005).round() as u64
}

#[test]
fn a_killed_run_resumes_without_sending_anything_twice() {
    let (_server, _url, env) = sandbox("400ms");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("campaign.csv");
    let mut text = String::from("to,content\n");
    for i in 0..500 {
        text.push_str(&format!("+8613{:09},message {i}\n", 800_000_000 + i));
    }
    std::fs::write(&csv, text).unwrap();
    let ledger = format!("sqlite:{}", dir.path().join("ledger.db").display());
    let (first, second) = (
        dir.path().join("first.jsonl"),
        dir.path().join("second.jsonl"),
    );

    // The first run is killed once its first chunk is written, with the next one in flight
    // (watched in the ledger itself).
    let job = "campaign-1";
    let mut run = Killed(
        send(&env, &csv, &ledger, &first)
            .args(["--job", job])
            .spawn()
            .unwrap(),
    );
    let watch = smsgate_ledger::SqliteLedger::open(
        dir.path().join("ledger.db"),
        smsgate_ledger::TextPolicy::Keep,
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let in_flight = || {
        runtime
            .block_on(smsgate_ledger::Ledger::counts(&watch, job))
            .unwrap()
            .iter()
            .any(|c| c.state == smsgate_ledger::State::InFlight)
    };
    let started = Instant::now();
    while lines(&first).len() < 100 || !in_flight() {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    run.0.kill().unwrap();
    run.0.wait().unwrap();
    let before = lines(&first);
    assert!(before.len() < 500, "the run finished before it was killed");

    let out = send(&env, &csv, &ledger, &second)
        .args(["--job", job])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let after = lines(&second);
    // Exactly one line per row.
    let mut by_index: BTreeMap<u64, &Value> = BTreeMap::new();
    for line in &after {
        assert!(
            by_index
                .insert(line["index"].as_u64().unwrap(), line)
                .is_none(),
            "{line}"
        );
    }
    assert_eq!(by_index.len(), 500, "{stderr}");
    // What the killed run settled is written again from the ledger, unchanged.
    for line in &before {
        let again = by_index[&line["index"].as_u64().unwrap()];
        assert_eq!(again["recorded"], true, "{again}");
        assert_eq!(again["status"], line["status"]);
        assert_eq!(again["message_id"], line["message_id"]);
    }
    // The chunk in flight at the kill is unknown, named on stderr, never resent.
    let unknown: Vec<&&Value> = by_index
        .values()
        .filter(|l| l["status"] == "unknown")
        .collect();
    assert!(
        !unknown.is_empty() && unknown.len() <= 100,
        "{}",
        unknown.len()
    );
    assert!(
        stderr.contains("were in flight when an earlier run stopped"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let accepted = by_index
        .values()
        .filter(|l| l["status"] == "accepted")
        .count() as u64;
    assert_eq!(accepted + unknown.len() as u64, 500);

    // The simulator charged every accepted message once, and at most the unknown ones more.
    let charged = charged(&env);
    assert!(
        charged >= accepted && charged <= accepted + unknown.len() as u64,
        "charged {charged}, accepted {accepted}, unknown {}",
        unknown.len()
    );

    // A third run sends nothing: every row is written from the ledger.
    let third = dir.path().join("third.jsonl");
    send(&env, &csv, &ledger, &third)
        .args(["--job", job])
        .output()
        .unwrap();
    let rows = lines(&third);
    assert_eq!(rows.len(), 500);
    assert!(rows.iter().all(|l| l["recorded"] == true));
    assert_eq!(self::charged(&env), charged, "nothing sent twice");
}

/// Three workers on one PostgreSQL job (the same file, the same job name): every row is sent
/// by exactly one of them, and the simulator is charged once per row.
#[test]
fn three_workers_on_postgres_send_each_row_exactly_once() {
    let url = std::env::var("SMSGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("SMSGATE_TEST_POSTGRES_URL is not set: run `cargo xtask ci`; this test never skips")
    });
    let (_server, _sandbox_url, env) = sandbox("30ms");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("shared.csv");
    let mut text = String::from("to,content\n");
    for i in 0..600 {
        text.push_str(&format!("+8613{:09},worker message {i}\n", 700_000_000 + i));
    }
    std::fs::write(&csv, text).unwrap();
    let job = format!(
        "workers-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let outputs: Vec<_> = (0..3)
        .map(|k| dir.path().join(format!("worker{k}.jsonl")))
        .collect();
    let workers: Vec<Killed> = outputs
        .iter()
        .map(|output| {
            let mut cmd = send(&env, &csv, &url, output);
            Killed(cmd.args(["--job", &job]).spawn().unwrap())
        })
        .collect();
    for mut worker in workers {
        let status = worker.0.wait().unwrap();
        assert!(status.code().is_some_and(|c| c == 0), "{status}");
    }
    let mut sent_by: BTreeMap<u64, usize> = BTreeMap::new();
    for (k, output) in outputs.iter().enumerate() {
        for line in lines(output) {
            if line["recorded"] != true {
                let index = line["index"].as_u64().unwrap();
                assert_eq!(line["status"], "accepted", "{line}");
                assert!(sent_by.insert(index, k).is_none(), "row {index} sent twice");
            }
        }
    }
    assert_eq!(sent_by.len(), 600);
    assert_eq!(charged(&env), 600);
}

/// The same job run on a changed file is refused before anything is sent: every row gets a
/// not-sent line, exit 4, and the ledger keeps the first file's outcomes.
#[test]
fn a_changed_input_under_the_same_job_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = format!("sqlite:{}", dir.path().join("ledger.db").display());
    let csv = dir.path().join("list.csv");
    let run = |content: &str, output: &Path| {
        std::fs::write(&csv, content).unwrap();
        Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
            .args(["send", "--sandbox", "--provider", "itniotech", "--csv"])
            .arg(&csv)
            .args(["--ledger", &ledger, "--job", "fixed", "--output"])
            .arg(output)
            .output()
            .unwrap()
    };
    let first = dir.path().join("first.jsonl");
    let out = run(
        "to,content\n+8613800138000,hello A\n+8613800138001,hello B\n",
        &first,
    );
    assert_eq!(out.status.code(), Some(0));
    let second = dir.path().join("second.jsonl");
    let out = run(
        "to,content\n+8613900000009,inserted C\n+8613800138000,hello A\n+8613800138001,hello B\n",
        &second,
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("another message at this input position"),
        "{stderr}"
    );
    let rows = lines(&second);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["status"] == "not_sent"), "{rows:?}");
}
