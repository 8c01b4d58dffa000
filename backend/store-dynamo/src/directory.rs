//! The directory (tenants and their agents, by group too) and the single-use tickets.

use super::*;

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn put_tenant(&self, tenant: &Tenant, agents: &[Agent]) -> Result<(), StoreError> {
        self.put(Item::record_item(keys::tenant(&tenant.id), tenant)?)
            .await?;
        // An agent whose group changed leaves her old group's index.
        let before: Vec<Agent> = self
            .get_many(
                agents
                    .iter()
                    .map(|agent| keys::agent(&tenant.id, &agent.id))
                    .collect(),
            )
            .await?;
        for moved in before.iter().filter(|was| {
            agents
                .iter()
                .any(|agent| agent.id == was.id && agent.group != was.group)
        }) {
            let (pk, sk) = keys::group_agent(&tenant.id, &moved.group, &moved.id);
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .send()
                .await
                .map_err(sdk_fail)?;
        }
        let mut items = Vec::new();
        for agent in agents {
            items.push(Item::record_item(
                keys::agent(&tenant.id, &agent.id),
                agent,
            )?);
            items.push(Item::record_item(
                keys::group_agent(&tenant.id, &agent.group, &agent.id),
                &agent.id,
            )?);
        }
        self.put_many(items).await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.get_record(keys::tenant(id)).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.query(keys::TENANTS_PK, "T#")
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    async fn agent(&self, tenant: &TenantId, id: &AgentId) -> Result<Option<Agent>, StoreError> {
        self.get_record(keys::agent(tenant, id)).await
    }

    async fn agents(&self, tenant: &TenantId) -> Result<Vec<Agent>, StoreError> {
        self.query(&keys::tenant_pk(tenant), keys::AGENT_PREFIX)
            .await?
            .iter()
            .map(Item::record)
            .collect()
    }

    async fn agents_of_group(
        &self,
        tenant: &TenantId,
        group: &GroupId,
    ) -> Result<Vec<Agent>, StoreError> {
        let (pk, _) = keys::group_agent(tenant, group, &AgentId::from(""));
        let ids: Vec<AgentId> = self
            .query(&pk, keys::AGENT_PREFIX)
            .await?
            .iter()
            .map(Item::record)
            .collect::<Result<_, _>>()?;
        self.get_many(ids.iter().map(|id| keys::agent(tenant, id)).collect())
            .await
    }

    async fn agents_named(
        &self,
        tenant: &TenantId,
        ids: &[AgentId],
    ) -> Result<Vec<Agent>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        self.get_many(ids.iter().map(|id| keys::agent(tenant, id)).collect())
            .await
    }

    async fn set_agent_state(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        state: AgentState,
        since: i64,
    ) -> Result<Option<Agent>, StoreError> {
        // The record is one JSON document: read, change, write back if unchanged.
        for _ in 0..RACE_RETRIES {
            let Some(item) = self.get(keys::agent(tenant, id)).await? else {
                return Ok(None);
            };
            let before = item.data().unwrap_or_default().to_owned();
            let mut agent: Agent = item.record()?;
            agent.state = state;
            agent.state_since = since;
            let written = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(Item::record_item(keys::agent(tenant, id), &agent)?))
                .condition_expression("#data = :before")
                .expression_attribute_names("#data", keys::DATA)
                .expression_attribute_values(":before", s(&before))
                .send()
                .await;
            match written {
                Ok(_) => return Ok(Some(agent)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    continue;
                }
                Err(e) => return Err(sdk_fail(e)),
            }
        }
        Err(StoreError::retryable(
            "the agent changed too often to update",
        ))
    }
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn put_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let expires = ticket.expires_at / 1000 + 60;
        self.put(
            Item::record_item(keys::ticket(&ticket.id), ticket)?
                .with_number(keys::EXPIRES, expires),
        )
        .await
    }

    async fn take_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let (pk, sk) = keys::ticket(id);
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_fail)?;
        out.attributes.map(|a| Item(a).record()).transpose()
    }
}
