//! The use-cases: each one checks the rules, changes the store, and pushes what changed to
//! the connections of the agents concerned. One file per part of the product.

mod audit;
mod chats;
mod help;
mod presence;
mod session;
mod transcripts;

pub use audit::MAX_READS;
pub use chats::{ChatCursor, ChatPage, MAX_CHAT_PAGE, SEND_QUOTA, TYPING_WINDOW_MS};
pub use help::{HELP_QUOTA, WAITING_HELP_PAGE};
pub use presence::STATE_CHANGE_WINDOW_MS;
pub use session::{
    CHECK_EVERY_MS, HELLO_QUOTA, MAX_RESUME, RESUME_PAGE, SWEEP_BATCH, WELCOME_CHATS, welcome_page,
};
pub use transcripts::{
    BYTES_READ, CHATS_LOOKED_AT, MAX_TRANSCRIPTS, MESSAGES_READ, TranscriptCursor, TranscriptFilter,
};

use crate::error::DomainError;
use crate::model::{Agent, Chat, ConnectionId, Identity, Message};
use crate::ports::{Clock, Order, PushOutcome, Pusher, Quota, Store};
use crate::rules;
use protocol::{AgentId, AgentView, ChatId, ChatView, ServerFrame, TenantId};

/// How long a WebSocket ticket stays valid.
pub const TICKET_TTL_MS: i64 = 30_000;

/// How many pushes of one event may be under way at once.
pub const MAX_CONCURRENT_PUSHES: usize = 16;

/// The longest page of a transcript one request returns.
pub const MAX_PAGE: usize = 500;

/// The most message text one page of messages carries (its bodies' bytes): a page ends
/// early rather than pass it, so an HTTP answer stays well inside Lambda's 6 MB response
/// (JSON writes a body in at most twice its bytes) whatever the messages hold.
pub const PAGE_BYTES: usize = 1024 * 1024;

/// The largest transcript download, in the bytes of its file: inside Lambda's 6 MB
/// response. A larger transcript is read a page at a time.
pub const DOWNLOAD_BYTES: usize = 5_000_000;

/// Cuts `page` (in sequence order) to at most [`PAGE_BYTES`] of bodies, always keeping
/// one message: from its end when `keep_newest` is false, from its start when true.
fn within_page_bytes(page: &mut Vec<Message>, keep_newest: bool) {
    let mut bytes = 0;
    let mut fits = |message: &Message| {
        bytes += message.body.len();
        bytes <= PAGE_BYTES
    };
    if keep_newest {
        let kept = page.iter().rev().take_while(|m| fits(m)).count().max(1);
        page.drain(..page.len() - kept.min(page.len()));
    } else {
        let kept = page.iter().take_while(|m| fits(m)).count().max(1);
        page.truncate(kept);
    }
}

/// The chat's use-cases over the ports.
#[derive(Clone, Copy)]
pub struct ChatService<'a> {
    pub store: &'a dyn Store,
    pub pusher: &'a dyn Pusher,
    pub clock: &'a dyn Clock,
    /// The order of a chat's pushes within this process (see [`Order`]).
    pub order: &'a dyn Order,
    /// How many sends one connection may make: [`SEND_QUOTA`], unless the server was
    /// configured otherwise (a benchmark raises it to measure the store, not the limit).
    pub send_quota: Quota,
}

impl std::fmt::Debug for ChatService<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChatService")
    }
}

