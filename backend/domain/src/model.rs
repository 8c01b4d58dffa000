//! The things the chat is about: tenants, agents, chats, messages, connections, tickets.

use protocol::{AgentId, AgentState, AgentView, ChatId, ChatStatus, GroupId, Role, TenantId};
use serde::{Deserialize, Serialize};

/// One contact center.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// How long a question of its agents waits before it is overdue (ms): the
    /// directory's `response_target_seconds`, else
    /// [`crate::help::DEFAULT_RESPONSE_TARGET_MS`].
    #[serde(default)]
    pub response_target_ms: Option<i64>,
}

/// An agent of the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub tenant: TenantId,
    pub id: AgentId,
    pub name: String,
    pub group: GroupId,
    pub role: Role,
    pub state: AgentState,
    pub state_since: i64,
}

impl Agent {
    /// The agent as other agents see her.
    pub fn view(&self) -> AgentView {
        AgentView {
            id: self.id.clone(),
            name: self.name.clone(),
            group: self.group.clone(),
            role: self.role,
            state: self.state,
            state_since: self.state_since,
        }
    }

    /// Who this agent is, for authorisation.
    pub fn identity(&self) -> Identity {
        Identity {
            tenant: self.tenant.clone(),
            agent: self.id.clone(),
        }
    }
}

/// An authenticated agent: the tenant and agent a token or a connection stands for.
/// Group and role are always read from the directory, never taken from the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub tenant: TenantId,
    pub agent: AgentId,
}

/// A WebSocket connection id, minted by API Gateway (or the local emulator).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(pub String);

/// A live connection of an agent's console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: ConnectionId,
    pub tenant: TenantId,
    pub agent: AgentId,
    pub connected_at: i64,
    /// The agent's functional group as she connected: whose state changes this
    /// connection is told of follows from it (see [`crate::rules::can_see`]).
    #[serde(default)]
    pub group: Option<GroupId>,
    /// True when the agent is a supervisor: this connection is told of every group's.
    #[serde(default)]
    pub supervisor: bool,
    /// When to ask next whether the connection is still there (ms; see
    /// [`crate::ChatService::sweep`]): how a connection that died without its
    /// `$disconnect` is found.
    #[serde(default)]
    pub check_at: i64,
}

/// A single-use ticket that opens one WebSocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub tenant: TenantId,
    pub agent: AgentId,
    pub expires_at: i64,
}

/// What a send comes to (see [`Chat::admit_send`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendAdmission {
    /// No chat under that id has the sender in it.
    NoSuchChat,
    /// Her chat, ended: it takes no message (a retry of one stored before is still
    /// acknowledged).
    Ended(Chat),
    /// Her chat, open: the message is appended.
    Open(Chat),
}

/// A supervisor's read or download of a transcript, kept for compliance: who, which
/// chat, when, and which of its messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptRead {
    /// A fresh id (two reads in one millisecond are two records).
    pub id: String,
    pub tenant: TenantId,
    pub chat: ChatId,
    pub by: AgentId,
    /// Her name as the directory had it then.
    pub by_name: String,
    pub at: i64,
    pub kind: protocol::http::ReadKind,
    /// The first and last sequence numbers of the messages it returned (0 and 0: none).
    pub from_seq: u64,
    pub to_seq: u64,
}

/// One participant's side of a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSide {
    pub agent: AgentId,
    /// The other agent's messages since this participant's last one.
    pub unread: u32,
    /// Up to which sequence number this participant has seen the chat.
    #[serde(default)]
    pub seen_seq: u64,
    /// The participant's functional group when the chat started: the group whose
    /// transcripts hold it (`None` in chats stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
}

/// A chat between two agents of one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub tenant: TenantId,
    pub id: ChatId,
    pub sides: [ChatSide; 2],
    pub started_by: AgentId,
    pub started_at: i64,
    pub status: ChatStatus,
    pub ended_by: Option<AgentId>,
    pub ended_at: Option<i64>,
    /// Sequence number of the last message; 0 before the first.
    pub last_seq: u64,
    /// When the last message was sent.
    #[serde(default)]
    pub last_at: Option<i64>,
    /// Who sent the last message.
    pub last_from: Option<AgentId>,
    /// When the current run of messages from `last_from` began: how long the other agent
    /// has been waiting for a response.
    pub waiting_since: Option<i64>,
    /// The customer interaction this chat is about, if any.
    pub interaction: Option<String>,
    /// The start of the last message, for lists of chats (see [`protocol::last_line`]).
    #[serde(default)]
    pub last_line: Option<String>,
}

