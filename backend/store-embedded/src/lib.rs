//! The embedded store: the store port over [redb], a persistent, transactional key-value
//! file. The local server's default: its data survives restarts, and every write is
//! durable before the call returns, so nothing acknowledged is lost: its changes are
//! synced as one record of a journal beside the file (see [`journal`]) before redb has
//! them. A write alone commits at once; writes that come while one commits are committed
//! together by the writer thread, sharing one sync (see [`writer`]).
//!
//! Keys join ids with the unit separator (U+001F), which no id may contain; a range over
//! a key prefix lists one agent's connections or chats.

mod journal;
mod keys;
mod tx;
mod writer;

use async_trait::async_trait;
use console_domain::model::{Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket};
use console_domain::ports::{
    Appended, Audience, ChatStore, ConnectionStore, DirectoryStore, EndedCursor, LimitStore, Quota,
    StartedCursor, StartedIndex, StoreError, TicketStore,
};
use journal::{Change, Journal};
use protocol::{AgentId, AgentState, ChatId, ChatStatus, GroupId, TenantId};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tx::{Logged, Tx};
use writer::Writer;

const TENANTS: TableDefinition<&str, &[u8]> = TableDefinition::new("tenants");
const AGENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("agents");
const TICKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("tickets");
/// Where earlier versions kept connections (now in memory): dropped on start.
const CONNECTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("connections");
const AGENT_CONNECTIONS: TableDefinition<&str, ()> = TableDefinition::new("agent_connections");
const CHATS: TableDefinition<&str, &[u8]> = TableDefinition::new("chats");
/// Where earlier versions listed each agent's chats (now [`STARTED`]): dropped when the
/// file is indexed.
const AGENT_CHATS: TableDefinition<&str, ()> = TableDefinition::new("agent_chats");
/// Each tenant's agents by functional group: `tenant, group, agent`.
const GROUP_AGENTS: TableDefinition<&str, ()> = TableDefinition::new("group_agents");
/// Chats by start time, the latest first, per tenant, per participant and per
/// participant's group (see [`keys::started_chat`]): transcripts are listed from it.
const STARTED: TableDefinition<&str, ()> = TableDefinition::new("started");
const OPEN_PAIRS: TableDefinition<&str, &str> = TableDefinition::new("open_pairs");
const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("messages");
const SEND_KEYS: TableDefinition<&str, u64> = TableDefinition::new("send_keys");
/// Each agent's open chats: `tenant, agent, chat`.
const OPEN_CHATS: TableDefinition<&str, ()> = TableDefinition::new("open_chats");
/// Each agent's ended chats, the most recently ended first (see [`keys::ended_chat`]).
const ENDED_CHATS: TableDefinition<&str, ()> = TableDefinition::new("ended_chats");
/// Everyone each agent has had a chat with: `tenant, agent, partner`.
const PARTNERS: TableDefinition<&str, ()> = TableDefinition::new("partners");
/// Each agent's count of chats requiring her response.
const PENDING: TableDefinition<&str, u64> = TableDefinition::new("pending");
/// What the file holds beyond its tables: [`INBOX_VERSION_KEY`].
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Under [`META`]: the version of the inbox tables (open, ended, partners, pending,
/// started) the file's chats are indexed by. A file with an older one (or none) was
/// written before they existed: they are built from its chats once, when it is opened.
const INBOX_VERSION_KEY: &str = "inbox_version";
const INBOX_VERSION: u64 = 3;

/// How many tickets are issued between two sweeps of the expired ones.
const TICKET_SWEEP_EVERY: u64 = 256;
/// A ticket is swept once it expired this long before the newest one did (tickets all
/// live as long, so no clock is needed: the newest ticket's expiry is "now" plus that).
const TICKET_SWEEP_GRACE_MS: i64 = 60_000;
/// How many rate-limit checks pass between two sweeps of the keys not used for an hour.
const LIMIT_SWEEP_EVERY: u64 = 4096;
/// How long a rate-limit key is kept unused (far longer than any window).
const LIMIT_KEPT_MS: i64 = 3_600_000;

/// How many quota takes pass between two sweeps of finished windows.
const QUOTA_SWEEP_EVERY: u64 = 1024;

/// The store port over one redb file.
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// Tickets issued since the store opened, to sweep the expired ones now and then.
    tickets_issued: std::sync::atomic::AtomicU64,
    writer: Writer,
    /// Rate limits: in memory, as a restart may lose them (a quota's window is seconds).
    limits: Mutex<Limits>,
    /// The live connections: in memory, as no socket outlives the process that holds it.
    connections: Mutex<Connections>,
}

