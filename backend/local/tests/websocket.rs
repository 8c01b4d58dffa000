//! WebSocket end-to-end tests: several agents as real WebSocket clients against the local
//! server (the API Gateway emulator, the shared handlers, the embedded store) on a free
//! port of 127.0.0.1.

use console_local::{Config, RunningServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

async fn start(data: &std::path::Path, listen: SocketAddr) -> RunningServer {
    console_local::start(Config {
        listen,
        data_dir: data.to_path_buf(),
        console_dir: data.join("no-console"),
    })
    .await
    .expect("the local server starts")
}

/// A plain HTTP/1.1 request; returns the status and the JSON body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    let status = text[9..12].parse().expect("status code");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn sign_in(addr: SocketAddr, tenant: &str, agent: &str) -> String {
    let (status, body) = http(
        addr,
        "POST",
        "/api/dev/sign-in",
        None,
        &json!({"tenant": tenant, "agent": agent}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "sign-in answered {body}");
    body["token"].as_str().expect("a token").to_owned()
}

async fn ticket(addr: SocketAddr, token: &str) -> String {
    let (status, body) = http(addr, "POST", "/api/ws-ticket", Some(token), "").await;
    assert_eq!(status, 200, "ticket answered {body}");
    body["ticket"].as_str().expect("a ticket").to_owned()
}

/// One console's socket.
struct Console {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Console {
    async fn open(addr: SocketAddr, token: &str) -> Console {
        let url = format!("ws://{addr}/ws?ticket={}", ticket(addr, token).await);
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        Console { socket }
    }

    /// Opens a socket and says hello; returns the console and the welcome frame.
    async fn hello(addr: SocketAddr, token: &str, resume: Value) -> (Console, Value) {
        let mut console = Console::open(addr, token).await;
        console
            .send(json!({"action": "hello", "protocol": 1, "resume": resume}))
            .await;
        let welcome = console.next_of("welcome").await;
        (console, welcome)
    }

    async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a frame within 5 s")
                .expect("the socket is open")
                .expect("a good frame");
            if let Message::Text(text) = frame {
                return serde_json::from_str(&text).expect("JSON");
            }
        }
    }

    /// The next frame of `kind`, skipping others.
    async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts nothing more arrives for a short while.
    async fn nothing_more(&mut self) {
        let next = tokio::time::timeout(Duration::from_millis(300), self.socket.next()).await;
        assert!(next.is_err(), "expected silence, got {next:?}");
    }
}

async fn start_chat(console: &mut Console, with: &str) -> String {
    console
        .send(json!({"action": "start_chat", "with": with}))
        .await;
    let started = console.next_of("chat_started").await;
    started["chat"]["id"]
        .as_str()
        .expect("a chat id")
        .to_owned()
}

#[tokio::test]
async fn a_message_reaches_every_connection_of_the_recipient_and_is_acknowledged() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (mut bob_desk, _) = Console::hello(addr, &bob, json!({})).await;
    let (mut bob_laptop, _) = Console::hello(addr, &bob, json!({})).await;

    let chat = start_chat(&mut ann_tab, "bob").await;
    let opened = bob_desk.next_of("chat").await;
    assert_eq!(
        opened["chat"]["with"]["id"], "ann",
        "the chat arrives by itself, nothing to accept"
    );
    ann_tab
        .send(json!({"action": "send", "chat_id": chat, "client_msg_id": "m1", "body": "Can you take a transfer?"}))
        .await;
    let ack = ann_tab.next_of("ack").await;
    assert_eq!(
        (ack["client_msg_id"].clone(), ack["seq"].clone()),
        (json!("m1"), json!(1))
    );
    for console in [&mut bob_desk, &mut bob_laptop] {
        let message = console.next_of("message").await;
        assert_eq!(message["message"]["body"], "Can you take a transfer?");
        assert_eq!(message["message"]["seq"], 1);
        let update = console.next_of("chat").await;
        assert_eq!(
            update["chat"]["pending"], true,
            "the chat now requires Bob's response"
        );
        assert_eq!(update["pending_chats"], 1);
    }

    bob_desk
        .send(json!({"action": "send", "chat_id": chat, "client_msg_id": "r1", "body": "Yes"}))
        .await;
    assert_eq!(bob_desk.next_of("ack").await["seq"], 2);
    let update = bob_laptop.next_of("chat").await;
    assert_eq!(
        update["pending_chats"], 0,
        "responding clears the pending state on every tab"
    );
    assert_eq!(ann_tab.next_of("message").await["message"]["body"], "Yes");
    server.stop().await;
}