impl Chat {
    /// A new open chat started by `by` with `with`.
    pub fn new(
        tenant: TenantId,
        id: ChatId,
        by: AgentId,
        with: AgentId,
        at: i64,
        interaction: Option<String>,
    ) -> Self {
        Chat {
            tenant,
            id,
            sides: [
                ChatSide {
                    agent: by.clone(),
                    unread: 0,
                    seen_seq: 0,
                    group: None,
                },
                ChatSide {
                    agent: with,
                    unread: 0,
                    seen_seq: 0,
                    group: None,
                },
            ],
            started_by: by,
            started_at: at,
            status: ChatStatus::Open,
            ended_by: None,
            ended_at: None,
            last_seq: 0,
            last_at: None,
            last_from: None,
            waiting_since: None,
            interaction,
            last_line: None,
        }
    }

    /// The chat with the functional groups its participants (the starter first) are in
    /// as it starts.
    pub fn in_groups(mut self, groups: [GroupId; 2]) -> Self {
        for (side, group) in self.sides.iter_mut().zip(groups) {
            side.group = Some(group);
        }
        self
    }

    /// The functional groups of its participants as it started, each once.
    pub fn groups(&self) -> Vec<&GroupId> {
        let mut groups: Vec<&GroupId> =
            self.sides.iter().filter_map(|s| s.group.as_ref()).collect();
        groups.dedup();
        groups
    }

    /// True when `agent` takes part in this chat.
    pub fn has_participant(&self, agent: &AgentId) -> bool {
        self.sides.iter().any(|side| &side.agent == agent)
    }

    /// The participant who is not `agent`.
    pub fn other(&self, agent: &AgentId) -> &AgentId {
        if &self.sides[0].agent == agent {
            &self.sides[1].agent
        } else {
            &self.sides[0].agent
        }
    }

    /// The participants.
    pub fn participants(&self) -> [&AgentId; 2] {
        [&self.sides[0].agent, &self.sides[1].agent]
    }

    fn side(&self, agent: &AgentId) -> Option<&ChatSide> {
        self.sides.iter().find(|side| &side.agent == agent)
    }

    /// True when the chat requires `agent`'s response: it is open and the last message is
    /// the other agent's.
    pub fn pending_for(&self, agent: &AgentId) -> bool {
        self.status == ChatStatus::Open && self.last_from.as_ref().is_some_and(|from| from != agent)
    }

    /// The other agent's messages since `agent`'s last one that she has not seen (see
    /// [`Chat::mark_seen`]); none once the chat has ended.
    pub fn unread_for(&self, agent: &AgentId) -> u32 {
        self.side(agent).map_or(0, |side| side.unread)
    }

    /// Records a new message from `from` at `at` and returns its sequence number: the next
    /// one, so that sequence numbers are gapless. Answering clears the sender's unread
    /// count and ends her pending state; the other side's unread count grows.
    pub fn record_message(&mut self, from: &AgentId, at: i64) -> u64 {
        self.last_seq += 1;
        self.last_at = Some(at);
        if self.last_from.as_ref() != Some(from) {
            self.waiting_since = Some(at);
            self.last_from = Some(from.clone());
        }
        for side in &mut self.sides {
            if &side.agent == from {
                side.unread = 0;
                side.seen_seq = self.last_seq;
            } else {
                side.unread += 1;
            }
        }
        self.last_seq
    }

    /// Records a new message (see [`Chat::record_message`]) and returns it as stored.
    pub fn append(&mut self, from: &AgentId, client_msg_id: &str, body: &str, at: i64) -> Message {
        let seq = self.record_message(from, at);
        self.last_line = Some(protocol::last_line(body));
        Message {
            chat_id: self.id.clone(),
            seq,
            from: from.clone(),
            body: body.to_owned(),
            sent_at: at,
            client_msg_id: client_msg_id.to_owned(),
        }
    }

