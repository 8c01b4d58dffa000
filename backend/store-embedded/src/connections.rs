//! Live connections, in memory: by id, by agent, by who they see, by their next check.

use super::*;

#[async_trait]
impl ConnectionStore for EmbeddedStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let mut live = self.connections();
        live.of_agents.insert(keys::agent_connection(
            &connection.tenant,
            &connection.agent,
            &connection.id,
        ));
        live.seeing.extend(Connections::seeing_keys(connection));
        live.checks
            .insert((connection.check_at, connection.id.clone()));
        if let Some(before) = live.by_id.insert(connection.id.clone(), connection.clone()) {
            live.checks.remove(&(before.check_at, before.id));
            live.checks
                .insert((connection.check_at, connection.id.clone()));
        }
        Ok(())
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let mut live = self.connections();
        let removed = live.by_id.remove(id);
        if let Some(connection) = &removed {
            live.of_agents.remove(&keys::agent_connection(
                &connection.tenant,
                &connection.agent,
                id,
            ));
            for key in Connections::seeing_keys(connection) {
                live.seeing.remove(&key);
            }
            live.checks.remove(&(connection.check_at, id.clone()));
        }
        Ok(removed)
    }

    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        let live = self.connections();
        Ok(live
            .checks
            .iter()
            .take_while(|(at, _)| *at <= now)
            .take(limit)
            .filter_map(|(_, id)| live.by_id.get(id).cloned())
            .collect())
    }

    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError> {
        let mut live = self.connections();
        let Some(held) = live.by_id.get_mut(&connection.id) else {
            return Ok(false);
        };
        let before = std::mem::replace(&mut held.check_at, at);
        live.checks.remove(&(before, connection.id.clone()));
        live.checks.insert((at, connection.id.clone()));
        Ok(true)
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        Ok(self.connections().by_id.get(id).cloned())
    }

    async fn connections_in_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Connection>, StoreError> {
        let live = self.connections();
        let prefix = keys::tenant_prefix(tenant);
        Ok(live
            .keys_under(&prefix)
            .filter_map(|key| {
                let (_, id) = key.rsplit_once(keys::SEP)?;
                live.by_id.get(&ConnectionId(id.to_owned())).cloned()
            })
            .collect())
    }

    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError> {
        let live = self.connections();
        let mut ids: BTreeSet<&str> = BTreeSet::new();
        for prefix in [
            keys::group_connections_prefix(tenant, group),
            keys::supervisor_connections_prefix(tenant),
        ] {
            ids.extend(under(&live.seeing, &prefix).map(|key| &key[prefix.len()..]));
        }
        Ok(ids
            .into_iter()
            .filter_map(|id| live.by_id.get(&ConnectionId(id.to_owned())).cloned())
            .collect())
    }

    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let live = self.connections();
        let prefix = keys::agent_prefix(tenant, agent);
        Ok(live
            .keys_under(&prefix)
            .map(|key| ConnectionId(key[prefix.len()..].to_owned()))
            .collect())
    }
}
