//! Seeded randomness without a dependency: every test prints its seed, and the same seed
//! (in the environment variable the test names) repeats its choices.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// SplitMix64: a well-mixed 64-bit value of a counter.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stream of random numbers that threads may share.
#[derive(Debug)]
pub struct Dice {
    seed: u64,
    rolls: AtomicU64,
}

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice {
            seed,
            rolls: AtomicU64::new(0),
        }
    }

    /// A separate stream, for one console or one wrapper.
    pub fn derive(&self, salt: u64) -> Dice {
        Dice::new(mix(self.seed ^ mix(salt)))
    }

    pub fn next(&self) -> u64 {
        mix(self.seed ^ mix(self.rolls.fetch_add(1, Ordering::Relaxed)))
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// True with probability `p`.
    pub fn chance(&self, p: f64) -> bool {
        p > 0.0 && ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A duration in `low..high`.
    pub fn between(&self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_micros() as u64;
        low + Duration::from_micros(self.below(span.max(1)))
    }
}

/// The seed in the environment variable `name`, or a fresh one; printed either way.
pub fn seed(name: &str) -> u64 {
    let seed = match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    println!("seed: {name}={seed}");
    seed
}
