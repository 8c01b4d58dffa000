//! What every part of the signed-in console shares (the session, the chat state, the
//! link, the clock), provided by the `Console` component to the parts inside it: its own
//! module, so that the parts and the console that holds them do not import each other.

use crate::alerts::AlertSettings;
use crate::api::{self, CatchUp, Link};
use crate::state::ConsoleState;
use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{AgentView, ChatId, ClientFrame};

/// The Control Panel's tabs and their sub-tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    StatusAgentStatus,
    PhoneAgents,
    ChatChats,
    ChatAgents,
    ChatTranscripts,
}

/// What every part of the signed-in console shares.
#[derive(Clone, Debug)]
pub struct ConsoleContext {
    pub me: AgentView,
    pub token: String,
    pub state: RwSignal<ConsoleState>,
    pub link: RwSignal<Link>,
    pub tab: RwSignal<Tab>,
    pub selected: RwSignal<Option<ChatId>>,
    /// The agent chose a chat (Start a chat, a row of the Multi-Chat Table): Your Message
    /// takes the focus as its window shows.
    pub compose: RwSignal<bool>,
    /// The current time, ticking every second (ms since the epoch).
    pub now: RwSignal<i64>,
    /// Whether the page is visible (not a background tab).
    pub visible: RwSignal<bool>,
    /// How she wants to be alerted while the page is hidden.
    pub alerts: RwSignal<AlertSettings>,
    pub refusal: RwSignal<Option<String>>,
    /// What she has typed and not sent, per chat: switching chats keeps each draft.
    pub drafts: RwSignal<std::collections::BTreeMap<ChatId, String>>,
    /// Fetches what the console lacks: a chat's messages, the History list's pages.
    pub catch_up: CatchUp,
    pub(crate) outbound: UnboundedSender<ClientFrame>,
}

impl ConsoleContext {
    /// The context of the console around the calling component (provided by
    /// [`crate::components::console::Console`]).
    ///
    /// Not `expect_context`: its panic message prints the type's name with `{:?}`, and
    /// that alone brings Rust's escaping of strings and its Unicode tables (some 4 KB)
    /// into the WASM; this message is plain text.
    pub fn current() -> Self {
        use_context::<ConsoleContext>().expect("a part of the console outside the console")
    }

    /// Hands a frame to the link. It goes out on the open socket, or after the `hello`
    /// of the one being opened; while the link is down it is dropped, and sends of
    /// messages go out from the outbox with the next `hello` instead.
    pub fn send(&self, frame: ClientFrame) {
        let _ = self.outbound.unbounded_send(frame);
    }

    /// Reloads the agent list.
    pub fn refresh_agents(&self) {
        let (token, state, refusal) = (self.token.clone(), self.state, self.refusal);
        spawn_local(async move {
            match api::agents(&token).await {
                Ok(list) => state.update(|s| s.set_agents(list)),
                Err(failure) => refusal.set(Some(failure.message)),
            }
        });
    }

    /// Queues a message for `chat` and sends it; false when it is too long to send (the
    /// chat window says so beside Your Message, which keeps the text).
    pub fn send_message(&self, chat: ChatId, body: String) -> bool {
        let id = client_msg_id();
        let mut queued = None;
        self.state
            .update(|s| queued = Some(s.queue_send(chat, id, body)));
        match queued {
            Some(Ok(frame)) => {
                self.send(frame);
                true
            }
            _ => false,
        }
    }
}

fn client_msg_id() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}-{:x}", js_sys::Date::now() as u64, random)
}
