//! The real `smsgate` binary against the simulator: happy path, a 10 000-row CSV, a bad CSV
//! row, missing credentials, exit codes, a config file, and a snapshot of the dry-run output.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::io::Write;

use assert_cmd::Command;
use serde_json::Value;

/// The binary with no vendor credentials in its environment.
fn smsgate() -> Command {
    let mut cmd = Command::cargo_bin("smsgate").unwrap();
    for (key, _) in std::env::vars() {
        if ["ITNIOTECH_", "LAAFFIC_", "NXCLOUD_", "TWILIO_", "VONAGE_"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The JSON lines of `path` in input order (lines are written as requests settle).
fn jsonl(path: &std::path::Path) -> Vec<Value> {
    by_index(
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

fn by_index(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(|r| r["index"].as_u64().unwrap());
    rows
}

#[test]
fn sends_to_the_sandbox_and_prints_every_outcome() {
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--to",
            "+8613800138000,+8613800138001",
            "--content",
            "Hello from smsgate",
        ])
        .assert()
        .success()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.matches("accepted by").count(), 2, "{stdout}");
    assert!(stdout.contains("+8613800138000") && stdout.contains("+8613800138001"));
    assert!(stdout.contains("total"), "summary table: {stdout}");
}

/// Twilio and Vonage work with no account: the simulator's own (Twilio's magic From, a Vonage
/// key), a long Unicode text as one outcome per number, Twilio's magic To refused with its code.
#[test]
fn twilio_and_vonage_send_on_the_sandbox_with_no_account() {
    let long = "Привет! ".repeat(20);
    for provider in ["twilio", "vonage"] {
        let out = smsgate()
            .args(["send", "--sandbox", "--json", "--provider", provider])
            .args(["--to", "+14155552345,+447400123456", "--content", &long])
            .assert()
            .code(0);
        let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let rows: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 2, "{stdout}");
        for row in &rows {
            assert_eq!(row["status"], "accepted", "{row}");
            assert_eq!(row["provider"], provider, "{row}");
        }
    }
    let out = smsgate()
        .args(["send", "--sandbox", "--provider", "twilio"])
        .args(["--to", "+15005550003", "--content", "hi"])
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("rejected by twilio") && stdout.contains("21408"),
        "{stdout}"
    );
    let out = smsgate().args(["balance", "--sandbox"]).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("twilio") && stdout.contains("vonage"),
        "{stdout}"
    );
}

#[test]
fn json_output_has_one_object_per_message() {
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--json",
            "--provider",
            "itniotech",
            "--to",
            "+8613800138000,nonsense,+8613800138001",
            "--content",
            "hi",
        ])
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let rows: Vec<Value> = by_index(
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows.iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(rows[0]["status"], "accepted");
    assert_eq!(rows[0]["provider"], "itniotech");
    assert_eq!(rows[1]["status"], "rejected");
    assert_eq!(rows[1]["class"], "invalid-number");
    assert_eq!(rows[2]["number"], "8613800138001");
}

#[test]
fn streams_a_csv_of_ten_thousand_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("recipients.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "to,content,sender_id,client_ref").unwrap();
    for i in 0..10_000 {
        writeln!(
            file,
            "+86 138{i:08},\"Hello {}, your code is {i}\",,ref-{i}",
            i % 7
        )
        .unwrap();
    }
    drop(file);
    let output = dir.path().join("results.jsonl");
    smsgate()
        .args(["send", "--sandbox", "--csv"])
        .arg(&csv)
        .arg("--output")
        .arg(&output)
        .assert()
        .code(0);
    let rows = jsonl(&output);
    assert_eq!(rows.len(), 10_000);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["index"], i as u64);
        assert_eq!(row["line"], (i + 2) as u64);
        assert_eq!(row["client_ref"], format!("ref-{i}"));
        assert_eq!(row["status"], "accepted", "{row}");
    }
}

#[test]
fn a_bad_csv_row_is_reported_with_its_line_and_the_rest_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("recipients.csv");
    std::fs::write(&csv, "to,content\n+8613800138000,first\n+8613800138001,\n+8613800138002,third\n+8613800138000,first\n").unwrap();
    let output = dir.path().join("results.jsonl");
    smsgate()
        .args(["send", "--sandbox", "--csv"])
        .arg(&csv)
        .arg("--output")
        .arg(&output)
        .assert()
        .code(1);
    let rows = jsonl(&output);
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[0]["status"].as_str(), rows[2]["status"].as_str()),
        (Some("accepted"), Some("accepted"))
    );
    assert_eq!(rows[1]["status"], "rejected");
    assert_eq!(rows[1]["line"], 3);
    assert!(
        rows[1]["reason"].as_str().unwrap().starts_with("line 3:"),
        "{}",
        rows[1]
    );
    assert_eq!(
        rows[3]["status"], "rejected",
        "a repeated number and content is flagged"
    );
    assert!(
        rows[3]["reason"]
            .as_str()
            .unwrap()
            .contains("duplicate of message 0")
    );
}

