//! Component tests, in headless Chromium: the state that drives the console — the count
//! of chats requiring a response, the status icons, the Multi-Chat Table's order, and the
//! outbox that makes sends survive a reconnect.

use console_frontend::state::{ConsoleState, Notice, SortKey, arrange_agents, may_reveal_gap};
use protocol::{
    AgentId, AgentState, AgentView, ChatId, ChatStatus, ChatView, MessageView, Role, ServerFrame,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn agent(id: &str) -> AgentView {
    AgentView {
        id: id.into(),
        name: id.to_uppercase(),
        group: "sales".into(),
        role: Role::Agent,
        state: AgentState::Available,
        state_since: 0,
    }
}

fn chat(
    id: &str,
    with: &str,
    pending: bool,
    waiting_since: Option<i64>,
    status: ChatStatus,
) -> ChatView {
    ChatView {
        id: id.into(),
        with: agent(with),
        status,
        pending,
        unread: u32::from(pending),
        waiting_since,
        last_seq: 0,
        seen_by_other: 0,
        started_at: 1,
        ended_at: None,
        interaction: None,
    }
}

fn message(chat: &str, seq: u64, from: &str, client_msg_id: &str) -> MessageView {
    MessageView {
        chat_id: chat.into(),
        seq,
        from: from.into(),
        body: format!("message {seq}"),
        sent_at: seq as i64 * 1000,
        client_msg_id: client_msg_id.into(),
    }
}

fn signed_in_as_bob() -> ConsoleState {
    let mut state = ConsoleState::default();
    state.apply(
        ServerFrame::Welcome {
            protocol: protocol::PROTOCOL_VERSION,
            me: agent("bob"),
            chats: vec![],
            pending_chats: 0,
        },
        0,
    );
    state
}

#[wasm_bindgen_test]
fn an_incoming_chat_raises_the_count_and_responding_clears_it() {
    let mut state = signed_in_as_bob();
    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", false, None, ChatStatus::Open),
            pending_chats: 0,
        },
        0,
    );
    let notice = state.apply(
        ServerFrame::Message {
            message: message("c1", 1, "ann", "a-1"),
        },
        0,
    );
    assert_eq!(notice, Notice::Incoming(ChatId::from("c1")));
    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", true, Some(1000), ChatStatus::Open),
            pending_chats: 1,
        },
        0,
    );
    assert_eq!(state.pending_chats, 1);
    assert!(
        state
            .chat_with(&AgentId::from("ann"))
            .is_some_and(|c| c.view.pending)
    );

    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", false, None, ChatStatus::Open),
            pending_chats: 0,
        },
        0,
    );
    assert_eq!(state.pending_chats, 0);
}

#[wasm_bindgen_test]
fn the_multi_chat_table_puts_the_longest_waiting_first_and_ended_chats_last() {
    let mut state = signed_in_as_bob();
    for view in [
        chat("ended", "cara", false, None, ChatStatus::Ended),
        chat("recent", "ann", true, Some(5_000), ChatStatus::Open),
        chat("quiet", "dan", false, None, ChatStatus::Open),
        chat("oldest", "eve", true, Some(1_000), ChatStatus::Open),
    ] {
        state.apply(
            ServerFrame::Chat {
                chat: view,
                pending_chats: 2,
            },
            0,
        );
    }
    let order: Vec<&str> = state.table().iter().map(|e| e.view.id.as_str()).collect();
    assert_eq!(order, vec!["oldest", "recent", "quiet", "ended"]);
}

#[wasm_bindgen_test]
fn unacknowledged_sends_stay_in_the_outbox_until_acknowledged() {
    let mut state = signed_in_as_bob();
    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", false, None, ChatStatus::Open),
            pending_chats: 0,
        },
        0,
    );
    state.queue_send("c1".into(), "b-1".into(), "first".into());
    state.queue_send("c1".into(), "b-2".into(), "second".into());
    assert_eq!(state.unacknowledged(&"c1".into()).len(), 2);

    // The link drops here; on reconnect both are sent again, in order.
    let resend: Vec<String> = state
        .outbox
        .iter()
        .map(|o| o.client_msg_id.clone())
        .collect();
    assert_eq!(resend, vec!["b-1", "b-2"]);

    state.apply(
        ServerFrame::Ack {
            chat_id: "c1".into(),
            client_msg_id: "b-1".into(),
            seq: 1,
        },
        0,
    );
    state.apply(
        ServerFrame::Message {
            message: message("c1", 2, "bob", "b-2"),
        },
        0,
    );
    assert!(
        state.outbox.is_empty(),
        "an ack or my own echoed message clears the outbox"
    );
}

#[wasm_bindgen_test]
fn a_refused_send_leaves_the_outbox_and_is_reported() {
    let mut state = signed_in_as_bob();
    state.queue_send("c1".into(), "b-1".into(), "too late".into());
    let notice = state.apply(
        ServerFrame::Error {
            code: protocol::ErrorCode::ChatEnded,
            message: "this chat has ended".into(),
            client_msg_id: Some("b-1".into()),
        },
        0,
    );
    assert!(state.outbox.is_empty());
    assert_eq!(notice, Notice::Refused("this chat has ended".into()));
}

