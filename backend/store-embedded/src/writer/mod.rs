//! Group commit: a write that finds no other write running commits at once, on the
//! calling thread; writes that come while one is committing queue behind it, and the
//! writer thread takes all of them waiting at that moment, runs them in order in one redb
//! transaction and makes them durable with one journal record and one `fdatasync` (see
//! [`console_journal`]); then it answers each. A write is answered only after the record
//! that holds it is on disk, so nothing is acknowledged early — but a thousand agents
//! sending at once share a sync instead of queueing for one each.
//!
//! The first path is for the usual case, a message now and then: its commit costs the
//! sync and nothing more — no hand-off to the writer thread and back. It holds its
//! runtime thread for that sync; the other runtime threads go on serving, and while it
//! commits every other write queues for the writer thread, so at most one runtime thread
//! ever waits on the disk. Once its record is synced, the caller is answered and goes on
//! (to push the message); the transaction is committed into redb later, by the next read
//! or write on its own thread ([`Writer::wait_committed`]), or by the writer thread if it
//! has work then — waking it for that alone would cost the caller a wake-up of another
//! core before its push. Reads wait for that commit, so nothing is read before it is on
//! disk, and whatever was answered is read. The writer thread also makes the checkpoints,
//! when the journal asks for one, between commits.
//!
//! A batch is the same as its writes one after another: each sees what the earlier ones
//! wrote. If one of them fails, the whole transaction is dropped (nothing of it is
//! written) and each write of the batch is run again in a transaction of its own, so a
//! failure answers only the write that caused it.

use crate::fail;
use crate::tx::Tx;
use console_domain::ports::StoreError;
use console_journal::Journal;
use redb::{Database, Durability, WriteTransaction};
use std::any::Any;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The writer thread's name (as `/proc` and debuggers show it).
pub const WRITER_THREAD: &str = "store-writer";

/// How many writes one transaction takes at most.
const MAX_BATCH: usize = 512;

