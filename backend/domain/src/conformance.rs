//! The store conformance suite: what every adapter of the store port must do, as plain
//! async checks over `&dyn Store`. Each adapter's tests run all of them against a fresh,
//! empty store (the embedded store here, DynamoDB at an emulator later).

use crate::model::{Agent, Chat, Connection, ConnectionId, Tenant, Ticket};
use crate::ports::{Appended, EndedCursor, Quota, Store};
use protocol::{AgentId, AgentState, ChatId, ChatStatus, Role, TenantId};

/// Every check of the suite, by name.
pub const CHECKS: [&str; 15] = [
    "directory_round_trips",
    "tickets_are_single_use",
    "connections_are_listed_per_agent",
    "one_open_chat_per_pair",
    "appends_are_gapless_and_idempotent",
    "ended_chats_take_no_messages",
    "chats_are_listed_per_tenant",
    "seen_marks_move_forward_only",
    "rate_limits_hold_for_their_window",
    "quotas_take_a_burst_then_refuse_until_the_next_window",
    "sent_messages_are_found_by_sender_and_client_msg_id",
    "open_and_ended_chats_are_paged_per_agent",
    "messages_are_paged_back_from_any_point",
    "pending_counts_are_kept_through_sends_seens_and_ends",
    "connections_are_found_by_who_sees_them",
];

/// Runs one check by name against an empty store; panics with a message on failure.
pub async fn run(name: &str, store: &dyn Store) {
    match name {
        "directory_round_trips" => directory_round_trips(store).await,
        "tickets_are_single_use" => tickets_are_single_use(store).await,
        "connections_are_listed_per_agent" => connections_are_listed_per_agent(store).await,
        "one_open_chat_per_pair" => one_open_chat_per_pair(store).await,
        "appends_are_gapless_and_idempotent" => appends_are_gapless_and_idempotent(store).await,
        "ended_chats_take_no_messages" => ended_chats_take_no_messages(store).await,
        "chats_are_listed_per_tenant" => chats_are_listed_per_tenant(store).await,
        "seen_marks_move_forward_only" => seen_marks_move_forward_only(store).await,
        "rate_limits_hold_for_their_window" => rate_limits_hold_for_their_window(store).await,
        "quotas_take_a_burst_then_refuse_until_the_next_window" => {
            quotas_take_a_burst_then_refuse_until_the_next_window(store).await
        }
        "sent_messages_are_found_by_sender_and_client_msg_id" => {
            sent_messages_are_found_by_sender_and_client_msg_id(store).await
        }
        "open_and_ended_chats_are_paged_per_agent" => {
            open_and_ended_chats_are_paged_per_agent(store).await
        }
        "messages_are_paged_back_from_any_point" => {
            messages_are_paged_back_from_any_point(store).await
        }
        "pending_counts_are_kept_through_sends_seens_and_ends" => {
            pending_counts_are_kept_through_sends_seens_and_ends(store).await
        }
        "connections_are_found_by_who_sees_them" => {
            connections_are_found_by_who_sees_them(store).await
        }
        other => panic!("no conformance check named {other}"),
    }
}

fn tenant(id: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name: format!("Tenant {id}"),
    }
}

fn agent(tenant: &str, id: &str, group: &str) -> Agent {
    Agent {
        tenant: tenant.into(),
        id: id.into(),
        name: id.to_uppercase(),
        group: group.into(),
        role: Role::Agent,
        state: AgentState::LoggedOut,
        state_since: 0,
    }
}

async fn directory_round_trips(store: &dyn Store) {
    let ann = agent("t1", "ann", "sales");
    let bob = agent("t1", "bob", "support");
    store
        .put_tenant(&tenant("t1"), &[ann.clone(), bob.clone()])
        .await
        .expect("put t1");
    store
        .put_tenant(&tenant("t2"), &[agent("t2", "ann", "sales")])
        .await
        .expect("put t2");
    assert_eq!(store.tenants().await.expect("tenants").len(), 2);
    let t1 = TenantId::from("t1");
    assert_eq!(
        store.agent(&t1, &"ann".into()).await.expect("agent"),
        Some(ann.clone())
    );
    let mut ids: Vec<AgentId> = store
        .agents(&t1)
        .await
        .expect("agents")
        .into_iter()
        .map(|a| a.id)
        .collect();
    ids.sort();
    assert_eq!(ids, vec![AgentId::from("ann"), AgentId::from("bob")]);
    let updated = store
        .set_agent_state(&t1, &"ann".into(), AgentState::Busy, 42)
        .await
        .expect("set state")
        .expect("ann exists");
    assert_eq!((updated.state, updated.state_since), (AgentState::Busy, 42));
    assert_eq!(
        store
            .agent(&"t2".into(), &"ann".into())
            .await
            .expect("agent")
            .map(|a| a.state),
        Some(AgentState::LoggedOut),
        "a state change stays in its tenant"
    );
}

