//! The wire protocol of the Agent Console chat: what the browser and the server say to
//! each other, over the HTTP API and over the WebSocket. Plain serde types, no IO, so the
//! same definitions compile into the WASM console and into the Lambdas.
//!
//! `docs/protocol.md` describes every frame and error code defined here.

pub mod agent;
pub mod chat;
pub mod error;
pub mod help;
pub mod http;
pub mod ids;
pub mod ws;

pub use agent::{AgentState, AgentView, Role};
pub use chat::{ChatStatus, ChatView, LAST_LINE_BYTES, MessageView, last_line};
pub use error::{ErrorBody, ErrorCode};
pub use ids::{AgentId, ChatId, GroupId, TenantId};
pub use ws::{ClientFrame, ServerFrame};

/// The protocol version this build speaks. A client sends it in its `hello` frame; a
/// server that speaks another version answers with [`ErrorCode::UnsupportedProtocol`].
///
/// Version 2: `welcome` carries the open chats only, a page at a time (the rest, and the
/// ended chats, come from `GET /api/chats`), a resume sends the latest page of each chat
/// instead of its history, and a body's size is counted as JSON writes it.
///
/// Version 3: a sent message is one frame per connection — `message` and `ack` carry the
/// chat's new state and the count of chats requiring a response, where a `chat` frame
/// followed each before.
///
/// Version 4: help — `ask`, `raise_hand`, `take` and `withdraw`, and the `help` frame
/// that tells every console that sees a question or a raised hand where it stands.
pub const PROTOCOL_VERSION: u32 = 4;

/// The longest message body a `send` may carry, in bytes as JSON writes it (see
/// [`json_len`]): a body of 16,384 letters fits, and so does any body whose quotes,
/// backslashes and line breaks — two bytes each once escaped — bring it to that size.
///
/// Counted that way, every frame that carries a body stays inside API Gateway's 32 KB
/// frame limit ([`MAX_FRAME_BYTES`]) with room for its envelope, whatever the body holds.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// API Gateway's WebSocket frame limit: no frame, either way, may be larger.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;

/// The size of `text` once written as a JSON string's contents: its UTF-8 bytes, with
/// `"`, `\`, and the control characters a message may hold (new line, carriage return,
/// tab) counted twice, as they are escaped; other control characters as `\u00XX`.
pub fn json_len(text: &str) -> usize {
    text.bytes()
        .map(|byte| match byte {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_len_is_the_length_serde_json_writes() {
        for text in [
            "plain",
            "quote \" and backslash \\",
            "lines\nand\r\ttabs",
            "é ü 漢字 🙂",
            "nul \u{0} bell \u{7} esc \u{1b}",
            "\u{2028}\u{2029}",
        ] {
            let written = serde_json::to_string(text).expect("a string encodes");
            assert_eq!(json_len(text), written.len() - 2, "{text:?}");
        }
    }
}
