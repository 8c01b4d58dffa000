//! Chats, their messages and each participant's inbox, kept in the transaction that
//! changes a chat.

use super::*;
use console_domain::model::SendAdmission;

#[async_trait]
impl ChatStore for DynamoStore {
    async fn open_chat(&self, chat: &Chat) -> Result<(Chat, bool), StoreError> {
        let [a, b] = chat.participants();
        for attempt in 0..RACE_RETRIES {
            let pair = Item::record_item(keys::pair(&chat.tenant, a, b), &chat.id)?;
            let mut items = vec![
                self.put_item(pair, Some("attribute_not_exists(pk)"), &[])?,
                self.put_chat(chat, None)?,
            ];
            items.extend(self.inbox_changes(None, chat)?);
            if self.transact(items, attempt).await? {
                return Ok((chat.clone(), true));
            }
            // A chat between them is open already (or was, a moment ago): return it.
            if let Some(open) = self
                .get_record::<ChatId>(keys::pair(&chat.tenant, a, b))
                .await?
                && let Some(existing) = self
                    .get_record::<Chat>(keys::chat(&chat.tenant, &open))
                    .await?
            {
                return Ok((existing, false));
            }
        }
        Err(StoreError::retryable(
            "the chat could not be opened; try again",
        ))
    }

    async fn chat(&self, tenant: &TenantId, id: &ChatId) -> Result<Option<Chat>, StoreError> {
        self.get_record(keys::chat(tenant, id)).await
    }

    async fn chats_started(
        &self,
        tenant: &TenantId,
        index: &StartedIndex,
        after: Option<&StartedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let after = after.map(|at| keys::started_chat(tenant, index, at.started_at, &at.chat).1);
        let pk = keys::started_pk(tenant, index);
        self.listed_chats(tenant, &pk, keys::STARTED_PREFIX, after, limit)
            .await
    }

