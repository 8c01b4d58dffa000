//! A pusher that keeps what it is given, for the targets to check after each input.

use async_trait::async_trait;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use std::sync::{Mutex, PoisonError};

/// Records every frame pushed, with the connection it was pushed to; every push is
/// delivered.
#[derive(Debug, Default)]
pub struct RecordingPusher {
    pushed: Mutex<Vec<(ConnectionId, String)>>,
}

impl RecordingPusher {
    /// Takes every frame pushed since the last call.
    pub fn take(&self) -> Vec<(ConnectionId, String)> {
        std::mem::take(&mut *self.pushed.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[async_trait]
impl Pusher for RecordingPusher {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome {
        self.pushed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((connection.clone(), payload.to_owned()));
        PushOutcome::Delivered
    }
}
