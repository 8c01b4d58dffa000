//! Component tests, in headless Chromium: the state that drives the console — the count
//! of chats requiring a response, the status icons, the Multi-Chat Table's order, the
//! History list, what is held of each chat and what it lacks, and the outbox that makes
//! sends survive a reconnect.

use console_frontend::state::{
    ConsoleState, HistoryPaging, MAX_RESUME, Missing, Notice, SortKey, arrange_agents,
    may_reveal_gap,
};
use protocol::{
    AgentId, AgentState, AgentView, ChatId, ChatStatus, ChatView, ErrorCode, MessageView, Role,
    ServerFrame,
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
        last_at: None,
        last_line: None,
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
            more_open: None,
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
    // Protocol 3: the message comes with the chat's new state and the count, one frame.
    let notice = state.apply(
        ServerFrame::Message {
            message: message("c1", 1, "ann", "a-1"),
            chat: Some(ChatView {
                last_seq: 1,
                ..chat("c1", "ann", true, Some(1000), ChatStatus::Open)
            }),
            pending_chats: Some(1),
        },
        0,
    );
    assert_eq!(notice, Notice::Incoming(ChatId::from("c1")));
    assert_eq!(state.pending_chats, 1);
    assert!(
        state
            .chat_with(&AgentId::from("ann"))
            .is_some_and(|c| c.view.pending)
    );

    // Bob answers: the acknowledgement carries the chat as he now sees it.
    state.apply(
        ServerFrame::Ack {
            chat_id: "c1".into(),
            client_msg_id: "b-1".into(),
            seq: 2,
            sent_at: None,
            chat: Some(ChatView {
                last_seq: 2,
                ..chat("c1", "ann", false, None, ChatStatus::Open)
            }),
            pending_chats: Some(0),
        },
        0,
    );
    assert_eq!(state.pending_chats, 0);
    assert!(
        state
            .chat_with(&AgentId::from("ann"))
            .is_some_and(|c| !c.view.pending)
    );
}

