//! The wall clock and random ids, as the Lambdas and the local server use them.

use console_domain::Clock;

/// Wall-clock time and random (v4 UUID) ids.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }

    fn new_id(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }
}
