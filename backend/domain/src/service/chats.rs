//! Chats: start, send, end, typing and "Seen", and reading one's own chats.

use super::{ChatService, MAX_PAGE, not_your_chat};
use crate::error::DomainError;
use crate::model::{Chat, ConnectionId, Identity};
use crate::ports::Appended;
use crate::rules;
use protocol::{AgentId, ChatId, ChatStatus, ChatView, MessageView, ServerFrame};

/// How often a typing indicator is passed on per agent and chat.
pub const TYPING_WINDOW_MS: i64 = 1_000;

impl ChatService<'_> {
    /// Starts a chat of `who` with `with` (or returns the open one), tells both agents'
    /// consoles, and answers the asking connection with `chat_started`.
    ///
    /// Allowed within one's functional group, across groups for a supervisor, and with
    /// anyone one already has a chat with (a supervisor who wrote to you can be answered
    /// in a new chat too).
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
        if !rules::can_see(&me, &other) && !self.partners(who).await?.contains(with) {
            return Err(DomainError::Forbidden(format!(
                "{} is in another functional group; only a supervisor can chat across groups",
                other.name
            )));
        }
        let interaction = interaction.filter(|reference| !reference.trim().is_empty());
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
        if chat.status == ChatStatus::Ended {
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

    /// Passes "typing" on to the other agent, at most once a second; never stored as a
    /// message. Extra typing frames are dropped quietly.
    pub async fn typing(&self, who: &Identity, chat_id: &ChatId) -> Result<(), DomainError> {
        let chat = self.participant_chat(who, chat_id).await?;
        if chat.status == ChatStatus::Ended {
            return Err(DomainError::ChatEnded);
        }
        let key = format!(
            "typing\u{1f}{}\u{1f}{}\u{1f}{}",
            who.tenant, chat.id, who.agent
        );
        if !self
            .store
            .allow(&key, TYPING_WINDOW_MS, self.clock.now_ms())
            .await?
        {
            return Ok(());
        }
        self.push_to_agent(
            &who.tenant,
            chat.other(&who.agent),
            &ServerFrame::Typing {
                chat_id: chat.id.clone(),
                from: who.agent.clone(),
            },
        )
        .await
    }

    /// Records that `who` has seen a chat up to `seq` and tells both participants, when
    /// that moved her mark forward.
    pub async fn seen(
        &self,
        who: &Identity,
        chat_id: &ChatId,
        seq: u64,
    ) -> Result<(), DomainError> {
        self.participant_chat(who, chat_id).await?;
        let Some(chat) = self
            .store
            .mark_seen(&who.tenant, chat_id, &who.agent, seq)
            .await?
        else {
            return Ok(());
        };
        let frame = ServerFrame::Seen {
            chat_id: chat.id.clone(),
            by: who.agent.clone(),
            seq: chat.seen_by(&who.agent),
        };
        for agent in chat.participants() {
            self.push_to_agent(&who.tenant, agent, &frame).await?;
        }
        Ok(())
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
}
