//! Our design: one message from Ann to Bob through the real `ChatService` over the real
//! `DynamoStore`, against moto, with a number of agents connected — as
//! `backend/store-dynamo/tests/cost_shape.rs` counts it, at larger sizes. Each agent's
//! connection is stored by the store itself (`put_connection`, both of its items).

use crate::capacity::{
    Exchange, Recorder, SizesAfter, attributes, item_size, key_text, updated_keys,
};
use crate::connected::{TENANT, agent_ids, connection_id};
use crate::message_cost::Measured;
use crate::moto;
use crate::pushes::Pushes;
use anyhow::Context;
use console_domain::model::{Agent, Connection, Identity, Tenant};
use console_domain::ports::{ChatStore, ConnectionStore, DirectoryStore};
use console_domain::testing::RecordingPusher;
use console_domain::{Chat, ChatService, Clock, ConnectionId};
use console_store_dynamo::{DynamoStore, create_table};
use futures_util::{StreamExt, TryStreamExt};
use protocol::{AgentState, Role};
use std::sync::Mutex;

/// How many connections are stored at once while seeding.
const SEEDING_CONCURRENCY: usize = 8;

/// A clock that ticks one millisecond per reading.
pub struct Clockwork(Mutex<i64>);

impl Clockwork {
    /// A clock whose first reading is just after `now` (ms).
    pub fn at(now: i64) -> Self {
        Clockwork(Mutex::new(now))
    }
}

impl Clock for Clockwork {
    fn now_ms(&self) -> i64 {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += 1;
        *now
    }

    fn new_id(&self) -> String {
        format!("id{}", self.now_ms())
    }
}

/// Sends one message with `connected` agents connected, on a fresh table of moto at
/// `url`.
pub async fn one_message(url: &str, connected: usize) -> anyhow::Result<Measured> {
    let recorder = Recorder::default();
    let client = moto::client_with(url, |b| b.interceptor(recorder.clone())).await;
    let table = format!("ours-{connected}");
    create_table(&client, &table).await?;
    let store = DynamoStore::new(client, &table);
    let tenant = Tenant {
        id: TENANT.into(),
        name: "Acme".into(),
        response_target_ms: None,
    };
    let agents: Vec<Agent> = agent_ids(connected)
        .into_iter()
        .map(|id| Agent {
            tenant: TENANT.into(),
            id: id.as_str().into(),
            name: id,
            group: "sales".into(),
            role: Role::Agent,
            state: AgentState::Available,
            state_since: 0,
        })
        .collect();
    store.put_tenant(&tenant, &agents).await?;
    let connections: Vec<Connection> = agents
        .iter()
        .enumerate()
        .map(|(index, agent)| Connection {
            id: ConnectionId(connection_id(index)),
            tenant: TENANT.into(),
            agent: agent.id.clone(),
            connected_at: 1_000_000,
            group: Some(agent.group.clone()),
            supervisor: false,
            check_at: 1_000_000 + console_domain::service::CHECK_EVERY_MS,
        })
        .collect();
    // The first alone: it creates the tenant's connections partition, which the others
    // then join.
    if let Some(first) = connections.first() {
        store.put_connection(first).await?;
    }
    futures_util::stream::iter(connections.iter().skip(1))
        .map(|connection| store.put_connection(connection))
        .buffer_unordered(SEEDING_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    let stored = store.connections_in_tenant(&TENANT.into()).await?.len();
    anyhow::ensure!(
        stored == connected,
        "{stored} connections stored of {connected} (ours)"
    );
    store
        .open_chat(&Chat::new(
            TENANT.into(),
            "c1".into(),
            "ann".into(),
            "bob".into(),
            1,
            None,
        ))
        .await?;

    let pusher = RecordingPusher::new();
    let clock = Clockwork::at(2_000_000);
    let service = ChatService {
        store: &store,
        pusher: &pusher,
        clock: &clock,
        order: &console_domain::Unordered,
        send_quota: console_domain::service::SEND_QUOTA,
    };
    let ann = Identity {
        tenant: TENANT.into(),
        agent: "ann".into(),
    };
    recorder.take();
    service
        .send(
            &ConnectionId(connection_id(0)),
            &ann,
            &"c1".into(),
            "m1",
            "Can you take a transfer? The caller is asking about an invoice.",
        )
        .await
        .context("the message was not sent")?;
    let pushes = Pushes::of(&pusher.take());
    let exchanges = recorder.take();
    let sizes_after = sizes_after(url, &exchanges, &table).await?;
    Ok(Measured {
        exchanges,
        sizes_after,
        pushes,
    })
}

/// Reads back the items `exchanges` updated, for their sizes.
pub async fn sizes_after(
    url: &str,
    exchanges: &[Exchange],
    table: &str,
) -> anyhow::Result<SizesAfter> {
    let probe = Recorder::default();
    let client = moto::client_with(url, |b| b.interceptor(probe.clone())).await;
    let mut sizes = SizesAfter::new();
    for key in updated_keys(exchanges) {
        let fields = key.as_object().context("a key is a map")?;
        client
            .get_item()
            .table_name(table)
            .set_key(Some(attributes(fields)?))
            .consistent_read(true)
            .send()
            .await?;
        let answer = probe
            .take()
            .pop()
            .context("the read-back was not recorded")?;
        let item = answer
            .response
            .get("Item")
            .and_then(|i| i.as_object())
            .with_context(|| format!("the updated item {key} is not there"))?;
        sizes.insert(key_text(&key), item_size(item));
    }
    Ok(sizes)
}
