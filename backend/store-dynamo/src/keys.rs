//! The only place that knows the table's key strings. One table, keys `pk` and `sk`:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | tenant | `TENANTS` | `T#{tenant}` |
//! | agent | `T#{tenant}` | `A#{agent}` |
//! | an agent under her group | `T#{tenant}#G#{group}#AGENTS` | `A#{agent}` |
//! | chat | `T#{tenant}` | `CHAT#{chat}` |
//! | open chat of a pair | `T#{tenant}` | `PAIR#{low}#{high}` |
//! | an agent's chat, by start time | `T#{tenant}#INBOX#{agent}` | `S#{newest first: 20 digits}#{chat}` |
//! | an agent's open chat | `T#{tenant}#INBOX#{agent}` | `OPEN#{chat}` |
//! | an agent's ended chat | `T#{tenant}#INBOX#{agent}` | `ENDED#{newest first: 20 digits}#{chat}` |
//! | an agent's partner | `T#{tenant}#INBOX#{agent}` | `P#{partner}` |
//! | an agent's counts | `T#{tenant}#INBOX#{agent}` | `COUNTS` |
//! | an agent's connections | `T#{tenant}#INBOX#{agent}` | `CONNS` |
//! | a tenant's chat, by start time | `T#{tenant}#STARTED` | `S#{newest first}#{chat}` |
//! | a group's chat, by start time | `T#{tenant}#G#{group}#STARTED` | `S#{newest first}#{chat}` |
//! | message | `T#{tenant}#CHAT#{chat}` | `M#{seq, 20 digits}` |
//! | send key (idempotency) | `T#{tenant}#CHAT#{chat}` | `K#{from}#{client_msg_id}` |
//! | connection | `CONN#{id}` | `CONN` |
//! | connection by its agent's group | `T#{tenant}#CONNS` | `G#{group}#C#{id}` |
//! | a supervisor's connection | `T#{tenant}#CONNS` | `S#C#{id}` |
//! | a connection's next check | `CHECKS#{0–3, by its id}` | `{check_at, 20 digits}#{id}` |
//! | ticket | `TICKET#{id}` | `TICKET` |
//! | rate limit | `LIMIT#{key}` | `LIMIT` |
//! | quota window | `QUOTA#{key}#W#{window}` | `QUOTA` |
//! | a supervisor's read of a transcript | `T#{tenant}#READS#{chat}` | `R#{at, 20 digits}#{id}` |
//! | help request (a question, a raised hand) | `T#{tenant}` | `HELP#{id}` |
//! | a waiting help request, by group / tenant-wide | `T#{tenant}#G#{group}#HELP` / `T#{tenant}#HELP` | `W#{asked_at, 20 digits}#{id}` |
//! | an agent's waiting hand | `T#{tenant}#INBOX#{agent}` | `HAND` |
//!
//! Access patterns of an inbox (`T#{tenant}#INBOX#{agent}`), each one Query or GetItem
//! whose cost follows the page asked for, never her history:
//!
//! - a page of the chats she takes part in, the latest started first (transcripts):
//!   `begins_with(sk, "S#")` with `Limit`, going on from `S#{newest first}#{chat}` of the
//!   last one before — as a tenant's and a group's chats are paged in their partitions;
//! - a page of her open chats, in id order: `begins_with(sk, "OPEN#")` with `Limit`, going
//!   on from `OPEN#{last chat of the page before}` (its `ExclusiveStartKey`);
//! - a page of her ended chats, the most recently ended first: `begins_with(sk, "ENDED#")`
//!   with `Limit`, going on from `ENDED#{newest first}#{chat}` of the last one before; the
//!   time is `i64::MAX - ended_at`, 20 digits, so ascending keys run from the latest;
//! - everyone she has had a chat with: `begins_with(sk, "P#")` (as many as her partners
//!   in the directory), or one of them: GetItem of `P#{other}`;
//! - her count of chats requiring her response: GetItem of `COUNTS`, a number attribute
//!   `pending` that the transaction changing a chat moves with `ADD pending :delta`;
//! - her connections: GetItem of `CONNS`, a string set `conns` (`ADD` as one connects,
//!   `DELETE` as it goes), apart from `COUNTS` so that connecting never meets a chat's
//!   transaction. A message's delivery reads both participants' `COUNTS`, `CONNS` and
//!   directory entries in one BatchGetItem.
//!
//! `S#`, `OPEN#` and `ENDED#` items hold the chat's id and `P#` items the partner's id
//! as their record (`data`). A chat's transactions keep all of them: opening it puts
//! `S#`, `OPEN#` and `P#` for both participants (and `S#` under the tenant and each
//! participant's group), ending it moves both from `OPEN#` to `ENDED#`.
//!
//! Ids never contain `#` where it could be mistaken for a separator: directory ids are
//! `a-z 0-9 . _ -`, chat and connection ids are generated, and a client message id (which
//! may hold any printable character) is only ever the last part of a key.

