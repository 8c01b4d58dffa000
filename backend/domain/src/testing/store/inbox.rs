//! Each participant's inbox — her open and ended chats, her partners, her count of
//! pending chats — and the listings by start time, kept in the lock that changes a chat,
//! as the embedded store keeps them in the transaction that does.

use super::{State, key};
use crate::model::Chat;
use crate::ports::StartedIndex;
use protocol::{AgentId, ChatId, ChatStatus, GroupId, TenantId};
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::ops::Bound;

/// A listing of chats by start time ([`StartedIndex`], which is not ordered, as a key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Listing {
    Tenant,
    Agent(AgentId),
    Group(GroupId),
}

impl From<&StartedIndex> for Listing {
    fn from(index: &StartedIndex) -> Self {
        match index {
            StartedIndex::Tenant => Listing::Tenant,
            StartedIndex::Agent(agent) => Listing::Agent(agent.clone()),
            StartedIndex::Group(group) => Listing::Group(group.clone()),
        }
    }
}

/// The listings by start time that hold `chat`: its tenant's, each participant's and
/// each participant's group's (as it started).
fn listings(chat: &Chat) -> Vec<Listing> {
    let mut listings = vec![Listing::Tenant];
    listings.extend(
        chat.participants()
            .map(|agent| Listing::Agent(agent.clone())),
    );
    listings.extend(
        chat.groups()
            .into_iter()
            .map(|group| Listing::Group(group.clone())),
    );
    listings
}

impl State {
    /// Keeps both participants' inboxes in step with a chat that changes from `before`
    /// (`None`: it is new) to `after`: its place among their open and ended chats, their
    /// partners, their counts of pending chats (by [`Chat::pending_changes`]), and, for a
    /// new chat, the listings by start time.
    pub(super) fn keep_inboxes(&mut self, before: Option<&Chat>, after: &Chat) {
        let tenant = &after.tenant;
        if before.is_none() {
            for listing in listings(after) {
                self.started
                    .entry((tenant.clone(), listing))
                    .or_default()
                    .insert((Reverse(after.started_at), after.id.clone()));
            }
            for agent in after.participants() {
                self.open_chats
                    .entry(key(tenant, agent))
                    .or_default()
                    .insert(after.id.clone());
                self.partners
                    .entry(key(tenant, agent))
                    .or_default()
                    .insert(after.other(agent).clone());
            }
        }
        let was_open = before.is_none_or(|chat| chat.status == ChatStatus::Open);
        if was_open && after.status == ChatStatus::Ended {
            let at = after.ended_at.unwrap_or(0);
            for agent in after.participants() {
                if let Some(open) = self.open_chats.get_mut(&key(tenant, agent)) {
                    open.remove(&after.id);
                }
                self.ended_chats
                    .entry(key(tenant, agent))
                    .or_default()
                    .insert((Reverse(at), after.id.clone()));
            }
        }
        for (agent, change) in after.pending_changes(before) {
            let count = self.pending.entry(key(tenant, &agent)).or_default();
            *count = count.saturating_add_signed(change);
        }
    }

    /// The chats of `ids` (of an index, in its order), at most `limit`.
    pub(super) fn chats_named<'a>(
        &self,
        tenant: &TenantId,
        ids: impl Iterator<Item = &'a ChatId>,
        limit: usize,
    ) -> Vec<Chat> {
        ids.take(limit)
            .filter_map(|id| self.chats.get(&(tenant.clone(), id.clone())).cloned())
            .collect()
    }
}

/// The entries of an index after `from` (from its first without one), in order.
pub(super) fn entries_after<'a, K: Ord>(
    index: Option<&'a BTreeSet<K>>,
    from: Option<&K>,
) -> impl Iterator<Item = &'a K> + use<'a, K> {
    let start = from.map_or(Bound::Unbounded, Bound::Excluded);
    index
        .map(|index| index.range((start, Bound::Unbounded)))
        .into_iter()
        .flatten()
}
