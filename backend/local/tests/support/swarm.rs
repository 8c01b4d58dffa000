//! Many simulated console tabs at once, and the signals a test drives them with: start
//! the chats, go (send), stop (close and report).

use crate::support::console::{self, AckRecord, Behaviour, Report, Shared, TabPlan};
use crate::support::dice::Dice;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

/// How long nothing may move before a run counts as stuck.
const STUCK: Duration = Duration::from_secs(60);

/// The tabs of one test.
#[derive(Debug)]
pub struct Swarm {
    pub shared: Shared,
    chats: watch::Sender<bool>,
    go: watch::Sender<bool>,
    stop: watch::Sender<bool>,
    tabs: Vec<JoinHandle<Report>>,
}

impl Swarm {
    /// Tabs of the server at `addr`, with at most `inflight` unacknowledged sends in all
    /// (no limit if `None`).
    pub fn new(addr: SocketAddr, inflight: Option<usize>) -> Swarm {
        let (chats, chats_rx) = watch::channel(false);
        let (go, go_rx) = watch::channel(false);
        let (stop, stop_rx) = watch::channel(false);
        Swarm {
            shared: Shared {
                addr,
                epoch: std::time::Instant::now(),
                inflight: inflight.map(|n| Arc::new(Semaphore::new(n))),
                chats: chats_rx,
                go: go_rx,
                stop: stop_rx,
                welcomed: Arc::new(AtomicUsize::new(0)),
                ready: Arc::new(AtomicUsize::new(0)),
                complete: Arc::new(AtomicUsize::new(0)),
                acked: Arc::new(AtomicUsize::new(0)),
                held: Arc::new(AtomicUsize::new(0)),
                acks: None,
            },
            chats,
            go,
            stop,
            tabs: Vec::new(),
        }
    }

    /// Keeps every acknowledgement of the tabs spawned from now on, as it arrives.
    pub fn record_acks(&mut self) -> Arc<Mutex<Vec<AckRecord>>> {
        let acks = Arc::new(Mutex::new(Vec::new()));
        self.shared.acks = Some(acks.clone());
        acks
    }

    /// Opens a tab that follows `plan`.
    pub fn spawn(&mut self, plan: TabPlan, token: String, behaviour: Behaviour, dice: Dice) {
        let shared = self.shared.clone();
        self.tabs.push(tokio::spawn(console::run(
            plan, token, behaviour, dice, shared,
        )));
    }

    pub fn len(&self) -> usize {
        self.tabs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tabs.is_empty()
    }

    pub fn welcomed(&self) -> usize {
        self.shared.welcomed.load(Ordering::SeqCst)
    }

    /// Sends acknowledged so far, over all tabs.
    pub fn acked(&self) -> usize {
        self.shared.acked.load(Ordering::SeqCst)
    }

    pub fn completed(&self) -> usize {
        self.shared.complete.load(Ordering::SeqCst)
    }

    /// Waits until every tab was welcomed once; false if `limit` passed first.
    pub async fn all_welcomed(&self, limit: Duration) -> bool {
        until(limit, || self.welcomed() == self.len()).await
    }

    /// Lets the tabs start their chats.
    pub fn start_chats(&self) {
        let _ = self.chats.send(true);
    }

    /// Waits until every tab knows every chat it expects; false if `limit` passed first.
    pub async fn all_ready(&self, limit: Duration) -> bool {
        until(limit, || {
            self.shared.ready.load(Ordering::SeqCst) == self.len()
        })
        .await
    }

    /// Lets the tabs start their chats and send.
    pub fn go(&self) {
        self.start_chats();
        let _ = self.go.send(true);
    }

    /// Stops the tabs sending new messages; what is on its way is still acknowledged and
    /// delivered.
    pub fn pause(&self) {
        let _ = self.go.send(false);
    }

    /// Waits until every tab holds what it expects and had every send acknowledged;
    /// false if `limit` passed first, or a minute passed with nothing acknowledged or
    /// received.
    pub async fn all_complete(&self, limit: Duration) -> bool {
        let progress = || {
            (
                self.acked(),
                self.shared.held.load(Ordering::Relaxed),
                self.completed(),
            )
        };
        let mut last = (progress(), tokio::time::Instant::now());
        until(limit, || {
            let now = progress();
            if now != last.0 {
                last = (now, tokio::time::Instant::now());
            }
            self.completed() == self.len() || last.1.elapsed() > STUCK
        })
        .await
            && self.completed() == self.len()
    }

    /// Closes every tab and returns their reports.
    pub async fn finish(self) -> Vec<Report> {
        let _ = self.stop.send(true);
        let mut reports = Vec::with_capacity(self.tabs.len());
        for tab in self.tabs {
            reports.push(tab.await.expect("a tab does not panic"));
        }
        reports
    }
}

/// Polls `done` every 50 ms for at most `limit`.
pub async fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