    /// Up to which sequence number `agent` has seen the chat.
    pub fn seen_by(&self, agent: &AgentId) -> u64 {
        self.side(agent).map_or(0, |side| side.seen_seq)
    }

    /// Records that `agent` has seen the chat up to `seq` (never beyond the last
    /// message, never backwards). Returns true when that moved her mark forward.
    pub fn mark_seen(&mut self, agent: &AgentId, seq: u64) -> bool {
        let last_seq = self.last_seq;
        let seq = seq.min(last_seq);
        match self.sides.iter_mut().find(|side| &side.agent == agent) {
            Some(side) if seq > side.seen_seq => {
                side.seen_seq = seq;
                // What she has seen is read: only the messages after it stay unread.
                side.unread = side
                    .unread
                    .min(u32::try_from(last_seq - seq).unwrap_or(u32::MAX));
                true
            }
            _ => false,
        }
    }

    /// When anything last happened in the chat.
    pub fn last_activity(&self) -> i64 {
        self.ended_at
            .into_iter()
            .chain(self.last_at)
            .fold(self.started_at, i64::max)
    }

    /// Ends the chat; no more messages are taken.
    /// Ends the chat, unless it has ended already: false then, and nothing changes (an
    /// ended chat keeps who ended it and when). The stores write it only when true.
    pub fn end(&mut self, by: &AgentId, at: i64) -> bool {
        if self.status == ChatStatus::Ended {
            return false;
        }
        self.status = ChatStatus::Ended;
        self.ended_by = Some(by.clone());
        self.ended_at = Some(at);
        // An unread count never outlives its chat.
        for side in &mut self.sides {
            side.unread = 0;
        }
        true
    }

    /// What a send by `from` to the chat the store holds (`None`: none under that id)
    /// comes to: the chat's rules for a send, decided here once — a chat she takes no
    /// part in does not exist for her, and an ended chat takes no messages. The stores
    /// read the chat, ask, and write what follows. (A send whose key was stored before is
    /// a retry: the stores acknowledge it again, whatever this says.)
    pub fn admit_send(stored: Option<Chat>, from: &AgentId) -> SendAdmission {
        match stored {
            Some(chat) if chat.has_participant(from) => match chat.status {
                ChatStatus::Open => SendAdmission::Open(chat),
                ChatStatus::Ended => SendAdmission::Ended(chat),
            },
            _ => SendAdmission::NoSuchChat,
        }
    }

    /// How a change of this chat from `before` (`None`: it is new) to `self` changes each
    /// participant's count of chats requiring her response: one entry per participant
    /// whose count moves, by +1 or −1. The stores apply it in the transaction that makes
    /// the change, so the counts are kept, never recounted.
    pub fn pending_changes(&self, before: Option<&Chat>) -> Vec<(AgentId, i64)> {
        self.participants()
            .into_iter()
            .filter_map(|agent| {
                let was = before.is_some_and(|chat| chat.pending_for(agent));
                match (was, self.pending_for(agent)) {
                    (false, true) => Some((agent.clone(), 1)),
                    (true, false) => Some((agent.clone(), -1)),
                    _ => None,
                }
            })
            .collect()
    }
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub chat_id: ChatId,
    pub seq: u64,
    pub from: AgentId,
    pub body: String,
    pub sent_at: i64,
    pub client_msg_id: String,
}