#[wasm_bindgen_test]
fn a_rate_limited_send_stays_in_the_outbox_to_go_again() {
    let mut state = signed_in_as_bob();
    state.queue_send("c1".into(), "b-1".into(), "one of many lines".into());
    let notice = state.apply(
        ServerFrame::Error {
            code: protocol::ErrorCode::RateLimited,
            message: "too many messages at once".into(),
            client_msg_id: Some("b-1".into()),
        },
        0,
    );
    assert_eq!(notice, Notice::RetryLater("b-1".into()));
    assert_eq!(state.outbox.len(), 1, "not lost");
    let notice = state.apply(
        ServerFrame::Error {
            code: protocol::ErrorCode::Internal,
            message: "the store is unavailable".into(),
            client_msg_id: Some("b-1".into()),
        },
        0,
    );
    assert_eq!(
        notice,
        Notice::RetryLater("b-1".into()),
        "perhaps stored: sent again"
    );
}

#[wasm_bindgen_test]
fn resume_points_stop_at_the_first_gap() {
    let mut state = signed_in_as_bob();
    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", false, None, ChatStatus::Open),
            pending_chats: 0,
        },
        0,
    );
    for seq in [1, 2, 4] {
        state.apply(
            ServerFrame::Message {
                message: message("c1", seq, "ann", &format!("a-{seq}")),
            },
            0,
        );
    }
    assert_eq!(state.resume_points().get(&ChatId::from("c1")), Some(&2));
    // A duplicate delivery is shown once.
    state.apply(
        ServerFrame::Message {
            message: message("c1", 2, "ann", "a-2"),
        },
        0,
    );
    assert_eq!(state.chats[&ChatId::from("c1")].messages.len(), 3);
}

/// Bob in chat c1 with Ann, holding her messages `held`.
fn bob_holding(held: &[u64]) -> ConsoleState {
    let mut state = signed_in_as_bob();
    let mut view = chat("c1", "ann", false, None, ChatStatus::Open);
    view.last_seq = held.iter().copied().max().unwrap_or(0);
    state.apply(
        ServerFrame::Chat {
            chat: view,
            pending_chats: 0,
        },
        0,
    );
    for seq in held {
        state.apply(
            ServerFrame::Message {
                message: message("c1", *seq, "ann", &format!("a-{seq}")),
            },
            0,
        );
    }
    state
}

#[wasm_bindgen_test]
fn a_message_numbered_past_the_next_one_reveals_the_lost_one_and_fetching_it_fills_the_gap() {
    let c1 = ChatId::from("c1");
    let mut state = bob_holding(&[1]);
    assert_eq!(state.gap(&c1), None, "nothing missing yet");
    // Message 2's push was lost; message 3 arrives.
    let third = ServerFrame::Message {
        message: message("c1", 3, "ann", "a-3"),
    };
    assert_eq!(may_reveal_gap(&third), Some((c1.clone(), 3)));
    state.apply(third, 0);
    assert!(state.lacks_before(&c1, 3), "message 2 is missing");
    assert_eq!(state.gap(&c1), Some(1), "fetch what follows 1");
    // The catch-up brings 2 and 3 again (3 is already held): each is held once, in order.
    for seq in [2, 3] {
        let notice = state.apply(
            ServerFrame::Message {
                message: message("c1", seq, "ann", &format!("a-{seq}")),
            },
            0,
        );
        let expected = if seq == 2 {
            Notice::Incoming(c1.clone())
        } else {
            Notice::None
        };
        assert_eq!(notice, expected, "message {seq}");
    }
    assert_eq!(state.gap(&c1), None);
    assert!(!state.lacks_before(&c1, 3));
    let held: Vec<u64> = state.chats[&c1].messages.keys().copied().collect();
    assert_eq!(held, [1, 2, 3]);
    assert_eq!(state.resume_points().get(&c1), Some(&3));
}

#[wasm_bindgen_test]
fn a_chat_update_ahead_of_the_messages_held_reveals_a_gap() {
    let c1 = ChatId::from("c1");
    let mut state = bob_holding(&[1, 2]);
    // The pushes of messages 3 and 4 were lost; the chat's update (pending, unread, last
    // sequence number) arrives.
    let mut view = chat("c1", "ann", true, Some(4_000), ChatStatus::Open);
    view.last_seq = 4;
    let update = ServerFrame::Chat {
        chat: view,
        pending_chats: 1,
    };
    assert_eq!(may_reveal_gap(&update), Some((c1.clone(), 4)));
    state.apply(update, 0);
    assert!(state.lacks_before(&c1, 4));
    assert_eq!(state.gap(&c1), Some(2));
}