use console_domain::ports::StartedIndex;
use protocol::help::HelpId;
use protocol::{AgentId, ChatId, GroupId, TenantId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The record, as JSON.
pub const DATA: &str = "data";
/// A chat's write counter, for optimistic concurrency.
pub const VERSION: &str = "version";
/// When DynamoDB's TTL removes the item (seconds since the epoch).
pub const EXPIRES: &str = "expires";
/// A rate limit's last allowed time (ms).
pub const AT: &str = "at";
/// A quota window's count of events.
pub const COUNT: &str = "count";
/// A send key's sequence number.
pub const SEQ: &str = "seq";
/// An inbox's count of chats requiring the agent's response.
pub const PENDING: &str = "pending";
/// The ids of an agent's connections (a string set).
pub const CONNS: &str = "conns";

/// The partition of the tenant list.
pub const TENANTS_PK: &str = "TENANTS";

pub fn tenant(tenant: &TenantId) -> (String, String) {
    (TENANTS_PK.into(), format!("T#{tenant}"))
}

pub fn tenant_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}")
}

pub fn agent(tenant: &TenantId, agent: &AgentId) -> (String, String) {
    (tenant_pk(tenant), format!("A#{agent}"))
}

pub const AGENT_PREFIX: &str = "A#";

/// An agent under her functional group (its record is her id): a Query of the partition
/// lists the group, a BatchGetItem reads their entries.
pub fn group_agent(tenant: &TenantId, group: &GroupId, agent: &AgentId) -> (String, String) {
    (
        format!("T#{tenant}#G#{group}#AGENTS"),
        format!("{AGENT_PREFIX}{agent}"),
    )
}

pub fn chat(tenant: &TenantId, chat: &ChatId) -> (String, String) {
    (tenant_pk(tenant), format!("CHAT#{chat}"))
}

pub fn pair(tenant: &TenantId, a: &AgentId, b: &AgentId) -> (String, String) {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    (tenant_pk(tenant), format!("PAIR#{low}#{high}"))
}

pub const STARTED_PREFIX: &str = "S#";

/// The partition of an index of chats by start time.
pub fn started_pk(tenant: &TenantId, index: &StartedIndex) -> String {
    match index {
        StartedIndex::Tenant => format!("T#{tenant}#STARTED"),
        StartedIndex::Agent(agent) => inbox_pk(tenant, agent),
        StartedIndex::Group(group) => format!("T#{tenant}#G#{group}#STARTED"),
    }
}

/// A chat in an index by start time: the latest started sorts first. With an empty
/// `chat`, the key before every chat started at `started_at`.
pub fn started_chat(
    tenant: &TenantId,
    index: &StartedIndex,
    started_at: i64,
    chat: &ChatId,
) -> (String, String) {
    (
        started_pk(tenant, index),
        format!("{STARTED_PREFIX}{}#{chat}", newest_first(started_at)),
    )
}

pub fn inbox_pk(tenant: &TenantId, agent: &AgentId) -> String {
    format!("T#{tenant}#INBOX#{agent}")
}

pub const OPEN_PREFIX: &str = "OPEN#";

/// One of an agent's open chats.
pub fn open_chat(tenant: &TenantId, agent: &AgentId, chat: &ChatId) -> (String, String) {
    (inbox_pk(tenant, agent), format!("{OPEN_PREFIX}{chat}"))
}

pub const ENDED_PREFIX: &str = "ENDED#";

