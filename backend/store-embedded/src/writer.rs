//! Group commit: every write of the store runs on one writer thread, which takes all the
//! writes waiting at that moment, runs them in order in one redb transaction and commits
//! them with one fsync; then it answers each. A write is answered only after the commit
//! that holds it is on disk, so nothing is acknowledged early — but a thousand agents
//! sending at once share an fsync instead of queueing for one each, and no thread of the
//! async runtime ever waits on the disk or on another transaction.
//!
//! A batch is the same as its writes one after another: each sees what the earlier ones
//! wrote. If one of them fails, the whole transaction is dropped (nothing of it is
//! written) and each write of the batch is run again in a transaction of its own, so a
//! failure answers only the write that caused it.

use console_domain::ports::StoreError;
use redb::{Database, Durability, WriteTransaction};
use std::any::Any;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// How many writes one transaction takes at most.
const MAX_BATCH: usize = 512;

type Output = Box<dyn Any + Send>;
type Run = Box<dyn Fn(&WriteTransaction) -> Result<Output, StoreError> + Send>;

/// One write waiting for the writer thread.
struct Job {
    /// Whether its commit must reach the disk before it is answered.
    durable: bool,
    /// The write; it may run twice (again alone after its batch failed), so it must not
    /// consume what it captured.
    run: Run,
    answer: Box<dyn FnOnce(Result<Output, StoreError>) + Send>,
}

/// The writer thread and the queue to it. Dropping it lets the thread finish what is
/// queued and waits for it, so the file is closed when the store is.
pub struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// Starts the writer thread of `db`.
    pub fn start(db: Arc<Database>) -> Result<Self, StoreError> {
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_batches(&db, &jobs))
            .map_err(|e| StoreError::permanent(format!("embedded store: no writer thread: {e}")))?;
        Ok(Writer {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Runs `write` in the next batch and answers once that batch is committed —
    /// durably (fsync) if `durable`, which any durable write of the batch makes it.
    pub async fn write<R: Send + 'static>(
        &self,
        durable: bool,
        write: impl Fn(&WriteTransaction) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel::<Result<R, StoreError>>();
        let job = Job {
            durable,
            run: Box::new(move |txn| write(txn).map(|value| Box::new(value) as Output)),
            answer: Box::new(move |result| {
                let _ = reply.send(result.map(|value| {
                    *value
                        .downcast::<R>()
                        .expect("a write is answered with what it returned")
                }));
            }),
        };
        let closed = || StoreError::permanent("embedded store: the writer has stopped");
        self.queue
            .as_ref()
            .ok_or_else(closed)?
            .send(job)
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: waits for a write, takes every other one queued behind it, runs
/// them as one transaction, answers them; until the store is dropped.
fn write_batches(db: &Database, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(db, batch);
    }
}

/// Commits `batch` in one transaction and answers each of its writes. If a write fails,
/// the writes before it are committed together again, the failing one alone (so its
/// answer is its own), and the ones after it together; if the transaction itself fails,
/// each write alone.
fn commit(db: &Database, mut batch: Vec<Job>) {
    if batch.is_empty() {
        return;
    }
    match run_together(db, &batch) {
        Ok(outputs) => {
            for (job, output) in batch.into_iter().zip(outputs) {
                (job.answer)(Ok(output));
            }
        }
        Err((_, error)) if batch.len() == 1 => {
            if let Some(job) = batch.pop() {
                (job.answer)(Err(error));
            }
        }
        Err((Some(failed), _)) => {
            let after = batch.split_off(failed + 1);
            let culprit = batch.split_off(failed);
            commit(db, batch);
            commit(db, culprit);
            commit(db, after);
        }
        Err((None, _)) => {
            for job in batch {
                commit(db, vec![job]);
            }
        }
    }
}

/// Runs the writes of `batch` in order in one transaction and commits it; on any error
/// nothing of it is written, and the error comes with the index of the write that
/// failed (none if the transaction did).
fn run_together(db: &Database, batch: &[Job]) -> Result<Vec<Output>, (Option<usize>, StoreError)> {
    fn whole(error: impl std::fmt::Display) -> (Option<usize>, StoreError) {
        (None, crate::fail(error))
    }
    let mut txn = db.begin_write().map_err(whole)?;
    if !batch.iter().any(|job| job.durable) {
        txn.set_durability(Durability::None).map_err(whole)?;
    }
    let mut outputs = Vec::with_capacity(batch.len());
    for (n, job) in batch.iter().enumerate() {
        outputs.push((job.run)(&txn).map_err(|error| (Some(n), error))?);
    }
    txn.commit().map_err(whole)?;
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use redb::{ReadableDatabase, TableDefinition};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    const T: TableDefinition<&str, u64> = TableDefinition::new("t");

    /// A write that puts `key` and counts its runs, failing after writing if `fails`.
    fn put(
        key: &'static str,
        runs: &Arc<AtomicUsize>,
        fails: bool,
        pause: Duration,
    ) -> impl Fn(&WriteTransaction) -> Result<&'static str, StoreError> + Send + 'static {
        let runs = runs.clone();
        move |txn| {
            runs.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(pause);
            txn.open_table(T)
                .map_err(crate::fail)?
                .insert(key, 1)
                .map_err(crate::fail)?;
            if fails {
                return Err(StoreError::permanent(format!("{key} fails")));
            }
            Ok(key)
        }
    }

    #[test]
    fn a_failing_write_fails_alone_and_the_rest_of_its_batch_is_committed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(Database::create(dir.path().join("w.redb")).expect("db"));
        let writer = Writer::start(db.clone()).expect("writer");
        let runs: Vec<Arc<AtomicUsize>> = (0..4).map(|_| Arc::default()).collect();
        let none = Duration::ZERO;
        // The first write holds the writer long enough for the others to queue behind
        // it: they then go in one batch, which the third one fails.
        let results = block_on(async {
            let first = writer.write(true, put("a", &runs[0], false, Duration::from_millis(300)));
            let queued = async {
                std::thread::sleep(Duration::from_millis(100));
                futures_util::future::join3(
                    writer.write(true, put("b", &runs[1], false, none)),
                    writer.write(false, put("c", &runs[2], true, none)),
                    writer.write(true, put("d", &runs[3], false, none)),
                )
                .await
            };
            futures_util::future::join(first, queued).await
        });
        let (a, (b, c, d)) = results;
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
        let txn = db.begin_read().expect("read");
        let table = txn.open_table(T).expect("table");
        for (key, stored) in [("a", true), ("b", true), ("c", false), ("d", true)] {
            assert_eq!(table.get(key).expect("get").is_some(), stored, "{key}");
        }
    }

    #[test]
    fn a_write_after_the_store_is_dropped_is_refused_and_the_file_is_closed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.redb");
        let db = Arc::new(Database::create(&path).expect("db"));
        let writer = Writer::start(db.clone()).expect("writer");
        let runs = Arc::default();
        block_on(writer.write(true, put("a", &runs, false, Duration::ZERO))).expect("a");
        drop(writer);
        drop(db);
        // The writer thread let go of the file: it opens again at once.
        let again = Database::create(&path).expect("reopens");
        let txn = again.begin_read().expect("read");
        assert!(
            txn.open_table(T)
                .expect("t")
                .get("a")
                .expect("get")
                .is_some()
        );
    }
}