#[test]
fn the_repeat_check_remembers_a_bounded_window_of_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("recipients.csv");
    // With a window of two pairs: row 2 repeats row 0 within the window (flagged, and the same
    // number spelled differently still counts); row 5 repeats row 0 after rows 3 and 4 pushed it
    // out (sent again, and the run says so).
    std::fs::write(
        &csv,
        "to,content\n+8613800138000,a\n+8613800138001,a\n+86 138 0013 8000,a\n+8613800138002,a\n+8613800138003,a\n+8613800138000,a\n",
    )
    .unwrap();
    let output = dir.path().join("results.jsonl");
    let assert = smsgate()
        .args(["send", "--sandbox", "--duplicate-window", "2", "--csv"])
        .arg(&csv)
        .arg("--output")
        .arg(&output)
        .assert()
        .code(1);
    let rows = jsonl(&output);
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "accepted", "accepted", "rejected", "accepted", "accepted", "accepted"
        ]
    );
    assert!(
        rows[2]["reason"]
            .as_str()
            .unwrap()
            .contains("duplicate of message 0")
    );
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--duplicate-window"), "{stderr}");
}

#[test]
fn missing_credentials_are_named_with_exit_code_2() {
    let out = smsgate()
        .args([
            "send",
            "--provider",
            "itniotech",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("ITNIOTECH_API_KEY"), "{stderr}");
    let out = smsgate()
        .args(["send", "--to", "+8613800138000", "--content", "hi"])
        .assert()
        .code(2);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("no provider is configured")
    );
    smsgate()
        .args(["send", "--to", "+8613800138000"])
        .assert()
        .code(2);
    smsgate()
        .args([
            "send",
            "--sandbox",
            "--provider",
            "acme",
            "--to",
            "1",
            "--content",
            "x",
        ])
        .assert()
        .code(2);
}

#[test]
fn unknown_and_rejected_outcomes_set_the_exit_code() {
    smsgate()
        .args([
            "send",
            "--sandbox",
            "--fault",
            "http500=1",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .assert()
        .code(3);
    smsgate()
        .args([
            "send",
            "--sandbox",
            "--fault",
            "reject=1",
            "--provider",
            "nxcloud",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .assert()
        .code(1);
}

#[test]
fn a_config_file_selects_providers_and_base_urls() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(smsgate_sandbox::Sandbox::start(
            smsgate_sandbox::SandboxConfig::default(),
        ))
        .unwrap();
    let c = sandbox.config().account("laaffic").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgate.toml");
    std::fs::write(
        &config,
        format!(
            "providers = [\"laaffic\"]\n[laaffic]\napi_key = \"{}\"\napi_secret = \"{}\"\napp_id = \"{}\"\nbase_url = \"{}\"\n",
            c.setting("api_key").unwrap(),
            c.setting("api_secret").unwrap(),
            c.setting("app_id").unwrap(),
            sandbox.url()
        ),
    )
    .unwrap();
    let out = smsgate()
        .arg("--config")
        .arg(&config)
        .args([
            "send",
            "--json",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .assert()
        .code(0);
    let row: Value = serde_json::from_slice(
        out.get_output()
            .stdout
            .split(|b| *b == b'\n')
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(row["provider"], "laaffic");
    let message_id = row["message_id"].as_str().unwrap().to_owned();
    let out = smsgate()
        .arg("--config")
        .arg(&config)
        .args(["report", &message_id])
        .assert();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains(&message_id), "{stdout}");
    let out = smsgate()
        .arg("--config")
        .arg(&config)
        .arg("balance")
        .assert()
        .code(0);
    assert!(String::from_utf8_lossy(&out.get_output().stdout).starts_with("laaffic"));
    std::fs::write(
        &config,
        "providers = [\"laaffic\"]\n[laaffic]\napi_key = \"k\"\n",
    )
    .unwrap();
    let out = smsgate()
        .arg("--config")
        .arg(&config)
        .args(["send", "--to", "1", "--content", "x"])
        .assert()
        .code(2);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .contains("laaffic: api_secret is not set")
    );
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn dry_run_prints_the_requests_without_sending() {
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--dry-run",
            "--provider",
            "itniotech,nxcloud",
            "--to",
            "+8613800138000,+86 138-0013-8001",
            "--content",
            "Your code is 4711",
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        !stdout.contains("sandbox-itniotech-secret") && !stdout.contains("sandbox-nxcloud-secret")
    );
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"Timestamp: \d+", "Timestamp: [timestamp]"),
        (r"\b\d{20}\b", "[reference]"),
    ]}, {
        insta::assert_snapshot!(stdout);
    });
}