    async fn open_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        after: Option<&ChatId>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let after = after.map(|chat| keys::open_chat(tenant, agent, chat).1);
        let pk = keys::inbox_pk(tenant, agent);
        self.listed_chats(tenant, &pk, keys::OPEN_PREFIX, after, limit)
            .await
    }

    async fn ended_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        before: Option<&EndedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let after = before.map(|at| keys::ended_chat(tenant, agent, at.ended_at, &at.chat).1);
        let pk = keys::inbox_pk(tenant, agent);
        self.listed_chats(tenant, &pk, keys::ENDED_PREFIX, after, limit)
            .await
    }

    async fn audience(
        &self,
        tenant: &TenantId,
        agents: [&AgentId; 2],
    ) -> Result<[Audience; 2], StoreError> {
        let mut wanted = Vec::new();
        for agent in agents {
            wanted.push(keys::agent(tenant, agent));
            wanted.push(keys::counts(tenant, agent));
            wanted.push(keys::connection_set(tenant, agent));
        }
        wanted.dedup();
        let items = self.get_items(wanted).await?;
        let mut audience: [Audience; 2] = Default::default();
        for (out, agent) in audience.iter_mut().zip(agents) {
            let (agent_pk, agent_sk) = keys::agent(tenant, agent);
            let (inbox, counts_sk) = keys::counts(tenant, agent);
            let (_, conns_sk) = keys::connection_set(tenant, agent);
            for item in &items {
                match (item.pk(), item.sk()) {
                    (Some(pk), Some(sk)) if pk == agent_pk && sk == agent_sk => {
                        out.agent = Some(item.record()?);
                    }
                    (Some(pk), Some(sk)) if pk == inbox && sk == counts_sk => {
                        let count = item.number(keys::PENDING).unwrap_or(0).max(0);
                        out.pending = u32::try_from(count).unwrap_or(u32::MAX);
                    }
                    (Some(pk), Some(sk)) if pk == inbox && sk == conns_sk => {
                        out.connections = item
                            .strings(keys::CONNS)
                            .into_iter()
                            .map(ConnectionId)
                            .collect();
                    }
                    _ => {}
                }
            }
        }
        Ok(audience)
    }

    async fn pending_count(&self, tenant: &TenantId, agent: &AgentId) -> Result<u32, StoreError> {
        let count = self
            .get(keys::counts(tenant, agent))
            .await?
            .and_then(|counts| counts.number(keys::PENDING))
            .unwrap_or(0);
        Ok(u32::try_from(count.max(0)).unwrap_or(u32::MAX))
    }

    async fn partners_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<AgentId>, StoreError> {
        self.query(&keys::inbox_pk(tenant, agent), keys::PARTNER_PREFIX)
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    async fn has_partner(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        other: &AgentId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .get(keys::partner(tenant, agent, other))
            .await?
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
        for attempt in 0..RACE_RETRIES {
            let stored = self.chat_versioned(tenant, chat_id).await?;
            let version = stored.as_ref().map_or(0, |(_, version)| *version);
            let mut chat = match Chat::admit_send(stored.map(|(chat, _)| chat), from) {
                SendAdmission::NoSuchChat => return Ok(Appended::NoSuchChat),
                SendAdmission::Ended(chat) => {
                    // A retry of a send stored before the end is acknowledged as ever.
                    return Ok(
                        match self
                            .sent_message(tenant, chat_id, from, client_msg_id)
                            .await?
                        {
                            Some(message) => Appended::Duplicate { chat, message },
                            None => Appended::Ended,
                        },
                    );
                }
                SendAdmission::Open(chat) => chat,
            };
            let before = chat.clone();
            let message = chat.append(from, client_msg_id, body, at);
            let seq = message.seq;
            let send_key = item::bare(keys::send_key(tenant, chat_id, from, client_msg_id))
                .with_number(keys::SEQ, seq as i64);
            let mut items = vec![
                self.put_chat(&chat, Some(version))?,
                self.put_item(
                    Item::record_item(keys::message(tenant, chat_id, seq), &message)?,
                    Some("attribute_not_exists(pk)"),
                    &[],
                )?,
                self.put_item(send_key, Some("attribute_not_exists(pk)"), &[])?,
            ];
            items.extend(self.inbox_changes(Some(&before), &chat)?);
            // The send key's condition is the duplicate check: a first send costs no read
            // of it, a retry is recognised when the transaction is refused.
            if self.transact(items, attempt).await? {
                return Ok(Appended::Stored { chat, message });
            }
            if let Some(message) = self
                .sent_message(tenant, chat_id, from, client_msg_id)
                .await?
            {
                return Ok(Appended::Duplicate {
                    chat: before,
                    message,
                });
            }
            // Another send won the race: read again.
        }
        Err(StoreError::retryable("the chat is too busy; try again"))
    }

    async fn sent_message(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        from: &AgentId,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        let Some(sent) = self
            .get(keys::send_key(tenant, chat_id, from, client_msg_id))
            .await?
        else {
            return Ok(None);
        };
        let seq = sent.number(keys::SEQ).unwrap_or(0) as u64;
        self.get_record(keys::message(tenant, chat_id, seq))
            .await?
            .map(Some)
            .ok_or_else(|| StoreError::permanent("a send key points at a missing message"))
    }

    async fn end_chat(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        by: &AgentId,
        at: i64,
    ) -> Result<Option<Chat>, StoreError> {
        for attempt in 0..RACE_RETRIES {
            let Some((mut chat, version)) = self.chat_versioned(tenant, chat_id).await? else {
                return Ok(None);
            };
            let before = chat.clone();
            if !chat.end(by, at) {
                return Ok(Some(chat));
            }
            let [a, b] = chat.participants();
            let mut items = vec![
                self.put_chat(&chat, Some(version))?,
                self.delete_item(keys::pair(tenant, a, b))?,
            ];
            items.extend(self.inbox_changes(Some(&before), &chat)?);
            if self.transact(items, attempt).await? {
                return Ok(Some(chat));
            }
        }
        Err(StoreError::retryable("the chat is too busy; try again"))
    }

    async fn mark_seen(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        agent: &AgentId,
        seq: u64,
    ) -> Result<Option<Chat>, StoreError> {
        for attempt in 0..RACE_RETRIES {
            let Some((mut chat, version)) = self.chat_versioned(tenant, chat_id).await? else {
                return Ok(None);
            };
            let before = chat.clone();
            if !chat.mark_seen(agent, seq) {
                return Ok(None);
            }
            // A seen mark moves no count today; kept in step all the same, as every change.
            let mut items = vec![self.put_chat(&chat, Some(version))?];
            items.extend(self.inbox_changes(Some(&before), &chat)?);
            if self.transact(items, attempt).await? {
                return Ok(Some(chat));
            }
        }
        Err(StoreError::retryable("the chat is too busy; try again"))
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(&keys::chat_pk(tenant, chat_id)))
            .expression_attribute_values(":from", s(&keys::message_sk(after.saturating_add(1))))
            .expression_attribute_values(":to", s(&keys::message_sk(u64::MAX)))
            .consistent_read(true)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(sdk_fail)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| Item(i).record())
            .collect()
    }

    /// One Query from `before` back (`ScanIndexForward = false`, `Limit`), turned round.
    async fn messages_before(
        &self,
        tenant: &TenantId,
        chat_id: &ChatId,
        before: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        if before <= 1 || limit == 0 {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(&keys::chat_pk(tenant, chat_id)))
            .expression_attribute_values(":from", s(&keys::message_sk(1)))
            .expression_attribute_values(":to", s(&keys::message_sk(before - 1)))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(limit.min(1000) as i32)
            .send()
            .await
            .map_err(sdk_fail)?;
        let mut messages = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| Item(i).record())
            .collect::<Result<Vec<Message>, _>>()?;
        messages.reverse();
        Ok(messages)
    }
}
