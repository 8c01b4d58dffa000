//! The audit trail of transcripts: each supervisor's read, kept durably, listed per chat
//! the latest first.

use super::*;

#[async_trait]
impl AuditStore for EmbeddedStore {
    async fn record_read(&self, read: &TranscriptRead) -> Result<(), StoreError> {
        let key = keys::read(&read.tenant, &read.chat, read.at, &read.id);
        let value = encode(read)?;
        self.durably(move |tx| {
            tx.open(READS)?.insert(key.as_str(), value.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn reads_of(
        &self,
        tenant: &TenantId,
        chat: &ChatId,
        before: Option<&ReadCursor>,
        limit: usize,
    ) -> Result<Vec<TranscriptRead>, StoreError> {
        let prefix = keys::reads_prefix(tenant, chat);
        let end = match before {
            Some(cursor) => Bound::Excluded(keys::read(tenant, chat, cursor.at, &cursor.id)),
            None => Bound::Excluded(keys::prefix_end(&prefix)),
        };
        let txn = self.read_txn()?;
        let table = txn.open_table(READS).map_err(fail)?;
        let mut out = Vec::new();
        for entry in table
            .range::<&str>((
                Bound::Included(prefix.as_str()),
                end.as_ref().map(String::as_str),
            ))
            .map_err(fail)?
            .rev()
            .take(limit)
        {
            let (_, value) = entry.map_err(fail)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }
}