type Output = Box<dyn Any + Send>;
/// A write, as the transaction that runs it sees it.
type WriteFn<R> = dyn Fn(&Tx<'_>) -> Result<R, StoreError>;
type Run = Box<dyn Fn(&Tx<'_>) -> Result<Output, StoreError> + Send>;

/// One write waiting for the writer thread.
struct Job {
    /// Whether it must be on disk before it is answered.
    durable: bool,
    /// The write; it may run twice (again alone after its batch failed), so it must not
    /// consume what it captured.
    run: Run,
    answer: Box<dyn FnOnce(Result<Output, StoreError>) + Send>,
}

/// Who commits, and what waits.
#[derive(Default)]
struct State {
    /// A commit is running, on a caller's thread or on the writer thread: a write that
    /// comes now queues.
    busy: bool,
    /// The writer thread has the commit (handed over by a caller's commit that found
    /// writes queued or a checkpoint due); it lets `busy` go once it has nothing to do.
    handed: bool,
    /// The writes waiting, in the order they came.
    queue: VecDeque<Job>,
    /// The store is being dropped: the writer thread finishes the queue, makes a last
    /// checkpoint and stops.
    stopping: bool,
    /// A transaction whose record is on disk and whose caller was answered, to commit
    /// into redb: by the writer thread first thing if `handed`, else by the next read or
    /// write. It holds the commit (`busy`) until then.
    pending: Option<WriteTransaction>,
    /// `pending` is not committed yet: reads wait.
    committing: bool,
    /// Such a commit failed: redb lacks what the journal holds and was answered, so no
    /// write may build on it; a restart applies the journal.
    failed: Option<String>,
}

/// What the committing threads share.
struct Shared {
    db: Arc<Database>,
    /// Used only by whoever is `busy`: never waited for.
    journal: Mutex<Journal>,
    state: Mutex<State>,
    /// Rung when the writer thread is handed the commit, or the store is dropped.
    bell: Condvar,
    /// Rung when a pending commit is done.
    committed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that the pending transaction's commit is done (or failed) and wakes the
    /// reads waiting for it.
    fn committed(&self, state: &mut State, failed: Option<redb::CommitError>) {
        if let Some(error) = failed {
            state.failed = Some(error.to_string());
        }
        state.committing = false;
        self.committed.notify_all();
    }

    fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writer thread and the queue to it. Dropping it lets the thread finish what is
/// queued and checkpoint, and waits for it, so the file is closed when the store is.
pub struct Writer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// Starts the writer thread of `db`, whose commits since its last durable one are all
    /// in `journal` (none, after opening: the store applies what it found and
    /// checkpoints first).
    pub fn start(db: Arc<Database>, journal: Journal) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared {
            db,
            journal: Mutex::new(journal),
            state: Mutex::default(),
            bell: Condvar::new(),
            committed: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(WRITER_THREAD.into())
                .spawn(move || write_batches(&shared))
                .map_err(|e| {
                    StoreError::permanent(format!("embedded store: no writer thread: {e}"))
                })?
        };
        Ok(Writer {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `write` and answers once it is committed — on disk if `durable`, which any
    /// durable write of a batch makes the whole batch. Alone, it commits at once on this
    /// thread; behind another commit, in the writer thread's next batch.
    pub async fn write<R: Send + 'static>(
        &self,
        durable: bool,
        write: impl Fn(&Tx<'_>) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        // The last write's transaction, if it was left to commit, is committed here rather
        // than by the writer thread after a hand-over.
        let _ = self.commit_left(self.shared.lock());
        match self.enter(durable, write)? {
            Turn::Commit(write) => {
                // Let go even if the write panics, or every later write would wait.
                let mut leave = Leave {
                    writer: self,
                    pending: None,
                };
                let (mut outputs, staged) =
                    stage(&self.shared, durable, &[&write]).map_err(|(_, error)| error)?;
                // Its record is on disk: the writer thread commits it into redb while the
                // caller goes on.
                leave.pending = staged.map(|(txn, _)| txn);
                Ok(outputs.pop().expect("one output per write"))
            }
            Turn::Wait(answer) => answer.await.map_err(|_| closed())?,
        }
    }

    /// Waits until every write answered so far is committed into redb: before a read. A
    /// transaction left for the next reader or writer is committed here, on this thread.
    pub fn wait_committed(&self) {
        let mut state = self.shared.lock();
        while state.committing {
            state = match self.commit_left(state) {
                Ok(()) => return,
                Err(state) => self
                    .shared
                    .committed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            };
        }
    }

    /// Commits the transaction left for the next reader or writer, if there is one, on
    /// this thread, and lets go of the commit; else gives the lock back.
    fn commit_left<'s>(
        &'s self,
        mut state: MutexGuard<'s, State>,
    ) -> Result<(), MutexGuard<'s, State>> {
        if state.handed {
            return Err(state);
        }
        let Some(txn) = state.pending.take() else {
            return Err(state);
        };
        drop(state);
        let failed = txn.commit().err();
        let mut state = self.shared.lock();
        self.shared.committed(&mut state, failed);
        // It was left only when nothing was queued, no checkpoint was due and the store
        // was not stopping; writes queued since go to the writer thread.
        if state.queue.is_empty() && !state.stopping {
            state.busy = false;
        } else {
            state.handed = true;
            self.shared.bell.notify_one();
        }
        Ok(())
    }

    /// Takes the commit if no other write holds it; else queues `write` for the writer
    /// thread.
    fn enter<R: Send + 'static, W>(&self, durable: bool, write: W) -> Result<Turn<W, R>, StoreError>
    where
        W: Fn(&Tx<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let mut state = self.shared.lock();
        if state.stopping {
            return Err(closed());
        }
        if state.failed.is_some() {
            return Err(broken(&state));
        }
        if !state.busy {
            state.busy = true;
            return Ok(Turn::Commit(write));
        }
        if !state.handed && state.pending.is_some() {
            // A transaction left for the next reader or writer holds the commit: the
            // writer thread commits it, then this write.
            state.handed = true;
            self.shared.bell.notify_one();
        }
        let (reply, answer) = oneshot::channel::<Result<R, StoreError>>();
        state.queue.push_back(Job {
            durable,
            run: Box::new(move |tx| write(tx).map(|value| Box::new(value) as Output)),
            answer: Box::new(move |result| {
                let _ = reply.send(result.map(|value| {
                    *value
                        .downcast::<R>()
                        .expect("a write is answered with what it returned")
                }));
            }),
        });
        Ok(Turn::Wait(answer))
    }

    /// Lets go of the commit after committing on the caller's thread: to the next write,
    /// or to the writer thread if writes were queued meanwhile or a checkpoint is due. A
    /// transaction still to commit into redb keeps the commit: the writer thread commits
    /// it first if it has work, else the next read or write does.
    fn leave(&self, pending: Option<WriteTransaction>) {
        let due = self.shared.journal().checkpoint_due();
        let mut state = self.shared.lock();
        let parked = pending.is_some();
        if parked {
            state.pending = pending;
            state.committing = true;
        }
        if !state.queue.is_empty() || due || state.stopping {
            state.handed = true;
            self.shared.bell.notify_one();
        } else if !parked {
            state.busy = false;
        }
    }
}

/// Lets go of the commit when dropped, handing over the transaction to commit if any.
struct Leave<'a> {
    writer: &'a Writer,
    pending: Option<WriteTransaction>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.writer.leave(self.pending.take());
    }
}

