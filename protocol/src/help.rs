//! Help requests as the wire carries them: a question asked of one's functional group, or a
//! hand raised to the supervisors. Each waits for one taker and becomes a chat with her.

use crate::ids::{AgentId, ChatId, GroupId};
use serde::{Deserialize, Serialize};

/// The longest question, in bytes as JSON writes it (a question is a first message, and
/// is short: a line or two, not a transcript).
pub const MAX_QUESTION_BYTES: usize = 2_000;

/// A help request's id, unique within its tenant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HelpId(pub String);

impl HelpId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for HelpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for HelpId {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// What is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpKind {
    /// A question to the asker's group: whoever of it is free takes it.
    Question,
    /// A raised hand: a supervisor of her group comes.
    Hand,
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpState {
    /// Nobody has taken it yet.
    Waiting,
    /// Someone took it: `taken_by`, in the chat `chat_id`.
    Taken,
    /// The asker withdrew it (or lowered her hand).
    Withdrawn,
}

/// A help request as a console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpView {
    pub id: HelpId,
    pub kind: HelpKind,
    /// The question (none for a hand).
    #[serde(default)]
    pub text: Option<String>,
    /// The customer interaction it is about, if any.
    #[serde(default)]
    pub interaction: Option<String>,
    /// The asker, her name and her group.
    pub from: AgentId,
    pub from_name: String,
    pub group: GroupId,
    /// When it was asked, and when it is overdue if still waiting (ms since the epoch):
    /// from then the group's supervisors are alerted and every supervisor may take it.
    pub asked_at: i64,
    pub due_at: i64,
    pub state: HelpState,
    /// Who took it, when, and the chat it became; or when it was withdrawn.
    #[serde(default)]
    pub taken_by: Option<AgentId>,
    #[serde(default)]
    pub taken_by_name: Option<String>,
    #[serde(default)]
    pub chat_id: Option<ChatId>,
    /// When it was taken or withdrawn.
    #[serde(default)]
    pub closed_at: Option<i64>,
}