/// The live connections, by id and by agent.
#[derive(Debug, Default)]
struct Connections {
    by_id: HashMap<ConnectionId, Connection>,
    /// `tenant, agent, connection id` keys (see [`keys::agent_connection`]), in order, so
    /// that a prefix lists an agent's or a tenant's connections.
    of_agents: BTreeSet<String>,
    /// Keys by who the connections see: their agent's group
    /// ([`keys::group_connection`]) and, for a supervisor's, [`keys::supervisor_connection`].
    seeing: BTreeSet<String>,
    /// Each connection's next check ([`Connection::check_at`]), the earliest first.
    checks: BTreeSet<(i64, ConnectionId)>,
}

impl Connections {
    /// The `seeing` keys of a connection.
    fn seeing_keys(connection: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(group) = &connection.group {
            out.push(keys::group_connection(
                &connection.tenant,
                group,
                &connection.id,
            ));
        }
        if connection.supervisor {
            out.push(keys::supervisor_connection(
                &connection.tenant,
                &connection.id,
            ));
        }
        out
    }
}

impl Connections {
    /// The keys of `of_agents` that start with `prefix`.
    fn keys_under<'a>(&'a self, prefix: &str) -> impl Iterator<Item = &'a String> + 'a {
        under(&self.of_agents, prefix)
    }
}

/// The keys of `set` that start with `prefix`.
fn under<'a>(set: &'a BTreeSet<String>, prefix: &str) -> impl Iterator<Item = &'a String> + 'a {
    let end = keys::prefix_end(prefix);
    set.range::<str, _>((Bound::Included(prefix), Bound::Excluded(end.as_str())))
}

/// The state of the rate limits.
#[derive(Debug, Default)]
struct Limits {
    /// Per key: when an event was last allowed (ms), for [`LimitStore::allow`].
    last: HashMap<String, i64>,
    /// Per key: the end of the quota window being counted (ms) and its count so far.
    quotas: HashMap<String, (i64, u32)>,
    /// Quota takes so far, to sweep finished windows now and then: a connection's key
    /// outlives the connection, and a long-running local server must not grow for it.
    takes: u64,
    /// Checks of `last` so far, to sweep its keys now and then (one per agent and chat
    /// typed in: they would grow with the history).
    checks: u64,
}

/// Everything durable the store holds — the directory, chats, messages and send keys —
/// table by table, as text (keys with `/` between their parts, records as JSON).
/// Tickets, connections and rate limits, which a restart may lose, are left out. For
/// tests that check that nothing stored changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub tables: BTreeMap<&'static str, BTreeMap<String, String>>,
}

impl Snapshot {
    /// How many records it holds in all.
    pub fn len(&self) -> usize {
        self.tables.values().map(BTreeMap::len).sum()
    }

    /// True when it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each record added, removed or changed from `self` to `after`, one line each.
    pub fn differences(&self, after: &Snapshot) -> Vec<String> {
        let empty = BTreeMap::new();
        let names: std::collections::BTreeSet<&&str> =
            self.tables.keys().chain(after.tables.keys()).collect();
        let mut out = Vec::new();
        for name in names {
            let before = self.tables.get(*name).unwrap_or(&empty);
            let now = after.tables.get(*name).unwrap_or(&empty);
            for (key, value) in before {
                match now.get(key) {
                    None => out.push(format!("{name}: removed {key} = {value}")),
                    Some(changed) if changed != value => {
                        out.push(format!("{name}: changed {key} from {value} to {changed}"))
                    }
                    Some(_) => {}
                }
            }
            for (key, value) in now {
                if !before.contains_key(key) {
                    out.push(format!("{name}: added {key} = {value}"));
                }
            }
        }
        out
    }
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedStore")
    }
}

pub(crate) fn fail(error: impl std::fmt::Display) -> StoreError {
    StoreError::permanent(format!("embedded store: {error}"))
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(fail)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(fail)
}

fn read<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match table.get(key).map_err(fail)? {
        Some(guard) => decode(guard.value()).map(Some),
        None => Ok(None),
    }
}

