//! Rate limits on WebSocket frames, through the WebSocket handler on API Gateway events
//! and a clock the test moves: sends per connection (a burst of 30 in each 3-second
//! window), typing per agent and chat (once a second, extra frames dropped quietly),
//! state changes per agent (once per 300 ms). A refused send is not stored, names its
//! `client_msg_id`, and a retry of a stored send is acknowledged even while refused.
//! `hello`s per connection (five in each 10-second window). And what becomes of a
//! connection API Gateway answers `410 Gone` for: forgotten, and the agent Logged Out
//! when it was her last.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use console_domain::model::Identity;
use console_domain::ports::{ChatStore, ConnectionStore};
use console_domain::service::SEND_QUOTA;
use console_domain::testing::{ManualClock, RecordingPusher};
use console_domain::{Chat, ConnectionId};
use console_handlers::websocket::handle;
use console_handlers::{App, TokenAuthority};
use console_store_embedded::EmbeddedStore;
use serde_json::{Value, json};
use std::sync::Arc;

struct World {
    _dir: tempfile::TempDir,
    store: Arc<EmbeddedStore>,
    pusher: Arc<RecordingPusher>,
    clock: Arc<ManualClock>,
    app: App,
}

/// The start of a quota window, far from the epoch.
const T0: i64 = 1_800_000_000_000 - 1_800_000_000_000 % SEND_QUOTA.window_ms;

async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).expect("store"));
    let directory = console_domain::directory::parse(
        r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
            {"id":"ann","name":"Ann Lee","group":"sales","role":"agent"},
            {"id":"bob","name":"Bob Stone","group":"sales","role":"agent"},
            {"id":"cara","name":"Cara Diaz","group":"sales","role":"agent"}]}]}"#,
    )
    .expect("directory");
    console_domain::directory::import(store.as_ref(), directory)
        .await
        .expect("import");
    let pusher = Arc::new(RecordingPusher::new());
    let clock = Arc::new(ManualClock::new(T0));
    let app = App {
        store: store.clone(),
        pusher: pusher.clone(),
        clock: clock.clone(),
        order: Arc::new(console_domain::Unordered),
        tokens: TokenAuthority::new(&[5; 32]),
        dev_sign_in: false,
        send_quota: SEND_QUOTA,
    };
    for (connection, agent) in [
        ("ann-1", "ann"),
        ("ann-2", "ann"),
        ("bob-1", "bob"),
        ("cara-1", "cara"),
    ] {
        handle(event(connection, agent, None), &app).await;
    }
    store
        .open_chat(&Chat::new(
            "acme".into(),
            "c1".into(),
            "ann".into(),
            "bob".into(),
            T0,
            None,
        ))
        .await
        .expect("chat");
    store
        .open_chat(&Chat::new(
            "acme".into(),
            "c2".into(),
            "cara".into(),
            "ann".into(),
            T0,
            None,
        ))
        .await
        .expect("chat");
    pusher.take();
    World {
        _dir: dir,
        store,
        pusher,
        clock,
        app,
    }
}

