//! The ports: what the domain needs from the world. Adapters implement them (the embedded
//! store, DynamoDB, the in-process pusher, API Gateway's management API).

use crate::error::DomainError;
use crate::help::{HelpRequest, Taken};
use crate::model::{
    Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket, TranscriptRead,
};
use async_trait::async_trait;
use protocol::help::HelpId;
use protocol::{AgentId, AgentState, ChatId, GroupId, TenantId};

pub use crate::error::StoreError;

/// The directory: tenants and their agents.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Creates or replaces a tenant and its agents.
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError>;
    /// Every tenant.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// One tenant (its settings).
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    /// One agent.
    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError>;
    /// Every agent of a tenant.
    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError>;
    /// The agents of one functional group of a tenant (kept by [`Self::put_tenant`], which
    /// moves an agent whose group changed).
    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError>;
    /// The agents among `ids` who are in the directory (at most 100 ids), in no
    /// particular order: one request for the names a page shows.
    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError>;
    /// Sets an agent's state and the time she entered it; returns the updated agent.
    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError>;
}

/// Single-use WebSocket tickets.
#[async_trait]
pub trait TicketStore: Send + Sync {
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError>;
    /// Removes and returns a ticket, so that it can be used once only.
    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError>;
}

/// Live WebSocket connections.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    /// Removes a connection and returns what it was.
    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;
    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;
    /// Every connection of a tenant: for tests and tools (no use-case reads it: it grows
    /// with the tenant).
    async fn connections_in_tenant(&self, tenant: &TenantId)
    -> Result<Vec<Connection>, StoreError>;
    /// The connections that see every agent of `group` by their group and role (see
    /// [`crate::rules::can_see`]): those of `group`'s agents, and every supervisor's of
    /// the tenant — each once. Who an agent's state change is told to, besides her
    /// partners.
    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError>;
    /// The connections whose [`Connection::check_at`] is at or before `now`, of every
    /// tenant, the earliest due first, at most `limit`.
    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError>;
    /// Moves a connection's next check to `at`. False (and nothing written) when the
    /// connection is gone.
    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError>;
    /// The connections of one agent: the cost of a push grows with these, never with the
    /// number of agents connected.
    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError>;
    /// The connections of several agents of one tenant, in no particular order: what a
    /// state change tells her partners with, in one read per hundred of them (DynamoDB's
    /// BatchGetItem) rather than one each.
    async fn connections_of_agents(
        &self,
        tenant: &TenantId,
        agents: &[AgentId],
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let mut out = Vec::new();
        for agent in agents {
            out.extend(self.connections_of(tenant, agent).await?);
        }
        Ok(out)
    }
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now under the next sequence number.
    Stored { chat: Chat, message: Message },
    /// A message with this client message id was stored before; nothing changed.
    Duplicate { chat: Chat, message: Message },
    /// The chat does not exist.
    NoSuchChat,
    /// The chat has ended.
    Ended,
}

/// What telling one participant of a chat's change needs: who she is (for the other's
/// view of the chat), where she is connected, and her count of chats requiring her
/// response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audience {
    /// Her directory entry; `None` if she has left the directory.
    pub agent: Option<Agent>,
    pub connections: Vec<ConnectionId>,
    /// Her count of chats requiring her response, as kept.
    pub pending: u32,
}

/// Where a page of ended chats goes on: after this chat, which ended at `ended_at`
/// (pages run from the most recently ended back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedCursor {
    pub ended_at: i64,
    pub chat: ChatId,
}

impl EndedCursor {
    /// The cursor that follows `chat` (an ended chat).
    pub fn after(chat: &Chat) -> Self {
        EndedCursor {
            ended_at: chat.ended_at.unwrap_or(0),
            chat: chat.id.clone(),
        }
    }
}

/// Which chats a listing by start time walks: each is kept, in the transaction that
/// opens a chat, under the time it started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartedIndex {
    /// Every chat of the tenant.
    Tenant,
    /// The chats an agent takes part in.
    Agent(AgentId),
    /// The chats with a participant who was of this functional group as it started
    /// ([`crate::model::ChatSide::group`]).
    Group(GroupId),
}

/// A place in a listing by start time, which runs from the latest started chat back:
/// what follows it are the chats started before `started_at`, and those started at that
/// very time whose id sorts after `chat`. With an empty `chat`, every chat started at or
/// before `started_at` follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedCursor {
    pub started_at: i64,
    pub chat: ChatId,
}

impl StartedCursor {
    /// The cursor that follows `chat`.
    pub fn after(chat: &Chat) -> Self {
        StartedCursor {
            started_at: chat.started_at,
            chat: chat.id.clone(),
        }
    }

    /// The cursor followed by every chat started at or before `at`.
    pub fn at_or_before(at: i64) -> Self {
        StartedCursor {
            started_at: at,
            chat: ChatId::from(""),
        }
    }
}