fn write<T: Serialize>(
    table: &mut Logged<&'static str, &'static [u8]>,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    table.insert(key, encode(value)?.as_slice())
}

/// Makes one change of a journal record again, in the table it names.
fn apply_change(txn: &redb::WriteTransaction, change: &Change<'_>) -> Result<(), StoreError> {
    use tx::apply;
    match change.table() {
        name if name == TENANTS.name() => apply(txn, TENANTS, change),
        name if name == AGENTS.name() => apply(txn, AGENTS, change),
        name if name == TICKETS.name() => apply(txn, TICKETS, change),
        name if name == CHATS.name() => apply(txn, CHATS, change),
        name if name == AGENT_CHATS.name() => apply(txn, AGENT_CHATS, change),
        name if name == OPEN_PAIRS.name() => apply(txn, OPEN_PAIRS, change),
        name if name == MESSAGES.name() => apply(txn, MESSAGES, change),
        name if name == SEND_KEYS.name() => apply(txn, SEND_KEYS, change),
        name if name == OPEN_CHATS.name() => apply(txn, OPEN_CHATS, change),
        name if name == ENDED_CHATS.name() => apply(txn, ENDED_CHATS, change),
        name if name == PARTNERS.name() => apply(txn, PARTNERS, change),
        name if name == PENDING.name() => apply(txn, PENDING, change),
        name if name == STARTED.name() => apply(txn, STARTED, change),
        name if name == GROUP_AGENTS.name() => apply(txn, GROUP_AGENTS, change),
        other => Err(StoreError::permanent(format!(
            "embedded store: its journal changes a table this version does not have: {other}"
        ))),
    }
}

/// The message stored under a send key, if any.
fn sent(
    send_keys: &impl ReadableTable<&'static str, u64>,
    messages: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    chat_key: &str,
    send_key: &str,
) -> Result<Option<Message>, StoreError> {
    let Some(seq) = send_keys.get(send_key).map_err(fail)?.map(|g| g.value()) else {
        return Ok(None);
    };
    let stored = messages
        .get((chat_key, seq))
        .map_err(fail)?
        .ok_or_else(|| fail("a send key points at a missing message"))?;
    decode(stored.value()).map(Some)
}

/// The records under a key prefix of a `&str`-keyed table.
fn values_under<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
) -> Result<Vec<T>, StoreError> {
    let end = keys::prefix_end(prefix);
    let mut out = Vec::new();
    for entry in table.range(prefix..end.as_str()).map_err(fail)? {
        let (_, value) = entry.map_err(fail)?;
        out.push(decode(value.value())?);
    }
    Ok(out)
}

/// The keys under a prefix of a `&str`-keyed index, with the prefix removed.
fn suffixes_under(
    table: &impl ReadableTable<&'static str, ()>,
    prefix: &str,
) -> Result<Vec<String>, StoreError> {
    let end = keys::prefix_end(prefix);
    let mut out = Vec::new();
    for entry in table.range(prefix..end.as_str()).map_err(fail)? {
        let (key, _) = entry.map_err(fail)?;
        out.push(key.value()[prefix.len()..].to_owned());
    }
    Ok(out)
}

/// Keeps both participants' inboxes in step with a chat that changes from `before`
/// (`None`: it is new) to `after`, in the transaction that changes it: its place among
/// their open and ended chats, their partners, and their counts of pending chats.
fn update_inboxes(tx: &Tx<'_>, before: Option<&Chat>, after: &Chat) -> Result<(), StoreError> {
    let tenant = &after.tenant;
    if before.is_none() {
        let mut started = tx.open(STARTED)?;
        for index in started_indexes(after) {
            let key = keys::started_chat(tenant, &index, after.started_at, &after.id);
            started.insert(key.as_str(), ())?;
        }
        let mut open = tx.open(OPEN_CHATS)?;
        let mut partners = tx.open(PARTNERS)?;
        for agent in after.participants() {
            open.insert(keys::agent_chat(tenant, agent, &after.id).as_str(), ())?;
            let partner = keys::agent_chat(tenant, agent, &after.other(agent).as_str().into());
            partners.insert(partner.as_str(), ())?;
        }
    }
    let was_open = before.is_none_or(|chat| chat.status == ChatStatus::Open);
    if was_open && after.status == ChatStatus::Ended {
        let mut open = tx.open(OPEN_CHATS)?;
        let mut ended = tx.open(ENDED_CHATS)?;
        let at = after.ended_at.unwrap_or(0);
        for agent in after.participants() {
            open.remove(keys::agent_chat(tenant, agent, &after.id).as_str())?;
            ended.insert(keys::ended_chat(tenant, agent, at, &after.id).as_str(), ())?;
        }
    }
    let changes = after.pending_changes(before);
    if !changes.is_empty() {
        let mut pending = tx.open(PENDING)?;
        for (agent, change) in changes {
            let key = keys::pending(tenant, &agent);
            let count = pending
                .get(key.as_str())
                .map_err(fail)?
                .map_or(0, |v| v.value());
            pending.insert(key.as_str(), count.saturating_add_signed(change))?;
        }
    }
    Ok(())
}

