//! The store conformance suite: what every adapter of the store port must do, as plain
//! async checks over `&dyn Store`. Each adapter's tests run each of them against a fresh,
//! empty store, one `#[test]` per check ([`conformance_tests!`](crate::conformance_tests)):
//! the embedded store, DynamoDB at an emulator, and the in-memory store of the tests.

mod audit;
mod connections;
mod help;
mod inbox;
mod started;
mod sweep;

use crate::model::{Agent, Chat, Connection, ConnectionId, Tenant, Ticket};
use crate::ports::{Appended, Quota, StartedIndex, Store};
use protocol::{AgentId, AgentState, ChatId, ChatStatus, Role, TenantId};

/// Every check of the suite, by name.
pub const CHECKS: [&str; 21] = [
    "directory_round_trips",
    "tickets_are_single_use",
    "connections_are_listed_per_agent",
    "one_open_chat_per_pair",
    "appends_are_gapless_and_idempotent",
    "ended_chats_take_no_messages",
    "chats_are_listed_by_start_time",
    "seen_marks_move_forward_only",
    "rate_limits_hold_for_their_window",
    "quotas_take_a_burst_then_refuse_until_the_next_window",
    "sent_messages_are_found_by_sender_and_client_msg_id",
    "open_and_ended_chats_are_paged_per_agent",
    "messages_are_paged_back_from_any_point",
    "pending_counts_are_kept_through_sends_seens_and_ends",
    "connections_are_found_by_who_sees_them",
    "connections_are_checked_when_due",
    "a_chat_s_audience_is_read_at_once",
    "transcript_reads_are_kept_and_listed_latest_first",
    "help_requests_are_taken_once",
    "of_many_takers_at_once_one_wins",
    "waiting_help_is_listed_oldest_first_and_hands_are_one_per_agent",
];

/// Runs one check by name against an empty store; panics with a message on failure.
pub async fn run(name: &str, store: &dyn Store) {
    match name {
        "directory_round_trips" => directory_round_trips(store).await,
        "tickets_are_single_use" => tickets_are_single_use(store).await,
        "connections_are_listed_per_agent" => {
            connections::connections_are_listed_per_agent(store).await
        }
        "one_open_chat_per_pair" => one_open_chat_per_pair(store).await,
        "appends_are_gapless_and_idempotent" => appends_are_gapless_and_idempotent(store).await,
        "ended_chats_take_no_messages" => ended_chats_take_no_messages(store).await,
        "chats_are_listed_by_start_time" => started::chats_are_listed_by_start_time(store).await,
        "seen_marks_move_forward_only" => seen_marks_move_forward_only(store).await,
        "rate_limits_hold_for_their_window" => rate_limits_hold_for_their_window(store).await,
        "quotas_take_a_burst_then_refuse_until_the_next_window" => {
            quotas_take_a_burst_then_refuse_until_the_next_window(store).await
        }
        "sent_messages_are_found_by_sender_and_client_msg_id" => {
            sent_messages_are_found_by_sender_and_client_msg_id(store).await
        }
        "open_and_ended_chats_are_paged_per_agent" => {
            inbox::open_and_ended_chats_are_paged_per_agent(store).await
        }
        "messages_are_paged_back_from_any_point" => {
            inbox::messages_are_paged_back_from_any_point(store).await
        }
        "pending_counts_are_kept_through_sends_seens_and_ends" => {
            inbox::pending_counts_are_kept_through_sends_seens_and_ends(store).await
        }
        "connections_are_found_by_who_sees_them" => {
            connections::connections_are_found_by_who_sees_them(store).await
        }
        "connections_are_checked_when_due" => sweep::connections_are_checked_when_due(store).await,
        "a_chat_s_audience_is_read_at_once" => {
            inbox::a_chat_s_audience_is_read_at_once(store).await
        }
        "transcript_reads_are_kept_and_listed_latest_first" => {
            audit::transcript_reads_are_kept_and_listed_latest_first(store).await
        }
        "help_requests_are_taken_once" => help::help_requests_are_taken_once(store).await,
        "of_many_takers_at_once_one_wins" => help::of_many_takers_at_once_one_wins(store).await,
        "waiting_help_is_listed_oldest_first_and_hands_are_one_per_agent" => {
            help::waiting_help_is_listed_oldest_first_and_hands_are_one_per_agent(store).await
        }
        other => panic!("no conformance check named {other}"),
    }
}

