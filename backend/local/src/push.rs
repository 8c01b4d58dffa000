//! The in-process pusher: API Gateway's `PostToConnection`, for sockets held by this
//! process, and what its management API (`@connections`) tells about them.
//!
//! Each socket's outgoing queue is bounded by bytes ([`MAX_QUEUED_BYTES`]): a console
//! that stops reading is disconnected, as API Gateway disconnects a slow client, instead
//! of making the server hold everything pushed to it.

use async_trait::async_trait;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// How many bytes of frames one socket may have queued, not yet handed to its WebSocket:
/// past this the socket is closed (its console stopped reading) and the push that did not
/// fit answers [`PushOutcome::Gone`]. Without a bound, a console that stops reading its
/// socket while it keeps sending frames that are answered made the server grow without
/// end (and keep the memory after the socket closed). A console that reads keeps its
/// queue near empty: its socket writes as soon as frames are queued. 1 MiB holds eight
/// of the largest frames API Gateway takes (128 KB), thousands of chat frames, or a
/// resume of thousands of messages while the socket writes them out; a thousand stalled
/// consoles then hold at most a GiB. Frames handed to the WebSocket wait in its write
/// buffer (128 KiB, bounded by itself) and in the kernel's.
pub const MAX_QUEUED_BYTES: usize = 1024 * 1024;

/// What one queued frame counts for besides its payload (its allocation and its slot in
/// the queue), so that many tiny frames (a `pong` is 15 bytes) are bounded too: at most
/// `MAX_QUEUED_BYTES / QUEUED_FRAME_OVERHEAD` (16,384) frames.
pub const QUEUED_FRAME_OVERHEAD: usize = 64;

/// Past this many queued bytes, a push lets other tasks run once before it returns: when
/// the pusher is the socket's own handler (a `hello` that replays a long history, with
/// store reads that never wait), its socket gets to write what is queued instead of
/// seeing it all pile up first.
const YIELD_ABOVE_BYTES: usize = MAX_QUEUED_BYTES / 2;

/// What a socket task is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Send this text frame.
    Frame(String),
    /// Close the connection (the management API's DELETE).
    Close,
}

/// What the two ends of a socket's queue share.
#[derive(Debug, Default)]
struct Queue {
    /// Bytes queued (payloads plus [`QUEUED_FRAME_OVERHEAD`] each), not yet taken out.
    bytes: AtomicUsize,
    /// A push did not fit: the socket is closing, nothing more is queued.
    overflowed: AtomicBool,
    /// Wakes the socket task when the queue overflows, even while its writer is stuck
    /// on a peer that does not read.
    overflow: Notify,
}

/// What a frame counts for in the queue.
fn cost(payload: &str) -> usize {
    payload.len() + QUEUED_FRAME_OVERHEAD
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The socket's task has ended, or the socket is closing after an overflow.
    Closed,
    /// The frame did not fit within [`MAX_QUEUED_BYTES`]: the socket task is told to
    /// close the socket (once; later frames are refused as [`Refused::Closed`]).
    Overflow,
}

/// The sending end of a socket's outgoing queue (cloned wherever frames are pushed).
#[derive(Debug, Clone)]
pub struct Outbox {
    sender: UnboundedSender<Outbound>,
    queue: Arc<Queue>,
}

/// The socket task's end of its outgoing queue.
#[derive(Debug)]
pub struct Inbox {
    receiver: UnboundedReceiver<Outbound>,
    queue: Arc<Queue>,
}

/// A socket's outgoing queue, bounded by [`MAX_QUEUED_BYTES`].
pub fn outbox() -> (Outbox, Inbox) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let queue = Arc::new(Queue::default());
    (
        Outbox {
            sender,
            queue: queue.clone(),
        },
        Inbox { receiver, queue },
    )
}

impl Outbox {
    /// Queues a frame if it fits within the bound; never waits. When it does not fit, the
    /// socket is told to close (and every later frame is refused too).
    pub fn push(&self, payload: String) -> Result<(), Refused> {
        let queue = &self.queue;
        if queue.overflowed.load(Ordering::Acquire) {
            return Err(Refused::Closed);
        }
        let cost = cost(&payload);
        let reserved = queue
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                queued
                    .checked_add(cost)
                    .filter(|&total| total <= MAX_QUEUED_BYTES)
            });
        if reserved.is_err() {
            if queue.overflowed.swap(true, Ordering::AcqRel) {
                return Err(Refused::Closed);
            }
            // A permit is kept if the task is not waiting right now.
            queue.overflow.notify_one();
            return Err(Refused::Overflow);
        }
        if self.sender.send(Outbound::Frame(payload)).is_err() {
            queue.bytes.fetch_sub(cost, Ordering::AcqRel);
            return Err(Refused::Closed);
        }
        Ok(())
    }

    /// Asks the socket task to close the socket once the frames queued before are
    /// written; false if the task has ended.
    pub fn close(&self) -> bool {
        self.sender.send(Outbound::Close).is_ok()
    }

    /// The bytes queued now (payloads plus [`QUEUED_FRAME_OVERHEAD`] each).
    pub fn queued_bytes(&self) -> usize {
        self.queue.bytes.load(Ordering::Acquire)
    }

    /// Whether a push did not fit, so the socket is closing.
    pub fn overflowed(&self) -> bool {
        self.queue.overflowed.load(Ordering::Acquire)
    }

    /// Waits until a push does not fit (at once if one did not already): what the socket
    /// task listens for to close the socket, even while its writing is stuck.
    pub async fn overflow(&self) {
        if self.overflowed() {
            return;
        }
        self.queue.overflow.notified().await;
    }
}

