//! The protocol's JSON as the console reads and writes it: parsed and printed by the
//! browser's own `JSON`, the fields picked out here.
//!
//! Why: serde's derived code is compiled once per type and per format (and twice for the
//! `type`-tagged server frames, which serde buffers before it reads them), and
//! serde_json brings its own parser and error messages; together they were about a
//! fifth of the console's WASM. The browser parses JSON anyway. What is left is picking
//! the fields, by the rules the serde attributes in `protocol` state: a missing or
//! `null` `Option` is `None`, a `#[serde(default)]` field may be missing, fields nobody
//! asked for are ignored (`config.json` excepted: it refuses them), and one value of
//! the wrong kind refuses the whole. The tests hold every type to serde_json.

use js_sys::{Array, JSON, Object, Reflect};
use protocol::http::{
    AgentList, ChatList, ConsoleConfig, DevAgent, DevDirectory, DevSignIn, DevTenant, Me,
    MessagePage, SignInMethod, SignedIn, Transcript, TranscriptList, TranscriptSummary, WsTicket,
};
use protocol::{
    AgentId, AgentState, AgentView, ChatId, ChatStatus, ChatView, ClientFrame, ErrorBody,
    ErrorCode, GroupId, MessageView, Role, ServerFrame, TenantId,
};
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};

/// A value read from parsed JSON; `None` when the JSON does not have its shape.
pub trait FromJson: Sized {
    fn from_json(value: &JsValue) -> Option<Self>;
}

/// A value written as JSON.
pub trait ToJson {
    fn to_json(&self) -> JsValue;
}

/// Reads `text` as JSON of `T`'s shape.
pub fn parse<T: FromJson>(text: &str) -> Option<T> {
    T::from_json(&JSON::parse(text).ok()?)
}

/// `value` as JSON text.
pub fn print<T: ToJson>(value: &T) -> String {
    JSON::stringify(&value.to_json())
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// The fields of a JSON object being read.
#[derive(Debug)]
pub struct Fields<'a>(&'a JsValue);

impl<'a> Fields<'a> {
    /// `value`'s fields, if it is an object (not an array, not `null`).
    pub fn of(value: &'a JsValue) -> Option<Self> {
        (value.is_object() && !Array::is_array(value)).then_some(Fields(value))
    }

    /// The field `name`; an `Option` field may be missing.
    pub fn get<T: FromJson>(&self, name: &str) -> Option<T> {
        T::from_json(&Reflect::get(self.0, &JsValue::from_str(name)).ok()?)
    }

    /// The field `name`, or its default when it is missing (`#[serde(default)]`).
    pub fn or_default<T: FromJson + Default>(&self, name: &str) -> Option<T> {
        let value = Reflect::get(self.0, &JsValue::from_str(name)).ok()?;
        if value.is_undefined() {
            Some(T::default())
        } else {
            T::from_json(&value)
        }
    }

    /// True when every field is one of `allowed` (`#[serde(deny_unknown_fields)]`).
    pub fn only(&self, allowed: &[&str]) -> bool {
        Object::keys(self.0.unchecked_ref::<Object>())
            .iter()
            .all(|key| key.as_string().is_some_and(|key| allowed.contains(&&*key)))
    }
}

/// A JSON object being written, its fields in the order serde writes them.
#[derive(Debug)]
pub struct Record(Object);

impl Default for Record {
    fn default() -> Self {
        Record(Object::new())
    }
}

impl Record {
    pub fn new() -> Self {
        Record::default()
    }

    /// Adds the field `name`.
    pub fn with(self, name: &str, value: &impl ToJson) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.to_json());
        self
    }

    /// The object.
    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

