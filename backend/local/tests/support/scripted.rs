//! The local server for tests that script each step: a server on a free port, a plain
//! HTTP client, and a console's WebSocket driven frame by frame (the simulated consoles
//! of `console.rs` drive themselves).

use console_local::{Config, RunningServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A server on a free port of 127.0.0.1 with a fresh data folder (kept alive by the
/// returned guard).
pub async fn fresh() -> (tempfile::TempDir, RunningServer) {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    (data, server)
}

/// Sends a message and waits for its acknowledgement; returns its sequence number.
pub async fn say(console: &mut Console, chat: &str, client_msg_id: &str, body: &str) -> u64 {
    console
        .send(json!({"action": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body}))
        .await;
    loop {
        let ack = console.next_of("ack").await;
        if ack["client_msg_id"] == client_msg_id {
            return ack["seq"].as_u64().expect("a sequence number");
        }
    }
}

pub async fn start(data: &std::path::Path, listen: SocketAddr) -> RunningServer {
    console_local::start(Config {
        listen,
        data_dir: data.to_path_buf(),
        console_dir: data.join("no-console"),
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("the local server starts")
}

/// A plain HTTP/1.1 request; returns the status and the JSON body.
pub async fn http(
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

pub async fn sign_in(addr: SocketAddr, tenant: &str, agent: &str) -> String {
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

pub async fn ticket(addr: SocketAddr, token: &str) -> String {
    let (status, body) = http(addr, "POST", "/api/ws-ticket", Some(token), "").await;
    assert_eq!(status, 200, "ticket answered {body}");
    body["ticket"].as_str().expect("a ticket").to_owned()
}

/// One console's socket.
pub struct Console {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Console {
    pub async fn open(addr: SocketAddr, token: &str) -> Console {
        let url = format!("ws://{addr}/ws?ticket={}", ticket(addr, token).await);
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        Console { socket }
    }

    /// Opens a socket and says hello; returns the console and the welcome frame.
    pub async fn hello(addr: SocketAddr, token: &str, resume: Value) -> (Console, Value) {
        let mut console = Console::open(addr, token).await;
        console
            .send(json!({"action": "hello", "protocol": protocol::PROTOCOL_VERSION, "resume": resume}))
            .await;
        let welcome = console.next_of("welcome").await;
        (console, welcome)
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    pub async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a frame within 5 s")
                .expect("the socket is open")
                .expect("a good frame");
            if let Message::Text(text) = frame {
                assert!(
                    text.len() <= protocol::MAX_FRAME_BYTES,
                    "a frame of {} bytes, over API Gateway's frame limit",
                    text.len()
                );
                return serde_json::from_str(&text).expect("JSON");
            }
        }
    }

    /// The next frame of `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts nothing more arrives for a short while.
    pub async fn nothing_more(&mut self) {
        let next = tokio::time::timeout(Duration::from_millis(300), self.socket.next()).await;
        assert!(next.is_err(), "expected silence, got {next:?}");
    }
}

pub async fn start_chat(console: &mut Console, with: &str) -> String {
    console
        .send(json!({"action": "start_chat", "with": with}))
        .await;
    let started = console.next_of("chat_started").await;
    started["chat"]["id"]
        .as_str()
        .expect("a chat id")
        .to_owned()
}

/// The demo directory in a fresh embedded store at `data/console.redb`, for a server
/// started with [`start_on`]: the test keeps the store to look inside it.
pub async fn demo_store(
    data: &std::path::Path,
) -> std::sync::Arc<console_store_embedded::EmbeddedStore> {
    use console_domain::ports::DirectoryStore;
    let store = console_store_embedded::EmbeddedStore::open(&data.join("console.redb"))
        .expect("the store opens");
    for (tenant, agents) in console_local::demo::directory() {
        store.put_tenant(&tenant, &agents).await.expect("seeded");
    }
    std::sync::Arc::new(store)
}

/// A server on a free port over `store`, with `data` as its data folder and
/// `data/console` as the console's.
pub async fn start_on(
    data: &std::path::Path,
    store: std::sync::Arc<dyn console_domain::Store>,
) -> RunningServer {
    console_local::start_with(
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data.to_path_buf(),
            console_dir: data.join("console"),
            oidc: None,
            lifetimes: Default::default(),
            send_quota: console_domain::service::SEND_QUOTA,
            allowed_hosts: Vec::new(),
        },
        console_local::Backend::Store(store),
    )
    .await
    .expect("the local server starts")
}

/// Sends raw bytes as one HTTP/1.1 exchange; returns the status and the body as text.
/// A server may answer and close before reading a large body: write errors are ignored.
pub async fn raw_http(addr: SocketAddr, request: Vec<u8>) -> (u16, String) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        let _ = writer.flush().await;
        writer
    });
    let mut response = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => response.extend_from_slice(&chunk[..n]),
        }
    }
    drop(writing);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Tries to open a WebSocket with the query string `query` (and an `Origin` header if
/// given): the console, or the HTTP status the upgrade was refused with.
pub async fn upgrade(addr: SocketAddr, query: &str, origin: Option<&str>) -> Result<Console, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/ws{query}")
        .into_client_request()
        .expect("a request");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", origin.parse().expect("a header value"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(Console { socket }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("the upgrade failed without an HTTP answer: {other}"),
    }
}

impl Console {
    /// Sends any WebSocket message, raw frames included.
    pub async fn send_message(&mut self, message: Message) {
        self.socket.send(message).await.expect("send");
    }

    /// The frames that arrive until a short silence.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        while let Ok(Some(Ok(frame))) =
            tokio::time::timeout(Duration::from_millis(300), self.socket.next()).await
        {
            if let Message::Text(text) = frame {
                frames.push(serde_json::from_str(&text).expect("JSON"));
            }
        }
        frames
    }

    /// Waits (at most 5 s) for the server to close the connection; returns the text
    /// frames that came before, or `None` if it stayed open.
    pub async fn closes(&mut self) -> Option<Vec<Value>> {
        let mut frames = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match self.socket.next().await {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Text(text))) => {
                        frames.push(serde_json::from_str(&text).unwrap_or(Value::Null))
                    }
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        closed.is_ok().then_some(frames)
    }

    /// Pings and expects the very next frame to be the `pong`: the connection is open
    /// and nothing else was pushed to it.
    pub async fn still_open(&mut self) -> bool {
        if self
            .socket
            .send(Message::Text(json!({"action": "ping"}).to_string().into()))
            .await
            .is_err()
        {
            return false;
        }
        match tokio::time::timeout(Duration::from_secs(5), self.socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                serde_json::from_str::<Value>(&text).is_ok_and(|f| f["type"] == "pong")
            }
            _ => false,
        }
    }
}
