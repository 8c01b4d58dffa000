//! Transcripts: a supervisor lists, searches and reads the chats of her tenant; an agent
//! reads her own.
//!
//! A listing walks one index of chats by start time, the latest first — the agent's
//! when she is named (or is not a supervisor), else the group's when one is named, else
//! the tenant's — and each page stops at a fixed budget: [`MAX_TRANSCRIPTS`] found,
//! [`CHATS_LOOKED_AT`] chats looked at, [`MESSAGES_READ`] messages or [`BYTES_READ`]
//! bytes of them read by a text search. Where it stopped is the next page's cursor, so a search goes on from there
//! (within a chat, from the next message) and says how far back it has looked.

use super::{ChatService, DOWNLOAD_BYTES, MAX_PAGE, departed_agent, not_your_chat};
use crate::error::DomainError;
use crate::model::{Agent, Chat, Identity, Message};
use crate::ports::{StartedCursor, StartedIndex};
use protocol::http::{ReadKind, Transcript, TranscriptList, TranscriptSummary};
use protocol::{AgentId, ChatId, GroupId, Role};
use std::collections::HashMap;

/// The most transcripts one page returns.
pub const MAX_TRANSCRIPTS: usize = 50;

/// The most chats one page looks at, those its filters pass over included.
pub const CHATS_LOOKED_AT: usize = 100;

/// The most messages one page of a text search reads.
pub const MESSAGES_READ: usize = 2_000;

/// The most bytes of message bodies one page of a text search reads (a page of
/// [`SEARCH_PAGE`] messages may go past it once).
pub const BYTES_READ: usize = 512 * 1024;

/// How many chats one read of an index asks for.
const INDEX_PAGE: usize = 50;

/// How many messages one read of a chat asks for in a text search.
const SEARCH_PAGE: usize = 100;

/// Which transcripts to list. Every field narrows the list; none lists all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranscriptFilter {
    /// Chats this agent takes part in.
    pub agent: Option<AgentId>,
    /// Chats with a participant who was of this functional group as it started.
    pub group: Option<GroupId>,
    /// Chats started at or after this time (ms).
    pub from: Option<i64>,
    /// Chats started at or before this time (ms).
    pub to: Option<i64>,
    /// Chats with a message containing this text (case-insensitive).
    pub text: Option<String>,
}

/// Where a listing goes on: after the chat `at` names or, when `read_to` is not 0, in
/// that chat, at its first message after `read_to` (a text search that ran out of its
/// budget of messages inside it). Written `{started_at}.{read_to}.{chat}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptCursor {
    pub at: StartedCursor,
    pub read_to: u64,
}

impl TranscriptCursor {
    /// The cursor `text` writes, as [`TranscriptCursor::text`] wrote it.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::BadRequest(format!("{text:?} is not a cursor of transcripts"));
        let mut parts = text.splitn(3, '.');
        let (Some(started_at), Some(read_to), Some(chat)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if chat.is_empty() || chat.len() > 128 {
            return Err(bad());
        }
        Ok(TranscriptCursor {
            at: StartedCursor {
                started_at: started_at.parse().map_err(|_| bad())?,
                chat: ChatId::from(chat),
            },
            read_to: read_to.parse().map_err(|_| bad())?,
        })
    }

    /// The cursor as text, for the `cursor` query parameter.
    pub fn text(&self) -> String {
        format!("{}.{}.{}", self.at.started_at, self.read_to, self.at.chat)
    }
}

/// What a text search found in one chat, within the page's budget.
enum Search {
    Found,
    NotFound,
    /// The budget ran out after the message with this sequence number.
    Stopped(u64),
}

