//! Delivery latency with many agents connected: a server with `agents` agents, each with
//! an open, welcomed socket; a few pairs chat at a steady pace (the load tests' simulated
//! consoles, one message unacknowledged at most, the first send of each at a random
//! moment so that they do not send in step), the rest stay idle. A sample is the time
//! from just before agent A's console writes its `send` frame to when agent B's console
//! reads the pushed `message` frame (the send time travels in the message body).

use crate::idle::IdleConsoles;
use crate::server::Server;
use crate::stats::Percentiles;
use crate::support::console::Behaviour;
use crate::support::dice::Dice;
use crate::support::directory::{self, Directory};
use crate::support::swarm::Swarm;
use anyhow::{Context, ensure};
use console_domain::Identity;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// The chatting part of the workload.
#[derive(Debug, Clone, Copy)]
pub struct Chatter {
    /// Pairs of agents that chat; the other agents are idle.
    pub pairs: usize,
    /// Messages in all (one sample each).
    pub messages: usize,
    /// At least this long between two messages of one console.
    pub pace: Duration,
}

impl Chatter {
    /// How long between two messages of all the consoles together, on average.
    pub fn gap(&self) -> Duration {
        self.pace / (2 * self.pairs.max(1)) as u32
    }
}

/// What one size gave.
#[derive(Debug, Clone)]
pub struct SizeFigures {
    /// Sockets open and welcomed while the pairs chatted.
    pub connections: usize,
    pub latency: Percentiles,
    /// The server's resident memory before any request, and with every socket open and
    /// welcomed, before the chats start (bytes).
    pub resident_before: u64,
    pub resident_connected: u64,
    /// Sends refused as rate-limited or internal (sent again by the console).
    pub refused_sends: u64,
    /// Idle sockets the server closed during the run.
    pub idle_closed: usize,
}

/// Measures one size, with the server's store in `data`.
pub async fn measure(
    data: &Path,
    agents: usize,
    chatter: Chatter,
    dice: &Dice,
) -> anyhow::Result<SizeFigures> {
    let directory = directory::generate(agents, 10, 10);
    let chats = chatting_pairs(&directory, chatter.pairs);
    let server = Server::start(data, &directory, &[]).await?;
    let addr = server.binary.addr;

    let chatting: HashSet<&Identity> = chats.iter().flat_map(|(a, b)| [a, b]).collect();
    let idle_tokens: Vec<String> = directory::everyone(&directory)
        .iter()
        .filter(|who| !chatting.contains(who))
        .map(|who| server.tokens[who].clone())
        .collect();
    let idle = IdleConsoles::open(addr, idle_tokens, 2_000).await?;

    let mut swarm = Swarm::new(addr, None);
    let behaviour = Behaviour {
        window: 1,
        pace: chatter.pace,
        start_within: chatter.pace,
        ..Behaviour::default()
    };
    for (n, plan) in directory::plans(&chats, chatter.messages as u64, 0)
        .into_iter()
        .enumerate()
    {
        let token = server.tokens[&plan.who].clone();
        swarm.spawn(plan, token, behaviour.clone(), dice.derive(n as u64));
    }
    ensure!(
        swarm.all_welcomed(Duration::from_secs(120)).await,
        "only {} of {} chatting consoles were welcomed",
        swarm.welcomed(),
        swarm.len()
    );
    let connections = idle.len() + swarm.len();
    let resident_connected = server.resident()?;

    swarm.start_chats();
    ensure!(
        swarm.all_ready(Duration::from_secs(60)).await,
        "the chatting consoles did not all learn their chats"
    );
    swarm.go();
    let expected = chatter.pace * (chatter.messages / chats.len() / 2 + 1) as u32;
    let complete = swarm.all_complete(expected + Duration::from_secs(60)).await;
    let idle_closed = idle.closed();
    let (completed, tabs) = (swarm.completed(), swarm.len());
    let reports = swarm.finish().await;
    let resident_before = server.resident_at_start;
    drop(server);
    idle.abandon();
    ensure!(
        complete,
        "{completed} of {tabs} chatting consoles had every message acknowledged and delivered in time"
    );

    let problems: Vec<&String> = reports.iter().flat_map(|r| &r.problems).collect();
    ensure!(problems.is_empty(), "the consoles saw {problems:?}");
    let refused_sends = reports
        .iter()
        .map(|r| r.rate_limited + r.retried_errors)
        .sum();
    let samples: Vec<u64> = reports.into_iter().flat_map(|r| r.latencies_us).collect();
    ensure!(
        samples.len() == chatter.messages,
        "{} deliveries timed for {} messages",
        samples.len(),
        chatter.messages
    );
    Ok(SizeFigures {
        connections,
        latency: Percentiles::of(samples).context("no samples")?,
        resident_before,
        resident_connected,
        refused_sends,
        idle_closed,
    })
}

/// `pairs` pairs of agents of one functional group each, spread over the directory's
/// groups (several from one group when there are fewer groups than pairs).
pub fn chatting_pairs(directory: &Directory, pairs: usize) -> Vec<(Identity, Identity)> {
    let mut groups: BTreeMap<(String, String), Vec<Identity>> = BTreeMap::new();
    for (tenant, agents) in directory {
        for agent in agents {
            groups
                .entry((tenant.id.to_string(), agent.group.to_string()))
                .or_default()
                .push(agent.identity());
        }
    }
    let groups: Vec<Vec<Identity>> = groups.into_values().collect();
    let mut taken = vec![0; groups.len()];
    let mut chats = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let group = i * groups.len() / pairs;
        let members = &groups[group];
        let first = 2 * taken[group];
        assert!(
            first + 1 < members.len(),
            "{pairs} pairs do not fit in {} groups",
            groups.len()
        );
        chats.push((members[first].clone(), members[first + 1].clone()));
        taken[group] += 1;
    }
    chats
}
