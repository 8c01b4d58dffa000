//! The pages of chats the console reads over HTTP: the open chats a `welcome` could not
//! hold, and the History list of ended ones.

use super::ConsoleState;
use protocol::{ChatStatus, ChatView};

/// How far the History list (ended chats, from `GET /api/chats?status=ended`) is loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum HistoryPaging {
    /// No page asked for yet.
    #[default]
    NotLoaded,
    /// A page is on its way.
    Loading,
    /// More pages follow, from this cursor.
    More(String),
    /// Every ended chat is listed.
    Complete,
}

impl ConsoleState {
    /// Applies a page of open chats (`GET /api/chats?status=open`, the rest of a
    /// `welcome`); `last` when no page follows it.
    pub fn open_page(&mut self, chats: Vec<ChatView>, last: bool) {
        for view in chats {
            self.unconfirmed.retain(|id| *id != view.id);
            // A push may have brought a newer view since the page was read.
            let newer = self.chats.get(&view.id).is_some_and(|entry| {
                entry.view.status == ChatStatus::Ended || entry.view.last_seq > view.last_seq
            });
            if !newer {
                self.upsert(view);
            }
        }
        if last {
            self.let_go_unconfirmed();
        }
    }

    /// Lets go of the chats held as open that the server no longer lists as open: they
    /// ended while the console was away, and leave the Multi-Chat Table. (The History
    /// list has them, from the server, with when they ended.)
    pub(super) fn let_go_unconfirmed(&mut self) {
        for id in std::mem::take(&mut self.unconfirmed) {
            if let Some(entry) = self.chats.get_mut(&id) {
                entry.view.status = ChatStatus::Ended;
            }
        }
    }

    /// Applies a page of the History list; `next` is where the page after it starts.
    pub fn history_page(&mut self, chats: Vec<ChatView>, next: Option<String>) {
        for view in chats {
            // A chat that ended meanwhile is listed already.
            if !self.history.iter().any(|listed| listed.id == view.id) {
                self.history.push(view);
            }
        }
        self.history_paging = next.map_or(HistoryPaging::Complete, HistoryPaging::More);
    }

    /// Holds an ended chat of the History list, to show it in the chat window (its
    /// latest messages are then loaded: [`Missing::Before`]).
    pub fn open_from_history(&mut self, view: ChatView) {
        self.upsert(view);
    }
}
