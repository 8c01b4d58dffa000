//! The HTTP API's bodies, and `config.json`.

use super::{Fields, FromJson, Record, ToJson};
use protocol::ErrorBody;
use protocol::http::{
    AgentList, ChatList, ConsoleConfig, DevAgent, DevDirectory, DevSignIn, DevTenant, Me,
    MessagePage, SignInMethod, SignedIn, Transcript, TranscriptList, TranscriptSummary, WsTicket,
};
use wasm_bindgen::JsValue;

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
            next: f.get("next")?,
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
