//! Error codes: the same on the WebSocket (an `error` frame) and the HTTP API (a JSON body).

use serde::{Deserialize, Serialize};

/// Why a request was refused. Stable strings on the wire; `docs/protocol.md` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame or body is not valid JSON of the expected shape.
    BadRequest,
    /// The `action` is not one this server knows.
    UnknownAction,
    /// The client speaks a protocol version this server does not.
    UnsupportedProtocol,
    /// No token, or the token is forged, expired or names an unknown agent.
    Unauthorized,
    /// The WebSocket ticket is unknown, used already, or expired.
    InvalidTicket,
    /// The message body is empty or only white space.
    EmptyMessage,
    /// The message body is longer than the protocol allows.
    MessageTooLarge,
    /// No such chat, agent or resource is visible to you.
    NotFound,
    /// You may not do this here: another group or tenant, or not your chat.
    Forbidden,
    /// The chat has ended and takes no more messages.
    ChatEnded,
    /// You cannot chat with yourself.
    SelfChat,
    /// Someone else took this help request first, or it was withdrawn.
    AlreadyTaken,
    /// Too many frames of this kind too quickly; wait a moment.
    RateLimited,
    /// A transcript too large for one download: read it a page at a time instead.
    TranscriptTooLarge,
    /// The HTTP path exists, but not for this method.
    MethodNotAllowed,
    /// An HTTP request body larger than the API takes (1 MB).
    BodyTooLarge,
    /// An HTTP request body that is not `application/json`.
    UnsupportedMediaType,
    /// Something failed on the server; nothing was changed, try again.
    Internal,
}

impl ErrorCode {
    /// Every code, for documentation checks.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::BadRequest,
        ErrorCode::UnknownAction,
        ErrorCode::UnsupportedProtocol,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidTicket,
        ErrorCode::EmptyMessage,
        ErrorCode::MessageTooLarge,
        ErrorCode::NotFound,
        ErrorCode::Forbidden,
        ErrorCode::ChatEnded,
        ErrorCode::SelfChat,
        ErrorCode::AlreadyTaken,
        ErrorCode::RateLimited,
        ErrorCode::TranscriptTooLarge,
        ErrorCode::MethodNotAllowed,
        ErrorCode::BodyTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Internal,
    ];

    /// The HTTP status that goes with this code on the HTTP API.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::UnknownAction
            | ErrorCode::EmptyMessage
            | ErrorCode::SelfChat => 400,
            ErrorCode::UnsupportedProtocol => 400,
            ErrorCode::Unauthorized | ErrorCode::InvalidTicket => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::ChatEnded | ErrorCode::AlreadyTaken => 409,
            ErrorCode::MessageTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::TranscriptTooLarge => 422,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Internal => 500,
        }
    }
}

/// The body of every HTTP error, and the payload of a WebSocket `error` frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A sentence for a person.
    pub message: String,
}
