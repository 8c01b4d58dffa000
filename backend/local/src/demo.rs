//! The demo directory the local server starts with when its store is empty
//! (`demo-directory.json`, also an example of the directory file format): two tenants,
//! one with two functional groups of three agents and a supervisor. And a history to put
//! behind an agent, for tests and benchmarks of a console after months of use.

use console_domain::Store;
use console_domain::model::{Agent, Chat, Tenant};
use console_domain::ports::StoreError;
use protocol::{AgentId, ChatId, GroupId, TenantId};

/// The demo directory's file.
pub const FILE: &str = include_str!("../demo-directory.json");

/// The demo tenants and their agents.
pub fn directory() -> Vec<(Tenant, Vec<Agent>)> {
    console_domain::directory::parse(FILE).unwrap_or_default()
}

/// Writes `count` past chats of `agent` into `store`: one after the other with each of
/// `colleagues` in turn, two messages each ("Past question n" from her, "Past answer n"
/// back), chat `past-{n:05}` ending a minute after the one before and the last at
/// `last_end` (ms). Up to `at_once` chats are written together, each with another
/// colleague (a pair has one open chat at once): the embedded store commits concurrent
/// writes together (a DynamoDB emulator may take them one at a time). Each chat is in the
/// groups the directory has its participants in.
pub async fn past_chats(
    store: &dyn Store,
    tenant: &TenantId,
    agent: &AgentId,
    colleagues: &[AgentId],
    count: usize,
    last_end: i64,
    at_once: usize,
) -> Result<(), StoreError> {
    if colleagues.is_empty() {
        return Err(StoreError::permanent("past chats need colleagues"));
    }
    let group = async |id: &AgentId| -> Result<Option<GroupId>, StoreError> {
        Ok(store.agent(tenant, id).await?.map(|agent| agent.group))
    };
    let own_group = group(agent).await?;
    let mut groups = Vec::new();
    for colleague in colleagues {
        groups.push(own_group.clone().zip(group(colleague).await?));
    }
    let numbers: Vec<usize> = (0..count).collect();
    for batch in numbers.chunks(at_once.clamp(1, colleagues.len())) {
        let writes = batch.iter().map(|&n| {
            let with = &colleagues[n % colleagues.len()];
            let groups = groups[n % colleagues.len()].clone();
            let ended = last_end - (count - 1 - n) as i64 * 60_000;
            async move {
                let id = ChatId::from(format!("past-{n:05}").as_str());
                let mut chat = Chat::new(
                    tenant.clone(),
                    id.clone(),
                    agent.clone(),
                    with.clone(),
                    ended - 300_000,
                    None,
                );
                if let Some((own, theirs)) = groups {
                    chat = chat.in_groups([own, theirs]);
                }
                store.open_chat(&chat).await?;
                for (from, client_msg_id, body) in [
                    (agent, "q", format!("Past question {n}")),
                    (with, "a", format!("Past answer {n}")),
                ] {
                    store
                        .append_message(tenant, &id, from, client_msg_id, &body, ended - 60_000)
                        .await?;
                }
                store.end_chat(tenant, &id, agent, ended).await.map(drop)
            }
        });
        for written in futures_util::future::join_all(writes).await {
            written?;
        }
    }
    Ok(())
}

/// Writes a tenant's traffic among other agents into `store`: for each of `pairs`,
/// `chats` ended chats one after the other (`busy-{pair}-{n}`), each of `messages`
/// messages answering each other, the last ended at `last_end` (ms) and each a minute
/// before the next. The pairs are written together. With it, a benchmark's tenant holds
/// a million messages without going through a million requests' worth of wait.
pub async fn chatter(
    store: &dyn Store,
    tenant: &TenantId,
    pairs: &[(AgentId, AgentId)],
    chats: usize,
    messages: usize,
    last_end: i64,
) -> Result<(), StoreError> {
    let group = async |id: &AgentId| -> Result<Option<GroupId>, StoreError> {
        Ok(store.agent(tenant, id).await?.map(|agent| agent.group))
    };
    let writes = pairs.iter().enumerate().map(|(p, (a, b))| async move {
        let groups = group(a).await?.zip(group(b).await?);
        for n in 0..chats {
            let ended = last_end - (chats - 1 - n) as i64 * 60_000;
            let id = ChatId::from(format!("busy-{p:04}-{n:05}").as_str());
            let chat = Chat::new(
                tenant.clone(),
                id.clone(),
                a.clone(),
                b.clone(),
                ended - 600_000,
                None,
            );
            let chat = match &groups {
                Some((own, theirs)) => chat.in_groups([own.clone(), theirs.clone()]),
                None => chat,
            };
            store.open_chat(&chat).await?;
            for m in 0..messages {
                let from = if m % 2 == 0 { a } else { b };
                let body = format!("Consult {n}, line {m}: the customer's order is on hold");
                store
                    .append_message(tenant, &id, from, &format!("m{m}"), &body, ended - 1_000)
                    .await?;
            }
            store.end_chat(tenant, &id, a, ended).await?;
        }
        Ok::<(), StoreError>(())
    });
    for written in futures_util::future::join_all(writes).await {
        written?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_directory_is_a_valid_directory_file() {
        let directory = console_domain::directory::parse(super::FILE).expect("valid");
        assert_eq!(directory.len(), 2);
        assert_eq!(directory[0].1.len(), 7);
    }
}
