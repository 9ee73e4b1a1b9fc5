//! The real `smsgate` binary against a hostile local server that answers with an endless
//! chunked body: the run ends in bounded time, the message's outcome is unknown (exit code 3:
//! the request went out, so it is neither rejected nor resent), and the process's peak RSS
//! (`VmHWM`, polled every 10 ms) stays far below what reading the stream would cost.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Peak RSS allowed: the body limit is 1 MiB; reading the stream would grow without end.
const MAX_PEAK_RSS_KIB: u64 = 100 * 1024;

/// Reads a request's head and its `Content-Length` body; false when the client went away.
fn read_request(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).is_ok()
}

/// A server answering every request `200 OK` with 64 KiB chunks until the client goes away.
fn endless_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                if !read_request(&mut stream) {
                    return;
                }
                let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head).is_err() {
                    return;
                }
                let mut chunk = b"10000\r\n".to_vec();
                chunk.extend(std::iter::repeat_n(b'{', 0x10000));
                chunk.extend(b"\r\n");
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    url
}

/// `VmHWM` (peak resident set size) of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn an_endless_answer_ends_unknown_with_bounded_memory() {
    let url = endless_server();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("smsgate"));
    for (key, _) in std::env::vars() {
        if ["ITNIOTECH_", "LAAFFIC_", "NXCLOUD_"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            command.env_remove(key);
        }
    }
    let mut child = command
        .env("ITNIOTECH_API_KEY", "key")
        .env("ITNIOTECH_API_SECRET", "secret")
        .env("ITNIOTECH_APP_ID", "app")
        .env("ITNIOTECH_BASE_URL", &url)
        .args([
            "send",
            "--json",
            "--provider",
            "itniotech",
            "--to",
            "+8613800138000",
            "--content",
            "hi",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) || peak_kib > 4 * MAX_PEAK_RSS_KIB {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "still running after {:?} with a peak RSS of {} MiB",
                started.elapsed(),
                peak_kib / 1024
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    eprintln!(
        "ended in {elapsed:?} with exit code {:?}, peak RSS {} KiB",
        status.code(),
        peak_kib
    );
    assert_eq!(status.code(), Some(3), "stdout: {stdout}\nstderr: {stderr}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(
        peak_kib < MAX_PEAK_RSS_KIB,
        "peak RSS {peak_kib} KiB, limit {MAX_PEAK_RSS_KIB} KiB"
    );
    assert!(peak_kib > 0, "VmHWM was never read");
    let row: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(row["status"], "unknown", "{row}");
    assert!(
        row.to_string()
            .contains("answer body larger than the limit of 1048576 bytes"),
        "{row}"
    );
}