/// One of an agent's ended chats, under when it ended: the most recently ended sorts
/// first.
pub fn ended_chat(
    tenant: &TenantId,
    agent: &AgentId,
    ended_at: i64,
    chat: &ChatId,
) -> (String, String) {
    (
        inbox_pk(tenant, agent),
        format!("{ENDED_PREFIX}{}#{chat}", newest_first(ended_at)),
    )
}

/// A time as a key part that sorts the latest first (20 digits).
fn newest_first(at: i64) -> String {
    format!("{:020}", i64::MAX - at.max(0))
}

pub const PARTNER_PREFIX: &str = "P#";

/// Someone an agent has (or had) a chat with.
pub fn partner(tenant: &TenantId, agent: &AgentId, other: &AgentId) -> (String, String) {
    (inbox_pk(tenant, agent), format!("{PARTNER_PREFIX}{other}"))
}

/// An agent's connections: the ids in a string set [`CONNS`], added as each connects and
/// removed as it goes — with her counts and her directory entry, what a message's
/// delivery reads, in one BatchGetItem.
pub fn connection_set(tenant: &TenantId, agent: &AgentId) -> (String, String) {
    (inbox_pk(tenant, agent), "CONNS".into())
}

/// An agent's counts (of chats requiring her response: [`PENDING`]).
pub fn counts(tenant: &TenantId, agent: &AgentId) -> (String, String) {
    (inbox_pk(tenant, agent), "COUNTS".into())
}

pub fn chat_pk(tenant: &TenantId, chat: &ChatId) -> String {
    format!("T#{tenant}#CHAT#{chat}")
}

pub fn message_sk(seq: u64) -> String {
    format!("M#{seq:020}")
}

pub fn message(tenant: &TenantId, chat: &ChatId, seq: u64) -> (String, String) {
    (chat_pk(tenant, chat), message_sk(seq))
}

pub fn send_key(
    tenant: &TenantId,
    chat: &ChatId,
    from: &AgentId,
    client_msg_id: &str,
) -> (String, String) {
    (chat_pk(tenant, chat), format!("K#{from}#{client_msg_id}"))
}

pub fn connection(id: &str) -> (String, String) {
    (format!("CONN#{id}"), "CONN".into())
}

pub fn connections_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#CONNS")
}

/// A connection under its agent's group: with [`supervisor_connection`], how an agent's
/// state change finds the connections that see her (a Query each).
pub fn group_connection(tenant: &TenantId, group: &GroupId, id: &str) -> (String, String) {
    (
        connections_pk(tenant),
        format!("{}{id}", group_connections_prefix(group)),
    )
}

pub fn group_connections_prefix(group: &GroupId) -> String {
    format!("{GROUP_CONNECTIONS_PREFIX}{group}#C#")
}

/// Where every group's connections are, in the tenant's connections partition.
pub const GROUP_CONNECTIONS_PREFIX: &str = "G#";

/// A supervisor's connection.
pub fn supervisor_connection(tenant: &TenantId, id: &str) -> (String, String) {
    (
        connections_pk(tenant),
        format!("{SUPERVISOR_CONNECTIONS_PREFIX}{id}"),
    )
}

pub const SUPERVISOR_CONNECTIONS_PREFIX: &str = "S#C#";

/// How many partitions the connections' checks are spread over (each takes 1,000 writes
/// a second; a check moves every 5 minutes per connection).
pub const CHECK_SHARDS: u32 = 4;

/// The partition of one shard of the connections' checks.
pub fn checks_pk(shard: u32) -> String {
    format!("CHECKS#{shard}")
}

/// A connection under its next check's time: a Query of `sk <= check_until(now)` in each
/// shard finds those due, the earliest first.
pub fn connection_check(id: &str, check_at: i64) -> (String, String) {
    let shard = id.bytes().map(u32::from).sum::<u32>() % CHECK_SHARDS;
    (checks_pk(shard), format!("{:020}#{id}", check_at.max(0)))
}

/// The greatest sort key of a check due at or before `now` (`~` sorts after every id).
pub fn check_until(now: i64) -> String {
    format!("{:020}#~", now.max(0))
}

