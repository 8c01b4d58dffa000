//! Transcripts: a supervisor lists, searches and reads the chats of her tenant; an agent
//! reads her own.

use super::{ChatService, MAX_PAGE, departed_agent, not_your_chat};
use crate::error::DomainError;
use crate::model::{Agent, Chat, Identity, Message};
use protocol::http::{Transcript, TranscriptSummary};
use protocol::{AgentId, ChatId, GroupId, Role};
use std::collections::HashMap;

/// The most transcripts one listing returns.
pub const MAX_TRANSCRIPTS: usize = 200;

/// Which transcripts to list. Every field narrows the list; none lists all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranscriptFilter {
    /// Chats this agent takes part in.
    pub agent: Option<AgentId>,
    /// Chats with a participant of this functional group.
    pub group: Option<GroupId>,
    /// Chats with activity at or after this time (ms).
    pub from: Option<i64>,
    /// Chats started at or before this time (ms).
    pub to: Option<i64>,
    /// Chats with a message containing this text (case-insensitive).
    pub text: Option<String>,
}

impl ChatService<'_> {
    /// The transcripts `who` may read that match `filter`, most recent activity first.
    pub async fn transcripts(
        &self,
        who: &Identity,
        filter: &TranscriptFilter,
    ) -> Result<Vec<TranscriptSummary>, DomainError> {
        let me = self.agent(who).await?;
        let chats = if me.role == Role::Supervisor {
            self.store.chats_in_tenant(&who.tenant).await?
        } else {
            self.store.every_chat_of(&who.tenant, &who.agent).await?
        };
        let directory = self.directory(&who.tenant).await?;
        let needle = filter
            .text
            .as_ref()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        let mut matching: Vec<&Chat> = Vec::new();
        for chat in &chats {
            if !matches(chat, filter, &directory) {
                continue;
            }
            if let Some(needle) = &needle
                && !self.mentions(chat, needle).await?
            {
                continue;
            }
            matching.push(chat);
        }
        matching.sort_by_key(|chat| std::cmp::Reverse(chat.last_activity()));
        Ok(matching
            .into_iter()
            .take(MAX_TRANSCRIPTS)
            .map(|chat| summary(chat, &directory))
            .collect())
    }

    /// One whole transcript, for a supervisor of its tenant or a participant.
    pub async fn transcript(
        &self,
        who: &Identity,
        chat_id: &ChatId,
    ) -> Result<Transcript, DomainError> {
        let me = self.agent(who).await?;
        let chat = match self.store.chat(&who.tenant, chat_id).await? {
            Some(chat) if me.role == Role::Supervisor || chat.has_participant(&who.agent) => chat,
            _ => return Err(not_your_chat(chat_id)),
        };
        let directory = self.directory(&who.tenant).await?;
        let messages = self.all_messages(&chat).await?;
        Ok(Transcript {
            chat: summary(&chat, &directory),
            messages: messages.iter().map(Message::view).collect(),
        })
    }

    async fn all_messages(&self, chat: &Chat) -> Result<Vec<Message>, DomainError> {
        let mut all = Vec::new();
        let mut after = 0;
        while after < chat.last_seq {
            let page = self
                .store
                .messages(&chat.tenant, &chat.id, after, MAX_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            all.extend(page);
        }
        Ok(all)
    }

    async fn mentions(&self, chat: &Chat, needle: &str) -> Result<bool, DomainError> {
        Ok(self
            .all_messages(chat)
            .await?
            .iter()
            .any(|m| m.body.to_lowercase().contains(needle)))
    }
}

fn matches(chat: &Chat, filter: &TranscriptFilter, directory: &HashMap<AgentId, Agent>) -> bool {
    let agent_ok = filter
        .agent
        .as_ref()
        .is_none_or(|agent| chat.has_participant(agent));
    let group_ok = filter.group.as_ref().is_none_or(|group| {
        chat.participants()
            .iter()
            .any(|p| directory.get(*p).is_some_and(|a| &a.group == group))
    });
    let from_ok = filter.from.is_none_or(|from| chat.last_activity() >= from);
    let to_ok = filter.to.is_none_or(|to| chat.started_at <= to);
    agent_ok && group_ok && from_ok && to_ok
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