impl ChatService<'_> {
    /// The agent behind an identity; `Unauthorized` if the directory no longer has her.
    pub async fn agent(&self, who: &Identity) -> Result<Agent, DomainError> {
        self.store
            .agent(&who.tenant, &who.agent)
            .await?
            .ok_or_else(|| DomainError::Unauthorized("this agent is not in the directory".into()))
    }

    /// The agents `who` can see: her group (every group for a supervisor), plus anyone
    /// she has a chat with.
    ///
    /// Read through her group's index and her partners, never the whole directory (but
    /// for a supervisor, who sees it all).
    pub async fn visible_agents(&self, who: &Identity) -> Result<Vec<AgentView>, DomainError> {
        let me = self.agent(who).await?;
        let mut seen: Vec<Agent> = if me.role == protocol::Role::Supervisor {
            self.store.agents(&who.tenant).await?
        } else {
            self.store.agents_of_group(&who.tenant, &me.group).await?
        };
        let mut partners: Vec<AgentId> = self.partners(who).await?;
        partners.retain(|id| !seen.iter().any(|agent| &agent.id == id));
        for chunk in partners.chunks(100) {
            seen.extend(self.store.agents_named(&who.tenant, chunk).await?);
        }
        let mut agents: Vec<AgentView> = seen
            .iter()
            .filter(|other| rules::can_see(&me, other) || partners.contains(&other.id))
            .map(Agent::view)
            .collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(agents)
    }

    /// Everyone `who` has (or had) a chat with: kept by the store, so as many as there
    /// are agents she has chatted with, never one per chat.
    async fn partners(&self, who: &Identity) -> Result<Vec<AgentId>, DomainError> {
        Ok(self.store.partners_of(&who.tenant, &who.agent).await?)
    }

    /// The chat, if `who` takes part in it. Another tenant's or another pair's chat is
    /// reported as not found, so that its existence does not leak.
    async fn participant_chat(
        &self,
        who: &Identity,
        chat_id: &ChatId,
    ) -> Result<Chat, DomainError> {
        match self.store.chat(&who.tenant, chat_id).await? {
            Some(chat) if chat.has_participant(&who.agent) => Ok(chat),
            _ => Err(not_your_chat(chat_id)),
        }
    }

    async fn chat_view(&self, chat: &Chat, viewer: &AgentId) -> Result<ChatView, DomainError> {
        let other = self.store.agent(&chat.tenant, chat.other(viewer)).await?;
        Ok(view_of(chat, viewer, other.as_ref()))
    }

    /// The views of a page of `viewer`'s chats, the others' directory entries read at
    /// once (one BatchGetItem per hundred in DynamoDB) rather than one per chat.
    async fn chat_views<'c>(
        &self,
        chats: impl IntoIterator<Item = &'c Chat>,
        viewer: &Identity,
    ) -> Result<Vec<ChatView>, DomainError> {
        let chats: Vec<&Chat> = chats.into_iter().collect();
        let others: Vec<AgentId> = chats
            .iter()
            .map(|chat| chat.other(&viewer.agent).clone())
            .collect();
        let agents = self.store.agents_named(&viewer.tenant, &others).await?;
        Ok(chats
            .iter()
            .map(|chat| {
                let other = chat.other(&viewer.agent);
                let entry = agents.iter().find(|agent| &agent.id == other);
                view_of(chat, &viewer.agent, entry)
            })
            .collect())
    }

    /// Tells both participants of a chat its new state, each as she sees it, with her
    /// count of pending chats: one read of the store for both.
    async fn push_chat_to_participants(&self, chat: &Chat) -> Result<(), DomainError> {
        let participants = chat.participants();
        let audience = self.store.audience(&chat.tenant, participants).await?;
        for (n, viewer) in participants.into_iter().enumerate() {
            let frame = ServerFrame::Chat {
                chat: view_of(chat, viewer, audience[1 - n].agent.as_ref()),
                pending_chats: audience[n].pending,
            };
            self.post_all(audience[n].connections.clone(), &encode(&frame))
                .await;
        }
        Ok(())
    }

    /// Pushes a frame to every connection of one agent; a connection that is gone is
    /// forgotten.
    async fn push_to_agent(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        frame: &ServerFrame,
    ) -> Result<(), DomainError> {
        let connections = self.store.connections_of(tenant, agent).await?;
        self.post_all(connections, &encode(frame)).await;
        Ok(())
    }

    /// Pushes one payload to many connections, a bounded number at a time.
    async fn post_all(&self, connections: Vec<ConnectionId>, payload: &str) {
        use futures_util::StreamExt;
        futures_util::stream::iter(connections)
            .for_each_concurrent(MAX_CONCURRENT_PUSHES, |connection| async move {
                self.post(&connection, payload).await;
            })
            .await;
    }

    /// Pushes a frame to one connection.
    pub async fn push_to_connection(&self, connection: &ConnectionId, frame: &ServerFrame) {
        self.post(connection, &encode(frame)).await;
    }

    async fn post(&self, connection: &ConnectionId, payload: &str) {
        let outcome = self.pusher.post(connection, payload).await;
        if let PushOutcome::Failed(error) = &outcome {
            tracing::warn!(connection = %connection.0, %error, "a push failed");
        }
        if outcome == PushOutcome::Gone {
            // Counted by the stack's dashboard (a metric filter on this message).
            tracing::info!(connection = %connection.0, "a connection was found gone (410) on a push: forgotten");
            // The connection's own $disconnect may never come (API Gateway sends it on a
            // best-effort basis): forget it now, as its $disconnect would — the agent is
            // Logged Out for those who see her when it was her last. Boxed: that tells
            // her viewers, which posts again.
            if let Err(error) = self.forget(connection).await {
                tracing::warn!(connection = %connection.0, %error, "a gone connection was not forgotten");
            }
        }
    }
}