/// A WebSocket event from `connection` of `agent`, as API Gateway sends it: `$connect`
/// without a frame, the frame's action route with one.
fn event(connection: &str, agent: &str, frame: Option<Value>) -> ApiGatewayWebsocketProxyRequest {
    let path = format!("{}/tests/fixtures/ws-send.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: ApiGatewayWebsocketProxyRequest =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("event");
    let context = &mut event.request_context;
    context.connection_id = Some(connection.into());
    context
        .authorizer
        .fields
        .insert("agent".into(), json!(agent));
    context.route_key = Some(match &frame {
        Some(frame) => frame["action"].as_str().unwrap_or("$default").to_owned(),
        None => "$connect".into(),
    });
    event.body = frame.map(|f| f.to_string());
    event
}

impl World {
    async fn frame(&self, connection: &str, agent: &str, frame: Value) -> Vec<Value> {
        handle(event(connection, agent, Some(frame)), &self.app).await;
        self.taken(connection)
    }

    /// Takes the frames pushed to `connection` so far.
    fn taken(&self, connection: &str) -> Vec<Value> {
        self.pusher.take_frames_to(&ConnectionId(connection.into()))
    }

    async fn send(&self, connection: &str, chat: &str, client_msg_id: &str) -> Vec<Value> {
        let frame = json!({"action": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": format!("line {client_msg_id}")});
        self.frame(connection, "ann", frame).await
    }

    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    async fn stored(&self, chat: &str) -> Vec<String> {
        self.store
            .messages(&"acme".into(), &chat.into(), 0, 1000)
            .await
            .expect("messages")
            .into_iter()
            .map(|m| m.client_msg_id)
            .collect()
    }
}

fn of_type<'a>(frames: &'a [Value], kind: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == kind).collect()
}

#[tokio::test]
async fn a_connection_sends_a_burst_of_30_then_waits_for_the_next_window_and_nothing_refused_is_stored()
 {
    let world = world().await;
    assert_eq!((SEND_QUOTA.max, SEND_QUOTA.window_ms), (30, 3_000));
    for i in 1..=30 {
        world.advance(10);
        let frames = world.send("ann-1", "c1", &format!("m{i}")).await;
        let acks = of_type(&frames, "ack");
        assert_eq!(acks.len(), 1, "send {i} of the burst is acknowledged");
        assert_eq!(acks[0]["seq"], i);
    }
    world.taken("bob-1");

    world.advance(10);
    let refused = world.send("ann-1", "c1", "m31").await;
    assert_eq!(refused.len(), 1, "only the refusal: {refused:?}");
    assert_eq!(refused[0]["type"], "error");
    assert_eq!(refused[0]["code"], "rate_limited");
    assert_eq!(
        refused[0]["client_msg_id"], "m31",
        "the console knows which send to retry"
    );
    let message = refused[0]["message"].as_str().expect("a message");
    assert!(
        message.contains("30") && message.contains("not sent"),
        "a clear message: {message}"
    );
    assert_eq!(
        world.stored("c1").await.len(),
        30,
        "the refused send is not stored"
    );
    assert!(
        world.taken("bob-1").is_empty(),
        "Bob receives nothing of a refused send"
    );

    // Another chat of the same connection is limited too: the quota is the connection's.
    let other_chat = world.send("ann-1", "c2", "x1").await;
    assert_eq!(other_chat[0]["code"], "rate_limited");

    // A retry of a stored send is acknowledged again, limit or not, and stored once.
    let retry = world.send("ann-1", "c1", "m5").await;
    let ack = retry.last().expect("an answer");
    assert_eq!(
        (ack["type"].clone(), ack["seq"].clone()),
        (json!("ack"), json!(5)),
        "{retry:?}"
    );
    assert!(
        retry
            .iter()
            .all(|frame| frame["type"] != "message" || frame["message"]["seq"] == 5),
        "{retry:?}"
    );
    // It is delivered again under its own sequence number (the attempt that stored it
    // may have failed before its pushes); consoles keep one copy per sequence number.
    let again: Vec<_> = world
        .taken("bob-1")
        .into_iter()
        .filter(|frame| frame["type"] == "message")
        .collect();
    assert!(
        again.iter().all(|frame| frame["message"]["seq"] == 5),
        "nothing but the same message again: {again:?}"
    );

    // Her other console has its own quota.
    let elsewhere = world.send("ann-2", "c1", "n1").await;
    assert_eq!(of_type(&elsewhere, "ack")[0]["seq"], 31);

    // The next window takes the refused send.
    world.advance(SEND_QUOTA.window_ms);
    let later = world.send("ann-1", "c1", "m31").await;
    assert_eq!(of_type(&later, "ack")[0]["seq"], 32);
    let stored = world.stored("c1").await;
    assert_eq!(stored.len(), 32);
    assert_eq!(stored.iter().filter(|id| *id == "m31").count(), 1);
}

#[tokio::test]
async fn bad_sends_are_refused_for_what_they_are_before_any_quota_is_counted() {
    let world = world().await;
    for i in 0..40 {
        let frames = world
            .frame(
                "ann-1",
                "ann",
                json!({"action": "send", "chat_id": "c1", "client_msg_id": format!("e{i}"), "body": " "}),
            )
            .await;
        assert_eq!(frames[0]["code"], "empty_message");
    }
    let frames = world.send("ann-1", "c1", "m1").await;
    assert_eq!(
        of_type(&frames, "ack").len(),
        1,
        "malformed sends cost no quota: {frames:?}"
    );
}

#[tokio::test]
async fn typing_is_passed_on_once_a_second_per_chat_and_extra_frames_are_dropped_quietly() {
    let world = world().await;
    let typing = json!({"action": "typing", "chat_id": "c1"});
    assert!(world.frame("ann-1", "ann", typing.clone()).await.is_empty());
    world.advance(100);
    assert!(
        world.frame("ann-2", "ann", typing.clone()).await.is_empty(),
        "no error: dropped quietly"
    );
    let to_bob = world.taken("bob-1");
    assert_eq!(
        of_type(&to_bob, "typing").len(),
        1,
        "one per second per agent and chat, whichever of her consoles types"
    );
    world
        .frame("ann-1", "ann", json!({"action": "typing", "chat_id": "c2"}))
        .await;
    assert_eq!(
        of_type(&world.taken("cara-1"), "typing").len(),
        1,
        "another chat is counted apart"
    );
    world.advance(1_000);
    world.frame("ann-1", "ann", typing).await;
    assert_eq!(of_type(&world.taken("bob-1"), "typing").len(), 1);
}

#[tokio::test]
async fn an_agent_changes_state_at_most_once_per_300_ms_from_any_of_her_consoles() {
    let world = world().await;
    let mine = world
        .frame(
            "ann-1",
            "ann",
            json!({"action": "set_state", "state": "busy"}),
        )
        .await;
    assert_eq!(of_type(&mine, "agent").len(), 1, "{mine:?}");
    world.advance(100);
    let refused = world
        .frame(
            "ann-2",
            "ann",
            json!({"action": "set_state", "state": "on_break"}),
        )
        .await;
    let errors = of_type(&refused, "error");
    assert_eq!(errors.len(), 1, "{refused:?}");
    assert_eq!(errors[0]["code"], "rate_limited");
    let agent = |who: &str| Identity {
        tenant: "acme".into(),
        agent: who.into(),
    };
    let ann = world.app.service().agent(&agent("ann")).await.expect("ann");
    assert_eq!(
        ann.state,
        protocol::AgentState::Busy,
        "the refused change was not stored"
    );
    world.advance(200);
    let later = world
        .frame(
            "ann-2",
            "ann",
            json!({"action": "set_state", "state": "on_break"}),
        )
        .await;
    assert!(of_type(&later, "error").is_empty(), "{later:?}");
    // Bob's changes are his own.
    let bob = world
        .frame(
            "bob-1",
            "bob",
            json!({"action": "set_state", "state": "busy"}),
        )
        .await;
    assert!(of_type(&bob, "error").is_empty(), "{bob:?}");
}

#[tokio::test]
async fn a_connection_says_hello_five_times_in_ten_seconds_at_most() {
    let world = world().await;
    let hello = json!({"action": "hello", "protocol": protocol::PROTOCOL_VERSION, "resume": {}});
    for n in 1..=5 {
        world.advance(100);
        let frames = world.frame("ann-1", "ann", hello.clone()).await;
        assert_eq!(
            of_type(&frames, "welcome").len(),
            1,
            "hello {n} is welcomed"
        );
    }
    let refused = world.frame("ann-1", "ann", hello.clone()).await;
    assert_eq!(of_type(&refused, "error")[0]["code"], "rate_limited");
    assert!(
        of_type(&refused, "welcome").is_empty(),
        "nothing is sent again"
    );
    let other = world.frame("ann-2", "ann", hello.clone()).await;
    assert_eq!(
        of_type(&other, "welcome").len(),
        1,
        "counted per connection"
    );
    world.advance(10_000);
    let later = world.frame("ann-1", "ann", hello).await;
    assert_eq!(
        of_type(&later, "welcome").len(),
        1,
        "welcomed in the next window"
    );
}

#[tokio::test]
async fn connections_api_gateway_reports_gone_are_forgotten_and_their_agent_logged_out() {
    let world = world().await;
    // Ann's two consoles went away and their $disconnect never came.
    for gone in ["ann-1", "ann-2"] {
        world.pusher.gone(&ConnectionId(gone.into()));
    }
    let frames = world
        .frame(
            "bob-1",
            "bob",
            json!({"action": "send", "chat_id": "c1", "client_msg_id": "b1", "body": "Still there?"}),
        )
        .await;
    assert_eq!(of_type(&frames, "ack").len(), 1, "the message is stored");
    let ann_seen_by_bob: Vec<&Value> = of_type(&frames, "agent")
        .into_iter()
        .filter(|frame| frame["agent"]["id"] == "ann")
        .collect();
    assert_eq!(ann_seen_by_bob.len(), 1, "bob is told once: {frames:?}");
    assert_eq!(ann_seen_by_bob[0]["agent"]["state"], "logged_out");
    let left = world
        .store
        .connections_of(&"acme".into(), &"ann".into())
        .await
        .expect("connections");
    assert!(left.is_empty(), "both records are gone: {left:?}");
    let cara = world.taken("cara-1");
    assert!(
        of_type(&cara, "agent")
            .iter()
            .any(|frame| frame["agent"]["id"] == "ann" && frame["agent"]["state"] == "logged_out"),
        "cara, of ann's group, sees it too: {cara:?}"
    );
}