/// What a write does: commit now, or wait for the writer thread's answer.
enum Turn<W, R> {
    Commit(W),
    Wait(oneshot::Receiver<Result<R, StoreError>>),
}

/// The refusal of every write after a commit into redb failed (see `State::failed`).
fn broken(state: &State) -> StoreError {
    StoreError::permanent(format!(
        "embedded store: a commit failed after its journal record was written ({}); \
         restart the server, which applies the journal",
        state.failed.as_deref().unwrap_or("unknown error")
    ))
}

fn closed() -> StoreError {
    StoreError::permanent("embedded store: the writer has stopped")
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.bell.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the writer thread does next.
enum Work {
    /// Commit a transaction whose record is on disk and whose caller was answered.
    Commit(Box<WriteTransaction>),
    Batch(Vec<Job>),
    Checkpoint,
    Stop,
}

/// The writer thread: once handed the commit, checkpoints if one is due, takes every
/// write waiting (up to [`MAX_BATCH`]), runs them as one transaction, answers them, and
/// again until there is nothing to do; then lets the next write commit on its caller's
/// thread. When the store is dropped, it commits what is queued, checkpoints and stops.
fn write_batches(shared: &Shared) {
    // A checkpoint that failed is tried again the next time the thread is handed the
    // commit, not in a loop (and the journal keeps its records meanwhile).
    let mut checkpoint_failed = false;
    loop {
        let work = {
            let mut state = shared.lock();
            loop {
                if state.stopping && (!state.busy || (!state.handed && state.pending.is_some())) {
                    // Nothing commits on a caller's thread any more: take the rest.
                    state.busy = true;
                    state.handed = true;
                }
                if state.handed {
                    if let Some(txn) = state.pending.take() {
                        break Work::Commit(Box::new(txn));
                    }
                    // After a failed commit the journal holds what redb lacks: a checkpoint
                    // would start it over and lose that.
                    if !checkpoint_failed
                        && state.failed.is_none()
                        && shared.journal().checkpoint_due()
                    {
                        break Work::Checkpoint;
                    }
                    if !state.queue.is_empty() {
                        let take = state.queue.len().min(MAX_BATCH);
                        break Work::Batch(state.queue.drain(..take).collect());
                    }
                    if state.stopping {
                        break Work::Stop;
                    }
                    state.handed = false;
                    state.busy = false;
                    checkpoint_failed = false;
                }
                state = shared
                    .bell
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        match work {
            Work::Commit(txn) => {
                let failed = txn.commit().err();
                shared.committed(&mut shared.lock(), failed);
            }
            Work::Batch(batch) if shared.lock().failed.is_some() => {
                for job in batch {
                    (job.answer)(Err(broken(&shared.lock())));
                }
            }
            Work::Batch(batch) => {
                // A write that panics drops its batch's answers (its callers are told the
                // writer stopped), not the thread: later writes still commit.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    commit(shared, batch);
                }));
            }
            Work::Checkpoint => {
                checkpoint_failed = checkpoint(&shared.db, &mut shared.journal()).is_err();
            }
            Work::Stop => {
                if shared.lock().failed.is_none() {
                    let _ = checkpoint(&shared.db, &mut shared.journal());
                }
                return;
            }
        }
    }
}

