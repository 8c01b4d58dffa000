//! Chats and their messages: each change made in one lock with the inboxes it moves, by
//! the chat's own methods.

use super::inbox::{Listing, entries_after};
use super::{MemoryStore, State, StoreError, key};
use crate::model::{Chat, Message, SendAdmission};
use crate::ports::{Appended, Audience, ChatStore, EndedCursor, StartedCursor, StartedIndex};
use async_trait::async_trait;
use protocol::{AgentId, ChatId, TenantId};
use std::cmp::Reverse;

/// The open-chat key of a pair of agents, the same whichever of them is named first.
fn pair(tenant: &TenantId, a: &AgentId, b: &AgentId) -> (TenantId, AgentId, AgentId) {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    (tenant.clone(), low.clone(), high.clone())
}

#[async_trait]
impl ChatStore for MemoryStore {
    async fn open_chat(&self, chat: &Chat) -> Result<(Chat, bool), StoreError> {
        let mut state = self.state();
        let [a, b] = chat.participants();
        let pair = pair(&chat.tenant, a, b);
        if let Some(id) = state.open_pairs.get(&pair)
            && let Some(open) = state.chats.get(&(chat.tenant.clone(), id.clone()))
        {
            return Ok((open.clone(), false));
        }
        state.open_pairs.insert(pair, chat.id.clone());
        state
            .chats
            .insert((chat.tenant.clone(), chat.id.clone()), chat.clone());
        state.keep_inboxes(None, chat);
        Ok((chat.clone(), true))
    }

    async fn chat(&self, tenant: &TenantId, id: &ChatId) -> Result<Option<Chat>, StoreError> {
        Ok(self
            .state()
            .chats
            .get(&(tenant.clone(), id.clone()))
            .cloned())
    }

    async fn chats_started(
        &self,
        tenant: &TenantId,
        index: &StartedIndex,
        after: Option<&StartedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let state = self.state();
        let listing = state.started.get(&(tenant.clone(), Listing::from(index)));
        // An empty id sorts before every chat's: every chat started at that time follows.
        let from = after.map(|at| (Reverse(at.started_at), at.chat.clone()));
        let ids = entries_after(listing, from.as_ref()).map(|(_, id)| id);
        Ok(state.chats_named(tenant, ids, limit))
    }

    async fn open_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        after: Option<&ChatId>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let state = self.state();
        let ids = entries_after(state.open_chats.get(&key(tenant, agent)), after);
        Ok(state.chats_named(tenant, ids, limit))
    }

    async fn ended_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        before: Option<&EndedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let state = self.state();
        let from = before.map(|at| (Reverse(at.ended_at), at.chat.clone()));
        let ended = state.ended_chats.get(&key(tenant, agent));
        let ids = entries_after(ended, from.as_ref()).map(|(_, id)| id);
        Ok(state.chats_named(tenant, ids, limit))
    }

    async fn audience(
        &self,
        tenant: &TenantId,
        agents: [&AgentId; 2],
    ) -> Result<[Audience; 2], StoreError> {
        let state = self.state();
        Ok(agents.map(|agent| Audience {
            agent: state.agents.get(&key(tenant, agent)).cloned(),
            connections: state.connections_of(tenant, agent),
            pending: pending(state.pending.get(&key(tenant, agent))),
        }))
    }

    async fn pending_count(&self, tenant: &TenantId, agent: &AgentId) -> Result<u32, StoreError> {
        Ok(pending(self.state().pending.get(&key(tenant, agent))))
    }

    async fn partners_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<AgentId>, StoreError> {
        Ok(self
            .state()
            .partners
            .get(&key(tenant, agent))
            .map(|partners| partners.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn has_partner(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        other: &AgentId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .partners
            .get(&key(tenant, agent))
            .is_some_and(|partners| partners.contains(other)))
    }

    async fn append_message(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
        body: &str,
        at: i64,
    ) -> Result<Appended, StoreError> {
        let mut state = self.state();
        let chat_key = (tenant.clone(), chat_id.clone());
        let (mut chat, open) = match Chat::admit_send(state.chats.get(&chat_key).cloned(), from) {
            SendAdmission::NoSuchChat => return Ok(Appended::NoSuchChat),
            SendAdmission::Ended(chat) => (chat, false),
            SendAdmission::Open(chat) => (chat, true),
        };
        let send_key = (
            tenant.clone(),
            chat_id.clone(),
            from.clone(),
            client_msg_id.to_owned(),
        );
        // A retry of a send stored before is acknowledged again, open or ended.
        if let Some(message) = sent(&state, &send_key) {
            return Ok(Appended::Duplicate { chat, message });
        }
        if !open {
            return Ok(Appended::Ended);
        }
        let before = chat.clone();
        let message = chat.append(from, client_msg_id, body, at);
        state
            .messages
            .entry(chat_key.clone())
            .or_default()
            .insert(message.seq, message.clone());
        state.send_keys.insert(send_key, message.seq);
        state.chats.insert(chat_key, chat.clone());
        state.keep_inboxes(Some(&before), &chat);
        Ok(Appended::Stored { chat, message })
    }

    async fn sent_message(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        let send_key = (
            tenant.clone(),
            chat_id.clone(),
            from.clone(),
            client_msg_id.to_owned(),
        );
        Ok(sent(&self.state(), &send_key))
    }

    async fn end_chat(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        by: &AgentId,
        at: i64,
    ) -> Result<Option<Chat>, StoreError> {
        let mut state = self.state();
        let chat_key = (tenant.clone(), chat_id.clone());
        let Some(mut chat) = state.chats.get(&chat_key).cloned() else {
            return Ok(None);
        };
        let before = chat.clone();
        if chat.end(by, at) {
            state.chats.insert(chat_key, chat.clone());
            let [a, b] = chat.participants();
            state.open_pairs.remove(&pair(tenant, a, b));
            state.keep_inboxes(Some(&before), &chat);
        }
        Ok(Some(chat))
    }

    async fn mark_seen(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        agent: &AgentId,
        seq: u64,
    ) -> Result<Option<Chat>, StoreError> {
        let mut state = self.state();
        let Some(chat) = state.chats.get_mut(&(tenant.clone(), chat_id.clone())) else {
            return Ok(None);
        };
        Ok(chat.mark_seen(agent, seq).then(|| chat.clone()))
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let state = self.state();
        let Some(messages) = state.messages.get(&(tenant.clone(), chat_id.clone())) else {
            return Ok(Vec::new());
        };
        Ok(messages
            .range(after.saturating_add(1)..)
            .take(limit)
            .map(|(_, message)| message.clone())
            .collect())
    }

    async fn messages_before(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        before: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let state = self.state();
        let Some(messages) = state.messages.get(&(tenant.clone(), chat_id.clone())) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Message> = messages
            .range(..before)
            .rev()
            .take(limit)
            .map(|(_, message)| message.clone())
            .collect();
        out.reverse();
        Ok(out)
    }
}

/// The message stored under a send key, if any.
fn sent(state: &State, send_key: &(TenantId, ChatId, AgentId, String)) -> Option<Message> {
    let seq = state.send_keys.get(send_key)?;
    let (tenant, chat, _, _) = send_key;
    state
        .messages
        .get(&(tenant.clone(), chat.clone()))?
        .get(seq)
        .cloned()
}

/// A kept count as the port reads it.
fn pending(count: Option<&u64>) -> u32 {
    count.map_or(0, |count| u32::try_from(*count).unwrap_or(u32::MAX))
}
