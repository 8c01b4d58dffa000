//! The Lambda functions' handlers, wired exactly as in AWS (`console_lambdas::app_with`:
//! the DynamoDB store, the API Gateway management API pusher), run behind the local
//! server's API Gateway emulator against moto (DynamoDB) and the emulator's own
//! `@connections` endpoint, with several real WebSocket clients.

#[path = "../../store-dynamo/tests/moto/mod.rs"]
mod moto;
mod support;

use console_domain::ports::{ConnectionStore, DirectoryStore};
use console_domain::{Connection, ConnectionId};
use console_lambdas::settings::Settings;
use console_local::{Backend, Config, RunningServer};
use console_store_dynamo::{DynamoStore, create_table};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use support::{now_ms, token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const SECRET: &str = "a test secret of at least thirty-two bytes";
const TABLE: &str = "console";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The functions' handlers behind the emulator, over a fresh table holding a directory.
async fn functions(moto: &moto::Moto) -> (tempfile::TempDir, RunningServer, DynamoStore) {
    let client = moto::client(&moto.url).await;
    create_table(&client, TABLE).await.expect("table");
    let store = DynamoStore::new(client, TABLE);
    let directory = console_domain::directory::parse(
        r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
            {"id":"ann","name":"Ann Archer","group":"sales","role":"agent"},
            {"id":"bob","name":"Bob Baker","group":"sales","role":"agent"}]}]}"#,
    )
    .expect("a directory");
    console_domain::directory::import(&store, directory)
        .await
        .expect("imported");
    let aws = moto::config(&moto.url).await;
    let data = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("no-console"),
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    };
    let backend = Backend::Functions(Box::new(move |url: String| {
        Box::pin(async move {
            let settings = Settings::from_lookup(|name| match name {
                "TABLE_NAME" => Some(TABLE.into()),
                "WEBSOCKET_MANAGEMENT_ENDPOINT" => Some(url.clone()),
                "TOKEN_SECRET" => Some(SECRET.into()),
                _ => None,
            })?;
            console_lambdas::app_with(&settings, &aws).await
        })
    }));
    let server = console_local::start_with(config, backend)
        .await
        .expect("the emulator starts");
    (data, server, store)
}

