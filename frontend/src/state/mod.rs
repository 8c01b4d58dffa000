//! The console's chat state, as plain data: what the server said, what the agent typed
//! and has not seen acknowledged yet, and the derived views the UI shows (the Multi-Chat
//! Table's order, the History list, the Chat tab's count). The one thing it asks of the
//! browser is how to fold a name to lower case ([`crate::sorting::lowercase`]).
//!
//! A console does not hold a chat's whole history: per chat, the messages from the first
//! one it received up to the last. What precedes the first is older history, loaded
//! (`before=`) when the chat window scrolls up; only a hole above the first is a gap.

mod agents;
mod help;
mod outgoing;
mod pages;

pub use agents::{ListedAgent, SortKey, arrange_agents, matching, sort_agents};
pub use help::{HelpBoard, HelpRow, RowAction};
pub use outgoing::{Outgoing, too_long};
pub use pages::HistoryPaging;

use crate::sorting::stable_sort_by;
use protocol::{
    AgentId, AgentView, ChatId, ChatStatus, ChatView, ClientFrame, ErrorCode, MessageView,
    ServerFrame,
};
use std::collections::BTreeMap;

/// The most chats a `hello` names in its `resume` (the server's limit).
pub const MAX_RESUME: usize = 100;

/// One chat: the server's view of it and the messages received so far, by sequence
/// (from the first one received, not necessarily from 1).
#[derive(Clone, Debug, PartialEq)]
pub struct ChatEntry {
    pub view: ChatView,
    pub messages: BTreeMap<u64, MessageView>,
    /// Until when (ms) the other agent shows as typing; long past when she is not.
    pub typing_until: i64,
}

impl ChatEntry {
    /// The end of the run of sequence numbers held without a gap from the first one held
    /// (0 when none is): where a resume or a catch-up starts. What precedes the first one
    /// held is older history, not a gap.
    pub fn held_through(&self) -> u64 {
        let (Some(&first), Some(&last)) = (
            self.messages.keys().next(),
            self.messages.keys().next_back(),
        ) else {
            return 0;
        };
        // The keys are distinct, so as many messages as numbers from the first to the
        // last means none is missing (the usual case, without a walk).
        if usize::try_from(last - first).is_ok_and(|span| span + 1 == self.messages.len()) {
            return last;
        }
        let mut held = first;
        for seq in self.messages.keys().skip(1) {
            if *seq != held + 1 {
                break;
            }
            held = *seq;
        }
        held
    }

    /// The first sequence number held when older messages precede it: where loading
    /// them (`before=`) starts. `None` when nothing is held or the chat is held from 1.
    pub fn older_before(&self) -> Option<u64> {
        self.messages
            .keys()
            .next()
            .copied()
            .filter(|first| *first > 1)
    }

    /// The highest sequence number the server has shown this chat to have: its view's
    /// `last_seq`, or a message pushed before the view caught up.
    pub fn known_last(&self) -> u64 {
        let last_held = self.messages.keys().next_back().copied().unwrap_or(0);
        self.view.last_seq.max(last_held)
    }
}

/// What a pushed frame shows of a chat that can reveal a lost push: the chat, and a
/// sequence number it has — a message's own, or a chat update's `last_seq`. If the
/// console then holds that chat only up to an earlier number without a gap, a push was
/// lost (or is late). `welcome` is no such frame: the resume that follows it brings what
/// it announces.
pub fn may_reveal_gap(frame: &ServerFrame) -> Option<(ChatId, u64)> {
    match frame {
        ServerFrame::Message { message, .. } => Some((message.chat_id.clone(), message.seq)),
        ServerFrame::Chat { chat, .. } | ServerFrame::ChatStarted { chat } => {
            Some((chat.id.clone(), chat.last_seq))
        }
        _ => None,
    }
}

/// What a chat lacks, and how to fetch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Messages after this number (held without a gap up to it) are missing: fetched
    /// with `after=`, page after page.
    After(u64),
    /// The page of messages before this number (`before=`): a chat's latest page when
    /// none of its messages is held (`last_seq + 1`), never its whole history; or older
    /// messages, as the chat window scrolls up.
    Before(u64),
}