pub fn ticket(id: &str) -> (String, String) {
    (format!("TICKET#{id}"), "TICKET".into())
}

pub fn limit(key: &str) -> (String, String) {
    (format!("LIMIT#{key}"), "LIMIT".into())
}

/// The item counting one window (by its index) of a quota.
pub fn quota(key: &str, window: i64) -> (String, String) {
    (format!("QUOTA#{key}#W#{window}"), "QUOTA".into())
}

/// The partition of one chat's transcript reads (the audit trail): kept without expiry.
pub fn reads_pk(tenant: &TenantId, chat: &ChatId) -> String {
    format!("{}#READS#{chat}", tenant_pk(tenant))
}

pub const READ_PREFIX: &str = "R#";

/// One read of a chat's transcript: `R#{at, 20 digits}#{id}` — queried backwards, the
/// latest first.
pub fn read(tenant: &TenantId, chat: &ChatId, at: i64, id: &str) -> (String, String) {
    (
        reads_pk(tenant, chat),
        format!("{READ_PREFIX}{:020}#{id}", at.max(0)),
    )
}

/// A help request, in its tenant's partition.
pub fn help(tenant: &TenantId, id: &HelpId) -> (String, String) {
    (tenant_pk(tenant), format!("HELP#{id}"))
}

/// The partition of the waiting help requests of a group, or (`None`) of the whole
/// tenant.
pub fn help_waiting_pk(tenant: &TenantId, group: Option<&GroupId>) -> String {
    match group {
        Some(group) => format!("T#{tenant}#G#{group}#HELP"),
        None => format!("T#{tenant}#HELP"),
    }
}

/// The sort keys of a waiting-help partition's items.
pub const HELP_WAITING_PREFIX: &str = "W#";

/// A waiting help request in a listing, by when it was asked (20 digits, the oldest
/// first), then id.
pub fn help_waiting(
    tenant: &TenantId,
    group: Option<&GroupId>,
    asked_at: i64,
    id: &HelpId,
) -> (String, String) {
    (
        help_waiting_pk(tenant, group),
        format!("{HELP_WAITING_PREFIX}{:020}#{id}", asked_at.max(0)),
    )
}

/// An agent's waiting hand (its id as `data`).
pub fn hand(tenant: &TenantId, agent: &AgentId) -> (String, String) {
    (inbox_pk(tenant, agent), "HAND".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(at: i64, chat: &str) -> String {
        ended_chat(&"t1".into(), &"ann".into(), at, &chat.into()).1
    }

    #[test]
    fn ended_chats_sort_the_most_recently_ended_first() {
        let mut keys = vec![ended(300, "c2"), ended(500, "c4"), ended(400, "c5")];
        keys.sort();
        assert_eq!(keys, [ended(500, "c4"), ended(400, "c5"), ended(300, "c2")]);
        assert!(
            ended(10_000_000_000_000, "c1") < ended(9, "c1"),
            "fixed width"
        );
        assert!(ended(7, "a") < ended(7, "b"), "at the same time, by id");
        assert_eq!(ended(-1, "c1"), ended(0, "c1"), "no time before the epoch");
        assert!(keys.iter().all(|key| key.starts_with(ENDED_PREFIX)));
    }

    #[test]
    fn an_inbox_s_kinds_of_items_do_not_share_a_prefix() {
        let (t1, ann, bob) = (
            TenantId::from("t1"),
            AgentId::from("ann"),
            AgentId::from("bob"),
        );
        let sks = [
            started_chat(&t1, &StartedIndex::Agent(ann.clone()), 1, &"c1".into()).1,
            open_chat(&t1, &ann, &"c1".into()).1,
            ended_chat(&t1, &ann, 1, &"c1".into()).1,
            partner(&t1, &ann, &bob).1,
            counts(&t1, &ann).1,
        ];
        let prefixes = [STARTED_PREFIX, OPEN_PREFIX, ENDED_PREFIX, PARTNER_PREFIX];
        for (n, sk) in sks.iter().enumerate() {
            for (m, prefix) in prefixes.iter().enumerate() {
                assert_eq!(sk.starts_with(prefix), n == m, "{sk} under {prefix}");
            }
        }
    }
}
