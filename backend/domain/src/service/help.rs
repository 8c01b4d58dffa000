//! Help: a question asked of one's functional group, a hand raised to the supervisors —
//! told at once to every console that sees it, taken by exactly one colleague, and then
//! a chat between her and the asker (a question its first message).

use super::{ChatService, encode};
use crate::error::DomainError;
use crate::help::{self, DEFAULT_RESPONSE_TARGET_MS, HelpRequest, Taken};
use crate::model::{Agent, Chat, ConnectionId, Identity};
use crate::ports::{Appended, Quota};
use crate::rules;
use protocol::help::{HelpId, HelpKind};
use protocol::{Role, ServerFrame};

/// How many questions and hands one agent may raise: 5 a minute — a person asks
/// again when nobody answered, a script asking in a loop is stopped.
pub const HELP_QUOTA: Quota = Quota {
    max: 5,
    window_ms: 60_000,
};

/// The most waiting requests a console is sent as it connects (the oldest first): a
/// tenant's supervisors see every group's, and questions end within minutes.
pub const WAITING_HELP_PAGE: usize = 50;

impl ChatService<'_> {
    /// Asks `who`'s group a question (`HelpKind::Question`, with `text`) or raises her
    /// hand to the supervisors (`HelpKind::Hand`; one at a time: raising it again
    /// answers the one waiting), and tells every console that sees it.
    pub async fn ask(
        &self,
        who: &Identity,
        kind: HelpKind,
        text: Option<String>,
        interaction: Option<String>,
    ) -> Result<HelpRequest, DomainError> {
        let text = match kind {
            HelpKind::Question => {
                let text = text.unwrap_or_default();
                help::check_question(&text)?;
                Some(text)
            }
            HelpKind::Hand => None,
        };
        let interaction = rules::check_interaction(interaction)?;
        let me = self.agent(who).await?;
        let now = self.clock.now_ms();
        let quota_key = format!("help\u{1f}{}\u{1f}{}", who.tenant, who.agent);
        if !self.store.take(&quota_key, HELP_QUOTA, now).await? {
            return Err(DomainError::RateLimited(
                "too many questions and raised hands at once: at most 5 a minute".into(),
            ));
        }
        let target = self
            .store
            .tenant(&who.tenant)
            .await?
            .and_then(|tenant| tenant.response_target_ms)
            .unwrap_or(DEFAULT_RESPONSE_TARGET_MS);
        let request = HelpRequest::new(
            HelpId(self.clock.new_id()),
            &me,
            kind,
            text,
            interaction,
            now,
            target,
        );
        let (request, _new) = self.store.put_help(&request).await?;
        self.push_help(&request).await?;
        Ok(request)
    }

    /// Takes a question or a hand for `who`: exactly one taker, whatever the race. The
    /// taker gets a chat with the asker (started from `connection`, as `start_chat`),
    /// whose first message is the question; everyone who sees the request is told who
    /// took it. A taker who presses again (her answer lost) gets the same chat.
    pub async fn take_help(
        &self,
        connection: &ConnectionId,
        who: &Identity,
        id: &HelpId,
    ) -> Result<Chat, DomainError> {
        let me = self.agent(who).await?;
        let now = self.clock.now_ms();
        let (request, _how): (HelpRequest, Taken) = self
            .store
            .take_help(&who.tenant, id, &me, now)
            .await?
            .ok_or_else(|| no_such_request(id))??;
        let chat = self
            .start_chat(connection, who, &request.from, request.interaction.clone())
            .await?;
        if let Some(text) = &request.text {
            self.put_question_in(&chat, &request, text).await?;
        }
        let request = self
            .store
            .attach_help_chat(&who.tenant, id, &chat.id)
            .await?
            .unwrap_or(request);
        self.push_help(&request).await?;
        Ok(chat)
    }

    /// Withdraws a question or lowers a hand: its asker only, while nobody has taken it.
    pub async fn withdraw_help(
        &self,
        who: &Identity,
        id: &HelpId,
    ) -> Result<HelpRequest, DomainError> {
        let me = self.agent(who).await?;
        let (request, changed) = self
            .store
            .withdraw_help(&who.tenant, id, &me, self.clock.now_ms())
            .await?
            .ok_or_else(|| no_such_request(id))??;
        if changed {
            self.push_help(&request).await?;
        }
        Ok(request)
    }

    /// Sends a console that just connected the waiting requests its agent sees, one
    /// `help` frame each (a question may be long: together they would not fit a frame).
    pub async fn send_waiting_help(
        &self,
        connection: &ConnectionId,
        me: &Agent,
    ) -> Result<(), DomainError> {
        let group = (me.role != Role::Supervisor).then_some(&me.group);
        let waiting = self
            .store
            .waiting_help(&me.tenant, group, WAITING_HELP_PAGE)
            .await?;
        let now = self.clock.now_ms();
        for request in waiting.iter().filter(|request| request.is_seen_by(me)) {
            self.push_to_connection(
                connection,
                &ServerFrame::Help {
                    request: request.view(),
                    now,
                },
            )
            .await;
        }
        Ok(())
    }

    /// Puts the question in the chat it became, as the asker's first message (once: its
    /// send key is the request's), and delivers it to both.
    async fn put_question_in(
        &self,
        chat: &Chat,
        request: &HelpRequest,
        text: &str,
    ) -> Result<(), DomainError> {
        let _turn = self.order.turn(&chat.id).await;
        let key = format!("help-{}", request.id);
        let (chat, message) = match self
            .store
            .append_message(
                &chat.tenant,
                &chat.id,
                &request.from,
                &key,
                text,
                self.clock.now_ms(),
            )
            .await?
        {
            Appended::Stored { chat, message } => (chat, message),
            // Put in by an earlier take of hers: delivered then.
            Appended::Duplicate { .. } | Appended::Ended | Appended::NoSuchChat => return Ok(()),
        };
        self.deliver(None, &chat, &message).await
    }

    /// Tells every console that sees `request` where it stands: for a question the
    /// connections of its group's agents and of the tenant's supervisors; for a hand the
    /// supervisors' and the asker's own.
    async fn push_help(&self, request: &HelpRequest) -> Result<(), DomainError> {
        let connections = self
            .store
            .connections_seeing(&request.tenant, &request.group)
            .await?;
        let to: Vec<ConnectionId> = connections
            .into_iter()
            .filter(|connection| {
                request.kind == HelpKind::Question
                    || connection.supervisor
                    || connection.agent == request.from
            })
            .map(|connection| connection.id)
            .collect();
        let frame = ServerFrame::Help {
            request: request.view(),
            now: self.clock.now_ms(),
        };
        self.post_all(to, &encode(&frame)).await;
        Ok(())
    }
}

fn no_such_request(id: &HelpId) -> DomainError {
    DomainError::NotFound(format!("no help request {id} for you"))
}