impl FromJson for String {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl ToJson for String {
    fn to_json(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJson for &str {
    fn to_json(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl FromJson for bool {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_bool()
    }
}

impl ToJson for bool {
    fn to_json(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
}

/// A JSON number that is a whole number within `min..=max`. Sequence numbers, counts
/// and times in milliseconds all stay far below 2^53, where JSON numbers are exact.
fn whole(value: &JsValue, min: f64, max: f64) -> Option<f64> {
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
}

impl FromJson for u64 {
    fn from_json(value: &JsValue) -> Option<Self> {
        whole(value, 0.0, u64::MAX as f64).map(|n| n as u64)
    }
}

impl FromJson for i64 {
    fn from_json(value: &JsValue) -> Option<Self> {
        whole(value, i64::MIN as f64, i64::MAX as f64).map(|n| n as i64)
    }
}

impl FromJson for u32 {
    fn from_json(value: &JsValue) -> Option<Self> {
        whole(value, 0.0, f64::from(u32::MAX)).map(|n| n as u32)
    }
}

impl ToJson for u64 {
    fn to_json(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl ToJson for i64 {
    fn to_json(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl ToJson for u32 {
    fn to_json(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: &JsValue) -> Option<Self> {
        if value.is_undefined() || value.is_null() {
            Some(None)
        } else {
            T::from_json(value).map(Some)
        }
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, T::to_json)
    }
}

/// A map by chat, as a JSON object (the `resume` of `hello`).
impl<T: ToJson> ToJson for BTreeMap<ChatId, T> {
    fn to_json(&self) -> JsValue {
        self.iter()
            .fold(Record::new(), |record, (chat, value)| {
                record.with(chat.as_str(), value)
            })
            .done()
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &JsValue) -> Option<Self> {
        if !Array::is_array(value) {
            return None;
        }
        Array::from(value)
            .iter()
            .map(|item| T::from_json(&item))
            .collect()
    }
}

/// Identifiers are plain strings on the wire.
macro_rules! string_id {
    ($($id:ident),*) => {$(
        impl FromJson for $id {
            fn from_json(value: &JsValue) -> Option<Self> {
                value.as_string().map($id)
            }
        }

        impl ToJson for $id {
            fn to_json(&self) -> JsValue {
                JsValue::from_str(self.as_str())
            }
        }
    )*};
}

string_id!(AgentId, ChatId, GroupId, TenantId);

/// Enums without data are their variants' names in snake case on the wire.
macro_rules! named_variants {
    ($enum:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl FromJson for $enum {
            fn from_json(value: &JsValue) -> Option<Self> {
                match value.as_string()?.as_str() {
                    $($name => Some($enum::$variant),)*
                    _ => None,
                }
            }
        }

        impl ToJson for $enum {
            fn to_json(&self) -> JsValue {
                JsValue::from_str(match self {
                    $($enum::$variant => $name,)*
                })
            }
        }
    };
}

named_variants!(Role {
    Agent = "agent",
    Supervisor = "supervisor",
});

named_variants!(AgentState {
    Available = "available",
    Busy = "busy",
    OnBreak = "on_break",
    WorkingOffline = "working_offline",
    PostProcessing = "post_processing",
    LoggedOut = "logged_out",
});

named_variants!(ChatStatus {
    Open = "open",
    Ended = "ended",
});

named_variants!(ErrorCode {
    BadRequest = "bad_request",
    UnknownAction = "unknown_action",
    UnsupportedProtocol = "unsupported_protocol",
    Unauthorized = "unauthorized",
    InvalidTicket = "invalid_ticket",
    EmptyMessage = "empty_message",
    MessageTooLarge = "message_too_large",
    NotFound = "not_found",
    Forbidden = "forbidden",
    ChatEnded = "chat_ended",
    SelfChat = "self_chat",
    RateLimited = "rate_limited",
    Internal = "internal",
});

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

impl FromJson for ErrorBody {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(ErrorBody {
            code: f.get("code")?,
            message: f.get("message")?,
        })
    }
}

impl ToJson for DevSignIn {
    fn to_json(&self) -> JsValue {
        Record::new()
            .with("tenant", &self.tenant)
            .with("agent", &self.agent)
            .done()
    }
}

impl FromJson for SignedIn {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(SignedIn {
            token: f.get("token")?,
            tenant: f.get("tenant")?,
            me: f.get("me")?,
        })
    }
}

impl ToJson for SignedIn {
    fn to_json(&self) -> JsValue {
        Record::new()
            .with("token", &self.token)
            .with("tenant", &self.tenant)
            .with("me", &self.me)
            .done()
    }
}

impl FromJson for Me {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Me {
            tenant: f.get("tenant")?,
            me: f.get("me")?,
        })
    }
}

impl FromJson for DevDirectory {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(DevDirectory {
            tenants: Fields::of(value)?.get("tenants")?,
        })
    }
}

impl FromJson for DevTenant {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(DevTenant {
            id: f.get("id")?,
            name: f.get("name")?,
            agents: f.get("agents")?,
        })
    }
}

impl FromJson for DevAgent {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(DevAgent {
            id: f.get("id")?,
            name: f.get("name")?,
            group: f.get("group")?,
            role: f.get("role")?,
        })
    }
}

impl FromJson for WsTicket {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(WsTicket {
            ticket: f.get("ticket")?,
            expires_in_seconds: f.get("expires_in_seconds")?,
        })
    }
}

