//! Chats: start, send, end, typing and "Seen", and reading one's own chats.

use super::{ChatService, MAX_PAGE, not_your_chat};
use crate::error::DomainError;
use crate::model::{Chat, ConnectionId, Identity, Message};
use crate::ports::{Appended, EndedCursor, Quota};
use crate::rules;
use protocol::{AgentId, ChatId, ChatStatus, ChatView, MessageView, ServerFrame};

/// How often a typing indicator is passed on per agent and chat.
pub const TYPING_WINDOW_MS: i64 = 1_000;

/// How many sends one connection may make unless configured otherwise
/// ([`ChatService::send_quota`]): 30 in each 3-second window — a pasted burst of lines
/// goes through at once, and about 10 a second can go on for ever, which no person
/// types; a runaway script is stopped there.
pub const SEND_QUOTA: Quota = Quota {
    max: 30,
    window_ms: 3_000,
};

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
        if !rules::can_see(&me, &other)
            && !self
                .store
                .has_partner(&who.tenant, &who.agent, with)
                .await?
        {
            return Err(DomainError::Forbidden(format!(
                "{} is in another functional group; only a supervisor can chat across groups",
                other.name
            )));
        }
        let interaction = rules::check_interaction(interaction)?;
        let candidate = Chat::new(
            who.tenant.clone(),
            ChatId::new(self.clock.new_id()),
            who.agent.clone(),
            with.clone(),
            self.clock.now_ms(),
            interaction,
        )
        .in_groups([me.group.clone(), other.group.clone()]);
        // Told to both even when the chat existed: an earlier attempt may have opened it
        // and failed before telling anyone.
        let (chat, _created) = self.store.open_chat(&candidate).await?;
        self.push_chat_to_participants(&chat).await?;
        let view = self.chat_view(&chat, &who.agent).await?;
        self.push_to_connection(connection, &ServerFrame::ChatStarted { chat: view })
            .await;
        Ok(chat)
    }

    /// Stores a message and delivers it to every connection of both participants; the
    /// sending connection also gets the acknowledgement. A retried send (same
    /// `client_msg_id`) is acknowledged again with the sequence it was stored under.
    ///
    /// One connection sends at most [`ChatService::send_quota`] ([`SEND_QUOTA`] by
    /// default); past it a send is refused as `RateLimited` and nothing is stored —
    /// except a retry of a stored send, which is acknowledged as ever.
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
        let at = self.clock.now_ms();
        if !self
            .store
            .take(&format!("send\u{1f}{}", connection.0), self.send_quota, at)
            .await?
        {
            // A retry of a send that was stored already is acknowledged, not refused:
            // the console retries what it never saw acknowledged.
            if let Some(message) = self
                .store
                .sent_message(&who.tenant, chat_id, &who.agent, client_msg_id)
                .await?
            {
                let chat = self.participant_chat(who, chat_id).await?;
                let _turn = self.order.turn(chat_id).await;
                self.deliver(Some(connection), &chat, &message).await?;
                return Ok(message.view());
            }
            return Err(DomainError::RateLimited(format!(
                "too many messages at once: {} from one console; \
                 this one was not sent, send it again in a moment",
                quota_text(self.send_quota)
            )));
        }
        // The store refuses a chat the sender takes no part in, as if it did not exist.
        // The turn is held from the append to the last push, ended with the function.
        let _turn = self.order.turn(chat_id).await;
        // A duplicate is delivered again too: the attempt that stored it may have failed
        // before its pushes (consoles drop what they hold already, by sequence number).
        let (chat, message) = match self
            .store
            .append_message(&who.tenant, chat_id, &who.agent, client_msg_id, body, at)
            .await?
        {
            Appended::Stored { chat, message } | Appended::Duplicate { chat, message } => {
                (chat, message)
            }
            Appended::NoSuchChat => return Err(not_your_chat(chat_id)),
            Appended::Ended => return Err(DomainError::ChatEnded),
        };
        self.deliver(Some(connection), &chat, &message).await?;
        Ok(message.view())
    }

    /// Tells both participants of a stored message, one frame per connection, each with
    /// the chat's new state as its agent sees it and her count of pending chats (one read
    /// of the store for both): the other agent's connections get the message first; the
    /// sending connection the acknowledgement; the sender's other connections the message
    /// (all of them when no connection sent it: a question that became a chat).
    pub(super) async fn deliver(
        &self,
        sending: Option<&ConnectionId>,
        chat: &Chat,
        message: &Message,
    ) -> Result<(), DomainError> {
        let participants = chat.participants();
        let audience = self.store.audience(&chat.tenant, participants).await?;
        let sender = usize::from(*participants[1] == message.from);
        let recipient = 1 - sender;
        let view = |n: usize| super::view_of(chat, participants[n], audience[1 - n].agent.as_ref());
        let to_recipient = super::encode(&ServerFrame::Message {
            message: message.view(),
            chat: Some(view(recipient)),
            pending_chats: Some(audience[recipient].pending),
        });
        self.post_all(audience[recipient].connections.clone(), &to_recipient)
            .await;
        self.order.urgent_posted().await;
        let others: Vec<ConnectionId> = audience[sender]
            .connections
            .iter()
            .filter(|c| Some(*c) != sending)
            .cloned()
            .collect();
        if !others.is_empty() {
            let to_sender = super::encode(&ServerFrame::Message {
                message: message.view(),
                chat: Some(view(sender)),
                pending_chats: Some(audience[sender].pending),
            });
            self.post_all(others, &to_sender).await;
        }
        let Some(sending) = sending else {
            return Ok(());
        };
        self.push_to_connection(
            sending,
            &ServerFrame::Ack {
                chat_id: message.chat_id.clone(),
                client_msg_id: message.client_msg_id.clone(),
                seq: message.seq,
                sent_at: Some(message.sent_at),
                chat: Some(view(sender)),
                pending_chats: Some(audience[sender].pending),
            },
        )
        .await;
        Ok(())
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

    /// A page of the chats of `who`, as she sees them: her open chats in the order of
    /// their ids, or her ended ones, the most recently ended first; and the cursor of the
    /// next page, if there is one. `Unauthorized` once the directory no longer has her,
    /// as everywhere else.
    pub async fn chats(
        &self,
        who: &Identity,
        page: &ChatPage,
    ) -> Result<(Vec<ChatView>, Option<String>), DomainError> {
        self.agent(who).await?;
        let limit = page.limit.clamp(1, MAX_CHAT_PAGE);
        // One more than asked for tells whether a next page exists.
        let (chats, next): (Vec<Chat>, fn(&Chat) -> String) = match &page.cursor {
            ChatCursor::Open(after) => (
                self.store
                    .open_chats_of(&who.tenant, &who.agent, after.as_ref(), limit + 1)
                    .await?,
                |chat| chat.id.to_string(),
            ),
            ChatCursor::Ended(before) => (
                self.store
                    .ended_chats_of(&who.tenant, &who.agent, before.as_ref(), limit + 1)
                    .await?,
                |chat| ChatCursor::Ended(Some(EndedCursor::after(chat))).text(),
            ),
        };
        let more = chats.len() > limit;
        let views = self.chat_views(chats.iter().take(limit), who).await?;
        let next = more.then(|| chats.get(limit - 1).map(next)).flatten();
        Ok((views, next))
    }

    /// A page of a chat's transcript, for a participant who is still in the directory.
    pub async fn messages(
        &self,
        who: &Identity,
        chat_id: &ChatId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<MessageView>, bool), DomainError> {
        self.agent(who).await?;
        let chat = self.participant_chat(who, chat_id).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut page = self
            .store
            .messages(&who.tenant, chat_id, after, limit)
            .await?;
        super::within_page_bytes(&mut page, false);
        let more = page.last().is_some_and(|last| last.seq < chat.last_seq);
        Ok((page.iter().map(|m| m.view()).collect(), more))
    }

    /// The last `limit` messages before `before` of a chat, for a participant who is still
    /// in the directory; and whether older ones precede them.
    pub async fn messages_before(
        &self,
        who: &Identity,
        chat_id: &ChatId,
        before: u64,
        limit: usize,
    ) -> Result<(Vec<MessageView>, bool), DomainError> {
        self.agent(who).await?;
        self.participant_chat(who, chat_id).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut page = self
            .store
            .messages_before(&who.tenant, chat_id, before, limit)
            .await?;
        super::within_page_bytes(&mut page, true);
        let more = page.first().is_some_and(|first| first.seq > 1);
        Ok((page.iter().map(|m| m.view()).collect(), more))
    }
}