/// What the UI should do after a frame was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Nothing beyond re-rendering.
    None,
    /// Open this chat in the chat window (the answer to our `start_chat`).
    OpenChat(ChatId),
    /// A new message from the other agent arrived.
    Incoming(ChatId),
    /// A question or a hand I may take is waiting.
    Asked,
    /// The server refused something; say so.
    Refused(String),
    /// A send came too fast, or the server failed on it (and may or may not have stored
    /// it): it stays in the outbox, to be sent again with the same id in a moment.
    RetryLater(String),
    /// A message that can never be stored as it is (too long): its text goes back into
    /// Your Message of its chat, with why.
    Unsendable {
        chat_id: ChatId,
        body: String,
        message: String,
    },
}

/// How long a typing indicator shows after the last `typing` frame.
pub const TYPING_SHOWS_MS: i64 = 4_000;

/// Everything the console knows about the signed-in agent's chats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsoleState {
    pub me: Option<AgentView>,
    /// The agents I can see, as the agent list shows them.
    pub agents: Vec<AgentView>,
    pub chats: BTreeMap<ChatId, ChatEntry>,
    /// Chats that require my response, as counted by the server.
    pub pending_chats: u32,
    /// Sends not yet acknowledged, in the order typed.
    pub outbox: Vec<Outgoing>,
    /// The History list: ended chats, the most recently ended first — the pages loaded,
    /// and the chats that ended meanwhile.
    pub history: Vec<ChatView>,
    pub history_paging: HistoryPaging,
    /// Open questions and raised hands.
    pub help: HelpBoard,
    /// The chat chosen for the chat window, if any: a reconnect resumes it whatever its
    /// status (set before each `hello`).
    pub shown: Option<ChatId>,
    /// Chats held as open that the last `welcome` did not list, nor any open page since,
    /// and that its `hello` did not name: unless a later page of open chats lists them,
    /// they ended while the console was away, and are let go.
    unconfirmed: Vec<ChatId>,
}

impl ConsoleState {
    /// Replaces the agent list (from the HTTP API).
    pub fn set_agents(&mut self, agents: Vec<AgentView>) {
        self.agents = agents;
    }

    /// The agent list: the agents I can see plus anyone I have a chat with, by name.
    pub fn agent_list(&self) -> Vec<AgentView> {
        let mut list = self.agents.clone();
        // Looked up in order, not searched for per chat: thousands of agents, hundreds
        // of chats.
        let mut listed: Vec<&AgentId> = self.agents.iter().map(|a| &a.id).collect();
        stable_sort_by(&mut listed, |a, b| a.cmp(b));
        for entry in self.chats.values() {
            let with = &entry.view.with;
            if let Err(at) = listed.binary_search(&&with.id) {
                listed.insert(at, &with.id);
                list.push(with.clone());
            }
        }
        stable_sort_by(&mut list, |a, b| a.name.cmp(&b.name));
        list
    }

    /// The state of the agent `id`, if she is in my list.
    pub fn agent_state(&self, id: &AgentId) -> Option<protocol::AgentState> {
        self.agents.iter().find(|a| a.id == *id).map(|a| a.state)
    }

    /// How many questions and hands waiting I may take, at `now`.
    pub fn questions_for_me(&self, now: i64) -> u32 {
        self.me.as_ref().map_or(0, |me| self.help.takeable(me, now))
    }

    /// True while the other agent of `chat` is typing, at `now` (ms).
    pub fn is_typing(&self, chat: &ChatId, now: i64) -> bool {
        self.chats
            .get(chat)
            .is_some_and(|entry| entry.typing_until > now)
    }

