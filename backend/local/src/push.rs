//! The in-process pusher: API Gateway's `PostToConnection`, for sockets held by this
//! process.

use async_trait::async_trait;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// The live sockets of this process, by connection id.
#[derive(Debug, Default)]
pub struct LocalPusher {
    sockets: Mutex<HashMap<ConnectionId, UnboundedSender<String>>>,
}

impl LocalPusher {
    /// Registers a socket's outbox under its connection id.
    pub fn register(&self, id: ConnectionId, outbox: UnboundedSender<String>) {
        self.lock().insert(id, outbox);
    }

    /// Forgets a socket.
    pub fn unregister(&self, id: &ConnectionId) {
        self.lock().remove(id);
    }

    /// How many sockets are live.
    pub fn live(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, UnboundedSender<String>>> {
        self.sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Pusher for LocalPusher {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome {
        let outbox = self.lock().get(connection).cloned();
        match outbox {
            Some(outbox) if outbox.send(payload.to_owned()).is_ok() => PushOutcome::Delivered,
            _ => PushOutcome::Gone,
        }
    }
}