/// The indexes by start time that list `chat`: its tenant's, each participant's and
/// each participant's group's.
fn started_indexes(chat: &Chat) -> Vec<StartedIndex> {
    let mut indexes = vec![StartedIndex::Tenant];
    indexes.extend(
        chat.participants()
            .map(|agent| StartedIndex::Agent(agent.clone())),
    );
    indexes.extend(
        chat.groups()
            .into_iter()
            .map(|group| StartedIndex::Group(group.clone())),
    );
    indexes
}

/// Builds the inbox tables from every chat of a file written before they existed (once,
/// on opening it, before it serves anyone). A chat stored before its participants'
/// groups were kept gets the groups they are in now.
fn index_inboxes(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let chats: Vec<Chat> = {
        let table = txn.open_table(CHATS).map_err(fail)?;
        let agents = txn.open_table(AGENTS).map_err(fail)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(fail)? {
            let mut chat: Chat = decode(entry.map_err(fail)?.1.value())?;
            for side in &mut chat.sides {
                if side.group.is_none() {
                    let agent: Option<Agent> =
                        read(&agents, &keys::agent(&chat.tenant, &side.agent))?;
                    side.group = agent.map(|agent| agent.group);
                }
            }
            out.push(chat);
        }
        out
    };
    {
        let mut table = txn.open_table(CHATS).map_err(fail)?;
        let mut started = txn.open_table(STARTED).map_err(fail)?;
        for chat in &chats {
            table
                .insert(
                    keys::chat(&chat.tenant, &chat.id).as_str(),
                    encode(chat)?.as_slice(),
                )
                .map_err(fail)?;
            for index in started_indexes(chat) {
                let key = keys::started_chat(&chat.tenant, &index, chat.started_at, &chat.id);
                started.insert(key.as_str(), ()).map_err(fail)?;
            }
        }
    }
    txn.delete_table(AGENT_CHATS).map_err(fail)?;
    {
        let agents = txn.open_table(AGENTS).map_err(fail)?;
        let mut groups = txn.open_table(GROUP_AGENTS).map_err(fail)?;
        for entry in agents.iter().map_err(fail)? {
            let agent: Agent = decode(entry.map_err(fail)?.1.value())?;
            let key = keys::group_agent(&agent.tenant, &agent.group, &agent.id);
            groups.insert(key.as_str(), ()).map_err(fail)?;
        }
    }
    let mut open = txn.open_table(OPEN_CHATS).map_err(fail)?;
    let mut ended = txn.open_table(ENDED_CHATS).map_err(fail)?;
    let mut partners = txn.open_table(PARTNERS).map_err(fail)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for chat in &chats {
        for agent in chat.participants() {
            let key = keys::agent_chat(&chat.tenant, agent, &chat.id);
            match chat.ended_at {
                Some(at) if chat.status == ChatStatus::Ended => {
                    let key = keys::ended_chat(&chat.tenant, agent, at, &chat.id);
                    ended.insert(key.as_str(), ()).map_err(fail)?;
                }
                _ => {
                    open.insert(key.as_str(), ()).map_err(fail)?;
                }
            }
            let partner = keys::agent_chat(&chat.tenant, agent, &chat.other(agent).as_str().into());
            partners.insert(partner.as_str(), ()).map_err(fail)?;
            if chat.pending_for(agent) {
                *counts
                    .entry(keys::pending(&chat.tenant, agent))
                    .or_default() += 1;
            }
        }
    }
    let mut pending = txn.open_table(PENDING).map_err(fail)?;
    for (key, count) in counts {
        pending.insert(key.as_str(), count).map_err(fail)?;
    }
    Ok(())
}

