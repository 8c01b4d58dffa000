//! Agent states: an agent sets her own; connecting and the last disconnect set Available
//! and Logged Out; everyone who can see her is told at once.

use super::ChatService;
use crate::error::DomainError;
use crate::model::{ConnectionId, Identity};
use crate::rules;
use protocol::{AgentState, ServerFrame};

/// How often an agent may change her state.
pub const STATE_CHANGE_WINDOW_MS: i64 = 300;

impl ChatService<'_> {
    /// Sets `who`'s own state. Logged Out is not chosen: it follows signing out.
    pub async fn set_state(&self, who: &Identity, state: AgentState) -> Result<(), DomainError> {
        if state == AgentState::LoggedOut {
            return Err(DomainError::BadRequest(
                "Logged Out is not chosen: it follows when you sign out or close the console"
                    .into(),
            ));
        }
        let key = format!("state\u{1f}{}\u{1f}{}", who.tenant, who.agent);
        if !self
            .store
            .allow(&key, STATE_CHANGE_WINDOW_MS, self.clock.now_ms())
            .await?
        {
            return Err(DomainError::RateLimited(
                "the state changes too quickly; wait a moment".into(),
            ));
        }
        self.change_state(who, state, None).await
    }

    /// Stores a state change and announces it to every connection that can see the
    /// agent (her own included), except `skip`.
    pub(super) async fn change_state(
        &self,
        who: &Identity,
        state: AgentState,
        skip: Option<&ConnectionId>,
    ) -> Result<(), DomainError> {
        let Some(agent) = self
            .store
            .set_agent_state(&who.tenant, &who.agent, state, self.clock.now_ms())
            .await?
        else {
            return Err(DomainError::Unauthorized(
                "this agent is not in the directory".into(),
            ));
        };
        let partners = self.partners(who).await?;
        let directory = self.directory(&who.tenant).await?;
        let payload = super::encode(&ServerFrame::Agent {
            agent: agent.view(),
        });
        let watchers = self
            .store
            .connections_in_tenant(&who.tenant)
            .await?
            .into_iter()
            .filter(|connection| Some(&connection.id) != skip)
            .filter(|connection| {
                connection.agent == agent.id
                    || partners.contains(&connection.agent)
                    || directory
                        .get(&connection.agent)
                        .is_some_and(|viewer| rules::can_see(viewer, &agent))
            })
            .map(|connection| connection.id)
            .collect();
        self.post_all(watchers, &payload).await;
        Ok(())
    }
}
