//! The store port over Amazon DynamoDB: one table (`pk`, `sk`), records kept as JSON in a
//! `data` attribute, conditional and transactional writes where the rules need them:
//!
//! - a message is appended in one transaction that bumps the chat's version (which must
//!   be the one read), stores the message under the next sequence number and its send key
//!   (neither may exist yet) — so sequence numbers stay gapless and a retried send is
//!   stored once, under any concurrency; a lost race is retried;
//! - only one open chat per pair of agents, guarded by a pair item written with the chat;
//! - each participant's inbox — her open and ended chats, her partners, her count of chats
//!   requiring her response — changes in the transaction that changes the chat (see
//!   [`keys`] for its items), so a page of her chats or her count is one read, never a
//!   walk through her history; the count is kept with `ADD`, never recounted;
//! - tickets are deleted as they are read (single use), rate limits and quotas are one
//!   conditional update each, connections, tickets and quota windows carry a TTL.
//!
//! Every read the rules depend on is strongly consistent. There is no Scan anywhere.
//!
//! A transaction that loses a race — its condition fails, or another transaction holds
//! one of its items (an agent's counts are shared by all her chats) — is tried again
//! from a fresh read.

mod item;
pub mod keys;

pub use item::create_table;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, PutRequest, ReturnValue, TransactWriteItem,
    Update, WriteRequest,
};
use console_domain::model::{Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket};
use console_domain::ports::{
    Appended, Audience, ChatStore, ConnectionStore, DirectoryStore, EndedCursor, LimitStore, Quota,
    StartedCursor, StartedIndex, StoreError, TicketStore,
};
use item::{Item, ItemBuilder, fail, key, s};
use protocol::{AgentId, AgentState, ChatId, ChatStatus, GroupId, TenantId};
use std::collections::{BTreeMap, HashMap};

