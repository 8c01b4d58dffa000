//! Rate limits and quota windows, each one conditional write.

use super::*;

#[async_trait]
impl LimitStore for DynamoStore {
    async fn allow(&self, limit_key: &str, window_ms: i64, now: i64) -> Result<bool, StoreError> {
        let (pk, sk) = keys::limit(limit_key);
        let expires = (now + window_ms) / 1000 + 60;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #at = :now, #expires = :expires")
            .condition_expression("attribute_not_exists(#at) OR #at <= :before")
            .expression_attribute_names("#at", keys::AT)
            .expression_attribute_names("#expires", keys::EXPIRES)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(
                ":before",
                AttributeValue::N((now - window_ms).to_string()),
            )
            .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        granted(update)
    }

    /// One conditional UpdateItem on the window's own item (the window is part of its
    /// key, so a new window needs no reset): add one unless the count has reached the
    /// quota. The item expires a minute after its window.
    async fn take(&self, limit_key: &str, quota: Quota, now: i64) -> Result<bool, StoreError> {
        let (window, ends) = quota.window(now);
        let (pk, sk) = keys::quota(limit_key, window);
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #count :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", keys::COUNT)
            .expression_attribute_names("#expires", keys::EXPIRES)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(quota.max.to_string()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((ends / 1000 + 60).to_string()),
            )
            .send()
            .await;
        granted(update)
    }
}