async fn tickets_are_single_use(store: &dyn Store) {
    let ticket = Ticket {
        id: "tk1".into(),
        tenant: "t1".into(),
        agent: "ann".into(),
        expires_at: 10,
    };
    store.put_ticket(&ticket).await.expect("put");
    assert_eq!(store.take_ticket("tk1").await.expect("take"), Some(ticket));
    assert_eq!(store.take_ticket("tk1").await.expect("take again"), None);
}

fn connection(id: &str, tenant: &str, agent: &str, group: &str, supervisor: bool) -> Connection {
    Connection {
        id: ConnectionId(id.into()),
        tenant: tenant.into(),
        agent: agent.into(),
        connected_at: 1,
        group: Some(group.into()),
        supervisor,
    }
}

async fn connections_are_found_by_who_sees_them(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    for (id, tenant, agent, group, supervisor) in [
        ("s1", "t1", "ann", "sales", false),
        ("s2", "t1", "ann", "sales", false),
        ("s3", "t1", "bob", "sales", false),
        ("u1", "t1", "dan", "support", false),
        ("v1", "t1", "sue", "support", true),
        ("v2", "t1", "sam", "sales", true),
        ("x1", "t2", "ann", "sales", true),
    ] {
        store
            .put_connection(&connection(id, tenant, agent, group, supervisor))
            .await
            .expect("put connection");
    }
    let seeing = |group: &'static str| {
        let t1 = t1.clone();
        async move {
            let mut ids: Vec<String> = store
                .connections_seeing(&t1, &group.into())
                .await
                .expect("connections seeing")
                .into_iter()
                .map(|c| c.id.0)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        seeing("sales").await,
        ["s1", "s2", "s3", "v1", "v2"],
        "the group's and every supervisor's, each once, none of another tenant"
    );
    assert_eq!(seeing("support").await, ["u1", "v1", "v2"]);
    assert_eq!(
        seeing("billing").await,
        ["v1", "v2"],
        "supervisors see every group"
    );
    store
        .delete_connection(&ConnectionId("v2".into()))
        .await
        .expect("delete");
    store
        .delete_connection(&ConnectionId("s1".into()))
        .await
        .expect("delete");
    assert_eq!(
        seeing("sales").await,
        ["s2", "s3", "v1"],
        "gone with the connection"
    );
}

async fn connections_are_listed_per_agent(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    for (id, tenant, agent) in [
        ("c1", "t1", "ann"),
        ("c2", "t1", "ann"),
        ("c3", "t1", "annie"),
        ("c4", "t2", "ann"),
    ] {
        store
            .put_connection(&connection(id, tenant, agent, "sales", false))
            .await
            .expect("put connection");
    }
    let mut in_t1: Vec<String> = store
        .connections_in_tenant(&t1)
        .await
        .expect("tenant connections")
        .into_iter()
        .map(|c| c.id.0)
        .collect();
    in_t1.sort();
    assert_eq!(
        in_t1,
        vec!["c1", "c2", "c3"],
        "another tenant's connection is not listed"
    );
    let mut ann = store
        .connections_of(&t1, &"ann".into())
        .await
        .expect("list");
    ann.sort();
    assert_eq!(
        ann,
        vec![ConnectionId("c1".into()), ConnectionId("c2".into())]
    );
    let gone = store
        .delete_connection(&ConnectionId("c1".into()))
        .await
        .expect("delete");
    assert_eq!(gone.map(|c| c.agent), Some(AgentId::from("ann")));
    assert_eq!(
        store
            .connections_of(&t1, &"ann".into())
            .await
            .expect("list"),
        vec![ConnectionId("c2".into())]
    );
    assert!(
        store
            .delete_connection(&ConnectionId("c1".into()))
            .await
            .expect("delete again")
            .is_none()
    );
}

fn chat(id: &str, by: &str, with: &str) -> Chat {
    Chat::new("t1".into(), id.into(), by.into(), with.into(), 100, None)
}

