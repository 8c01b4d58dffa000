//! Questions and raised hands as the console holds them: every one the server told it
//! of, as it stands now, and the server's clock, by which a waiting one is overdue.

use crate::sorting::stable_sort_by;
use protocol::help::{HelpKind, HelpState, HelpView};
use protocol::{AgentView, Role};

/// How long a request that stopped waiting stays listed (taken by whom, withdrawn),
/// so that the others see what became of it.
pub const CLOSED_SHOWS_MS: i64 = 60_000;

/// What a row of Open questions offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowAction {
    Take,
    Withdraw,
}

/// A row of Open questions: the request, overdue or not, and what can be done with it.
#[derive(Clone, Debug, PartialEq)]
pub struct HelpRow {
    pub view: HelpView,
    pub overdue: bool,
    pub action: Option<RowAction>,
}

impl HelpRow {
    /// What tells this row apart from how it was drawn before: it is drawn again when
    /// this changes.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.view.id,
            self.view.state as u8,
            u8::from(self.overdue),
            self.action.map_or(0, |a| a as u8 + 1)
        )
    }
}

/// The requests told of (a few dozen at most: a plain list, which also keeps the
/// console's code small).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelpBoard {
    requests: Vec<HelpView>,
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
        let known = self.requests.iter().position(|r| r.id == request.id);
        let news = request.state == HelpState::Waiting && request.from != me.id && known.is_none();
        match known {
            Some(at) => self.requests[at] = request,
            None => self.requests.push(request),
        }
        news
    }

    /// The server's time at the browser's `now`.
    pub fn server_time(&self, now: i64) -> i64 {
        now + self.skew
    }

    /// What Open questions lists at `now`, for `me`: the waiting requests, the oldest
    /// first, then those that stopped waiting less than [`CLOSED_SHOWS_MS`] ago — each
    /// with whether it is overdue and what `me` can do with it.
    pub fn listed(&self, me: &AgentView, now: i64) -> Vec<HelpRow> {
        let at = self.server_time(now);
        let mut listed: Vec<HelpRow> = self
            .requests
            .iter()
            .filter(|r| {
                r.state == HelpState::Waiting
                    || r.closed_at
                        .is_some_and(|closed| at - closed < CLOSED_SHOWS_MS)
            })
            .map(|r| {
                let waiting = r.state == HelpState::Waiting;
                HelpRow {
                    overdue: self.is_overdue(r, now),
                    action: match () {
                        _ if !waiting => None,
                        _ if r.from == me.id => Some(RowAction::Withdraw),
                        _ if self.may_take(me, r, now) => Some(RowAction::Take),
                        _ => None,
                    },
                    view: r.clone(),
                }
            })
            .collect();
        // The console's one stable sort (`slice::sort_by_key` would compile another).
        stable_sort_by(&mut listed, |a, b| {
            (a.view.state != HelpState::Waiting, a.view.asked_at)
                .cmp(&(b.view.state != HelpState::Waiting, b.view.asked_at))
        });
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
            .iter()
            .filter(|r| {
                r.state == HelpState::Waiting && r.from != me.id && self.may_take(me, r, now)
            })
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
        self.requests
            .iter()
            .find(|r| r.kind == HelpKind::Hand && r.from == me.id && r.state == HelpState::Waiting)
    }

    /// Forgets the waiting requests: a new `welcome` is followed by those still waiting
    /// (those taken or withdrawn while the console was away are not told again).
    pub fn start_over(&mut self) {
        self.requests.retain(|r| r.state != HelpState::Waiting);
    }

    /// How many questions of `group` (or hands raised in it) are overdue at `now`: a
    /// supervisor of that group is alerted as it grows.
    pub fn overdue_in(&self, group: &protocol::GroupId, now: i64) -> usize {
        self.requests
            .iter()
            .filter(|r| &r.group == group && self.is_overdue(r, now))
            .count()
    }

    /// Forgets what stopped waiting long ago (the board does not grow over a day).
    pub fn prune(&mut self, now: i64) {
        let at = self.server_time(now);
        self.requests.retain(|r| {
            r.state == HelpState::Waiting
                || r.closed_at
                    .is_none_or(|closed| at - closed < CLOSED_SHOWS_MS)
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
        let (ann, bob) = (
            agent("ann", "sales", Role::Agent),
            agent("bob", "sales", Role::Agent),
        );
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
        assert_eq!(
            board.listed(&bob, 2_000).len(),
            1,
            "shown taken for a while"
        );
        board.prune(2_000 + CLOSED_SHOWS_MS);
        assert!(board.listed(&bob, 2_000 + CLOSED_SHOWS_MS).is_empty());
    }

    #[test]
    fn overdue_goes_by_the_server_s_clock_and_opens_it_to_other_supervisors() {
        let sue = agent("sue", "support", Role::Supervisor);
        let mut board = HelpBoard::default();
        // The browser's clock is 10 s behind the server's.
        board.apply(&sue, question("q1", "ann", 1_000), 1_000, -9_000);
        let request = board.listed(&sue, 0)[0].view.clone();
        assert!(!board.is_overdue(&request, 50_000 - 10_001));
        assert!(board.is_overdue(&request, 61_000 - 10_000));
        assert!(!board.may_take(&sue, &request, 40_000));
        assert!(board.may_take(&sue, &request, 51_000));
    }
}
