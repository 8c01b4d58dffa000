//! Pushes (API Gateway's `PostToConnection`), recorded instead of sent (the domain's
//! `RecordingPusher`), and counted as API Gateway bills them.

use console_domain::ConnectionId;

/// API Gateway bills WebSocket messages in units of 32 KB.
const MESSAGE_UNIT: usize = 32 * 1024;

/// Pushes counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushes {
    pub posts: usize,
    /// Billed messages: one per started 32 KB of each push.
    pub billed: usize,
}

impl Pushes {
    /// The count of `pushed`, the posts a `RecordingPusher` took (every connection is
    /// there: each post is delivered).
    pub fn of(pushed: &[(ConnectionId, String)]) -> Self {
        Pushes {
            posts: pushed.len(),
            billed: pushed
                .iter()
                .map(|(_, payload)| payload.len().div_ceil(MESSAGE_UNIT).max(1))
                .sum(),
        }
    }
}
