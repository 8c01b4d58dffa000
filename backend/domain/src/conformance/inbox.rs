//! Checks of what each agent's inbox keeps: her open and ended chats, paged; her
//! partners; older messages, paged back; and her count of pending chats, kept exactly
//! through any sequence of sends, seens and ends — concurrent ones too.

use super::chat;
use crate::model::Chat;
use crate::ports::{Appended, EndedCursor, StartedIndex, Store};
use protocol::{AgentId, ChatId, ChatStatus, TenantId};

fn ids(chats: &[Chat]) -> Vec<String> {
    chats.iter().map(|chat| chat.id.to_string()).collect()
}

pub(super) async fn open_and_ended_chats_are_paged_per_agent(store: &dyn Store) {
    let (t1, ann) = (TenantId::from("t1"), AgentId::from("ann"));
    for (id, with) in [
        ("c3", "cat"),
        ("c1", "bob"),
        ("c5", "eve"),
        ("c2", "dan"),
        ("c4", "fay"),
    ] {
        store.open_chat(&chat(id, "ann", with)).await.expect("open");
    }
    store
        .open_chat(&chat("x1", "bob", "cat"))
        .await
        .expect("someone else's chat");
    for (id, at) in [("c2", 300), ("c4", 500), ("c5", 400)] {
        store
            .end_chat(&t1, &id.into(), &ann, at)
            .await
            .expect("end");
    }
    let open = store
        .open_chats_of(&t1, &ann, None, 10)
        .await
        .expect("open chats");
    assert_eq!(ids(&open), ["c1", "c3"], "open chats only, in id order");
    let after = store
        .open_chats_of(&t1, &ann, Some(&"c1".into()), 10)
        .await
        .expect("after c1");
    assert_eq!(ids(&after), ["c3"]);
    let first = store
        .ended_chats_of(&t1, &ann, None, 2)
        .await
        .expect("ended chats");
    assert_eq!(ids(&first), ["c4", "c5"], "the most recently ended first");
    let cursor = EndedCursor::after(&first[1]);
    let rest = store
        .ended_chats_of(&t1, &ann, Some(&cursor), 2)
        .await
        .expect("older ended chats");
    assert_eq!(ids(&rest), ["c2"]);
    assert!(
        rest.iter().all(|chat| chat.status == ChatStatus::Ended),
        "the chats themselves, as they are now"
    );
    let bob_ended = store
        .ended_chats_of(&t1, &"bob".into(), None, 10)
        .await
        .expect("bob's ended chats");
    assert!(
        bob_ended.is_empty(),
        "bob's one chat with ann is still open"
    );
    let mut partners = store.partners_of(&t1, &ann).await.expect("partners");
    partners.sort();
    assert_eq!(
        partners,
        ["bob", "cat", "dan", "eve", "fay"].map(AgentId::from),
        "everyone she had a chat with, open or ended"
    );
    assert!(
        store
            .has_partner(&t1, &"fay".into(), &ann)
            .await
            .expect("fay")
    );
    assert!(
        !store
            .has_partner(&t1, &"fay".into(), &"bob".into())
            .await
            .expect("fay, bob")
    );
    assert!(
        !store
            .has_partner(&"t2".into(), &ann, &"bob".into())
            .await
            .expect("t2"),
        "another tenant's ann has no partners"
    );
}

pub(super) async fn messages_are_paged_back_from_any_point(store: &dyn Store) {
    let (t1, c1) = (TenantId::from("t1"), ChatId::from("c1"));
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    for n in 1..=7 {
        store
            .append_message(
                &t1,
                &c1,
                &"ann".into(),
                &format!("m{n}"),
                &format!("message {n}"),
                n,
            )
            .await
            .expect("append");
    }
    let seqs = |page: Vec<crate::model::Message>| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    let latest = store.messages_before(&t1, &c1, 8, 3).await.expect("latest");
    assert_eq!(seqs(latest), [5, 6, 7], "the last page, in order");
    let older = store.messages_before(&t1, &c1, 5, 3).await.expect("older");
    assert_eq!(seqs(older), [2, 3, 4]);
    let first = store.messages_before(&t1, &c1, 2, 3).await.expect("first");
    assert_eq!(seqs(first), [1]);
    assert!(
        store
            .messages_before(&t1, &c1, 1, 3)
            .await
            .expect("none")
            .is_empty()
    );
    let past_end = store
        .messages_before(&t1, &c1, u64::MAX, 2)
        .await
        .expect("past the end");
    assert_eq!(seqs(past_end), [6, 7]);
}

/// What the kept counts must be: a recount over every chat of each agent.
async fn recounted(store: &dyn Store, agents: &[AgentId]) -> Vec<(AgentId, u32, u32)> {
    let t1 = TenantId::from("t1");
    let mut out = Vec::new();
    for agent in agents {
        let every =
            super::started::every_chat(store, &t1, &StartedIndex::Agent(agent.clone()), 50).await;
        let recount = every.iter().filter(|chat| chat.pending_for(agent)).count() as u32;
        let kept = store
            .pending_count(&t1, agent)
            .await
            .expect("pending count");
        out.push((agent.clone(), kept, recount));
    }
    out
}