/// Makes redb's state durable, so that the journal's records are no longer needed, and
/// starts the journal over.
pub fn checkpoint(db: &Database, journal: &mut Journal) -> Result<(), StoreError> {
    if journal.is_empty() {
        return Ok(());
    }
    // A durable commit makes every non-durable one before it durable too.
    db.begin_write().map_err(fail)?.commit().map_err(fail)?;
    journal.restart();
    Ok(())
}

/// Commits `batch` in one transaction and answers each of its writes. If a write fails,
/// the writes before it are committed together again, the failing one alone (so its
/// answer is its own), and the ones after it together; if the transaction itself fails,
/// each write alone.
fn commit(shared: &Shared, mut batch: Vec<Job>) {
    if batch.is_empty() {
        return;
    }
    let durable = batch.iter().any(|job| job.durable);
    let runs: Vec<&WriteFn<Output>> = batch.iter().map(|job| job.run.as_ref() as _).collect();
    match commit_together(shared, durable, &runs) {
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
            commit(shared, batch);
            commit(shared, culprit);
            commit(shared, after);
        }
        Err((None, _)) => {
            for job in batch {
                commit(shared, vec![job]);
            }
        }
    }
}

/// Runs `writes` in order in one transaction and commits it: their changes go to the
/// journal first (synced if `durable`), then into redb without a sync. On any error
/// nothing of it is written, and the error comes with the index of the write that failed
/// (none if the transaction did).
fn commit_together<R>(
    shared: &Shared,
    durable: bool,
    writes: &[&WriteFn<R>],
) -> Result<Vec<R>, (Option<usize>, StoreError)> {
    let (outputs, staged) = stage(shared, durable, writes)?;
    let Some((txn, changes)) = staged else {
        return Ok(outputs);
    };
    if let Err(error) = txn.commit() {
        // The record must not be applied at the next start either.
        let mut journal = shared.journal();
        if let Err(undo) = journal.take_back(changes) {
            return Err(whole(format_args!(
                "{error}; and its journal record could not be taken back ({undo}): it may \
                 reappear after a restart"
            )));
        }
        return Err(whole(error));
    }
    Ok(outputs)
}

fn whole(error: impl std::fmt::Display) -> (Option<usize>, StoreError) {
    (None, fail(error))
}

/// Runs `writes` in order in one transaction and writes their changes to the journal
/// (synced if `durable`); returns the transaction to commit into redb, with how many
/// changes its record holds — none if nothing changed. On any error nothing of it is
/// written, and the error comes with the index of the write that failed (none if the
/// transaction did).
#[allow(clippy::type_complexity)]
fn stage<R>(
    shared: &Shared,
    durable: bool,
    writes: &[&WriteFn<R>],
) -> Result<(Vec<R>, Option<(WriteTransaction, usize)>), (Option<usize>, StoreError)> {
    let mut txn = shared.db.begin_write().map_err(whole)?;
    txn.set_durability(Durability::None).map_err(whole)?;
    let tx = Tx::new(&txn);
    let mut outputs = Vec::with_capacity(writes.len());
    for (n, write) in writes.iter().enumerate() {
        outputs.push(write(&tx).map_err(|error| (Some(n), error))?);
    }
    let changes = tx.into_changes();
    if changes.is_empty() {
        // Nothing changed: nothing to journal or to wait for.
        return Ok((outputs, None));
    }
    let mut journal = shared.journal();
    journal.append(&changes, durable).map_err(|e| {
        whole(format_args!(
            "cannot write the journal {}: {e}",
            journal.path().display()
        ))
    })?;
    Ok((outputs, Some((txn, changes.len()))))
}

#[cfg(test)]
mod tests;
