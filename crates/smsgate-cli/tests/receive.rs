//! `smsgate receive`: the simulator's delivery reports of every vendor, pushed to the receiver,
//! are matched into the ledger `send --ledger` wrote; forged, oversized and unreadable reports
//! are refused; a report for an id the ledger does not know is kept and written.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use smsgate_ledger::{Ledger, SqliteLedger, State, TextPolicy};
use smsgate_sandbox::{Sandbox, SandboxConfig};

const TOKEN: &str = "receive-test-token-0123456789abcdef";
const VONAGE_SIGNATURE_SECRET: &str = "vonage-receipt-signing-secret";
const VENDORS: [&str; 5] = ["nxcloud", "itniotech", "laaffic", "twilio", "vonage"];

/// A receiver process, killed when the test ends; its URL and the lines it wrote.
struct Receiver {
    child: Child,
    url: String,
    lines: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts `smsgate receive` on a free port with `env` (settings whose secrets check
    /// signatures).
    fn start(ledger: &str, env: &[(String, String)], extra: &[&str]) -> Self {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
            .args(["receive", "--listen", "127.0.0.1:0", "--ledger", ledger])
            .args(extra)
            .env("SMSGATE_RECEIVE_TOKEN", TOKEN)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut banner = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        banner.read_line(&mut first).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_owned();
        let stderr = Arc::new(Mutex::new(first));
        {
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in banner.lines() {
                    let mut stderr = stderr.lock().unwrap();
                    stderr.push_str(&line.unwrap());
                    stderr.push('\n');
                }
            });
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        {
            let lines = Arc::clone(&lines);
            let stdout = BufReader::new(child.stdout.take().unwrap());
            std::thread::spawn(move || {
                for line in stdout.lines() {
                    let line = line.unwrap();
                    lines
                        .lock()
                        .unwrap()
                        .push(serde_json::from_str(&line).unwrap());
                }
            });
        }
        Self {
            child,
            url,
            lines,
            stderr,
        }
    }

    fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }
}

/// The environment variables of `vendor`'s sandbox account (and its base URL).
fn env_of(sandbox: &Sandbox, vendor: &str) -> Vec<(String, String)> {
    let descriptor = smsgate::registry::vendor(vendor).unwrap();
    let mut env: Vec<(String, String)> = sandbox
        .settings(vendor)
        .map(|(key, value)| (descriptor.env_name(key), value.to_owned()))
        .collect();
    env.push((descriptor.env_name("base_url"), sandbox.url().to_owned()));
    env
}

/// A simulator whose Vonage account signs (requests and receipts), pushing to `push_url`.
async fn sandbox(push_url: Option<String>) -> Sandbox {
    let mut config = SandboxConfig {
        push_url,
        ..SandboxConfig::default()
    };
    config
        .account_mut("vonage")
        .unwrap()
        .set("signature_secret", VONAGE_SIGNATURE_SECRET)
        .unwrap()
        .set("signature_method", "sha256")
        .unwrap();
    Sandbox::start(config).await.unwrap()
}

