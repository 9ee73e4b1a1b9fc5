//! What a person at a terminal reads: failover named in text lines and warned about once per
//! provider, logs on request, the progress lines off a terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::collections::BTreeMap;

use assert_cmd::Command;

/// The binary with no vendor credentials (nor RUST_LOG) in its environment.
fn smsgate() -> Command {
    let mut cmd = Command::cargo_bin("smsgate").unwrap();
    for (key, _) in std::env::vars() {
        if [
            "ITNIOTECH_",
            "LAAFFIC_",
            "NXCLOUD_",
            "TWILIO_",
            "VONAGE_",
            "RUST_LOG",
        ]
        .iter()
        .any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// A running simulator and a config file for it: `providers` in that order, each with the
/// simulator's credentials except the overrides (`vendor`, `key`, `value`).
struct Simulated {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<smsgate_sandbox::Sandbox>,
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

impl Simulated {
    fn start(providers: &[&str], overrides: &[(&str, &str, &str)]) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sandbox = runtime
            .block_on(smsgate_sandbox::Sandbox::start(
                smsgate_sandbox::SandboxConfig::default(),
            ))
            .unwrap();
        let mut text = format!(
            "providers = [{}]\n",
            providers
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for vendor in providers {
            text.push_str(&format!("[{vendor}]\nbase_url = {:?}\n", sandbox.url()));
            for (key, value) in sandbox.settings(vendor) {
                let value = overrides
                    .iter()
                    .find(|(v, k, _)| v == vendor && *k == key)
                    .map_or(value, |(_, _, v)| *v);
                text.push_str(&format!("{key} = {value:?}\n"));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("smsgate.toml");
        std::fs::write(&config, text).unwrap();
        Self {
            runtime,
            sandbox: Some(sandbox),
            _dir: dir,
            config,
        }
    }
}

impl Drop for Simulated {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.runtime.block_on(sandbox.shutdown());
        }
    }
}

#[test]
fn failover_is_named_on_each_line_and_warned_once_per_provider() {
    let sim = Simulated::start(
        &["nxcloud", "itniotech"],
        &[("nxcloud", "access_secret", "not-the-secret")],
    );
    let out = smsgate()
        .arg("--config")
        .arg(&sim.config)
        .args([
            "send",
            "--to",
            "+8613800138000,+8613800138001,+8613800138002",
            "--content",
            "hello",
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("+86")).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for line in lines {
        assert!(line.contains("accepted by itniotech as "), "{line}");
        assert!(line.contains(" after nxcloud refused: "), "{line}");
    }
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("warning: nxcloud refused whole requests"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("3 message(s): 3 moved to itniotech"),
        "{stderr}"
    );
    assert!(warnings[0].contains("check its credentials"), "{stderr}");
    // The secret given is never printed.
    assert!(!stdout.contains("not-the-secret") && !stderr.contains("not-the-secret"));
    // Above the summary: the warning is written before it (stderr), and the summary counts
    // itniotech only.
    assert!(stdout.contains("itniotech"), "{stdout}");
}

#[test]
fn a_rejection_says_whether_sending_again_is_safe() {
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--provider",
            "nxcloud",
            "--to",
            "+8613800138000,+12",
            "--content",
            "hello",
        ])
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let rejected = stdout.lines().find(|l| l.starts_with("+12")).unwrap();
    assert!(rejected.contains("rejected"), "{rejected}");
    assert!(rejected.ends_with("(do not resend as is)"), "{rejected}");
}

#[test]
fn verbose_logs_and_rust_log_go_to_stderr_and_quiet_silences_them() {
    let sim = Simulated::start(
        &["nxcloud", "itniotech"],
        &[("nxcloud", "access_secret", "not-the-secret")],
    );
    let run = |args: &[&str], rust_log: Option<&str>| {
        let mut cmd = smsgate();
        cmd.arg("--config").arg(&sim.config).args(args).args([
            "send",
            "--to",
            "+8613800138000",
            "--content",
            "hello",
        ]);
        if let Some(directives) = rust_log {
            cmd.env("RUST_LOG", directives);
        }
        let out = cmd.assert().code(0);
        String::from_utf8(out.get_output().stderr.clone()).unwrap()
    };
    // By default the failover is a warning in the log too.
    let plain = run(&[], None);
    assert!(
        plain.contains("WARN") && plain.contains("failover"),
        "{plain}"
    );
    // -vv: debug lines of smsgate's crates.
    let verbose = run(&["-vv"], None);
    assert!(verbose.contains("DEBUG"), "{verbose}");
    // RUST_LOG wins over the flags.
    let errors_only = run(&["-vv"], Some("error"));
    assert!(
        !errors_only.contains("DEBUG") && !errors_only.contains("WARN"),
        "{errors_only}"
    );
    // --quiet: no log, no progress, no warning note.
    let quiet = run(&["--quiet"], None);
    assert!(
        !quiet.contains("WARN") && !quiet.contains("warning:"),
        "{quiet}"
    );
    assert!(!quiet.contains("sending;"), "{quiet}");
    for stderr in [&plain, &verbose, &errors_only, &quiet] {
        assert!(!stderr.contains("not-the-secret"), "{stderr}");
    }
    // A malformed RUST_LOG is a usage error.
    let out = smsgate()
        .env("RUST_LOG", "smsgate=loud")
        .args([
            "send",
            "--sandbox",
            "--to",
            "+8613800138000",
            "--content",
            "x",
        ])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("RUST_LOG"));
}

#[test]
fn off_a_terminal_progress_is_plain_lines_with_the_counted_total() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    let mut text = String::from("to,content\n");
    for i in 0..300 {
        text.push_str(&format!("+8613{:09},progress {i}\n", 700_000_000 + i));
    }
    std::fs::write(&csv, text).unwrap();
    let out = smsgate()
        .args(["send", "--sandbox", "--provider", "nxcloud", "--csv"])
        .arg(&csv)
        .args(["--output", "/dev/null"])
        .assert()
        .code(0);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("smsgate: 300 of 300 rows (100%)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("accepted 300 · rejected 0 · unknown 0"),
        "{stderr}"
    );
}