    /// Applies one server frame received at `now` (ms).
    pub fn apply(&mut self, frame: ServerFrame, now: i64) -> Notice {
        match frame {
            ServerFrame::Welcome {
                me,
                chats,
                more_open,
                pending_chats,
                ..
            } => {
                self.me = Some(me);
                self.help.start_over();
                // The welcome replaces what this console thought was open. A chat its
                // `hello` named gets its `chat` frame if it is not listed; the others
                // wait for the rest of the open chats' pages.
                let named = self.resumed();
                self.unconfirmed = self
                    .table()
                    .into_iter()
                    .map(|entry| &entry.view.id)
                    .filter(|id| {
                        !named.iter().any(|named| named.view.id == **id)
                            && !chats.iter().any(|view| view.id == **id)
                    })
                    .cloned()
                    .collect();
                for view in chats {
                    self.upsert(view);
                }
                if more_open.is_none() {
                    self.let_go_unconfirmed();
                }
                self.pending_chats = pending_chats;
                Notice::None
            }
            ServerFrame::Chat {
                chat,
                pending_chats,
            } => {
                self.upsert(chat);
                self.pending_chats = pending_chats;
                Notice::None
            }
            ServerFrame::ChatStarted { chat } => {
                let id = chat.id.clone();
                self.upsert(chat);
                Notice::OpenChat(id)
            }
            ServerFrame::Message {
                message,
                chat,
                pending_chats,
            } => {
                let notice = self.hold(message, true);
                self.chat_state(chat, pending_chats);
                notice
            }
            ServerFrame::Ack {
                chat_id,
                client_msg_id,
                seq,
                sent_at,
                chat,
                pending_chats,
            } => {
                let sent = self
                    .outbox
                    .iter()
                    .position(|o| o.chat_id == chat_id && o.client_msg_id == client_msg_id)
                    .map(|at| self.outbox.remove(at));
                // The sending tab gets no `message` of its own send: the acknowledgement
                // stands for it.
                if let (Some(sent), Some(me)) = (sent, self.me.clone()) {
                    self.hold(
                        MessageView {
                            chat_id,
                            seq,
                            from: me.id,
                            body: sent.body,
                            sent_at: sent_at.unwrap_or(now),
                            client_msg_id,
                        },
                        true,
                    );
                }
                self.chat_state(chat, pending_chats);
                Notice::None
            }
            ServerFrame::Agent { agent } => {
                if self.me.as_ref().is_some_and(|me| me.id == agent.id) {
                    self.me = Some(agent.clone());
                }
                for entry in self.chats.values_mut() {
                    if entry.view.with.id == agent.id {
                        entry.view.with = agent.clone();
                    }
                }
                match self.agents.iter_mut().find(|a| a.id == agent.id) {
                    Some(listed) => *listed = agent,
                    None if self.me.as_ref().is_none_or(|me| me.id != agent.id) => {
                        self.agents.push(agent)
                    }
                    None => {}
                }
                Notice::None
            }
            ServerFrame::Typing { chat_id, .. } => {
                if let Some(entry) = self.chats.get_mut(&chat_id) {
                    entry.typing_until = now + TYPING_SHOWS_MS;
                }
                Notice::None
            }
            ServerFrame::Seen { chat_id, by, seq } => {
                if self.me.as_ref().is_some_and(|me| me.id != by) {
                    if let Some(entry) = self.chats.get_mut(&chat_id) {
                        entry.view.seen_by_other = entry.view.seen_by_other.max(seq);
                    }
                } else {
                    // Seen in another of her tabs.
                    self.saw(&chat_id, seq);
                }
                Notice::None
            }
            ServerFrame::Pong => Notice::None,
            ServerFrame::Help {
                request,
                now: server_now,
            } => match &self.me {
                Some(me) if self.help.apply(me, request, server_now, now) => Notice::Asked,
                _ => Notice::None,
            },
            ServerFrame::Error {
                code: ErrorCode::RateLimited | ErrorCode::Internal,
                client_msg_id: Some(id),
                ..
            } if self.outbox.iter().any(|o| o.client_msg_id == id) => Notice::RetryLater(id),
            ServerFrame::Error {
                code,
                message,
                client_msg_id,
            } => {
                let refused = client_msg_id
                    .and_then(|id| self.outbox.iter().position(|o| o.client_msg_id == id))
                    .map(|at| self.outbox.remove(at));
                match refused {
                    // Sent again it would be refused again: its text goes back to her.
                    Some(Outgoing { chat_id, body, .. }) if code == ErrorCode::MessageTooLarge => {
                        let message = too_long(&body).unwrap_or(message);
                        Notice::Unsendable {
                            chat_id,
                            body,
                            message,
                        }
                    }
                    _ => Notice::Refused(message),
                }
            }
        }
    }

