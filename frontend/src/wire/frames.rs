//! The WebSocket frames, and the views they carry: each declared once, read and written
//! by the same declaration.

use super::{Fields, FromJson, Record, Tags, ToJson};
use protocol::help::HelpView;
use protocol::{AgentView, ChatView, ClientFrame, MessageView, ServerFrame};
use wasm_bindgen::JsValue;

json_object! {
    AgentView { id, name, group, role, state, state_since }
    ChatView {
        id, with, status, pending, unread, waiting_since, last_seq,
        seen_by_other [default], started_at, ended_at, interaction, last_at, last_line,
    }
    MessageView { chat_id, seq, from, body, sent_at, client_msg_id }
    HelpView {
        id, kind, text, interaction, from, from_name, group, asked_at, due_at, state,
        taken_by, taken_by_name, chat_id, closed_at,
    }
}

json_tagged!(ServerFrame by "type" {
    Welcome = "welcome" { protocol, me, chats, more_open, pending_chats },
    Chat = "chat" { chat, pending_chats },
    ChatStarted = "chat_started" { chat },
    Message = "message" { message, chat, pending_chats },
    Ack = "ack" { chat_id, client_msg_id, seq, sent_at, chat, pending_chats },
    Agent = "agent" { agent },
    Typing = "typing" { chat_id, from },
    Seen = "seen" { chat_id, by, seq },
    Pong = "pong",
    Help = "help" { request, now },
    Error = "error" { code, message, client_msg_id },
});

json_tagged!(ClientFrame by "action" {
    Hello = "hello" { protocol, resume [default] },
    StartChat = "start_chat" { with, interaction },
    Send = "send" { chat_id, client_msg_id, body },
    End = "end" { chat_id },
    SetState = "set_state" { state },
    Typing = "typing" { chat_id },
    Seen = "seen" { chat_id, seq },
    Ping = "ping",
    Ask = "ask" { text, interaction },
    RaiseHand = "raise_hand" { interaction },
    Take = "take" { request },
    Withdraw = "withdraw" { request },
});