/// A CSV of `rows` (header first) in a fresh directory.
fn csv_file(rows: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    (dir, path)
}

#[test]
fn a_template_is_filled_from_each_rows_columns() {
    let (_dir, csv) = csv_file(&[
        "to,name,code",
        "+8613800138000,Ann,1234",
        "+8613800138001,Zoë,99",
        "+8613800138002,Bob,",
    ]);
    let template = "Hi {name}, your code is {code} {{not a placeholder}}";
    // Preview shows the texts as they will be sent.
    let out = smsgate()
        .args(["preview", "--provider", "nxcloud", "--csv"])
        .arg(&csv)
        .args(["--content", template])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("\"Hi Ann, your code is 1234 {not a placeholder}\""),
        "{stdout}"
    );
    // Segments are counted on the filled text: Zoë's makes it UCS-2.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("+8613800138001") && l.contains("UCS-2")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("+8613800138000") && l.contains("GSM-7")),
        "{stdout}"
    );
    // Sent: two accepted; the row whose `code` is empty is refused, never sent with a hole.
    let out = smsgate()
        .args([
            "send",
            "--sandbox",
            "--provider",
            "nxcloud",
            "--json",
            "--csv",
        ])
        .arg(&csv)
        .args(["--content", template])
        .assert()
        .code(1);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let by_to = |to: &str| lines.iter().find(|l| l["to"] == to).unwrap().clone();
    assert_eq!(by_to("+8613800138000")["status"], "accepted");
    assert_eq!(by_to("+8613800138001")["status"], "accepted");
    let refused = by_to("+8613800138002");
    assert_eq!(refused["status"], "rejected");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("column `code` is empty"),
        "{refused}"
    );
}

