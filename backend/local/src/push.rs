//! The in-process pusher: API Gateway's `PostToConnection`, for sockets held by this
//! process, and what its management API (`@connections`) tells about them.

use async_trait::async_trait;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// What a socket task is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Send this text frame.
    Frame(String),
    /// Close the connection (the management API's DELETE).
    Close,
}

/// A live socket of this process.
#[derive(Debug, Clone)]
pub struct Socket {
    pub outbox: UnboundedSender<Outbound>,
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

    /// Asks a socket to close; false if it is not live.
    pub fn close(&self, id: &ConnectionId) -> bool {
        self.socket(id)
            .is_some_and(|socket| socket.outbox.send(Outbound::Close).is_ok())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, Socket>> {
        self.sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Pusher for LocalPusher {
    /// Hands the frame to the socket's task.
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome {
        let handed = self.socket(connection).is_some_and(|socket| {
            socket
                .outbox
                .send(Outbound::Frame(payload.to_owned()))
                .is_ok()
        });
        if handed {
            PushOutcome::Delivered
        } else {
            PushOutcome::Gone
        }
    }

    /// Woken from a runtime thread, a socket's task waits for the caller to finish
    /// everything else it does (tokio runs it next on that thread, and no other thread
    /// takes it): yielding lets it write first. Once per message, not per push: under
    /// a saturating load, a yield after every push cost about a fifth of the throughput.
    async fn let_sockets_write(&self) {
        tokio::task::yield_now().await;
    }
}

/// Records activity on a socket now.
pub fn touch(last_active: &AtomicI64, now: i64) {
    last_active.store(now, Ordering::Relaxed);
}
