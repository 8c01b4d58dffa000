//! The writer's tests: a failing write in a batch, reads of what was answered before
//! redb commits it, writes from many threads, a failed commit, a store dropped.

use super::*;
use futures_executor::block_on;
use redb::{ReadableDatabase, TableDefinition};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const T: TableDefinition<&str, u64> = TableDefinition::new("t");

fn journal(dir: &std::path::Path) -> Journal {
    let (mut journal, _) = Journal::open(&dir.join("w.journal")).expect("journal");
    journal.restart();
    journal
}

/// A writer on a new database and journal in a temporary folder.
fn started() -> (tempfile::TempDir, Arc<Database>, Writer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Arc::new(Database::create(dir.path().join("w.redb")).expect("db"));
    let writer = Writer::start(db.clone(), journal(dir.path())).expect("writer");
    (dir, db, writer)
}

/// Whether `db` holds `key` in the table `T`.
fn holds(db: &Database, key: &str) -> bool {
    let txn = db.begin_read().expect("read");
    let table = txn.open_table(T).expect("t");
    table.get(key).expect("get").is_some()
}

/// A write that puts `key` and counts its runs, failing after writing if `fails`.
fn put(
    key: &'static str,
    runs: &Arc<AtomicUsize>,
    fails: bool,
    pause: Duration,
) -> impl Fn(&Tx<'_>) -> Result<&'static str, StoreError> + Send + 'static {
    let runs = runs.clone();
    move |tx| {
        runs.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(pause);
        tx.open(T)?.insert(key, 1)?;
        if fails {
            return Err(StoreError::permanent(format!("{key} fails")));
        }
        Ok(key)
    }
}

#[test]
fn a_failing_write_fails_alone_and_the_rest_of_its_batch_is_committed() {
    let (_dir, db, writer) = started();
    let runs: Vec<Arc<AtomicUsize>> = (0..4).map(|_| Arc::default()).collect();
    let none = Duration::ZERO;
    // The first write commits on its own thread, alone, and long enough for the
    // others to queue behind it: they then go in one batch, which the third one fails.
    let (a, (b, c, d)) = std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            block_on(writer.write(true, put("a", &runs[0], false, Duration::from_millis(300))))
        });
        std::thread::sleep(Duration::from_millis(100));
        let queued = block_on(futures_util::future::join3(
            writer.write(true, put("b", &runs[1], false, none)),
            writer.write(false, put("c", &runs[2], true, none)),
            writer.write(true, put("d", &runs[3], false, none)),
        ));
        (first.join().expect("the first write"), queued)
    });
    assert_eq!(a.expect("a"), "a");
    assert_eq!(b.expect("b"), "b");
    assert_eq!(c.expect_err("c fails").message, "c fails");
    assert_eq!(d.expect("d"), "d");
    let counts: Vec<usize> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
    assert_eq!(
        counts,
        [1, 2, 2, 1],
        "b and c ran as one batch, which c failed; then b again, c alone, and d"
    );
    drop(writer);
    for (key, stored) in [("a", true), ("b", true), ("c", false), ("d", true)] {
        assert_eq!(holds(&db, key), stored, "{key}");
    }
}

#[test]
fn what_was_answered_is_read_at_once_though_redb_commits_it_after_the_answer() {
    let (_dir, db, writer) = started();
    const KEYS: [&str; 8] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
    let runs = Arc::default();
    for round in 0..50 {
        let key = KEYS[round % KEYS.len()];
        let written = move |tx: &Tx<'_>| {
            tx.open(T)?.insert(key, round as u64)?;
            Ok(())
        };
        block_on(writer.write(true, written)).expect("write");
        writer.wait_committed();
        let txn = db.begin_read().expect("read");
        let seen = txn.open_table(T).expect("t").get(key).expect("get");
        assert_eq!(seen.map(|v| v.value()), Some(round as u64), "round {round}");
    }
    block_on(writer.write(true, put("last", &runs, false, Duration::ZERO))).expect("last");
}