#[test]
fn sandbox_command_serves_until_stopped() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["sandbox", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_owned();
    let exports: Vec<String> = lines.by_ref().take(4).map(Result::unwrap).collect();
    assert!(
        exports
            .iter()
            .any(|l| l.contains("NXCLOUD_ACCESS_SECRET=sandbox-nxcloud-secret")),
        "{exports:?}"
    );
    // The printed credentials work against the printed URL.
    let out = smsgate()
        .env("ITNIOTECH_API_KEY", "sandbox-itniotech-key")
        .env("ITNIOTECH_API_SECRET", "sandbox-itniotech-secret")
        .env("ITNIOTECH_APP_ID", "sandbox-itniotech-app")
        .env("ITNIOTECH_BASE_URL", &url)
        .args([
            "send",
            "--json",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .assert()
        .code(0);
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout).contains("\"provider\":\"itniotech\"")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sandbox_takes_its_credentials_from_the_config_file() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgate.toml");
    std::fs::write(
        &config,
        "[nxcloud]\naccess_key = \"my-key\"\naccess_secret = \"my-secret\"\napp_key = \"my-app\"\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .arg("--config")
        .arg(&config)
        .args(["sandbox", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_owned();
    // Every vendor's line, then the note on the secrets of the file (read up to it).
    let banner: Vec<String> = lines
        .by_ref()
        .map(Result::unwrap)
        .take_while(|l| !l.starts_with("press Ctrl-C"))
        .collect();
    assert!(
        banner
            .iter()
            .any(|l| l.contains("NXCLOUD_ACCESS_KEY=my-key")),
        "{banner:?}"
    );
    // The secret is the user's: it is never printed, only said to come from the file.
    assert!(
        banner.iter().all(|l| !l.contains("my-secret")),
        "{banner:?}"
    );
    assert!(
        banner
            .iter()
            .any(|l| l.contains("secrets of nxcloud are those of the --config file")),
        "{banner:?}"
    );
    std::fs::write(&config, format!("[nxcloud]\naccess_key = \"my-key\"\naccess_secret = \"my-secret\"\napp_key = \"my-app\"\nbase_url = \"{url}\"\n")).unwrap();
    smsgate()
        .arg("--config")
        .arg(&config)
        .args(["send", "--to", "+8613800138000", "--content", "hi"])
        .assert()
        .code(0);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `status` counts a ledger job's messages per state and provider (table or JSON); a job the
/// ledger does not hold, or a URL it cannot open, is a usage error.
#[tokio::test]
async fn status_counts_a_ledger_job() {
    use smsgate_ledger::{Ledger, NewMessage, Settled, Settlement, SqliteLedger, TextPolicy};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let ledger = SqliteLedger::open(&path, TextPolicy::Keep).unwrap();
    let rows = (0..4)
        .map(|i| NewMessage::new(i, format!("r{i}"), format!("861380013800{i}"), "hi"))
        .collect();
    ledger.load("campaign", rows).await.unwrap();
    ledger.claim("campaign", "w", 3, 60_000).await.unwrap();
    ledger.start("campaign", "w", vec![0, 1, 2]).await.unwrap();
    ledger
        .settle(
            "campaign",
            vec![
                Settlement::accepted(0, "twilio", "SM0", vec![]),
                Settlement::accepted(1, "twilio", "SM1", vec![]),
                Settlement::other(2, Settled::Unknown, "timeout"),
            ],
        )
        .await
        .unwrap();
    let url = format!("sqlite:{}", path.display());

    let out = smsgate()
        .args(["status", "--ledger", &url, "--job", "campaign"])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("accepted") && stdout.contains("twilio"),
        "{stdout}"
    );
    let total = stdout.lines().last().unwrap();
    assert!(
        total.starts_with("total") && total.ends_with(" 4"),
        "{stdout}"
    );

    let out = smsgate()
        .args(["status", "--ledger", &url, "--job", "campaign", "--json"])
        .assert()
        .code(0);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["total"], 4);
    let counts = json["counts"].as_array().unwrap();
    let of = |state: &str| {
        counts
            .iter()
            .filter(|c| c["state"] == state)
            .map(|c| c["messages"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!((of("accepted"), of("unknown"), of("pending")), (2, 1, 1));

    smsgate()
        .args(["status", "--ledger", &url, "--job", "nosuchjob"])
        .assert()
        .code(2);
    let out = smsgate()
        .args([
            "status",
            "--ledger",
            "mysql://u:pw@h/db",
            "--job",
            "campaign",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("sqlite:PATH") && !stderr.contains("pw"),
        "{stderr}"
    );
}
