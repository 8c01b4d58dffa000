//! A pusher that keeps what it is given, and answers as the test tells it.

use crate::model::ConnectionId;
use crate::ports::{PushOutcome, Pusher};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Records every frame posted, with the connection it was posted to — those answered
/// `Gone` or `Failed` too: they were posted. Every connection answers `Delivered`, but
/// those the test set otherwise with [`RecordingPusher::answer`] (probes as well as
/// posts).
#[derive(Debug, Default)]
pub struct RecordingPusher {
    state: Mutex<Pushes>,
}

#[derive(Debug, Default)]
struct Pushes {
    /// Every post, in the order made.
    pushed: Vec<(ConnectionId, String)>,
    /// The connections that do not answer `Delivered`.
    answers: BTreeMap<ConnectionId, PushOutcome>,
}

impl RecordingPusher {
    /// A pusher that has posted nothing and delivers everything.
    pub fn new() -> Self {
        RecordingPusher::default()
    }

    fn state(&self) -> MutexGuard<'_, Pushes> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on, every post and probe to `connection` answers `outcome`
    /// (`Delivered` puts it back as it was).
    pub fn answer(&self, connection: &ConnectionId, outcome: PushOutcome) {
        let mut state = self.state();
        if outcome == PushOutcome::Delivered {
            state.answers.remove(connection);
        } else {
            state.answers.insert(connection.clone(), outcome);
        }
    }

    /// From now on, `connection` is gone: API Gateway's 410.
    pub fn gone(&self, connection: &ConnectionId) {
        self.answer(connection, PushOutcome::Gone);
    }

    /// Every post so far, in order: the connection and the payload.
    pub fn pushed(&self) -> Vec<(ConnectionId, String)> {
        self.state().pushed.clone()
    }

    /// Every post so far, in order, and forgets them: what the next act pushes is then
    /// read alone.
    pub fn take(&self) -> Vec<(ConnectionId, String)> {
        std::mem::take(&mut self.state().pushed)
    }

    /// The frames posted to `connection` so far, in order, as JSON.
    ///
    /// # Panics
    /// When a payload is not JSON: the domain posts nothing else.
    pub fn frames_to(&self, connection: &ConnectionId) -> Vec<serde_json::Value> {
        self.state()
            .pushed
            .iter()
            .filter(|(to, _)| to == connection)
            .map(|(to, payload)| frame(to, payload))
            .collect()
    }

    /// The frames posted to `connection` so far, in order, as JSON, and forgets them; the
    /// posts to other connections are kept, to be read in their turn.
    ///
    /// # Panics
    /// When a payload is not JSON: the domain posts nothing else.
    pub fn take_frames_to(&self, connection: &ConnectionId) -> Vec<serde_json::Value> {
        let mut state = self.state();
        let (theirs, others): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pushed)
            .into_iter()
            .partition(|(to, _)| to == connection);
        state.pushed = others;
        drop(state);
        theirs
            .iter()
            .map(|(to, payload)| frame(to, payload))
            .collect()
    }

    /// The `type` of each frame posted to `connection` so far, in order (`message`,
    /// `ack`, `agent`…).
    pub fn types_to(&self, connection: &ConnectionId) -> Vec<String> {
        self.frames_to(connection)
            .iter()
            .map(|frame| frame["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// A payload posted to `to`, as JSON.
///
/// # Panics
/// When it is not JSON.
fn frame(to: &ConnectionId, payload: &str) -> serde_json::Value {
    serde_json::from_str(payload)
        .unwrap_or_else(|e| panic!("a frame to {} is not JSON ({e}): {payload}", to.0))
}

impl Pushes {
    fn outcome(&self, connection: &ConnectionId) -> PushOutcome {
        self.answers
            .get(connection)
            .cloned()
            .unwrap_or(PushOutcome::Delivered)
    }
}

#[async_trait]
impl Pusher for RecordingPusher {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome {
        let mut state = self.state();
        state.pushed.push((connection.clone(), payload.to_owned()));
        state.outcome(connection)
    }

    async fn probe(&self, connection: &ConnectionId) -> PushOutcome {
        self.state().outcome(connection)
    }
}