#[tokio::test]
async fn a_retried_send_is_stored_once_and_acknowledged_with_the_same_sequence() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let chat = start_chat(&mut ann_tab, "bob").await;
    let send = json!({"action": "send", "chat_id": chat, "client_msg_id": "same", "body": "once"});
    ann_tab.send(send.clone()).await;
    assert_eq!(ann_tab.next_of("ack").await["seq"], 1);
    ann_tab.send(send).await;
    assert_eq!(
        ann_tab.next_of("ack").await["seq"],
        1,
        "the retry is acknowledged with the first sequence"
    );
    assert_eq!(bob_tab.next_of("message").await["message"]["seq"], 1);
    bob_tab.next_of("chat").await;
    bob_tab.nothing_more().await;

    let (status, page) = http(
        addr,
        "GET",
        &format!("/api/chats/{chat}/messages"),
        Some(&bob),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        page["messages"].as_array().map(Vec::len),
        Some(1),
        "stored once: {page}"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_bad_frame_gets_a_clear_error_and_changes_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr;
    let ann = sign_in(addr, "acme", "ann").await;
    let (mut tab, _) = Console::hello(addr, &ann, json!({})).await;
    let chat = start_chat(&mut tab, "bob").await;
    let long = "x".repeat(protocol::MAX_MESSAGE_BYTES + 1);
    let cases = [
        ("{not json".to_owned(), "bad_request"),
        (json!({"no": "action"}).to_string(), "bad_request"),
        (json!({"action": "dance"}).to_string(), "unknown_action"),
        (
            json!({"action": "send", "chat_id": 7}).to_string(),
            "bad_request",
        ),
        (
            json!({"action": "hello", "protocol": 99}).to_string(),
            "unsupported_protocol",
        ),
        (
            json!({"action": "send", "chat_id": chat, "client_msg_id": "e1", "body": "  "})
                .to_string(),
            "empty_message",
        ),
        (
            json!({"action": "send", "chat_id": chat, "client_msg_id": "e2", "body": long})
                .to_string(),
            "message_too_large",
        ),
        (
            json!({"action": "send", "chat_id": "nope", "client_msg_id": "e3", "body": "hi"})
                .to_string(),
            "not_found",
        ),
        (
            json!({"action": "start_chat", "with": "dan"}).to_string(),
            "forbidden",
        ),
        (
            json!({"action": "start_chat", "with": "gus"}).to_string(),
            "not_found",
        ),
        (
            json!({"action": "start_chat", "with": "ann"}).to_string(),
            "self_chat",
        ),
    ];
    for (frame, code) in cases {
        tab.send_text(frame.clone()).await;
        let error = tab.next_of("error").await;
        assert_eq!(error["code"], code, "frame {frame} answered {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    tab.send(json!({"action": "end", "chat_id": chat})).await;
    tab.next_of("chat").await;
    tab.send(json!({"action": "send", "chat_id": chat, "client_msg_id": "late", "body": "hello?"}))
        .await;
    let error = tab.next_of("error").await;
    assert_eq!(
        (error["code"].clone(), error["client_msg_id"].clone()),
        (json!("chat_ended"), json!("late"))
    );
    let (_, page) = http(
        addr,
        "GET",
        &format!("/api/chats/{chat}/messages"),
        Some(&ann),
        "",
    )
    .await;
    assert_eq!(page["messages"], json!([]), "nothing was stored");
    server.stop().await;
}

#[tokio::test]
async fn a_ticket_opens_one_socket_and_the_http_api_needs_a_genuine_token() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr;
    let ann = sign_in(addr, "acme", "ann").await;
    let once = ticket(addr, &ann).await;
    let url = format!("ws://{addr}/ws?ticket={once}");
    assert!(tokio_tungstenite::connect_async(&url).await.is_ok());
    assert!(
        tokio_tungstenite::connect_async(&url).await.is_err(),
        "a used ticket is refused"
    );
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .is_err()
    );

    let (status, body) = http(addr, "GET", "/api/agents", Some("forged.token.here"), "").await;
    assert_eq!((status, body["code"].clone()), (401, json!("unauthorized")));
    let (status, body) = http(addr, "GET", "/api/agents", Some(&ann), "").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(names, vec!["bob", "cara"], "Ann sees her own group only");
    let sue = sign_in(addr, "acme", "sue").await;
    let (_, body) = http(addr, "GET", "/api/agents", Some(&sue), "").await;
    assert_eq!(
        body["agents"].as_array().map(Vec::len),
        Some(6),
        "a supervisor sees every group of her tenant"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_reconnecting_console_gets_exactly_what_it_missed_even_across_a_restart() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    let chat = start_chat(&mut ann_tab, "bob").await;
    for i in 1..=3 {
        ann_tab
            .send(json!({"action": "send", "chat_id": chat, "client_msg_id": format!("m{i}"), "body": format!("note {i}")}))
            .await;
        assert_eq!(ann_tab.next_of("ack").await["seq"], i);
    }
    drop(ann_tab);
    server.stop().await;

    // Bob was offline throughout; the messages waited for him, across a restart.
    let server = start(data.path(), addr).await;
    let (mut bob_tab, welcome) = Console::hello(addr, &bob, json!({ chat.clone(): 1 })).await;
    assert_eq!(
        welcome["pending_chats"], 1,
        "the waiting chat requires his response"
    );
    let seqs = [
        bob_tab.next_of("message").await,
        bob_tab.next_of("message").await,
    ]
    .map(|m| m["message"]["seq"].as_u64().unwrap_or_default());
    assert_eq!(seqs, [2, 3], "only what he lacked, in order");
    bob_tab.nothing_more().await;
    server.stop().await;
}
