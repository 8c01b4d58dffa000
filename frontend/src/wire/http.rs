//! The HTTP API's bodies, each declared once, read and written by the same declaration;
//! and `config.json`.

use super::{Fields, FromJson, Record, ToJson};
use protocol::ErrorBody;
use protocol::http::{
    AgentList, ChatList, ConsoleConfig, Me, MessagePage, ReadKind, SignInMethod, SignedIn,
    Transcript, TranscriptList, TranscriptReadView, TranscriptReads, TranscriptSummary, WsTicket,
};
use wasm_bindgen::JsValue;

json_object! {
    ErrorBody { code, message }
    SignedIn { token, tenant, me }
    Me { tenant, me }
    WsTicket { ticket, expires_in_seconds }
    AgentList { agents }
    ChatList { chats, next }
    MessagePage { messages, more }
    TranscriptSummary {
        id, participants, status, started_at, ended_at, last_at, messages, interaction,
    }
    TranscriptList { transcripts, next, searched_to }
    Transcript { chat, messages, next }
    TranscriptReads { reads, next }
    TranscriptReadView { by, name, at, kind, from, to }
}

named_variants!(ReadKind {
    Read = "read",
    Download = "download",
});

// `config.json` is read by hand: unlike the API's bodies, it refuses unknown fields
// (`deny_unknown_fields`: a misspelt setting is a mistake to report, not to ignore).

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