    /// The chat's state and the count of pending chats a `message` or `ack` carries.
    fn chat_state(&mut self, chat: Option<ChatView>, pending_chats: Option<u32>) {
        if let Some(chat) = chat {
            self.upsert(chat);
        }
        if let Some(count) = pending_chats {
            self.pending_chats = count;
        }
    }

    /// Adds a page of messages read from the HTTP API (a chat's latest, or older ones):
    /// what was said before, so it raises no notice.
    pub fn add_messages(&mut self, messages: Vec<MessageView>) {
        for message in messages {
            self.hold(message, false);
        }
    }

    /// Holds a message of one of my chats (once, whichever way it came): `pushed` as it
    /// was said, or read from the history. A new one from the other agent, pushed, is
    /// [`Notice::Incoming`].
    fn hold(&mut self, message: MessageView, pushed: bool) -> Notice {
        let incoming = self.me.as_ref().is_some_and(|me| me.id != message.from);
        let chat_id = message.chat_id.clone();
        self.outbox.retain(|o| {
            !(o.chat_id == chat_id && o.client_msg_id == message.client_msg_id && !incoming)
        });
        let Some(entry) = self.chats.get_mut(&chat_id) else {
            return Notice::None;
        };
        let news = incoming && pushed;
        if news {
            // Her message ends her typing indicator.
            entry.typing_until = 0;
        }
        let fresh = entry.messages.insert(message.seq, message).is_none();
        if news && fresh {
            Notice::Incoming(chat_id)
        } else {
            Notice::None
        }
    }

    fn upsert(&mut self, view: ChatView) {
        if view.status == ChatStatus::Ended {
            // It leaves the Multi-Chat Table for the History list, by when it ended.
            match self.history.iter_mut().find(|listed| listed.id == view.id) {
                Some(listed) => *listed = view.clone(),
                None => {
                    let ended = |v: &ChatView| v.ended_at.unwrap_or(i64::MAX);
                    let at = self
                        .history
                        .partition_point(|listed| ended(listed) >= ended(&view));
                    self.history.insert(at, view.clone());
                }
            }
        }
        match self.chats.get_mut(&view.id) {
            Some(entry) => entry.view = view,
            None => {
                self.chats.insert(
                    view.id.clone(),
                    ChatEntry {
                        view,
                        messages: BTreeMap::new(),
                        typing_until: 0,
                    },
                );
            }
        }
    }

    /// Queues a message for sending and returns the frame to send now; or, when the
    /// server would refuse it for its size, queues nothing and gives its text back with
    /// why ([`Notice::Unsendable`]).
    pub fn queue_send(
        &mut self,
        chat_id: ChatId,
        client_msg_id: String,
        body: String,
    ) -> Result<ClientFrame, Notice> {
        if let Some(message) = too_long(&body) {
            return Err(Notice::Unsendable {
                chat_id,
                body,
                message,
            });
        }
        let outgoing = Outgoing {
            chat_id,
            client_msg_id,
            body,
        };
        let frame = outgoing.frame();
        self.outbox.push(outgoing);
        Ok(frame)
    }

    /// Whether `chat` is held without a gap only to before `seq`.
    pub fn lacks_before(&self, chat: &ChatId, seq: u64) -> bool {
        self.chats
            .get(chat)
            .is_some_and(|entry| entry.held_through() < seq)
    }