impl Inbox {
    /// The next thing to do, waiting for it; `None` once every [`Outbox`] is gone.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let next = self.receiver.recv().await;
        self.taken(next)
    }

    /// The next thing to do if one is queued.
    pub fn try_recv(&mut self) -> Option<Outbound> {
        let next = self.receiver.try_recv().ok();
        self.taken(next)
    }

    /// A frame taken out to be written no longer counts against the bound.
    fn taken(&self, next: Option<Outbound>) -> Option<Outbound> {
        if let Some(Outbound::Frame(payload)) = &next {
            self.queue.bytes.fetch_sub(cost(payload), Ordering::AcqRel);
        }
        next
    }

    /// Whether a push did not fit: the socket is to close without writing more.
    pub fn overflowed(&self) -> bool {
        self.queue.overflowed.load(Ordering::Acquire)
    }
}

/// A live socket of this process.
#[derive(Debug, Clone)]
pub struct Socket {
    pub outbox: Outbox,
    pub connected_at: i64,
    pub source_ip: String,
    pub user_agent: String,
    /// When a frame last came in or went out (ms since the epoch).
    pub last_active: Arc<AtomicI64>,
}

/// The live sockets of this process, by connection id.
#[derive(Debug, Default)]
pub struct LocalPusher {
    sockets: Mutex<HashMap<ConnectionId, Socket>>,
}

impl LocalPusher {
    /// Registers a socket under its connection id.
    pub fn register(&self, id: ConnectionId, socket: Socket) {
        self.lock().insert(id, socket);
    }

    /// Forgets a socket.
    pub fn unregister(&self, id: &ConnectionId) {
        self.lock().remove(id);
    }

    /// A socket, if it is live.
    pub fn socket(&self, id: &ConnectionId) -> Option<Socket> {
        self.lock().get(id).cloned()
    }

    /// The ids of the live sockets.
    pub fn ids(&self) -> Vec<ConnectionId> {
        self.lock().keys().cloned().collect()
    }

    /// How many sockets are live.
    pub fn live(&self) -> usize {
        self.lock().len()
    }

    /// The bytes queued for the live sockets, all together (each at most
    /// [`MAX_QUEUED_BYTES`]).
    pub fn queued_bytes(&self) -> usize {
        self.lock()
            .values()
            .map(|socket| socket.outbox.queued_bytes())
            .sum()
    }