impl<'a> ChatService<'a> {
    /// [`ChatService::disconnect`], boxed: a post that finds its connection gone calls it,
    /// and it posts in turn.
    fn forget<'s>(
        &'s self,
        connection: &'s ConnectionId,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DomainError>> + Send + 's>>
    {
        Box::pin(self.disconnect(connection))
    }
}

/// The frame as JSON. A frame is never larger than API Gateway's limit: the rules that
/// make every frame (a body's size, a welcome's page) keep it inside; one that would not
/// fit anyway is reported, and replaced by an `internal` error.
fn encode(frame: &ServerFrame) -> String {
    const FAILED: &str =
        r#"{"type":"error","code":"internal","message":"the server could not write this frame"}"#;
    match serde_json::to_string(frame) {
        Ok(json) if json.len() <= protocol::MAX_FRAME_BYTES => json,
        Ok(json) => {
            debug_assert!(false, "a frame of {} bytes was made", json.len());
            tracing::error!(
                bytes = json.len(),
                "a frame over the frame limit was not sent"
            );
            FAILED.into()
        }
        Err(error) => {
            tracing::error!(%error, "a frame could not be encoded");
            FAILED.into()
        }
    }
}

/// The chat as `viewer` sees it, `other` being the other participant's directory entry
/// (`None` once she has left the directory).
fn view_of(chat: &Chat, viewer: &AgentId, other: Option<&Agent>) -> ChatView {
    let other_id = chat.other(viewer);
    let pending = chat.pending_for(viewer);
    ChatView {
        id: chat.id.clone(),
        with: other
            .map(Agent::view)
            .unwrap_or_else(|| departed_agent(other_id)),
        status: chat.status,
        pending,
        unread: chat.unread_for(viewer),
        waiting_since: if pending { chat.waiting_since } else { None },
        last_seq: chat.last_seq,
        seen_by_other: chat.seen_by(other_id),
        started_at: chat.started_at,
        ended_at: chat.ended_at,
        interaction: chat.interaction.clone(),
        last_at: chat.last_at,
        last_line: chat.last_line.clone(),
    }
}

fn not_your_chat(chat_id: &ChatId) -> DomainError {
    DomainError::NotFound(format!("no chat {chat_id} of yours exists"))
}

/// How an agent who has left the directory appears in a chat that remains.
fn departed_agent(id: &AgentId) -> AgentView {
    AgentView {
        id: id.clone(),
        name: id.to_string(),
        group: protocol::GroupId::from(""),
        role: protocol::Role::Agent,
        state: protocol::AgentState::LoggedOut,
        state_since: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(sizes: &[usize]) -> Vec<Message> {
        sizes
            .iter()
            .enumerate()
            .map(|(n, size)| Message {
                chat_id: "c1".into(),
                seq: n as u64 + 1,
                from: "ann".into(),
                client_msg_id: format!("m{n}"),
                body: "x".repeat(*size),
                sent_at: 0,
            })
            .collect()
    }

    fn seqs(page: &[Message]) -> Vec<u64> {
        page.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_page_of_messages_ends_before_its_bytes_pass_the_bound() {
        let quarter = PAGE_BYTES / 4;
        let mut oldest_first = page(&[quarter; 6]);
        within_page_bytes(&mut oldest_first, false);
        assert_eq!(seqs(&oldest_first), [1, 2, 3, 4]);
        let mut newest_kept = page(&[quarter; 6]);
        within_page_bytes(&mut newest_kept, true);
        assert_eq!(seqs(&newest_kept), [3, 4, 5, 6]);
        let mut small = page(&[10; 500]);
        within_page_bytes(&mut small, false);
        assert_eq!(small.len(), 500, "a page of short messages is whole");
        let mut huge = page(&[PAGE_BYTES * 2, 1]);
        within_page_bytes(&mut huge, false);
        assert_eq!(
            seqs(&huge),
            [1],
            "one message always goes, whatever its size"
        );
        let mut empty = page(&[]);
        within_page_bytes(&mut empty, true);
        assert!(empty.is_empty());
    }
}

#[cfg(test)]
mod push_tests;