/// Chats, their messages and each participant's inbox state: her open chats, her ended
/// chats by when they ended, everyone she has had a chat with, and her count of chats
/// requiring her response — all kept in the transaction that changes a chat, so that no
/// read has to go through her history.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Stores `chat` unless an open chat between the same two agents exists; returns the
    /// chat that is open between them and whether it was created now.
    async fn open_chat(&self, chat: &Chat) -> Result<(Chat, bool), StoreError>;
    async fn chat(&self, tenant: &TenantId, id: &ChatId) -> Result<Option<Chat>, StoreError>;
    /// At most `limit` chats of `index`, the latest started first, from the one after
    /// `after` (see [`StartedCursor`]): how transcripts are listed and searched.
    async fn chats_started(
        &self,
        tenant: &TenantId,
        index: &StartedIndex,
        after: Option<&StartedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError>;
    /// At most `limit` of `agent`'s open chats, in the order of their ids, from the first
    /// id after `after`.
    async fn open_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        after: Option<&ChatId>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError>;
    /// At most `limit` of `agent`'s ended chats, the most recently ended first, from the
    /// one after `before`.
    async fn ended_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        before: Option<&EndedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError>;
    /// For each of a chat's two participants, what telling her of its change needs (see
    /// [`Audience`]), in one read: read after the change, so her count includes it.
    async fn audience(
        &self,
        tenant: &TenantId,
        agents: [&AgentId; 2],
    ) -> Result<[Audience; 2], StoreError>;
    /// How many chats require `agent`'s response (see [`Chat::pending_for`]), as kept.
    async fn pending_count(&self, tenant: &TenantId, agent: &AgentId) -> Result<u32, StoreError>;
    /// Everyone `agent` has (or had) a chat with.
    async fn partners_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<AgentId>, StoreError>;
    /// True when `agent` has (or had) a chat with `other`.
    async fn has_partner(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        other: &AgentId,
    ) -> Result<bool, StoreError>;
    /// Appends a message atomically: the next sequence number, both inboxes (their counts
    /// of pending chats by [`Chat::pending_changes`]), and the idempotency key `(chat, from, client_msg_id)`. Durable before it returns. A chat
    /// `from` takes no part in is [`Appended::NoSuchChat`] to them.
    #[allow(clippy::too_many_arguments)]
    async fn append_message(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
        body: &str,
        at: i64,
    ) -> Result<Appended, StoreError>;
    /// The message `from` stored in a chat under `client_msg_id`, if she did: how a
    /// retried send is recognised without appending anything.
    async fn sent_message(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError>;
    /// Ends an open chat — it moves from both participants' open chats to their ended
    /// ones, and their counts of pending chats follow — and returns the chat as it is
    /// now, or `None` if there is no such chat.
    async fn end_chat(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        by: &AgentId,
        at: i64,
    ) -> Result<Option<Chat>, StoreError>;
    /// Moves `agent`'s seen mark forward to `seq` (see [`Chat::mark_seen`]); returns the
    /// chat if the mark moved.
    async fn mark_seen(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        agent: &AgentId,
        seq: u64,
    ) -> Result<Option<Chat>, StoreError>;
    /// Messages with `seq > after`, in sequence order, at most `limit`.
    async fn messages(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;
    /// The last `limit` messages with `seq < before`, in sequence order.
    async fn messages_before(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;
}

/// A burst-tolerant rate limit: at most `max` events in each window of `window_ms`
/// milliseconds. Windows are fixed: they start at multiples of `window_ms` since the
/// epoch, so an adapter can count one window in one conditional write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// How many events one window takes.
    pub max: u32,
    /// How long a window lasts (ms).
    pub window_ms: i64,
}

impl Quota {
    /// The window that holds `now`: its index and the time it ends (ms).
    pub fn window(&self, now: i64) -> (i64, i64) {
        let window_ms = self.window_ms.max(1);
        let index = now.div_euclid(window_ms);
        (index, (index + 1) * window_ms)
    }
}

/// Rate limits that hold across handler invocations (a Lambda keeps no state).
#[async_trait]
pub trait LimitStore: Send + Sync {
    /// True, and the window restarts, when nothing under `key` was allowed in the last
    /// `window_ms` before `now`; false otherwise.
    async fn allow(&self, key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError>;
    /// Counts one event under `key` in the window of `quota` that holds `now`, and
    /// returns true — unless that window has counted `quota.max` events already: then it
    /// returns false and counts nothing, so a refused event does not prolong the wait.
    async fn take(&self, key: &str, quota: Quota, now: i64) -> Result<bool, StoreError>;
}

/// Where a page of a chat's transcript reads goes on: after this read (pages run from the
/// latest back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadCursor {
    pub at: i64,
    pub id: String,
}

/// The audit trail of transcripts: every read or download by a supervisor, kept (no
/// expiry) and listed per chat.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Keeps one read, durably.
    async fn record_read(&self, read: &TranscriptRead) -> Result<(), StoreError>;
    /// At most `limit` reads of `chat`, the latest first (in one millisecond, the greater
    /// id first), from the one after `before`.
    async fn reads_of(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: Option<&ReadCursor>,
        limit: usize,
    ) -> Result<Vec<TranscriptRead>, StoreError>;
}

/// What a change of a help request came to: done (with what it returned), or refused by
/// its rules ([`HelpRequest::take`], [`HelpRequest::withdraw`]) with nothing written.
pub type HelpChange<T> = Result<T, DomainError>;

/// Help requests — questions to a group, raised hands — each waiting for one taker. Every
/// change reads the request, asks its rule in [`crate::help`], and writes what follows
/// in one atomic step (a transaction, a conditional write), so of many takers at once
/// exactly one gets [`Taken::Now`].
#[async_trait]
pub trait HelpStore: Send + Sync {
    /// Stores a new waiting request. For a hand, if its agent has one waiting already,
    /// that one is returned (false) and nothing is stored: one hand per agent at a time.
    async fn put_help(&self, request: &HelpRequest) -> Result<(HelpRequest, bool), StoreError>;
    /// One request of a tenant, whatever its state.
    async fn help(&self, tenant: &TenantId, id: &HelpId)
    -> Result<Option<HelpRequest>, StoreError>;
    /// Takes a request for `taker` at `now` ([`HelpRequest::take`]). None if there is no
    /// such request.
    async fn take_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        taker: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, Taken)>>, StoreError>;
    /// Withdraws a request (lowers a hand) for `by` ([`HelpRequest::withdraw`]): true if
    /// it changed. None if there is no such request.
    async fn withdraw_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        by: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, bool)>>, StoreError>;
    /// Records the chat a taken request became (once; the same chat again changes
    /// nothing). None if there is no such request or it is not taken.
    async fn attach_help_chat(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        chat: &ChatId,
    ) -> Result<Option<HelpRequest>, StoreError>;
    /// The waiting requests of `group` — or, with none, of every group of the tenant —
    /// the oldest first, at most `limit`: what a console lists under Open questions (an
    /// agent's group's, a supervisor's tenant's). Its cost follows the requests waiting,
    /// which end within minutes, never the history.
    async fn waiting_help(
        &self,
        tenant: &TenantId,
        group: Option<&GroupId>,
        limit: usize,
    ) -> Result<Vec<HelpRequest>, StoreError>;
}

