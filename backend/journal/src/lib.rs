//! The journal: a redo log beside the redb file that makes a commit durable with one small
//! sequential write and one `fdatasync`.
//!
//! A durable redb commit writes every page it changed — the paths from each table's root
//! to the leaves it touched, about ten pages scattered over the file for one message — and
//! then syncs them: on these machines about 2–3 times the cost of syncing one small write.
//! So each commit writes its changes twice instead: as a record here, synced, and then into
//! redb as a non-durable commit (in memory, no sync). The record comes first, so nothing is
//! visible to a reader before it is on disk. Every so often a checkpoint commits redb
//! durably, which makes every record before it redundant, and the journal starts over.
//! After a crash, the records since the last checkpoint are applied again on open.
//!
//! A record holds what the transaction wrote, not what it meant: each insert and remove,
//! with its table, key and value as redb encodes them. Applying one again over a store
//! that has it already changes nothing, so a crash between a checkpoint and the start of
//! the next journal loses nothing and repeats nothing.
//!
//! On disk: a record is `length (u32 LE) · checksum (u32 LE) · generation (u64 LE) ·
//! payload`, where the length and the CRC-32 checksum are of the generation and payload;
//! the next record follows right after. A length of 0 ends the journal. The file is
//! allocated (written with zeros) ahead, so that a record's sync writes the record and no
//! file-system metadata. A checkpoint does not erase anything: it starts the next
//! generation, whose first record overwrites the start of the file; reading stops at the
//! first record that is torn, fails its checksum, or belongs to another generation than
//! the first.
//!
//! A durable record is written with direct, synchronous I/O (`O_DIRECT | O_DSYNC`): the
//! whole 4 KiB blocks it touches, the start of the first one as the journal holds it and
//! zeros after the record, in one `pwrite` that returns once they are on the disk. On
//! these machines that costs about three quarters of a buffered write and an
//! `fdatasync` (no page cache to fill and write back, one system call). Where the file
//! system refuses direct I/O (tmpfs, some network file systems), the journal writes
//! through the page cache and syncs, as it does for records that need no sync.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

mod change;
pub use change::{Change, decode_changes, encode_change};

/// How much of the file is allocated ahead: records past it still work (the file grows,
/// once: a checkpoint starts the next generation at the start of the file, which keeps
/// its size).
const ALLOCATED_BYTES: u64 = 4 << 20;
/// A checkpoint is due once this much has been written since the last... A checkpoint
/// holds every write up while redb syncs what changed since the one before, and under a
/// saturating load (1,000 agents sending as fast as they may) every 1 MiB made it about a
/// quarter of the writer thread's time, ten checkpoints a second of ~28 ms each; every
/// 16 MiB, one a second of ~45 ms, a twentieth of its time, and 1.4 times the messages a
/// second. A restart after a crash applies at most this much again.
const CHECKPOINT_BYTES: u64 = 16 << 20;
/// ...or this many commits have been: each non-durable commit holds pages redb frees only
/// at the next durable one.
const CHECKPOINT_COMMITS: u32 = 256;
/// Length, checksum and generation.
const HEADER_BYTES: usize = 16;
/// The unit of a direct write: its offset, length and memory are multiples of it.
const BLOCK: usize = 4096;
/// How the journal opens its file for direct, synchronous writes, where it can.
#[cfg(target_os = "linux")]
const DIRECT_FLAGS: Option<i32> = Some(libc::O_DIRECT | libc::O_DSYNC);
#[cfg(not(target_os = "linux"))]
const DIRECT_FLAGS: Option<i32> = None;

/// The journal file, positioned after its last record.
#[derive(Debug)]
pub struct Journal {
    file: File,
    /// The same file opened for direct, synchronous writes, unless its file system
    /// refuses them.
    direct: Option<Direct>,
    path: PathBuf,
    generation: u64,
    /// Where the next record goes.
    end: u64,
    /// How many records the current generation holds.
    records: u32,
}

/// Direct writes of whole blocks, and what they need to rewrite a block's start.
#[derive(Debug)]
struct Direct {
    file: File,
    /// The bytes of the block that holds `end`, before `end`.
    tail: Vec<u8>,
    /// Room for the blocks of a write, aligned in memory.
    buffer: Vec<u8>,
}

impl Direct {
    /// Writes `record` at `end` with the block's `tail` before it, and zeros after it to
    /// the end of its last block; returns once they are on the disk.
    fn write(&mut self, record: &[u8], end: u64) -> io::Result<()> {
        let start = end - self.tail.len() as u64;
        let length = (self.tail.len() + record.len()).next_multiple_of(BLOCK);
        if self.buffer.len() < length + BLOCK {
            self.buffer = vec![0; length + BLOCK];
        }
        let offset = (BLOCK - self.buffer.as_ptr().addr() % BLOCK) % BLOCK;
        let blocks = &mut self.buffer[offset..offset + length];
        let (before, rest) = blocks.split_at_mut(self.tail.len());
        before.copy_from_slice(&self.tail);
        let (written, after) = rest.split_at_mut(record.len());
        written.copy_from_slice(record);
        after.fill(0);
        self.file.write_all_at(blocks, start)?;
        let new_end = self.tail.len() + record.len();
        keep_tail(&mut self.tail, blocks, new_end);
        Ok(())
    }
}