/// The most chats one page of `GET /api/chats` holds.
pub const MAX_CHAT_PAGE: usize = 50;

/// Which page of her chats an agent asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatPage {
    pub cursor: ChatCursor,
    pub limit: usize,
}

/// Where a page of chats starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatCursor {
    /// Open chats, after this chat id (from the first without one).
    Open(Option<ChatId>),
    /// Ended chats, after this one (from the most recently ended without one).
    Ended(Option<EndedCursor>),
}

impl ChatCursor {
    /// The cursor of `status` (`open` or `ended`) that `text` writes (empty: the
    /// first page), as [`ChatCursor::text`] wrote it.
    pub fn parse(status: ChatStatus, text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::BadRequest(
                format!("{text:?} is not a cursor of {status:?} chats").to_lowercase(),
            )
        };
        if text.is_empty() {
            return Ok(match status {
                ChatStatus::Open => ChatCursor::Open(None),
                ChatStatus::Ended => ChatCursor::Ended(None),
            });
        }
        match status {
            ChatStatus::Open if !text.contains('.') && text.len() <= 128 => {
                Ok(ChatCursor::Open(Some(ChatId::from(text))))
            }
            ChatStatus::Ended => {
                let (at, chat) = text.split_once('.').ok_or_else(bad)?;
                let ended_at = at.parse::<i64>().map_err(|_| bad())?;
                if chat.is_empty() || chat.len() > 128 {
                    return Err(bad());
                }
                Ok(ChatCursor::Ended(Some(EndedCursor {
                    ended_at,
                    chat: ChatId::from(chat),
                })))
            }
            ChatStatus::Open => Err(bad()),
        }
    }

    /// The cursor as text, for `cursor=`.
    pub fn text(&self) -> String {
        match self {
            ChatCursor::Open(after) => after.as_ref().map(ToString::to_string).unwrap_or_default(),
            ChatCursor::Ended(None) => String::new(),
            ChatCursor::Ended(Some(at)) => format!("{}.{}", at.ended_at, at.chat),
        }
    }
}

