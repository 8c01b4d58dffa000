//! The embedded store's keys: ids joined by the unit separator.

use console_domain::ConnectionId;
use console_domain::ports::StartedIndex;
use protocol::help::HelpId;
use protocol::{AgentId, ChatId, GroupId, TenantId};

/// Joins the ids of a key.
pub const SEP: char = '\u{1f}';

/// The first key after every key that starts with `prefix` (whose last char is `SEP`).
pub fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.trim_end_matches(SEP).to_owned();
    end.push('\u{20}');
    end
}

pub fn tenant_prefix(tenant: &TenantId) -> String {
    format!("{tenant}{SEP}")
}

pub fn agent(tenant: &TenantId, agent: &AgentId) -> String {
    format!("{tenant}{SEP}{agent}")
}

/// An agent under her functional group: `tenant, group, agent`.
pub fn group_agent(tenant: &TenantId, group: &GroupId, agent: &AgentId) -> String {
    format!("{tenant}{SEP}{group}{SEP}{agent}")
}

pub fn group_agents_prefix(tenant: &TenantId, group: &GroupId) -> String {
    format!("{tenant}{SEP}{group}{SEP}")
}

pub fn agent_prefix(tenant: &TenantId, agent: &AgentId) -> String {
    format!("{tenant}{SEP}{agent}{SEP}")
}

pub fn agent_connection(tenant: &TenantId, agent: &AgentId, id: &ConnectionId) -> String {
    format!("{tenant}{SEP}{agent}{SEP}{}", id.0)
}

/// A connection under the group of its agent (for `connections_seeing`).
pub fn group_connection(tenant: &TenantId, group: &GroupId, id: &ConnectionId) -> String {
    format!("{}{}", group_connections_prefix(tenant, group), id.0)
}

pub fn group_connections_prefix(tenant: &TenantId, group: &GroupId) -> String {
    format!("{tenant}{SEP}G{SEP}{group}{SEP}")
}

/// A supervisor's connection.
pub fn supervisor_connection(tenant: &TenantId, id: &ConnectionId) -> String {
    format!("{}{}", supervisor_connections_prefix(tenant), id.0)
}

pub fn supervisor_connections_prefix(tenant: &TenantId) -> String {
    format!("{tenant}{SEP}S{SEP}")
}

pub fn agent_chat(tenant: &TenantId, agent: &AgentId, chat: &ChatId) -> String {
    format!("{tenant}{SEP}{agent}{SEP}{chat}")
}

pub fn chat(tenant: &TenantId, chat: &ChatId) -> String {
    format!("{tenant}{SEP}{chat}")
}

/// The open-chat key of a pair of agents, the same whichever of them is named first.
pub fn pair(tenant: &TenantId, a: &AgentId, b: &AgentId) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    format!("{tenant}{SEP}{low}{SEP}{high}")
}

pub fn send(tenant: &TenantId, chat: &ChatId, from: &AgentId, client_msg_id: &str) -> String {
    format!("{tenant}{SEP}{chat}{SEP}{from}{SEP}{client_msg_id}")
}

/// An agent's ended chat, under when it ended: the most recently ended sorts first.
pub fn ended_chat(tenant: &TenantId, agent: &AgentId, ended_at: i64, chat: &ChatId) -> String {
    format!(
        "{tenant}{SEP}{agent}{SEP}{}{SEP}{chat}",
        newest_first(ended_at)
    )
}

/// The keys of an index of chats by start time (see [`started_chat`]) start so.
pub fn started_prefix(tenant: &TenantId, index: &StartedIndex) -> String {
    match index {
        StartedIndex::Tenant => format!("{tenant}{SEP}*{SEP}"),
        StartedIndex::Agent(agent) => format!("{tenant}{SEP}A{SEP}{agent}{SEP}"),
        StartedIndex::Group(group) => format!("{tenant}{SEP}G{SEP}{group}{SEP}"),
    }
}

/// A chat in an index by start time: the latest started sorts first. With an empty
/// `chat`, the key before every chat started at `started_at`.
pub fn started_chat(
    tenant: &TenantId,
    index: &StartedIndex,
    started_at: i64,
    chat: &ChatId,
) -> String {
    format!(
        "{}{}{SEP}{chat}",
        started_prefix(tenant, index),
        newest_first(started_at)
    )
}

/// A time as a key part that sorts the latest first (20 digits).
pub fn newest_first(at: i64) -> String {
    format!("{:020}", i64::MAX - at.max(0))
}

/// An agent's count of pending chats.
pub fn pending(tenant: &TenantId, who: &AgentId) -> String {
    agent(tenant, who)
}

/// The audit trail of one chat's transcript: its keys start so.
pub fn reads_prefix(tenant: &TenantId, chat: &ChatId) -> String {
    format!("{tenant}{SEP}{chat}{SEP}")
}

/// One read of a chat's transcript: `tenant, chat, at (20 digits), id` — in key order the
/// oldest first; listed backwards.
pub fn read(tenant: &TenantId, chat: &ChatId, at: i64, id: &str) -> String {
    format!("{}{:020}{SEP}{id}", reads_prefix(tenant, chat), at.max(0))
}

/// A help request: `tenant, id`.
pub fn help(tenant: &TenantId, id: &HelpId) -> String {
    format!("{tenant}{SEP}{id}")
}

/// A waiting help request in the listing: under its group, or (`None`) under the whole
/// tenant (`*`, which no group id is), by when it was asked (20 digits, so that keys sort
/// as times), then id.
pub fn help_waiting(
    tenant: &TenantId,
    group: Option<&GroupId>,
    asked_at: i64,
    id: &HelpId,
) -> String {
    format!(
        "{}{:020}{SEP}{id}",
        help_waiting_prefix(tenant, group),
        asked_at.max(0)
    )
}

pub fn help_waiting_prefix(tenant: &TenantId, group: Option<&GroupId>) -> String {
    match group {
        Some(group) => format!("{tenant}{SEP}{group}{SEP}"),
        None => format!("{tenant}{SEP}*{SEP}"),
    }
}

/// The last id of a key.
pub fn last_part(key: &str) -> &str {
    key.rsplit(SEP).next().unwrap_or(key)
}
