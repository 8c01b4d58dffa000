//! The console's chat state, as plain data: what the server said, what the agent typed
//! and has not seen acknowledged yet, and the derived views the UI shows (the Multi-Chat
//! Table's order, the Chat tab's count). The one thing it asks of the browser is how to
//! fold a name to lower case ([`lowercase`]).

use crate::sorting::{lowercase, stable_sort_by};
use protocol::{
    AgentId, AgentView, ChatId, ChatStatus, ChatView, ClientFrame, ErrorCode, MessageView,
    ServerFrame,
};
use std::collections::BTreeMap;

/// One chat: the server's view of it and the messages received so far, by sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatEntry {
    pub view: ChatView,
    pub messages: BTreeMap<u64, MessageView>,
    /// Until when (ms) the other agent shows as typing; long past when she is not.
    pub typing_until: i64,
}

impl ChatEntry {
    /// The last sequence number held together with every one before it: where a resume
    /// or a catch-up starts.
    pub fn held_through(&self) -> u64 {
        let Some(&last) = self.messages.keys().next_back() else {
            return 0;
        };
        // Sequence numbers start at 1 and the keys are distinct, so as many messages as
        // the last number means none is missing (the usual case, without a walk).
        if usize::try_from(last).is_ok_and(|last| last == self.messages.len()) {
            return last;
        }
        let mut held = 0;
        for seq in self.messages.keys() {
            if *seq != held + 1 {
                break;
            }
            held = *seq;
        }
        held
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
        ServerFrame::Message { message } => Some((message.chat_id.clone(), message.seq)),
        ServerFrame::Chat { chat, .. } | ServerFrame::ChatStarted { chat } => {
            Some((chat.id.clone(), chat.last_seq))
        }
        _ => None,
    }
}

/// A message typed but not yet acknowledged by the server. It is sent again, with the
/// same `client_msg_id`, after a reconnect; the server stores it once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub chat_id: ChatId,
    pub client_msg_id: String,
    pub body: String,
}

impl Outgoing {
    /// The frame that sends it.
    pub fn frame(&self) -> ClientFrame {
        ClientFrame::Send {
            chat_id: self.chat_id.clone(),
            client_msg_id: self.client_msg_id.clone(),
            body: self.body.clone(),
        }
    }
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
    /// The server refused something; say so.
    Refused(String),
    /// A send came too fast, or the server failed on it (and may or may not have stored
    /// it): it stays in the outbox, to be sent again with the same id in a moment.
    RetryLater(String),
}

/// A column the agent list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Group,
    State,
    TimeInState,
}

/// An agent of the list, her name folded to lower case once for the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedAgent {
    pub agent: AgentView,
    pub folded: String,
}

/// The agent list in the order shown: sorted by `key` (then by name), ascending or not.
pub fn sort_agents(agents: Vec<AgentView>, key: SortKey, ascending: bool) -> Vec<ListedAgent> {
    // Each name is folded once, not in every comparison nor on every keystroke.
    let mut rows: Vec<ListedAgent> = agents
        .into_iter()
        .map(|agent| {
            let folded = lowercase(&agent.name);
            ListedAgent { agent, folded }
        })
        .collect();
    stable_sort_by(&mut rows, |a, b| {
        let (x, y) = (&a.agent, &b.agent);
        let primary = match key {
            SortKey::Name => std::cmp::Ordering::Equal,
            SortKey::Group => x.group.cmp(&y.group),
            SortKey::State => x.state.label().cmp(y.state.label()),
            // Longest in state first when ascending reads "most time".
            SortKey::TimeInState => x.state_since.cmp(&y.state_since),
        };
        let order = primary.then_with(|| a.folded.cmp(&b.folded));
        if ascending { order } else { order.reverse() }
    });
    rows
}

/// The positions in `sorted` of the agents whose name contains `filter` (any case).
pub fn matching(sorted: &[ListedAgent], filter: &str) -> Vec<usize> {
    let needle = lowercase(filter.trim());
    sorted
        .iter()
        .enumerate()
        .filter(|(_, row)| row.folded.contains(&needle))
        .map(|(at, _)| at)
        .collect()
}

