//! The order of one chat's pushes in the local server, where every send runs in this one
//! process: a send holds its chat's turn from the append to its last push, so a chat's
//! messages leave in sequence order even when both agents (or two consoles of one) send
//! at once.

use async_trait::async_trait;
use console_domain::{Order, Turn};
use protocol::ChatId;
use std::hash::{Hash, Hasher};
use tokio::sync::Mutex;

/// Turns are striped: chats that share a stripe merely wait for each other. A turn is
/// held across the store's commit, so a stripe is one append per group commit: enough
/// stripes that a thousand busy chats rarely share one.
const STRIPES: usize = 4096;

/// Striped turns, given in the order they were asked for (tokio's mutex is fair): a
/// console that sends again at once does not take the turn from the other agent, who was
/// waiting (with an unfair lock, some consoles waited 15 s and more under a saturating
/// load).
pub struct StripedOrder {
    stripes: Vec<std::sync::Arc<Mutex<()>>>,
}

impl StripedOrder {
    pub fn new() -> Self {
        StripedOrder {
            stripes: (0..STRIPES).map(|_| Default::default()).collect(),
        }
    }
}

impl Default for StripedOrder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StripedOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripedOrder")
            .field("stripes", &self.stripes.len())
            .finish()
    }
}

fn stripe_of(chat: &ChatId) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    chat.hash(&mut hasher);
    (hasher.finish() as usize) % STRIPES
}

#[async_trait]
impl Order for StripedOrder {
    async fn turn(&self, chat: &ChatId) -> Turn {
        let stripe = &self.stripes[stripe_of(chat)];
        Turn::holding(stripe.clone().lock_owned().await)
    }

    /// A socket's task woken from a runtime thread waits for the caller to finish
    /// everything else it does (tokio runs it next on that thread, and no other thread
    /// takes it): yielding lets it write the message first. Once per message, not per
    /// push: under a saturating load, a yield after every push cost about a fifth of the
    /// throughput.
    async fn urgent_posted(&self) {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_chat_has_one_turn_at_a_time_and_others_go_on() {
        let order = StripedOrder::new();
        let chat = ChatId::from("c1");
        let first = order.turn(&chat).await;
        assert!(first.is_held());
        let waiting = tokio::time::timeout(Duration::from_millis(50), order.turn(&chat)).await;
        assert!(waiting.is_err(), "a second turn of the same chat waits");
        let other = (0..100)
            .map(|n| ChatId::from(format!("other-{n}").as_str()))
            .find(|id| stripe_of(id) != stripe_of(&chat))
            .expect("a chat on another stripe");
        let _theirs = tokio::time::timeout(Duration::from_millis(500), order.turn(&other))
            .await
            .expect("another chat's turn is not held up");
        drop(first);
        tokio::time::timeout(Duration::from_millis(500), order.turn(&chat))
            .await
            .expect("the turn is given once the first is dropped");
    }
}
