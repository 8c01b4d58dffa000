//! The wire protocol of the Agent Console chat: what the browser and the server say to
//! each other, over the HTTP API and over the WebSocket. Plain serde types, no IO, so the
//! same definitions compile into the WASM console and into the Lambdas.
//!
//! `docs/protocol.md` describes every frame and error code defined here.

pub mod agent;
pub mod chat;
pub mod error;
pub mod http;
pub mod ids;
pub mod ws;

pub use agent::{AgentState, AgentView, Role};
pub use chat::{ChatStatus, ChatView, MessageView};
pub use error::{ErrorBody, ErrorCode};
pub use ids::{AgentId, ChatId, GroupId, TenantId};
pub use ws::{ClientFrame, ServerFrame};

/// The protocol version this build speaks. A client sends it in its `hello` frame; a
/// server that speaks another version answers with [`ErrorCode::UnsupportedProtocol`].
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest message body, in bytes of UTF-8, that a `send` may carry.
///
/// Comfortably inside API Gateway's 32 KB frame limit once the JSON envelope is added.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
