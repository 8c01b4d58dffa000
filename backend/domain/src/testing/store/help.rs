//! Help requests in memory: each change under the store's one lock, decided by the
//! request's own rules, as the embedded store does in one transaction.

use super::{MemoryStore, State, key};
use crate::Agent;
use crate::help::{HelpRequest, Taken};
use crate::ports::{HelpChange, HelpStore, StoreError};
use async_trait::async_trait;
use protocol::help::{HelpId, HelpKind, HelpState};
use protocol::{ChatId, GroupId, TenantId};

/// A waiting request in the listing: by tenant, group, when asked, id.
pub(super) type Waiting = (TenantId, GroupId, i64, HelpId);

fn waiting_key(request: &HelpRequest) -> Waiting {
    (
        request.tenant.clone(),
        request.group.clone(),
        request.asked_at,
        request.id.clone(),
    )
}

impl State {
    /// Writes `request` over what was stored, keeping the waiting listing and the
    /// agent's one hand in step.
    fn write_help(&mut self, request: &HelpRequest) {
        let waiting = request.state == HelpState::Waiting;
        if waiting {
            self.help_waiting.insert(waiting_key(request));
        } else {
            self.help_waiting.remove(&waiting_key(request));
        }
        if request.kind == HelpKind::Hand {
            let hand = key(&request.tenant, &request.from);
            if waiting {
                self.hands.insert(hand, request.id.clone());
            } else if self.hands.get(&hand) == Some(&request.id) {
                self.hands.remove(&hand);
            }
        }
        self.help.insert(
            (request.tenant.clone(), request.id.clone()),
            request.clone(),
        );
    }

    /// Changes a stored request by `change`, writing it only if the change is done.
    fn change_help<T>(
        &mut self,
        tenant: &TenantId,
        id: &HelpId,
        change: impl FnOnce(&mut HelpRequest) -> HelpChange<T>,
    ) -> Option<HelpChange<(HelpRequest, T)>> {
        let mut request = self.help.get(&(tenant.clone(), id.clone()))?.clone();
        Some(change(&mut request).map(|done| {
            self.write_help(&request);
            (request, done)
        }))
    }
}

#[async_trait]
impl HelpStore for MemoryStore {
    async fn put_help(&self, request: &HelpRequest) -> Result<(HelpRequest, bool), StoreError> {
        let mut state = self.state();
        if request.kind == HelpKind::Hand
            && let Some(id) = state.hands.get(&key(&request.tenant, &request.from))
            && let Some(raised) = state.help.get(&(request.tenant.clone(), id.clone()))
        {
            return Ok((raised.clone(), false));
        }
        state.write_help(request);
        Ok((request.clone(), true))
    }

    async fn help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        Ok(self
            .state()
            .help
            .get(&(tenant.clone(), id.clone()))
            .cloned())
    }

    async fn take_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        taker: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, Taken)>>, StoreError> {
        Ok(self
            .state()
            .change_help(tenant, id, |request| request.take(taker, now)))
    }

    async fn withdraw_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        by: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, bool)>>, StoreError> {
        Ok(self
            .state()
            .change_help(tenant, id, |request| request.withdraw(by, now)))
    }

    async fn attach_help_chat(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        chat: &ChatId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        let mut state = self.state();
        let Some(stored) = state.help.get(&(tenant.clone(), id.clone())) else {
            return Ok(None);
        };
        let mut request = stored.clone();
        if request.attach_chat(chat) {
            state.write_help(&request);
        }
        Ok((request.state == HelpState::Taken).then_some(request))
    }

    async fn waiting_help(
        &self,
        tenant: &TenantId,
        group: Option<&GroupId>,
        limit: usize,
    ) -> Result<Vec<HelpRequest>, StoreError> {
        let state = self.state();
        let mut found: Vec<&Waiting> = state
            .help_waiting
            .iter()
            .filter(|(of, in_group, _, _)| of == tenant && group.is_none_or(|g| g == in_group))
            .collect();
        // Oldest first across groups, as the other stores list them.
        found.sort_by(|a, b| (a.2, &a.3).cmp(&(b.2, &b.3)));
        Ok(found
            .into_iter()
            .take(limit)
            .filter_map(|(tenant, _, _, id)| state.help.get(&(tenant.clone(), id.clone())).cloned())
            .collect())
    }
}
