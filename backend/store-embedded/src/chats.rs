//! Chats and their messages: each change one durable transaction with the inboxes it
//! moves.

use super::*;
use console_domain::model::SendAdmission;

#[async_trait]
impl ChatStore for EmbeddedStore {
    async fn open_chat(&self, chat: &Chat) -> Result<(Chat, bool), StoreError> {
        let chat = chat.clone();
        self.durably(move |tx| {
            let [a, b] = chat.participants();
            let pair = keys::pair(&chat.tenant, a, b);
            let mut pairs = tx.open(OPEN_PAIRS)?;
            let mut chats = tx.open(CHATS)?;
            let existing = pairs
                .get(pair.as_str())
                .map_err(fail)?
                .map(|g| g.value().to_owned());
            if let Some(id) = existing
                && let Some(open) =
                    read::<Chat>(&*chats, &keys::chat(&chat.tenant, &id.as_str().into()))?
            {
                return Ok((open, false));
            }
            pairs.insert(pair.as_str(), chat.id.as_str())?;
            write(&mut chats, &keys::chat(&chat.tenant, &chat.id), &chat)?;
            update_inboxes(tx, None, &chat)?;
            Ok((chat.clone(), true))
        })
        .await
    }

    async fn chat(&self, tenant: &TenantId, id: &ChatId) -> Result<Option<Chat>, StoreError> {
        self.get_chat(tenant, id)
    }

    async fn chats_started(
        &self,
        tenant: &TenantId,
        index: &StartedIndex,
        after: Option<&StartedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let txn = self.read_txn()?;
        let from = after.map(|at| keys::started_chat(tenant, index, at.started_at, &at.chat));
        chats_listed(
            &txn,
            STARTED,
            tenant,
            &keys::started_prefix(tenant, index),
            from.as_deref(),
            limit,
        )
    }