fn send(env: &[(String, String)], vendor: &str, csv: &Path, ledger: &str) {
    let status = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["send", "--provider", vendor, "--csv"])
        .arg(csv)
        .args(["--ledger", ledger, "--job", vendor, "--output", "/dev/null"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "send through {vendor}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_s_reports_are_matched_into_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_url = format!("sqlite:{}", dir.path().join("ledger.db").display());
    // The receiver checks Twilio's and Vonage's signatures with the accounts' secrets (the
    // simulator's defaults); the other vendors do not sign: the token path admits them.
    let plain = sandbox(None).await;
    let mut secrets = env_of(&plain, "twilio");
    secrets.extend(env_of(&plain, "vonage"));
    plain.shutdown().await;
    let receiver = Receiver::start(&ledger_url, &secrets, &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !receiver.stderr.lock().unwrap().contains("pushes here with") {
        assert!(Instant::now() < deadline, "no banner");
        std::thread::sleep(Duration::from_millis(10));
    }
    let banner = receiver.stderr.lock().unwrap().clone();
    assert!(banner.contains("receiving delivery reports on"), "{banner}");
    assert!(banner.contains("/TOKEN/nxcloud"), "{banner}");
    // A token given is never printed (the paths show TOKEN).
    assert!(!banner.contains(TOKEN), "{banner}");

    let sandbox = sandbox(Some(format!("{}/{TOKEN}/{{vendor}}", receiver.url))).await;
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "to,content\n+8613800138000,first\n+8613800138001,second\n+8613800138002,third\n",
    )
    .unwrap();
    for vendor in VENDORS {
        send(&env_of(&sandbox, vendor), vendor, &csv, &ledger_url);
    }

    // Every row of every job ends delivered or undelivered: its report was received and
    // matched, also when it arrived before the sender recorded the acceptance.
    let ledger = SqliteLedger::open_url(&ledger_url, TextPolicy::Keep).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut settled = 0;
        for vendor in VENDORS {
            settled += ledger
                .messages(vendor, vec![State::Delivered, State::Undelivered])
                .await
                .unwrap()
                .len();
        }
        if settled == 3 * VENDORS.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {settled} of {} rows have a report; receiver said: {}; lines: {:?}",
            3 * VENDORS.len(),
            receiver.stderr.lock().unwrap(),
            receiver.lines()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for vendor in VENDORS {
        for message in ledger
            .messages(vendor, vec![State::Delivered, State::Undelivered])
            .await
            .unwrap()
        {
            let (report_state, vendor_status) = message.report.clone().unwrap();
            assert!(
                ["delivered", "undelivered", "rejected"].contains(&report_state.as_str()),
                "{vendor}: {message:?}"
            );
            assert!(!vendor_status.is_empty());
            assert_eq!(message.provider.as_deref(), Some(vendor));
        }
    }
    // One JSON line per report, each naming its provider and message id.
    let lines = receiver.lines();
    for vendor in VENDORS {
        let of_vendor: Vec<&Value> = lines.iter().filter(|l| l["provider"] == vendor).collect();
        assert!(of_vendor.len() >= 3, "{vendor}: {lines:?}");
        assert!(
            of_vendor
                .iter()
                .all(|l| l["message_id"].as_str().is_some_and(|id| !id.is_empty()))
        );
    }
    assert_eq!(sandbox.push_stats().dropped(), 0, "every push acknowledged");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_oversized_and_unreadable_reports_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_url = format!("sqlite:{}", dir.path().join("ledger.db").display());
    let plain = sandbox(None).await;
    let mut secrets = env_of(&plain, "twilio");
    secrets.extend(env_of(&plain, "vonage"));
    plain.shutdown().await;
    let receiver = Receiver::start(&ledger_url, &secrets, &["--max-body", "4096"]);
    let http = http_client();
    let post = |path: String, body: String| {
        let http = http.clone();
        let url = format!("{}{path}", receiver.url);
        async move {
            let answer = http
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            (status, answer.text().await.unwrap())
        }
    };
    let report = "phone=8613800138000&status=2&result=DELIVRD&drtime=2026-12-01+08%3A00%3A00&messageid=NOT-SENT-BY-US&currency=USD&price=0.005&rate=1&sendtime=2026-12-01+07%3A59%3A59&size=1&ext=";

    // An unsigned vendor's report: only under the token.
    assert_eq!(post("/nxcloud".into(), report.into()).await.0, 404);
    let wrong = format!("/{}/nxcloud", "x".repeat(TOKEN.len()));
    assert_eq!(post(wrong, report.into()).await.0, 404);
    // Under the token: acknowledged as nxcloud expects, kept although no message has the id.
    let (status, body) = post(format!("/{TOKEN}/nxcloud"), report.into()).await;
    assert_eq!((status, body.as_str()), (200, "success"));
    // Twilio's signature is checked on its own path and under the token.
    let callback =
        "MessageSid=SM00000000000000000000000000000000&MessageStatus=delivered&AccountSid=AC1";
    assert_eq!(post("/twilio".into(), callback.into()).await.0, 403);
    assert_eq!(
        post(format!("/{TOKEN}/twilio"), callback.into()).await.0,
        403
    );
    // A Vonage receipt without a signature, or with a stale one.
    let receipt =
        "msisdn=447700900123&to=smsgate&messageId=0A0000000000&status=delivered&err-code=0";
    assert_eq!(post("/vonage".into(), receipt.into()).await.0, 403);
    // Too large, unreadable.
    let (status, _) = post(format!("/{TOKEN}/nxcloud"), "a=".repeat(5000)).await;
    assert_eq!(status, 413);
    let (status, _) = post(format!("/{TOKEN}/itniotech"), "{not json".into()).await;
    assert_eq!(status, 400);
    // A GET report carries its fields in the query string.
    let answer = http
        .get(format!("{}/{TOKEN}/nxcloud?{report}", receiver.url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);

    // The two accepted reports: written, unmatched, and kept in the ledger.
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.lines().len() < 2 {
        assert!(Instant::now() < deadline, "{:?}", receiver.lines());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lines = receiver.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        assert_eq!(line["provider"], "nxcloud");
        assert_eq!(line["message_id"], "NOT-SENT-BY-US");
        assert_eq!(line["matched"], false);
        assert_eq!(line["state"], "delivered");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !receiver
        .stderr
        .lock()
        .unwrap()
        .contains("refused (HTTP 403)")
    {
        assert!(
            Instant::now() < deadline,
            "{}",
            receiver.stderr.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stderr = receiver.stderr.lock().unwrap().clone();
    assert!(!stderr.contains("sandbox-twilio-secret"), "{stderr}");
    assert!(!stderr.contains(VONAGE_SIGNATURE_SECRET), "{stderr}");
}

#[test]
fn a_short_or_unsafe_token_is_refused() {
    for token in ["short", "has/slash-in-it-0123456789abc"] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
            .args([
                "receive",
                "--listen",
                "127.0.0.1:0",
                "--ledger",
                "sqlite::memory:",
            ])
            .args(["--token", token])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("at least 22 characters"), "{stderr}");
    }
}

/// A reqwest client with smsgate's TLS settings (reqwest is built without a default provider).
fn http_client() -> reqwest::Client {
    smsgate_transport::http::client_builder()
        .unwrap()
        .build()
        .unwrap()
}
