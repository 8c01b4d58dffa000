//! The journal through `kill -9`: a child process (this test binary again, running the
//! ignored `writer` test) appends numbered records, each synced, and starts a new
//! generation every so often as a store does after a checkpoint; it prints each record
//! once `append` has returned. Killed at a moment of the parent's choosing, the journal
//! it leaves must open and give back, in order, every record it acknowledged since its
//! last new generation — and nothing that was not written.

use console_journal::Journal;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Records per generation: the child starts a new one after this many.
const GENERATION: u64 = 97;

/// Where the child writes, when it is the child.
const DIR_VARIABLE: &str = "CONSOLE_JOURNAL_CRASH_DIR";

#[test]
#[ignore = "the child of the crash test, run by it"]
fn writer() {
    let Some(dir) = std::env::var_os(DIR_VARIABLE) else {
        return;
    };
    let (mut journal, _) = Journal::open(&Path::new(&dir).join("j")).expect("opens");
    journal.restart();
    for n in 0u64.. {
        if n > 0 && n % GENERATION == 0 {
            println!("restart {n}");
            journal.restart();
        }
        journal
            .append(format!("record {n}").as_bytes(), true)
            .expect("appends");
        println!("synced {n}");
    }
}

/// What the child said before it was killed: the last record it acknowledged, and the
/// first record of each generation it started.
struct Heard {
    last_synced: Option<u64>,
    restarts: Vec<u64>,
}

fn run_and_kill_after(dir: &Path, after: Duration) -> Heard {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VARIABLE, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("its output");
    let reader = std::thread::spawn(move || {
        let mut heard = Heard {
            last_synced: None,
            restarts: vec![0],
        };
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("synced ") {
                heard.last_synced = n.parse().ok();
            } else if let Some(n) = line.strip_prefix("restart ") {
                heard.restarts.extend(n.parse::<u64>().ok());
            }
        }
        heard
    });
    let started = Instant::now();
    while started.elapsed() < after {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    reader.join().expect("the reader ends with the pipe")
}

#[test]
fn every_record_acknowledged_since_the_last_generation_survives_kill_9() {
    for (round, millis) in [40u64, 90, 150, 230, 330, 460].into_iter().enumerate() {
        let dir = tempfile::tempdir().expect("temp dir");
        let heard = run_and_kill_after(dir.path(), Duration::from_millis(millis));
        let (_, records) = Journal::open(&dir.path().join("j")).expect("opens after the kill");
        let numbers: Vec<u64> = records
            .iter()
            .map(|r| {
                let text = String::from_utf8(r.clone()).expect("a record as written");
                text.strip_prefix("record ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("round {round}: a record never written: {text:?}"))
            })
            .collect();
        let Some(last) = heard.last_synced else {
            assert!(numbers.len() <= 1, "round {round}: {numbers:?}");
            continue;
        };
        // The generation of the last record acknowledged, and whether the child started
        // another after it.
        let start = heard.restarts.iter().copied().filter(|&r| r <= last).max();
        let later = heard.restarts.iter().copied().find(|&r| r > last);
        assert!(
            numbers.windows(2).all(|w| w[1] == w[0] + 1),
            "round {round}: in order, none missing: {numbers:?}"
        );
        match (numbers.first(), later) {
            // A new generation was started after the last acknowledgement: its first
            // record may or may not have been written; the older ones are redundant.
            (Some(&first), Some(next)) if first == next => {
                assert_eq!(numbers, [next], "round {round}")
            }
            (None, Some(_)) => {}
            _ => {
                assert_eq!(
                    numbers.first().copied(),
                    start,
                    "round {round}: {numbers:?}"
                );
                let end = *numbers.last().expect("records");
                assert!(
                    end == last || end == last + 1,
                    "round {round}: acknowledged up to {last}, read back up to {end}"
                );
            }
        }
        println!(
            "round {round}: killed after {millis} ms, {} records acknowledged, {} read back",
            last + 1,
            numbers.len()
        );
    }
}