/// How long connection items live (past API Gateway's 2-hour connection lifetime).
pub const CONNECTION_TTL_SECONDS: i64 = 3 * 3600;
/// How many times a write that lost a race is tried again.
const RACE_RETRIES: usize = 8;
/// How long a transaction that met another one on an item waits before it is tried
/// again (times a growing factor).
const CONFLICT_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// The store port over one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store over `table`, through `client` (built once per process).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, (pk, sk): (String, String)) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(fail)?;
        Ok(out.item.map(Item))
    }

    async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        key: (String, String),
    ) -> Result<Option<T>, StoreError> {
        self.get(key).await?.map(|item| item.record()).transpose()
    }

    /// Every item of a partition whose sort key starts with `prefix`, all pages.
    async fn query(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.query_page(pk, prefix, None, usize::MAX).await
    }

    /// At most `limit` items of a partition whose sort key starts with `prefix`, in the
    /// order of their sort keys, from the first after the sort key `after` (which need
    /// not be an item's: DynamoDB starts after any key).
    async fn query_page(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = after.map(|sk| key(pk.to_owned(), sk));
        while items.len() < limit {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                // No limit for "all of them": a page is then DynamoDB's 1 MB.
                .set_limit(i32::try_from(limit - items.len()).ok())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(fail)?;
            items.extend(out.items.unwrap_or_default().into_iter().map(Item));
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(items)
    }

    /// The chats that inbox items name (each holds a chat's id), in the items' order.
    async fn chats_named(
        &self,
        tenant: &TenantId,
        items: &[Item],
    ) -> Result<Vec<Chat>, StoreError> {
        let ids: Vec<ChatId> = items.iter().map(Item::record).collect::<Result<_, _>>()?;
        let mut found: HashMap<ChatId, Chat> = self
            .get_many::<Chat>(ids.iter().map(|id| keys::chat(tenant, id)).collect())
            .await?
            .into_iter()
            .map(|chat| (chat.id.clone(), chat))
            .collect();
        // BatchGetItem answers in any order.
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn put(&self, item: HashMap<String, AttributeValue>) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// Reads many records by key (BatchGetItem, 100 at a time, retrying what DynamoDB
    /// leaves unprocessed).
    async fn get_many<T: serde::de::DeserializeOwned>(
        &self,
        keys: Vec<(String, String)>,
    ) -> Result<Vec<T>, StoreError> {
        self.get_items(keys)
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    /// Reads many items by key, as [`DynamoStore::get_many`], in no particular order.
    async fn get_items(&self, keys: Vec<(String, String)>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|(pk, sk)| key(pk.clone(), sk.clone()))
                .collect();
            for _ in 0..RACE_RETRIES {
                if pending.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(fail)?;
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(fail)?;
                for item in answer
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    out.push(Item(item));
                }
                pending = answer
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::retryable("DynamoDB left reads unprocessed"));
            }
        }
        Ok(out)
    }

    /// Writes many items (BatchWriteItem, 25 at a time, retrying what DynamoDB leaves
    /// unprocessed). Not atomic: for imports.
    async fn put_many(
        &self,
        items: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<(), StoreError> {
        for chunk in items.chunks(25) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    Ok(WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item.clone()))
                                .build()
                                .map_err(fail)?,
                        )
                        .build())
                })
                .collect::<Result<_, StoreError>>()?;
            let mut pause = std::time::Duration::from_millis(20);
            for _ in 0..RACE_RETRIES {
                if pending.is_empty() {
                    break;
                }
                let answer = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(fail)?;
                pending = answer
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::retryable("DynamoDB left writes unprocessed"));
            }
        }
        Ok(())
    }

    /// Writes `items` in one transaction (at most 100); `Ok(false)` when it lost a race:
    /// a condition failed (the thing changed, or already exists), or another transaction
    /// held one of its items — then only after a short pause, growing with `attempt`
    /// (from 0), so that the caller's next try, from a fresh read, does not meet it again.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        attempt: usize,
    ) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(true),
            Err(error) => error,
        };
        let reasons: Vec<&str> = match error.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                .cancellation_reasons()
                .iter()
                .filter_map(|reason| reason.code())
                .collect(),
            _ => Vec::new(),
        };
        if reasons.contains(&"ConditionalCheckFailed") {
            return Ok(false);
        }
        if reasons.contains(&"TransactionConflict") {
            tokio::time::sleep(CONFLICT_PAUSE * (attempt as u32 + 1)).await;
            return Ok(false);
        }
        Err(fail(error))
    }

    fn put_item(
        &self,
        item: HashMap<String, AttributeValue>,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned));
        for (name, value) in values {
            put = put.expression_attribute_values(*name, value.clone());
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(fail)?)
            .build())
    }

    /// A delete, as part of a transaction.
    fn delete_item(&self, (pk, sk): (String, String)) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .build()
            .map_err(fail)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Adds `delta` to a number attribute (which starts at 0), as part of a transaction.
    fn add_to(
        &self,
        (pk, sk): (String, String),
        attribute: &str,
        delta: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #n :delta")
            .expression_attribute_names("#n", attribute)
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()))
            .build()
            .map_err(fail)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// What keeps both participants' inboxes in step with a chat that changes from
    /// `before` (`None`: it is new) to `after`, to write in the transaction that changes
    /// it: its place among their chats, open or ended, their partners, and their counts
    /// of pending chats (by [`Chat::pending_changes`]); for a new chat also its place in
    /// the indexes by start time (the tenant's, each participant's, each group's). At
    /// most 10 items, each once (a transaction may not touch one twice).
    fn inbox_changes(
        &self,
        before: Option<&Chat>,
        after: &Chat,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let tenant = &after.tenant;
        let ended = |agent: &AgentId| {
            keys::ended_chat(tenant, agent, after.ended_at.unwrap_or(0), &after.id)
        };
        let mut items = Vec::new();
        for agent in after.participants() {
            match before {
                None => {
                    let place = match after.status {
                        ChatStatus::Open => keys::open_chat(tenant, agent, &after.id),
                        ChatStatus::Ended => ended(agent),
                    };
                    items.push(self.put_item(Item::record_item(place, &after.id)?, None, &[])?);
                    // Idempotent: the partner of an earlier chat is put again, unchanged.
                    let other = after.other(agent);
                    items.push(self.put_item(
                        Item::record_item(keys::partner(tenant, agent, other), other)?,
                        None,
                        &[],
                    )?);
                }
                Some(was)
                    if was.status == ChatStatus::Open && after.status == ChatStatus::Ended =>
                {
                    items.push(self.delete_item(keys::open_chat(tenant, agent, &after.id))?);
                    items.push(self.put_item(
                        Item::record_item(ended(agent), &after.id)?,
                        None,
                        &[],
                    )?);
                }
                Some(_) => {}
            }
        }
        if before.is_none() {
            let mut indexes = vec![StartedIndex::Tenant];
            indexes.extend(after.participants().map(|a| StartedIndex::Agent(a.clone())));
            indexes.extend(
                after
                    .groups()
                    .into_iter()
                    .map(|g| StartedIndex::Group(g.clone())),
            );
            for index in indexes {
                let key = keys::started_chat(tenant, &index, after.started_at, &after.id);
                items.push(self.put_item(Item::record_item(key, &after.id)?, None, &[])?);
            }
        }
        for (agent, delta) in after.pending_changes(before) {
            items.push(self.add_to(keys::counts(tenant, &agent), keys::PENDING, delta)?);
        }
        Ok(items)
    }

    /// A chat write conditioned on the version that was read (optimistic concurrency).
    fn put_chat(
        &self,
        chat: &Chat,
        read_version: Option<i64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let version = read_version.unwrap_or(0) + 1;
        let item = Item::record_item(keys::chat(&chat.tenant, &chat.id), chat)?
            .with_number(keys::VERSION, version);
        match read_version {
            Some(read) => self.put_item(
                item,
                Some("version = :read"),
                &[(":read", AttributeValue::N(read.to_string()))],
            ),
            None => self.put_item(item, Some("attribute_not_exists(pk)"), &[]),
        }
    }

    /// A chat and the version it was read at.
    async fn chat_versioned(
        &self,
        tenant: &TenantId,
        id: &ChatId,
    ) -> Result<Option<(Chat, i64)>, StoreError> {
        let Some(item) = self.get(keys::chat(tenant, id)).await? else {
            return Ok(None);
        };
        Ok(Some((
            item.record()?,
            item.number(keys::VERSION).unwrap_or(0),
        )))
    }
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError> {
        self.put(Item::record_item(keys::tenant(&tenant.id), tenant)?)
            .await?;
        // An agent whose group changed leaves her old group's index.
        let before: Vec<Agent> = self
            .get_many(
                agents
                    .iter()
                    .map(|agent| keys::agent(&tenant.id, &agent.id))
                    .collect(),
            )
            .await?;
        for moved in before.iter().filter(|was| {
            agents
                .iter()
                .any(|agent| agent.id == was.id && agent.group != was.group)
        }) {
            let (pk, sk) = keys::group_agent(&tenant.id, &moved.group, &moved.id);
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .send()
                .await
                .map_err(fail)?;
        }
        let mut items = Vec::new();
        for agent in agents {
            items.push(Item::record_item(
                keys::agent(&tenant.id, &agent.id),
                agent,
            )?);
            items.push(Item::record_item(
                keys::group_agent(&tenant.id, &agent.group, &agent.id),
                &agent.id,
            )?);
        }
        self.put_many(items).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.query(keys::TENANTS_PK, "T#")
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError> {
        self.get_record(keys::agent(tenant, id)).await
    }

    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError> {
        self.query(&keys::tenant_pk(tenant), keys::AGENT_PREFIX)
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError> {
        let (pk, _) = keys::group_agent(tenant, group, &AgentId::from(""));
        let ids: Vec<AgentId> = self
            .query(&pk, keys::AGENT_PREFIX)
            .await?
            .iter()
            .map(Item::record)
            .collect::<Result<_, _>>()?;
        self.get_many(ids.iter().map(|id| keys::agent(tenant, id)).collect())
            .await
    }

    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        self.get_many(ids.iter().map(|id| keys::agent(tenant, id)).collect())
            .await
    }

    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError> {
        // The record is one JSON document: read, change, write back if unchanged.
        for _ in 0..RACE_RETRIES {
            let Some(item) = self.get(keys::agent(tenant, id)).await? else {
                return Ok(None);
            };
            let before = item.data().unwrap_or_default().to_owned();
            let mut agent: Agent = item.record()?;
            agent.state = state;
            agent.state_since = since;
            let written = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(Item::record_item(keys::agent(tenant, id), &agent)?))
                .condition_expression("#data = :before")
                .expression_attribute_names("#data", keys::DATA)
                .expression_attribute_values(":before", s(&before))
                .send()
                .await;
            match written {
                Ok(_) => return Ok(Some(agent)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    continue;
                }
                Err(e) => return Err(fail(e)),
            }
        }
        Err(StoreError::retryable(
            "the agent changed too often to update",
        ))
    }
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let expires = ticket.expires_at / 1000 + 60;
        self.put(
            Item::record_item(keys::ticket(&ticket.id), ticket)?
                .with_number(keys::EXPIRES, expires),
        )
        .await
    }

    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let (pk, sk) = keys::ticket(id);
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(fail)?;
        out.attributes.map(|a| Item(a).record()).transpose()
    }
}

