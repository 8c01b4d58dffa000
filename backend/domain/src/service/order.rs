//! The order of one chat's pushes. A send holds its chat's turn from the append to its
//! last push, so the messages of a chat leave this process in sequence order even when
//! both agents (or two consoles of one) send at once. Across processes — concurrent
//! Lambda invocations — there is no such order: consoles place messages by sequence number
//! and resume from the first gap.

use protocol::ChatId;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;
use tokio::sync::{Mutex, MutexGuard};

/// Turns are striped: chats that share a stripe merely wait for each other. A turn is
/// held across the store's commit, so a stripe is one append per group commit: enough
/// stripes that a thousand busy chats rarely share one.
const STRIPES: usize = 4096;

static TURNS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..STRIPES).map(|_| Mutex::new(())).collect());

/// Waits for `chat`'s turn; the turn ends when the guard is dropped. Turns are given in
/// the order they were asked for (tokio's mutex is fair): a console that sends again at
/// once does not take the turn from the other agent, who was waiting (with an unfair
/// lock, some consoles waited 15 s and more under a saturating load).
pub(crate) async fn turn(chat: &ChatId) -> MutexGuard<'static, ()> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    chat.hash(&mut hasher);
    TURNS[(hasher.finish() as usize) % STRIPES].lock().await
}
