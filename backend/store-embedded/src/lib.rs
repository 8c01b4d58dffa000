//! The embedded store: the store port over [redb], a persistent, transactional key-value
//! file. The local server's default: its data survives restarts, and every write is
//! durable before the call returns, so nothing acknowledged is lost: its changes are
//! synced as one record of a journal beside the file (see [`journal`]) before redb has
//! them. A write alone commits at once; writes that come while one commits are committed
//! together by the writer thread, sharing one sync (see [`writer`]).
//!
//! Keys join ids with the unit separator (U+001F), which no id may contain; a range over
//! a key prefix lists one agent's connections or chats.

mod audit;
mod chats;
mod connections;
mod directory;
mod help;
mod inbox;
mod keys;
mod limits;
mod tx;
mod writer;

use async_trait::async_trait;
use console_domain::model::{
    Agent, Chat, Connection, ConnectionId, Message, Tenant, Ticket, TranscriptRead,
};
use console_domain::ports::{
    Appended, Audience, AuditStore, ChatStore, ConnectionStore, DirectoryStore, EndedCursor,
    LimitStore, Quota, ReadCursor, StartedCursor, StartedIndex, StoreError, TicketStore,
};
use console_journal::{Change, Journal};
use inbox::{chats_listed, index_inboxes, update_inboxes};
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
pub use writer::WRITER_THREAD;
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
/// The audit trail of transcripts: each supervisor's read (see [`keys::read`]).
const READS: TableDefinition<&str, &[u8]> = TableDefinition::new("transcript_reads");
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
        name if name == READS.name() => apply(txn, READS, change),
        name if name == help::HELP.name() => apply(txn, help::HELP, change),
        name if name == help::HELP_WAITING.name() => apply(txn, help::HELP_WAITING, change),
        name if name == help::HANDS.name() => apply(txn, help::HANDS, change),
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
            txn.open_table(READS).map_err(fail)?;
            txn.open_table(help::HELP).map_err(fail)?;
            txn.open_table(help::HELP_WAITING).map_err(fail)?;
            txn.open_table(help::HANDS).map_err(fail)?;
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
        tables.insert(
            "transcript_reads",
            records(&txn.open_table(READS).map_err(fail)?)?,
        );
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

#[cfg(test)]
mod tests;
