//! Live connections: the record, its index items (by agent, by group, among the
//! supervisors', under its next check) and each agent's `CONNS` set.

use super::*;

#[async_trait]
impl ConnectionStore for DynamoStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let expires = connection.connected_at / 1000 + CONNECTION_TTL_SECONDS;
        let by_id = Item::record_item(keys::connection(&connection.id.0), connection)?
            .with_number(keys::EXPIRES, expires);
        let mut indexes = Vec::new();
        for key in connection_index_keys(connection) {
            indexes.push(Item::record_item(key, connection)?.with_number(keys::EXPIRES, expires));
        }
        // The indexes first (one batch), then the record: a crash between them leaves at
        // worst index entries whose pushes come back Gone until their TTL removes them,
        // never a connection that pushes cannot find. Cheaper than a transaction, too.
        self.put_many(indexes).await?;
        let (pk, sk) = keys::connection_set(&connection.tenant, &connection.agent);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #conns :id")
            .expression_attribute_names("#conns", keys::CONNS)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![connection.id.0.clone()]))
            .send()
            .await
            .map_err(sdk_fail)?;
        self.put(by_id).await
    }

    async fn delete_connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let Some(connection) = self
            .get_record::<Connection>(keys::connection(&id.0))
            .await?
        else {
            return Ok(None);
        };
        let mut deletes = vec![self.delete_item(keys::connection(&id.0))?];
        for key in connection_index_keys(&connection) {
            deletes.push(self.delete_item(key)?);
        }
        let (pk, sk) = keys::connection_set(&connection.tenant, &connection.agent);
        let forget = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("DELETE #conns :id")
            .expression_attribute_names("#conns", keys::CONNS)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![id.0.clone()]))
            .build()
            .map_err(fail)?;
        deletes.push(TransactWriteItem::builder().update(forget).build());
        let deleted = self.transact(deletes, 0).await?;
        if !deleted {
            // No condition: another transaction held one of the items.
            return Err(StoreError::retryable(
                "the connection is being changed; try again",
            ));
        }
        Ok(Some(connection))
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.get_record(keys::connection(&id.0)).await
    }

    async fn connections_in_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Connection>, StoreError> {
        // Every connection is under its agent's group once (the service gives each one
        // her group as she connects).
        self.query(
            &keys::connections_pk(tenant),
            keys::GROUP_CONNECTIONS_PREFIX,
        )
        .await?
        .iter()
        .map(Item::record)
        .collect()
    }

    async fn connections_seeing(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Connection>, StoreError> {
        let pk = keys::connections_pk(tenant);
        // A supervisor's connection is under her group too: each once, by id.
        let mut seeing: BTreeMap<ConnectionId, Connection> = BTreeMap::new();
        for prefix in [
            keys::group_connections_prefix(group),
            keys::SUPERVISOR_CONNECTIONS_PREFIX.to_owned(),
        ] {
            for item in self.query(&pk, &prefix).await? {
                let connection: Connection = item.record()?;
                seeing.insert(connection.id.clone(), connection);
            }
        }
        Ok(seeing.into_values().collect())
    }

    async fn connections_due(&self, now: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        let mut due: Vec<Connection> = Vec::new();
        for shard in 0..keys::CHECK_SHARDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk <= :until")
                .expression_attribute_values(":pk", s(&keys::checks_pk(shard)))
                .expression_attribute_values(":until", s(&keys::check_until(now)))
                .set_limit(i32::try_from(limit).ok())
                .send()
                .await
                .map_err(sdk_fail)?;
            for item in out.items.unwrap_or_default() {
                due.push(Item(item).record()?);
            }
        }
        due.sort_by(|a, b| (a.check_at, &a.id).cmp(&(b.check_at, &b.id)));
        due.truncate(limit);
        Ok(due)
    }

    async fn check_later(&self, connection: &Connection, at: i64) -> Result<bool, StoreError> {
        let moved = Connection {
            check_at: at,
            ..connection.clone()
        };
        let expires = connection.connected_at / 1000 + CONNECTION_TTL_SECONDS;
        let record = Item::record_item(keys::connection(&connection.id.0), &moved)?
            .with_number(keys::EXPIRES, expires);
        let mut items = vec![self.put_item(record, Some("attribute_exists(pk)"), &[])?];
        let (old, new) = (
            keys::connection_check(&connection.id.0, connection.check_at),
            keys::connection_check(&connection.id.0, at),
        );
        if old != new {
            items.push(self.delete_item(old)?);
            items.push(self.put_item(
                Item::record_item(new, &moved)?.with_number(keys::EXPIRES, expires),
                None,
                &[],
            )?);
        }
        self.transact(items, 0).await
    }

    async fn connections_of(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        Ok(self
            .get(keys::connection_set(tenant, agent))
            .await?
            .map(|set| set.strings(keys::CONNS))
            .unwrap_or_default()
            .into_iter()
            .map(ConnectionId)
            .collect())
    }

    async fn connections_of_agents(
        &self,
        tenant: &TenantId,
        agents: &[AgentId],
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let mut agents = agents.to_vec();
        agents.sort();
        agents.dedup();
        Ok(self
            .get_items(
                agents
                    .iter()
                    .map(|agent| keys::connection_set(tenant, agent))
                    .collect(),
            )
            .await?
            .iter()
            .flat_map(|set| set.strings(keys::CONNS))
            .map(ConnectionId)
            .collect())
    }
}

/// The index items of a connection: under its next check, by her group, and among the
/// supervisors' if she is one. (Her own connections are the `CONNS` set of her inbox.)
fn connection_index_keys(connection: &Connection) -> Vec<(String, String)> {
    let (tenant, id) = (&connection.tenant, connection.id.0.as_str());
    let mut out = vec![keys::connection_check(id, connection.check_at)];
    if let Some(group) = &connection.group {
        out.push(keys::group_connection(tenant, group, id));
    }
    if connection.supervisor {
        out.push(keys::supervisor_connection(tenant, id));
    }
    out
}
