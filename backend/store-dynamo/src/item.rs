//! Items: records as JSON in the `data` attribute beside their keys, and the table itself.

use crate::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use console_domain::ports::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A failure of DynamoDB or of a record's encoding, with DynamoDB's whole explanation.
pub fn fail<E: std::error::Error>(error: E) -> StoreError {
    let text = DisplayErrorContext(&error).to_string();
    let retryable = [
        "Throttling",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionConflict",
        "timeout",
        "dispatch failure",
    ]
    .iter()
    .any(|sign| text.contains(sign));
    let message = format!("DynamoDB: {text}");
    if retryable {
        StoreError::retryable(message)
    } else {
        StoreError::permanent(message)
    }
}

/// A string attribute.
pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// The key of an item.
pub fn key(pk: String, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}

/// An item with its key and nothing else yet.
pub fn bare((pk, sk): (String, String)) -> HashMap<String, AttributeValue> {
    key(pk, sk)
}

/// Adding attributes to an item being built.
pub trait ItemBuilder {
    fn with_number(self, name: &str, value: i64) -> Self;
}

impl ItemBuilder for HashMap<String, AttributeValue> {
    fn with_number(mut self, name: &str, value: i64) -> Self {
        self.insert(name.to_owned(), AttributeValue::N(value.to_string()));
        self
    }
}

/// An item read from the table.
#[derive(Debug, Clone)]
pub struct Item(pub HashMap<String, AttributeValue>);

impl Item {
    /// An item holding `record` under `key`.
    pub fn record_item<T: Serialize>(
        (pk, sk): (String, String),
        record: &T,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut item = key(pk, sk);
        item.insert(
            keys::DATA.to_owned(),
            AttributeValue::S(serde_json::to_string(record).map_err(fail)?),
        );
        Ok(item)
    }

    /// The record's JSON.
    pub fn data(&self) -> Option<&str> {
        self.0
            .get(keys::DATA)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    }

    /// The record.
    pub fn record<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        let data = self
            .data()
            .ok_or_else(|| StoreError::permanent("DynamoDB: an item has no data"))?;
        serde_json::from_str(data).map_err(fail)
    }

    /// A string set attribute (empty when absent: DynamoDB drops an emptied set).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.0
            .get(name)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    }

    /// The item's sort key.
    pub fn sk(&self) -> Option<&str> {
        self.0
            .get(keys::SK)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    }

    /// The item's partition key.
    pub fn pk(&self) -> Option<&str> {
        self.0
            .get(keys::PK)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    }

    /// A number attribute.
    pub fn number(&self, name: &str) -> Option<i64> {
        self.0
            .get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
    }
}

/// Creates the table as the SAM template does (keys `pk`/`sk`, on demand, TTL on
/// `expires`): for tests against an emulator and for trying things out.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(fail)
    };
    let key_element = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(fail)
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute(keys::PK)?)
        .attribute_definitions(attribute(keys::SK)?)
        .key_schema(key_element(keys::PK, KeyType::Hash)?)
        .key_schema(key_element(keys::SK, KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(fail)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(keys::EXPIRES)
                .enabled(true)
                .build()
                .map_err(fail)?,
        )
        .send()
        .await
        .map_err(fail)?;
    Ok(())
}