/// Keeps in `tail`, of `bytes` written from a block's start, the part of the last block
/// before the `end`-th byte.
fn keep_tail(tail: &mut Vec<u8>, bytes: &[u8], end: usize) {
    tail.clear();
    tail.extend_from_slice(&bytes[end - end % BLOCK..end]);
}

impl Journal {
    /// Opens (or creates) the journal at `path`; returns it with the payloads of the
    /// records it holds, oldest first, to be applied again. The caller checkpoints after
    /// applying them and then calls [`Journal::restart`].
    pub fn open(path: &Path) -> io::Result<(Journal, Vec<Vec<u8>>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (generation, payloads) = records(&bytes);
        if (bytes.len() as u64) < ALLOCATED_BYTES {
            // Zeros, written: a sync of a record then changes no extent and no size.
            let from = bytes.len() as u64;
            file.write_all_at(&vec![0; (ALLOCATED_BYTES - from) as usize], from)?;
            file.sync_all()?;
        }
        let direct = DIRECT_FLAGS
            .and_then(|flags| {
                OpenOptions::new()
                    .write(true)
                    .custom_flags(flags)
                    .open(path)
                    .ok()
            })
            .map(|file| Direct {
                file,
                tail: Vec::with_capacity(BLOCK),
                buffer: Vec::new(),
            });
        let journal = Journal {
            file,
            direct,
            path: path.to_owned(),
            generation,
            end: 0,
            records: 0,
        };
        Ok((journal, payloads))
    }

    /// Starts the next generation: everything written so far is in a durable checkpoint.
    pub fn restart(&mut self) {
        self.generation += 1;
        self.end = 0;
        self.records = 0;
        if let Some(direct) = &mut self.direct {
            direct.tail.clear();
        }
    }

    /// Whether nothing was written since the last checkpoint.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Whether enough was written since the last checkpoint that one is due.
    pub fn checkpoint_due(&self) -> bool {
        self.end >= CHECKPOINT_BYTES || self.records >= CHECKPOINT_COMMITS
    }

    /// Writes one record; with `sync`, returns only once it (and every record before it)
    /// is on disk.
    pub fn append(&mut self, payload: &[u8], sync: bool) -> io::Result<()> {
        let record = frame(self.generation, payload)?;
        self.write(&record, sync)?;
        self.end += record.len() as u64;
        self.records += 1;
        Ok(())
    }

    /// Writes `bytes` at the end (on the disk when this returns if `sync`).
    fn write(&mut self, bytes: &[u8], sync: bool) -> io::Result<()> {
        if sync && let Some(direct) = &mut self.direct {
            match direct.write(bytes, self.end) {
                Ok(()) => return Ok(()),
                // Opened, yet refused at the first write: write as the others do.
                Err(error) if error.raw_os_error() == Some(libc::EINVAL) => self.direct = None,
                Err(error) => return Err(error),
            }
        }
        self.file.write_all_at(bytes, self.end)?;
        if sync {
            self.file.sync_data()?;
        }
        if let Some(direct) = &mut self.direct {
            let mut block = direct.tail.clone();
            block.extend_from_slice(bytes);
            keep_tail(&mut direct.tail, &block, block.len());
        }
        Ok(())
    }

    /// Takes back the record just written (its commit failed after it): its length is
    /// overwritten with zeros, synced, so it ends the journal.
    pub fn take_back(&mut self, payload_bytes: usize) -> io::Result<()> {
        let start = self.end - (HEADER_BYTES + payload_bytes) as u64;
        // The start of the block the record starts in, as the file holds it: the journal
        // goes on from there.
        let before = match self.direct {
            Some(_) => {
                let from = start - start % BLOCK as u64;
                let mut before = vec![0; (start - from) as usize];
                self.file.read_exact_at(&mut before, from)?;
                Some(before)
            }
            None => None,
        };
        let go_on_from = |journal: &mut Journal| {
            if let (Some(direct), Some(before)) = (&mut journal.direct, &before) {
                direct.tail.clone_from(before);
            }
        };
        go_on_from(self);
        self.end = start;
        self.write(&[0; HEADER_BYTES], true)?;
        go_on_from(self);
        self.records -= 1;
        Ok(())
    }

