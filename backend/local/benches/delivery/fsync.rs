//! The floor's disk half: what one durable write of a small record costs on this
//! machine, whatever the store.

use crate::stats::Percentiles;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// The size of one appended record: about one stored chat message.
pub const RECORD_BYTES: usize = 200;

/// Appends `samples` records of [`RECORD_BYTES`] to a new file in `dir` (on the disk of
/// the store), each followed by `sync_data`; times each append and sync together.
pub fn measure(dir: &Path, samples: usize) -> std::io::Result<Percentiles> {
    let path = dir.join("fsync-probe.log");
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    let record = [b'm'; RECORD_BYTES];
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        file.write_all(&record)?;
        file.sync_data()?;
        times.push(started.elapsed().as_micros() as u64);
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Percentiles::of(times).ok_or_else(|| std::io::Error::other("no fsync samples"))
}
