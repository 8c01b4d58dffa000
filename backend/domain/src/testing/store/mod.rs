//! The store ports in memory: plain maps behind one lock. Each method takes the lock once
//! and does in it what the embedded store does in one transaction, with the domain
//! model's own methods, so that no rule is written twice; the conformance suite holds it
//! to the other stores.
//!
//! The directory, tickets and rate limits are here; the connections and the chats, with
//! the inboxes they keep, in the children.

mod chats;
mod connections;
mod help;
mod inbox;

use crate::model::{
    Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket, TranscriptRead,
};
use crate::ports::{
    AuditStore, DirectoryStore, LimitStore, Quota, ReadCursor, StoreError, TicketStore,
};
use async_trait::async_trait;
use inbox::Listing;
use protocol::{AgentId, AgentState, ChatId, GroupId, TenantId};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A ticket is dropped once it expired this long before the newest one does, as the
/// embedded store sweeps them (all tickets live as long, so no clock is needed).
const TICKET_SWEEP_GRACE_MS: i64 = 60_000;

/// An agent of a tenant: the key of what the store keeps per agent.
type AgentKey = (TenantId, AgentId);

/// One chat's transcript reads by when and id, the latest first.
type Reads = BTreeMap<Reverse<(i64, String)>, TranscriptRead>;

/// Chats by a time (when they started, or ended), the latest first, then by id.
type ByTime = BTreeSet<(Reverse<i64>, ChatId)>;

/// Every store port in memory. Fresh and empty from [`MemoryStore::new`]; what one test
/// writes no other sees.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// Everything the store holds: the chats and their inboxes table by table as the
/// embedded store keeps them; agents and connections found by reading their records.
#[derive(Debug, Default)]
struct State {
    tenants: BTreeMap<TenantId, Tenant>,
    agents: BTreeMap<AgentKey, Agent>,
    tickets: BTreeMap<String, Ticket>,
    /// The live connections; each keeps its agent's group and role, by which
    /// `connections_seeing` finds it.
    connections: BTreeMap<ConnectionId, Connection>,
    /// Per key: when an event was last allowed (ms), for [`LimitStore::allow`].
    allowed: BTreeMap<String, i64>,
    /// Per key: the end of the quota window being counted (ms) and its count so far.
    quotas: BTreeMap<String, (i64, u32)>,
    chats: BTreeMap<(TenantId, ChatId), Chat>,
    /// The open chat of each pair of agents, the lower id first.
    open_pairs: BTreeMap<(TenantId, AgentId, AgentId), ChatId>,
    /// Each chat's messages by sequence number.
    messages: BTreeMap<(TenantId, ChatId), BTreeMap<u64, Message>>,
    /// The duplicate check: `(chat, from, client_msg_id)` to the sequence number stored.
    send_keys: BTreeMap<(TenantId, ChatId, AgentId, String), u64>,
    /// Chats by start time, the latest first, then by id: per tenant, per participant and
    /// per participant's group.
    started: BTreeMap<(TenantId, Listing), ByTime>,
    /// Each agent's open chats, by id.
    open_chats: BTreeMap<AgentKey, BTreeSet<ChatId>>,
    /// Each agent's ended chats, the most recently ended first.
    ended_chats: BTreeMap<AgentKey, ByTime>,
    /// Everyone each agent has had a chat with.
    partners: BTreeMap<AgentKey, BTreeSet<AgentId>>,
    /// Each agent's count of chats requiring her response, as kept.
    pending: BTreeMap<AgentKey, u64>,
    /// Each chat's transcript reads, the latest first (in one millisecond, the greater id
    /// first).
    reads: BTreeMap<(TenantId, ChatId), Reads>,
    /// Help requests, whatever their state.
    help: BTreeMap<(TenantId, protocol::help::HelpId), crate::help::HelpRequest>,
    /// The waiting ones, by tenant, group and when asked.
    help_waiting: BTreeSet<help::Waiting>,
    /// Each agent's waiting hand.
    hands: BTreeMap<AgentKey, protocol::help::HelpId>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// The store's one lock (a test that panicked holding it leaves the maps as they
    /// were: each method changes them only once it cannot fail).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The connections of one agent, by id.
    fn connections_of(&self, tenant: &TenantId, agent: &AgentId) -> Vec<ConnectionId> {
        self.connections
            .values()
            .filter(|connection| &connection.tenant == tenant && &connection.agent == agent)
            .map(|connection| connection.id.clone())
            .collect()
    }
}