async fn one_open_chat_per_pair(store: &dyn Store) {
    let (first, created) = store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    assert!(created);
    let (again, created) = store
        .open_chat(&chat("c2", "bob", "ann"))
        .await
        .expect("open again");
    assert!(!created, "the open chat between the pair is returned");
    assert_eq!(again.id, first.id);
    store
        .end_chat(&"t1".into(), &"c1".into(), &"ann".into(), 200)
        .await
        .expect("end");
    let (next, created) = store
        .open_chat(&chat("c3", "bob", "ann"))
        .await
        .expect("open after end");
    assert!(created, "after the end a new chat opens");
    assert_eq!(next.id, ChatId::from("c3"));
    let chats = store
        .every_chat_of(&"t1".into(), &"ann".into())
        .await
        .expect("chats of ann");
    assert_eq!(chats.len(), 2, "both chats remain readable");
}

fn ids(chats: &[Chat]) -> Vec<String> {
    chats.iter().map(|chat| chat.id.to_string()).collect()
}

async fn open_and_ended_chats_are_paged_per_agent(store: &dyn Store) {
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

async fn messages_are_paged_back_from_any_point(store: &dyn Store) {
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
        let every = store.every_chat_of(&t1, agent).await.expect("every chat");
        let recount = every.iter().filter(|chat| chat.pending_for(agent)).count() as u32;
        let kept = store
            .pending_count(&t1, agent)
            .await
            .expect("pending count");
        out.push((agent.clone(), kept, recount));
    }
    out
}

