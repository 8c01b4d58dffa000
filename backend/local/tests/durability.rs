//! Durability: the real `agent-console-local` binary, killed with SIGKILL at random
//! moments while consoles stream messages to it, and started again on the same data
//! folder. Every message acknowledged before a kill must be in the store afterwards,
//! under the sequence number its acknowledgement named; the consoles reconnect by
//! themselves, send again what was not acknowledged, and end holding every whole
//! transcript, with nothing stored twice.
//!
//! Environment: `DURABILITY_KILLS` (default 5), `DURABILITY_MESSAGES` (default 1200),
//! `DURABILITY_SEED`.

mod support;

use console_domain::Identity;
use protocol::ChatId;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use support::binary::Binary;
use support::console::{AckRecord, Behaviour};
use support::dice::{Dice, seed};
use support::host::any_port;
use support::swarm::{Swarm, until};
use support::{check, directory, http, setting};

fn agent(tenant: &str, agent: &str) -> Identity {
    Identity {
        tenant: tenant.into(),
        agent: agent.into(),
    }
}

/// The demo directory's chats: each functional group in a ring, and a cross-group chat
/// of a supervisor.
fn demo_chats() -> Vec<(Identity, Identity)> {
    let (ann, bob, cara) = (
        agent("acme", "ann"),
        agent("acme", "bob"),
        agent("acme", "cara"),
    );
    let (dan, eve, finn, sue) = (
        agent("acme", "dan"),
        agent("acme", "eve"),
        agent("acme", "finn"),
        agent("acme", "sue"),
    );
    let (gus, hana) = (agent("globex", "gus"), agent("globex", "hana"));
    vec![
        (ann.clone(), bob.clone()),
        (bob, cara.clone()),
        (cara, ann.clone()),
        (dan.clone(), eve.clone()),
        (eve, finn.clone()),
        (finn, dan),
        (sue, ann),
        (gus, hana),
    ]
}

/// Checks that every acknowledgement in `acks` names a message the store holds.
async fn acknowledged_are_stored(
    addr: std::net::SocketAddr,
    tokens: &HashMap<Identity, String>,
    acks: &[AckRecord],
) -> Vec<String> {
    let mut by_chat: BTreeMap<ChatId, Vec<&AckRecord>> = BTreeMap::new();
    for ack in acks {
        by_chat.entry(ack.chat.clone()).or_default().push(ack);
    }
    let mut lost = Vec::new();
    for (chat, acks) in by_chat {
        let token = &tokens[&acks[0].who];
        let stored: HashMap<u64, _> = http::history_patiently(addr, token, &chat)
            .await
            .into_iter()
            .map(|m| (m.seq, (m.from, m.client_msg_id)))
            .collect();
        for ack in acks {
            if stored.get(&ack.seq) != Some(&(ack.who.agent.clone(), ack.client_msg_id.clone())) {
                lost.push(format!(
                    "{} acknowledged as seq {} of chat {chat}, the store has {:?}",
                    ack.client_msg_id,
                    ack.seq,
                    stored.get(&ack.seq)
                ));
            }
        }
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9_of_the_local_server_at_random_moments() {
    let started = Instant::now();
    let kills = setting("DURABILITY_KILLS", 5) as usize;
    let messages = setting("DURABILITY_MESSAGES", 1200);
    let dice = Dice::new(seed("DURABILITY_SEED"));
    let data = tempfile::tempdir().expect("temp dir");
    let mut binary = Binary::start(data.path(), any_port()).await;
    let addr = binary.addr;

    let chats = demo_chats();
    let mut tokens = HashMap::new();
    for (a, b) in &chats {
        for who in [a, b] {
            if !tokens.contains_key(who) {
                let token = http::sign_in_patiently(addr, who).await;
                tokens.insert(who.clone(), token);
            }
        }
    }
    let mut swarm = Swarm::new(addr, None);
    let acks = swarm.record_acks();
    let behaviour = Behaviour {
        window: 4,
        stall_resume: Some(Duration::from_secs(3)),
        pace: Duration::from_millis(110),
        ..Behaviour::default()
    };
    for (n, plan) in directory::plans(&chats, messages, 3)
        .into_iter()
        .enumerate()
    {
        let token = tokens[&plan.who].clone();
        swarm.spawn(plan, token, behaviour.clone(), dice.derive(n as u64));
    }
    assert!(swarm.all_welcomed(Duration::from_secs(60)).await);
    swarm.go();
    let load = Instant::now();

    let per_kill = messages as usize / (kills + 1);
    let mut checked = 0;
    for kill in 1..=kills {
        let target = swarm.acked() + 1 + dice.below(per_kill as u64) as usize;
        assert!(
            until(Duration::from_secs(300), || swarm.acked() >= target).await,
            "the stream goes on: {} of {target} acknowledged",
            swarm.acked()
        );
        tokio::time::sleep(dice.between(Duration::ZERO, Duration::from_millis(30))).await;
        binary.kill();
        let before: Vec<AckRecord> = acks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        binary = Binary::start(data.path(), addr).await;
        let lost = acknowledged_are_stored(addr, &tokens, &before).await;
        println!(
            "kill -9 #{kill}: {} sends acknowledged before it, {} of them lost",
            before.len(),
            lost.len()
        );
        assert!(lost.is_empty(), "acknowledged but lost: {lost:#?}");
        checked = before.len();
    }

    let complete = swarm.all_complete(Duration::from_secs(600)).await;
    let load_time = load.elapsed();
    let reports = swarm.finish().await;
    let mut figures = check::against_store(
        addr,
        &tokens,
        &reports,
        format!("kill -9 of the local server, {kills} times, during {messages} messages"),
    )
    .await;
    figures.load_time = load_time;
    figures.elapsed = started.elapsed();
    println!("{figures}");
    println!("acknowledgements checked right after the kills: {checked}");
    binary.kill();
    assert!(complete, "every tab completed after the last restart");
    figures.assert_nothing_lost();
}
