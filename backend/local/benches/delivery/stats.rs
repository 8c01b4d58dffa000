//! Percentiles of a set of samples, by nearest rank (no interpolation: every figure
//! reported is one that was measured).

/// The percentiles of one set of samples, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub count: usize,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    /// The percentiles of `samples` (µs); `None` when there are none.
    pub fn of(mut samples: Vec<u64>) -> Option<Percentiles> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        Some(Percentiles {
            count: samples.len(),
            p50: rank(&samples, 0.50),
            p99: rank(&samples, 0.99),
            p999: rank(&samples, 0.999),
            max: samples[samples.len() - 1],
        })
    }
}

/// The nearest-rank `q`-quantile of sorted, non-empty samples: the smallest sample with
/// at least a fraction `q` of the samples at or below it.
fn rank(sorted: &[u64], q: f64) -> u64 {
    let index = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}
