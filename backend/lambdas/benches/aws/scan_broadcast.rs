//! The connection-Scan broadcast of AWS's serverless WebSocket chat sample
//! (aws-samples/simple-websockets-chat-app, its `sendmessage` function), written here in
//! Rust with the real SDK against moto: on each message, Scan the connections table and
//! post the message to every connection found, deleting a connection API Gateway says is
//! gone. Where the sample reads one Scan page, this follows every page (DynamoDB answers
//! at most 1 MB a page), so that no connection is missed; where it posts all at once,
//! this posts one after the other (the same count).

use crate::capacity::{Recorder, SizesAfter, attributes, item_size};
use crate::connected::{TENANT, agent_ids, connection_id};
use crate::message_cost::Measured;
use crate::moto;
use crate::pushes::Pushes;
use anyhow::Context;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, WriteRequest,
};
use console_domain::testing::RecordingPusher;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// How many BatchWriteItem requests seed the table at once.
const SEEDING_CONCURRENCY: usize = 4;
/// When the connections were made, and when their items expire (epoch ms and s).
const CONNECTED_AT: i64 = 1_767_225_600_000;
const EXPIRES: i64 = CONNECTED_AT / 1000 + 3 * 3600;

/// The connection item: the sample stores the id alone; a contact center's chat needs
/// at least whose connection it is and when it expires, as ours stores them.
fn connection_item(index: usize, agent: &str) -> Map<String, Value> {
    Map::from_iter([
        (
            "connectionId".to_owned(),
            json!({"S": connection_id(index)}),
        ),
        ("tenant".to_owned(), json!({"S": TENANT})),
        ("agent".to_owned(), json!({"S": agent})),
        (
            "connectedAt".to_owned(),
            json!({"N": CONNECTED_AT.to_string()}),
        ),
        ("expires".to_owned(), json!({"N": EXPIRES.to_string()})),
    ])
}

/// The average size of a connection item, in bytes.
pub fn average_item_bytes(connected: usize) -> f64 {
    let agents = agent_ids(connected);
    let total: usize = agents
        .iter()
        .enumerate()
        .map(|(index, agent)| item_size(&connection_item(index, agent)))
        .sum();
    total as f64 / agents.len().max(1) as f64
}

/// Broadcasts one message with `connected` agents connected, on a fresh table of moto
/// at `url`.
pub async fn one_message(url: &str, connected: usize) -> anyhow::Result<Measured> {
    let recorder = Recorder::default();
    let client = moto::client_with(url, |b| b.interceptor(recorder.clone())).await;
    let table = format!("sample-connections-{connected}");
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("connectionId")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("connectionId")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await?;
    let items = agent_ids(connected)
        .iter()
        .enumerate()
        .map(|(index, agent)| attributes(&connection_item(index, agent)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    futures_util::stream::iter(items.chunks(25))
        .map(|chunk| write_batch(&client, &table, chunk))
        .buffer_unordered(SEEDING_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;

    let pusher = RecordingPusher::new();
    recorder.take();
    let frame = r#"{"action":"sendmessage","data":"Can you take a transfer? The caller is asking about an invoice."}"#;
    let data = serde_json::from_str::<Value>(frame)?["data"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    send_message(&client, &table, &pusher, &data).await?;
    let pushes = Pushes::of(&pusher.take());
    anyhow::ensure!(
        pushes.posts == connected,
        "the Scan found {} connections of {connected}",
        pushes.posts
    );
    Ok(Measured {
        exchanges: recorder.take(),
        sizes_after: SizesAfter::new(),
        pushes,
    })
}

/// Writes up to 25 items, again until DynamoDB has processed them all.
async fn write_batch(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    items: &[HashMap<String, AttributeValue>],
) -> anyhow::Result<()> {
    let mut pending = items
        .iter()
        .map(|item| {
            Ok(WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item.clone())).build()?)
                .build())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for _ in 0..10 {
        if pending.is_empty() {
            return Ok(());
        }
        let answer = client
            .batch_write_item()
            .request_items(table, std::mem::take(&mut pending))
            .send()
            .await?;
        pending = answer
            .unprocessed_items
            .and_then(|mut u| u.remove(table))
            .unwrap_or_default();
    }
    anyhow::ensure!(pending.is_empty(), "DynamoDB left writes unprocessed");
    Ok(())
}

/// The sample's `sendmessage`: every connection in the table gets `data`.
async fn send_message(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pusher: &dyn Pusher,
    data: &str,
) -> anyhow::Result<()> {
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .context("Scan")?;
        for item in page.items() {
            let Some(AttributeValue::S(id)) = item.get("connectionId") else {
                continue;
            };
            if let PushOutcome::Gone = pusher.post(&ConnectionId(id.clone()), data).await {
                client
                    .delete_item()
                    .table_name(table)
                    .key("connectionId", AttributeValue::S(id.clone()))
                    .send()
                    .await?;
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(());
        }
    }
}
