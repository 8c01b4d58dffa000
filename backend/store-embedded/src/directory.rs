//! The directory (tenants and their agents, by group too) and the single-use tickets.

use super::*;

#[async_trait]
impl DirectoryStore for EmbeddedStore {
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError> {
        let (tenant, agents) = (tenant.clone(), agents.to_vec());
        self.durably(move |tx| {
            write(&mut tx.open(TENANTS)?, tenant.id.as_str(), &tenant)?;
            let mut table = tx.open(AGENTS)?;
            let mut groups = tx.open(GROUP_AGENTS)?;
            for agent in &agents {
                let key = keys::agent(&tenant.id, &agent.id);
                if let Some(before) = read::<Agent>(&*table, &key)? {
                    groups
                        .remove(keys::group_agent(&tenant.id, &before.group, &agent.id).as_str())?;
                }
                write(&mut table, &key, agent)?;
                groups.insert(
                    keys::group_agent(&tenant.id, &agent.group, &agent.id).as_str(),
                    (),
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let txn = self.read_txn()?;
        read(&txn.open_table(TENANTS).map_err(fail)?, id.as_str())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let txn = self.read_txn()?;
        let table = txn.open_table(TENANTS).map_err(fail)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(fail)? {
            let (_, value) = entry.map_err(fail)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }

    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError> {
        let txn = self.read_txn()?;
        read(
            &txn.open_table(AGENTS).map_err(fail)?,
            &keys::agent(tenant, id),
        )
    }

    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError> {
        let txn = self.read_txn()?;
        values_under(
            &txn.open_table(AGENTS).map_err(fail)?,
            &keys::tenant_prefix(tenant),
        )
    }

    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError> {
        let txn = self.read_txn()?;
        let ids = suffixes_under(
            &txn.open_table(GROUP_AGENTS).map_err(fail)?,
            &keys::group_agents_prefix(tenant, group),
        )?;
        let agents = txn.open_table(AGENTS).map_err(fail)?;
        let mut found = Vec::new();
        for id in ids {
            found.extend(read::<Agent>(
                &agents,
                &keys::agent(tenant, &id.as_str().into()),
            )?);
        }
        Ok(found)
    }

    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError> {
        let txn = self.read_txn()?;
        let agents = txn.open_table(AGENTS).map_err(fail)?;
        let mut found = Vec::new();
        for id in ids {
            found.extend(read::<Agent>(&agents, &keys::agent(tenant, id))?);
        }
        Ok(found)
    }

    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let key = keys::agent(tenant, id);
        self.durably(move |tx| {
            let mut table = tx.open(AGENTS)?;
            let Some(mut agent) = read::<Agent>(&*table, &key)? else {
                return Ok(None);
            };
            agent.state = state;
            agent.state_since = since;
            write(&mut table, &key, &agent)?;
            Ok(Some(agent))
        })
        .await
    }
}

#[async_trait]
impl TicketStore for EmbeddedStore {
    /// Stores a ticket; every [`TICKET_SWEEP_EVERY`] tickets, the expired ones (issued
    /// and never used) are removed in the same write, so unused tickets never pile up.
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let ticket = ticket.clone();
        let issued = self
            .tickets_issued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sweep = (issued + 1).is_multiple_of(TICKET_SWEEP_EVERY);
        self.volatile(move |tx| {
            let mut table = tx.open(TICKETS)?;
            if sweep {
                let mut expired = Vec::new();
                for entry in table.iter().map_err(fail)? {
                    let (id, value) = entry.map_err(fail)?;
                    let stored: Ticket = decode(value.value())?;
                    // Issued at the same time as this one, with the same lifetime: any
                    // that expires before it has been expired for a while.
                    if stored.expires_at < ticket.expires_at - TICKET_SWEEP_GRACE_MS {
                        expired.push(id.value().to_owned());
                    }
                }
                for id in expired {
                    table.remove(id.as_str())?;
                }
            }
            write(&mut table, &ticket.id, &ticket)
        })
        .await
    }

    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let id = id.to_owned();
        self.volatile(move |tx| {
            let mut table = tx.open(TICKETS)?;
            let removed = table.remove(id.as_str())?;
            match removed {
                Some(guard) => decode(guard.value()).map(Some),
                None => Ok(None),
            }
        })
        .await
    }
}
