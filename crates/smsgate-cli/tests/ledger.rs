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
        .args(["--ledger", ledger, "--ledger-chunk", "100", "--output"])
        .arg(output)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// The complete lines of an output (one still being written, without its newline, is left
/// out: the test reads files a running send writes).
fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
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
    // The chunks in flight at the kill (the one sending, and the next, recorded meanwhile)
    // are unknown, named on stderr, never resent.
    let unknown: Vec<&&Value> = by_index
        .values()
        .filter(|l| l["status"] == "unknown")
        .collect();
    assert!(
        !unknown.is_empty() && unknown.len() <= 200,
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

    // Reconcile: accepted messages are polled (delivered or undelivered now); each unknown
    // one is found in what itniotech lists as received (accepted, with its id) or is not
    // listed (never accepted: not_sent).
    let out = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["reconcile", "--ledger", &ledger, "--job", job, "--json"])
        .args(["--settle-after", "0"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let changes: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let from_unknown: Vec<&Value> = changes.iter().filter(|c| c["from"] == "unknown").collect();
    assert_eq!(from_unknown.len(), unknown.len(), "{changes:?}");
    let found = from_unknown
        .iter()
        .filter(|c| c["to"] == "accepted")
        .count() as u64;
    let never = from_unknown
        .iter()
        .filter(|c| c["to"] == "not_sent")
        .count() as u64;
    assert_eq!(found + never, unknown.len() as u64);
    eprintln!("reconcile: {found} unknown row(s) found at the provider, {never} never accepted");
    // What the simulator charged beyond the accepted rows is exactly what reconcile found.
    assert_eq!(charged, accepted + found, "{changes:?}");
    assert!(
        from_unknown
            .iter()
            .filter(|c| c["to"] == "accepted")
            .all(|c| c["message_id"].as_str().is_some_and(|id| !id.is_empty()))
    );
    let polled = changes.iter().filter(|c| c["from"] == "accepted").count() as u64;
    assert_eq!(
        polled, accepted,
        "every accepted row polled to a final state"
    );
    let watch_counts = runtime
        .block_on(smsgate_ledger::Ledger::counts(&watch, job))
        .unwrap();
    let count = |state| {
        watch_counts
            .iter()
            .filter(|c| c.state == state)
            .map(|c| c.messages)
            .sum::<u64>()
    };
    assert_eq!(count(smsgate_ledger::State::Unknown), 0, "{watch_counts:?}");
    assert_eq!(count(smsgate_ledger::State::NotSent), never);

    // A fourth run sends exactly the rows never accepted.
    let fourth = dir.path().join("fourth.jsonl");
    let out = send(&env, &csv, &ledger, &fourth)
        .args(["--job", job])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = lines(&fourth);
    assert_eq!(rows.len(), 500);
    assert_eq!(
        rows.iter().filter(|l| l["recorded"] != true).count() as u64,
        never
    );
    assert_eq!(self::charged(&env), charged + never);
}

/// A proxy in front of the simulator that passes every request on, and cuts the answer of
/// every send short (the simulator took the messages; the sender cannot read its verdict).
async fn cutting_proxy(upstream: String) -> String {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};
    let http = http_client();
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (http, upstream) = (http.clone(), upstream.clone());
        async move {
            let path = uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
                .to_owned();
            let mut request = http.request(method, format!("{upstream}{path}")).body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name, value);
                }
            }
            let answer = request.send().await.unwrap();
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap();
            if uri.path().contains("/sendSms") {
                // Half of the answer: undecodable, so the outcome is unknown.
                let cut = text.len() / 2;
                return (axum::http::StatusCode::OK, text[..cut].to_owned());
            }
            (axum::http::StatusCode::from_u16(status).unwrap(), text)
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(handler))
            .await
            .unwrap();
    });
    url
}

