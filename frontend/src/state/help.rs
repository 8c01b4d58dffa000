//! Questions and raised hands as the console holds them: every one the server told it
//! of, as it stands now, and the server's clock, by which a waiting one is overdue.

use protocol::help::{HelpId, HelpKind, HelpState, HelpView};
use protocol::{AgentView, Role};
use std::collections::BTreeMap;

/// How long a request that stopped waiting stays listed (taken by whom, withdrawn),
/// so that the others see what became of it.
pub const CLOSED_SHOWS_MS: i64 = 60_000;

/// The requests told of, by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelpBoard {
    requests: BTreeMap<HelpId, HelpView>,
    /// The server's time less the browser's (ms), from the last `help` frame.
    skew: i64,
}

impl HelpBoard {
    /// Takes in a request as the server says it stands, at the server's `server_now`,
    /// received at `now` (the browser's ms): true when it is news to point out — a new
    /// waiting request of someone else.
    pub fn apply(&mut self, me: &AgentView, request: HelpView, server_now: i64, now: i64) -> bool {
        self.skew = server_now - now;
        self.prune(now);
        let news = request.state == HelpState::Waiting
            && request.from != me.id
            && !self.requests.contains_key(&request.id);
        self.requests.insert(request.id.clone(), request);
        news
    }

    /// The server's time at the browser's `now`.
    pub fn server_time(&self, now: i64) -> i64 {
        now + self.skew
    }

    /// What Open questions lists at `now`: the waiting requests, the oldest first, then
    /// those that stopped waiting less than [`CLOSED_SHOWS_MS`] ago.
    pub fn listed(&self, now: i64) -> Vec<HelpView> {
        let at = self.server_time(now);
        let mut listed: Vec<HelpView> = self
            .requests
            .values()
            .filter(|r| {
                r.state == HelpState::Waiting
                    || r.closed_at.is_some_and(|closed| at - closed < CLOSED_SHOWS_MS)
            })
            .cloned()
            .collect();
        listed.sort_by_key(|r| (r.state != HelpState::Waiting, r.asked_at));
        listed
    }

    /// True when `request` is waiting past its due time at `now`.
    pub fn is_overdue(&self, request: &HelpView, now: i64) -> bool {
        request.state == HelpState::Waiting && self.server_time(now) >= request.due_at
    }

    /// How many waiting requests `me` may take at `now`: the questions of her group (a
    /// supervisor: those, and any overdue one, and every hand). Added to the Chat tab's
    /// count.
    pub fn takeable(&self, me: &AgentView, now: i64) -> u32 {
        let count = self
            .requests
            .values()
            .filter(|r| r.state == HelpState::Waiting && r.from != me.id && self.may_take(me, r, now))
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Whether `me` may take `request` at `now` (the server decides; this only shows
    /// the button where it would be granted).
    pub fn may_take(&self, me: &AgentView, request: &HelpView, now: i64) -> bool {
        let supervisor = me.role == Role::Supervisor;
        request.from != me.id
            && match request.kind {
                HelpKind::Question => {
                    request.group == me.group || (supervisor && self.is_overdue(request, now))
                }
                HelpKind::Hand => supervisor,
            }
    }

    /// My own hand, if it is raised.
    pub fn my_hand(&self, me: &AgentView) -> Option<&HelpView> {
        self.requests.values().find(|r| {
            r.kind == HelpKind::Hand && r.from == me.id && r.state == HelpState::Waiting
        })
    }

    /// Forgets the waiting requests: a new `welcome` is followed by those still waiting
    /// (those taken or withdrawn while the console was away are not told again).
    pub fn start_over(&mut self) {
        self.requests.retain(|_, r| r.state != HelpState::Waiting);
    }

    /// How many questions of `group` (or hands raised in it) are overdue at `now`: a
    /// supervisor of that group is alerted as it grows.
    pub fn overdue_in(&self, group: &protocol::GroupId, now: i64) -> usize {
        self.requests
            .values()
            .filter(|r| &r.group == group && self.is_overdue(r, now))
            .count()
    }

    /// Forgets what stopped waiting long ago (the board does not grow over a day).
    pub fn prune(&mut self, now: i64) {
        let at = self.server_time(now);
        self.requests.retain(|_, r| {
            r.state == HelpState::Waiting
                || r.closed_at.is_none_or(|closed| at - closed < CLOSED_SHOWS_MS)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::AgentState;

    fn agent(id: &str, group: &str, role: Role) -> AgentView {
        AgentView {
            id: id.into(),
            name: id.to_uppercase(),
            group: group.into(),
            role,
            state: AgentState::Available,
            state_since: 0,
        }
    }

    fn question(id: &str, from: &str, asked_at: i64) -> HelpView {
        HelpView {
            id: id.into(),
            kind: HelpKind::Question,
            text: Some("Who knows the refund rule?".into()),
            interaction: None,
            from: from.into(),
            from_name: from.to_uppercase(),
            group: "sales".into(),
            asked_at,
            due_at: asked_at + 60_000,
            state: HelpState::Waiting,
            taken_by: None,
            taken_by_name: None,
            chat_id: None,
            closed_at: None,
        }
    }

    #[test]
    fn a_question_of_my_group_is_news_and_counted_until_taken() {
        let (ann, bob) = (agent("ann", "sales", Role::Agent), agent("bob", "sales", Role::Agent));
        let mut board = HelpBoard::default();
        assert!(board.apply(&bob, question("q1", "ann", 1_000), 1_000, 1_000));
        assert_eq!(board.takeable(&bob, 1_500), 1);
        assert_eq!(board.takeable(&ann, 1_500), 0, "not one's own");
        let mut taken = question("q1", "ann", 1_000);
        taken.state = HelpState::Taken;
        taken.taken_by = Some("cat".into());
        taken.closed_at = Some(2_000);
        assert!(!board.apply(&bob, taken, 2_000, 2_000), "taken is no news");
        assert_eq!(board.takeable(&bob, 2_000), 0);
        assert_eq!(board.listed(2_000).len(), 1, "shown taken for a while");
        board.prune(2_000 + CLOSED_SHOWS_MS);
        assert!(board.listed(2_000 + CLOSED_SHOWS_MS).is_empty());
    }

    #[test]
    fn overdue_goes_by_the_server_s_clock_and_opens_it_to_other_supervisors() {
        let sue = agent("sue", "support", Role::Supervisor);
        let mut board = HelpBoard::default();
        // The browser's clock is 10 s behind the server's.
        board.apply(&sue, question("q1", "ann", 1_000), 1_000, -9_000);
        let request = board.listed(0)[0].clone();
        assert!(!board.is_overdue(&request, 50_000 - 10_001));
        assert!(board.is_overdue(&request, 61_000 - 10_000));
        assert!(!board.may_take(&sue, &request, 40_000));
        assert!(board.may_take(&sue, &request, 51_000));
    }
}
