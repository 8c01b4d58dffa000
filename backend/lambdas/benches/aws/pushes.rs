//! Pushes (API Gateway's `PostToConnection`), counted instead of sent.

use async_trait::async_trait;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use std::sync::Mutex;

/// API Gateway bills WebSocket messages in units of 32 KB.
const MESSAGE_UNIT: usize = 32 * 1024;

/// Counts pushes and the WebSocket messages API Gateway bills for them; every
/// connection is there.
#[derive(Debug, Default)]
pub struct CountingPusher(Mutex<Pushes>);

/// Pushes counted so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushes {
    pub posts: usize,
    /// Billed messages: one per started 32 KB of each push.
    pub billed: usize,
}

impl CountingPusher {
    /// What was pushed since the last call.
    pub fn take(&self) -> Pushes {
        self.0
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

#[async_trait]
impl Pusher for CountingPusher {
    async fn post(&self, _: &ConnectionId, payload: &str) -> PushOutcome {
        if let Ok(mut pushes) = self.0.lock() {
            pushes.posts += 1;
            pushes.billed += payload.len().div_ceil(MESSAGE_UNIT).max(1);
        }
        PushOutcome::Delivered
    }
}