    /// Asks a socket to close; false if it is not live.
    pub fn close(&self, id: &ConnectionId) -> bool {
        self.socket(id).is_some_and(|socket| socket.outbox.close())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, Socket>> {
        self.sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Pusher for LocalPusher {
    /// Hands the frame to the socket's task, without waiting. A socket whose queue would
    /// go past [`MAX_QUEUED_BYTES`] is closed instead, and the push answers `Gone`, as
    /// API Gateway answers for a connection it dropped.
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome {
        let Some(socket) = self.socket(connection) else {
            return PushOutcome::Gone;
        };
        match socket.outbox.push(payload.to_owned()) {
            Ok(()) => {
                if socket.outbox.queued_bytes() > YIELD_ABOVE_BYTES {
                    tokio::task::yield_now().await;
                }
                PushOutcome::Delivered
            }
            Err(Refused::Overflow) => {
                tracing::warn!(
                    connection = %connection.0,
                    limit = MAX_QUEUED_BYTES,
                    "a socket's console does not read what is pushed to it: closing it"
                );
                PushOutcome::Gone
            }
            Err(Refused::Closed) => PushOutcome::Gone,
        }
    }

    /// There while its socket is.
    async fn probe(&self, connection: &ConnectionId) -> PushOutcome {
        match self.socket(connection) {
            Some(_) => PushOutcome::Delivered,
            None => PushOutcome::Gone,
        }
    }
}

/// Records activity on a socket now.
pub fn touch(last_active: &AtomicI64, now: i64) {
    last_active.store(now, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A live socket under `id`, and its task's end of the queue.
    fn socket(pusher: &LocalPusher, id: &str) -> (ConnectionId, Inbox) {
        let (outbox, inbox) = outbox();
        let id = ConnectionId(id.into());
        pusher.register(
            id.clone(),
            Socket {
                outbox,
                connected_at: 0,
                source_ip: "127.0.0.1".into(),
                user_agent: String::new(),
                last_active: Arc::new(AtomicI64::new(0)),
            },
        );
        (id, inbox)
    }

    #[tokio::test]
    async fn a_post_within_the_bound_is_delivered_and_counted_until_taken_out() {
        let pusher = LocalPusher::default();
        let (id, mut inbox) = socket(&pusher, "a");
        let pong = r#"{"type":"pong"}"#;
        assert_eq!(pusher.post(&id, pong).await, PushOutcome::Delivered);
        assert_eq!(pusher.post(&id, pong).await, PushOutcome::Delivered);
        assert_eq!(
            pusher.queued_bytes(),
            2 * (pong.len() + QUEUED_FRAME_OVERHEAD)
        );
        assert_eq!(inbox.recv().await, Some(Outbound::Frame(pong.into())));
        assert_eq!(inbox.try_recv(), Some(Outbound::Frame(pong.into())));
        assert_eq!(inbox.try_recv(), None);
        assert_eq!(pusher.queued_bytes(), 0, "written frames no longer count");
        assert!(!inbox.overflowed());

        // A queue filled to the brim and written out takes as much again.
        let frame = "x".repeat(1000);
        let fits = MAX_QUEUED_BYTES / cost(&frame);
        for round in 0..2 {
            for _ in 0..fits {
                assert_eq!(pusher.post(&id, &frame).await, PushOutcome::Delivered);
            }
            assert!(pusher.queued_bytes() <= MAX_QUEUED_BYTES, "round {round}");
            while inbox.try_recv().is_some() {}
            assert_eq!(pusher.queued_bytes(), 0);
        }
        assert!(!inbox.overflowed(), "never over the bound");
        assert_eq!(pusher.live(), 1);
    }

    #[tokio::test]
    async fn a_post_to_a_full_queue_is_gone_and_asks_the_socket_to_close() {
        let pusher = LocalPusher::default();
        let (id, mut inbox) = socket(&pusher, "slow");
        let (other, mut other_inbox) = socket(&pusher, "fine");
        let frame = "y".repeat(4000);
        let mut delivered = 0;
        let outcome = loop {
            match pusher.post(&id, &frame).await {
                PushOutcome::Delivered => delivered += 1,
                outcome => break outcome,
            }
            assert!(
                pusher.queued_bytes() <= MAX_QUEUED_BYTES,
                "never queued past the bound"
            );
            assert!(delivered <= MAX_QUEUED_BYTES / frame.len(), "bounded");
        };
        assert_eq!(outcome, PushOutcome::Gone);
        assert_eq!(delivered, MAX_QUEUED_BYTES / cost(&frame));
        assert!(inbox.overflowed());
        let outbox = pusher.socket(&id).expect("still registered").outbox;
        tokio::time::timeout(Duration::from_secs(1), outbox.overflow())
            .await
            .expect("the socket task is told to close");

        // Nothing more is queued, not even a small frame that would fit once some of
        // the queue is written: the socket is closing.
        let queued = pusher.queued_bytes();
        assert_eq!(pusher.post(&id, "{}").await, PushOutcome::Gone);
        assert!(inbox.try_recv().is_some());
        assert_eq!(pusher.post(&id, "{}").await, PushOutcome::Gone);
        assert!(pusher.queued_bytes() < queued);

        // Another socket is not affected.
        assert_eq!(pusher.post(&other, "{}").await, PushOutcome::Delivered);
        assert_eq!(other_inbox.try_recv(), Some(Outbound::Frame("{}".into())));
        assert!(!other_inbox.overflowed());
    }

    #[tokio::test]
    async fn the_overflow_wakes_a_socket_task_that_is_already_waiting() {
        let pusher = Arc::new(LocalPusher::default());
        let (id, inbox) = socket(&pusher, "stuck");
        let outbox = pusher.socket(&id).expect("registered").outbox;
        let waiting = tokio::spawn(async move {
            outbox.overflow().await;
            inbox
        });
        tokio::task::yield_now().await;
        let huge = "z".repeat(MAX_QUEUED_BYTES);
        assert_eq!(pusher.post(&id, &huge).await, PushOutcome::Gone);
        let inbox = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("woken")
            .expect("the task ends");
        assert!(inbox.overflowed());
        assert_eq!(
            pusher.queued_bytes(),
            0,
            "the frame that did not fit is not held"
        );
    }

    #[tokio::test]
    async fn a_post_to_a_socket_without_a_task_is_gone_and_close_still_closes() {
        let pusher = LocalPusher::default();
        assert_eq!(
            pusher.post(&ConnectionId("nobody".into()), "{}").await,
            PushOutcome::Gone
        );
        let (id, mut inbox) = socket(&pusher, "a");
        assert_eq!(pusher.post(&id, "{}").await, PushOutcome::Delivered);
        assert!(pusher.close(&id));
        assert_eq!(inbox.recv().await, Some(Outbound::Frame("{}".into())));
        assert_eq!(inbox.recv().await, Some(Outbound::Close));
        drop(inbox);
        assert_eq!(pusher.post(&id, "{}").await, PushOutcome::Gone);
        assert_eq!(pusher.queued_bytes(), 0);
        assert!(!pusher.close(&id));
    }
}
