//! A clock the test moves by hand.

use crate::ports::Clock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Stands where the test puts it and moves only when told; its ids are `id-1`, `id-2`…
/// in the order they are asked for, so that a test can name what it will create.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    /// How many ids were given so far.
    ids: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `ms` (milliseconds since the Unix epoch).
    pub fn new(ms: i64) -> Self {
        ManualClock {
            now: AtomicI64::new(ms),
            ids: AtomicU64::new(0),
        }
    }

    /// Puts the clock at `ms`, forward or back.
    pub fn set(&self, ms: i64) {
        self.now.store(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn new_id(&self) -> String {
        format!("id-{}", self.ids.fetch_add(1, Ordering::SeqCst) + 1)
    }
}
