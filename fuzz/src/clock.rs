//! A clock the harness moves: every input happens a little later than the one before.

use console_domain::Clock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Starts at the wall clock's time (tokens are checked against the real time) and moves
/// only when told; ids are a counter, so a run can be replayed.
#[derive(Debug)]
pub struct FuzzClock {
    now: AtomicI64,
    ids: AtomicU64,
}

impl FuzzClock {
    /// A clock standing at the current wall-clock time.
    pub fn at_wall_time() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        FuzzClock {
            now: AtomicI64::new(now),
            ids: AtomicU64::new(1),
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::Relaxed);
    }
}

impl Clock for FuzzClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::Relaxed)
    }

    fn new_id(&self) -> String {
        format!("fz{}", self.ids.fetch_add(1, Ordering::Relaxed))
    }
}
