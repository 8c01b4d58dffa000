//! Throughput: agents in pairs (one chat each), every console sending as fast as its
//! window of unacknowledged messages lets it, to a server whose send quota is raised so
//! that the limit is the server, not the quota. The rate is the acknowledgements counted
//! over a window after a warm-up; then the consoles stop sending, what is on its way is
//! acknowledged and delivered, and every acknowledged message is looked for at the other
//! agent's console and in the store.

use crate::server::Server;
use crate::stats::Percentiles;
use crate::support::check;
use crate::support::console::Behaviour;
use crate::support::dice::Dice;
use crate::support::directory;
use crate::support::swarm::Swarm;
use anyhow::ensure;
use protocol::ChatId;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The send quota the server runs with here: far above what one console sends.
pub const RAISED_SEND_QUOTA: &str = "1000/1000";

/// Unacknowledged sends each console keeps going.
pub const WINDOW: usize = 4;

/// The shape of the run.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    pub agents: usize,
    /// Sending before the counting starts.
    pub warm_up: Duration,
    /// Sending while the acknowledgements are counted.
    pub window: Duration,
    /// The most messages the consoles have to send (their plans): the run can show no
    /// more than this over the warm-up and the window.
    pub planned: u64,
}

/// What came out.
#[derive(Debug, Clone)]
pub struct ThroughputFigures {
    pub agents: usize,
    pub chats: usize,
    /// Acknowledgements per second over the counting window.
    pub rate: f64,
    pub counted: usize,
    pub window: Duration,
    /// Messages sent (new sends, not counting retries of refused ones).
    pub sent: u64,
    pub acknowledged: u64,
    /// Messages of the other agent that reached a console.
    pub arrivals: u64,
    /// Acknowledged messages that never reached the other agent's console.
    pub lost: u64,
    /// Messages in the store, and acknowledged ones the store lacks.
    pub stored: u64,
    pub lost_from_store: u64,
    /// Sends refused (rate-limited or internal) and sent again.
    pub refused_sends: u64,
    pub duplicated: u64,
    pub reordered: u64,
    /// Send to arrival under this load.
    pub latency: Option<Percentiles>,
    /// Some console sent its whole plan: the rate may be more than shown.
    pub plan_ran_out: bool,
}

/// Runs the workload against a server with its store in `data`.
pub async fn measure(
    data: &Path,
    workload: Workload,
    dice: &Dice,
) -> anyhow::Result<ThroughputFigures> {
    let directory = directory::generate(workload.agents, 2, 10);
    let server = Server::start(data, &directory, &["--send-quota", RAISED_SEND_QUOTA]).await?;
    let addr = server.binary.addr;
    let chats = directory::ring_chats(&directory);
    let mut swarm = Swarm::new(addr, None);
    let behaviour = Behaviour {
        window: WINDOW,
        ..Behaviour::default()
    };
    for (n, plan) in directory::plans(&chats, workload.planned, 0)
        .into_iter()
        .enumerate()
    {
        let token = server.tokens[&plan.who].clone();
        swarm.spawn(plan, token, behaviour.clone(), dice.derive(n as u64));
    }
    ensure!(
        swarm.all_welcomed(Duration::from_secs(120)).await,
        "only {} of {} consoles were welcomed",
        swarm.welcomed(),
        swarm.len()
    );
    swarm.start_chats();
    ensure!(
        swarm.all_ready(Duration::from_secs(120)).await,
        "the consoles did not all learn their chats"
    );

    swarm.go();
    tokio::time::sleep(workload.warm_up).await;
    let (first, started) = (swarm.acked(), Instant::now());
    tokio::time::sleep(workload.window).await;
    let (last, window) = (swarm.acked(), started.elapsed());
    swarm.pause();
    let drained = drain(&swarm, Duration::from_secs(120)).await;
    let reports = swarm.finish().await;
    ensure!(
        drained,
        "what was sent was still not all acknowledged and delivered two minutes after the sending stopped"
    );

    let mut figures = ThroughputFigures {
        agents: workload.agents,
        chats: chats.len(),
        rate: (last - first) as f64 / window.as_secs_f64(),
        counted: last - first,
        window,
        sent: reports.iter().map(|r| r.sends).sum(),
        acknowledged: reports.iter().map(|r| r.acked.len() as u64).sum(),
        arrivals: 0,
        lost: 0,
        stored: 0,
        lost_from_store: 0,
        refused_sends: reports
            .iter()
            .map(|r| r.rate_limited + r.retried_errors)
            .sum(),
        duplicated: reports.iter().map(|r| r.duplicates).sum(),
        reordered: reports.iter().map(|r| r.reordered).sum(),
        latency: Percentiles::of(
            reports
                .iter()
                .flat_map(|r| r.latencies_us.clone())
                .collect(),
        ),
        plan_ran_out: reports.iter().any(|r| r.sends as usize == r.planned),
    };
    let problems: Vec<&String> = reports.iter().flat_map(|r| &r.problems).collect();
    ensure!(problems.is_empty(), "the consoles saw {problems:?}");

    // Every message of the other agent a console holds, by chat and sequence number.
    let mut arrived: HashSet<(ChatId, u64)> = HashSet::new();
    for report in &reports {
        let me = &report
            .who
            .as_ref()
            .expect("a console knows who it is")
            .agent;
        for (chat, held) in &report.history {
            for (seq, (from, _)) in held {
                if from != me {
                    arrived.insert((chat.clone(), *seq));
                }
            }
        }
    }
    figures.arrivals = arrived.len() as u64;
    figures.lost = reports
        .iter()
        .flat_map(|r| r.acked.values())
        .filter(|(chat, seq)| !arrived.contains(&(chat.clone(), *seq)))
        .count() as u64;
    let store = check::against_store(addr, &server.tokens, &reports, String::new()).await;
    figures.stored = store.stored;
    figures.lost_from_store = store.lost_acknowledged;
    Ok(figures)
}

/// Waits until nothing more is acknowledged or received for a second; false if `limit`
/// passed first.
async fn drain(swarm: &Swarm, limit: Duration) -> bool {
    let progress = || (swarm.acked(), swarm.shared.held.load(Ordering::Relaxed));
    let deadline = Instant::now() + limit;
    let mut last = (progress(), Instant::now());
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = progress();
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= Duration::from_secs(1) {
            return true;
        }
    }
    false
}
