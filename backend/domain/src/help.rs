//! Help requests — a question asked of one's functional group, a hand raised to the
//! supervisors — and the rules they follow: who sees one, who may take it, how it moves.
//! Pure functions of the request, the agent and the time; the stores read a request, ask
//! here, and write what follows, so every store decides the same.
//!
//! Overdue is not a state but a function of time (`now >= due_at` while waiting): no
//! timer runs anywhere. The supervisors' consoles hold every waiting request of their
//! tenant with its `due_at` and alert when one of their group's passes it.

use crate::error::DomainError;
use crate::model::Agent;
use crate::rules::has_control_characters;
use protocol::help::{HelpId, HelpKind, HelpState, HelpView, MAX_QUESTION_BYTES};
use protocol::{AgentId, ChatId, GroupId, Role, TenantId, json_len};
use serde::{Deserialize, Serialize};

/// How long a question waits before it is overdue, unless its tenant says otherwise.
pub const DEFAULT_RESPONSE_TARGET_MS: i64 = 60_000;

/// A stored help request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpRequest {
    pub tenant: TenantId,
    pub id: HelpId,
    pub kind: HelpKind,
    pub text: Option<String>,
    pub interaction: Option<String>,
    pub from: AgentId,
    pub from_name: String,
    pub group: GroupId,
    pub asked_at: i64,
    pub due_at: i64,
    pub state: HelpState,
    pub taken_by: Option<AgentId>,
    pub taken_by_name: Option<String>,
    pub chat_id: Option<ChatId>,
    pub closed_at: Option<i64>,
}

/// What a take came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// This agent took it now.
    Now,
    /// She had taken it before (a retry after a lost answer): answered again.
    Before,
}

impl HelpRequest {
    /// A new request of `asker`, waiting from `at` until `at + target_ms`.
    pub fn new(
        id: HelpId,
        asker: &Agent,
        kind: HelpKind,
        text: Option<String>,
        interaction: Option<String>,
        at: i64,
        target_ms: i64,
    ) -> Self {
        HelpRequest {
            tenant: asker.tenant.clone(),
            id,
            kind,
            text,
            interaction,
            from: asker.id.clone(),
            from_name: asker.name.clone(),
            group: asker.group.clone(),
            asked_at: at,
            due_at: at.saturating_add(target_ms),
            state: HelpState::Waiting,
            taken_by: None,
            taken_by_name: None,
            chat_id: None,
            closed_at: None,
        }
    }

    /// The request as every console shows it.
    pub fn view(&self) -> HelpView {
        HelpView {
            id: self.id.clone(),
            kind: self.kind,
            text: self.text.clone(),
            interaction: self.interaction.clone(),
            from: self.from.clone(),
            from_name: self.from_name.clone(),
            group: self.group.clone(),
            asked_at: self.asked_at,
            due_at: self.due_at,
            state: self.state,
            taken_by: self.taken_by.clone(),
            taken_by_name: self.taken_by_name.clone(),
            chat_id: self.chat_id.clone(),
            closed_at: self.closed_at,
        }
    }

    /// Still waiting after its response target.
    pub fn is_overdue(&self, now: i64) -> bool {
        self.state == HelpState::Waiting && now >= self.due_at
    }

    /// True when `viewer` sees this request: the asker herself; for a question, the
    /// agents of its group; every supervisor of its tenant. Nobody of another tenant.
    pub fn is_seen_by(&self, viewer: &Agent) -> bool {
        viewer.tenant == self.tenant
            && (viewer.id == self.from
                || viewer.role == Role::Supervisor
                || (self.kind == HelpKind::Question && viewer.group == self.group))
    }

