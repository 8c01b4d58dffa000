//! What the agent typed and the server has not acknowledged yet.

use crate::format;
use protocol::{ChatId, ClientFrame, MAX_MESSAGE_BYTES, json_len};

/// A message typed but not yet acknowledged by the server. It is sent again, with the
/// same `client_msg_id`, after a reconnect; the server stores it once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub chat_id: ChatId,
    pub client_msg_id: String,
    pub body: String,
}

impl Outgoing {
    /// The frame that sends it.
    pub fn frame(&self) -> ClientFrame {
        ClientFrame::Send {
            chat_id: self.chat_id.clone(),
            client_msg_id: self.client_msg_id.clone(),
            body: self.body.clone(),
        }
    }
}

/// Why `body` cannot be sent, if the server would refuse it for its size.
pub fn too_long(body: &str) -> Option<String> {
    let size = json_len(body);
    (size > MAX_MESSAGE_BYTES).then(|| {
        format!(
            "This message is too long to send ({} of {} bytes); shorten it.",
            format::count(size),
            format::count(MAX_MESSAGE_BYTES)
        )
    })
}