pub(super) async fn pending_counts_are_kept_through_sends_seens_and_ends(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    let agents: Vec<AgentId> = ["ann", "bob", "cat", "dan"].map(AgentId::from).to_vec();
    // A fixed pseudo-random walk (a linear congruential generator), so that a failure
    // replays: opens, sends from either side, seens, ends, and bursts of sends made at
    // once to one chat from both sides.
    let mut state: u64 = 0x5eed;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut chats: Vec<Chat> = Vec::new();
    for step in 0..160_i64 {
        let roll = next(10);
        if chats.is_empty() || roll == 0 {
            let a = &agents[next(4) as usize];
            let b = &agents[next(4) as usize];
            if a != b {
                let candidate = chat(&format!("c{step}"), a.as_str(), b.as_str());
                let (open, _) = store.open_chat(&candidate).await.expect("open");
                chats.push(open);
            }
            continue;
        }
        let at = next(chats.len() as u64) as usize;
        let chat = chats[at].clone();
        let [a, b] = chat.participants().map(Clone::clone);
        match roll {
            1..=5 => {
                let from = if next(2) == 0 { a } else { b };
                let sent = store
                    .append_message(&t1, &chat.id, &from, &format!("m{step}"), "text", step)
                    .await
                    .expect("append");
                assert!(matches!(sent, Appended::Stored { .. } | Appended::Ended));
            }
            6 => {
                let sends = (0..6).map(|n| {
                    let from = if n % 2 == 0 { a.clone() } else { b.clone() };
                    let (t1, id) = (t1.clone(), chat.id.clone());
                    async move {
                        store
                            .append_message(&t1, &id, &from, &format!("b{step}-{n}"), "burst", step)
                            .await
                    }
                });
                for sent in futures_util::future::join_all(sends).await {
                    sent.expect("a send of the burst");
                }
            }
            7 => {
                let seq = next(10);
                store.mark_seen(&t1, &chat.id, &a, seq).await.expect("seen");
            }
            _ => {
                store.end_chat(&t1, &chat.id, &b, step).await.expect("end");
            }
        }
        for (agent, kept, recount) in recounted(store, &agents).await {
            assert_eq!(kept, recount, "{agent}'s kept pending count at step {step}");
        }
    }
    // Ends at once from both sides, with sends among them.
    for chat in &chats {
        let [a, b] = chat.participants().map(Clone::clone);
        let (t1, id) = (t1.clone(), chat.id.clone());
        let _ = futures_util::future::join3(
            store.end_chat(&t1, &id, &a, 10_000),
            store.append_message(&t1, &id, &b, "last", "last word", 10_000),
            store.end_chat(&t1, &id, &b, 10_001),
        )
        .await;
    }
    for (agent, kept, recount) in recounted(store, &agents).await {
        assert_eq!(kept, recount, "{agent}'s kept pending count after the ends");
        assert_eq!(kept, 0, "{agent}: no chat is open, none is pending");
    }
}

pub(super) async fn a_chat_s_audience_is_read_at_once(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    let (ann, bob) = (
        super::agent("t1", "ann", "sales"),
        super::agent("t1", "bob", "sales"),
    );
    store
        .put_tenant(&super::tenant("t1"), &[ann.clone(), bob.clone()])
        .await
        .expect("directory");
    for (id, tenant, agent) in [
        ("a1", "t1", "ann"),
        ("a2", "t1", "ann"),
        ("b1", "t1", "bob"),
        ("x1", "t2", "ann"),
    ] {
        store
            .put_connection(&super::connection(id, tenant, agent, "sales", false))
            .await
            .expect("connection");
    }
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    store
        .append_message(&t1, &"c1".into(), &ann.id, "m1", "hello", 10)
        .await
        .expect("sent");
    let ids = |connections: &[crate::ConnectionId]| {
        let mut ids: Vec<String> = connections.iter().map(|c| c.0.clone()).collect();
        ids.sort();
        ids
    };
    let [of_ann, of_bob] = store
        .audience(&t1, [&ann.id, &bob.id])
        .await
        .expect("audience");
    assert_eq!(of_ann.agent, Some(ann.clone()));
    assert_eq!(
        ids(&of_ann.connections),
        ["a1", "a2"],
        "her own tenant's only"
    );
    assert_eq!(of_ann.pending, 0);
    assert_eq!(of_bob.agent, Some(bob.clone()));
    assert_eq!(ids(&of_bob.connections), ["b1"]);
    assert_eq!(of_bob.pending, 1, "the count the message moved");
    store
        .delete_connection(&crate::ConnectionId("a1".into()))
        .await
        .expect("delete");
    let [of_bob, of_zed] = store
        .audience(&t1, [&bob.id, &AgentId::from("zed")])
        .await
        .expect("audience");
    assert_eq!(of_bob.pending, 1);
    assert_eq!(
        of_zed,
        Default::default(),
        "nobody: no entry, no connection, no count"
    );
    assert_eq!(
        ids(&store
            .connections_of(&t1, &ann.id)
            .await
            .expect("connections")),
        ["a2"],
        "gone with the connection"
    );
}
