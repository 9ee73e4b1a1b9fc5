//! The simulator's inbox in a real browser: `smsgate sandbox` runs as a process, headless
//! Chromium (driven through chromedriver) opens its page, and messages sent with `smsgate send`
//! appear without a reload; the test filters, opens one (its raw request shows, its secrets do
//! not), clears the inbox, and stores screenshots under `target/tmp/inbox-e2e/`.
//!
//! Needs `SMSGATE_TEST_CHROMEDRIVER` (the chromedriver binary; Chromium is
//! `SMSGATE_TEST_CHROMIUM`, default `/usr/bin/chromium`). `cargo xtask ci` sets it, installing
//! Debian's chromium and chromium-driver with `.ci/chromium.sh` when absent. Never skipped: a
//! missing browser fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long the page may take to show what the test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where the screenshots go (kept after the run, as the test's artifacts).
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inbox-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `smsgate sandbox --port 0 --keep 3`: the process, its URL and the environment its banner
/// exports.
fn start_sandbox() -> (Killed, String, String, Vec<(String, String)>) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["sandbox", "--port", "0", "--keep", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_owned();
    let mut exports = Vec::new();
    let mut inbox = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("export ") {
            for pair in rest.split_whitespace() {
                let (name, value) = pair.split_once('=').unwrap();
                exports.push((name.to_owned(), value.to_owned()));
            }
        }
        if let Some(rest) = line.strip_prefix("inbox: ") {
            inbox = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        if line.starts_with("press Ctrl-C") {
            break;
        }
    }
    let inbox = inbox.unwrap_or_else(|| panic!("the banner names no inbox URL"));
    assert_eq!(
        inbox,
        format!("{url}/"),
        "the inbox is at the sandbox's root"
    );
    // Keep reading the banner's pipe so the server never blocks on a full one.
    std::thread::spawn(move || for _ in lines {});
    (child, url, inbox, exports)
}

/// chromedriver on a free loopback port, and its URL.
fn start_chromedriver() -> (Killed, String) {
    let driver = std::env::var("SMSGATE_TEST_CHROMEDRIVER").unwrap_or_else(|_| {
        panic!(
            "SMSGATE_TEST_CHROMEDRIVER is not set: run `cargo xtask ci` (it installs Chromium and \
             chromedriver with .ci/chromium.sh when absent), or set it to the chromedriver \
             binary (Debian: apt-get install chromium chromium-driver; /usr/bin/chromedriver); \
             this test never skips"
        )
    });
    let mut child = Command::new(&driver)
        .args(["--port=0", "--allowed-ips=127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run chromedriver {driver:?}: {err}"));
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let mut lines = BufReader::new(stdout).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("started successfully on port ")
                .map(|(_, port)| port.trim_end_matches('.').trim().to_owned())
        })
        .unwrap_or_else(|| panic!("chromedriver {driver:?} did not say its port"));
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://127.0.0.1:{port}"))
}

/// A headless Chromium session (as root it needs `--no-sandbox`: a throwaway test browser that
/// only opens the loopback sandbox).
async fn browser(driver: &str) -> Client {
    let chromium =
        std::env::var("SMSGATE_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is not at {chromium:?}: run .ci/chromium.sh or set SMSGATE_TEST_CHROMIUM"
    );
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--window-size=1440,900",
                "--lang=en-GB",
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    // chromedriver listens on loopback without TLS: a plain HTTP connector is all it needs.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver)
        .await
        .unwrap_or_else(|err| panic!("no browser session from chromedriver at {driver}: {err}"))
}

