//! Sessions: WebSocket tickets, connections coming and going, and the `hello` that
//! (re)starts a console.

use super::{ChatService, MAX_PAGE, TICKET_TTL_MS, count_pending};
use crate::error::DomainError;
use crate::model::{Connection, ConnectionId, Identity, Ticket};
use protocol::{AgentState, ChatId, PROTOCOL_VERSION, ServerFrame};
use std::collections::BTreeMap;

impl ChatService<'_> {
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
        if id.is_empty() || id.len() > 128 {
            return Err(DomainError::InvalidTicket);
        }
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

    /// Records a new connection of `who`. An agent who was Logged Out becomes Available,
    /// and everyone who can see her is told (not this connection: API Gateway cannot
    /// push to a connection before its `$connect` has returned).
    pub async fn connect(&self, id: ConnectionId, who: &Identity) -> Result<(), DomainError> {
        let me = self.agent(who).await?;
        self.store
            .put_connection(&Connection {
                id: id.clone(),
                tenant: who.tenant.clone(),
                agent: who.agent.clone(),
                connected_at: self.clock.now_ms(),
            })
            .await?;
        if me.state == AgentState::LoggedOut {
            self.change_state(who, AgentState::Available, Some(&id))
                .await?;
        }
        Ok(())
    }

    /// Forgets a connection. When it was the agent's last one she is Logged Out, and
    /// everyone who can see her is told.
    pub async fn disconnect(&self, id: &ConnectionId) -> Result<(), DomainError> {
        let Some(gone) = self.store.delete_connection(id).await? else {
            return Ok(());
        };
        let remaining = self.store.connections_of(&gone.tenant, &gone.agent).await?;
        if remaining.is_empty() {
            let who = Identity {
                tenant: gone.tenant,
                agent: gone.agent,
            };
            self.change_state(&who, AgentState::LoggedOut, None).await?;
        }
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

    /// Answers `ping`: keeps an idle connection open.
    pub async fn ping(&self, connection: &ConnectionId) {
        self.push_to_connection(connection, &ServerFrame::Pong)
            .await;
    }
}
