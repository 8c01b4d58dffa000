//! Items: records as JSON in the `data` attribute beside their keys, and the table itself.

use crate::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use console_domain::ports::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A failure DynamoDB answered, or the SDK met on the way to it, with DynamoDB's whole
/// explanation: retryable when its error code says to slow down or try again (throttling,
/// a transaction conflict, an internal error) or when no answer came (a timeout, a
/// connection that failed) — classified by the code, never by words in the text.
pub fn sdk_fail<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => error
            .code()
            .is_some_and(|code| RETRYABLE_CODES.contains(&code)),
        _ => false,
    };
    let message = format!("DynamoDB: {}", DisplayErrorContext(&error));
    if retryable {
        StoreError::retryable(message)
    } else {
        StoreError::permanent(message)
    }
}

/// DynamoDB's error codes that mean "the same request may pass a moment later".
const RETRYABLE_CODES: [&str; 7] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "LimitExceededException",
];

/// A failure of this store's own making — a record that does not encode or decode, a
/// request that does not build: retrying will not fix it.
pub fn fail<E: OwnFailure>(error: E) -> StoreError {
    StoreError::permanent(format!("DynamoDB store: {}", DisplayErrorContext(&error)))
}

/// The errors [`fail`] takes: none of them from DynamoDB, which go through [`sdk_fail`].
pub trait OwnFailure: std::error::Error {}
impl OwnFailure for serde_json::Error {}
impl OwnFailure for aws_sdk_dynamodb::error::BuildError {}

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
        .map_err(sdk_fail)?;
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
        .map_err(sdk_fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    fn answered(code: &str) -> SdkError<GetItemError, HttpResponse> {
        let error = GetItemError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("a retryable-sounding timeout message that is not one")
                .build(),
        );
        let response = HttpResponse::new(
            400.try_into().expect("a status"),
            aws_smithy_types::body::SdkBody::empty(),
        );
        SdkError::service_error(error, response)
    }

    #[test]
    fn dynamodb_errors_are_retryable_by_their_code_not_their_words() {
        for code in RETRYABLE_CODES {
            assert!(sdk_fail(answered(code)).retryable, "{code}");
        }
        for code in [
            "ValidationException",
            "ResourceNotFoundException",
            "AccessDeniedException",
        ] {
            assert!(!sdk_fail(answered(code)).retryable, "{code}");
        }
        let timeout: SdkError<GetItemError, HttpResponse> =
            SdkError::timeout_error("no answer in time");
        assert!(sdk_fail(timeout).retryable, "no answer came");
        let unbuilt: SdkError<GetItemError, HttpResponse> =
            SdkError::construction_failure("a request that does not build");
        assert!(!sdk_fail(unbuilt).retryable);
    }
}
