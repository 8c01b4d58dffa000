//! The audit trail of transcripts: each supervisor's read an item of its chat's
//! partition (`T#{tenant}#READS#{chat}`), listed the latest first by one Query.

use super::*;

#[async_trait]
impl AuditStore for DynamoStore {
    async fn record_read(&self, read: &TranscriptRead) -> Result<(), StoreError> {
        let key = keys::read(&read.tenant, &read.chat, read.at, &read.id);
        self.put(Item::record_item(key, read)?).await
    }

    async fn reads_of(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: Option<&ReadCursor>,
        limit: usize,
    ) -> Result<Vec<TranscriptRead>, StoreError> {
        let pk = keys::reads_pk(tenant, chat);
        let mut start = before.map(|cursor| {
            let (pk, sk) = keys::read(tenant, chat, cursor.at, &cursor.id);
            key(pk, sk)
        });
        let mut reads = Vec::new();
        while reads.len() < limit {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(keys::READ_PREFIX))
                .scan_index_forward(false)
                .consistent_read(true)
                .set_limit(i32::try_from(limit - reads.len()).ok())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_fail)?;
            for item in out.items.unwrap_or_default() {
                reads.push(Item(item).record()?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(reads)
    }
}
