//! Generated directories and workloads: many tenants of many functional groups, each
//! group's agents paired into chats in a ring, and a number of messages spread evenly
//! over the chats, half from each side.

use crate::support::console::{Outgoing, TabPlan};
use console_domain::Identity;
use console_domain::model::{Agent, Tenant};
use console_domain::ports::DirectoryStore;
use console_store_embedded::EmbeddedStore;
use protocol::{AgentId, AgentState, GroupId, Role, TenantId};
use std::collections::BTreeMap;
use std::path::Path;

/// A directory's tenants, each with its agents.
pub type Directory = Vec<(Tenant, Vec<Agent>)>;

/// `agents` agents (a multiple of `per_group`, at least two per group) in groups of
/// `per_group`, `groups_per_tenant` groups to a tenant: `t00/g00/a0000`, ...
pub fn generate(agents: usize, per_group: usize, groups_per_tenant: usize) -> Directory {
    assert!(
        per_group >= 2 && agents.is_multiple_of(per_group) && agents > 0,
        "use a multiple of {per_group} agents, not {agents}"
    );
    let groups = agents / per_group;
    let tenants = groups.div_ceil(groups_per_tenant);
    (0..tenants)
        .map(|t| {
            let tenant = Tenant {
                id: TenantId::new(format!("t{t:02}")),
                name: format!("Contact Center {t}"),
                response_target_ms: None,
            };
            let members = (t * groups_per_tenant..((t + 1) * groups_per_tenant).min(groups))
                .flat_map(|g| (g * per_group..(g + 1) * per_group).map(move |a| (g, a)))
                .map(|(g, a)| Agent {
                    tenant: tenant.id.clone(),
                    id: AgentId::new(format!("a{a:04}")),
                    name: format!("Agent {a}"),
                    group: GroupId::new(format!("g{:02}", g % groups_per_tenant)),
                    role: Role::Agent,
                    state: AgentState::LoggedOut,
                    state_since: 0,
                })
                .collect();
            (tenant, members)
        })
        .collect()
}

/// Writes a directory into the embedded store file in `data` (before the server opens it).
pub async fn import(data: &Path, directory: &Directory) {
    std::fs::create_dir_all(data).expect("the data folder");
    let store = EmbeddedStore::open(&data.join("console.redb")).expect("the store opens");
    put(&store, directory).await;
}

/// Writes a directory into a store.
pub async fn put(store: &dyn DirectoryStore, directory: &Directory) {
    for (tenant, agents) in directory {
        store
            .put_tenant(tenant, agents)
            .await
            .expect("the directory is stored");
    }
}

/// Everyone in a directory.
pub fn everyone(directory: &Directory) -> Vec<Identity> {
    directory
        .iter()
        .flat_map(|(_, agents)| agents.iter().map(Agent::identity))
        .collect()
}

/// The chats of a workload: each functional group's agents in a ring (each agent chats
/// with the next one; two agents make one chat).
pub fn ring_chats(directory: &Directory) -> Vec<(Identity, Identity)> {
    let mut groups: BTreeMap<(TenantId, GroupId), Vec<Identity>> = BTreeMap::new();
    for (tenant, agents) in directory {
        for agent in agents {
            groups
                .entry((tenant.id.clone(), agent.group.clone()))
                .or_default()
                .push(agent.identity());
        }
    }
    let mut chats = Vec::new();
    for members in groups.values() {
        match members.len() {
            0 | 1 => {}
            2 => chats.push((members[0].clone(), members[1].clone())),
            n => {
                for i in 0..n {
                    chats.push((members[i].clone(), members[(i + 1) % n].clone()));
                }
            }
        }
    }
    chats
}

/// Plans for one tab per agent that takes part in `chats`, plus a second, reading tab for
/// every `second_tab_every`-th agent (none when 0): the first agent of each pair starts
/// the chat, `messages` are spread evenly over the chats, half from each side, each
/// agent's sends alternating between her chats.
pub fn plans(
    chats: &[(Identity, Identity)],
    messages: u64,
    second_tab_every: usize,
) -> Vec<TabPlan> {
    let count = chats.len() as u64;
    assert!(count > 0, "a workload needs a chat");
    type Key = (TenantId, AgentId);
    let key = |who: &Identity| -> Key { (who.tenant.clone(), who.agent.clone()) };
    let mut sends: BTreeMap<Key, Vec<(AgentId, u64)>> = BTreeMap::new();
    let mut expect: BTreeMap<Key, BTreeMap<AgentId, u64>> = BTreeMap::new();
    let mut starts: BTreeMap<Key, Vec<AgentId>> = BTreeMap::new();
    for (i, (a, b)) in chats.iter().enumerate() {
        let total = messages / count + u64::from((i as u64) < messages % count);
        let from_a = total.div_ceil(2);
        starts.entry(key(a)).or_default().push(b.agent.clone());
        sends
            .entry(key(a))
            .or_default()
            .push((b.agent.clone(), from_a));
        sends
            .entry(key(b))
            .or_default()
            .push((a.agent.clone(), total - from_a));
        expect
            .entry(key(a))
            .or_default()
            .insert(b.agent.clone(), total);
        expect
            .entry(key(b))
            .or_default()
            .insert(a.agent.clone(), total);
    }
    let mut plans = Vec::new();
    for (n, ((tenant, agent), expect)) in expect.into_iter().enumerate() {
        let who = Identity { tenant, agent };
        let mut queues: Vec<(AgentId, u64, u64)> = sends
            .remove(&key(&who))
            .unwrap_or_default()
            .into_iter()
            .map(|(to, count)| (to, 0, count))
            .collect();
        let mut outgoing = Vec::new();
        while queues.iter().any(|(_, sent, count)| sent < count) {
            for (to, sent, count) in &mut queues {
                if sent < count {
                    *sent += 1;
                    outgoing.push(Outgoing {
                        to: to.clone(),
                        client_msg_id: format!("{}.{}.{sent}", who.agent, to),
                    });
                }
            }
        }
        if second_tab_every > 0 && n % second_tab_every == 0 {
            plans.push(TabPlan {
                who: who.clone(),
                tab: 1,
                starts: Vec::new(),
                sends: Vec::new(),
                expect: expect.clone(),
            });
        }
        plans.push(TabPlan {
            starts: starts.remove(&key(&who)).unwrap_or_default(),
            who,
            tab: 0,
            sends: outgoing,
            expect,
        });
    }
    plans
}