    /// Where the journal is, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A record of `payload` in `generation`.
fn frame(generation: u64, payload: &[u8]) -> io::Result<Vec<u8>> {
    let length = u32::try_from(8 + payload.len())
        .map_err(|_| io::Error::other("a journal record over 4 GiB"))?;
    let mut record = Vec::with_capacity(HEADER_BYTES + payload.len());
    record.extend_from_slice(&length.to_le_bytes());
    record.extend_from_slice(&[0; 4]);
    record.extend_from_slice(&generation.to_le_bytes());
    record.extend_from_slice(payload);
    let checksum = crc32fast::hash(&record[8..]);
    record[4..8].copy_from_slice(&checksum.to_le_bytes());
    Ok(record)
}

/// The generation of the records in `bytes` and their payloads: the whole records of the
/// first record's generation, up to the first one that is not.
fn records(bytes: &[u8]) -> (u64, Vec<Vec<u8>>) {
    let mut payloads = Vec::new();
    let mut generation = None;
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + HEADER_BYTES) {
        let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let checksum = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let Some(rest) = bytes.get(at + 8..at + 8 + length) else {
            break; // torn: its end never reached the disk
        };
        if length < 8 || crc32fast::hash(rest) != checksum {
            break;
        }
        let mut of = [0; 8];
        of.copy_from_slice(&rest[..8]);
        let of = u64::from_le_bytes(of);
        if *generation.get_or_insert(of) != of {
            break; // an older generation's record, left past the newer ones
        }
        payloads.push(rest[8..].to_vec());
        at += 8 + length;
    }
    (generation.unwrap_or(0), payloads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal_in(dir: &Path) -> (Journal, Vec<Vec<u8>>) {
        Journal::open(&dir.join("j")).expect("opens")
    }

    /// Both ways of writing: direct where the file system allows it (it does where these
    /// tests run: a test below checks), and through the page cache.
    fn both_ways(check: impl Fn(&dyn Fn(&Path) -> (Journal, Vec<Vec<u8>>))) {
        check(&journal_in);
        check(&|dir| {
            let (mut journal, found) = journal_in(dir);
            journal.direct = None;
            (journal, found)
        });
    }

    #[test]
    fn records_written_are_read_back_in_order_after_a_reopen() {
        both_ways(|open| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut journal, found) = open(dir.path());
            assert!(found.is_empty());
            journal.append(b"one", true).expect("one");
            journal.append(b"", false).expect("an empty payload");
            journal.append(b"three", true).expect("three");
            drop(journal);
            let (_, found) = open(dir.path());
            assert_eq!(found, [b"one".to_vec(), b"".to_vec(), b"three".to_vec()]);
        });
    }

    #[test]
    fn a_new_generation_hides_the_older_records_it_did_not_overwrite() {
        both_ways(|open| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut journal, _) = open(dir.path());
            for n in 0..5 {
                journal
                    .append(format!("old {n}").as_bytes(), true)
                    .expect("old");
            }
            journal.restart();
            journal.append(b"new", true).expect("new");
            drop(journal);
            let (mut journal, found) = open(dir.path());
            assert_eq!(found, [b"new".to_vec()]);
            // And the generation goes on counting from the one found.
            journal.restart();
            journal.append(b"newer", true).expect("newer");
            drop(journal);
            assert_eq!(open(dir.path()).1, [b"newer".to_vec()]);
        });
    }

    #[test]
    fn a_torn_or_corrupt_record_ends_the_journal() {
        both_ways(|open| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut journal, _) = open(dir.path());
            journal.append(b"kept", true).expect("kept");
            journal.append(b"torn record", true).expect("torn");
            let file = journal.file.try_clone().expect("file");
            drop(journal);
            // Flip a byte of the second record's payload, as a write cut short leaves it.
            let second = (HEADER_BYTES + 4 + HEADER_BYTES + 3) as u64;
            file.write_all_at(b"X", second).expect("corrupts");
            assert_eq!(open(dir.path()).1, [b"kept".to_vec()]);
        });
    }

    #[test]
    fn a_record_taken_back_is_not_read_again() {
        both_ways(|open| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut journal, _) = open(dir.path());
            journal.append(b"kept", true).expect("kept");
            journal.append(b"failed", true).expect("failed");
            journal.take_back(b"failed".len()).expect("taken back");
            journal.append(b"next", true).expect("next");
            drop(journal);
            assert_eq!(open(dir.path()).1, [b"kept".to_vec(), b"next".to_vec()]);
        });
    }

    #[test]
    fn records_past_the_allocated_space_still_come_back() {
        both_ways(|open| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut journal, _) = open(dir.path());
            let big = vec![7u8; (ALLOCATED_BYTES as usize) / 3];
            for _ in 0..4 {
                journal.append(&big, true).expect("big");
            }
            drop(journal);
            assert_eq!(open(dir.path()).1.len(), 4);
        });
    }

    #[test]
    fn records_across_block_borders_and_one_taken_back_across_one_come_back_right() {
        both_ways(|open| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut journal, _) = open(dir.path());
            let mut expected = Vec::new();
            for n in 0..40usize {
                let payload = vec![n as u8; 37 + n * 211];
                journal.append(&payload, n % 5 != 0).expect("append");
                expected.push(payload);
                if n == 17 {
                    // Long enough to cross a block border, then taken back.
                    let failed = vec![0xEE; BLOCK + 300];
                    journal.append(&failed, true).expect("failed");
                    journal.take_back(failed.len()).expect("taken back");
                }
            }
            drop(journal);
            let (mut journal, found) = open(dir.path());
            assert_eq!(found, expected);
            // A new generation writes over the first block and hides what follows.
            journal.restart();
            journal.append(b"after the checkpoint", true).expect("new");
            drop(journal);
            assert_eq!(open(dir.path()).1, [b"after the checkpoint".to_vec()]);
        });
    }
}
