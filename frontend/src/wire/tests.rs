//! Every type read and written as serde_json reads and writes it.

use super::*;
use protocol::PROTOCOL_VERSION;
use protocol::help::HelpView;
use protocol::http::{
    AgentList, ChatList, ConsoleConfig, Me, MessagePage, SignedIn, Transcript, TranscriptList,
    TranscriptSummary, WsTicket,
};
use protocol::{AgentView, ChatView, ClientFrame, ErrorBody, MessageView, ServerFrame};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use wasm_bindgen_test::wasm_bindgen_test;

/// `value` as serde_json writes it, read back by this module.
fn read_as_serde_writes<T: FromJson + Serialize + PartialEq + Debug>(value: &T) {
    let text = serde_json::to_string(value).expect("serialises");
    assert_eq!(parse::<T>(&text).as_ref(), Some(value), "{text}");
}

/// `value` as this module writes it: the same JSON as serde_json's, field for field
/// and in the same order.
fn written_as_serde_writes<T: ToJson + Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &T,
) {
    let ours = print(value);
    assert_eq!(ours, serde_json::to_string(value).expect("serialises"));
    assert_eq!(&serde_json::from_str::<T>(&ours).expect("reads"), value);
}

/// Every tag of `names` (the protocol's list) is the tag of one of `samples` at least:
/// a frame added to the protocol cannot go untested here.
fn every_tag_has_a_sample<T: Serialize>(samples: &[T], tag: &str, names: &[&str]) {
    let tested: Vec<String> = samples
        .iter()
        .map(|sample| serde_json::to_value(sample).expect("serialises")[tag].to_string())
        .collect();
    for name in names {
        assert!(
            tested.contains(&format!("\"{name}\"")),
            "no sample of {name}"
        );
    }
}

fn agent(id: &str, state: AgentState) -> AgentView {
    AgentView {
        id: AgentId::from(id),
        name: format!("Ann \"{id}\" Lee ✓"),
        group: GroupId::from("sales"),
        role: Role::Supervisor,
        state,
        state_since: 1_700_000_000_123,
    }
}

fn chat(id: &str) -> ChatView {
    ChatView {
        id: ChatId::from(id),
        with: agent("a2", AgentState::OnBreak),
        status: ChatStatus::Ended,
        pending: true,
        unread: 3,
        waiting_since: Some(1_700_000_000_000),
        last_seq: 42,
        seen_by_other: 40,
        started_at: 1_699_000_000_000,
        ended_at: None,
        interaction: Some("INT-7".into()),
        last_at: Some(1_700_000_000_500),
        last_line: Some("Can you take \"line 4\"?…".into()),
    }
}

fn help(kind: HelpKind, state: HelpState) -> HelpView {
    let taken = state == HelpState::Taken;
    HelpView {
        id: HelpId::from("h1"),
        kind,
        text: (kind == HelpKind::Question).then(|| "Refund rule?".into()),
        interaction: taken.then(|| "INT-3".into()),
        from: AgentId::from("a1"),
        from_name: "Ann Lee".into(),
        group: GroupId::from("sales"),
        asked_at: 1_000,
        due_at: 61_000,
        state,
        taken_by: taken.then(|| AgentId::from("a2")),
        taken_by_name: taken.then(|| "Bob Stone".into()),
        chat_id: taken.then(|| ChatId::from("c9")),
        closed_at: taken.then_some(2_000),
    }
}

fn message(seq: u64) -> MessageView {
    MessageView {
        chat_id: ChatId::from("c1"),
        seq,
        from: AgentId::from("a1"),
        body: "line one\nline two \\ \u{1F600}".into(),
        sent_at: 1_700_000_000_999,
        client_msg_id: "m-1".into(),
    }
}

