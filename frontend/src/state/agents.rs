//! The agent list's order: sorted by a column, filtered by name.

use crate::sorting::{contains, lowercase, stable_sort_by};
use protocol::AgentView;

/// A column the agent list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Group,
    State,
    TimeInState,
}

/// An agent of the list, her name folded to lower case once for the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedAgent {
    pub agent: AgentView,
    pub folded: String,
}

/// The agent list in the order shown: sorted by `key` (then by name), ascending or not.
pub fn sort_agents(agents: Vec<AgentView>, key: SortKey, ascending: bool) -> Vec<ListedAgent> {
    // Each name is folded once, not in every comparison nor on every keystroke.
    let mut rows: Vec<ListedAgent> = agents
        .into_iter()
        .map(|agent| {
            let folded = lowercase(&agent.name);
            ListedAgent { agent, folded }
        })
        .collect();
    stable_sort_by(&mut rows, |a, b| {
        let (x, y) = (&a.agent, &b.agent);
        let primary = match key {
            SortKey::Name => std::cmp::Ordering::Equal,
            SortKey::Group => x.group.cmp(&y.group),
            SortKey::State => x.state.label().cmp(y.state.label()),
            // Longest in state first when ascending reads "most time".
            SortKey::TimeInState => x.state_since.cmp(&y.state_since),
        };
        let order = primary.then_with(|| a.folded.cmp(&b.folded));
        if ascending { order } else { order.reverse() }
    });
    rows
}

/// The positions in `sorted` of the agents whose name contains `filter` (any case).
pub fn matching(sorted: &[ListedAgent], filter: &str) -> Vec<usize> {
    let needle = lowercase(filter.trim());
    sorted
        .iter()
        .enumerate()
        .filter(|(_, row)| contains(&row.folded, &needle))
        .map(|(at, _)| at)
        .collect()
}

/// The agent list as shown: agents whose name contains `filter` (any case), sorted by
/// `key` (then by name), ascending or not.
pub fn arrange_agents(
    agents: Vec<AgentView>,
    filter: &str,
    key: SortKey,
    ascending: bool,
) -> Vec<AgentView> {
    let sorted = sort_agents(agents, key, ascending);
    matching(&sorted, filter)
        .into_iter()
        .map(|at| sorted[at].agent.clone())
        .collect()
}
