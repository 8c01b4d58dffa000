//! The floor's disk half: what one durable write of a small record costs on this
//! machine, whatever the store.
//!
//! Measured at the pace the chatting consoles send, as the relay half is: on these
//! virtual machines a sync that follows another at once costs about half of one that
//! comes after a pause (the virtual disk and the vCPUs are still awake), so syncs back to
//! back would make the floor lower than any store could reach at that pace. They are
//! measured too, and reported beside it.

use crate::support::dice::Dice;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The size of one appended record: about one stored chat message.
pub const RECORD_BYTES: usize = 200;

/// The two ways of timing it, each sample in µs.
#[derive(Debug, Clone, Default)]
pub struct FsyncSamples {
    /// One sync every `gap` on average (uniformly between none and twice that): the
    /// floor.
    pub paced: Vec<u64>,
    /// Syncs back to back.
    pub back_to_back: Vec<u64>,
}

/// Appends `samples` records of [`RECORD_BYTES`] to a new file in `dir` (on the disk of
/// the store), each followed by `sync_data`, timing each append and sync together: once
/// with a random pause averaging `gap` before each, once back to back.
pub fn measure(
    dir: &Path,
    samples: usize,
    gap: Duration,
    dice: &Dice,
) -> std::io::Result<FsyncSamples> {
    let paced = syncs(dir, samples, || {
        std::thread::sleep(dice.between(Duration::ZERO, 2 * gap))
    })?;
    let back_to_back = syncs(dir, samples, || {})?;
    Ok(FsyncSamples {
        paced,
        back_to_back,
    })
}

fn syncs(dir: &Path, samples: usize, pause: impl Fn()) -> std::io::Result<Vec<u64>> {
    let path = dir.join("fsync-probe.log");
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    let record = [b'm'; RECORD_BYTES];
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        pause();
        let started = Instant::now();
        file.write_all(&record)?;
        file.sync_data()?;
        times.push(started.elapsed().as_micros() as u64);
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(times)
}
