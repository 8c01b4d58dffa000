//! WebSocket frames. Client frames carry an `action` (API Gateway routes on
//! `$request.body.action`); server frames carry a `type`.

use crate::agent::{AgentState, AgentView};
use crate::chat::{ChatView, MessageView};
use crate::error::ErrorCode;
use crate::help::{HelpId, HelpView};
use crate::ids::{AgentId, ChatId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a console sends over its WebSocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame on a new connection. `resume` holds, per chat the console already
    /// knows, the last sequence number it has; the server replies with `welcome`, then
    /// for each chat named the messages after that number (the latest page of them at
    /// most), and for each open chat of the `welcome` not named its latest page.
    Hello {
        protocol: u32,
        #[serde(default)]
        resume: BTreeMap<ChatId, u64>,
    },
    /// Opens a chat with another agent, or returns the open one that exists already.
    StartChat {
        with: AgentId,
        #[serde(default)]
        interaction: Option<String>,
    },
    /// Sends a message. A retried send with the same `client_msg_id` is stored once.
    Send {
        chat_id: ChatId,
        client_msg_id: String,
        body: String,
    },
    /// Ends a chat for both participants.
    End { chat_id: ChatId },
    /// Sets your own agent state; everyone who can see you is told.
    SetState { state: AgentState },
    /// You are typing in a chat (send at most every few seconds while typing).
    Typing { chat_id: ChatId },
    /// You have seen the messages of a chat up to `seq`.
    Seen { chat_id: ChatId, seq: u64 },
    /// Keeps an idle connection open (API Gateway closes it after 10 idle minutes).
    Ping,
    /// Asks your functional group a question: whoever of it takes it first gets a chat
    /// with you, the question its first message.
    Ask {
        text: String,
        #[serde(default)]
        interaction: Option<String>,
    },
    /// Raises your hand to the supervisors (one hand at a time).
    RaiseHand {
        #[serde(default)]
        interaction: Option<String>,
    },
    /// Takes a question or a raised hand: the first taker gets the chat.
    Take { request: HelpId },
    /// Withdraws your question, or lowers your hand, while nobody has taken it.
    Withdraw { request: HelpId },
}

impl ClientFrame {
    /// Every action name, for documentation checks.
    pub const ACTIONS: [&'static str; 12] = [
        "hello",
        "start_chat",
        "send",
        "end",
        "set_state",
        "typing",
        "seen",
        "ping",
        "ask",
        "raise_hand",
        "take",
        "withdraw",
    ];
}

/// What the server pushes to a console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to `hello`: who you are, your open chats (a page of them: as many as
    /// fit in a frame) and how many chats require your response.
    Welcome {
        protocol: u32,
        me: AgentView,
        /// Open chats, in the order of their ids.
        chats: Vec<ChatView>,
        /// Where the rest of your open chats start, if this page does not hold them all:
        /// `GET /api/chats?status=open&cursor=…`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        more_open: Option<String>,
        /// How many chats require your response.
        pending_chats: u32,
    },
    /// A chat was created or changed (new message, ended) as you see it.
    Chat { chat: ChatView, pending_chats: u32 },
    /// The answer to your `start_chat`: the chat to open.
    ChatStarted { chat: ChatView },
    /// A message in one of your chats (yours or the other agent's). As it is sent, with
    /// the chat's new state as you see it and your count of chats requiring your response
    /// (a replay of older messages has neither).
    Message {
        message: MessageView,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat: Option<ChatView>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pending_chats: Option<u32>,
    },
    /// Your `send` was stored durably under `seq` at `sent_at`; with the chat's new state
    /// as you see it and your count of chats requiring your response. The sending
    /// connection gets no `message` of its own send: this stands for it.
    Ack {
        chat_id: ChatId,
        client_msg_id: String,
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sent_at: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat: Option<ChatView>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pending_chats: Option<u32>,
    },
    /// An agent you can see changed (her state).
    Agent { agent: AgentView },
    /// The other agent is typing in a chat.
    Typing { chat_id: ChatId, from: AgentId },
    /// `by` has seen the messages of a chat up to `seq`.
    Seen {
        chat_id: ChatId,
        by: AgentId,
        seq: u64,
    },
    /// The answer to `ping`.
    Pong,
    /// A question or a raised hand you see, as it stands now: asked, taken (by whom),
    /// withdrawn. `now` is the server's time, by which it is overdue or not.
    Help { request: HelpView, now: i64 },
    /// Your frame was refused; nothing was changed.
    Error {
        code: ErrorCode,
        message: String,
        /// The `client_msg_id` of the refused `send`, if it was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
}

impl ServerFrame {
    /// Every frame type, for documentation checks.
    pub const TYPES: [&'static str; 11] = [
        "welcome",
        "chat",
        "chat_started",
        "message",
        "ack",
        "agent",
        "typing",
        "seen",
        "pong",
        "help",
        "error",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_frame_reads_from_the_documented_json() {
        let frame: ClientFrame = serde_json::from_str(
            r#"{"action":"send","chat_id":"c1","client_msg_id":"m1","body":"hi"}"#,
        )
        .expect("valid frame");
        assert_eq!(
            frame,
            ClientFrame::Send {
                chat_id: ChatId::from("c1"),
                client_msg_id: "m1".into(),
                body: "hi".into()
            }
        );
    }

    #[test]
    fn an_unknown_action_does_not_parse() {
        assert!(serde_json::from_str::<ClientFrame>(r#"{"action":"dance"}"#).is_err());
    }

    #[test]
    fn server_frames_carry_their_type_tag() {
        let json = serde_json::to_value(ServerFrame::Ack {
            chat_id: ChatId::from("c1"),
            client_msg_id: "m1".into(),
            seq: 3,
            sent_at: None,
            chat: None,
            pending_chats: None,
        })
        .expect("serialises");
        assert_eq!(json["type"], "ack");
        assert_eq!(json["seq"], 3);
    }
}
