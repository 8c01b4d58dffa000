//! Agent states: an agent sets her own; connecting and the last disconnect set Available
//! and Logged Out; everyone who can see her is told at once — found through the
//! connections of her group and of the supervisors, and her partners' — at a cost that
//! grows with who can see her, never with the tenant.

use super::ChatService;
use crate::error::DomainError;
use crate::model::{ConnectionId, Identity};
use protocol::{AgentId, AgentState, ServerFrame};
use std::collections::BTreeSet;

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
        let payload = super::encode(&ServerFrame::Agent {
            agent: agent.view(),
        });
        // Who sees her: her group and the supervisors (by the connections' own group and
        // role, kept with each connection), and her partners wherever they are — never a
        // read of the tenant's directory or of all its connections.
        let seeing = self
            .store
            .connections_seeing(&who.tenant, &agent.group)
            .await?;
        let covered: BTreeSet<&AgentId> = seeing.iter().map(|c| &c.agent).collect();
        let mut watchers: BTreeSet<ConnectionId> = seeing.iter().map(|c| c.id.clone()).collect();
        let mut partners = self.partners(who).await?;
        partners.retain(|partner| !covered.contains(partner));
        if !partners.is_empty() {
            watchers.extend(
                self.store
                    .connections_of_agents(&who.tenant, &partners)
                    .await?,
            );
        }
        let watchers = watchers
            .into_iter()
            .filter(|connection| Some(connection) != skip)
            .collect();
        self.post_all(watchers, &payload).await;
        Ok(())
    }
}
