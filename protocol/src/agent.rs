//! Agents as the console shows them.

use crate::ids::{AgentId, GroupId};
use serde::{Deserialize, Serialize};

/// What an agent may do: a regular agent sees her own functional group, a supervisor
/// sees every group of her tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
}

/// The agent state shown in the agent list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Available,
    Busy,
    OnBreak,
    WorkingOffline,
    PostProcessing,
    LoggedOut,
}

impl AgentState {
    /// Every state, in the order the console offers them.
    pub const ALL: [AgentState; 6] = [
        AgentState::Available,
        AgentState::Busy,
        AgentState::OnBreak,
        AgentState::WorkingOffline,
        AgentState::PostProcessing,
        AgentState::LoggedOut,
    ];

    /// The state's name as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            AgentState::Available => "Available",
            AgentState::Busy => "Busy",
            AgentState::OnBreak => "On Break",
            AgentState::WorkingOffline => "Working Offline",
            AgentState::PostProcessing => "Post Processing",
            AgentState::LoggedOut => "Logged Out",
        }
    }
}

/// One agent of the directory, as another agent may see her.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: AgentId,
    pub name: String,
    pub group: GroupId,
    pub role: Role,
    pub state: AgentState,
    /// When she entered `state`, in milliseconds since the Unix epoch (server clock).
    pub state_since: i64,
}