/// The chats named by an index's keys under `prefix`, from the first key after `from`,
/// at most `limit`; each key's last part is the chat's id.
fn chats_listed(
    txn: &redb::ReadTransaction,
    index: TableDefinition<&str, ()>,
    tenant: &TenantId,
    prefix: &str,
    from: Option<&str>,
    limit: usize,
) -> Result<Vec<Chat>, StoreError> {
    let index = txn.open_table(index).map_err(fail)?;
    let chats = txn.open_table(CHATS).map_err(fail)?;
    let end = keys::prefix_end(prefix);
    let start = from.map_or(Bound::Included(prefix), Bound::Excluded);
    let mut out = Vec::new();
    for entry in index
        .range::<&str>((start, Bound::Excluded(end.as_str())))
        .map_err(fail)?
        .take(limit)
    {
        let (key, _) = entry.map_err(fail)?;
        let id = key
            .value()
            .rsplit(keys::SEP)
            .next()
            .unwrap_or_default()
            .to_owned();
        if let Some(chat) = read(&chats, &keys::chat(tenant, &id.as_str().into()))? {
            out.push(chat);
        }
    }
    Ok(out)
}

impl EmbeddedStore {
    /// Opens (or creates) the store file at `path`, creating every table.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Arc::new(Database::create(path).map_err(fail)?);
        let mut journal_path = path.as_os_str().to_owned();
        journal_path.push(".journal");
        let (mut journal, unapplied) = Journal::open(Path::new(&journal_path)).map_err(|e| {
            StoreError::permanent(format!(
                "embedded store: cannot open its journal {}: {e}",
                Path::new(&journal_path).display()
            ))
        })?;
        // What was committed since the last checkpoint before a crash: applied again and
        // made durable here, so the journal can start over.
        let txn = db.begin_write().map_err(fail)?;
        for payload in &unapplied {
            tx::replay(&txn, payload, apply_change)?;
        }
        txn.commit().map_err(fail)?;
        journal.restart();
        let store = EmbeddedStore {
            writer: Writer::start(db.clone(), journal)?,
            db,
            tickets_issued: Default::default(),
            limits: Mutex::default(),
            connections: Mutex::default(),
        };
        store.write_now(|txn| {
            txn.open_table(TENANTS).map_err(fail)?;
            txn.open_table(AGENTS).map_err(fail)?;
            txn.open_table(TICKETS).map_err(fail)?;
            txn.open_table(CHATS).map_err(fail)?;
            txn.open_table(STARTED).map_err(fail)?;
            txn.open_table(GROUP_AGENTS).map_err(fail)?;
            txn.open_table(OPEN_PAIRS).map_err(fail)?;
            txn.open_table(MESSAGES).map_err(fail)?;
            txn.open_table(SEND_KEYS).map_err(fail)?;
            txn.open_table(OPEN_CHATS).map_err(fail)?;
            txn.open_table(ENDED_CHATS).map_err(fail)?;
            txn.open_table(PARTNERS).map_err(fail)?;
            txn.open_table(PENDING).map_err(fail)?;
            let mut meta = txn.open_table(META).map_err(fail)?;
            let indexed = meta
                .get(INBOX_VERSION_KEY)
                .map_err(fail)?
                .map(|v| v.value());
            if indexed != Some(INBOX_VERSION) {
                index_inboxes(txn)?;
                meta.insert(INBOX_VERSION_KEY, INBOX_VERSION)
                    .map_err(fail)?;
            }
            Ok(())
        })?;
        Ok(store)
    }

    /// Everything durable the store holds now (see [`Snapshot`]), read in one
    /// transaction.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        fn text(key: &str) -> String {
            key.replace(keys::SEP, "/")
        }
        fn records(
            table: &impl ReadableTable<&'static str, &'static [u8]>,
        ) -> Result<BTreeMap<String, String>, StoreError> {
            let mut out = BTreeMap::new();
            for entry in table.iter().map_err(fail)? {
                let (key, value) = entry.map_err(fail)?;
                out.insert(
                    text(key.value()),
                    String::from_utf8_lossy(value.value()).into_owned(),
                );
            }
            Ok(out)
        }
        fn index(
            table: &impl ReadableTable<&'static str, ()>,
        ) -> Result<BTreeMap<String, String>, StoreError> {
            let mut out = BTreeMap::new();
            for entry in table.iter().map_err(fail)? {
                let (key, _) = entry.map_err(fail)?;
                out.insert(text(key.value()), String::new());
            }
            Ok(out)
        }
        let txn = self.read_txn()?;
        let mut tables = BTreeMap::new();
        tables.insert("tenants", records(&txn.open_table(TENANTS).map_err(fail)?)?);
        tables.insert("agents", records(&txn.open_table(AGENTS).map_err(fail)?)?);
        tables.insert("chats", records(&txn.open_table(CHATS).map_err(fail)?)?);
        for (name, table) in [
            ("started", STARTED),
            ("open_chats", OPEN_CHATS),
            ("ended_chats", ENDED_CHATS),
            ("partners", PARTNERS),
        ] {
            tables.insert(name, index(&txn.open_table(table).map_err(fail)?)?);
        }
        let mut pending = BTreeMap::new();
        for entry in txn
            .open_table(PENDING)
            .map_err(fail)?
            .iter()
            .map_err(fail)?
        {
            let (key, value) = entry.map_err(fail)?;
            pending.insert(text(key.value()), value.value().to_string());
        }
        tables.insert("pending", pending);
        let mut pairs = BTreeMap::new();
        for entry in txn
            .open_table(OPEN_PAIRS)
            .map_err(fail)?
            .iter()
            .map_err(fail)?
        {
            let (key, value) = entry.map_err(fail)?;
            pairs.insert(text(key.value()), value.value().to_owned());
        }
        tables.insert("open_pairs", pairs);
        let mut messages = BTreeMap::new();
        for entry in txn
            .open_table(MESSAGES)
            .map_err(fail)?
            .iter()
            .map_err(fail)?
        {
            let (key, value) = entry.map_err(fail)?;
            let (chat, seq) = key.value();
            messages.insert(
                format!("{}/{seq:020}", text(chat)),
                String::from_utf8_lossy(value.value()).into_owned(),
            );
        }
        tables.insert("messages", messages);
        let mut send_keys = BTreeMap::new();
        for entry in txn
            .open_table(SEND_KEYS)
            .map_err(fail)?
            .iter()
            .map_err(fail)?
        {
            let (key, value) = entry.map_err(fail)?;
            send_keys.insert(text(key.value()), value.value().to_string());
        }
        tables.insert("send_keys", send_keys);
        Ok(Snapshot { tables })
    }

    /// Runs `f` in a transaction of its own on the calling thread and commits it
    /// durably: for opening and resetting the store, before it serves anyone.
    fn write_now<R>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        // A transaction left to commit holds redb's write lock.
        self.writer.wait_committed();
        let txn = self.db.begin_write().map_err(fail)?;
        let result = f(&txn)?;
        txn.commit().map_err(fail)?;
        Ok(result)
    }

    /// Runs `f` in the writer's next group commit; answers once it is on disk.
    async fn durably<R: Send + 'static>(
        &self,
        f: impl Fn(&Tx<'_>) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.writer.write(true, f).await
    }

    /// Runs `f` in the writer's next group commit, without waiting for the disk unless
    /// another write of that commit does: for what a crash may lose (tickets), never
    /// for messages.
    async fn volatile<R: Send + 'static>(
        &self,
        f: impl Fn(&Tx<'_>) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.writer.write(false, f).await
    }

    /// A read of everything answered so far (a write answered a moment ago may still be
    /// on its way into redb: the read waits for it).
    fn read_txn(&self) -> Result<redb::ReadTransaction, StoreError> {
        self.writer.wait_committed();
        self.db.begin_read().map_err(fail)
    }

    fn get_chat(&self, tenant: &TenantId, id: &ChatId) -> Result<Option<Chat>, StoreError> {
        let txn = self.read_txn()?;
        read(
            &txn.open_table(CHATS).map_err(fail)?,
            &keys::chat(tenant, id),
        )
    }

    /// Forgets every connection, for the emulator on start (no socket survives a restart
    /// of the local server).
    pub fn clear_connections(&self) -> Result<(), StoreError> {
        *self.connections() = Connections::default();
        // Files of earlier versions kept connections on disk: drop those tables.
        self.write_now(|txn| {
            txn.delete_table(CONNECTIONS).map_err(fail)?;
            txn.delete_table(AGENT_CONNECTIONS).map_err(fail)?;
            Ok(())
        })
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl DirectoryStore for EmbeddedStore {
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError> {
        let (tenant, agents) = (tenant.clone(), agents.to_vec());
        self.durably(move |tx| {
            write(&mut tx.open(TENANTS)?, tenant.id.as_str(), &tenant)?;
            let mut table = tx.open(AGENTS)?;
            let mut groups = tx.open(GROUP_AGENTS)?;
            for agent in &agents {
                let key = keys::agent(&tenant.id, &agent.id);
                if let Some(before) = read::<Agent>(&*table, &key)? {
                    groups
                        .remove(keys::group_agent(&tenant.id, &before.group, &agent.id).as_str())?;
                }
                write(&mut table, &key, agent)?;
                groups.insert(
                    keys::group_agent(&tenant.id, &agent.group, &agent.id).as_str(),
                    (),
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let txn = self.read_txn()?;
        let table = txn.open_table(TENANTS).map_err(fail)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(fail)? {
            let (_, value) = entry.map_err(fail)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }

    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError> {
        let txn = self.read_txn()?;
        read(
            &txn.open_table(AGENTS).map_err(fail)?,
            &keys::agent(tenant, id),
        )
    }

    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError> {
        let txn = self.read_txn()?;
        values_under(
            &txn.open_table(AGENTS).map_err(fail)?,
            &keys::tenant_prefix(tenant),
        )
    }

    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError> {
        let txn = self.read_txn()?;
        let ids = suffixes_under(
            &txn.open_table(GROUP_AGENTS).map_err(fail)?,
            &keys::group_agents_prefix(tenant, group),
        )?;
        let agents = txn.open_table(AGENTS).map_err(fail)?;
        let mut found = Vec::new();
        for id in ids {
            found.extend(read::<Agent>(
                &agents,
                &keys::agent(tenant, &id.as_str().into()),
            )?);
        }
        Ok(found)
    }

    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError> {
        let txn = self.read_txn()?;
        let agents = txn.open_table(AGENTS).map_err(fail)?;
        let mut found = Vec::new();
        for id in ids {
            found.extend(read::<Agent>(&agents, &keys::agent(tenant, id))?);
        }
        Ok(found)
    }

    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let key = keys::agent(tenant, id);
        self.durably(move |tx| {
            let mut table = tx.open(AGENTS)?;
            let Some(mut agent) = read::<Agent>(&*table, &key)? else {
                return Ok(None);
            };
            agent.state = state;
            agent.state_since = since;
            write(&mut table, &key, &agent)?;
            Ok(Some(agent))
        })
        .await
    }
}

#[async_trait]
impl TicketStore for EmbeddedStore {
    /// Stores a ticket; every [`TICKET_SWEEP_EVERY`] tickets, the expired ones (issued
    /// and never used) are removed in the same write, so unused tickets never pile up.
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let ticket = ticket.clone();
        let issued = self
            .tickets_issued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sweep = (issued + 1).is_multiple_of(TICKET_SWEEP_EVERY);
        self.volatile(move |tx| {
            let mut table = tx.open(TICKETS)?;
            if sweep {
                let mut expired = Vec::new();
                for entry in table.iter().map_err(fail)? {
                    let (id, value) = entry.map_err(fail)?;
                    let stored: Ticket = decode(value.value())?;
                    // Issued at the same time as this one, with the same lifetime: any
                    // that expires before it has been expired for a while.
                    if stored.expires_at < ticket.expires_at - TICKET_SWEEP_GRACE_MS {
                        expired.push(id.value().to_owned());
                    }
                }
                for id in expired {
                    table.remove(id.as_str())?;
                }
            }
            write(&mut table, &ticket.id, &ticket)
        })
        .await
    }

    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let id = id.to_owned();
        self.volatile(move |tx| {
            let mut table = tx.open(TICKETS)?;
            let removed = table.remove(id.as_str())?;
            match removed {
                Some(guard) => decode(guard.value()).map(Some),
                None => Ok(None),
            }
        })
        .await
    }
}

#[async_trait]
impl ConnectionStore for EmbeddedStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let mut live = self.connections();
        live.of_agents.insert(keys::agent_connection(
            &connection.tenant,
            &connection.agent,
            &connection.id,
        ));
        live.seeing.extend(Connections::seeing_keys(connection));
        live.checks
            .insert((connection.check_at, connection.id.clone()));
        if let Some(before) = live.by_id.insert(connection.id.clone(), connection.clone()) {
            live.checks.remove(&(before.check_at, before.id));
            live.checks
                .insert((connection.check_at, connection.id.clone()));
        }
        Ok(())
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let mut live = self.connections();
        let removed = live.by_id.remove(id);
        if let Some(connection) = &removed {
            live.of_agents.remove(&keys::agent_connection(
                &connection.tenant,
                &connection.agent,
                id,
            ));
            for key in Connections::seeing_keys(connection) {
                live.seeing.remove(&key);
            }
            live.checks.remove(&(connection.check_at, id.clone()));
        }
        Ok(removed)
    }

    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        let live = self.connections();
        Ok(live
            .checks
            .iter()
            .take_while(|(at, _)| *at <= now)
            .take(limit)
            .filter_map(|(_, id)| live.by_id.get(id).cloned())
            .collect())
    }

    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError> {
        let mut live = self.connections();
        let Some(held) = live.by_id.get_mut(&connection.id) else {
            return Ok(false);
        };
        let before = std::mem::replace(&mut held.check_at, at);
        live.checks.remove(&(before, connection.id.clone()));
        live.checks.insert((at, connection.id.clone()));
        Ok(true)
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        Ok(self.connections().by_id.get(id).cloned())
    }

    async fn connections_in_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Connection>, StoreError> {
        let live = self.connections();
        let prefix = keys::tenant_prefix(tenant);
        Ok(live
            .keys_under(&prefix)
            .filter_map(|key| {
                let (_, id) = key.rsplit_once(keys::SEP)?;
                live.by_id.get(&ConnectionId(id.to_owned())).cloned()
            })
            .collect())
    }

    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError> {
        let live = self.connections();
        let mut ids: BTreeSet<&str> = BTreeSet::new();
        for prefix in [
            keys::group_connections_prefix(tenant, group),
            keys::supervisor_connections_prefix(tenant),
        ] {
            ids.extend(under(&live.seeing, &prefix).map(|key| &key[prefix.len()..]));
        }
        Ok(ids
            .into_iter()
            .filter_map(|id| live.by_id.get(&ConnectionId(id.to_owned())).cloned())
            .collect())
    }

    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let live = self.connections();
        let prefix = keys::agent_prefix(tenant, agent);
        Ok(live
            .keys_under(&prefix)
            .map(|key| ConnectionId(key[prefix.len()..].to_owned()))
            .collect())
    }
}

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
            let Some(mut chat) =
                read::<Chat>(&*chats, &chat_key)?.filter(|chat| chat.has_participant(&from))
            else {
                return Ok(Appended::NoSuchChat);
            };
            let mut send_keys = tx.open(SEND_KEYS)?;
            let mut messages = tx.open(MESSAGES)?;
            if let Some(message) = sent(&*send_keys, &*messages, &chat_key, &send_key)? {
                return Ok(Appended::Duplicate { chat, message });
            }
            if chat.status == ChatStatus::Ended {
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
            if chat.status == ChatStatus::Open {
                let before = chat.clone();
                chat.end(&by, at);
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

impl EmbeddedStore {
    fn limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl LimitStore for EmbeddedStore {
    async fn allow(&self, key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError> {
        let mut limits = self.limits();
        limits.checks += 1;
        if limits.checks.is_multiple_of(LIMIT_SWEEP_EVERY) {
            limits.last.retain(|_, last| now - *last < LIMIT_KEPT_MS);
        }
        if limits
            .last
            .get(key)
            .is_some_and(|last| now - last < window_ms)
        {
            return Ok(false);
        }
        limits.last.insert(key.to_owned(), now);
        Ok(true)
    }

    async fn take(&self, key: &str, quota: Quota, now: i64) -> Result<bool, StoreError> {
        let (_, ends) = quota.window(now);
        let mut limits = self.limits();
        limits.takes += 1;
        if limits.takes.is_multiple_of(QUOTA_SWEEP_EVERY) {
            limits.quotas.retain(|_, (window_end, _)| *window_end > now);
        }
        let count = match limits.quotas.get(key) {
            Some(&(window_end, count)) if window_end == ends => count,
            _ => 0,
        };
        if count >= quota.max {
            return Ok(false);
        }
        limits.quotas.insert(key.to_owned(), (ends, count + 1));
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