    async fn open_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        after: Option<&ChatId>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let txn = self.read_txn()?;
        let from = after.map(|id| keys::agent_chat(tenant, agent, id));
        chats_listed(
            &txn,
            OPEN_CHATS,
            tenant,
            &keys::agent_prefix(tenant, agent),
            from.as_deref(),
            limit,
        )
    }

    async fn ended_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        before: Option<&EndedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let txn = self.read_txn()?;
        let from = before.map(|at| keys::ended_chat(tenant, agent, at.ended_at, &at.chat));
        chats_listed(
            &txn,
            ENDED_CHATS,
            tenant,
            &keys::agent_prefix(tenant, agent),
            from.as_deref(),
            limit,
        )
    }

    async fn audience(
        &self,
        tenant: &TenantId,
        agents: [&AgentId; 2],
    ) -> Result<[Audience; 2], StoreError> {
        let mut audience: [Audience; 2] = Default::default();
        {
            let txn = self.read_txn()?;
            let table = txn.open_table(AGENTS).map_err(fail)?;
            let pending = txn.open_table(PENDING).map_err(fail)?;
            for (out, agent) in audience.iter_mut().zip(agents) {
                out.agent = read(&table, &keys::agent(tenant, agent))?;
                let count = pending
                    .get(keys::pending(tenant, agent).as_str())
                    .map_err(fail)?
                    .map_or(0, |v| v.value());
                out.pending = u32::try_from(count).unwrap_or(u32::MAX);
            }
        }
        let live = self.connections();
        for (out, agent) in audience.iter_mut().zip(agents) {
            let prefix = keys::agent_prefix(tenant, agent);
            out.connections = live
                .keys_under(&prefix)
                .map(|key| ConnectionId(key[prefix.len()..].to_owned()))
                .collect();
        }
        Ok(audience)
    }

    async fn pending_count(&self, tenant: &TenantId, agent: &AgentId) -> Result<u32, StoreError> {
        let txn = self.read_txn()?;
        let table = txn.open_table(PENDING).map_err(fail)?;
        let count = table
            .get(keys::pending(tenant, agent).as_str())
            .map_err(fail)?
            .map_or(0, |v| v.value());
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn partners_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<AgentId>, StoreError> {
        let txn = self.read_txn()?;
        Ok(suffixes_under(
            &txn.open_table(PARTNERS).map_err(fail)?,
            &keys::agent_prefix(tenant, agent),
        )?
        .iter()
        .map(|id| AgentId::from(id.as_str()))
        .collect())
    }

    async fn has_partner(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        other: &AgentId,
    ) -> Result<bool, StoreError> {
        let txn = self.read_txn()?;
        let key = keys::agent_chat(tenant, agent, &other.as_str().into());
        Ok(txn
            .open_table(PARTNERS)
            .map_err(fail)?
            .get(key.as_str())
            .map_err(fail)?
            .is_some())
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
        let chat_key = keys::chat(tenant, chat_id);
        let send_key = keys::send(tenant, chat_id, from, client_msg_id);
        let (from, client_msg_id, body) = (from.clone(), client_msg_id.to_owned(), body.to_owned());
        self.durably(move |tx| {
            let mut chats = tx.open(CHATS)?;
            let (mut chat, open) = match Chat::admit_send(read(&*chats, &chat_key)?, &from) {
                SendAdmission::NoSuchChat => return Ok(Appended::NoSuchChat),
                SendAdmission::Ended(chat) => (chat, false),
                SendAdmission::Open(chat) => (chat, true),
            };
            let mut send_keys = tx.open(SEND_KEYS)?;
            let mut messages = tx.open(MESSAGES)?;
            // A retry of a send stored before is acknowledged again, open or ended.
            if let Some(message) = sent(&*send_keys, &*messages, &chat_key, &send_key)? {
                return Ok(Appended::Duplicate { chat, message });
            }
            if !open {
                return Ok(Appended::Ended);
            }
            let before = chat.clone();
            let message = chat.append(&from, &client_msg_id, &body, at);
            let seq = message.seq;
            messages.insert((chat_key.as_str(), seq), encode(&message)?.as_slice())?;
            send_keys.insert(send_key.as_str(), seq)?;
            write(&mut chats, &chat_key, &chat)?;
            update_inboxes(tx, Some(&before), &chat)?;
            Ok(Appended::Stored { chat, message })
        })
        .await
    }

    async fn sent_message(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        let txn = self.read_txn()?;
        sent(
            &txn.open_table(SEND_KEYS).map_err(fail)?,
            &txn.open_table(MESSAGES).map_err(fail)?,
            &keys::chat(tenant, chat_id),
            &keys::send(tenant, chat_id, from, client_msg_id),
        )
    }

    async fn end_chat(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        by: &AgentId,
        at: i64,
    ) -> Result<Option<Chat>, StoreError> {
        let chat_key = keys::chat(tenant, chat_id);
        let (tenant, by) = (tenant.clone(), by.clone());
        self.durably(move |tx| {
            let mut chats = tx.open(CHATS)?;
            let Some(mut chat) = read::<Chat>(&*chats, &chat_key)? else {
                return Ok(None);
            };
            let before = chat.clone();
            if chat.end(&by, at) {
                write(&mut chats, &chat_key, &chat)?;
                let [a, b] = chat.participants();
                tx.open(OPEN_PAIRS)?
                    .remove(keys::pair(&tenant, a, b).as_str())?;
                update_inboxes(tx, Some(&before), &chat)?;
            }
            Ok(Some(chat))
        })
        .await
    }

    async fn mark_seen(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        agent: &AgentId,
        seq: u64,
    ) -> Result<Option<Chat>, StoreError> {
        let chat_key = keys::chat(tenant, chat_id);
        let agent = agent.clone();
        self.durably(move |tx| {
            let mut chats = tx.open(CHATS)?;
            let Some(mut chat) = read::<Chat>(&*chats, &chat_key)? else {
                return Ok(None);
            };
            if !chat.mark_seen(&agent, seq) {
                return Ok(None);
            }
            write(&mut chats, &chat_key, &chat)?;
            Ok(Some(chat))
        })
        .await
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let txn = self.read_txn()?;
        let table = txn.open_table(MESSAGES).map_err(fail)?;
        let chat_key = keys::chat(tenant, chat_id);
        let start = after.saturating_add(1);
        let mut out = Vec::new();
        for entry in table
            .range((chat_key.as_str(), start)..=(chat_key.as_str(), u64::MAX))
            .map_err(fail)?
            .take(limit)
        {
            let (_, value) = entry.map_err(fail)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }

    async fn messages_before(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        before: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let txn = self.read_txn()?;
        let table = txn.open_table(MESSAGES).map_err(fail)?;
        let chat_key = keys::chat(tenant, chat_id);
        let mut out = Vec::new();
        for entry in table
            .range((chat_key.as_str(), 0)..(chat_key.as_str(), before))
            .map_err(fail)?
            .rev()
            .take(limit)
        {
            let (_, value) = entry.map_err(fail)?;
            out.push(decode::<Message>(value.value())?);
        }
        out.reverse();
        Ok(out)
    }
}
