//! The floor's disk half: what one durable write of a small record costs on this
//! machine, whatever the store.
//!
//! Measured at the pace the chatting consoles send, as the relay half is: on these
//! virtual machines a sync that follows another at once costs about half of one that
//! comes after a pause (the virtual disk and the vCPUs are still awake), so syncs back to
//! back would make the floor lower than any store could reach at that pace. They are
//! measured too, and reported beside it.
//!
//! Also beside it, not in it: the write the embedded store's journal makes instead, one
//! direct, synchronous write (`O_DIRECT | O_DSYNC`) of the 4 KiB block that holds the
//! record, at the same pace.

use crate::support::dice::Dice;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
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
    /// Direct, synchronous block writes at the pace of `paced`; none where the file
    /// system refuses direct I/O.
    pub direct: Vec<u64>,
}

/// Appends `samples` records of [`RECORD_BYTES`] to a new file in `dir` (on the disk of
/// the store), each followed by `sync_data`, timing each append and sync together: once
/// with a random pause averaging `gap` before each, once back to back; then as many
/// direct block writes, paced.
pub fn measure(
    dir: &Path,
    samples: usize,
    gap: Duration,
    dice: &Dice,
) -> std::io::Result<FsyncSamples> {
    let pause = || std::thread::sleep(dice.between(Duration::ZERO, 2 * gap));
    let paced = syncs(dir, samples, pause)?;
    let back_to_back = syncs(dir, samples, || {})?;
    let direct = direct_writes(dir, samples, pause)?;
    Ok(FsyncSamples {
        paced,
        back_to_back,
        direct,
    })
}

/// The block size of a direct write.
const BLOCK: usize = 4096;

/// Appends records to a file of zeros as the journal does: each time the block (or two)
/// that the new record ends in, with the records before it in that block, with
/// `O_DIRECT | O_DSYNC`; the time of each write (µs), none if the file system refuses
/// direct I/O.
fn direct_writes(dir: &Path, samples: usize, pause: impl Fn()) -> std::io::Result<Vec<u64>> {
    let path = dir.join("direct-probe.log");
    let blocks = (samples * RECORD_BYTES).div_ceil(BLOCK) + 1;
    std::fs::write(&path, vec![0; blocks * BLOCK])?;
    let opened = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
        .open(&path);
    let mut times = Vec::with_capacity(samples);
    if let Ok(file) = opened {
        let mut memory = vec![0u8; 3 * BLOCK];
        let offset = (BLOCK - memory.as_ptr().addr() % BLOCK) % BLOCK;
        let aligned = &mut memory[offset..offset + 2 * BLOCK];
        for n in 0..samples {
            pause();
            let end = (n + 1) * RECORD_BYTES;
            let start = (end - RECORD_BYTES) / BLOCK * BLOCK;
            let blocks = &mut aligned[..(end - start).next_multiple_of(BLOCK)];
            let started = Instant::now();
            blocks.fill(0);
            blocks[..end - start].fill(b'm');
            match file.write_all_at(blocks, start as u64) {
                Ok(()) => times.push(started.elapsed().as_micros() as u64),
                Err(error) if error.raw_os_error() == Some(libc::EINVAL) => break,
                Err(error) => return Err(error),
            }
        }
    }
    std::fs::remove_file(&path)?;
    if times.len() < samples {
        times.clear();
    }
    Ok(times)
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