/// Runs `script` in the page until it returns `wanted` (at most [`PATIENCE`]).
async fn until(page: &Client, what: &str, script: &str, wanted: Value) -> Value {
    let started = Instant::now();
    loop {
        let got = page.execute(script, Vec::new()).await.unwrap();
        if got == wanted {
            return got;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: still {got} after {PATIENCE:?}, wanted {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The number of listed messages.
const ROWS: &str = "return document.querySelectorAll('#rows tr').length";

/// `smsgate send --json` through the running sandbox; the one result line.
fn send(exports: &[(String, String)], provider: &str, to: &str, content: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("smsgate")
        .unwrap()
        .current_dir(dir.path())
        .envs(exports.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args([
            "send",
            "--json",
            "--provider",
            provider,
            "--to",
            to,
            "--content",
            content,
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let row: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(row["status"], "accepted", "{row}");
    row
}

/// The text of the cell `column` (a class) of row `index`, exactly (`textContent`, whitespace
/// kept).
async fn cell(page: &Client, index: usize, column: &str) -> String {
    let script = format!(
        "return document.querySelectorAll('#rows tr')[{index}].querySelector('td.{column}').textContent"
    );
    page.execute(&script, Vec::new())
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_shows_messages_live_filters_opens_and_clears_in_a_browser() {
    let (_sandbox, url, inbox, exports) = start_sandbox();
    let (_driver, driver_url) = start_chromedriver();
    let page = browser(&driver_url).await;
    // The scenario runs as a task: when it fails, the browser session is still closed.
    let scenario = tokio::spawn(scenario(page.clone(), url, inbox, exports));
    let outcome = scenario.await;
    page.close().await.unwrap();
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

async fn scenario(page: Client, url: String, inbox: String, exports: Vec<(String, String)>) {
    let artifacts = artifacts();
    {
        page.goto(&inbox).await.unwrap();
        assert_eq!(page.title().await.unwrap(), "smsgate sandbox · inbox");
        // Live (the event stream is open) and empty.
        until(
            &page,
            "the live badge",
            "return document.getElementById('live').textContent",
            json!("live"),
        )
        .await;
        until(&page, "the empty inbox", ROWS, json!(0)).await;
        assert!(
            page.find(Locator::Id("empty"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );

        // A message through the CLI appears without a reload: markup in it stays text, and its
        // leading and trailing spaces are kept and marked.
        let hostile = "  Code 4711 <b>bold</b> <img src=x onerror=alert(1)> & more  ";
        let first = send(&exports, "itniotech", "+8613800138000", hostile);
        until(&page, "the first message", ROWS, json!(1)).await;
        assert_eq!(cell(&page, 0, "vendor").await, "itniotech");
        assert_eq!(cell(&page, 0, "to").await, "+86 138 0013 8000");
        assert_eq!(cell(&page, 0, "text").await, hostile, "rendered exactly");
        assert_eq!(cell(&page, 0, "encoding").await, "GSM-7 · 1 part");
        assert_eq!(
            Value::String(cell(&page, 0, "vendor-id").await),
            first["message_id"]
        );
        let marks = page
            .execute(
                "return [...document.querySelectorAll('#rows tr td.text .ws')].map(e => e.textContent)",
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(
            marks,
            json!(["  ", "  "]),
            "leading and trailing spaces marked"
        );
        let injected = page
            .execute(
                "return document.querySelectorAll('#rows b, #rows img, #rows script').length",
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(injected, json!(0), "message text never becomes markup");

        // A second one, through another vendor, lands on top.
        let second = send(&exports, "nxcloud", "+447400123456", "Ваш заказ готов");
        until(&page, "the second message", ROWS, json!(2)).await;
        assert_eq!(cell(&page, 0, "vendor").await, "nxcloud");
        assert_eq!(cell(&page, 0, "to").await, "+44 7400 123456");
        assert_eq!(cell(&page, 0, "encoding").await, "UCS-2 · 1 part");
        assert_eq!(
            Value::String(cell(&page, 0, "vendor-id").await),
            second["message_id"]
        );
        assert_eq!(cell(&page, 1, "vendor").await, "itniotech");
        // And a third, with a sender id and a dash outside GSM-7 (UCS-2).
        send(
            &exports,
            "twilio",
            "+14155552345",
            "Table for 2 at 19:30 — à bientôt",
        );
        until(&page, "the third message", ROWS, json!(3)).await;
        assert_eq!(cell(&page, 0, "vendor").await, "twilio");
        assert_eq!(cell(&page, 0, "from").await, "+15005550006");
        assert_eq!(cell(&page, 0, "encoding").await, "UCS-2 · 1 part");

        // Filters: by number, by vendor, by text.
        let to = page.find(Locator::Id("filter-to")).await.unwrap();
        to.send_keys("447400").await.unwrap();
        until(&page, "the number filter", ROWS, json!(1)).await;
        assert_eq!(cell(&page, 0, "vendor").await, "nxcloud");
        to.clear().await.unwrap();
        page.execute(
            "document.getElementById('filter-to').dispatchEvent(new Event('input'))",
            Vec::new(),
        )
        .await
        .unwrap();
        until(&page, "the number filter cleared", ROWS, json!(3)).await;
        let vendor = page.find(Locator::Id("filter-vendor")).await.unwrap();
        vendor.select_by_value("itniotech").await.unwrap();
        until(&page, "the vendor filter", ROWS, json!(1)).await;
        assert_eq!(cell(&page, 0, "vendor").await, "itniotech");
        vendor.select_by_value("").await.unwrap();
        until(&page, "the vendor filter cleared", ROWS, json!(3)).await;
        let text = page.find(Locator::Id("filter-text")).await.unwrap();
        text.send_keys("заказ").await.unwrap();
        until(&page, "the text filter", ROWS, json!(1)).await;
        assert_eq!(cell(&page, 0, "vendor").await, "nxcloud");
        text.clear().await.unwrap();
        page.execute(
            "document.getElementById('filter-text').dispatchEvent(new Event('input'))",
            Vec::new(),
        )
        .await
        .unwrap();
        until(&page, "the text filter cleared", ROWS, json!(3)).await;
        page.screenshot()
            .await
            .map(|png| std::fs::write(artifacts.join("inbox-list.png"), png).unwrap())
            .unwrap();

        // Open the first message: its raw request shows, its secrets do not.
        page.find(Locator::Css("#rows tr:nth-child(3) td.text"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let detail = page
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css("#detail:not([hidden])"))
            .await
            .unwrap();
        until(
            &page,
            "the detail's answer",
            "return document.getElementById('detail-answer').textContent.startsWith('HTTP 200')",
            json!(true),
        )
        .await;
        let request_line = page
            .find(Locator::Id("detail-request-line"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(request_line.starts_with("POST /"), "{request_line}");
        let headers = page
            .execute(
                "return Object.fromEntries([...document.querySelectorAll('#detail-headers tr')].map(r => [r.cells[0].textContent, r.cells[1].textContent]))",
                Vec::new(),
            )
            .await
            .unwrap();
        for name in ["sign", "api-key"] {
            assert_eq!(headers[name], "[redacted]", "{name}: {headers}");
        }
        assert!(headers["content-type"].is_string(), "{headers}");
        let body = page
            .execute(
                "return document.getElementById('detail-body').textContent",
                Vec::new(),
            )
            .await
            .unwrap();
        assert!(body.as_str().unwrap().contains("Code 4711"), "{body}");
        let answer = page
            .execute(
                "return document.getElementById('detail-answer').textContent",
                Vec::new(),
            )
            .await
            .unwrap();
        assert!(
            answer
                .as_str()
                .unwrap()
                .contains(first["message_id"].as_str().unwrap()),
            "{answer}"
        );
        let shown = detail.html(false).await.unwrap();
        let secrets: Vec<&str> = exports
            .iter()
            .filter(|(name, _)| name.contains("SECRET") || name.contains("TOKEN"))
            .map(|(_, value)| value.as_str())
            .collect();
        assert!(!secrets.is_empty(), "{exports:?}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} shows in the detail");
        }
        page.screenshot()
            .await
            .map(|png| std::fs::write(artifacts.join("inbox.png"), png).unwrap())
            .unwrap();

        // A fourth message goes over --keep 3: the oldest is dropped, and counted.
        page.find(Locator::Id("detail-close"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        send(&exports, "itniotech", "+8613800138001", "fourth");
        until(
            &page,
            "the dropped count",
            "return document.getElementById('dropped').textContent",
            json!("1"),
        )
        .await;
        until(&page, "the ring of three", ROWS, json!(3)).await;
        assert_eq!(cell(&page, 0, "text").await, "fourth");
        assert_eq!(
            cell(&page, 2, "vendor").await,
            "nxcloud",
            "the oldest is gone"
        );

        // Clear: the page and the API are empty.
        page.find(Locator::Id("clear"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(&page, "the cleared inbox", ROWS, json!(0)).await;
        until(
            &page,
            "the kept count",
            "return document.getElementById('kept').textContent",
            json!("0"),
        )
        .await;
        let list = http_get(format!("{url}/_sandbox/messages"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let list: Value = serde_json::from_slice(&list).unwrap();
        assert_eq!(list["kept"], 0, "{list}");
        assert_eq!(list["dropped"], 0, "a clear resets the count: {list}");
        assert_eq!(list["messages"], json!([]), "{list}");
    }
}

#[test]
fn the_sandbox_warns_when_it_listens_beyond_loopback() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("smsgate"))
        .args(["sandbox", "--port", "0", "--bind", "0.0.0.0", "--keep", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _child = Killed(child);
    let banner: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("press Ctrl-C"))
        .collect();
    let inbox = banner
        .iter()
        .find_map(|line| line.strip_prefix("inbox: "))
        .unwrap_or_else(|| panic!("no inbox line in {banner:?}"));
    assert!(inbox.starts_with("http://0.0.0.0:"), "{inbox}");
    let warning = BufReader::new(stderr).lines().next().unwrap().unwrap();
    assert!(
        warning.contains("not loopback") && warning.contains("every message text"),
        "{warning}"
    );
}

/// A reqwest client with smsgate's TLS settings (reqwest is built without a default provider).
fn http_client() -> reqwest::Client {
    smsgate_transport::http::client_builder()
        .unwrap()
        .build()
        .unwrap()
}

/// `GET url` with [`http_client`].
async fn http_get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    http_client().get(url).send().await
}