#[wasm_bindgen_test]
fn the_welcome_after_a_reconnect_is_no_gap_and_neither_is_its_resume_in_order() {
    let mut view = chat("c1", "ann", false, None, ChatStatus::Open);
    view.last_seq = 7;
    let welcome = ServerFrame::Welcome {
        protocol: protocol::PROTOCOL_VERSION,
        me: agent("bob"),
        chats: vec![view],
        pending_chats: 0,
    };
    assert_eq!(may_reveal_gap(&welcome), None);
    // The resume brings messages 1 to 7 in order: none of them shows a gap, though the
    // welcome said the chat goes up to 7.
    let mut state = ConsoleState::default();
    state.apply(welcome, 0);
    for seq in 1..=7 {
        let frame = ServerFrame::Message {
            message: message("c1", seq, "ann", &format!("a-{seq}")),
        };
        let (chat, shown) = may_reveal_gap(&frame).expect("a message");
        state.apply(frame, 0);
        assert!(!state.lacks_before(&chat, shown), "message {seq}");
    }
    // Typing and receipts tell nothing about what is held.
    let typing = ServerFrame::Typing {
        chat_id: "c1".into(),
        from: "ann".into(),
    };
    assert_eq!(may_reveal_gap(&typing), None);
}

#[wasm_bindgen_test]
fn live_agent_states_update_the_list_and_the_chats() {
    let mut state = signed_in_as_bob();
    state.set_agents(vec![agent("ann"), agent("cara")]);
    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", false, None, ChatStatus::Open),
            pending_chats: 0,
        },
        0,
    );
    let mut busy = agent("ann");
    busy.state = AgentState::Busy;
    state.apply(ServerFrame::Agent { agent: busy }, 0);
    assert_eq!(state.agent_list()[0].state, AgentState::Busy);
    assert_eq!(
        state.chats[&ChatId::from("c1")].view.with.state,
        AgentState::Busy
    );
    let mut me = agent("bob");
    me.state = AgentState::OnBreak;
    state.apply(ServerFrame::Agent { agent: me }, 0);
    assert_eq!(
        state.me.as_ref().map(|m| m.state),
        Some(AgentState::OnBreak)
    );
    assert_eq!(state.agent_list().len(), 2, "I am not listed to myself");
}

#[wasm_bindgen_test]
fn typing_shows_for_a_few_seconds_and_stops_when_the_message_arrives() {
    let mut state = signed_in_as_bob();
    state.apply(
        ServerFrame::Chat {
            chat: chat("c1", "ann", false, None, ChatStatus::Open),
            pending_chats: 0,
        },
        0,
    );
    state.apply(
        ServerFrame::Typing {
            chat_id: "c1".into(),
            from: "ann".into(),
        },
        1_000,
    );
    assert!(state.is_typing(&"c1".into(), 2_000));
    assert!(!state.is_typing(
        &"c1".into(),
        1_000 + console_frontend::state::TYPING_SHOWS_MS
    ));
    state.apply(
        ServerFrame::Typing {
            chat_id: "c1".into(),
            from: "ann".into(),
        },
        3_000,
    );
    state.apply(
        ServerFrame::Message {
            message: message("c1", 1, "ann", "a-1"),
        },
        3_500,
    );
    assert!(!state.is_typing(&"c1".into(), 3_600));
    assert_eq!(state.unseen(&"c1".into(), 0), Some(1));
    assert_eq!(state.unseen(&"c1".into(), 1), None);
    state.apply(
        ServerFrame::Seen {
            chat_id: "c1".into(),
            by: "ann".into(),
            seq: 4,
        },
        0,
    );
    assert_eq!(state.chats[&ChatId::from("c1")].view.seen_by_other, 4);
}

#[wasm_bindgen_test]
fn the_agent_list_filters_by_name_and_sorts_by_any_column() {
    let mut ann = agent("ann");
    ann.name = "Ann Lee".into();
    ann.state_since = 30;
    let mut bob = agent("bob");
    bob.name = "Bob Stone".into();
    bob.group = "support".into();
    bob.state = AgentState::Busy;
    bob.state_since = 10;
    let mut cara = agent("cara");
    cara.name = "Cara Diaz".into();
    cara.state_since = 20;
    let all = vec![bob.clone(), cara.clone(), ann.clone()];
    let names = |list: Vec<AgentView>| list.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(arrange_agents(all.clone(), "", SortKey::Name, true)),
        ["Ann Lee", "Bob Stone", "Cara Diaz"]
    );
    assert_eq!(
        names(arrange_agents(all.clone(), "", SortKey::Name, false)),
        ["Cara Diaz", "Bob Stone", "Ann Lee"]
    );
    assert_eq!(
        names(arrange_agents(all.clone(), "  sTo ", SortKey::Name, true)),
        ["Bob Stone"]
    );
    assert_eq!(
        names(arrange_agents(all.clone(), "", SortKey::Group, true)),
        ["Ann Lee", "Cara Diaz", "Bob Stone"]
    );
    assert_eq!(
        names(arrange_agents(all.clone(), "", SortKey::State, true)),
        ["Ann Lee", "Cara Diaz", "Bob Stone"]
    );
    assert_eq!(
        names(arrange_agents(all, "", SortKey::TimeInState, true)),
        ["Bob Stone", "Cara Diaz", "Ann Lee"]
    );
}
