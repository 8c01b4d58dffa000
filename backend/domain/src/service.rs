//! The use-cases: each one checks the rules, changes the store, and pushes what changed to
//! the connections of the agents concerned.

use crate::error::DomainError;
use crate::model::{Agent, Chat, Connection, ConnectionId, Identity, Ticket};
use crate::ports::{Appended, Clock, PushOutcome, Pusher, Store};
use crate::rules;
use protocol::{
    AgentId, AgentView, ChatId, ChatView, MessageView, PROTOCOL_VERSION, ServerFrame, TenantId,
};
use std::collections::BTreeMap;

/// How long a WebSocket ticket stays valid.
pub const TICKET_TTL_MS: i64 = 30_000;

/// The longest page of a transcript one request returns.
pub const MAX_PAGE: usize = 500;

/// The chat's use-cases over the ports.
#[derive(Clone, Copy)]
pub struct ChatService<'a> {
    pub store: &'a dyn Store,
    pub pusher: &'a dyn Pusher,
    pub clock: &'a dyn Clock,
}

impl std::fmt::Debug for ChatService<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChatService")
    }
}

impl<'a> ChatService<'a> {
    /// The agent behind an identity; `Unauthorized` if the directory no longer has her.
    pub async fn agent(&self, who: &Identity) -> Result<Agent, DomainError> {
        self.store
            .agent(&who.tenant, &who.agent)
            .await?
            .ok_or_else(|| DomainError::Unauthorized("this agent is not in the directory".into()))
    }

    /// The agents `who` can see: her group (every group for a supervisor), plus anyone
    /// she has a chat with.
    pub async fn visible_agents(&self, who: &Identity) -> Result<Vec<AgentView>, DomainError> {
        let me = self.agent(who).await?;
        let partners: Vec<AgentId> = self
            .store
            .chats_of(&who.tenant, &who.agent)
            .await?
            .iter()
            .map(|chat| chat.other(&who.agent).clone())
            .collect();
        let mut agents: Vec<AgentView> = self
            .store
            .agents(&who.tenant)
            .await?
            .into_iter()
            .filter(|other| rules::can_see(&me, other) || partners.contains(&other.id))
            .map(|agent| agent.view())
            .collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(agents)
    }

    /// Issues a single-use ticket for opening a WebSocket as `who`.
    pub async fn issue_ticket(&self, who: &Identity) -> Result<Ticket, DomainError> {
        self.agent(who).await?;
        let ticket = Ticket {
            id: self.clock.new_id(),
            tenant: who.tenant.clone(),
            agent: who.agent.clone(),
            expires_at: self.clock.now_ms() + TICKET_TTL_MS,
        };
        self.store.put_ticket(&ticket).await?;
        Ok(ticket)
    }

    /// Redeems a ticket (once) and returns who it was issued to.
    pub async fn redeem_ticket(&self, id: &str) -> Result<Identity, DomainError> {
        let ticket = self
            .store
            .take_ticket(id)
            .await?
            .ok_or(DomainError::InvalidTicket)?;
        if ticket.expires_at < self.clock.now_ms() {
            return Err(DomainError::InvalidTicket);
        }
        let who = Identity {
            tenant: ticket.tenant,
            agent: ticket.agent,
        };
        self.agent(&who).await?;
        Ok(who)
    }

    /// Records a new connection of `who`.
    pub async fn connect(&self, id: ConnectionId, who: &Identity) -> Result<(), DomainError> {
        self.store
            .put_connection(&Connection {
                id,
                tenant: who.tenant.clone(),
                agent: who.agent.clone(),
                connected_at: self.clock.now_ms(),
            })
            .await?;
        Ok(())
    }

    /// Forgets a connection.
    pub async fn disconnect(&self, id: &ConnectionId) -> Result<(), DomainError> {
        self.store.delete_connection(id).await?;
        Ok(())
    }

