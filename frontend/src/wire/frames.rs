//! The WebSocket frames, and the views they carry.

use super::{Fields, FromJson, Record, ToJson};
use protocol::{AgentView, ChatView, ClientFrame, MessageView, ServerFrame};
use wasm_bindgen::JsValue;

impl FromJson for AgentView {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(AgentView {
            id: f.get("id")?,
            name: f.get("name")?,
            group: f.get("group")?,
            role: f.get("role")?,
            state: f.get("state")?,
            state_since: f.get("state_since")?,
        })
    }
}

impl ToJson for AgentView {
    fn to_json(&self) -> JsValue {
        Record::new()
            .with("id", &self.id)
            .with("name", &self.name)
            .with("group", &self.group)
            .with("role", &self.role)
            .with("state", &self.state)
            .with("state_since", &self.state_since)
            .done()
    }
}

impl FromJson for ChatView {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(ChatView {
            id: f.get("id")?,
            with: f.get("with")?,
            status: f.get("status")?,
            pending: f.get("pending")?,
            unread: f.get("unread")?,
            waiting_since: f.get("waiting_since")?,
            last_seq: f.get("last_seq")?,
            seen_by_other: f.or_default("seen_by_other")?,
            started_at: f.get("started_at")?,
            ended_at: f.get("ended_at")?,
            interaction: f.get("interaction")?,
            last_at: f.get("last_at")?,
            last_line: f.get("last_line")?,
        })
    }
}

impl FromJson for MessageView {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(MessageView {
            chat_id: f.get("chat_id")?,
            seq: f.get("seq")?,
            from: f.get("from")?,
            body: f.get("body")?,
            sent_at: f.get("sent_at")?,
            client_msg_id: f.get("client_msg_id")?,
        })
    }
}

impl FromJson for ServerFrame {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        let kind: String = f.get("type")?;
        Some(match kind.as_str() {
            "welcome" => ServerFrame::Welcome {
                protocol: f.get("protocol")?,
                me: f.get("me")?,
                chats: f.get("chats")?,
                more_open: f.get("more_open")?,
                pending_chats: f.get("pending_chats")?,
            },
            "chat" => ServerFrame::Chat {
                chat: f.get("chat")?,
                pending_chats: f.get("pending_chats")?,
            },
            "chat_started" => ServerFrame::ChatStarted {
                chat: f.get("chat")?,
            },
            "message" => ServerFrame::Message {
                message: f.get("message")?,
                chat: f.get("chat")?,
                pending_chats: f.get("pending_chats")?,
            },
            "ack" => ServerFrame::Ack {
                chat_id: f.get("chat_id")?,
                client_msg_id: f.get("client_msg_id")?,
                seq: f.get("seq")?,
                sent_at: f.get("sent_at")?,
                chat: f.get("chat")?,
                pending_chats: f.get("pending_chats")?,
            },
            "agent" => ServerFrame::Agent {
                agent: f.get("agent")?,
            },
            "typing" => ServerFrame::Typing {
                chat_id: f.get("chat_id")?,
                from: f.get("from")?,
            },
            "seen" => ServerFrame::Seen {
                chat_id: f.get("chat_id")?,
                by: f.get("by")?,
                seq: f.get("seq")?,
            },
            "pong" => ServerFrame::Pong,
            "error" => ServerFrame::Error {
                code: f.get("code")?,
                message: f.get("message")?,
                client_msg_id: f.get("client_msg_id")?,
            },
            _ => return None,
        })
    }
}

impl ToJson for ClientFrame {
    fn to_json(&self) -> JsValue {
        let frame = |action: &str| Record::new().with("action", &action);
        match self {
            ClientFrame::Hello { protocol, resume } => frame("hello")
                .with("protocol", protocol)
                .with("resume", resume),
            ClientFrame::StartChat { with, interaction } => frame("start_chat")
                .with("with", with)
                .with("interaction", interaction),
            ClientFrame::Send {
                chat_id,
                client_msg_id,
                body,
            } => frame("send")
                .with("chat_id", chat_id)
                .with("client_msg_id", client_msg_id)
                .with("body", body),
            ClientFrame::End { chat_id } => frame("end").with("chat_id", chat_id),
            ClientFrame::SetState { state } => frame("set_state").with("state", state),
            ClientFrame::Typing { chat_id } => frame("typing").with("chat_id", chat_id),
            ClientFrame::Seen { chat_id, seq } => {
                frame("seen").with("chat_id", chat_id).with("seq", seq)
            }
            ClientFrame::Ping => frame("ping"),
        }
        .done()
    }
}
