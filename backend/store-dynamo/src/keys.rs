//! The only place that knows the table's key strings. One table, keys `pk` and `sk`:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | tenant | `TENANTS` | `T#{tenant}` |
//! | agent | `T#{tenant}` | `A#{agent}` |
//! | chat | `T#{tenant}` | `CHAT#{chat}` |
//! | open chat of a pair | `T#{tenant}` | `PAIR#{low}#{high}` |
//! | an agent's chat (inbox) | `T#{tenant}#INBOX#{agent}` | `CHAT#{chat}` |
//! | message | `T#{tenant}#CHAT#{chat}` | `M#{seq, 20 digits}` |
//! | send key (idempotency) | `T#{tenant}#CHAT#{chat}` | `K#{from}#{client_msg_id}` |
//! | connection | `CONN#{id}` | `CONN` |
//! | connection by agent | `T#{tenant}#CONNS` | `A#{agent}#C#{id}` |
//! | ticket | `TICKET#{id}` | `TICKET` |
//! | rate limit | `LIMIT#{key}` | `LIMIT` |
//! | quota window | `QUOTA#{key}#W#{window}` | `QUOTA` |
//!
//! Ids never contain `#` where it could be mistaken for a separator: directory ids are
//! `a-z 0-9 . _ -`, chat and connection ids are generated, and a client message id (which
//! may hold any printable character) is only ever the last part of a key.

use protocol::{AgentId, ChatId, TenantId};

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
pub const CHAT_PREFIX: &str = "CHAT#";

pub fn chat(tenant: &TenantId, chat: &ChatId) -> (String, String) {
    (tenant_pk(tenant), format!("CHAT#{chat}"))
}

pub fn pair(tenant: &TenantId, a: &AgentId, b: &AgentId) -> (String, String) {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    (tenant_pk(tenant), format!("PAIR#{low}#{high}"))
}

pub fn inbox(tenant: &TenantId, agent: &AgentId, chat: &ChatId) -> (String, String) {
    (inbox_pk(tenant, agent), format!("CHAT#{chat}"))
}

pub fn inbox_pk(tenant: &TenantId, agent: &AgentId) -> String {
    format!("T#{tenant}#INBOX#{agent}")
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

pub fn agent_connection(tenant: &TenantId, agent: &AgentId, id: &str) -> (String, String) {
    (connections_pk(tenant), format!("A#{agent}#C#{id}"))
}

pub fn agent_connections_prefix(agent: &AgentId) -> String {
    format!("A#{agent}#C#")
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
