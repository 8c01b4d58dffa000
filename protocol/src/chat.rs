//! Chats and messages as one participant sees them.

use crate::agent::AgentView;
use crate::ids::{AgentId, ChatId};
use serde::{Deserialize, Serialize};

/// Whether a chat still takes messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    Open,
    Ended,
}

/// A chat from the point of view of the agent receiving this view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatView {
    pub id: ChatId,
    /// The other participant.
    pub with: AgentView,
    pub status: ChatStatus,
    /// True when the chat requires your response: it is open and its last message is the
    /// other agent's.
    pub pending: bool,
    /// The other agent's messages since your last one.
    pub unread: u32,
    /// Since when the other agent has been waiting for you (ms since the epoch), while
    /// `pending`.
    pub waiting_since: Option<i64>,
    /// The sequence number of the last message (0 before the first).
    pub last_seq: u64,
    /// Up to which sequence number the other agent has seen this chat.
    #[serde(default)]
    pub seen_by_other: u64,
    pub started_at: i64,
    /// When the chat ended, if it has.
    #[serde(default)]
    pub ended_at: Option<i64>,
    /// The customer interaction this chat is about, if any (a consult before a transfer).
    pub interaction: Option<String>,
    /// When the last message was sent, if any.
    #[serde(default)]
    pub last_at: Option<i64>,
    /// The start of the last message (at most [`LAST_LINE_BYTES`] of it, on one line),
    /// for lists of chats.
    #[serde(default)]
    pub last_line: Option<String>,
}

/// The longest `last_line` of a [`ChatView`], in bytes.
pub const LAST_LINE_BYTES: usize = 120;

/// The start of a message as a list of chats shows it: its first line, at most
/// [`LAST_LINE_BYTES`] bytes, cut at a character's edge (with "…" when cut).
pub fn last_line(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default().trim_end();
    if line.len() <= LAST_LINE_BYTES && line.len() == body.trim().len() {
        return line.to_owned();
    }
    let mut end = line.len().min(LAST_LINE_BYTES - '…'.len_utf8());
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// One message of a chat. `seq` is assigned by the server, gapless from 1 per chat, and
/// is the only order that counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub chat_id: ChatId,
    pub seq: u64,
    pub from: AgentId,
    pub body: String,
    /// Server time the message was stored (ms since the epoch).
    pub sent_at: i64,
    /// The sender's own id for this message, echoed so that her console can match it to
    /// what she typed.
    pub client_msg_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_one_line_message_is_its_own_last_line() {
        assert_eq!(last_line("  Transfer received.  "), "Transfer received.");
    }

    #[test]
    fn a_long_or_many_line_message_is_cut_at_a_character_s_edge() {
        assert_eq!(last_line("first\nsecond"), "first…");
        let long = "é".repeat(200);
        let cut = last_line(&long);
        assert!(cut.len() <= LAST_LINE_BYTES, "{} bytes", cut.len());
        assert!(cut.ends_with('…'));
    }
}