/// Everything the chat stores.
pub trait Store:
    DirectoryStore + TicketStore + ConnectionStore + ChatStore + LimitStore + AuditStore + HelpStore
{
}
impl<
    T: DirectoryStore
        + TicketStore
        + ConnectionStore
        + ChatStore
        + LimitStore
        + AuditStore
        + HelpStore,
> Store for T
{
}

/// What became of one push to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Delivered,
    /// The connection is gone (API Gateway's 410): its record should be deleted.
    Gone,
    /// Another failure; the connection may still be there.
    Failed(String),
}

/// Pushes a frame to a WebSocket connection (API Gateway's `PostToConnection`).
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome;

    /// Asks whether a connection is still there without sending it anything (API
    /// Gateway's `GetConnection`): `Gone` when it is not. A pusher whose connections end
    /// with their sockets, in process, knows of no other kind: `Delivered` by default.
    async fn probe(&self, _connection: &ConnectionId) -> PushOutcome {
        PushOutcome::Delivered
    }
}

/// The order of one chat's pushes within one process. A send holds its chat's turn from
/// the append to its last push, so that where several sends run in one process at once
/// (the local server) a chat's messages leave it in sequence order. Across processes —
/// concurrent Lambda invocations — there is no such order, nor any need: consoles place
/// messages by sequence number and resume from the first gap. Which is why this is an
/// adapter's business: [`Unordered`] in Lambda, a striped lock in the local server.
#[async_trait]
pub trait Order: Send + Sync {
    /// Waits for `chat`'s turn, held until the returned [`Turn`] is dropped.
    async fn turn(&self, chat: &ChatId) -> Turn;

    /// Called once what matters most is posted (a message, to the other agent), before
    /// the rest (the sender's acknowledgement): an adapter whose posts only hand a frame
    /// to a socket of its own process may let that socket write it first. Nothing by
    /// default.
    async fn urgent_posted(&self) {}
}

/// A chat's turn (see [`Order`]): the adapter's guard, released when this is dropped.
pub struct Turn(Option<Box<dyn Send>>);

impl Turn {
    /// A turn that holds nothing (no order is kept).
    pub fn free() -> Self {
        Turn(None)
    }

    /// A turn that holds `guard` until it is dropped.
    pub fn holding(guard: impl Send + 'static) -> Self {
        Turn(Some(Box::new(guard)))
    }

    /// True when this turn holds a guard.
    pub fn is_held(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Turn").field(&self.is_held()).finish()
    }
}

/// No order kept in process: every turn is free at once. For Lambda, where one
/// invocation handles one event, and for tests that need no order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unordered;

#[async_trait]
impl Order for Unordered {
    async fn turn(&self, _chat: &ChatId) -> Turn {
        Turn::free()
    }
}

/// Time and fresh ids.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// A fresh, unguessable id.
    fn new_id(&self) -> String;
}