    /// Whether `taker` may take this request at `now` (whatever its state): never the
    /// asker; a question, an agent of its group, or a supervisor of its group at any
    /// time and any other supervisor once it is overdue; a hand, any supervisor of the
    /// tenant.
    pub fn may_take(&self, taker: &Agent, now: i64) -> Result<(), DomainError> {
        if !self.is_seen_by(taker) {
            return Err(self.not_found());
        }
        if taker.id == self.from {
            return Err(DomainError::Forbidden(
                "this is your own request: withdraw it instead".into(),
            ));
        }
        let supervisor = taker.role == Role::Supervisor;
        let allowed = match self.kind {
            HelpKind::Question => taker.group == self.group || (supervisor && now >= self.due_at),
            HelpKind::Hand => supervisor,
        };
        if allowed {
            Ok(())
        } else if supervisor {
            Err(DomainError::Forbidden(
                "another group's question: you may take it once it is overdue".into(),
            ))
        } else {
            Err(DomainError::Forbidden(
                "a raised hand is for a supervisor to take".into(),
            ))
        }
    }

    /// Takes the request for `taker` (checked with [`Self::may_take`]). Exactly one
    /// taker: once taken by someone else, or withdrawn, it is refused and nothing
    /// changes. The chat it becomes is attached after ([`Self::attach_chat`]).
    pub fn take(&mut self, taker: &Agent, now: i64) -> Result<Taken, DomainError> {
        self.may_take(taker, now)?;
        match self.state {
            HelpState::Waiting => {
                self.state = HelpState::Taken;
                self.taken_by = Some(taker.id.clone());
                self.taken_by_name = Some(taker.name.clone());
                self.closed_at = Some(now);
                Ok(Taken::Now)
            }
            HelpState::Taken if self.taken_by.as_ref() == Some(&taker.id) => Ok(Taken::Before),
            HelpState::Taken => Err(self.taken_already()),
            HelpState::Withdrawn => Err(DomainError::AlreadyTaken("it was withdrawn".into())),
        }
    }

    /// Records the chat between the taker and the asker: true if it changed. Only once
    /// taken, and only once (the same chat again changes nothing).
    pub fn attach_chat(&mut self, chat: &ChatId) -> bool {
        if self.state != HelpState::Taken || self.chat_id.is_some() {
            return false;
        }
        self.chat_id = Some(chat.clone());
        true
    }

    /// Withdraws the request (lowers the hand): only its asker, only while it waits. A
    /// second withdrawal changes nothing and is not refused.
    pub fn withdraw(&mut self, by: &Agent, now: i64) -> Result<bool, DomainError> {
        if by.tenant != self.tenant || by.id != self.from {
            return Err(self.not_found());
        }
        match self.state {
            HelpState::Waiting => {
                self.state = HelpState::Withdrawn;
                self.closed_at = Some(now);
                Ok(true)
            }
            HelpState::Withdrawn => Ok(false),
            HelpState::Taken => Err(self.taken_already()),
        }
    }

    fn taken_already(&self) -> DomainError {
        DomainError::AlreadyTaken(format!(
            "{} has taken it already",
            self.taken_by_name.as_deref().unwrap_or("someone")
        ))
    }

    fn not_found(&self) -> DomainError {
        DomainError::NotFound(format!("no help request {} for you", self.id))
    }
}

/// What a store answers to `attach_help_chat` from what its change of the request came
/// to ([`HelpRequest::attach_chat`] as the change): the request, if it is taken.
pub fn attached(change: Option<Result<(HelpRequest, bool), DomainError>>) -> Option<HelpRequest> {
    change
        .and_then(Result::ok)
        .map(|(request, _)| request)
        .filter(|request| request.state == HelpState::Taken)
}

/// Checks a question: some text, at most [`MAX_QUESTION_BYTES`] as JSON writes it, no
/// control characters but new lines and tabs.
pub fn check_question(text: &str) -> Result<(), DomainError> {
    let size = json_len(text);
    if size > MAX_QUESTION_BYTES {
        return Err(DomainError::BadRequest(format!(
            "a question may hold at most {MAX_QUESTION_BYTES} bytes; this one has {size}"
        )));
    }
    if text.trim().is_empty() {
        return Err(DomainError::BadRequest("a question needs some text".into()));
    }
    if has_control_characters(text) {
        return Err(DomainError::BadRequest(
            "a question may hold no control characters but new lines and tabs".into(),
        ));
    }
    Ok(())
}
