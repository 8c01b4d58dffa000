//! Help requests: each change one durable transaction that reads the request, asks its
//! rule and writes what follows — so of many takers at once, the writer thread running
//! them one after the other, exactly one finds it waiting.

use super::*;
use console_domain::help::{HelpRequest, Taken};
use console_domain::ports::{HelpChange, HelpStore};
use protocol::help::{HelpId, HelpKind, HelpState};

/// Help requests, whatever their state: `tenant, id`.
pub(crate) const HELP: TableDefinition<&str, &[u8]> = TableDefinition::new("help");
/// The waiting ones, twice: under their group and under the whole tenant (see
/// [`keys::help_waiting`]), each by when asked.
pub(crate) const HELP_WAITING: TableDefinition<&str, ()> = TableDefinition::new("help_waiting");
/// Each agent's waiting hand: `tenant, agent` to its id.
pub(crate) const HANDS: TableDefinition<&str, &str> = TableDefinition::new("hands");

/// Writes `request` over what was stored, keeping the waiting listing and the agent's one
/// hand in step, in the transaction of `tx`.
fn write_help(tx: &Tx<'_>, request: &HelpRequest) -> Result<(), StoreError> {
    let waiting = request.state == HelpState::Waiting;
    let mut listing = tx.open(HELP_WAITING)?;
    for key in [
        keys::help_waiting(
            &request.tenant,
            Some(&request.group),
            request.asked_at,
            &request.id,
        ),
        keys::help_waiting(&request.tenant, None, request.asked_at, &request.id),
    ] {
        if waiting {
            listing.insert(key.as_str(), ())?;
        } else {
            listing.remove(key.as_str())?;
        }
    }
    if request.kind == HelpKind::Hand {
        let mut hands = tx.open(HANDS)?;
        let hand = keys::agent(&request.tenant, &request.from);
        if waiting {
            hands.insert(hand.as_str(), request.id.as_str())?;
        } else {
            let raised = hands
                .get(hand.as_str())
                .map_err(fail)?
                .map(|id| id.value() == request.id.as_str());
            if raised == Some(true) {
                hands.remove(hand.as_str())?;
            }
        }
    }
    write(
        &mut tx.open(HELP)?,
        &keys::help(&request.tenant, &request.id),
        request,
    )
}

impl EmbeddedStore {
    /// Changes a stored request by `change` in one transaction, writing it only if the
    /// change is done.
    async fn change_help<T: Send + 'static>(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        change: impl Fn(&mut HelpRequest) -> HelpChange<T> + Send + 'static,
    ) -> Result<Option<HelpChange<(HelpRequest, T)>>, StoreError> {
        let key = keys::help(tenant, id);
        self.durably(move |tx| {
            let Some(mut request) = read::<HelpRequest>(&*tx.open(HELP)?, &key)? else {
                return Ok(None);
            };
            Ok(Some(match change(&mut request) {
                Ok(done) => {
                    write_help(tx, &request)?;
                    Ok((request, done))
                }
                Err(refused) => Err(refused),
            }))
        })
        .await
    }
}

#[async_trait]
impl HelpStore for EmbeddedStore {
    async fn put_help(&self, request: &HelpRequest) -> Result<(HelpRequest, bool), StoreError> {
        let request = request.clone();
        self.durably(move |tx| {
            if request.kind == HelpKind::Hand {
                let raised = tx
                    .open(HANDS)?
                    .get(keys::agent(&request.tenant, &request.from).as_str())
                    .map_err(fail)?
                    .map(|id| HelpId::from(id.value()));
                if let Some(id) = raised
                    && let Some(waiting) =
                        read::<HelpRequest>(&*tx.open(HELP)?, &keys::help(&request.tenant, &id))?
                {
                    return Ok((waiting, false));
                }
            }
            write_help(tx, &request)?;
            Ok((request.clone(), true))
        })
        .await
    }

    async fn help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        let txn = self.read_txn()?;
        read(
            &txn.open_table(HELP).map_err(fail)?,
            &keys::help(tenant, id),
        )
    }

    async fn take_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        taker: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, Taken)>>, StoreError> {
        let taker = taker.clone();
        self.change_help(tenant, id, move |request| request.take(&taker, now))
            .await
    }

    async fn withdraw_help(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        by: &Agent,
        now: i64,
    ) -> Result<Option<HelpChange<(HelpRequest, bool)>>, StoreError> {
        let by = by.clone();
        self.change_help(tenant, id, move |request| request.withdraw(&by, now))
            .await
    }

    async fn attach_help_chat(
        &self,
        tenant: &TenantId,
        id: &HelpId,
        chat: &ChatId,
    ) -> Result<Option<HelpRequest>, StoreError> {
        let chat = chat.clone();
        let attached = self
            .change_help(tenant, id, move |request| {
                // Not taken, or attached already: nothing to write, but not refused.
                Ok(request.attach_chat(&chat))
            })
            .await?;
        Ok(console_domain::help::attached(attached))
    }

    async fn waiting_help(
        &self,
        tenant: &TenantId,
        group: Option<&GroupId>,
        limit: usize,
    ) -> Result<Vec<HelpRequest>, StoreError> {
        let prefix = keys::help_waiting_prefix(tenant, group);
        let txn = self.read_txn()?;
        let listing = txn.open_table(HELP_WAITING).map_err(fail)?;
        let requests = txn.open_table(HELP).map_err(fail)?;
        let mut out = Vec::new();
        for entry in listing
            .range(prefix.as_str()..keys::prefix_end(&prefix).as_str())
            .map_err(fail)?
            .take(limit)
        {
            let (key, _) = entry.map_err(fail)?;
            let id = HelpId::from(keys::last_part(key.value()));
            if let Some(request) = read(&requests, &keys::help(tenant, &id))? {
                out.push(request);
            }
        }
        Ok(out)
    }
}
