//! The WebSocket handlers on API Gateway events shaped as API Gateway sends them
//! (`tests/fixtures/`): the authorizer allows a good ticket once and denies the rest,
//! `$connect` records the connection, a `send` frame is stored and pushed, `$disconnect`
//! forgets the connection.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
};
use console_domain::model::Identity;
use console_domain::ports::{ChatStore, ConnectionStore};
use console_domain::testing::RecordingPusher;
use console_domain::{Chat, ConnectionId, PushOutcome};
use console_handlers::clock::SystemClock;
use console_handlers::websocket::{authorize, handle, is_allowed};
use console_handlers::{App, TokenAuthority};
use console_store_embedded::EmbeddedStore;
use std::sync::{Arc, Mutex};

struct World {
    _dir: tempfile::TempDir,
    store: Arc<EmbeddedStore>,
    pusher: Arc<RecordingPusher>,
    app: App,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).expect("store"));
    let directory = console_domain::directory::parse(
        r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
            {"id":"ann","name":"Ann Lee","group":"sales","role":"agent"},
            {"id":"bob","name":"Bob Stone","group":"sales","role":"agent"}]}]}"#,
    )
    .expect("directory");
    console_domain::directory::import(store.as_ref(), directory)
        .await
        .expect("import");
    let pusher = Arc::new(RecordingPusher::new());
    let app = App {
        store: store.clone(),
        pusher: pusher.clone(),
        clock: Arc::new(SystemClock),
        order: Arc::new(console_domain::Unordered),
        tokens: TokenAuthority::new(&[3; 32]),
        dev_sign_in: false,
        send_quota: console_domain::service::SEND_QUOTA,
    };
    World {
        _dir: dir,
        store,
        pusher,
        app,
    }
}

impl World {
    /// Ann and Bob's chat `c-1`, open.
    async fn open_chat_c1(&self) {
        let chat = Chat::new(
            "acme".into(),
            "c-1".into(),
            "ann".into(),
            "bob".into(),
            1,
            None,
        );
        self.store.open_chat(&chat).await.expect("chat");
    }
}

fn fixture<T: serde::de::DeserializeOwned>(name: &str, replace: &[(&str, &str)]) -> T {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(path).expect("fixture");
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).expect("an API Gateway event")
}

#[tokio::test]
async fn the_authorizer_allows_a_ticket_once_and_passes_the_identity_on() {
    let world = world().await;
    let ann = Identity {
        tenant: "acme".into(),
        agent: "ann".into(),
    };
    let ticket = world
        .app
        .service()
        .issue_ticket(&ann)
        .await
        .expect("ticket");
    let request: ApiGatewayCustomAuthorizerRequestTypeRequest =
        fixture("ws-authorizer.json", &[("TICKET", &ticket.id)]);
    let allowed = authorize(request.clone(), &world.app).await;
    assert!(is_allowed(&allowed));
    assert_eq!(allowed.context["tenant"], "acme");
    assert_eq!(allowed.context["agent"], "ann");
    assert_eq!(
        allowed.policy_document.statement[0].resource,
        vec!["arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/$connect".to_owned()]
    );
    let again = authorize(request, &world.app).await;
    assert!(!is_allowed(&again), "a ticket opens one connection only");
    let forged: ApiGatewayCustomAuthorizerRequestTypeRequest =
        fixture("ws-authorizer.json", &[("TICKET", "made-up")]);
    assert!(!is_allowed(&authorize(forged, &world.app).await));
}

#[tokio::test]
async fn connect_send_and_disconnect_events_do_what_api_gateway_routes_them_to() {
    let world = world().await;
    let connect: ApiGatewayWebsocketProxyRequest = fixture("ws-connect.json", &[]);
    assert_eq!(handle(connect, &world.app).await.status_code, 200);
    let connection = ConnectionId("Q1pA7cWDjoECJ7w=".into());
    assert_eq!(
        world
            .store
            .connection(&connection)
            .await
            .expect("read")
            .map(|c| c.agent.to_string()),
        Some("ann".to_owned())
    );

    world.open_chat_c1().await;
    let send: ApiGatewayWebsocketProxyRequest = fixture("ws-send.json", &[("CHAT", "c-1")]);
    assert_eq!(handle(send, &world.app).await.status_code, 200);
    let stored = world
        .store
        .messages(&"acme".into(), &"c-1".into(), 0, 10)
        .await
        .expect("messages");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, "Can you take a transfer?");
    let pushed = world.pusher.pushed();
    assert!(
        pushed
            .iter()
            .any(|(c, p)| *c == connection && p.contains(r#""type":"ack""#)),
        "{pushed:?}"
    );

    let unknown: ApiGatewayWebsocketProxyRequest = fixture(
        "ws-send.json",
        &[(
            "\\\"action\\\":\\\"send\\\"",
            "\\\"action\\\":\\\"dance\\\"",
        )],
    );
    handle(unknown, &world.app).await;
    let last = world.pusher.pushed().pop();
    assert!(last.is_some_and(|(_, p)| p.contains("unknown_action")));

    let disconnect: ApiGatewayWebsocketProxyRequest = fixture("ws-disconnect.json", &[]);
    assert_eq!(handle(disconnect, &world.app).await.status_code, 200);
    assert!(
        world
            .store
            .connection(&connection)
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn an_event_without_an_authorizer_identity_is_refused() {
    let world = world().await;
    let mut connect: ApiGatewayWebsocketProxyRequest = fixture("ws-connect.json", &[]);
    connect.request_context.authorizer.fields.clear();
    assert_eq!(handle(connect, &world.app).await.status_code, 403);
}

/// A log written into memory, to read back.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_failed_push_is_logged_once_naming_the_event_it_was_for() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let world = world().await;
    let connect: ApiGatewayWebsocketProxyRequest = fixture("ws-connect.json", &[]);
    handle(connect, &world.app).await;
    world.open_chat_c1().await;
    // Ann's is the only connection: every push fails.
    world.pusher.answer(
        &ConnectionId("Q1pA7cWDjoECJ7w=".into()),
        PushOutcome::Failed("API Gateway answered 500".into()),
    );
    let send: ApiGatewayWebsocketProxyRequest = fixture("ws-send.json", &[("CHAT", "c-1")]);
    assert_eq!(handle(send, &world.app).await.status_code, 200);
    let text = String::from_utf8(log.0.lock().expect("lock").clone()).expect("UTF-8");
    let failed: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "a push failed")
        .collect();
    assert_eq!(failed.len(), 1, "the acknowledgement's push, once: {text}");
    let line = &failed[0];
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["fields"]["connection"], "Q1pA7cWDjoECJ7w=");
    assert_eq!(line["fields"]["error"], "API Gateway answered 500");
    assert_eq!(line["span"]["name"], "ws");
    assert_eq!(line["span"]["route"], "send");
    assert_eq!(line["span"]["tenant"], "acme");
    assert_eq!(line["span"]["agent"], "ann");
    assert_eq!(line["span"]["connection"], "Q1pA7cWDjoECJ7w=");
}