async fn http(addr: SocketAddr, method: &str, path: &str, token: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    let status = text[9..12].parse().expect("status code");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Opens a socket with a ticket from the HTTP function and says hello.
async fn console(addr: SocketAddr, agent: &str) -> Socket {
    let (status, body) = http(addr, "POST", "/api/ws-ticket", &token(SECRET, agent)).await;
    assert_eq!(status, 200, "ticket: {body}");
    let url = format!(
        "ws://{addr}/ws?ticket={}",
        body["ticket"].as_str().expect("ticket")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens");
    send(
        &mut socket,
        json!({"action": "hello", "protocol": protocol::PROTOCOL_VERSION, "resume": {}}),
    )
    .await;
    next_of(&mut socket, "welcome").await;
    socket
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .expect("send");
}

async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is open")
            .expect("a good frame");
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).expect("JSON");
            if value["type"] == kind {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn a_message_reaches_both_connections_of_the_recipient_and_a_gone_one_is_forgotten() {
    let moto = moto::start();
    let (_data, server, store) = functions(&moto).await;
    let addr = server.addr;
    let mut ann = console(addr, "ann").await;
    let mut bob_desk = console(addr, "bob").await;
    let mut bob_laptop = console(addr, "bob").await;

    // A connection API Gateway no longer knows: its record is left in the table, as
    // after a crash before `$disconnect` ran.
    let stale = ConnectionId("stale-connection".into());
    store
        .put_connection(&Connection {
            id: stale.clone(),
            tenant: "acme".into(),
            agent: "bob".into(),
            connected_at: now_ms(),
            group: Some("sales".into()),
            supervisor: false,
            check_at: 0,
        })
        .await
        .expect("recorded");

    send(&mut ann, json!({"action": "start_chat", "with": "bob"})).await;
    let started = next_of(&mut ann, "chat_started").await;
    let chat = started["chat"]["id"]
        .as_str()
        .expect("a chat id")
        .to_owned();
    let bodies = [
        "Can you take a transfer?",
        "Billing question, 2 minutes",
        "Thanks!",
    ];
    for (n, body) in bodies.iter().enumerate() {
        send(
            &mut ann,
            json!({"action": "send", "chat_id": chat, "client_msg_id": format!("m{n}"), "body": body}),
        )
        .await;
        let ack = next_of(&mut ann, "ack").await;
        assert_eq!(ack["seq"], n as u64 + 1, "gapless sequence numbers");
    }
    for bob in [&mut bob_desk, &mut bob_laptop] {
        for (n, body) in bodies.iter().enumerate() {
            let message = next_of(bob, "message").await;
            assert_eq!(message["message"]["body"], *body);
            assert_eq!(message["message"]["seq"], n as u64 + 1);
        }
    }

    // The push to the stale connection came back 410 Gone: its record is deleted, and
    // only its — the sender's and the live recipient connections are kept.
    assert_eq!(store.connection(&stale).await.expect("read"), None);
    let bobs = store
        .connections_of(&"acme".into(), &"bob".into())
        .await
        .expect("read");
    assert_eq!(
        bobs.len(),
        2,
        "bob's two live connections are kept: {bobs:?}"
    );
    let anns = store
        .connections_of(&"acme".into(), &"ann".into())
        .await
        .expect("read");
    assert_eq!(anns.len(), 1);

    // Nothing lost: the history in DynamoDB holds every message once, in order.
    let (status, page) = http(
        addr,
        "GET",
        &format!("/api/chats/{chat}/messages"),
        &token(SECRET, "bob"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let stored: Vec<&str> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().expect("a body"))
        .collect();
    assert_eq!(stored, bodies);

    // A retried send is stored once and acknowledged with its first sequence number.
    send(
        &mut ann,
        json!({"action": "send", "chat_id": chat, "client_msg_id": "m0", "body": bodies[0]}),
    )
    .await;
    assert_eq!(next_of(&mut ann, "ack").await["seq"], 1);

    // Closing a socket runs `$disconnect`, which forgets its record.
    bob_laptop.close(None).await.expect("closed");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = store
            .connections_of(&"acme".into(), &"bob".into())
            .await
            .expect("read");
        if left.len() == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {left:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_send_is_never_acknowledged_when_dynamodb_did_not_store_it() {
    let moto = moto::start();
    let (_data, server, _store) = functions(&moto).await;
    let addr = server.addr;
    let mut ann = console(addr, "ann").await;
    let mut bob = console(addr, "bob").await;
    send(&mut ann, json!({"action": "start_chat", "with": "bob"})).await;
    let chat = next_of(&mut ann, "chat_started").await["chat"]["id"]
        .as_str()
        .expect("a chat id")
        .to_owned();
    send(
        &mut ann,
        json!({"action": "send", "chat_id": chat, "client_msg_id": "stored", "body": "first"}),
    )
    .await;
    assert_eq!(next_of(&mut ann, "ack").await["seq"], 1);
    next_of(&mut bob, "message").await;

    // DynamoDB goes away: the send is answered with an error naming it, never an ack,
    // and nothing reaches the recipient.
    drop(moto);
    send(
        &mut ann,
        json!({"action": "send", "chat_id": chat, "client_msg_id": "lost", "body": "second"}),
    )
    .await;
    let answer = loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), ann.next())
            .await
            .expect("an answer within 30 s")
            .expect("open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).expect("JSON");
            if value["type"] == "ack" || value["type"] == "error" {
                break value;
            }
        }
    };
    assert_eq!(
        answer["type"], "error",
        "acknowledged without a store: {answer}"
    );
    assert_eq!(answer["client_msg_id"], "lost");
    let nothing = tokio::time::timeout(Duration::from_millis(500), bob.next()).await;
    assert!(
        !matches!(&nothing, Ok(Some(Ok(Message::Text(t)))) if t.contains("second")),
        "the recipient got an unstored message: {nothing:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_connection_that_died_without_its_disconnect_is_swept_and_its_agent_logged_out() {
    let moto = moto::start();
    let (_data, server, store) = functions(&moto).await;
    let addr = server.addr;
    let mut ann = console(addr, "ann").await;
    // Bob's one tab died and API Gateway's `$disconnect` never came: his record stays,
    // he shows Available, and nothing is pushed to him that could come back Gone.
    let ghost = ConnectionId("ghost-of-bob".into());
    store
        .put_connection(&Connection {
            id: ghost.clone(),
            tenant: "acme".into(),
            agent: "bob".into(),
            connected_at: now_ms() - 20 * 60_000,
            group: Some("sales".into()),
            supervisor: false,
            check_at: now_ms() - 1,
        })
        .await
        .expect("recorded");
    store
        .set_agent_state(
            &"acme".into(),
            &"bob".into(),
            protocol::AgentState::Available,
            now_ms(),
        )
        .await
        .expect("bob shows available");
    // Ann's own connection is due too: it is there, so it is only asked again later.
    let anns = store
        .connections_of(&"acme".into(), &"ann".into())
        .await
        .expect("read");
    let ann_connection = store
        .connection(&anns[0])
        .await
        .expect("read")
        .expect("ann's record");
    assert!(
        store
            .check_later(&ann_connection, now_ms() - 1)
            .await
            .expect("due now")
    );

    // The sweeper, wired as in AWS, asks API Gateway (here the emulator) after both.
    let settings = Settings::from_lookup(|name| match name {
        "TABLE_NAME" => Some(TABLE.into()),
        "WEBSOCKET_MANAGEMENT_ENDPOINT" => Some(format!("http://{addr}")),
        "TOKEN_SECRET" => Some(SECRET.into()),
        _ => None,
    })
    .expect("settings");
    let app = console_lambdas::app_with(&settings, &moto::config(&moto.url).await)
        .await
        .expect("the sweeper's app");
    let before = now_ms();
    assert_eq!(app.service().sweep().await.expect("swept"), (1, 2));

    let told = next_of(&mut ann, "agent").await;
    assert_eq!(told["agent"]["id"], "bob");
    assert_eq!(told["agent"]["state"], "logged_out", "{told}");
    assert_eq!(store.connection(&ghost).await.expect("read"), None);
    let kept = store
        .connection(&ann_connection.id)
        .await
        .expect("read")
        .expect("ann's connection is kept");
    assert!(
        kept.check_at >= before + console_domain::service::CHECK_EVERY_MS,
        "asked again in five minutes"
    );
    assert_eq!(
        app.service().sweep().await.expect("swept again"),
        (0, 0),
        "nothing due"
    );
    server.stop().await;
}