#[test]
fn a_template_naming_a_missing_column_sends_nothing() {
    let (_dir, csv) = csv_file(&["to,name", "+8613800138000,Ann"]);
    for template in ["Hi {first_name}", "Hi {name", "Hi name}"] {
        let out = smsgate()
            .args(["send", "--sandbox", "--provider", "nxcloud", "--csv"])
            .arg(&csv)
            .args(["--content", template])
            .assert()
            .code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains("--content"), "{template}: {stderr}");
        assert!(out.get_output().stdout.is_empty(), "{template}");
    }
    let out = smsgate()
        .args(["send", "--sandbox", "--csv"])
        .arg(&csv)
        .args(["--content", "Hi {first_name}"])
        .assert()
        .code(2);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .contains("no column `first_name` (its columns: to, name)")
    );
}

#[test]
fn preview_and_dry_run_need_no_credentials_and_say_so() {
    // preview --json: one object per message, then the requests.
    let out = smsgate()
        .args([
            "preview",
            "--json",
            "--provider",
            "nxcloud",
            "--to",
            "+8613800138000,+8613800138001",
            "--content",
            "  two spaces ",
        ])
        .assert()
        .code(0);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["number"], "8613800138000");
    assert_eq!(lines[0]["text"], "  two spaces ");
    assert_eq!(lines[0]["encoding"], "GSM-7");
    assert_eq!(lines[2]["request"]["provider"], "nxcloud");
    assert_eq!(lines[2]["request"]["messages"], 2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("no credentials for nxcloud"), "{stderr}");
    // send --dry-run: the request with placeholders where credentials are missing.
    let out = smsgate()
        .args([
            "send",
            "--dry-run",
            "--provider",
            "nxcloud",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("accessKey: PLACEHOLDER-ACCESS_KEY"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"appKey\":\"PLACEHOLDER-APP_KEY\""),
        "{stdout}"
    );
    // With no provider named and no credentials at all, every vendor plans with placeholders
    // (Twilio's auth_token is one of two choices, not a required key: it gets one too).
    for command in [&["preview"][..], &["send", "--dry-run"]] {
        let out = smsgate()
            .args(command)
            .args(["--to", "+8613800138000", "--content", "hi"])
            .assert()
            .code(0);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.contains("no credentials for nxcloud, itniotech, laaffic, twilio, vonage"),
            "{stderr}"
        );
    }
    // preview takes only what it uses.
    for option in [["--output", "x.jsonl"], ["--ledger", "sqlite:x.db"]] {
        smsgate()
            .args(["preview", "--to", "+8613800138000", "--content", "hi"])
            .args(option)
            .assert()
            .code(2);
    }
}

#[test]
fn report_names_ids_no_provider_knows_and_refuses_an_empty_simulator() {
    let sim = Simulated::start(&["itniotech"], &[]);
    let out = smsgate()
        .arg("--config")
        .arg(&sim.config)
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
    let line: serde_json::Value = serde_json::from_slice(
        out.get_output()
            .stdout
            .split(|b| *b == b'\n')
            .next()
            .unwrap(),
    )
    .unwrap();
    let id = line["message_id"].as_str().unwrap().to_owned();
    let out = smsgate()
        .arg("--config")
        .arg(&sim.config)
        .args(["report", &id, "999999999"])
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("itniotech") && l.contains(&id)),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("999999999") && l.contains("not found (asked itniotech)")),
        "{stdout}"
    );
    let out = smsgate()
        .args(["report", "--sandbox", "123"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("knows no message id"));
}

/// Runs `send --sandbox --json` with a config file of `config` over `to`; returns each row's
/// provider, in input order.
fn sandbox_providers(config: &str, to: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smsgate.toml");
    std::fs::write(&path, config).unwrap();
    let out = smsgate()
        .arg("--config")
        .arg(&path)
        .args(["send", "--sandbox", "--json", "--to", to, "--content", "hi"])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Lines come as requests settle: put them in input order.
    let mut rows: Vec<(u64, String)> = stdout
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(row["status"], "accepted", "{line}");
            let provider = row["provider"].as_str().unwrap().to_owned();
            (row["index"].as_u64().unwrap(), provider)
        })
        .collect();
    rows.sort();
    assert_eq!(rows.len(), to.split(',').count(), "{stdout}");
    rows.into_iter().map(|(_, provider)| provider).collect()
}