/// The agent list as shown: agents whose name contains `filter` (any case), sorted by
/// `key` (then by name), ascending or not.
pub fn arrange_agents(
    agents: Vec<AgentView>,
    filter: &str,
    key: SortKey,
    ascending: bool,
) -> Vec<AgentView> {
    let sorted = sort_agents(agents, key, ascending);
    matching(&sorted, filter)
        .into_iter()
        .map(|at| sorted[at].agent.clone())
        .collect()
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
                pending_chats,
                ..
            } => {
                self.me = Some(me);
                for view in chats {
                    self.upsert(view);
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
            ServerFrame::Message { message } => {
                let incoming = self.me.as_ref().is_some_and(|me| me.id != message.from);
                let chat_id = message.chat_id.clone();
                self.outbox.retain(|o| {
                    !(o.chat_id == chat_id && o.client_msg_id == message.client_msg_id && !incoming)
                });
                let Some(entry) = self.chats.get_mut(&chat_id) else {
                    return Notice::None;
                };
                if incoming {
                    // Her message ends her typing indicator.
                    entry.typing_until = 0;
                }
                let fresh = entry.messages.insert(message.seq, message).is_none();
                if incoming && fresh {
                    Notice::Incoming(chat_id)
                } else {
                    Notice::None
                }
            }
            ServerFrame::Ack {
                chat_id,
                client_msg_id,
                ..
            } => {
                self.outbox
                    .retain(|o| !(o.chat_id == chat_id && o.client_msg_id == client_msg_id));
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
                if self.me.as_ref().is_some_and(|me| me.id != by)
                    && let Some(entry) = self.chats.get_mut(&chat_id)
                {
                    entry.view.seen_by_other = entry.view.seen_by_other.max(seq);
                }
                Notice::None
            }
            ServerFrame::Pong => Notice::None,
            ServerFrame::Error {
                code: ErrorCode::RateLimited | ErrorCode::Internal,
                client_msg_id: Some(id),
                ..
            } if self.outbox.iter().any(|o| o.client_msg_id == id) => Notice::RetryLater(id),
            ServerFrame::Error {
                message,
                client_msg_id,
                ..
            } => {
                if let Some(id) = client_msg_id {
                    self.outbox.retain(|o| o.client_msg_id != id);
                }
                Notice::Refused(message)
            }
        }
    }

    fn upsert(&mut self, view: ChatView) {
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

    /// Queues a message for sending and returns the frame to send now.
    pub fn queue_send(
        &mut self,
        chat_id: ChatId,
        client_msg_id: String,
        body: String,
    ) -> ClientFrame {
        let outgoing = Outgoing {
            chat_id,
            client_msg_id,
            body,
        };
        let frame = outgoing.frame();
        self.outbox.push(outgoing);
        frame
    }

    /// Whether `chat` is held without a gap only to before `seq`.
    pub fn lacks_before(&self, chat: &ChatId, seq: u64) -> bool {
        self.chats
            .get(chat)
            .is_some_and(|entry| entry.held_through() < seq)
    }

    /// Where to fetch `chat`'s missing messages from (the sequence number held through)
    /// when the server has shown it has messages this console lacks; `None` when
    /// nothing is missing.
    pub fn gap(&self, chat: &ChatId) -> Option<u64> {
        let entry = self.chats.get(chat)?;
        let held = entry.held_through();
        (entry.known_last() > held).then_some(held)
    }

    /// Per chat, the last sequence number held without a gap: where a reconnect resumes.
    pub fn resume_points(&self) -> BTreeMap<ChatId, u64> {
        self.chats
            .iter()
            .map(|(id, entry)| (id.clone(), entry.held_through()))
            // Inserted one by one: the chats come in order already, and collecting would
            // sort them once more.
            .fold(BTreeMap::new(), |mut points, (id, last)| {
                points.insert(id, last);
                points
            })
    }

    /// The Multi-Chat Table's rows: chats that require my response first, the longest
    /// waiting at the top; then open chats; then ended ones, the newest first.
    pub fn table(&self) -> Vec<&ChatEntry> {
        let mut rows: Vec<&ChatEntry> = self.chats.values().collect();
        let key = |entry: &&ChatEntry| {
            let view = &entry.view;
            let rank = match (view.pending, view.status) {
                (true, _) => 0,
                (false, ChatStatus::Open) => 1,
                (false, ChatStatus::Ended) => 2,
            };
            let time = if view.pending {
                view.waiting_since.unwrap_or(view.started_at)
            } else {
                -last_activity(entry)
            };
            (rank, time)
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

fn last_activity(entry: &ChatEntry) -> i64 {
    entry
        .messages
        .values()
        .next_back()
        .map_or(entry.view.started_at, |m| m.sent_at)
}