#[test]
fn a_lone_write_is_left_for_the_next_read_to_commit_on_its_own_thread() {
    let (_dir, db, writer) = started();
    let runs = Arc::default();
    block_on(writer.write(true, put("a", &runs, false, Duration::ZERO))).expect("a");
    {
        let state = writer.shared.lock();
        assert!(
            state.pending.is_some() && !state.handed && state.busy,
            "answered, its transaction left to commit, the writer thread not woken"
        );
    }
    writer.wait_committed();
    {
        let state = writer.shared.lock();
        assert!(state.pending.is_none() && !state.committing && !state.busy);
    }
    assert!(holds(&db, "a"));
}

#[test]
fn writes_and_reads_from_many_threads_each_see_every_write_answered_before_them() {
    let (dir, db, writer) = started();
    const THREADS: u64 = 4;
    const WRITES: u64 = 150;
    let answered: Vec<AtomicUsize> = (0..THREADS).map(|_| AtomicUsize::new(0)).collect();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (writer, db, answered) = (&writer, &db, &answered);
            scope.spawn(move || {
                const U: TableDefinition<u64, u64> = TableDefinition::new("u");
                for n in 1..=WRITES {
                    let durable = n % 3 != 0;
                    block_on(writer.write(durable, move |tx: &Tx<'_>| {
                        tx.open(U)?.insert(thread, n)?;
                        Ok(())
                    }))
                    .expect("write");
                    answered[thread as usize].store(n as usize, Ordering::SeqCst);
                    // Every other round, read what every thread had answered so far.
                    if n % 2 == 0 {
                        let before: Vec<usize> =
                            answered.iter().map(|a| a.load(Ordering::SeqCst)).collect();
                        writer.wait_committed();
                        let txn = db.begin_read().expect("read");
                        let table = txn.open_table(U).expect("u");
                        for (other, &at_least) in before.iter().enumerate() {
                            let seen = table
                                .get(other as u64)
                                .expect("get")
                                .map_or(0, |v| v.value() as usize);
                            assert!(
                                seen >= at_least,
                                "thread {thread} read {seen} for thread {other}, which had been answered for {at_least}"
                            );
                        }
                    }
                }
            });
        }
    });
    drop(writer);
    drop(db);
    let db = Database::create(dir.path().join("w.redb")).expect("reopens");
    let txn = db.begin_read().expect("read");
    let table = txn
        .open_table(TableDefinition::<u64, u64>::new("u"))
        .expect("u");
    for thread in 0..THREADS {
        assert_eq!(
            table.get(thread).expect("get").map(|v| v.value()),
            Some(WRITES)
        );
    }
}

#[test]
fn after_a_failed_commit_into_redb_every_write_is_refused_with_the_way_out() {
    let (dir, db, writer) = started();
    let runs = Arc::default();
    block_on(writer.write(true, put("a", &runs, false, Duration::ZERO))).expect("a");
    writer.wait_committed();
    // What the writer thread records when such a commit fails.
    writer.shared.lock().failed = Some("the disk is gone".into());
    let refused =
        block_on(writer.write(true, put("b", &runs, false, Duration::ZERO))).expect_err("refused");
    assert!(
        refused.to_string().contains("the disk is gone")
            && refused.to_string().contains("restart the server"),
        "{refused}"
    );
    // The journal still holds the record of `a`, for the next start to apply.
    drop(writer);
    drop(db);
    let (_, records) = Journal::open(&dir.path().join("w.journal")).expect("journal");
    assert_eq!(records.len(), 1, "the record of `a` is still there");
}

#[test]
fn a_write_after_the_store_is_dropped_is_refused_and_the_file_is_closed() {
    let (dir, db, writer) = started();
    let path = dir.path().join("w.redb");
    let runs = Arc::default();
    block_on(writer.write(true, put("a", &runs, false, Duration::ZERO))).expect("a");
    drop(writer);
    drop(db);
    // The writer thread let go of the file: it opens again at once.
    let again = Database::create(&path).expect("reopens");
    assert!(holds(&again, "a"));
}