#[wasm_bindgen_test]
fn every_server_frame_reads_as_serde_json_reads_it() {
    let frames = [
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            me: agent("a1", AgentState::Available),
            chats: vec![chat("c1"), chat("c2")],
            more_open: None,
            pending_chats: 1,
        },
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            me: agent("a1", AgentState::Available),
            chats: vec![chat("c1")],
            more_open: Some("c1".into()),
            pending_chats: 0,
        },
        ServerFrame::Chat {
            chat: chat("c1"),
            pending_chats: 0,
        },
        ServerFrame::ChatStarted { chat: chat("c3") },
        ServerFrame::Message {
            message: message(7),
            chat: None,
            pending_chats: None,
        },
        ServerFrame::Message {
            message: message(8),
            chat: Some(chat("c1")),
            pending_chats: Some(2),
        },
        ServerFrame::Ack {
            chat_id: ChatId::from("c1"),
            client_msg_id: "m-1".into(),
            seq: 8,
            sent_at: None,
            chat: None,
            pending_chats: None,
        },
        ServerFrame::Ack {
            chat_id: ChatId::from("c1"),
            client_msg_id: "m-1".into(),
            seq: 8,
            sent_at: Some(8_000),
            chat: Some(chat("c1")),
            pending_chats: Some(0),
        },
        ServerFrame::Agent {
            agent: agent("a3", AgentState::LoggedOut),
        },
        ServerFrame::Typing {
            chat_id: ChatId::from("c1"),
            from: AgentId::from("a2"),
        },
        ServerFrame::Seen {
            chat_id: ChatId::from("c1"),
            by: AgentId::from("a2"),
            seq: 9,
        },
        ServerFrame::Pong,
        ServerFrame::Help {
            request: help(HelpKind::Question, HelpState::Waiting),
            now: 5_000,
        },
        ServerFrame::Help {
            request: help(HelpKind::Hand, HelpState::Taken),
            now: 6_000,
        },
        ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            client_msg_id: Some("m-2".into()),
        },
        ServerFrame::Error {
            code: ErrorCode::Forbidden,
            message: "no".into(),
            client_msg_id: None,
        },
    ];
    for frame in &frames {
        read_as_serde_writes(frame);
    }
    assert_eq!(<ServerFrame as Tags>::NAMES, ServerFrame::TYPES.as_slice());
    every_tag_has_a_sample(&frames, "type", &ServerFrame::TYPES);
    for code in ErrorCode::ALL {
        read_as_serde_writes(&ErrorBody {
            code,
            message: "m".into(),
        });
    }
}

#[wasm_bindgen_test]
fn fields_that_may_be_missing_take_their_defaults_and_others_refuse_the_frame() {
    // `seen_by_other`, `ended_at`, `last_at` and `last_line` are `#[serde(default)]`;
    // unknown fields are ignored.
    let view = r#"{"id":"c1","with":{"id":"a2","name":"B","group":"g","role":"agent",
        "state":"busy","state_since":5},"status":"open","pending":false,"unread":0,
        "waiting_since":null,"last_seq":0,"started_at":1,"interaction":null,"extra":1}"#;
    let frame = format!(r#"{{"type":"chat_started","chat":{view}}}"#);
    let serde: ServerFrame = serde_json::from_str(&frame).expect("valid frame");
    assert_eq!(parse::<ServerFrame>(&frame), Some(serde));
    // A welcome without `more_open` holds every open chat.
    let welcome = format!(
        r#"{{"type":"welcome","protocol":2,"me":{},"chats":[{view}],"pending_chats":0}}"#,
        r#"{"id":"a1","name":"A","group":"g","role":"agent","state":"busy","state_since":5}"#
    );
    let serde: ServerFrame = serde_json::from_str(&welcome).expect("valid welcome");
    assert!(matches!(
        &serde,
        ServerFrame::Welcome {
            more_open: None,
            ..
        }
    ));
    assert_eq!(parse::<ServerFrame>(&welcome), Some(serde));
    for broken in [
        r#"{"type":"ack","chat_id":"c1","client_msg_id":"m","seq":-1}"#,
        r#"{"type":"ack","chat_id":"c1","client_msg_id":"m","seq":1.5}"#,
        r#"{"type":"ack","chat_id":"c1","seq":1}"#,
        r#"{"type":"seen","chat_id":7,"by":"a","seq":1}"#,
        r#"{"type":"welcome","protocol":2,"me":{"id":"a","name":"A","group":"g","role":"agent",
            "state":"busy","state_since":5},"chats":[],"more_open":7,"pending_chats":0}"#,
        r#"{"type":"dance"}"#,
        r#"{"chat_id":"c1"}"#,
        r#"[{"type":"pong"}]"#,
        "not json",
    ] {
        assert!(
            serde_json::from_str::<ServerFrame>(broken).is_err(),
            "{broken}"
        );
        assert_eq!(parse::<ServerFrame>(broken), None, "{broken}");
    }
}