/// Answers cut off after the simulator took the messages leave them unknown; reconcile finds
/// each in what itniotech lists as received and records it accepted with its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_finds_unknown_messages_the_provider_received() {
    let (_server, url, mut env) = sandbox("0ms");
    let proxy = cutting_proxy(url).await;
    for (key, value) in &mut env {
        if key == "ITNIOTECH_BASE_URL" {
            value.clone_from(&proxy);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cut.csv");
    let mut text = String::from("to,content\n");
    for i in 0..40 {
        text.push_str(&format!("+8613{:09},cut message {i}\n", 400_000_000 + i));
    }
    std::fs::write(&csv, text).unwrap();
    let ledger = format!("sqlite:{}", dir.path().join("ledger.db").display());
    let output = dir.path().join("out.jsonl");
    let (env_, csv_, ledger_, output_) = (env.clone(), csv.clone(), ledger.clone(), output.clone());
    let out = tokio::task::spawn_blocking(move || {
        send(&env_, &csv_, &ledger_, &output_)
            .args(["--job", "cut"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = lines(&output);
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().all(|l| l["status"] == "unknown"), "{rows:?}");
    let env_ = env.clone();
    assert_eq!(
        tokio::task::spawn_blocking(move || charged(&env_))
            .await
            .unwrap(),
        40,
        "the simulator took every message"
    );

    let reconcile = |ledger: String, env: Vec<(String, String)>| {
        tokio::task::spawn_blocking(move || {
            Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
                .args(["reconcile", "--ledger", &ledger, "--job", "cut", "--json"])
                .args(["--settle-after", "0"])
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .output()
                .unwrap()
        })
    };
    let out = reconcile(ledger.clone(), env.clone()).await.unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let changes: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let found: Vec<&Value> = changes
        .iter()
        .filter(|c| c["from"] == "unknown" && c["to"] == "accepted")
        .collect();
    assert_eq!(found.len(), 40, "{changes:?}");
    // Each found message has its own id.
    let mut ids: Vec<&str> = found
        .iter()
        .map(|c| c["message_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    // A second reconcile polls them (the simulator reports each delivered or failed) and
    // leaves nothing unknown.
    let again = reconcile(ledger, env).await.unwrap();
    assert_eq!(again.status.code(), Some(0));
    let polled: Vec<Value> = String::from_utf8(again.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(polled.len(), 40, "{polled:?}");
    assert!(polled.iter().all(|c| c["from"] == "accepted"));
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

/// Three workers on one PostgreSQL job, one killed with SIGKILL mid-send, and rows a dead
/// worker had claimed but not started: the survivors send the released rows once its lease
/// lapses, the killed worker's rows in flight become unknown (never resent), and nothing is
/// sent twice.
#[test]
fn a_killed_workers_rows_are_recovered_by_the_others() {
    let url = std::env::var("SMSGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("SMSGATE_TEST_POSTGRES_URL is not set: run `cargo xtask ci`; this test never skips")
    });
    let (_server, _sandbox_url, env) = sandbox("30ms");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("shared.csv");
    let numbers: Vec<String> = (0..600)
        .map(|i| format!("+8613{:09}", 600_000_000 + i))
        .collect();
    let mut text = String::from("to,content\n");
    for (i, number) in numbers.iter().enumerate() {
        text.push_str(&format!("{number},recovered message {i}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let job = format!(
        "recovered-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ledger = runtime
        .block_on(smsgate_ledger::open(&url, smsgate_ledger::TextPolicy::Keep))
        .unwrap();
    // A worker that died between claiming rows 100..150 and sending them (its lease: 2 s).
    let rows = (0..600u64)
        .map(|i| {
            smsgate_ledger::NewMessage::new(
                i,
                "",
                numbers[i as usize].clone(),
                format!("recovered message {i}"),
            )
        })
        .collect();
    runtime.block_on(ledger.load(&job, rows)).unwrap();
    let ghost = runtime
        .block_on(ledger.claim_positions(&job, "ghost", (100..150).collect(), 2_000))
        .unwrap();
    assert_eq!(ghost.len(), 50);

    let outputs: Vec<_> = (0..3)
        .map(|k| dir.path().join(format!("worker{k}.jsonl")))
        .collect();
    let worker = |output: &Path| {
        let mut cmd = send(&env, &csv, &url, output);
        Killed(cmd.args(["--job", &job, "--lease", "3"]).spawn().unwrap())
    };
    // The third starts first (on a loaded machine the other two could otherwise take every
    // row before it does), the others once it has rows in flight; then it is killed.
    let mut workers = vec![worker(&outputs[2])];
    let victim = format!("pid{}-", workers[0].0.id());
    let started = Instant::now();
    loop {
        let in_flight = runtime
            .block_on(ledger.messages(&job, vec![smsgate_ledger::State::InFlight]))
            .unwrap();
        if in_flight
            .iter()
            .any(|m| m.worker.as_deref().is_some_and(|w| w.starts_with(&victim)))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the victim never sent"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    workers.extend([worker(&outputs[0]), worker(&outputs[1])]);
    workers[0].0.kill().unwrap();
    workers[0].0.wait().unwrap();
    for worker in &mut workers[1..] {
        let status = worker.0.wait().unwrap();
        assert!(status.code().is_some_and(|c| c == 0), "{status}");
    }

    // Every row has its outcome in the ledger: nothing pending, claimed or in flight.
    let counts = runtime.block_on(ledger.counts(&job)).unwrap();
    let count = |state| {
        counts
            .iter()
            .filter(|c| c.state == state)
            .map(|c| c.messages)
            .sum::<u64>()
    };
    use smsgate_ledger::State;
    for state in [State::Pending, State::Claimed, State::InFlight] {
        assert_eq!(count(state), 0, "{counts:?}");
    }
    let (accepted, unknown) = (count(State::Accepted), count(State::Unknown));
    assert_eq!(accepted + unknown, 600, "{counts:?}");
    assert!(
        unknown <= 200,
        "only the victim's two chunks in flight (one sending, the next recorded): {counts:?}"
    );
    // The ghost's claimed rows were sent by a survivor; no row twice.
    let mut sent_by: BTreeMap<u64, usize> = BTreeMap::new();
    for (k, output) in outputs.iter().enumerate() {
        for line in lines(output) {
            if line["recorded"] != true && line["status"] == "accepted" {
                let index = line["index"].as_u64().unwrap();
                assert!(sent_by.insert(index, k).is_none(), "row {index} sent twice");
            }
        }
    }
    for position in 100..150 {
        assert!(
            matches!(sent_by.get(&position), Some(0 | 1)),
            "released row {position} not sent by a survivor"
        );
    }
    let charged = charged(&env);
    assert!(
        charged >= accepted && charged <= accepted + unknown,
        "charged {charged}, accepted {accepted}, unknown {unknown}"
    );
}

/// A second sender on a SQLite ledger in use is refused before it sends anything (it would
/// take the first one's rows in flight for a crash's).
#[test]
fn a_second_sender_on_a_sqlite_ledger_is_refused() {
    let (_server, _url, env) = sandbox("200ms");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("slow.csv");
    let mut text = String::from("to,content\n");
    for i in 0..300 {
        text.push_str(&format!("+8613{:09},slow message {i}\n", 500_000_000 + i));
    }
    std::fs::write(&csv, text).unwrap();
    let ledger = format!("sqlite:{}", dir.path().join("ledger.db").display());
    let first_output = dir.path().join("first.jsonl");
    let mut first = Killed(send(&env, &csv, &ledger, &first_output).spawn().unwrap());
    let started = Instant::now();
    while !dir.path().join("ledger.db.send-lock").exists() || lines(&first_output).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = send(&env, &csv, &ledger, &dir.path().join("second.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another smsgate send is using the ledger"),
        "{stderr}"
    );
    assert!(lines(&dir.path().join("second.jsonl")).is_empty());
    // The first run is untouched by it.
    assert_eq!(first.0.wait().unwrap().code(), Some(0));
    assert_eq!(lines(&first_output).len(), 300);
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

/// `--ledger-hash-text` keeps no text in the ledger, only its MD5; a rerun still writes every
/// row from the ledger.
#[test]
fn a_hash_only_ledger_keeps_no_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let ledger = format!("sqlite:{}", path.display());
    let csv = dir.path().join("private.csv");
    std::fs::write(
        &csv,
        "to,content\n+8613800138000,your code is 1234\n+8613800138001,your code is 5678\n",
    )
    .unwrap();
    let run = |output: &Path| {
        Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
            .args(["send", "--sandbox", "--provider", "itniotech", "--csv"])
            .arg(&csv)
            .args([
                "--ledger",
                &ledger,
                "--job",
                "private",
                "--ledger-hash-text",
            ])
            .arg("--output")
            .arg(output)
            .output()
            .unwrap()
    };
    let first = dir.path().join("first.jsonl");
    assert_eq!(run(&first).status.code(), Some(0));
    let stored =
        smsgate_ledger::SqliteLedger::open(&path, smsgate_ledger::TextPolicy::HashOnly).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rows = runtime
        .block_on(smsgate_ledger::Ledger::messages(
            &stored,
            "private",
            vec![smsgate_ledger::State::Accepted],
        ))
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|m| m.text.is_none() && m.text_md5.len() == 32)
    );
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(12).any(|w| w == b"your code is"),
        "no text in the file"
    );
    let second = dir.path().join("second.jsonl");
    assert_eq!(run(&second).status.code(), Some(0));
    let again = lines(&second);
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|l| l["recorded"] == true));
}

/// A reqwest client with smsgate's TLS settings (reqwest is built without a default provider).
fn http_client() -> reqwest::Client {
    smsgate_transport::http::client_builder()
        .unwrap()
        .build()
        .unwrap()
}