impl ChatService<'_> {
    /// A page of the transcripts `who` may read that match `filter`, the latest started
    /// first, from `cursor` on (the first page without one).
    pub async fn transcripts(
        &self,
        who: &Identity,
        filter: &TranscriptFilter,
        cursor: Option<&TranscriptCursor>,
        limit: usize,
    ) -> Result<TranscriptList, DomainError> {
        let me = self.agent(who).await?;
        let index = match (&filter.agent, &filter.group) {
            _ if me.role != Role::Supervisor => StartedIndex::Agent(who.agent.clone()),
            (Some(agent), _) => StartedIndex::Agent(agent.clone()),
            (None, Some(group)) => StartedIndex::Group(group.clone()),
            (None, None) => StartedIndex::Tenant,
        };
        let needle = filter
            .text
            .as_ref()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        let limit = limit.clamp(1, MAX_TRANSCRIPTS);
        let mut walk = Walk {
            found: Vec::new(),
            looked_at: 0,
            read: Spent::default(),
            after: filter.to.map(StartedCursor::at_or_before),
            searched_to: None,
        };
        let mut next = None;
        'pages: {
            if let Some(cursor) = cursor {
                walk.after = Some(cursor.at.clone());
                if cursor.read_to > 0
                    && let Some(chat) = self.store.chat(&who.tenant, &cursor.at.chat).await?
                    && index_holds(&index, &chat)
                {
                    // The chat a search stopped in: the rest of its messages first.
                    if let Some(stop) = self
                        .look_at(&mut walk, chat, filter, needle.as_deref(), cursor.read_to)
                        .await?
                    {
                        next = Some(stop);
                        break 'pages;
                    }
                }
            }
            loop {
                let asked = INDEX_PAGE.min(CHATS_LOOKED_AT - walk.looked_at);
                let chats = self
                    .store
                    .chats_started(&who.tenant, &index, walk.after.as_ref(), asked)
                    .await?;
                let last_page = chats.len() < asked;
                for chat in chats {
                    if filter.from.is_some_and(|from| chat.started_at < from) {
                        break 'pages;
                    }
                    if let Some(stop) = self
                        .look_at(&mut walk, chat, filter, needle.as_deref(), 0)
                        .await?
                    {
                        next = Some(stop);
                        break 'pages;
                    }
                    if walk.found.len() >= limit
                        || walk.looked_at >= CHATS_LOOKED_AT
                        || walk.read.exhausted()
                    {
                        next = walk
                            .after
                            .clone()
                            .map(|at| TranscriptCursor { at, read_to: 0 });
                        break 'pages;
                    }
                }
                if last_page {
                    break 'pages;
                }
            }
        }
        let directory = self.names(&who.tenant, &walk.found).await?;
        Ok(TranscriptList {
            transcripts: walk
                .found
                .iter()
                .map(|chat| summary(chat, &directory))
                .collect(),
            searched_to: next.as_ref().and(walk.searched_to),
            next: next.map(|cursor| cursor.text()),
        })
    }

    /// Looks at one chat of a walk, from its message after `read_to`: keeps it if it
    /// matches. Returns where the walk stops if its budget of messages ran out in it.
    async fn look_at(
        &self,
        walk: &mut Walk,
        chat: Chat,
        filter: &TranscriptFilter,
        needle: Option<&str>,
        read_to: u64,
    ) -> Result<Option<TranscriptCursor>, DomainError> {
        walk.looked_at += 1;
        walk.after = Some(StartedCursor::after(&chat));
        if !passes(&chat, filter) {
            walk.searched_to = Some(chat.started_at);
            return Ok(None);
        }
        let search = match needle {
            None => Search::Found,
            Some(needle) => self.search(&chat, needle, read_to, &mut walk.read).await?,
        };
        match search {
            Search::Found => walk.found.push(chat.clone()),
            Search::NotFound => {}
            Search::Stopped(read_to) => {
                // Every chat started after it has been looked at.
                walk.searched_to = Some(chat.started_at);
                return Ok(Some(TranscriptCursor {
                    at: StartedCursor::after(&chat),
                    read_to,
                }));
            }
        }
        walk.searched_to = Some(chat.started_at);
        Ok(None)
    }

    /// Reads `chat`'s messages after `read_to` for `needle`, counting each read into
    /// `read`, until one holds it, the chat ends or the page's budget is spent.
    async fn search(
        &self,
        chat: &Chat,
        needle: &str,
        mut read_to: u64,
        read: &mut Spent,
    ) -> Result<Search, DomainError> {
        while read_to < chat.last_seq {
            if read.exhausted() {
                return Ok(Search::Stopped(read_to));
            }
            let asked = SEARCH_PAGE.min(MESSAGES_READ - read.messages);
            let page = self
                .store
                .messages(&chat.tenant, &chat.id, read_to, asked)
                .await?;
            read.messages += page.len();
            read.bytes += page.iter().map(|m| m.body.len()).sum::<usize>();
            let Some(last) = page.last() else { break };
            read_to = last.seq;
            if page.iter().any(|m| m.body.to_lowercase().contains(needle)) {
                return Ok(Search::Found);
            }
        }
        Ok(Search::NotFound)
    }

    /// The directory entries of the participants of `chats`, in one read.
    async fn names(
        &self,
        tenant: &protocol::TenantId,
        chats: &[Chat],
    ) -> Result<HashMap<AgentId, Agent>, DomainError> {
        let mut ids: Vec<AgentId> = chats
            .iter()
            .flat_map(|chat| chat.participants().map(Clone::clone))
            .collect();
        ids.sort();
        ids.dedup();
        let mut directory = HashMap::new();
        for chunk in ids.chunks(100) {
            for agent in self.store.agents_named(tenant, chunk).await? {
                directory.insert(agent.id.clone(), agent);
            }
        }
        Ok(directory)
    }

    /// A page of a transcript — at most `limit` (≤ [`MAX_PAGE`]) messages after number
    /// `after` — for a supervisor of its tenant or a participant.
    pub async fn transcript(
        &self,
        who: &Identity,
        chat_id: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Transcript, DomainError> {
        let (me, chat) = self.readable_chat(who, chat_id).await?;
        let directory = self.names(&who.tenant, std::slice::from_ref(&chat)).await?;
        let mut messages = self
            .store
            .messages(&chat.tenant, &chat.id, after, limit.clamp(1, MAX_PAGE))
            .await?;
        super::within_page_bytes(&mut messages, false);
        let next = messages
            .last()
            .map(|last| last.seq)
            .filter(|&seq| seq < chat.last_seq);
        self.audit(&me, &chat, ReadKind::Read, &messages).await?;
        Ok(Transcript {
            chat: summary(&chat, &directory),
            messages: messages.iter().map(Message::view).collect(),
            next,
        })
    }

    /// One whole transcript, for its download, read a page at a time: refused as
    /// [`DomainError::TranscriptTooLarge`] once its bodies pass [`DOWNLOAD_BYTES`] (the
    /// handler checks the file it writes against the same bound).
    pub async fn whole_transcript(
        &self,
        who: &Identity,
        chat_id: &ChatId,
    ) -> Result<Transcript, DomainError> {
        let (me, chat) = self.readable_chat(who, chat_id).await?;
        let directory = self.names(&who.tenant, std::slice::from_ref(&chat)).await?;
        let messages = self.all_messages(&chat).await?;
        self.audit(&me, &chat, ReadKind::Download, &messages)
            .await?;
        Ok(Transcript {
            chat: summary(&chat, &directory),
            messages: messages.iter().map(Message::view).collect(),
            next: None,
        })
    }

    /// The reader and the chat, if she may read its transcript: a supervisor of its
    /// tenant, or one of its participants.
    pub(super) async fn readable_chat(
        &self,
        who: &Identity,
        chat_id: &ChatId,
    ) -> Result<(Agent, Chat), DomainError> {
        let me = self.agent(who).await?;
        match self.store.chat(&who.tenant, chat_id).await? {
            Some(chat) if me.role == Role::Supervisor || chat.has_participant(&who.agent) => {
                Ok((me, chat))
            }
            _ => Err(not_your_chat(chat_id)),
        }
    }

    async fn all_messages(&self, chat: &Chat) -> Result<Vec<Message>, DomainError> {
        let (mut all, mut after, mut bytes) = (Vec::new(), 0, 0);
        while after < chat.last_seq {
            let page = self
                .store
                .messages(&chat.tenant, &chat.id, after, MAX_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            bytes += page.iter().map(|m| m.body.len()).sum::<usize>();
            if bytes > DOWNLOAD_BYTES {
                return Err(DomainError::TranscriptTooLarge {
                    max: DOWNLOAD_BYTES,
                });
            }
            all.extend(page);
        }
        Ok(all)
    }
}

/// A listing under way: what it found, what it spent, where it is.
struct Walk {
    found: Vec<Chat>,
    looked_at: usize,
    read: Spent,
    /// The last chat looked at (where the index is read on from).
    after: Option<StartedCursor>,
    /// When the last chat looked at to its end started.
    searched_to: Option<i64>,
}

/// What a text search has read of its page's budget.
#[derive(Default)]
struct Spent {
    messages: usize,
    bytes: usize,
}

impl Spent {
    fn exhausted(&self) -> bool {
        self.messages >= MESSAGES_READ || self.bytes >= BYTES_READ
    }
}

/// True when `index` lists `chat` (a cursor names a chat: it must be one of the walk's).
fn index_holds(index: &StartedIndex, chat: &Chat) -> bool {
    match index {
        StartedIndex::Tenant => true,
        StartedIndex::Agent(agent) => chat.has_participant(agent),
        StartedIndex::Group(group) => chat.groups().contains(&group),
    }
}

/// The filters an index does not resolve, checked on the chat itself.
fn passes(chat: &Chat, filter: &TranscriptFilter) -> bool {
    let agent_ok = filter
        .agent
        .as_ref()
        .is_none_or(|agent| chat.has_participant(agent));
    let group_ok = filter
        .group
        .as_ref()
        .is_none_or(|group| chat.groups().contains(&group));
    let to_ok = filter.to.is_none_or(|to| chat.started_at <= to);
    agent_ok && group_ok && to_ok
}

fn summary(chat: &Chat, directory: &HashMap<AgentId, Agent>) -> TranscriptSummary {
    TranscriptSummary {
        id: chat.id.clone(),
        participants: chat
            .participants()
            .iter()
            .map(|id| {
                directory
                    .get(*id)
                    .map(Agent::view)
                    .unwrap_or_else(|| departed_agent(id))
            })
            .collect(),
        status: chat.status,
        started_at: chat.started_at,
        ended_at: chat.ended_at,
        last_at: chat.last_at,
        messages: chat.last_seq,
        interaction: chat.interaction.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written() {
        for cursor in [
            TranscriptCursor {
                at: StartedCursor {
                    started_at: 1_700_000_000_000,
                    chat: "c.with.dots".into(),
                },
                read_to: 0,
            },
            TranscriptCursor {
                at: StartedCursor {
                    started_at: 5,
                    chat: "c1".into(),
                },
                read_to: 1_999,
            },
        ] {
            assert_eq!(
                TranscriptCursor::parse(&cursor.text()).expect("a cursor"),
                cursor
            );
        }
        for bad in ["", "5", "5.0", "5.0.", "x.0.c1", "5.-1.c1", "5.x.c1"] {
            assert!(TranscriptCursor::parse(bad).is_err(), "{bad:?}");
        }
    }
}
