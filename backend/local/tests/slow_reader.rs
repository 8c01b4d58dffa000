//! Nothing grows without bound: a console that stops reading its socket, while it keeps
//! sending frames that are answered, is disconnected once its socket's outgoing queue is
//! full ([`console_local::push::MAX_QUEUED_BYTES`]), as API Gateway disconnects a slow
//! client; and a console that reads is never taken for one, even when a long history is
//! replayed to it at once.

mod support;

use console_domain::ConnectionId;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;
use support::scripted::*;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The stalled console sends at most this many pings (its answers: 15 bytes each, 79
/// counted in the queue), far more than fill the queue and the kernel's buffers.
const MAX_PINGS: usize = 2_000_000;
/// ... and for at most this long.
const SENDING_FOR: Duration = Duration::from_secs(30);
/// Pings written together, in one flush.
const BATCH: usize = 256;

/// The connection ids that are live now and were not in `before`; waits (at most 5 s)
/// for the server to register one.
async fn new_connection(
    server: &console_local::RunningServer,
    before: &HashSet<ConnectionId>,
) -> ConnectionId {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let new: Vec<_> = server
            .connection_ids()
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        match new.as_slice() {
            [one] => return one.clone(),
            [] if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => panic!("expected one new connection, got {other:?}"),
        }
    }
}

/// The next `agent` frame about `id` on `console`.
async fn next_agent_frame(console: &mut Console, id: &str) -> serde_json::Value {
    loop {
        let frame = console.next_of("agent").await;
        if frame["agent"]["id"] == id {
            return frame["agent"].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_stops_reading_is_disconnected_once_its_queue_is_full() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let before: HashSet<_> = server.connection_ids().into_iter().collect();

    // Ann's console, over a TCP socket with a small receive buffer, so that the kernel
    // takes little of what the server writes to it before its window shuts.
    let tcp = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    tcp.set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    let stream = tcp.connect(addr).await.expect("connects");
    let url = format!("ws://{addr}/ws?ticket={}", ticket(addr, &ann).await);
    let (socket, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("the socket opens");
    let ann_connection = new_connection(&server, &before).await;
    assert_eq!(
        next_agent_frame(&mut bob_tab, "ann").await["state"],
        "available"
    );

    // She never reads her socket again (its reading half is kept, never polled) and
    // pings on, each ping answered with a pong that her socket's queue must hold.
    let (mut sink, _never_read) = socket.split();
    let ping = Message::Text(json!({"action": "ping"}).to_string().into());
    let started = Instant::now();
    let mut sent = 0;
    let mut refused = None;
    while sent < MAX_PINGS
        && started.elapsed() < SENDING_FOR
        && server.connection_ids().contains(&ann_connection)
    {
        let mut batch =
            futures_util::stream::iter(std::iter::repeat_n(ping.clone(), BATCH).map(Ok));
        // A batch waits on a busy machine (the tests run side by side on two cores); a
        // server that stopped reading without closing would hold it for ever.
        match tokio::time::timeout(Duration::from_secs(30), sink.send_all(&mut batch)).await {
            Ok(Ok(())) => sent += BATCH,
            // The server dropped the connection: writing to it fails.
            Ok(Err(error)) => {
                refused = Some(error.to_string());
                break;
            }
            Err(_) => panic!("the server stopped reading the socket after {sent} pings"),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.connection_ids().contains(&ann_connection) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    eprintln!("{sent} pings sent in {took:?}; writing refused: {refused:?}");
    assert!(
        !server.connection_ids().contains(&ann_connection),
        "the server still holds the socket of a console that has not read for {took:?} \
         ({sent} pings answered)"
    );

    // The socket is gone: unregistered, and the management API answers 410; Bob's
    // console is as before.
    assert_eq!(server.live_connections(), 1, "only Bob's socket is left");
    let (status, _) = http(
        addr,
        "GET",
        &format!("/@connections/{}", ann_connection.0),
        None,
        "",
    )
    .await;
    assert_eq!(
        status, 410,
        "the management API no longer knows the connection"
    );
    // Her last console is gone: Bob sees her Logged Out, and his console is as before.
    assert_eq!(
        next_agent_frame(&mut bob_tab, "ann").await["state"],
        "logged_out"
    );
    bob_tab.send(json!({"action": "ping"})).await;
    bob_tab.next_of("pong").await;
    drop(sink);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_reads_gets_a_long_history_replayed_at_once() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = console_local::start(console_local::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("no-console"),
        oidc: None,
        lifetimes: Default::default(),
        // Enough sends for a history larger than a socket's queue, quickly.
        send_quota: console_domain::ports::Quota {
            max: 10_000,
            window_ms: 1_000,
        },
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("the local server starts");
    let addr = server.addr;
    let bob = sign_in(addr, "acme", "bob").await;
    // Two chats' latest pages of the largest messages: more than a socket may have
    // queued.
    let body = "h".repeat(protocol::MAX_MESSAGE_BYTES);
    let page = console_domain::service::RESUME_PAGE;
    assert!(2 * page * body.len() > console_local::push::MAX_QUEUED_BYTES);
    for agent in ["ann", "cara"] {
        let token = sign_in(addr, "acme", agent).await;
        let (mut tab, _) = Console::hello(addr, &token, json!({})).await;
        let chat = start_chat(&mut tab, "bob").await;
        for n in 0..page {
            say(&mut tab, &chat, &format!("{agent}-{n}"), &body).await;
        }
    }

    // Bob opens a fresh console: the server sends both pages in one go, faster than the
    // socket can write them, and must not take him for a console that does not read.
    let (mut bob_tab, welcome) = Console::hello(addr, &bob, json!({})).await;
    assert_eq!(welcome["chats"].as_array().map(Vec::len), Some(2));
    let mut received: std::collections::HashMap<String, u64> = Default::default();
    for _ in 0..2 * page {
        let message = bob_tab.next_of("message").await;
        let last = received
            .entry(message["message"]["chat_id"].to_string())
            .or_default();
        assert_eq!(
            message["message"]["seq"],
            *last + 1,
            "in order, from the first"
        );
        *last += 1;
    }
    // His console is still connected.
    bob_tab.send(json!({"action": "ping"})).await;
    bob_tab.next_of("pong").await;
    server.stop().await;
}
