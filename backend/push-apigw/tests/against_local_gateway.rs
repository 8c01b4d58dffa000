//! The API Gateway pusher against the local server's `@connections` endpoint: the real
//! SDK call, over HTTP, to a real WebSocket; and `410 Gone` for a connection that left.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use console_push_apigw::ApiGatewayPusher;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

async fn post_json(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> serde_json::Value {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    serde_json::from_str(text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")).expect("JSON")
}

#[tokio::test]
async fn posts_reach_a_live_connection_and_a_departed_one_is_gone() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = console_local::start(console_local::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("none"),
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("starts");
    let addr = server.addr;
    let signed = post_json(
        addr,
        "/api/dev/sign-in",
        None,
        r#"{"tenant":"acme","agent":"ann"}"#,
    )
    .await;
    let token = signed["token"].as_str().expect("token");
    let ticket = post_json(addr, "/api/ws-ticket", Some(token), "").await;
    let url = format!(
        "ws://{addr}/ws?ticket={}",
        ticket["ticket"].as_str().expect("ticket")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("socket");
    socket
        .send(Message::Text(r#"{"action":"ping"}"#.into()))
        .await
        .expect("ping");
    let _ = socket.next().await; // pong: the connection is live
    let connection = server.connection_ids().pop().expect("one connection");

    let config = aws_config::defaults(BehaviorVersion::latest())
        .region("eu-west-1")
        .endpoint_url(server.url())
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await;
    let pusher = ApiGatewayPusher::new(aws_sdk_apigatewaymanagement::Client::new(&config));

    assert_eq!(
        pusher.post(&connection, r#"{"type":"pong"}"#).await,
        PushOutcome::Delivered
    );
    let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("a frame");
    assert_eq!(frame.to_text().expect("text"), r#"{"type":"pong"}"#);

    assert_eq!(
        pusher.post(&ConnectionId("long-gone".into()), "x").await,
        PushOutcome::Gone
    );
    drop(socket);
    for _ in 0..100 {
        if server.live_connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        pusher.post(&connection, "x").await,
        PushOutcome::Gone,
        "a closed connection is gone"
    );
    server.stop().await;
}