fn key(tenant: &TenantId, agent: &AgentId) -> AgentKey {
    (tenant.clone(), agent.clone())
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError> {
        let mut state = self.state();
        state.tenants.insert(tenant.id.clone(), tenant.clone());
        for agent in agents {
            state
                .agents
                .insert(key(&tenant.id, &agent.id), agent.clone());
        }
        Ok(())
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        Ok(self.state().tenants.get(id).cloned())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        Ok(self.state().tenants.values().cloned().collect())
    }

    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError> {
        Ok(self.state().agents.get(&key(tenant, id)).cloned())
    }

    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError> {
        Ok(self
            .state()
            .agents
            .iter()
            .filter(|((of, _), _)| of == tenant)
            .map(|(_, agent)| agent.clone())
            .collect())
    }

    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError> {
        Ok(self
            .state()
            .agents
            .iter()
            .filter(|((of, _), agent)| of == tenant && &agent.group == group)
            .map(|(_, agent)| agent.clone())
            .collect())
    }

    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError> {
        let state = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| state.agents.get(&key(tenant, id)).cloned())
            .collect())
    }

    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let mut held = self.state();
        let Some(agent) = held.agents.get_mut(&key(tenant, id)) else {
            return Ok(None);
        };
        agent.state = state;
        agent.state_since = since;
        Ok(Some(agent.clone()))
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    /// Stores a ticket, and drops those expired long before it (see
    /// [`TICKET_SWEEP_GRACE_MS`]): an unused ticket does not stay.
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let mut state = self.state();
        state
            .tickets
            .retain(|_, held| held.expires_at >= ticket.expires_at - TICKET_SWEEP_GRACE_MS);
        state.tickets.insert(ticket.id.clone(), ticket.clone());
        Ok(())
    }

    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        Ok(self.state().tickets.remove(id))
    }
}

#[async_trait]
impl LimitStore for MemoryStore {
    async fn allow(&self, key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state
            .allowed
            .get(key)
            .is_some_and(|last| now - last < window_ms)
        {
            return Ok(false);
        }
        state.allowed.insert(key.to_owned(), now);
        Ok(true)
    }

    async fn take(&self, key: &str, quota: Quota, now: i64) -> Result<bool, StoreError> {
        let (_, ends) = quota.window(now);
        let mut state = self.state();
        let count = match state.quotas.get(key) {
            Some(&(window_end, count)) if window_end == ends => count,
            _ => 0,
        };
        if count >= quota.max {
            return Ok(false);
        }
        state.quotas.insert(key.to_owned(), (ends, count + 1));
        Ok(true)
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn record_read(&self, read: &TranscriptRead) -> Result<(), StoreError> {
        self.state()
            .reads
            .entry((read.tenant.clone(), read.chat.clone()))
            .or_default()
            .insert(Reverse((read.at, read.id.clone())), read.clone());
        Ok(())
    }

    async fn reads_of(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: Option<&ReadCursor>,
        limit: usize,
    ) -> Result<Vec<TranscriptRead>, StoreError> {
        let state = self.state();
        let Some(reads) = state.reads.get(&(tenant.clone(), chat.clone())) else {
            return Ok(Vec::new());
        };
        let after = before.map(|cursor| Reverse((cursor.at, cursor.id.clone())));
        Ok(reads
            .iter()
            .filter(|(key, _)| after.as_ref().is_none_or(|after| *key > after))
            .take(limit)
            .map(|(_, read)| read.clone())
            .collect())
    }
}