    /// Answers a console's `hello`: who she is, her chats, then every message she lacks
    /// (after the sequence numbers in `resume`), in order.
    pub async fn hello(
        &self,
        connection: &ConnectionId,
        who: &Identity,
        protocol: u32,
        resume: &BTreeMap<ChatId, u64>,
    ) -> Result<(), DomainError> {
        if protocol != PROTOCOL_VERSION {
            return Err(DomainError::UnsupportedProtocol {
                sent: protocol,
                supported: PROTOCOL_VERSION,
            });
        }
        let me = self.agent(who).await?;
        let chats = self.store.chats_of(&who.tenant, &who.agent).await?;
        let mut views = Vec::with_capacity(chats.len());
        for chat in &chats {
            views.push(self.chat_view(chat, &who.agent).await?);
        }
        let pending_chats = count_pending(&chats, &who.agent);
        self.push_to_connection(
            connection,
            &ServerFrame::Welcome {
                protocol: PROTOCOL_VERSION,
                me: me.view(),
                chats: views,
                pending_chats,
            },
        )
        .await;
        for chat in &chats {
            let mut after = resume.get(&chat.id).copied().unwrap_or(0);
            while after < chat.last_seq {
                let page = self
                    .store
                    .messages(&who.tenant, &chat.id, after, MAX_PAGE)
                    .await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for message in &page {
                    self.push_to_connection(
                        connection,
                        &ServerFrame::Message {
                            message: message.view(),
                        },
                    )
                    .await;
                }
            }
        }
        Ok(())
    }

    /// Starts a chat of `who` with `with` (or returns the open one), tells both agents'
    /// consoles, and answers the asking connection with `chat_started`.
    pub async fn start_chat(
        &self,
        connection: &ConnectionId,
        who: &Identity,
        with: &AgentId,
        interaction: Option<String>,
    ) -> Result<Chat, DomainError> {
        if with == &who.agent {
            return Err(DomainError::SelfChat);
        }
        let me = self.agent(who).await?;
        let other =
            self.store.agent(&who.tenant, with).await?.ok_or_else(|| {
                DomainError::NotFound(format!("no agent {with} is visible to you"))
            })?;
        if !rules::can_see(&me, &other) {
            return Err(DomainError::Forbidden(format!(
                "{} is in another functional group; only a supervisor can chat across groups",
                other.name
            )));
        }
        if interaction
            .as_ref()
            .is_some_and(|reference| reference.len() > 256)
        {
            return Err(DomainError::BadRequest(
                "an interaction reference may hold at most 256 bytes".into(),
            ));
        }
        let candidate = Chat::new(
            who.tenant.clone(),
            ChatId::new(self.clock.new_id()),
            who.agent.clone(),
            with.clone(),
            self.clock.now_ms(),
            interaction,
        );
        let (chat, created) = self.store.open_chat(&candidate).await?;
        if created {
            self.push_chat_to_participants(&chat).await?;
        }
        let view = self.chat_view(&chat, &who.agent).await?;
        self.push_to_connection(connection, &ServerFrame::ChatStarted { chat: view })
            .await;
        Ok(chat)
    }

    /// Stores a message and delivers it to every connection of both participants; the
    /// sending connection also gets the acknowledgement. A retried send (same
    /// `client_msg_id`) is acknowledged again with the sequence it was stored under.
    pub async fn send(
        &self,
        connection: &ConnectionId,
        who: &Identity,
        chat_id: &ChatId,
        client_msg_id: &str,
        body: &str,
    ) -> Result<MessageView, DomainError> {
        rules::check_client_msg_id(client_msg_id)?;
        rules::check_body(body)?;
        self.participant_chat(who, chat_id).await?;
        let at = self.clock.now_ms();
        let (chat, message, fresh) = match self
            .store
            .append_message(&who.tenant, chat_id, &who.agent, client_msg_id, body, at)
            .await?
        {
            Appended::Stored { chat, message } => (chat, message, true),
            Appended::Duplicate { chat, message } => (chat, message, false),
            Appended::NoSuchChat => return Err(not_your_chat(chat_id)),
            Appended::Ended => return Err(DomainError::ChatEnded),
        };
        if fresh {
            let frame = ServerFrame::Message {
                message: message.view(),
            };
            for agent in chat.participants() {
                self.push_to_agent(&who.tenant, agent, &frame).await?;
            }
            self.push_chat_to_participants(&chat).await?;
        }
        self.push_to_connection(
            connection,
            &ServerFrame::Ack {
                chat_id: chat_id.clone(),
                client_msg_id: client_msg_id.to_owned(),
                seq: message.seq,
            },
        )
        .await;
        Ok(message.view())
    }