impl FromJson for AgentList {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(AgentList {
            agents: Fields::of(value)?.get("agents")?,
        })
    }
}

impl FromJson for ChatList {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(ChatList {
            chats: f.get("chats")?,
            next: f.get("next")?,
        })
    }
}

impl FromJson for MessagePage {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(MessagePage {
            messages: f.get("messages")?,
            more: f.get("more")?,
        })
    }
}

impl FromJson for TranscriptSummary {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(TranscriptSummary {
            id: f.get("id")?,
            participants: f.get("participants")?,
            status: f.get("status")?,
            started_at: f.get("started_at")?,
            ended_at: f.get("ended_at")?,
            last_at: f.get("last_at")?,
            messages: f.get("messages")?,
            interaction: f.get("interaction")?,
        })
    }
}

impl FromJson for TranscriptList {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(TranscriptList {
            transcripts: f.get("transcripts")?,
            next: f.get("next")?,
            searched_to: f.get("searched_to")?,
        })
    }
}

impl FromJson for Transcript {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Transcript {
            chat: f.get("chat")?,
            messages: f.get("messages")?,
        })
    }
}

impl FromJson for ConsoleConfig {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        if !f.only(&["api", "websocket", "sign_in"]) {
            return None;
        }
        Some(ConsoleConfig {
            api: f.or_default("api")?,
            websocket: f.get("websocket")?,
            sign_in: f.or_default("sign_in")?,
        })
    }
}

impl FromJson for SignInMethod {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        let kind: String = f.get("kind")?;
        match kind.as_str() {
            // serde refuses no field beside the tag of a variant without fields.
            "development" => Some(SignInMethod::Development),
            "oidc"
                if f.only(&[
                    "kind",
                    "authorize_url",
                    "token_url",
                    "client_id",
                    "scope",
                    "logout_url",
                ]) =>
            {
                Some(SignInMethod::Oidc {
                    authorize_url: f.get("authorize_url")?,
                    token_url: f.get("token_url")?,
                    client_id: f.get("client_id")?,
                    scope: f.get("scope")?,
                    logout_url: f.get("logout_url")?,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::PROTOCOL_VERSION;
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
        ];
        for frame in &frames {
            written_as_serde_writes(frame);
        }
        for state in AgentState::ALL {
            written_as_serde_writes(&ClientFrame::SetState { state });
        }
        written_as_serde_writes(&DevSignIn {
            tenant: TenantId::from("t1"),
            agent: AgentId::from("a1"),
        });
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
        read_as_serde_writes(&DevDirectory {
            tenants: vec![DevTenant {
                id: TenantId::from("t1"),
                name: "Acme".into(),
                agents: vec![DevAgent {
                    id: AgentId::from("a1"),
                    name: "Ann".into(),
                    group: GroupId::from("sales"),
                    role: Role::Agent,
                }],
            }],
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
            chat: summary,
            messages: vec![message(1)],
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
}