#[async_trait]
impl ConnectionStore for DynamoStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let expires = connection.connected_at / 1000 + CONNECTION_TTL_SECONDS;
        let by_id = Item::record_item(keys::connection(&connection.id.0), connection)?
            .with_number(keys::EXPIRES, expires);
        let mut indexes = Vec::new();
        for key in connection_index_keys(connection) {
            indexes.push(Item::record_item(key, connection)?.with_number(keys::EXPIRES, expires));
        }
        // The indexes first (one batch), then the record: a crash between them leaves at
        // worst index entries whose pushes come back Gone until their TTL removes them,
        // never a connection that pushes cannot find. Cheaper than a transaction, too.
        self.put_many(indexes).await?;
        let (pk, sk) = keys::connection_set(&connection.tenant, &connection.agent);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #conns :id")
            .expression_attribute_names("#conns", keys::CONNS)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![connection.id.0.clone()]))
            .send()
            .await
            .map_err(fail)?;
        self.put(by_id).await
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let Some(connection) = self
            .get_record::<Connection>(keys::connection(&id.0))
            .await?
        else {
            return Ok(None);
        };
        let mut deletes = vec![self.delete_item(keys::connection(&id.0))?];
        for key in connection_index_keys(&connection) {
            deletes.push(self.delete_item(key)?);
        }
        let (pk, sk) = keys::connection_set(&connection.tenant, &connection.agent);
        let forget = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("DELETE #conns :id")
            .expression_attribute_names("#conns", keys::CONNS)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![id.0.clone()]))
            .build()
            .map_err(fail)?;
        deletes.push(TransactWriteItem::builder().update(forget).build());
        let deleted = self.transact(deletes, 0).await?;
        if !deleted {
            // No condition: another transaction held one of the items.
            return Err(StoreError::retryable(
                "the connection is being changed; try again",
            ));
        }
        Ok(Some(connection))
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.get_record(keys::connection(&id.0)).await
    }

    async fn connections_in_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Connection>, StoreError> {
        self.query(&keys::connections_pk(tenant), "A#")
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError> {
        let pk = keys::connections_pk(tenant);
        // A supervisor's connection is under her group too: each once, by id.
        let mut seeing: BTreeMap<ConnectionId, Connection> = BTreeMap::new();
        for prefix in [
            keys::group_connections_prefix(group),
            keys::SUPERVISOR_CONNECTIONS_PREFIX.to_owned(),
        ] {
            for item in self.query(&pk, &prefix).await? {
                let connection: Connection = item.record()?;
                seeing.insert(connection.id.clone(), connection);
            }
        }
        Ok(seeing.into_values().collect())
    }

    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        let mut due: Vec<Connection> = Vec::new();
        for shard in 0..keys::CHECK_SHARDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk <= :until")
                .expression_attribute_values(":pk", s(&keys::checks_pk(shard)))
                .expression_attribute_values(":until", s(&keys::check_until(now)))
                .set_limit(i32::try_from(limit).ok())
                .send()
                .await
                .map_err(fail)?;
            for item in out.items.unwrap_or_default() {
                due.push(Item(item).record()?);
            }
        }
        due.sort_by(|a, b| (a.check_at, &a.id).cmp(&(b.check_at, &b.id)));
        due.truncate(limit);
        Ok(due)
    }

    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError> {
        let moved = Connection {
            check_at: at,
            ..connection.clone()
        };
        let expires = connection.connected_at / 1000 + CONNECTION_TTL_SECONDS;
        let record = Item::record_item(keys::connection(&connection.id.0), &moved)?
            .with_number(keys::EXPIRES, expires);
        let mut items = vec![self.put_item(record, Some("attribute_exists(pk)"), &[])?];
        let (old, new) = (
            keys::connection_check(&connection.id.0, connection.check_at),
            keys::connection_check(&connection.id.0, at),
        );
        if old != new {
            items.push(self.delete_item(old)?);
            items.push(self.put_item(
                Item::record_item(new, &moved)?.with_number(keys::EXPIRES, expires),
                None,
                &[],
            )?);
        }
        self.transact(items, 0).await
    }

    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        Ok(self
            .get(keys::connection_set(tenant, agent))
            .await?
            .map(|set| set.strings(keys::CONNS))
            .unwrap_or_default()
            .into_iter()
            .map(ConnectionId)
            .collect())
    }
}

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
        let listed = self
            .query_page(
                &keys::started_pk(tenant, index),
                keys::STARTED_PREFIX,
                after,
                limit,
            )
            .await?;
        self.chats_named(tenant, &listed).await
    }

    async fn open_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        after: Option<&ChatId>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let after = after.map(|chat| keys::open_chat(tenant, agent, chat).1);
        let listed = self
            .query_page(
                &keys::inbox_pk(tenant, agent),
                keys::OPEN_PREFIX,
                after,
                limit,
            )
            .await?;
        self.chats_named(tenant, &listed).await
    }

    async fn ended_chats_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        before: Option<&EndedCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let after = before.map(|at| keys::ended_chat(tenant, agent, at.ended_at, &at.chat).1);
        let listed = self
            .query_page(
                &keys::inbox_pk(tenant, agent),
                keys::ENDED_PREFIX,
                after,
                limit,
            )
            .await?;
        self.chats_named(tenant, &listed).await
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
            let Some((mut chat, version)) = self
                .chat_versioned(tenant, chat_id)
                .await?
                .filter(|(chat, _)| chat.has_participant(from))
            else {
                return Ok(Appended::NoSuchChat);
            };
            if chat.status == ChatStatus::Ended {
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
            if chat.status == ChatStatus::Ended {
                return Ok(Some(chat));
            }
            let before = chat.clone();
            chat.end(by, at);
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
            .map_err(fail)?;
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
            .map_err(fail)?;
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

#[async_trait]
impl LimitStore for DynamoStore {
    async fn allow(&self, limit_key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError> {
        let (pk, sk) = keys::limit(limit_key);
        let expires = (now + window_ms) / 1000 + 60;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #at = :now, #expires = :expires")
            .condition_expression("attribute_not_exists(#at) OR #at <= :before")
            .expression_attribute_names("#at", keys::AT)
            .expression_attribute_names("#expires", keys::EXPIRES)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(
                ":before",
                AttributeValue::N((now - window_ms).to_string()),
            )
            .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        granted(update)
    }

    /// One conditional UpdateItem on the window's own item (the window is part of its
    /// key, so a new window needs no reset): add one unless the count has reached the
    /// quota. The item expires a minute after its window.
    async fn take(&self, limit_key: &str, quota: Quota, now: i64) -> Result<bool, StoreError> {
        let (window, ends) = quota.window(now);
        let (pk, sk) = keys::quota(limit_key, window);
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #count :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", keys::COUNT)
            .expression_attribute_names("#expires", keys::EXPIRES)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(quota.max.to_string()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((ends / 1000 + 60).to_string()),
            )
            .send()
            .await;
        granted(update)
    }
}

/// The index items of a connection: by its agent, by her group, and among the
/// supervisors' if she is one.
fn connection_index_keys(connection: &Connection) -> Vec<(String, String)> {
    let (tenant, id) = (&connection.tenant, connection.id.0.as_str());
    let mut out = vec![
        keys::agent_connection(tenant, &connection.agent, id),
        keys::connection_check(id, connection.check_at),
    ];
    if let Some(group) = &connection.group {
        out.push(keys::group_connection(tenant, group, id));
    }
    if connection.supervisor {
        out.push(keys::supervisor_connection(tenant, id));
    }
    out
}

/// Whether a conditional update went through: `false` when its condition refused it.
fn granted<R>(
    update: Result<
        R,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<bool, StoreError> {
    match update {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(fail(e)),
    }
}
