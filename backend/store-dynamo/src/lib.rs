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

mod audit;
mod chats;
mod connections;
mod directory;
mod help;
mod item;
pub mod keys;
mod limits;

pub use item::create_table;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, PutRequest, ReturnValue, TransactWriteItem,
    Update, WriteRequest,
};
use console_domain::model::{
    Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket, TranscriptRead,
};
use console_domain::ports::{
    Appended, Audience, AuditStore, ChatStore, ConnectionStore, DirectoryStore, EndedCursor,
    LimitStore, Quota, ReadCursor, StartedCursor, StartedIndex, StoreError, TicketStore,
};
use item::{Item, ItemBuilder, fail, key, s, sdk_fail};
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
            .map_err(sdk_fail)?;
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
                .map_err(sdk_fail)?;
            items.extend(out.items.unwrap_or_default().into_iter().map(Item));
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(items)
    }

    /// A page of the chats an index lists: its items under `prefix` after `after`, then
    /// the chats they name (a Query and a BatchGetItem).
    async fn listed_chats(
        &self,
        tenant: &TenantId,
        pk: &str,
        prefix: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let listed = self.query_page(pk, prefix, after, limit).await?;
        self.chats_named(tenant, &listed).await
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
            .map_err(sdk_fail)?;
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
                    .map_err(sdk_fail)?;
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
                    .map_err(sdk_fail)?;
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
        Err(sdk_fail(error))
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
        Err(e) => Err(sdk_fail(e)),
    }
}
