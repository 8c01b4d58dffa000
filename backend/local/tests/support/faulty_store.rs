//! A fault-injecting wrapper of the store port: a share of its writes fail with a
//! retryable `StoreError`. Some fail before anything is written; others after the write
//! took effect (a timeout whose write went through, as DynamoDB can answer), so that a
//! retry meets what the first attempt wrote. Reads never fail.

use crate::support::dice::Dice;
use async_trait::async_trait;
use console_domain::help::{HelpRequest, Taken};
use console_domain::model::{
    Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket, TranscriptRead,
};
use console_domain::ports::{
    Appended, Audience, AuditStore, ChatStore, ConnectionStore, DirectoryStore, EndedCursor,
    LimitStore, Quota, ReadCursor, StartedCursor, StartedIndex, StoreError, TicketStore,
};
use console_domain::ports::{HelpChange, HelpStore};
use protocol::help::HelpId;
use protocol::{AgentId, AgentState, ChatId, GroupId, TenantId};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Wraps a store; see the module.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    /// The chance that one write fails.
    rate: f64,
    /// Of the failures, the share that happen after the write took effect.
    after_share: f64,
    dice: Dice,
    enabled: AtomicBool,
    /// Writes failed before writing.
    pub failed_before: AtomicU64,
    /// Writes failed after writing.
    pub failed_after: AtomicU64,
    /// Writes made.
    pub writes: AtomicU64,
    /// The next call of this write fails after writing, whatever the dice say.
    next_after: std::sync::Mutex<Option<&'static str>>,
}

impl<S> FaultyStore<S> {
    pub fn new(inner: S, rate: f64, after_share: f64, dice: Dice) -> Self {
        FaultyStore {
            inner,
            rate,
            after_share,
            dice,
            enabled: AtomicBool::new(true),
            failed_before: AtomicU64::new(0),
            failed_after: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            next_after: std::sync::Mutex::new(None),
        }
    }

    /// Makes the next call of the write `what` (`"append_message"`, say) fail after it
    /// wrote.
    pub fn fail_next_after_writing(&self, what: &'static str) {
        *self.next_after.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Turns the faults on or off.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
    }

    async fn write<T>(
        &self,
        what: &str,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let forced = {
            let mut next = self.next_after.lock().unwrap_or_else(|p| p.into_inner());
            if *next == Some(what) {
                next.take().is_some()
            } else {
                false
            }
        };
        if !forced && (!self.enabled.load(Ordering::SeqCst) || !self.dice.chance(self.rate)) {
            return op.await;
        }
        if forced || self.dice.chance(self.after_share) {
            let result = op.await;
            self.failed_after.fetch_add(1, Ordering::Relaxed);
            result.and(Err(StoreError::retryable(format!(
                "injected: {what} timed out after it was written"
            ))))
        } else {
            self.failed_before.fetch_add(1, Ordering::Relaxed);
            Err(StoreError::retryable(format!(
                "injected: {what} failed before writing"
            )))
        }
    }
}

#[async_trait]
impl<S: DirectoryStore> DirectoryStore for FaultyStore<S> {
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError> {
        self.write("put_tenant", self.inner.put_tenant(tenant, agents))
            .await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.inner.tenants().await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.inner.tenant(id).await
    }

    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError> {
        self.inner.agent(tenant, id).await
    }

    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError> {
        self.inner.agents(tenant).await
    }

    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError> {
        self.inner.agents_of_group(tenant, group).await
    }

    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError> {
        self.inner.agents_named(tenant, ids).await
    }

    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError> {
        self.write(
            "set_agent_state",
            self.inner.set_agent_state(tenant, id, state, since),
        )
        .await
    }
}

#[async_trait]
impl<S: TicketStore> TicketStore for FaultyStore<S> {
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        self.write("put_ticket", self.inner.put_ticket(ticket))
            .await
    }

    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        self.write("take_ticket", self.inner.take_ticket(id)).await
    }
}

#[async_trait]
impl<S: ConnectionStore> ConnectionStore for FaultyStore<S> {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.write("put_connection", self.inner.put_connection(connection))
            .await
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.write("delete_connection", self.inner.delete_connection(id))
            .await
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.inner.connection(id).await
    }

    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        self.inner.connections_due(now, limit).await
    }

    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError> {
        self.write("check_later", self.inner.check_later(connection, at))
            .await
    }

    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError> {
        self.inner.connections_seeing(tenant, group).await
    }

    async fn connections_in_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Connection>, StoreError> {
        self.inner.connections_in_tenant(tenant).await
    }

    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.inner.connections_of(tenant, agent).await
    }
}