    /// Ends a chat for both participants and tells both.
    pub async fn end(&self, who: &Identity, chat_id: &ChatId) -> Result<Chat, DomainError> {
        let chat = self.participant_chat(who, chat_id).await?;
        if chat.status == protocol::ChatStatus::Ended {
            return Ok(chat);
        }
        let chat = self
            .store
            .end_chat(&who.tenant, chat_id, &who.agent, self.clock.now_ms())
            .await?
            .ok_or_else(|| not_your_chat(chat_id))?;
        self.push_chat_to_participants(&chat).await?;
        Ok(chat)
    }

    /// The chats of `who`, as she sees them.
    pub async fn chats(&self, who: &Identity) -> Result<Vec<ChatView>, DomainError> {
        let chats = self.store.chats_of(&who.tenant, &who.agent).await?;
        let mut views = Vec::with_capacity(chats.len());
        for chat in &chats {
            views.push(self.chat_view(chat, &who.agent).await?);
        }
        Ok(views)
    }

    /// A page of a chat's transcript, for a participant.
    pub async fn messages(
        &self,
        who: &Identity,
        chat_id: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<MessageView>, bool), DomainError> {
        let chat = self.participant_chat(who, chat_id).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let page = self
            .store
            .messages(&who.tenant, chat_id, after, limit)
            .await?;
        let more = page.last().is_some_and(|last| last.seq < chat.last_seq);
        Ok((page.iter().map(|m| m.view()).collect(), more))
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
        let other_id = chat.other(viewer);
        let other = self
            .store
            .agent(&chat.tenant, other_id)
            .await?
            .map(|agent| agent.view())
            .unwrap_or_else(|| departed_agent(other_id));
        let pending = chat.pending_for(viewer);
        Ok(ChatView {
            id: chat.id.clone(),
            with: other,
            status: chat.status,
            pending,
            unread: chat.unread_for(viewer),
            waiting_since: if pending { chat.waiting_since } else { None },
            last_seq: chat.last_seq,
            started_at: chat.started_at,
            interaction: chat.interaction.clone(),
        })
    }

    async fn push_chat_to_participants(&self, chat: &Chat) -> Result<(), DomainError> {
        for agent in chat.participants() {
            let all = self.store.chats_of(&chat.tenant, agent).await?;
            let frame = ServerFrame::Chat {
                chat: self.chat_view(chat, agent).await?,
                pending_chats: count_pending(&all, agent),
            };
            self.push_to_agent(&chat.tenant, agent, &frame).await?;
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
        let payload = encode(frame);
        for connection in self.store.connections_of(tenant, agent).await? {
            if self.pusher.post(&connection, &payload).await == PushOutcome::Gone {
                self.store.delete_connection(&connection).await?;
            }
        }
        Ok(())
    }

    /// Pushes a frame to one connection.
    pub async fn push_to_connection(&self, connection: &ConnectionId, frame: &ServerFrame) {
        if self.pusher.post(connection, &encode(frame)).await == PushOutcome::Gone {
            // Best effort: the connection's own $disconnect also removes it.
            let _ = self.store.delete_connection(connection).await;
        }
    }
}

fn encode(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        String::from(r#"{"type":"error","code":"internal","message":"encoding failed"}"#)
    })
}

fn count_pending(chats: &[Chat], agent: &AgentId) -> u32 {
    chats.iter().filter(|chat| chat.pending_for(agent)).count() as u32
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