impl Message {
    /// The message as it goes on the wire.
    pub fn view(&self) -> protocol::MessageView {
        protocol::MessageView {
            chat_id: self.chat_id.clone(),
            seq: self.seq,
            from: self.from.clone(),
            body: self.body.clone(),
            sent_at: self.sent_at,
            client_msg_id: self.client_msg_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> Chat {
        Chat::new("t".into(), "c".into(), "a".into(), "b".into(), 0, None)
    }

    #[test]
    fn sequence_numbers_are_gapless_from_one() {
        let mut chat = chat();
        let seqs: Vec<u64> = (0..5)
            .map(|i| chat.record_message(&AgentId::from(if i % 2 == 0 { "a" } else { "b" }), i))
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_message_makes_the_chat_pending_for_the_other_agent_only() {
        let mut chat = chat();
        chat.record_message(&"a".into(), 10);
        assert!(chat.pending_for(&"b".into()));
        assert!(!chat.pending_for(&"a".into()));
        assert_eq!(chat.unread_for(&"b".into()), 1);
    }

    #[test]
    fn responding_clears_pending_and_unread() {
        let mut chat = chat();
        chat.record_message(&"a".into(), 10);
        chat.record_message(&"a".into(), 20);
        assert_eq!(chat.unread_for(&"b".into()), 2);
        assert_eq!(chat.waiting_since, Some(10));
        chat.record_message(&"b".into(), 30);
        assert!(!chat.pending_for(&"b".into()));
        assert_eq!(chat.unread_for(&"b".into()), 0);
        assert!(chat.pending_for(&"a".into()));
        assert_eq!(chat.waiting_since, Some(30));
    }

    #[test]
    fn what_she_has_seen_is_no_longer_unread_and_an_ended_chat_has_nothing_unread() {
        let mut chat = chat();
        for at in [10, 20, 30] {
            chat.record_message(&"a".into(), at);
        }
        assert_eq!(chat.unread_for(&"b".into()), 3);
        chat.mark_seen(&"b".into(), 1);
        assert_eq!(
            chat.unread_for(&"b".into()),
            2,
            "messages 2 and 3 are not seen yet"
        );
        assert!(chat.pending_for(&"b".into()), "seen is not answered");
        chat.mark_seen(&"b".into(), 3);
        assert_eq!(chat.unread_for(&"b".into()), 0);
        chat.record_message(&"a".into(), 40);
        assert_eq!(chat.unread_for(&"b".into()), 1, "a new one is unread again");
        chat.end(&"a".into(), 50);
        assert_eq!(chat.unread_for(&"b".into()), 0, "never outlives the chat");
        assert_eq!(chat.unread_for(&"a".into()), 0);
    }

    #[test]
    fn seen_marks_only_move_forward_and_stop_at_the_last_message() {
        let mut chat = chat();
        chat.record_message(&"a".into(), 10);
        chat.record_message(&"a".into(), 11);
        assert_eq!(
            chat.seen_by(&"a".into()),
            2,
            "a sender has seen her own messages"
        );
        assert!(chat.mark_seen(&"b".into(), 1));
        assert!(!chat.mark_seen(&"b".into(), 1), "no change, no news");
        assert!(chat.mark_seen(&"b".into(), 99));
        assert_eq!(chat.seen_by(&"b".into()), 2);
        assert!(!chat.mark_seen(&"b".into(), 0));
    }

    #[test]
    fn pending_changes_follow_who_must_respond() {
        let new = chat();
        assert!(
            new.pending_changes(None).is_empty(),
            "a new chat waits on nobody"
        );
        let mut asked = new.clone();
        asked.append(&"a".into(), "m1", "Can you take a transfer?", 10);
        assert_eq!(asked.pending_changes(Some(&new)), vec![("b".into(), 1)]);
        let mut again = asked.clone();
        again.append(&"a".into(), "m2", "It is urgent", 11);
        assert!(
            again.pending_changes(Some(&asked)).is_empty(),
            "still b's turn"
        );
        let mut answered = again.clone();
        answered.append(&"b".into(), "m3", "Yes", 12);
        assert_eq!(
            answered.pending_changes(Some(&again)),
            vec![("a".into(), 1), ("b".into(), -1)]
        );
        let mut ended = answered.clone();
        ended.end(&"b".into(), 13);
        assert_eq!(
            ended.pending_changes(Some(&answered)),
            vec![("a".into(), -1)]
        );
    }

    #[test]
    fn a_message_sets_the_chat_s_last_line() {
        let mut chat = chat();
        chat.append(&"a".into(), "m1", "Transfer received.\nThanks", 10);
        assert_eq!(chat.last_line.as_deref(), Some("Transfer received.…"));
    }

    #[test]
    fn an_ended_chat_requires_nobody_s_response() {
        let mut chat = chat();
        chat.record_message(&"a".into(), 10);
        chat.end(&"a".into(), 20);
        assert!(!chat.pending_for(&"b".into()));
    }
}
