//! Throughput: agents in pairs (one chat each), every console sending as fast as its
//! window of unacknowledged messages lets it, to a server whose send quota is raised so
//! that the limit is the server, not the quota. The rate is the acknowledgements counted
//! over a window after a warm-up; then the consoles stop sending, what is on its way is
//! acknowledged and delivered, and every acknowledged message is looked for at the other
//! agent's console and in the store.

use crate::committed_relay;
use crate::cpu::{self, Spent};
use crate::report::{Goal, Section, Table, count};
use crate::server::Server;
use crate::stats::Percentiles;
use crate::stats::ms;
use crate::support::check;
use crate::support::console::Behaviour;
use crate::support::dice::Dice;
use crate::support::directory;
use crate::support::swarm::Swarm;
use crate::{Options, THROUGHPUT_GOAL, THROUGHPUT_GOAL_SHARE, at_size, smoke_line};
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
    pub cpu: CpuPerMessage,
}

/// What each side spent per message acknowledged in the counting window (µs).
#[derive(Debug, Clone, Copy)]
pub struct CpuPerMessage {
    /// The server's threads, on a CPU.
    pub server: f64,
    /// Of which its store writer thread, which runs the commits one after the other: the
    /// server can acknowledge no more than a second of it allows.
    pub writer: f64,
    /// Time the writer thread was ready to run but waited for a core.
    pub writer_waiting: f64,
    /// The benchmark's own consoles (this process).
    pub consoles: f64,
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
    let pid = server.binary.pid();
    let spent = || -> anyhow::Result<[Spent; 3]> {
        Ok([
            cpu::of(pid, None)?,
            // The store's writer thread, which runs every commit in turn.
            cpu::of(pid, Some(console_store_embedded::WRITER_THREAD))?,
            cpu::of_self()?,
        ])
    };
    let (first, started, spent_before) = (swarm.acked(), Instant::now(), spent()?);
    tokio::time::sleep(workload.window).await;
    let (last, window, spent_after) = (swarm.acked(), started.elapsed(), spent()?);
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
        cpu: {
            let [server, writer, consoles] =
                std::array::from_fn(|n| spent_after[n] - spent_before[n]);
            let counted = last - first;
            CpuPerMessage {
                server: cpu::per_message(server.running, counted),
                writer: cpu::per_message(writer.running, counted),
                writer_waiting: cpu::per_message(writer.waiting, counted),
                consoles: cpu::per_message(consoles.running, counted),
            }
        },
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

/// The report's section: the rate, the floor's, where the CPU went, and the goals.
pub fn section(
    options: &Options,
    cores: usize,
    throughput: &Result<ThroughputFigures, String>,
    floor: &Result<committed_relay::Sustained, String>,
) -> Section {
    let mut section = Section {
        title: "Throughput".into(),
        how: format!(
            "{}Agents in pairs (one chat each) through the same binary with its durable store, on {cores} cores, every console keeping {} sends unacknowledged; the server runs with `--send-quota {}` (its default, 30 sends per 3 s per connection, would cap 1,000 connections at 10,000 msg/s by construction). The rate is the acknowledgements — each sent once the message is stored and pushed to both agents — counted over the window after a warm-up; then the consoles stop sending, and every acknowledged message is looked for at the other agent's console and in the store. Its floor is measured in the same run, right after, with the same agents, window, warm-up and counting window: a bare tokio + tokio-tungstenite relay (two worker threads, as the server) that makes each frame durable before passing it on — one committer thread appends every frame waiting for it to a file beside the stores and syncs once for them all (`sync_data`, group commit), then passes each to the other socket of its pair and answers its sender `ack` — driven by clients that keep the same {} frames unacknowledged.",
            smoke_line(options),
            WINDOW,
            RAISED_SEND_QUOTA,
            WINDOW
        ),
        ..Section::default()
    };
    let goal_share = format!(
        "at least {}% of what a bare relay with group-committed fsyncs sustains in the same run (1,000 agents, durable)",
        (THROUGHPUT_GOAL_SHARE * 100.0).round()
    );
    let goal = format!(
        "at least {} msg/s on this machine (1,000 agents, durable)",
        count(THROUGHPUT_GOAL as u64)
    );
    match throughput {
        Ok(t) => {
            let mut rate = Table::new(&[
                "Agents",
                "Chats",
                "Window (s)",
                "Acknowledged in the window",
                "Messages/s",
                "Send to arrival under this load, p50 (ms)",
                "p99 (ms)",
            ]);
            rate.row(vec![
                count(t.agents as u64),
                count(t.chats as u64),
                format!("{:.1}", t.window.as_secs_f64()),
                count(t.counted as u64),
                count(t.rate.round() as u64),
                t.latency.map_or("–".into(), |l| ms(l.p50)),
                t.latency.map_or("–".into(), |l| ms(l.p99)),
            ]);
            section.tables.push(rate);
            if let Ok(floor) = floor {
                let mut relay = Table::new(&[
                    "Floor: bare relay with group-committed fsyncs, same workload",
                    "Messages/s",
                    "Frames per fsync",
                    "Ours / floor",
                ]);
                relay.row(vec![
                    format!("{} clients in pairs", count(t.agents as u64)),
                    count(floor.rate.round() as u64),
                    format!("{:.1}", floor.frames_per_sync),
                    format!("{:.2}×", t.rate / floor.rate.max(1.0)),
                ]);
                section.tables.push(relay);
                section.tables.push(cpu_table(t, floor));
                section.notes.push(writer_bound(t, floor));
            }
            let mut accounts = Table::new(&[
                "Sent",
                "Acknowledged",
                "Never acknowledged",
                "Arrived at the other agent",
                "Acknowledged, not arrived",
                "In the store",
                "Acknowledged, not in the store",
                "Shown twice",
                "Out of order",
                "Refused and sent again",
            ]);
            accounts.row(vec![
                count(t.sent),
                count(t.acknowledged),
                count(t.sent.saturating_sub(t.acknowledged)),
                count(t.arrivals),
                count(t.lost),
                count(t.stored),
                count(t.lost_from_store),
                count(t.duplicated),
                count(t.reordered),
                count(t.refused_sends),
            ]);
            section.tables.push(accounts);
            if t.plan_ran_out {
                section.notes.push(
                    "Some consoles sent every message they had planned before the window ended: the rate may be higher than shown.".into(),
                );
            }
            let at = at_size(t.agents, 1_000, "agents");
            section.goals.push(Goal {
                goal,
                met: Some(t.rate >= THROUGHPUT_GOAL),
                figure: format!("{} msg/s, {at}", count(t.rate.round() as u64)),
            });
            section.goals.push(match floor {
                Ok(floor) => Goal {
                    goal: goal_share,
                    met: Some(t.rate >= THROUGHPUT_GOAL_SHARE * floor.rate),
                    figure: format!(
                        "{} msg/s = {:.0}% of the relay's {} msg/s, {at}",
                        count(t.rate.round() as u64),
                        100.0 * t.rate / floor.rate.max(1.0),
                        count(floor.rate.round() as u64)
                    ),
                },
                Err(error) => {
                    section.failure = Some(format!("the throughput's floor: {error}"));
                    Goal {
                        goal: goal_share,
                        met: None,
                        figure: "no floor".into(),
                    }
                }
            });
        }
        Err(error) => {
            section.failure = Some(error.clone());
            section.not_judged([goal, goal_share], "not measured");
        }
    }
    section
}

/// Where the CPU went, per message, on each side of the throughput run.
fn cpu_table(t: &ThroughputFigures, floor: &committed_relay::Sustained) -> Table {
    let mut table = Table::new(&[
        "CPU per message (µs), over the counting window",
        "Server, all threads",
        "Of which its store writer",
        "Writer ready, waiting for a core",
        "The benchmark's consoles",
        "Together",
    ]);
    let us = |v: f64| format!("{v:.1}");
    table.row(vec![
        "Ours".into(),
        us(t.cpu.server),
        us(t.cpu.writer),
        us(t.cpu.writer_waiting),
        us(t.cpu.consoles),
        us(t.cpu.server + t.cpu.consoles),
    ]);
    table.row(vec![
        "Floor: the relay, its committer and its clients (one process)".into(),
        "–".into(),
        "–".into(),
        "–".into(),
        "–".into(),
        us(floor.cpu),
    ]);
    table
}

/// What the serial writer and the shared cores allow, from the CPU each side spent.
fn writer_bound(t: &ThroughputFigures, floor: &committed_relay::Sustained) -> String {
    let writer_cap = 1e6 / t.cpu.writer.max(0.001);
    format!(
        "CPU per message is read from each thread's `/proc/<pid>/task/<tid>/schedstat` over the counting window. The store's writer thread runs every commit in turn, so however many cores there are the server acknowledges at most one second of writer time's worth: at {:.1} µs per message, {} msg/s ({:.0}% of the relay's rate). Server and consoles together spent {:.1} µs per message against {:.1} µs for the relay with its clients ({:.1}×).",
        t.cpu.writer,
        count(writer_cap.round() as u64),
        100.0 * writer_cap / floor.rate.max(1.0),
        t.cpu.server + t.cpu.consoles,
        floor.cpu,
        (t.cpu.server + t.cpu.consoles) / floor.cpu.max(0.001)
    )
}
