//! DynamoDB's bill for a request: every request a client sends, recorded with its answer
//! at the SDK, and the write and read request units each costs, computed from the sizes
//! of the items it wrote or read with DynamoDB's published rules. (moto's own
//! `ConsumedCapacity` is a placeholder, not computed from sizes: see [`moto_answer`].)
//!
//! The rules (on-demand, "read/write request units" in DynamoDB's developer guide):
//! a write costs 1 unit per KB of the item (rounded up), twice that in a transaction; a
//! read costs 1 unit per 4 KB for a strongly consistent read and half that for an
//! eventually consistent one, twice that in a transaction; a Query or a Scan adds up the
//! items it read before rounding, a GetItem and each key of a BatchGetItem round each
//! item; a read of nothing still costs the minimum.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// One request sent to DynamoDB and its answer, as DynamoDB's JSON.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The operation (`GetItem`, `Query`, …).
    pub operation: String,
    pub request: Value,
    /// `Null` until the answer arrives.
    pub response: Value,
}

/// Which recorded exchange an operation's attempt is, kept in its configuration bag
/// between sending and answering.
#[derive(Debug)]
struct Attempt(usize);

impl Storable for Attempt {
    type Storer = StoreReplace<Self>;
}

/// Records every request a client sends (every attempt, as DynamoDB bills them) and its
/// answer.
#[derive(Debug, Default, Clone)]
pub struct Recorder(Arc<Mutex<Vec<Exchange>>>);

fn json(bytes: Option<&[u8]>) -> Value {
    bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "request recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown")
            .trim_start_matches("DynamoDB_20120810.")
            .to_owned();
        let mut exchanges = self.0.lock().map_err(|_| "recorder poisoned")?;
        cfg.interceptor_state().store_put(Attempt(exchanges.len()));
        exchanges.push(Exchange {
            operation,
            request: json(request.body().bytes()),
            response: Value::Null,
        });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Attempt(index)) = cfg.load::<Attempt>() {
            let mut exchanges = self.0.lock().map_err(|_| "recorder poisoned")?;
            if let Some(exchange) = exchanges.get_mut(*index) {
                exchange.response = json(context.response().body().bytes());
            }
        }
        Ok(())
    }
}

impl Recorder {
    /// What was recorded since the last call.
    pub fn take(&self) -> Vec<Exchange> {
        self.0
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

/// Requests by operation.
pub fn requests(exchanges: &[Exchange]) -> BTreeMap<String, usize> {
    let mut by_operation = BTreeMap::new();
    for exchange in exchanges {
        *by_operation.entry(exchange.operation.clone()).or_default() += 1;
    }
    by_operation
}

/// Write and read request units.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Units {
    pub write: f64,
    pub read: f64,
}

/// The units of some requests, and what had to be assumed to count them.
#[derive(Debug, Default)]
pub struct Bill {
    pub units: Units,
    pub assumptions: BTreeSet<String>,
}

/// The size of an item after an update, by the item's key (as DynamoDB's JSON): an
/// UpdateItem is billed on the larger of the item before and after, and the answer of
/// one that returns no values does not say.
pub type SizesAfter = HashMap<String, usize>;

/// The canonical text of an item's key, for [`SizesAfter`].
pub fn key_text(key: &Value) -> String {
    key.to_string()
}

/// The keys of the items `exchanges` updated.
pub fn updated_keys(exchanges: &[Exchange]) -> Vec<Value> {
    exchanges
        .iter()
        .filter(|e| e.operation == "UpdateItem")
        .filter_map(|e| e.request.get("Key").cloned())
        .collect()
}

/// What `exchanges` cost in request units.
pub fn bill(exchanges: &[Exchange], sizes_after: &SizesAfter) -> anyhow::Result<Bill> {
    let mut bill = Bill::default();
    for exchange in exchanges {
        let units = units(exchange, sizes_after, &mut bill.assumptions)?;
        bill.units.write += units.write;
        bill.units.read += units.read;
    }
    Ok(bill)
}

const KB: usize = 1024;

/// Write units of one item of `size` bytes outside a transaction.
fn write_units(size: usize) -> f64 {
    size.div_ceil(KB).max(1) as f64
}

/// Read units of `size` bytes read at once (at least the minimum), strongly consistent.
fn read_units(size: usize) -> f64 {
    size.div_ceil(4 * KB).max(1) as f64
}

/// 1 for a strongly consistent read, ½ for an eventually consistent one (the default).
fn consistency(spec: &Value) -> f64 {
    if spec.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
        1.0
    } else {
        0.5
    }
}

