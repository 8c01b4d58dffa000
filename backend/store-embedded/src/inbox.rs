//! Each participant's inbox — her open and ended chats, her partners, her count of pending
//! chats, the indexes by start time — kept in the transaction that changes a chat, and
//! built once from the chats of an older file.

use super::*;

/// Keeps both participants' inboxes in step with a chat that changes from `before`
/// (`None`: it is new) to `after`, in the transaction that changes it: its place among
/// their open and ended chats, their partners, and their counts of pending chats.
pub(crate) fn update_inboxes(
    tx: &Tx<'_>,
    before: Option<&Chat>,
    after: &Chat,
) -> Result<(), StoreError> {
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
pub(crate) fn index_inboxes(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
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
pub(crate) fn chats_listed(
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
