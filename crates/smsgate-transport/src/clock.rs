//! Injectable time: signing reads the clock; tests pin it so snapshots are stable.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;

    /// Seconds since the Unix epoch.
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

/// A clock pinned to one instant (tests, snapshots, replays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock {
    millis: u64,
}

impl FixedClock {
    /// A clock that always reads `millis` milliseconds since the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self { millis }
    }

    /// A clock that always reads `secs` seconds since the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self {
            millis: secs * 1000,
        }
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> u64 {
        self.millis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_reads_what_it_was_given() {
        let clock = FixedClock::from_millis(1_655_710_885_431);
        assert_eq!(clock.now_millis(), 1_655_710_885_431);
        assert_eq!(clock.now_secs(), 1_655_710_885);
        assert_eq!(
            FixedClock::from_secs(1_630_468_800).now_millis(),
            1_630_468_800_000
        );
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_secs() > 1_577_836_800);
    }
}
