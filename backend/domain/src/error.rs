//! What a use-case can refuse, each mapped to one wire error code.

use protocol::ErrorCode;

/// Why a use-case refused; nothing stored was changed.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    BadRequest(String),
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    #[error(
        "this server speaks protocol version {supported}; the console sent {sent}. Reload the page to get the current console."
    )]
    UnsupportedProtocol { sent: u32, supported: u32 },
    #[error("{0}")]
    Unauthorized(String),
    #[error("the connection ticket is unknown, used already or expired; ask for a new one")]
    InvalidTicket,
    #[error("a message needs some text")]
    EmptyMessage,
    #[error("a message may hold at most {max} bytes; this one has {actual}")]
    MessageTooLarge { max: usize, actual: usize },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("this chat has ended and takes no more messages")]
    ChatEnded,
    #[error("you cannot start a chat with yourself")]
    SelfChat,
    /// A help request someone else took first, or that was withdrawn.
    #[error("{0}")]
    AlreadyTaken(String),
    #[error("{0}")]
    RateLimited(String),
    #[error(
        "this chat's transcript is larger than one download carries ({max} bytes): read it in Transcripts, a page at a time"
    )]
    TranscriptTooLarge { max: usize },
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the request body is larger than {max} bytes")]
    BodyTooLarge { max: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    /// The server failed on its own (an answer it could not encode, a token it could not
    /// sign): nothing the client sent was wrong.
    #[error("the server failed: {0}")]
    Internal(String),
}

impl DomainError {
    /// The wire code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::BadRequest(_) => ErrorCode::BadRequest,
            DomainError::UnknownAction(_) => ErrorCode::UnknownAction,
            DomainError::UnsupportedProtocol { .. } => ErrorCode::UnsupportedProtocol,
            DomainError::Unauthorized(_) => ErrorCode::Unauthorized,
            DomainError::InvalidTicket => ErrorCode::InvalidTicket,
            DomainError::EmptyMessage => ErrorCode::EmptyMessage,
            DomainError::MessageTooLarge { .. } => ErrorCode::MessageTooLarge,
            DomainError::NotFound(_) => ErrorCode::NotFound,
            DomainError::Forbidden(_) => ErrorCode::Forbidden,
            DomainError::ChatEnded => ErrorCode::ChatEnded,
            DomainError::SelfChat => ErrorCode::SelfChat,
            DomainError::AlreadyTaken(_) => ErrorCode::AlreadyTaken,
            DomainError::RateLimited(_) => ErrorCode::RateLimited,
            DomainError::TranscriptTooLarge { .. } => ErrorCode::TranscriptTooLarge,
            DomainError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            DomainError::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            DomainError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            DomainError::Store(_) | DomainError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The sentence a person sees. Store failures are not detailed to clients.
    pub fn public_message(&self) -> String {
        match self {
            DomainError::Store(_) | DomainError::Internal(_) => {
                "the server could not complete this; try again".into()
            }
            other => other.to_string(),
        }
    }
}

/// A store failure. Retryable failures may succeed if the same call is made again.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub message: String,
    pub retryable: bool,
}

impl StoreError {
    /// A failure that retrying will not fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure that may pass (throttling, a conflict, a timeout).
    pub fn retryable(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            retryable: true,
        }
    }
}
