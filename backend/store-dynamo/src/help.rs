//! Help requests. A request is an item of its tenant's partition (`HELP#{id}`) with a
//! version; while it waits, a copy of it is listed under its group's and its tenant's
//! waiting partitions by when it was asked, and a hand also marks its agent's inbox
//! (`HAND`). Every change is one transaction conditional on the version read: of many
//! takers at once, one transaction goes through and the others read it again, taken.

use super::*;
use console_domain::help::{HelpRequest, Taken};
use console_domain::ports::{HelpChange, HelpStore};
use protocol::help::{HelpId, HelpKind, HelpState};

impl DynamoStore {
    /// A request and the version it was read at.
    async fn help_versioned(
        &self,
        tenant: &TenantId,
        id: &HelpId,
    ) -> Result<Option<(HelpRequest, i64)>, StoreError> {
        let Some(item) = self.get(keys::help(tenant, id)).await? else {
            return Ok(None);
        };
        Ok(Some((
            item.record()?,
            item.number(keys::VERSION).unwrap_or(0),
        )))
    }

    /// The writes that store `request` over version `read` (none: it is new) and keep
    /// its listings and its agent's hand in step.
    fn help_writes(
        &self,
        request: &HelpRequest,
        read: Option<i64>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let item = Item::record_item(keys::help(&request.tenant, &request.id), request)?
            .with_number(keys::VERSION, read.unwrap_or(0) + 1);
        let mut writes = vec![match read {
            Some(read) => self.put_item(
                item,
                Some("version = :read"),
                &[(":read", AttributeValue::N(read.to_string()))],
            )?,
            None => self.put_item(item, Some("attribute_not_exists(pk)"), &[])?,
        }];
        let waiting = request.state == HelpState::Waiting;
        for group in [Some(&request.group), None] {
            let listed = keys::help_waiting(&request.tenant, group, request.asked_at, &request.id);
            writes.push(if waiting {
                self.put_item(Item::record_item(listed, request)?, None, &[])?
            } else {
                self.delete_item(listed)?
            });
        }
        if request.kind == HelpKind::Hand {
            let hand = keys::hand(&request.tenant, &request.from);
            writes.push(if waiting {
                let mut item = item::bare(hand);
                item.insert(keys::DATA.to_owned(), s(request.id.as_str()));
                // One hand per agent: refused while another waits.
                self.put_item(item, Some("attribute_not_exists(pk)"), &[])?
            } else {
                self.delete_item(hand)?
            });
        }
        Ok(writes)
    }

    /// Changes a stored request by `change`, conditional on the version read; read again
    /// and decided again when another change came first.
    async fn change_help<T>(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        change: impl Fn(&mut HelpRequest) -> HelpChange<T> + Send + Sync,
    ) -> Result<Option<HelpChange<(HelpRequest, T)>>, StoreError>
    where
        T: Send,
    {
        for attempt in 0..RACE_RETRIES {
            let Some((mut request, version)) = self.help_versioned(tenant, id).await? else {
                return Ok(None);
            };
            let before = request.clone();
            let done = match change(&mut request) {
                Ok(done) => done,
                Err(refused) => return Ok(Some(Err(refused))),
            };
            // Unchanged (a retry by the taker, a second withdrawal): nothing to write.
            if request == before {
                return Ok(Some(Ok((request, done))));
            }
            if self
                .transact(self.help_writes(&request, Some(version))?, attempt)
                .await?
            {
                return Ok(Some(Ok((request, done))));
            }
        }
        Err(StoreError::retryable(
            "the help request is too busy; try again",
        ))
    }
}

#[async_trait]
impl HelpStore for DynamoStore {
    async fn put_help(&self, request: &HelpRequest) -> Result<(HelpRequest, bool), StoreError> {
        for attempt in 0..RACE_RETRIES {
            if self
                .transact(self.help_writes(request, None)?, attempt)
                .await?
            {
                return Ok((request.clone(), true));
            }
            // Refused: the agent has a hand waiting (or a new id was reused, which a
            // generated id never is). Answer with that hand, if it is still there.
            if request.kind == HelpKind::Hand
                && let Some(marked) = self.get(keys::hand(&request.tenant, &request.from)).await?
                && let Some(id) = marked.data()
                && let Some((raised, _)) = self
                    .help_versioned(&request.tenant, &HelpId::from(id))
                    .await?
            {
                return Ok((raised, false));
            }
        }
        Err(StoreError::retryable(
            "the help request could not be stored; try again",
        ))
    }

    async fn help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        Ok(self
            .help_versioned(tenant, id)
            .await?
            .map(|(request, _)| request))
    }

    async fn take_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        taker: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, Taken)>>, StoreError> {
        self.change_help(tenant, id, |request| request.take(taker, now))
            .await
    }

    async fn withdraw_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        by: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, bool)>>, StoreError> {
        self.change_help(tenant, id, |request| request.withdraw(by, now))
            .await
    }

    async fn attach_help_chat(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        chat: &ChatId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        let attached = self
            .change_help(tenant, id, |request| Ok(request.attach_chat(chat)))
            .await?;
        Ok(console_domain::help::attached(attached))
    }

    async fn waiting_help(
        &self,
        tenant: &TenantId,
        group: Option<&GroupId>,
        limit: usize,
    ) -> Result<Vec<HelpRequest>, StoreError> {
        self.query_page(
            &keys::help_waiting_pk(tenant, group),
            keys::HELP_WAITING_PREFIX,
            None,
            limit,
        )
        .await?
        .iter()
        .map(Item::record)
        .collect()
    }
}
