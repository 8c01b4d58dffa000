//! Live connections: found by id, by agent, by who they see (the group and role each
//! keeps) and by their next check — read off the connections themselves, so that no
//! index can go stale.

use super::{MemoryStore, StoreError};
use crate::model::{Connection, ConnectionId};
use crate::ports::ConnectionStore;
use async_trait::async_trait;
use protocol::{AgentId, GroupId, TenantId};

#[async_trait]
impl ConnectionStore for MemoryStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.state()
            .connections
            .insert(connection.id.clone(), connection.clone());
        Ok(())
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        Ok(self.state().connections.remove(id))
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        Ok(self.state().connections.get(id).cloned())
    }

    async fn connections_in_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Connection>, StoreError> {
        Ok(self
            .state()
            .connections
            .values()
            .filter(|connection| &connection.tenant == tenant)
            .cloned()
            .collect())
    }

    /// Those of `group`'s agents and every supervisor's of the tenant, each once, by the
    /// group and role kept on each connection as it was made.
    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError> {
        Ok(self
            .state()
            .connections
            .values()
            .filter(|connection| {
                &connection.tenant == tenant
                    && (connection.supervisor || connection.group.as_ref() == Some(group))
            })
            .cloned()
            .collect())
    }

    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        let mut due: Vec<Connection> = self
            .state()
            .connections
            .values()
            .filter(|connection| connection.check_at <= now)
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.check_at, &a.id).cmp(&(b.check_at, &b.id)));
        due.truncate(limit);
        Ok(due)
    }

    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(held) = state.connections.get_mut(&connection.id) else {
            return Ok(false);
        };
        held.check_at = at;
        Ok(true)
    }

    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        Ok(self.state().connections_of(tenant, agent))
    }
}