#[wasm_bindgen_test]
fn the_multi_chat_table_puts_the_longest_waiting_first_and_lists_no_ended_chat() {
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
    assert_eq!(order, vec!["oldest", "recent", "quiet"]);
    let history: Vec<&str> = state.history.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(history, vec!["ended"]);
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
    for (id, body) in [("b-1", "first"), ("b-2", "second")] {
        state
            .queue_send("c1".into(), id.into(), body.into())
            .expect("short enough to send");
    }
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
            sent_at: None,
            chat: None,
            pending_chats: None,
        },
        0,
    );
    state.apply(
        ServerFrame::Message {
            message: message("c1", 2, "bob", "b-2"),
            chat: None,
            pending_chats: None,
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
    state
        .queue_send("c1".into(), "b-1".into(), "too late".into())
        .expect("short enough to send");
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
    state
        .queue_send("c1".into(), "b-1".into(), "one of many lines".into())
        .expect("short enough to send");
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
                chat: None,
                pending_chats: None,
            },
            0,
        );
    }
    assert_eq!(state.resume_points().get(&ChatId::from("c1")), Some(&2));
    // A duplicate delivery is shown once.
    state.apply(
        ServerFrame::Message {
            message: message("c1", 2, "ann", "a-2"),
            chat: None,
            pending_chats: None,
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
                chat: None,
                pending_chats: None,
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
    assert_eq!(state.missing(&c1), None, "nothing missing yet");
    // Message 2's push was lost; message 3 arrives.
    let third = ServerFrame::Message {
        message: message("c1", 3, "ann", "a-3"),
        chat: None,
        pending_chats: None,
    };
    assert_eq!(may_reveal_gap(&third), Some((c1.clone(), 3)));
    state.apply(third, 0);
    assert!(state.lacks_before(&c1, 3), "message 2 is missing");
    assert_eq!(
        state.missing(&c1),
        Some(Missing::After(1)),
        "fetch what follows 1"
    );
    // The catch-up brings 2 and 3 again (3 is already held): each is held once, in order.
    for seq in [2, 3] {
        let notice = state.apply(
            ServerFrame::Message {
                message: message("c1", seq, "ann", &format!("a-{seq}")),
                chat: None,
                pending_chats: None,
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
    assert_eq!(state.missing(&c1), None);
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
    assert_eq!(state.missing(&c1), Some(Missing::After(2)));
}

#[wasm_bindgen_test]
fn the_welcome_after_a_reconnect_is_no_gap_and_neither_is_its_resume_in_order() {
    let mut view = chat("c1", "ann", false, None, ChatStatus::Open);
    view.last_seq = 7;
    let welcome = ServerFrame::Welcome {
        protocol: protocol::PROTOCOL_VERSION,
        me: agent("bob"),
        chats: vec![view],
        more_open: None,
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
            chat: None,
            pending_chats: None,
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
            chat: None,
            pending_chats: None,
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

/// Bob holding the chats `views` (as their `chat` frames bring them).
fn bob_with(views: Vec<ChatView>) -> ConsoleState {
    let mut state = signed_in_as_bob();
    for view in views {
        state.apply(
            ServerFrame::Chat {
                chat: view,
                pending_chats: 0,
            },
            0,
        );
    }
    state
}

fn ended(id: &str, with: &str, ended_at: i64) -> ChatView {
    let mut view = chat(id, with, false, None, ChatStatus::Ended);
    view.ended_at = Some(ended_at);
    view
}

#[wasm_bindgen_test]
fn a_chat_held_from_its_latest_page_is_held_through_its_last_message_and_only_a_hole_above_is_a_gap()
 {
    let c1 = ChatId::from("c1");
    // The resume brought the latest page of a long chat: 951 to 1000.
    let held: Vec<u64> = (951..=1000).collect();
    let mut state = bob_holding(&held);
    let entry = &state.chats[&c1];
    assert_eq!(entry.held_through(), 1000);
    assert_eq!(entry.older_before(), Some(951), "older history precedes it");
    assert_eq!(state.missing(&c1), None, "what precedes 951 is no gap");
    assert_eq!(state.resume_points().get(&c1), Some(&1000));

    // Message 1001's push was lost; 1002 arrives: what follows 1000 is missing.
    state.apply(
        ServerFrame::Message {
            message: message("c1", 1002, "ann", "a-1002"),
            chat: None,
            pending_chats: None,
        },
        0,
    );
    assert!(state.lacks_before(&c1, 1002));
    assert_eq!(state.missing(&c1), Some(Missing::After(1000)));
    assert_eq!(state.resume_points().get(&c1), Some(&1000));

    // Older messages loaded as the window scrolls up join the run, and raise no notice.
    state.add_messages(
        (901..=950)
            .map(|seq| message("c1", seq, "ann", "old"))
            .collect(),
    );
    let entry = &state.chats[&c1];
    assert_eq!(entry.older_before(), Some(901));
    assert_eq!(entry.held_through(), 1000);
    assert_eq!(entry.messages.len(), 101);
}

#[wasm_bindgen_test]
fn a_chat_holding_no_message_is_loaded_from_its_latest_page_not_from_its_first() {
    let mut state = signed_in_as_bob();
    let mut view = ended("c9", "ann", 5_000);
    view.last_seq = 700;
    state.history_page(vec![view.clone()], None);
    state.open_from_history(view);
    let c9 = ChatId::from("c9");
    assert_eq!(
        state.missing(&c9),
        Some(Missing::Before(701)),
        "its latest page, never after=0"
    );
    state.add_messages(
        (651..=700)
            .map(|seq| message("c9", seq, "ann", "x"))
            .collect(),
    );
    assert_eq!(state.missing(&c9), None);
    assert_eq!(state.chats[&c9].older_before(), Some(651));
    // A chat with no message at all lacks nothing.
    let empty = bob_with(vec![chat("c2", "dan", false, None, ChatStatus::Open)]);
    assert_eq!(empty.missing(&"c2".into()), None);
}

#[wasm_bindgen_test]
fn a_welcome_with_more_open_chats_is_completed_by_the_pages_of_open_chats() {
    let mut state = ConsoleState::default();
    state.apply(
        ServerFrame::Welcome {
            protocol: protocol::PROTOCOL_VERSION,
            me: agent("bob"),
            chats: vec![chat("c1", "ann", false, None, ChatStatus::Open)],
            more_open: Some("after-c1".into()),
            pending_chats: 1,
        },
        0,
    );
    assert_eq!(state.table().len(), 1);
    // A push brings c3's newer view before its page is read.
    let mut pushed = chat("c3", "dan", false, None, ChatStatus::Open);
    pushed.last_seq = 5;
    state.apply(
        ServerFrame::Chat {
            chat: pushed,
            pending_chats: 1,
        },
        0,
    );
    state.open_page(
        vec![
            chat("c2", "cara", true, Some(2_000), ChatStatus::Open),
            chat("c3", "dan", false, None, ChatStatus::Open),
        ],
        false,
    );
    state.open_page(vec![chat("c4", "eve", false, None, ChatStatus::Open)], true);
    let order: Vec<&str> = state.table().iter().map(|e| e.view.id.as_str()).collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(order[0], "c2", "the pending chat first");
    assert_eq!(
        state.chats[&ChatId::from("c3")].view.last_seq,
        5,
        "the page's older view does not replace the pushed one"
    );
}

#[wasm_bindgen_test]
fn after_a_reconnect_an_open_chat_the_server_no_longer_lists_and_the_hello_did_not_name_is_let_go()
{
    // Bob holds more open chats than a hello names: the 100 latest active are named.
    let views: Vec<ChatView> = (0..MAX_RESUME as i64 + 2)
        .map(|n| {
            let mut view = chat(&format!("c{n:03}"), "ann", false, None, ChatStatus::Open);
            view.last_at = Some(1_000 + n);
            view
        })
        .collect();
    let mut state = bob_with(views);
    let named = state.resume_points();
    assert_eq!(named.len(), MAX_RESUME);
    assert!(!named.contains_key(&ChatId::from("c000")));
    assert!(!named.contains_key(&ChatId::from("c001")));
    // c000 and c001 ended while he was away; c001 is open still, on a later page.
    state.apply(
        ServerFrame::Welcome {
            protocol: protocol::PROTOCOL_VERSION,
            me: agent("bob"),
            chats: vec![chat("c050", "ann", false, None, ChatStatus::Open)],
            more_open: Some("after-c050".into()),
            pending_chats: 0,
        },
        0,
    );
    let in_table =
        |state: &ConsoleState, id: &str| state.table().iter().any(|e| e.view.id.as_str() == id);
    assert!(in_table(&state, "c000"), "pages to come");
    state.open_page(
        vec![chat("c001", "ann", false, None, ChatStatus::Open)],
        true,
    );
    assert!(!in_table(&state, "c000"), "it ended meanwhile");
    assert!(in_table(&state, "c001"));
    // The named ones wait for their `chat` frame.
    assert!(in_table(&state, "c101"));
}

#[wasm_bindgen_test]
fn a_chat_that_ends_leaves_the_table_for_the_top_of_the_history_list() {
    let mut state = bob_with(vec![
        chat("c1", "ann", false, None, ChatStatus::Open),
        chat("c2", "cara", false, None, ChatStatus::Open),
    ]);
    state.history_page(
        vec![ended("h1", "dan", 500), ended("h2", "eve", 400)],
        Some("after-h2".into()),
    );
    assert_eq!(state.history_paging, HistoryPaging::More("after-h2".into()));
    state.apply(
        ServerFrame::Chat {
            chat: ended("c1", "ann", 1_000),
            pending_chats: 0,
        },
        0,
    );
    let table: Vec<&str> = state.table().iter().map(|e| e.view.id.as_str()).collect();
    assert_eq!(table, ["c2"]);
    let history: Vec<&str> = state.history.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(history, ["c1", "h1", "h2"]);
    // Still held, to stay in the chat window.
    assert_eq!(
        state.chats[&ChatId::from("c1")].view.status,
        ChatStatus::Ended
    );
    // The next page lists it again: once.
    state.history_page(
        vec![ended("c1", "ann", 1_000), ended("h3", "fay", 300)],
        None,
    );
    let history: Vec<&str> = state.history.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(history, ["c1", "h1", "h2", "h3"]);
    assert_eq!(state.history_paging, HistoryPaging::Complete);
}

#[wasm_bindgen_test]
fn resume_points_name_the_open_chats_and_the_chat_on_show_only() {
    let mut state = bob_with(vec![
        chat("open", "ann", false, None, ChatStatus::Open),
        ended("ended", "cara", 100),
        ended("shown", "dan", 200),
    ]);
    let named = |state: &ConsoleState| {
        state
            .resume_points()
            .into_keys()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(named(&state), ["open"]);
    state.shown = Some("shown".into());
    assert_eq!(named(&state), ["open", "shown"]);
}

#[wasm_bindgen_test]
fn a_body_the_server_would_refuse_is_not_sent_and_its_text_comes_back() {
    let mut state = bob_with(vec![chat("c1", "ann", false, None, ChatStatus::Open)]);
    // 8,193 quotes are 16,386 bytes once JSON escapes them.
    let quotes = "\"".repeat(8_193);
    let refused = state.queue_send("c1".into(), "b-1".into(), quotes.clone());
    let Err(Notice::Unsendable {
        chat_id,
        body,
        message,
    }) = refused
    else {
        panic!("sent: {refused:?}");
    };
    assert_eq!((chat_id.as_str(), body), ("c1", quotes));
    assert!(message.contains("16,386 of 16,384 bytes"), "{message}");
    assert!(state.outbox.is_empty(), "nothing queued to send");
    // Exactly the most goes.
    assert!(
        state
            .queue_send("c1".into(), "b-2".into(), "a".repeat(16_384))
            .is_ok()
    );
    assert_eq!(state.outbox.len(), 1);
}

#[wasm_bindgen_test]
fn a_send_the_server_finds_too_large_leaves_the_outbox_and_its_text_comes_back() {
    let mut state = bob_with(vec![chat("c1", "ann", false, None, ChatStatus::Open)]);
    state
        .queue_send("c1".into(), "b-1".into(), "Counted otherwise".into())
        .expect("short enough here");
    let notice = state.apply(
        ServerFrame::Error {
            code: ErrorCode::MessageTooLarge,
            message: "the message is longer than 16384 bytes".into(),
            client_msg_id: Some("b-1".into()),
        },
        0,
    );
    assert_eq!(
        notice,
        Notice::Unsendable {
            chat_id: "c1".into(),
            body: "Counted otherwise".into(),
            message: "the message is longer than 16384 bytes".into(),
        }
    );
    assert!(state.outbox.is_empty(), "never sent again");
}

#[wasm_bindgen_test]
fn what_she_has_seen_is_no_longer_unread_whichever_tab_showed_it() {
    let mut state = signed_in_as_bob();
    let incoming = |seq: u64, unread: u32| ServerFrame::Message {
        message: message("c1", seq, "ann", &format!("a-{seq}")),
        chat: Some(ChatView {
            last_seq: seq,
            unread,
            ..chat("c1", "ann", true, Some(1000), ChatStatus::Open)
        }),
        pending_chats: Some(1),
    };
    let unread = |state: &ConsoleState| {
        state
            .chat_with(&AgentId::from("ann"))
            .map(|c| c.view.unread)
    };
    state.apply(incoming(1, 1), 0);
    state.apply(incoming(2, 2), 0);
    assert_eq!(unread(&state), Some(2));
    // This tab shows message 1 only.
    state.saw(&"c1".into(), 1);
    assert_eq!(unread(&state), Some(1));
    // Another of Bob's tabs showed the rest.
    state.apply(
        ServerFrame::Seen {
            chat_id: "c1".into(),
            by: "bob".into(),
            seq: 2,
        },
        0,
    );
    assert_eq!(unread(&state), Some(0));
    assert_eq!(state.pending_chats, 1, "seen is not answered");
}
