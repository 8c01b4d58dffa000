//! Bodies of the HTTP API (`/api/...`).

use crate::agent::{AgentView, Role};
use crate::chat::{ChatView, MessageView};
use crate::ids::{AgentId, GroupId, TenantId};
use serde::{Deserialize, Serialize};

/// Where the local server's development sign-in page is: the console goes there when
/// nobody is signed in and its sign-in method is `development`.
pub const DEV_SIGN_IN_PAGE: &str = "/dev/sign-in";

/// `POST /api/dev/sign-in`: the local server's development sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevSignIn {
    pub tenant: TenantId,
    pub agent: AgentId,
}

/// The answer to a sign-in: a bearer token for the HTTP API and who you are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub token: String,
    pub tenant: TenantId,
    pub me: AgentView,
}

/// `GET /api/dev/directory`: the tenants and agents offered by the development sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevDirectory {
    pub tenants: Vec<DevTenant>,
}

/// One tenant of the development sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevTenant {
    pub id: TenantId,
    pub name: String,
    pub agents: Vec<DevAgent>,
}

/// One agent of the development sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevAgent {
    pub id: AgentId,
    pub name: String,
    pub group: GroupId,
    pub role: Role,
}

/// `POST /api/ws-ticket`: a short-lived, single-use ticket to open the WebSocket with
/// (`/ws?ticket=...`), so that the long-lived token never appears in a URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsTicket {
    pub ticket: String,
    pub expires_in_seconds: u32,
}

/// `GET /api/agents`: the agents you can see and chat with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentList {
    pub agents: Vec<AgentView>,
}

/// `GET /api/chats?status=open|ended&cursor=&limit=`: a page of your chats — the open
/// ones in the order of their ids, or the ended ones, the most recently ended first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatList {
    pub chats: Vec<ChatView>,
    /// Where the next page starts (`cursor=`), if there is one.
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET /api/chats/{id}/messages?after=N&limit=M` (or `before=N`): a page of a
/// transcript in sequence order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    /// With `after`: true when more messages follow the last one of this page. With
    /// `before`: true when older messages precede its first one.
    pub more: bool,
}

/// One chat in a transcript listing (`GET /api/transcripts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptSummary {
    pub id: crate::ChatId,
    /// Both participants; the first started the chat.
    pub participants: Vec<AgentView>,
    pub status: crate::ChatStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// When the last message was sent, if any.
    pub last_at: Option<i64>,
    pub messages: u64,
    pub interaction: Option<String>,
}

/// `GET /api/transcripts?agent=&group=&from=&to=&q=&cursor=&limit=`: a page of the
/// transcripts you may read (every chat of your tenant for a supervisor, your own for an
/// agent), the latest started first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptList {
    pub transcripts: Vec<TranscriptSummary>,
    /// Where the next page starts (`cursor=`), if the listing has not reached its end.
    #[serde(default)]
    pub next: Option<String>,
    /// With `next`: every chat started after this time (ms) that the filters allow has
    /// been looked at — how far back a search has gone.
    #[serde(default)]
    pub searched_to: Option<i64>,
}

/// `GET /api/transcripts/{id}?after=N&limit=P`: a page of one transcript, its messages
/// after number N (from the first without it), and the download: the whole of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    pub chat: TranscriptSummary,
    pub messages: Vec<MessageView>,
    /// Where the next page starts (`after=`), if the chat has more messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// `GET /api/me`: who the bearer token speaks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub tenant: TenantId,
    pub me: AgentView,
}

/// `config.json`, served beside the console's `index.html`: where its APIs are and how
/// people sign in. Without it (the local server) the console uses its own origin and the
/// development sign-in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The HTTP API's base URL (`https://….execute-api.….amazonaws.com`); empty for
    /// the console's own origin.
    #[serde(default)]
    pub api: String,
    /// The WebSocket API's URL (`wss://….execute-api.….amazonaws.com/prod`); absent for
    /// `/ws` on the console's own origin.
    #[serde(default)]
    pub websocket: Option<String>,
    #[serde(default)]
    pub sign_in: SignInMethod,
}

/// How people sign in to the console.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignInMethod {
    /// The local server's development sign-in: pick a demo agent.
    #[default]
    Development,
    /// An OpenID Connect provider (the deployment's Cognito user pool): authorization
    /// code flow with PKCE; the ID token is the bearer token of the HTTP API.
    Oidc {
        /// The provider's authorization endpoint.
        authorize_url: String,
        /// The provider's token endpoint.
        token_url: String,
        /// The console's public client id (no secret).
        client_id: String,
        /// Space-separated scopes; `openid` at least.
        scope: String,
        /// Where signing out ends the provider's session (Cognito's `/logout`), if any.
        #[serde(default)]
        logout_url: Option<String>,
    },
}

/// What a supervisor did with a transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// A page of it, in the reader (`GET /api/transcripts/{id}`).
    Read,
    /// The whole of it, as a file (`GET /api/transcripts/{id}/download`).
    Download,
}

/// One read of a transcript by a supervisor, as its audit trail lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptReadView {
    pub by: AgentId,
    /// Her name when she read it.
    pub name: String,
    pub at: i64,
    pub kind: ReadKind,
    /// The first and last message numbers it returned (0 and 0: none).
    pub from: u64,
    pub to: u64,
}

/// `GET /api/transcripts/{id}/reads?cursor=C&limit=M`: a page of a transcript's audit
/// trail, the latest read first (supervisors only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptReads {
    pub reads: Vec<TranscriptReadView>,
    /// Where the next page starts (`cursor=`), if there are older reads.
    #[serde(default)]
    pub next: Option<String>,
}