async fn pending_counts_are_kept_through_sends_seens_and_ends(store: &dyn Store) {
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

async fn appends_are_gapless_and_idempotent(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    let c1 = ChatId::from("c1");
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    let mut seqs = Vec::new();
    for (i, from) in ["ann", "bob", "ann"].iter().enumerate() {
        match store
            .append_message(
                &t1,
                &c1,
                &(*from).into(),
                &format!("m{i}"),
                "hello",
                100 + i as i64,
            )
            .await
            .expect("append")
        {
            Appended::Stored { message, .. } => seqs.push(message.seq),
            other => panic!("expected a stored message, got {other:?}"),
        }
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    match store
        .append_message(&t1, &c1, &"bob".into(), "m1", "hello again", 500)
        .await
        .expect("retry")
    {
        Appended::Duplicate { message, chat } => {
            assert_eq!(message.seq, 2);
            assert_eq!(message.body, "hello");
            assert_eq!(chat.last_seq, 3);
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let all = store.messages(&t1, &c1, 0, 100).await.expect("messages");
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    let tail = store.messages(&t1, &c1, 1, 1).await.expect("page");
    assert_eq!(tail.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2]);
    let stored = store.chat(&t1, &c1).await.expect("chat").expect("exists");
    assert!(stored.pending_for(&"bob".into()));
    assert_eq!(stored.unread_for(&"bob".into()), 1);
    assert_eq!(
        store
            .append_message(&t1, &"nope".into(), &"ann".into(), "m9", "x", 1)
            .await
            .expect("append to nothing"),
        Appended::NoSuchChat
    );
    // Only its participants write to a chat: to anyone else (even one who names a
    // send of theirs) it does not exist, and nothing is stored.
    for client_msg_id in ["m0", "m9"] {
        assert_eq!(
            store
                .append_message(&t1, &c1, &"cara".into(), client_msg_id, "x", 600)
                .await
                .expect("append by an outsider"),
            Appended::NoSuchChat
        );
    }
    let after = store.chat(&t1, &c1).await.expect("chat").expect("exists");
    assert_eq!(after.last_seq, 3, "nothing was appended");
}

async fn ended_chats_take_no_messages(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    let c1 = ChatId::from("c1");
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    let ended = store
        .end_chat(&t1, &c1, &"bob".into(), 300)
        .await
        .expect("end")
        .expect("exists");
    assert_eq!(ended.status, ChatStatus::Ended);
    assert_eq!(
        store
            .append_message(&t1, &c1, &"ann".into(), "m1", "late", 400)
            .await
            .expect("append"),
        Appended::Ended
    );
    assert!(
        store
            .messages(&t1, &c1, 0, 10)
            .await
            .expect("messages")
            .is_empty()
    );
}

async fn chats_are_listed_per_tenant(store: &dyn Store) {
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    store
        .open_chat(&chat("c2", "cat", "dan"))
        .await
        .expect("open");
    store
        .open_chat(&Chat::new(
            "t2".into(),
            "c3".into(),
            "ann".into(),
            "bob".into(),
            1,
            None,
        ))
        .await
        .expect("open in t2");
    let mut ids: Vec<ChatId> = store
        .chats_in_tenant(&"t1".into())
        .await
        .expect("chats")
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    assert_eq!(ids, vec![ChatId::from("c1"), ChatId::from("c2")]);
}

async fn seen_marks_move_forward_only(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    let c1 = ChatId::from("c1");
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    for i in 0..3 {
        store
            .append_message(&t1, &c1, &"ann".into(), &format!("m{i}"), "hi", i)
            .await
            .expect("append");
    }
    let moved = store
        .mark_seen(&t1, &c1, &"bob".into(), 2)
        .await
        .expect("mark");
    assert_eq!(moved.map(|c| c.seen_by(&"bob".into())), Some(2));
    assert!(
        store
            .mark_seen(&t1, &c1, &"bob".into(), 1)
            .await
            .expect("mark back")
            .is_none(),
        "a mark never moves back"
    );
    let stored = store.chat(&t1, &c1).await.expect("chat").expect("exists");
    assert_eq!(stored.seen_by(&"bob".into()), 2);
}

async fn rate_limits_hold_for_their_window(store: &dyn Store) {
    assert!(store.allow("k", 1000, 10_000).await.expect("first"));
    assert!(
        !store
            .allow("k", 1000, 10_500)
            .await
            .expect("inside the window")
    );
    assert!(
        store
            .allow("other", 1000, 10_500)
            .await
            .expect("another key")
    );
    assert!(
        store
            .allow("k", 1000, 11_000)
            .await
            .expect("after the window")
    );
}

async fn quotas_take_a_burst_then_refuse_until_the_next_window(store: &dyn Store) {
    let quota = Quota {
        max: 3,
        window_ms: 1000,
    };
    // The window [10 000, 11 000) takes three, whenever in it they come.
    for now in [10_000, 10_001, 10_002] {
        assert!(
            store.take("k", quota, now).await.expect("take"),
            "a burst of {} goes through",
            quota.max
        );
    }
    assert!(
        !store.take("k", quota, 10_500).await.expect("take"),
        "the fourth in the window is refused"
    );
    assert!(
        !store.take("k", quota, 10_999).await.expect("take"),
        "refused to the window's end"
    );
    assert!(
        store.take("other", quota, 10_999).await.expect("take"),
        "another key counts apart"
    );
    assert!(
        store
            .take(
                "k",
                Quota {
                    max: 5,
                    window_ms: 1000
                },
                10_999
            )
            .await
            .expect("take"),
        "the quota is the caller's: a larger one takes more in the same window"
    );
    // The next window starts afresh, and refusals were not counted against it.
    for now in [11_000, 11_500, 11_999] {
        assert!(store.take("k", quota, now).await.expect("take"), "at {now}");
    }
    assert!(!store.take("k", quota, 11_999).await.expect("take"));
    assert!(
        store.take("k", quota, 13_000).await.expect("take"),
        "a quiet window later, it takes again"
    );
}

async fn sent_messages_are_found_by_sender_and_client_msg_id(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    let c1 = ChatId::from("c1");
    store
        .open_chat(&chat("c1", "ann", "bob"))
        .await
        .expect("open");
    for (id, from) in [("m1", "ann"), ("m2", "bob"), ("m3", "ann")] {
        store
            .append_message(&t1, &c1, &from.into(), id, &format!("body of {id}"), 7)
            .await
            .expect("append");
    }
    let found = store
        .sent_message(&t1, &c1, &"ann".into(), "m3")
        .await
        .expect("look up")
        .expect("Ann sent m3");
    assert_eq!((found.seq, found.body.as_str()), (3, "body of m3"));
    for (tenant, chat, from, id) in [
        ("t1", "c1", "bob", "m3"),
        ("t1", "c1", "ann", "m2"),
        ("t1", "c1", "ann", "m9"),
        ("t1", "c2", "ann", "m3"),
        ("t2", "c1", "ann", "m3"),
    ] {
        assert_eq!(
            store
                .sent_message(&tenant.into(), &chat.into(), &from.into(), id)
                .await
                .expect("look up"),
            None,
            "{from} did not send {id} in {tenant}/{chat}"
        );
    }
    assert_eq!(
        store.messages(&t1, &c1, 0, 10).await.expect("read").len(),
        3,
        "looking up stores nothing"
    );
}
