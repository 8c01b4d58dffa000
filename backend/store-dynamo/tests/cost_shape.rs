//! What one message costs in DynamoDB requests, with 10, 100 and 1,000 agents connected:
//! the same, because a message counts against its connection's send quota, reads and
//! writes its chat and looks up the connections of its two participants (a Query each),
//! never the connections of everyone; and it reads each participant's count of pending
//! chats as kept (a GetItem each), never her chats. And what one state change costs: the
//! same too, because it finds the connections that see the agent through her group's and
//! the supervisors' (a Query each) and her partners', never every connection of the
//! tenant. Ann and Bob are of sales; everyone else connected is of support.
//! Counted at the client, on every request actually sent to the DynamoDB server (moto).

mod moto;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use console_domain::model::{Agent, Connection, Identity, Tenant};
use console_domain::ports::{ChatStore, ConnectionStore, DirectoryStore};
use console_domain::testing::RecordingPusher;
use console_domain::{Chat, ChatService, Clock, ConnectionId};
use console_store_dynamo::{DynamoStore, create_table};
use protocol::{AgentState, Role};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Counts requests by DynamoDB operation.
#[derive(Debug, Default, Clone)]
struct Counter(Arc<Mutex<BTreeMap<String, usize>>>);

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "request counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let operation = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown")
            .trim_start_matches("DynamoDB_20120810.")
            .to_owned();
        *self.0.lock().expect("lock").entry(operation).or_default() += 1;
        Ok(())
    }

    /// The bytes of every answer, under "bytes read": what grows with the items read.
    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let bytes = context
            .response()
            .headers()
            .get("content-length")
            .and_then(|length| length.parse::<usize>().ok())
            .ok_or("an answer without its length")?;
        *self
            .0
            .lock()
            .expect("lock")
            .entry(BYTES_READ.into())
            .or_default() += bytes;
        Ok(())
    }
}

/// The counter's entry for the bytes of the answers, beside the operations.
const BYTES_READ: &str = "bytes read";

impl Counter {
    fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

struct Clockwork(Mutex<i64>);

impl Clock for Clockwork {
    fn now_ms(&self) -> i64 {
        let mut now = self.0.lock().expect("lock");
        *now += 1;
        *now
    }