/// One `#[test]` per check of the suite, each calling `$run("name")` (a function of the
/// adapter's tests that runs [`run`] on a fresh store of its own), and a test that every
/// check of [`CHECKS`] has one: a failure names its check, and `cargo test NAME` runs one.
#[macro_export]
macro_rules! conformance_tests {
    ($run:path) => {
        $crate::conformance_tests!(@each $run;
            directory_round_trips,
            tickets_are_single_use,
            connections_are_listed_per_agent,
            one_open_chat_per_pair,
            appends_are_gapless_and_idempotent,
            ended_chats_take_no_messages,
            chats_are_listed_by_start_time,
            seen_marks_move_forward_only,
            rate_limits_hold_for_their_window,
            quotas_take_a_burst_then_refuse_until_the_next_window,
            sent_messages_are_found_by_sender_and_client_msg_id,
            open_and_ended_chats_are_paged_per_agent,
            messages_are_paged_back_from_any_point,
            pending_counts_are_kept_through_sends_seens_and_ends,
            connections_are_found_by_who_sees_them,
            connections_are_checked_when_due,
            a_chat_s_audience_is_read_at_once,
            transcript_reads_are_kept_and_listed_latest_first,
            help_requests_are_taken_once,
            of_many_takers_at_once_one_wins,
            waiting_help_is_listed_oldest_first_and_hands_are_one_per_agent,
        );
    };
    (@each $run:path; $($check:ident,)+) => {
        $(
            #[test]
            fn $check() {
                $run(stringify!($check));
            }
        )+

        #[test]
        fn every_conformance_check_has_its_test() {
            assert_eq!(
                [$(stringify!($check)),+].as_slice(),
                $crate::conformance::CHECKS.as_slice()
            );
        }
    };
}

pub(super) fn tenant(id: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name: format!("Tenant {id}"),
        response_target_ms: None,
    }
}

pub(super) fn agent(tenant: &str, id: &str, group: &str) -> Agent {
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
    let mut named: Vec<AgentId> = store
        .agents_named(&t1, &["bob".into(), "zed".into(), "ann".into()])
        .await
        .expect("agents named")
        .into_iter()
        .map(|a| a.id)
        .collect();
    named.sort();
    assert_eq!(
        named,
        vec![AgentId::from("ann"), AgentId::from("bob")],
        "those in the directory, each once"
    );
    assert!(
        store
            .agents_named(&t1, &[])
            .await
            .expect("no agents named")
            .is_empty()
    );
    let of_group = |group: &'static str| {
        let t1 = t1.clone();
        async move {
            let mut ids: Vec<String> = store
                .agents_of_group(&t1, &group.into())
                .await
                .expect("agents of a group")
                .into_iter()
                .map(|a| a.id.to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(of_group("sales").await, ["ann"]);
    assert_eq!(of_group("support").await, ["bob"]);
    // Ann moves to support: she leaves sales.
    store
        .put_tenant(&tenant("t1"), &[agent("t1", "ann", "support")])
        .await
        .expect("moved");
    assert_eq!(of_group("sales").await, Vec::<String>::new());
    assert_eq!(of_group("support").await, ["ann", "bob"]);
    assert_eq!(
        store
            .agents_of_group(&"t2".into(), &"sales".into())
            .await
            .expect("t2")
            .len(),
        1,
        "each tenant's own"
    );
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

pub(super) fn connection(
    id: &str,
    tenant: &str,
    agent: &str,
    group: &str,
    supervisor: bool,
) -> Connection {
    Connection {
        id: ConnectionId(id.into()),
        tenant: tenant.into(),
        agent: agent.into(),
        connected_at: 1,
        group: Some(group.into()),
        supervisor,
        check_at: 0,
    }
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
    let chats =
        started::every_chat(store, &"t1".into(), &StartedIndex::Agent("ann".into()), 10).await;
    assert_eq!(chats.len(), 2, "both chats remain readable");
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