#[wasm_bindgen_test]
fn every_client_frame_is_written_as_serde_json_writes_it() {
    let resume = [(ChatId::from("c2"), 4), (ChatId::from("c10"), 0)].into();
    let frames = [
        ClientFrame::Hello {
            protocol: PROTOCOL_VERSION,
            resume,
        },
        ClientFrame::Hello {
            protocol: PROTOCOL_VERSION,
            resume: BTreeMap::new(),
        },
        ClientFrame::StartChat {
            with: AgentId::from("a2"),
            interaction: None,
        },
        ClientFrame::StartChat {
            with: AgentId::from("a2"),
            interaction: Some("INT-1".into()),
        },
        ClientFrame::Send {
            chat_id: ChatId::from("c1"),
            client_msg_id: "m-1".into(),
            body: "\"quoted\"\ttab </script> \u{7}".into(),
        },
        ClientFrame::End {
            chat_id: ChatId::from("c1"),
        },
        ClientFrame::Typing {
            chat_id: ChatId::from("c1"),
        },
        ClientFrame::Seen {
            chat_id: ChatId::from("c1"),
            seq: 12,
        },
        ClientFrame::Ping,
        ClientFrame::Ask {
            text: "Who knows \"the\" refund rule?\n".into(),
            interaction: Some("INT-2".into()),
        },
        ClientFrame::RaiseHand { interaction: None },
        ClientFrame::Take {
            request: HelpId::from("h1"),
        },
        ClientFrame::Withdraw {
            request: HelpId::from("h1"),
        },
    ];
    for frame in &frames {
        written_as_serde_writes(frame);
        read_as_serde_writes(frame);
    }
    assert_eq!(
        <ClientFrame as Tags>::NAMES,
        ClientFrame::ACTIONS.as_slice()
    );
    let set_state = [ClientFrame::SetState {
        state: AgentState::Busy,
    }];
    every_tag_has_a_sample(
        &[frames.as_slice(), set_state.as_slice()].concat(),
        "action",
        &ClientFrame::ACTIONS,
    );
    for state in AgentState::ALL {
        written_as_serde_writes(&ClientFrame::SetState { state });
    }
}

#[wasm_bindgen_test]
fn http_answers_read_as_serde_json_reads_them() {
    let signed_in = SignedIn {
        token: "tok".into(),
        tenant: TenantId::from("t1"),
        me: agent("a1", AgentState::WorkingOffline),
    };
    read_as_serde_writes(&signed_in);
    written_as_serde_writes(&signed_in);
    read_as_serde_writes(&Me {
        tenant: TenantId::from("t1"),
        me: agent("a1", AgentState::PostProcessing),
    });
    read_as_serde_writes(&WsTicket {
        ticket: "t".into(),
        expires_in_seconds: 30,
    });
    read_as_serde_writes(&AgentList {
        agents: vec![agent("a1", AgentState::Busy), agent("a2", AgentState::Busy)],
    });
    read_as_serde_writes(&ChatList {
        chats: vec![chat("c1"), chat("c2")],
        next: Some("opaque cursor".into()),
    });
    read_as_serde_writes(&ChatList {
        chats: Vec::new(),
        next: None,
    });
    read_as_serde_writes(&MessagePage {
        messages: vec![message(1), message(2)],
        more: true,
    });
    let summary = TranscriptSummary {
        id: ChatId::from("c1"),
        participants: vec![agent("a1", AgentState::Busy), agent("a2", AgentState::Busy)],
        status: ChatStatus::Open,
        started_at: 1,
        ended_at: Some(2),
        last_at: None,
        messages: 2,
        interaction: None,
    };
    read_as_serde_writes(&TranscriptList {
        transcripts: vec![summary.clone()],
        next: Some("1.0.c1".into()),
        searched_to: Some(1),
    });
    read_as_serde_writes(&TranscriptList {
        transcripts: Vec::new(),
        next: None,
        searched_to: None,
    });
    read_as_serde_writes(&Transcript {
        chat: summary.clone(),
        messages: vec![message(1)],
        next: None,
    });
    read_as_serde_writes(&Transcript {
        chat: summary,
        messages: vec![message(1)],
        next: Some(1),
    });
}

#[wasm_bindgen_test]
fn config_json_is_read_as_serde_json_reads_it_unknown_fields_refused() {
    for text in [
        "{}",
        r#"{"api":"https://api.example"}"#,
        r#"{"websocket":"wss://ws.example/prod","sign_in":{"kind":"development"}}"#,
        r#"{"sign_in":{"kind":"development","scope":"openid"}}"#,
        r#"{"api":"","sign_in":{"kind":"oidc","authorize_url":"https://a","token_url":"https://t",
            "client_id":"c","scope":"openid email"}}"#,
        r#"{"sign_in":{"kind":"oidc","authorize_url":"https://a","token_url":"https://t",
            "client_id":"c","scope":"openid","logout_url":"https://l"}}"#,
    ] {
        let serde: ConsoleConfig = serde_json::from_str(text).expect("valid config");
        assert_eq!(parse::<ConsoleConfig>(text), Some(serde), "{text}");
    }
    for text in [
        r#"{"api":"x","apis":"y"}"#,
        r#"{"sign_in":{"kind":"oidc","authorize_url":"https://a","token_url":"https://t",
            "client_id":"c","scope":"openid","logout":"https://l"}}"#,
        r#"{"sign_in":{"kind":"oidc","authorize_url":"https://a"}}"#,
        r#"{"sign_in":{"kind":"saml"}}"#,
        r#"{"api":null}"#,
    ] {
        assert!(
            serde_json::from_str::<ConsoleConfig>(text).is_err(),
            "{text}"
        );
        assert_eq!(parse::<ConsoleConfig>(text), None, "{text}");
    }
}