    fn new_id(&self) -> String {
        format!("id{}", self.now_ms())
    }
}

/// Requests and pushes of one operation.
type Cost = (BTreeMap<String, usize>, usize);

/// What one message from Ann to Bob costs, then one state change of Ann's, with
/// `connected` agents online.
async fn cost_of_a_message_and_a_state_change(url: &str, connected: usize) -> (Cost, Cost) {
    let counter = Counter::default();
    let client = moto::client_with(url, |b| b.interceptor(counter.clone())).await;
    let table = format!("cost-{connected}");
    create_table(&client, &table).await.expect("table");
    let store = DynamoStore::new(client, table);
    let tenant = Tenant {
        id: "acme".into(),
        name: "Acme".into(),
        response_target_ms: None,
    };
    let agents: Vec<Agent> = ["ann".to_owned(), "bob".to_owned()]
        .into_iter()
        .chain((0..connected.saturating_sub(2)).map(|i| format!("agent{i}")))
        .map(|id| Agent {
            tenant: "acme".into(),
            id: id.as_str().into(),
            name: id.clone(),
            group: if id == "ann" || id == "bob" {
                "sales".into()
            } else {
                "support".into()
            },
            role: Role::Agent,
            state: AgentState::Available,
            state_since: 0,
        })
        .collect();
    store.put_tenant(&tenant, &agents).await.expect("directory");
    // One at a time: moto fails concurrent transactions.
    for agent in &agents {
        store
            .put_connection(&Connection {
                id: ConnectionId(format!("conn-{}", agent.id)),
                tenant: "acme".into(),
                agent: agent.id.clone(),
                connected_at: 1_000_000,
                group: Some(agent.group.clone()),
                supervisor: false,
                check_at: 0,
            })
            .await
            .expect("connection");
    }
    store
        .open_chat(&Chat::new(
            "acme".into(),
            "c1".into(),
            "ann".into(),
            "bob".into(),
            1,
            None,
        ))
        .await
        .expect("chat");
    let pusher = RecordingPusher::new();
    let clock = Clockwork(Mutex::new(2_000_000));
    let service = ChatService {
        store: &store,
        pusher: &pusher,
        clock: &clock,
        order: &console_domain::Unordered,
        send_quota: console_domain::service::SEND_QUOTA,
    };
    let ann = Identity {
        tenant: "acme".into(),
        agent: "ann".into(),
    };
    counter.take();
    service
        .send(
            &ConnectionId("conn-ann".into()),
            &ann,
            &"c1".into(),
            "m1",
            "Can you take a transfer?",
        )
        .await
        .expect("sent");
    let message = (counter.take(), pusher.take().len());
    service
        .set_state(&ann, AgentState::Busy)
        .await
        .expect("state changed");
    let state_change = (counter.take(), pusher.take().len());
    (message, state_change)
}

#[tokio::test]
async fn a_message_and_a_state_change_cost_the_same_with_10_100_and_1000_agents_connected() {
    let moto = moto::start();
    let mut costs = Vec::new();
    let mut state_changes = Vec::new();
    for connected in [10, 100, 1000] {
        let (message, state_change) =
            cost_of_a_message_and_a_state_change(&moto.url, connected).await;
        let (message, state_change) = (Measured::of(message), Measured::of(state_change));
        println!("{connected:>5} agents connected: a message {message:?}");
        println!("{connected:>5} agents connected: a state change {state_change:?}");
        assert!(!message.requests.contains_key("Scan"), "never a Scan");
        costs.push((message.total(), message.requests.clone(), message.pushes));
        state_changes.push(state_change);
    }
    assert_eq!(costs[0], costs[1], "10 vs 100 agents connected");
    assert_eq!(costs[1], costs[2], "100 vs 1,000 agents connected");
    // Pushes: one frame per connection — the message, with the chat's new state, to the
    // recipient's; the acknowledgement, with it, to the sender's.
    assert_eq!(costs[0].2, 2);
    // Requests (issue 14's floor: at most 4): 1 UpdateItem — the sending connection's
    // send quota (docs/protocol.md, "Rate limits"), one conditional update; 1 GetItem
    // (the chat, read by the append, which also checks that the sender takes part); 1
    // TransactWriteItems (the message, its send key — whose condition is the duplicate
    // check — the chat and the counts it moves, at once); 1 BatchGetItem (both
    // participants' directory entries, kept counts of pending chats and connections).
    assert_eq!(
        costs[0].1.get("UpdateItem"),
        Some(&1),
        "the send quota is one UpdateItem"
    );
    assert_eq!(
        costs[0].1.get("BatchGetItem"),
        Some(&1),
        "what telling both participants needs, in one read"
    );
    assert!(
        !costs[0].1.contains_key("Query"),
        "connections are read with the counts, not queried"
    );
    assert_eq!(costs[0].0, 4, "requests per message: {:?}", costs[0].1);
    // The same requests and pushes, answered with as many bytes (but for the table's
    // name, a digit longer each time): nothing of the agents of another group is read.
    for (fewer, more) in [
        (&state_changes[0], &state_changes[1]),
        (&state_changes[1], &state_changes[2]),
    ] {
        assert_eq!(
            (&fewer.requests, fewer.pushes),
            (&more.requests, more.pushes)
        );
        assert!(
            more.bytes.abs_diff(fewer.bytes) <= 16,
            "a state change read {} bytes, then {} with more agents connected",
            fewer.bytes,
            more.bytes
        );
    }
    assert_eq!(
        state_changes[0].pushes, 2,
        "the state change is pushed to the connections that see Ann: hers and Bob's"
    );
}

/// What an operation cost: its requests by operation, the bytes of their answers, and
/// its pushes.
#[derive(Debug)]
struct Measured {
    requests: BTreeMap<String, usize>,
    bytes: usize,
    pushes: usize,
}

impl Measured {
    fn of((mut requests, pushes): Cost) -> Self {
        let bytes = requests.remove(BYTES_READ).unwrap_or_default();
        Measured {
            requests,
            bytes,
            pushes,
        }
    }

    fn total(&self) -> usize {
        self.requests.values().sum()
    }
}