#[test]
fn the_configs_routing_spreads_and_routes_sandbox_runs() {
    let config = r#"
providers = ["nxcloud", "itniotech"]
[routing]
strategy = "weighted"
weights = { nxcloud = 3, itniotech = 1 }
[[routing.rules]]
prefix = "44"
providers = ["itniotech"]
"#;
    let providers = sandbox_providers(
        config,
        "+8613800138000,+447911123456,+8613800138001,+8613800138002,+8613800138003",
    );
    assert_eq!(
        providers,
        ["nxcloud", "itniotech", "nxcloud", "nxcloud", "itniotech"]
    );
    let round_robin =
        "providers = [\"nxcloud\", \"itniotech\"]\n[routing]\nstrategy = \"round-robin\"\n";
    let providers = sandbox_providers(round_robin, "+8613800138000,+8613800138001,+8613800138002");
    assert_eq!(providers, ["nxcloud", "itniotech", "nxcloud"]);
}

#[test]
fn a_routing_that_cannot_work_is_a_config_error_before_any_traffic() {
    let cases = [
        (
            "[routing]\n[[routing.rules]]\nprefix = \"44\"\nproviders = [\"itniotek\"]\n",
            "unknown provider \"itniotek\"",
        ),
        (
            "[routing]\nweights = { nxcloud = 3 }\n",
            "weights apply only with strategy = \"weighted\"",
        ),
        ("[routing]\nstrategy = \"weighted\"\n", "needs weights"),
        (
            "[routing]\nstrategy = \"fastest\"\n",
            "unknown variant `fastest`",
        ),
        (
            "[routing]\n[[routing.rules]]\nprefix = \"UK\"\nproviders = [\"nxcloud\"]\n",
            "prefix \"UK\" is not 1 to 15 digits",
        ),
        (
            "providers = [\"nxcloud\"]\n[routing]\n[[routing.rules]]\nprefix = \"44\"\nproviders = [\"itniotech\"]\n",
            "the rule for prefix 44 names only providers this run does not use",
        ),
        (
            "providers = [\"nxcloud\", \"laaffic\"]\n[routing]\nstrategy = \"weighted\"\nweights = { itniotech = 1 }\n",
            "no provider of this run (nxcloud, laaffic) has a weight above 0",
        ),
    ];
    for (config, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smsgate.toml");
        std::fs::write(&path, config).unwrap();
        let out = smsgate()
            .arg("--config")
            .arg(&path)
            .args([
                "send",
                "--sandbox",
                "--to",
                "+447911123456",
                "--content",
                "hi",
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(expected), "{config}\n{stderr}");
        assert!(out.get_output().stdout.is_empty(), "{config}");
    }
}

#[test]
fn preview_of_a_long_file_routes_every_chunk_as_the_send_does() {
    // 1001 rows: more than one 1000-row chunk, and 1000 is not a multiple of 3 providers.
    let mut rows = vec!["to".to_owned()];
    rows.extend((0..1001).map(|i| format!("+86138{i:08}")));
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (dir, csv) = csv_file(&rows);
    let config = dir.path().join("smsgate.toml");
    std::fs::write(
        &config,
        "providers = [\"nxcloud\", \"itniotech\", \"laaffic\"]\n[routing]\nstrategy = \"round-robin\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = smsgate()
            .arg("--config")
            .arg(&config)
            .args(args)
            .arg("--csv")
            .arg(&csv)
            .args(["--content", "hi", "--json"])
            .assert()
            .code(0);
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let mut planned: BTreeMap<String, u64> = BTreeMap::new();
    for line in run(&["preview"]).lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(request) = value.get("request") {
            *planned
                .entry(request["provider"].as_str().unwrap().to_owned())
                .or_default() += request["messages"].as_u64().unwrap();
        }
    }
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    for line in run(&["send", "--sandbox"]).lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        *sent
            .entry(value["provider"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let expected = BTreeMap::from([
        ("itniotech".to_owned(), 334),
        ("laaffic".to_owned(), 333),
        ("nxcloud".to_owned(), 334),
    ]);
    assert_eq!(planned, expected);
    assert_eq!(sent, expected);
}