#[async_trait]
impl<S: ChatStore> ChatStore for FaultyStore<S> {
    async fn open_chat(&self, chat: &Chat) -> Result<(Chat, bool), StoreError> {
        self.write("open_chat", self.inner.open_chat(chat)).await
    }

    async fn chat(&self, tenant: &TenantId, id: &ChatId) -> Result<Option<Chat>, StoreError> {
        self.inner.chat(tenant, id).await
    }

    async fn chats_started(
        &self,
        tenant: &TenantId,
        index: &StartedIndex,
        after: Option<&StartedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        self.inner.chats_started(tenant, index, after, limit).await
    }

    async fn open_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        after: Option<&ChatId>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        self.inner.open_chats_of(tenant, agent, after, limit).await
    }

    async fn ended_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        before: Option<&EndedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        self.inner
            .ended_chats_of(tenant, agent, before, limit)
            .await
    }

    async fn audience(
        &self,
        tenant: &TenantId,
        agents: [&AgentId; 2],
    ) -> Result<[Audience; 2], StoreError> {
        self.inner.audience(tenant, agents).await
    }

    async fn pending_count(&self, tenant: &TenantId, agent: &AgentId) -> Result<u32, StoreError> {
        self.inner.pending_count(tenant, agent).await
    }

    async fn partners_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<AgentId>, StoreError> {
        self.inner.partners_of(tenant, agent).await
    }

    async fn has_partner(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        other: &AgentId,
    ) -> Result<bool, StoreError> {
        self.inner.has_partner(tenant, agent, other).await
    }

    async fn messages_before(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.inner
            .messages_before(tenant, chat, before, limit)
            .await
    }

    async fn append_message(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
        body: &str,
        at: i64,
    ) -> Result<Appended, StoreError> {
        self.write(
            "append_message",
            self.inner
                .append_message(tenant, chat, from, client_msg_id, body, at),
        )
        .await
    }

    async fn sent_message(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        self.inner
            .sent_message(tenant, chat, from, client_msg_id)
            .await
    }

    async fn end_chat(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        by: &AgentId,
        at: i64,
    ) -> Result<Option<Chat>, StoreError> {
        self.write("end_chat", self.inner.end_chat(tenant, chat, by, at))
            .await
    }

    async fn mark_seen(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        agent: &AgentId,
        seq: u64,
    ) -> Result<Option<Chat>, StoreError> {
        self.write("mark_seen", self.inner.mark_seen(tenant, chat, agent, seq))
            .await
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.inner.messages(tenant, chat, after, limit).await
    }
}

#[async_trait]
impl<S: LimitStore> LimitStore for FaultyStore<S> {
    async fn allow(&self, key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError> {
        self.write("allow", self.inner.allow(key, window_ms, now))
            .await
    }

    async fn take(&self, key: &str, quota: Quota, now: i64) -> Result<bool, StoreError> {
        self.write("take", self.inner.take(key, quota, now)).await
    }
}

#[async_trait]
impl<S: AuditStore> AuditStore for FaultyStore<S> {
    async fn record_read(&self, read: &TranscriptRead) -> Result<(), StoreError> {
        self.write("record_read", self.inner.record_read(read))
            .await
    }

    async fn reads_of(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: Option<&ReadCursor>,
        limit: usize,
    ) -> Result<Vec<TranscriptRead>, StoreError> {
        self.inner.reads_of(tenant, chat, before, limit).await
    }
}

#[async_trait]
impl<S: HelpStore> HelpStore for FaultyStore<S> {
    async fn put_help(&self, request: &HelpRequest) -> Result<(HelpRequest, bool), StoreError> {
        self.write("put_help", self.inner.put_help(request)).await
    }

    async fn help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        self.inner.help(tenant, id).await
    }

    async fn take_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        taker: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, Taken)>>, StoreError> {
        self.write("take_help", self.inner.take_help(tenant, id, taker, now))
            .await
    }

    async fn withdraw_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        by: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, bool)>>, StoreError> {
        self.write(
            "withdraw_help",
            self.inner.withdraw_help(tenant, id, by, now),
        )
        .await
    }

    async fn attach_help_chat(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        chat: &ChatId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        self.write(
            "attach_help_chat",
            self.inner.attach_help_chat(tenant, id, chat),
        )
        .await
    }

    async fn waiting_help(
        &self,
        tenant: &TenantId,
        group: Option<&GroupId>,
        limit: usize,
    ) -> Result<Vec<HelpRequest>, StoreError> {
        self.inner.waiting_help(tenant, group, limit).await
    }
}
