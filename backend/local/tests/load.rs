//! Load: many agents in many functional groups and tenants, each over a real WebSocket
//! to the local server on 127.0.0.1 with its durable embedded store, paired into chats
//! and exchanging messages with a bounded window. Every message must reach every
//! connection of both its agents exactly once and in sequence order, and each connection
//! must end holding every chat's whole transcript; the figures are printed at the end
//! (`--no-capture` shows them).
//!
//! The test command runs it in a release build (a debug build takes ~9 minutes).
//! Sizes (environment): `LOAD_AGENTS` (a multiple of 10; default 1000), `LOAD_MESSAGES`
//! (default 100000), `LOAD_WINDOW` (unacknowledged
//! sends per agent; default 2), `LOAD_INFLIGHT` (unacknowledged sends in all; default 16 —
//! the delivery time is mostly the wait in this queue), `LOAD_SECOND_TAB_EVERY` (every
//! n-th agent has a second, reading tab; default 10), `LOAD_MINUTES` (how long the load
//! may take; default 20), `LOAD_SEED`. Each agent sends at most one new message every
//! 110 ms, within the server's per-connection quota.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::console::Behaviour;
use support::dice::{Dice, seed};
use support::host::{Host, any_port};
use support::swarm::Swarm;
use support::{check, directory, http, setting};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_reaches_every_connection_of_its_agents_once_and_in_order_under_load() {
    let started = Instant::now();
    let agents = setting("LOAD_AGENTS", 1000) as usize;
    let messages = setting("LOAD_MESSAGES", 100_000);
    let window = setting("LOAD_WINDOW", 2) as usize;
    let inflight = setting("LOAD_INFLIGHT", 16) as usize;
    let second_tab_every = setting("LOAD_SECOND_TAB_EVERY", 10) as usize;
    let limit = Duration::from_secs(60 * setting("LOAD_MINUTES", 20));
    let dice = Dice::new(seed("LOAD_SEED"));

    let data = tempfile::tempdir().expect("temp dir");
    let directory = directory::generate(agents, 10, 10);
    directory::import(data.path(), &directory).await;
    let host = Host::embedded(data.path(), any_port()).await;

    let mut tokens = HashMap::new();
    for who in directory::everyone(&directory) {
        let token = http::sign_in_patiently(host.addr, &who).await;
        tokens.insert(who, token);
    }
    let chats = directory::ring_chats(&directory);
    let plans = directory::plans(&chats, messages, second_tab_every);
    let mut swarm = Swarm::new(host.addr, Some(inflight));
    let behaviour = Behaviour {
        window,
        pace: Duration::from_millis(110),
        ..Behaviour::default()
    };
    for (n, plan) in plans.into_iter().enumerate() {
        let token = tokens[&plan.who].clone();
        swarm.spawn(plan, token, behaviour.clone(), dice.derive(n as u64));
    }
    assert!(
        swarm.all_welcomed(Duration::from_secs(300)).await,
        "only {} of {} connections were welcomed",
        swarm.welcomed(),
        swarm.len()
    );
    let connected = started.elapsed();
    swarm.start_chats();
    assert!(
        swarm.all_ready(Duration::from_secs(300)).await,
        "not every connection learnt its chats"
    );
    let chats_opened = started.elapsed() - connected;
    let load = Instant::now();
    swarm.go();
    let finished = swarm.all_complete(limit).await;
    let load_time = load.elapsed();
    let tabs = swarm.len();
    let completed = swarm.completed();
    let reports = swarm.finish().await;

    let mut figures = check::against_store(
        host.addr,
        &tokens,
        &reports,
        format!(
            "load: {agents} agents ({tabs} connections) in {} tenants, {} chats, {messages} messages, window {window} per agent, at most {inflight} in flight",
            directory.len(),
            chats.len()
        ),
    )
    .await;
    figures.load_time = load_time;
    figures.elapsed = started.elapsed();
    println!("{figures}");
    println!(
        "setup: directory, sign-ins and {tabs} sockets welcomed {:.1} s; {} chats opened {:.1} s",
        connected.as_secs_f64(),
        chats.len(),
        chats_opened.as_secs_f64()
    );
    host.stop().await;
    assert!(
        finished,
        "{completed} of {tabs} connections complete (within {limit:?}, and nothing stuck for a minute)\n{figures}"
    );
    figures.assert_exactly_once_in_order();
}