/// A quota as a person reads it: "at most 30 every 3 seconds".
fn quota_text(quota: Quota) -> String {
    if quota.window_ms == 1000 {
        format!("at most {} every second", quota.max)
    } else if quota.window_ms % 1000 == 0 {
        format!(
            "at most {} every {} seconds",
            quota.max,
            quota.window_ms / 1000
        )
    } else {
        format!("at most {} every {} ms", quota.max, quota.window_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_they_were_written() {
        for (status, cursor) in [
            (ChatStatus::Open, ChatCursor::Open(None)),
            (ChatStatus::Open, ChatCursor::Open(Some("c-1".into()))),
            (ChatStatus::Ended, ChatCursor::Ended(None)),
            (
                ChatStatus::Ended,
                ChatCursor::Ended(Some(EndedCursor {
                    ended_at: 1_700_000_000_000,
                    chat: "c-2".into(),
                })),
            ),
        ] {
            assert_eq!(ChatCursor::parse(status, &cursor.text()).ok(), Some(cursor));
        }
    }

    #[test]
    fn a_cursor_of_the_other_status_or_no_cursor_at_all_is_refused() {
        assert!(ChatCursor::parse(ChatStatus::Open, "1700.c-2").is_err());
        assert!(ChatCursor::parse(ChatStatus::Ended, "c-1").is_err());
        assert!(ChatCursor::parse(ChatStatus::Ended, "soon.c-1").is_err());
        assert!(ChatCursor::parse(ChatStatus::Ended, "1700.").is_err());
    }

    #[test]
    fn the_default_quota_reads_in_whole_seconds() {
        assert_eq!(quota_text(SEND_QUOTA), "at most 30 every 3 seconds");
    }

    #[test]
    fn a_quota_of_part_of_a_second_reads_in_milliseconds() {
        let quota = Quota {
            max: 5,
            window_ms: 250,
        };
        assert_eq!(quota_text(quota), "at most 5 every 250 ms");
    }

    #[test]
    fn a_quota_of_one_second_reads_as_a_second() {
        let quota = Quota {
            max: 1000,
            window_ms: 1000,
        };
        assert_eq!(quota_text(quota), "at most 1000 every second");
    }
}