    /// What `chat` lacks of what the server has shown it to have, and how to fetch it;
    /// `None` when nothing is missing.
    pub fn missing(&self, chat: &ChatId) -> Option<Missing> {
        let entry = self.chats.get(chat)?;
        let last = entry.known_last();
        if entry.messages.is_empty() {
            return (last > 0).then_some(Missing::Before(last + 1));
        }
        let held = entry.held_through();
        (last > held).then_some(Missing::After(held))
    }

    /// Per chat, the last sequence number held without a gap: where a reconnect resumes.
    /// It names the chat in the chat window and the open chats held (those of the
    /// Multi-Chat Table's top rows first), [`MAX_RESUME`] at most.
    pub fn resume_points(&self) -> BTreeMap<ChatId, u64> {
        let mut points = BTreeMap::new();
        for entry in self.resumed() {
            points.insert(entry.view.id.clone(), entry.held_through());
        }
        points
    }

    /// The chats a `hello` names: the one shown, then the open ones in the table's order.
    fn resumed(&self) -> Vec<&ChatEntry> {
        let shown = self.shown.as_ref().and_then(|id| self.chats.get(id));
        let mut chats: Vec<&ChatEntry> = shown.into_iter().collect();
        for entry in self.table() {
            if chats.len() == MAX_RESUME {
                break;
            }
            if shown.is_none_or(|shown| shown.view.id != entry.view.id) {
                chats.push(entry);
            }
        }
        chats
    }

    /// The Multi-Chat Table's rows: the open chats, those that require my response
    /// first, the longest waiting at the top; then the others, the latest active first.
    pub fn table(&self) -> Vec<&ChatEntry> {
        let mut rows: Vec<&ChatEntry> = self
            .chats
            .values()
            .filter(|entry| entry.view.status == ChatStatus::Open)
            .collect();
        let key = |entry: &&ChatEntry| {
            let view = &entry.view;
            let time = if view.pending {
                view.waiting_since.unwrap_or(view.started_at)
            } else {
                -last_activity(entry)
            };
            (!view.pending, time)
        };
        stable_sort_by(&mut rows, |a, b| key(a).cmp(&key(b)));
        rows
    }

    /// The chat with `agent`, open ones first.
    pub fn chat_with(&self, agent: &AgentId) -> Option<&ChatEntry> {
        self.chats
            .values()
            .filter(|entry| &entry.view.with.id == agent)
            .min_by_key(|entry| {
                (
                    entry.view.status != ChatStatus::Open,
                    -entry.view.started_at,
                )
            })
    }

    /// The last message of `chat` from the other agent that I have not reported as
    /// seen yet, given the highest sequence already reported.
    /// She has seen a chat up to `seq` (this tab shows it, or another of hers said so):
    /// only the messages after it stay unread — the rule the server applies as it
    /// records her `seen` (docs/protocol.md).
    pub fn saw(&mut self, chat: &ChatId, seq: u64) {
        if let Some(entry) = self.chats.get_mut(chat) {
            let after = entry.view.last_seq.saturating_sub(seq);
            entry.view.unread = entry
                .view
                .unread
                .min(u32::try_from(after).unwrap_or(u32::MAX));
        }
    }

    pub fn unseen(&self, chat: &ChatId, reported: u64) -> Option<u64> {
        let entry = self.chats.get(chat)?;
        let me = self.me.as_ref()?;
        let last = entry
            .messages
            .values()
            .rev()
            .find(|m| m.from != me.id)
            .map(|m| m.seq)?;
        (last > reported).then_some(last)
    }

    /// Sends of one chat still waiting for their acknowledgement.
    pub fn unacknowledged(&self, chat: &ChatId) -> Vec<&Outgoing> {
        self.outbox.iter().filter(|o| &o.chat_id == chat).collect()
    }
}

/// When a chat last saw a message (or started): the server's word, or a message pushed
/// since.
fn last_activity(entry: &ChatEntry) -> i64 {
    let said = entry.view.last_at.unwrap_or(entry.view.started_at);
    entry
        .messages
        .values()
        .next_back()
        .map_or(said, |m| m.sent_at.max(said))
}
