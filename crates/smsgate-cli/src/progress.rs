//! How far a send is: a bar on a terminal (rows done of the total, percentage, rate, ETA and
//! running counts of accepted / rejected / unknown, updated as requests settle), plain lines at
//! most every few seconds otherwise. Best effort: a closed standard error stops nothing.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often plain lines are written when standard error is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The total is not known yet (still being counted).
const UNCOUNTED: u64 = u64::MAX;

/// Running counts of finished rows, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Accepted (or settled so by an earlier run).
    pub accepted: u64,
    /// Rejected (including unreadable rows).
    pub rejected: u64,
    /// Unknown.
    pub unknown: u64,
    /// Never sent (a stopped run).
    pub not_sent: u64,
}

impl Tally {
    /// Rows finished.
    pub fn done(&self) -> u64 {
        self.accepted + self.rejected + self.unknown + self.not_sent
    }

    fn counts(&self) -> String {
        let mut text = format!(
            "accepted {} · rejected {} · unknown {}",
            self.accepted, self.rejected, self.unknown
        );
        if self.not_sent > 0 {
            text.push_str(&format!(" · not sent {}", self.not_sent));
        }
        text
    }
}

/// A send's progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Input rows in all, once counted ([`UNCOUNTED`] until then).
    total: Arc<AtomicU64>,
    /// The pass counting the total.
    counting: Option<std::thread::JoinHandle<()>>,
    started: Instant,
    last_line: Instant,
    shown: Tally,
}

impl Progress {
    /// A display for a send of `rows` rows (`None`: counted from the CSV file `csv` in the
    /// background, as the send starts). `quiet`: nothing is shown.
    pub fn new(rows: Option<u64>, csv: Option<&Path>, quiet: bool) -> Self {
        let total = Arc::new(AtomicU64::new(rows.unwrap_or(UNCOUNTED)));
        let counting = match (rows, csv) {
            (None, Some(path)) => {
                let (total, path) = (Arc::clone(&total), path.to_owned());
                // A cheap pass over the file (records counted, nothing decoded); the bar shows
                // a count of rows done until it ends.
                std::thread::Builder::new()
                    .name("count-rows".to_owned())
                    .spawn(move || {
                        if let Some(rows) = count_csv_rows(&path) {
                            total.store(rows, Ordering::Relaxed);
                        }
                    })
                    .ok()
            }
            _ => None,
        };
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        if bar.is_none() && !quiet {
            crate::note(format_args!(
                "sending; SIGINT or SIGTERM stops it (requests in flight settle, every row is written)"
            ));
        }
        let now = Instant::now();
        Self {
            bar: if quiet { None } else { bar },
            total,
            counting,
            started: now,
            last_line: now,
            shown: Tally::default(),
        }
    }

    /// Shows `tally` (every row written so far).
    pub fn update(&mut self, tally: Tally) {
        if tally == self.shown {
            return;
        }
        self.shown = tally;
        let total = self.total.load(Ordering::Relaxed);
        match &self.bar {
            Some(bar) => {
                if total != UNCOUNTED && bar.length() != Some(total) {
                    bar.set_length(total);
                    bar.set_style(bar_style());
                }
                bar.set_position(tally.done());
                bar.set_message(tally.counts());
            }
            None if !crate::QUIET.load(Ordering::Relaxed)
                && self.last_line.elapsed() >= PLAIN_EVERY =>
            {
                self.last_line = Instant::now();
                crate::note(format_args!("{}", self.plain_line(tally, total)));
            }
            None => {}
        }
    }

    /// `12000 of 100000 rows (12%), 2400 rows/s, ETA 33 s; accepted 11900 · rejected 100 · unknown 0`.
    fn plain_line(&self, tally: Tally, total: u64) -> String {
        let done = tally.done();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        let of = if total == UNCOUNTED {
            format!("{done} rows")
        } else {
            let percent = done.saturating_mul(100).checked_div(total).unwrap_or(100);
            let eta = if rate > 0.0 && total > done {
                format!(", ETA {:.0} s", (total - done) as f64 / rate)
            } else {
                String::new()
            };
            format!("{done} of {total} rows ({percent}%), {rate:.0} rows/s{eta}")
        };
        format!("{of}; {}", tally.counts())
    }

    /// Clears the bar (the summary follows); plain output gets a last line.
    pub fn finish(&mut self) {
        // Never waits for a count still reading a huge file (a stopped run).
        if let Some(counting) = self.counting.take_if(|c| c.is_finished()) {
            let _ = counting.join();
        }
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None if !crate::QUIET.load(Ordering::Relaxed) && self.shown.done() > 0 => {
                let total = self.total.load(Ordering::Relaxed);
                let _ = writeln!(
                    std::io::stderr(),
                    "smsgate: {}",
                    self.plain_line(self.shown, total)
                );
            }
            None => {}
        }
    }
}

/// Rows a second, whole.
fn rate(state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write) {
    let _ = write!(out, "{:.0}/s", state.per_sec());
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {pos} rows · {rate} · {wide_msg}")
        .map(|style| style.with_key("rate", rate))
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "[{bar:20}] {percent:>3}% {pos}/{len} · {rate} · ETA {eta} · {wide_msg}",
    )
    .map(|style| style.with_key("rate", rate).progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Data rows of a CSV file (its header not counted), read as the send reads it; `None` when it
/// cannot be read (the send reports that).
pub fn count_csv_rows(path: &Path) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(256 * 1024, file));
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => return Some(rows),
            // An unreadable row is still a row (the send reports it as such).
            Err(err) if !matches!(err.kind(), csv::ErrorKind::Io(_)) => rows += 1,
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_counted_as_the_send_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(
            &path,
            "to,content\n+8613800138000,\"two\nlines\"\n+8613800138001,plain\n\n+1,x\n",
        )
        .unwrap();
        assert_eq!(count_csv_rows(&path), Some(3));
        assert_eq!(count_csv_rows(&dir.path().join("missing.csv")), None);
    }

    #[test]
    fn a_plain_line_says_how_far_and_how_fast() {
        let progress = Progress::new(Some(100), None, true);
        let tally = Tally {
            accepted: 40,
            rejected: 9,
            unknown: 1,
            not_sent: 0,
        };
        let line = progress.plain_line(tally, 100);
        assert!(line.starts_with("50 of 100 rows (50%), "), "{line}");
        assert!(line.contains("ETA "), "{line}");
        assert!(
            line.ends_with("accepted 40 · rejected 9 · unknown 1"),
            "{line}"
        );
        let line = progress.plain_line(tally, UNCOUNTED);
        assert!(line.starts_with("50 rows; accepted 40"), "{line}");
    }
}
