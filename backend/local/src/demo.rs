//! The demo directory the local server starts with when its store is empty: two tenants,
//! one with two functional groups of three agents and a supervisor.

use console_domain::model::{Agent, Tenant};
use protocol::{AgentState, Role};

/// The demo tenants and their agents.
pub fn directory() -> Vec<(Tenant, Vec<Agent>)> {
    let acme = [
        ("ann", "Ann Lee", "sales", Role::Agent),
        ("bob", "Bob Stone", "sales", Role::Agent),
        ("cara", "Cara Diaz", "sales", Role::Agent),
        ("dan", "Dan Wu", "support", Role::Agent),
        ("eve", "Eve Park", "support", Role::Agent),
        ("finn", "Finn Ode", "support", Role::Agent),
        ("sue", "Sue Grant", "support", Role::Supervisor),
    ];
    let globex = [
        ("gus", "Gus Hale", "sales", Role::Agent),
        ("hana", "Hana Ito", "sales", Role::Agent),
        ("ivan", "Ivan Roy", "sales", Role::Supervisor),
    ];
    vec![
        tenant("acme", "Acme Contact Center", &acme),
        tenant("globex", "Globex Support", &globex),
    ]
}

fn tenant(id: &str, name: &str, agents: &[(&str, &str, &str, Role)]) -> (Tenant, Vec<Agent>) {
    let agents = agents
        .iter()
        .map(|(agent, full_name, group, role)| Agent {
            tenant: id.into(),
            id: (*agent).into(),
            name: (*full_name).into(),
            group: (*group).into(),
            role: *role,
            state: AgentState::LoggedOut,
            state_since: 0,
        })
        .collect();
    (
        Tenant {
            id: id.into(),
            name: name.into(),
        },
        agents,
    )
}