fn items(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

fn item_size_of(value: Option<&Value>) -> Option<usize> {
    value.and_then(Value::as_object).map(item_size)
}

fn units(
    exchange: &Exchange,
    sizes_after: &SizesAfter,
    assumptions: &mut BTreeSet<String>,
) -> anyhow::Result<Units> {
    let (request, response) = (&exchange.request, &exchange.response);
    let mut units = Units::default();
    match exchange.operation.as_str() {
        "GetItem" => {
            let size = item_size_of(response.get("Item")).unwrap_or(0);
            units.read = read_units(size) * consistency(request);
        }
        "BatchGetItem" => {
            let tables = request.get("RequestItems").and_then(Value::as_object);
            for (table, spec) in tables.into_iter().flatten() {
                let keys = spec
                    .get("Keys")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let unprocessed = response
                    .pointer(&format!("/UnprocessedKeys/{table}/Keys"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let found: Vec<usize> = items(response.pointer(&format!("/Responses/{table}")))
                    .map(item_size)
                    .collect();
                // Each key as its own GetItem: a missing item costs the minimum.
                let missing = keys.saturating_sub(unprocessed).saturating_sub(found.len());
                let read: f64 = found.iter().map(|s| read_units(*s)).sum::<f64>() + missing as f64;
                units.read += read * consistency(spec);
            }
        }
        "Query" | "Scan" => {
            let size: usize = items(response.get("Items")).map(item_size).sum();
            units.read = read_units(size) * consistency(request);
        }
        "TransactGetItems" => {
            for answer in items(response.get("Responses")) {
                let size = item_size_of(answer.get("Item")).unwrap_or(0);
                units.read += 2.0 * read_units(size);
            }
        }
        "PutItem" => {
            let size = item_size_of(request.get("Item")).unwrap_or(0);
            units.write = write_units(size);
            assumptions
                .insert("a PutItem that replaces an item is counted on the new item's size".into());
        }
        "UpdateItem" => {
            let key = request.get("Key").map(key_text).unwrap_or_default();
            let size = sizes_after.get(&key).copied().ok_or_else(|| {
                anyhow::anyhow!("the size after an UpdateItem of {key} was not read back")
            })?;
            units.write = write_units(size);
        }
        "DeleteItem" => match item_size_of(response.get("Attributes")) {
            Some(size) => units.write = write_units(size),
            None => {
                units.write = 1.0;
                assumptions.insert("a DeleteItem is counted as deleting under 1 KB".into());
            }
        },
        "BatchWriteItem" => {
            let written = |requests: Option<&Value>, assumptions: &mut BTreeSet<String>| {
                let tables = requests.and_then(Value::as_object);
                let mut write = 0.0;
                for writes in tables.into_iter().flat_map(|t| t.values()) {
                    for one in items(Some(writes)) {
                        write +=
                            match item_size_of(one.get("PutRequest").and_then(|p| p.get("Item"))) {
                                Some(size) => write_units(size),
                                None => {
                                    assumptions.insert(
                                        "a delete in a BatchWriteItem is counted as under 1 KB"
                                            .into(),
                                    );
                                    1.0
                                }
                            };
                    }
                }
                write
            };
            units.write = written(request.get("RequestItems"), assumptions)
                - written(response.get("UnprocessedItems"), assumptions);
        }
        "TransactWriteItems" => {
            for one in items(request.get("TransactItems")) {
                units.write += 2.0
                    * match item_size_of(one.get("Put").and_then(|p| p.get("Item"))) {
                        Some(size) => write_units(size),
                        None => {
                            assumptions.insert(
                                "an update, delete or condition check in a transaction is \
                                 counted as under 1 KB"
                                    .into(),
                            );
                            1.0
                        }
                    };
            }
        }
        other => anyhow::bail!("no billing rule for the DynamoDB operation {other}"),
    }
    Ok(units)
}

/// The size DynamoDB bills for an item: each attribute's name and value in bytes.
pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// A value's size: strings and binaries by their bytes, numbers by their significant
/// digits (1 byte per 2, plus 1), booleans and nulls 1 byte, lists and maps 3 bytes plus
/// 1 per element.
fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(0, number_size),
        "B" => inner.as_str().map_or(0, binary_size),
        "BOOL" | "NULL" => 1,
        "SS" => strings(inner).iter().map(String::len).sum(),
        "NS" => strings(inner).iter().map(|n| number_size(n)).sum(),
        "BS" => strings(inner).iter().map(|b| binary_size(b)).sum(),
        "L" => {
            3 + inner
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| 1 + value_size(e))
                .sum::<usize>()
        }
        "M" => {
            3 + inner
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, e)| name.len() + 1 + value_size(e))
                .sum::<usize>()
        }
        _ => 0,
    }
}

fn number_size(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.max(1).div_ceil(2) + 1
}

/// The length of base64 text once decoded.
fn binary_size(base64: &str) -> usize {
    base64.trim_end_matches('=').len() * 3 / 4
}

/// An item (or a key) in DynamoDB's JSON as the SDK's attribute values (strings and
/// numbers: all the bench writes).
pub fn attributes(item: &Map<String, Value>) -> anyhow::Result<HashMap<String, AttributeValue>> {
    item.iter()
        .map(|(name, value)| {
            let text = |kind: &str| value.get(kind).and_then(Value::as_str).map(str::to_owned);
            let value = match (text("S"), text("N")) {
                (Some(s), _) => AttributeValue::S(s),
                (_, Some(n)) => AttributeValue::N(n),
                _ => anyhow::bail!("{name} is neither a string nor a number"),
            };
            Ok((name.clone(), value))
        })
        .collect()
}

/// What moto answers when asked for `ConsumedCapacity` on a strongly consistent GetItem
/// of an item of several KB, beside what DynamoDB's rules charge for it.
#[derive(Debug)]
pub struct MotoAnswer {
    pub item_bytes: usize,
    pub moto_units: Option<f64>,
    pub rule_units: f64,
}

/// Asks moto (at `client`) for `ConsumedCapacity` on a read whose cost the rules fix.
pub async fn moto_answer(client: &aws_sdk_dynamodb::Client) -> anyhow::Result<MotoAnswer> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ReturnConsumedCapacity,
        ScalarAttributeType,
    };
    let table = "capacity-probe";
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await?;
    let data = "x".repeat(6_000);
    let item = Map::from_iter([
        ("id".to_owned(), serde_json::json!({"S": "probe"})),
        ("data".to_owned(), serde_json::json!({"S": data})),
    ]);
    client
        .put_item()
        .table_name(table)
        .item("id", AttributeValue::S("probe".into()))
        .item("data", AttributeValue::S(data))
        .send()
        .await?;
    let read = client
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S("probe".into()))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await?;
    let item_bytes = item_size(&item);
    Ok(MotoAnswer {
        item_bytes,
        moto_units: read.consumed_capacity().and_then(|c| c.capacity_units()),
        rule_units: read_units(item_bytes),
    })
}
