//! WebSocket end-to-end tests: several agents as real WebSocket clients against the local
//! server (the API Gateway emulator, the shared handlers, the embedded store) on a free
//! port of 127.0.0.1.

mod support;

use serde_json::json;
use std::net::SocketAddr;
use support::scripted::*;
#[tokio::test]
async fn a_message_reaches_every_connection_of_the_recipient_and_is_acknowledged() {
    let (_data, server) = fresh().await;
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
    assert_eq!(
        ack["chat"]["last_seq"], 1,
        "the ack carries the chat's new state"
    );
    assert_eq!(ack["pending_chats"], 0);
    // One frame per connection: the message, with the chat as Bob sees it now.
    for console in [&mut bob_desk, &mut bob_laptop] {
        let message = console.next_of("message").await;
        assert_eq!(message["message"]["body"], "Can you take a transfer?");
        assert_eq!(message["message"]["seq"], 1);
        assert_eq!(
            message["chat"]["pending"], true,
            "the chat now requires Bob's response"
        );
        assert_eq!(message["pending_chats"], 1);
        console.nothing_more().await;
    }
    ann_tab.nothing_more().await;

    bob_desk
        .send(json!({"action": "send", "chat_id": chat, "client_msg_id": "r1", "body": "Yes"}))
        .await;
    let ack = bob_desk.next_of("ack").await;
    assert_eq!(
        (ack["seq"].clone(), ack["pending_chats"].clone()),
        (json!(2), json!(0))
    );
    let mine = bob_laptop.next_of("message").await;
    assert_eq!(
        (mine["type"].clone(), mine["message"]["body"].clone()),
        (json!("message"), json!("Yes")),
        "the sender's other tab gets the message"
    );
    assert_eq!(
        mine["pending_chats"], 0,
        "responding clears the pending state on every tab"
    );
    assert_eq!(ann_tab.next_of("message").await["message"]["body"], "Yes");
    bob_desk.nothing_more().await;
    server.stop().await;
}

#[tokio::test]
async fn a_retried_send_is_stored_once_and_acknowledged_with_the_same_sequence() {
    let (_data, server) = fresh().await;
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
    // Delivered again under the same sequence number (the attempt that stored it may have
    // failed before its pushes); consoles keep one copy per sequence number.
    for _ in 0..2 {
        let message = bob_tab.next_of("message").await;
        assert_eq!(message["message"]["seq"], 1, "{message}");
        assert_eq!(message["chat"]["last_seq"], 1);
    }
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
    let (_data, server) = fresh().await;
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
    let (_data, server) = fresh().await;
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

/// The next `agent` frame about `id`.
async fn next_agent_frame(console: &mut Console, id: &str) -> serde_json::Value {
    loop {
        let frame = console.next_of("agent").await;
        if frame["agent"]["id"] == id {
            return frame["agent"].clone();
        }
    }
}

#[tokio::test]
async fn agent_states_change_live_for_everyone_who_can_see_the_agent_and_only_them() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let bob = sign_in(addr, "acme", "bob").await;
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let sue = sign_in(addr, "acme", "sue").await;
    let (mut sue_tab, _) = Console::hello(addr, &sue, json!({})).await;
    let dan = sign_in(addr, "acme", "dan").await;
    let (mut dan_tab, _) = Console::hello(addr, &dan, json!({})).await;
    let gus = sign_in(addr, "globex", "gus").await;
    let (mut gus_tab, _) = Console::hello(addr, &gus, json!({})).await;

    // Ann signs in: she becomes Available for her group and the supervisor.
    let ann = sign_in(addr, "acme", "ann").await;
    let (mut ann_tab, welcome) = Console::hello(addr, &ann, json!({})).await;
    assert_eq!(welcome["me"]["state"], "available");
    assert_eq!(
        next_agent_frame(&mut bob_tab, "ann").await["state"],
        "available"
    );
    assert_eq!(
        next_agent_frame(&mut sue_tab, "ann").await["state"],
        "available"
    );

    ann_tab
        .send(json!({"action": "set_state", "state": "on_break"}))
        .await;
    assert_eq!(
        next_agent_frame(&mut ann_tab, "ann").await["state"],
        "on_break",
        "her own console too"
    );
    let seen_by_bob = next_agent_frame(&mut bob_tab, "ann").await;
    assert_eq!(seen_by_bob["state"], "on_break");
    assert!(seen_by_bob["state_since"].as_i64().is_some_and(|t| t > 0));
    assert_eq!(
        next_agent_frame(&mut sue_tab, "ann").await["state"],
        "on_break"
    );
    dan_tab.nothing_more().await; // another group
    gus_tab.nothing_more().await; // another tenant

    ann_tab
        .send(json!({"action": "set_state", "state": "logged_out"}))
        .await;
    assert_eq!(ann_tab.next_of("error").await["code"], "bad_request");
    ann_tab
        .send(json!({"action": "set_state", "state": "busy"}))
        .await;
    next_agent_frame(&mut ann_tab, "ann").await;
    ann_tab
        .send(json!({"action": "set_state", "state": "available"}))
        .await;
    assert_eq!(ann_tab.next_of("error").await["code"], "rate_limited");

    // Her last connection closes: Logged Out, live.
    drop(ann_tab);
    let gone = next_agent_frame(&mut bob_tab, "ann").await;
    assert!(gone["state"] == "busy" || gone["state"] == "logged_out");
    if gone["state"] == "busy" {
        assert_eq!(
            next_agent_frame(&mut bob_tab, "ann").await["state"],
            "logged_out"
        );
    }
    let (_, body) = http(addr, "GET", "/api/agents", Some(&bob), "").await;
    let listed = body["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == "ann").cloned());
    assert_eq!(
        listed.map(|a| a["state"].clone()),
        Some(json!("logged_out"))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_supervisor_chats_across_groups_and_the_agent_sees_her_in_the_list() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let (sue, ann) = (
        sign_in(addr, "acme", "sue").await,
        sign_in(addr, "acme", "ann").await,
    );
    let (mut sue_tab, _) = Console::hello(addr, &sue, json!({})).await;
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (_, before) = http(addr, "GET", "/api/agents", Some(&ann), "").await;
    assert!(
        !before.to_string().contains("\"sue\""),
        "a supervisor of another group is not listed at first"
    );

    let chat = start_chat(&mut sue_tab, "ann").await;
    say(&mut sue_tab, &chat, "s1", "Please review the refund policy").await;
    assert_eq!(ann_tab.next_of("message").await["message"]["from"], "sue");
    let (_, after) = http(addr, "GET", "/api/agents", Some(&ann), "").await;
    assert!(
        after.to_string().contains("\"sue\""),
        "the agent who has a chat with her appears in her list"
    );
    assert_eq!(say(&mut ann_tab, &chat, "a1", "Done").await, 2);

    // After the chat ends, Ann may start a new one with Sue: they already have a chat.
    ann_tab
        .send(json!({"action": "end", "chat_id": chat}))
        .await;
    let ended = sue_tab.next_of("chat").await;
    let ended = if ended["chat"]["status"] == "ended" {
        ended
    } else {
        sue_tab.next_of("chat").await
    };
    assert_eq!(ended["chat"]["status"], "ended", "both sides are told");
    let again = start_chat(&mut ann_tab, "sue").await;
    assert_ne!(again, chat, "a new chat, the ended one stays as it was");
    // But not with someone of another group she never chatted with.
    ann_tab
        .send(json!({"action": "start_chat", "with": "eve"}))
        .await;
    assert_eq!(ann_tab.next_of("error").await["code"], "forbidden");
    server.stop().await;
}

#[tokio::test]
async fn typing_and_seen_reach_the_other_agent_live_and_are_never_messages() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let chat = start_chat(&mut ann_tab, "bob").await;

    for _ in 0..5 {
        ann_tab
            .send(json!({"action": "typing", "chat_id": chat}))
            .await;
    }
    let typing = bob_tab.next_of("typing").await;
    assert_eq!(
        (typing["chat_id"].as_str(), typing["from"].as_str()),
        (Some(chat.as_str()), Some("ann"))
    );
    // Five typing frames within a second are passed on once.
    let mut extra = 0;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        futures_util::StreamExt::next(&mut bob_tab.socket),
    )
    .await
    {
        if frame.to_text().unwrap_or_default().contains("\"typing\"") {
            extra += 1;
        }
    }
    assert_eq!(extra, 0, "typing is rate-limited");

    let seq = say(&mut ann_tab, &chat, "m1", "Are you free?").await;
    bob_tab
        .send(json!({"action": "seen", "chat_id": chat, "seq": seq}))
        .await;
    let seen = ann_tab.next_of("seen").await;
    assert_eq!(
        (seen["by"].clone(), seen["seq"].clone()),
        (json!("bob"), json!(1))
    );
    let (_, chats) = http(addr, "GET", "/api/chats", Some(&ann), "").await;
    assert_eq!(
        chats["chats"][0]["seen_by_other"], 1,
        "seen is kept on the chat"
    );
    let (_, page) = http(
        addr,
        "GET",
        &format!("/api/chats/{chat}/messages"),
        Some(&ann),
        "",
    )
    .await;
    assert_eq!(
        page["messages"].as_array().map(Vec::len),
        Some(1),
        "typing and seen are never stored as messages"
    );

    ann_tab.send(json!({"action": "ping"})).await;
    ann_tab.next_of("pong").await;
    server.stop().await;
}

#[tokio::test]
async fn api_gateway_limits_hold_frames_idle_time_and_lifetime() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = console_local::start(console_local::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("no-console"),
        oidc: None,
        lifetimes: console_local::gateway::Lifetimes {
            idle: std::time::Duration::from_millis(400),
            total: std::time::Duration::from_secs(2),
        },
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("starts");
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );

    // A frame over 32 KB closes the connection; a message over 16 KB is refused.
    let (mut tab, _) = Console::hello(addr, &ann, json!({})).await;
    let chat = start_chat(&mut tab, "bob").await;
    let big = json!({"action": "send", "chat_id": chat, "client_msg_id": "big", "body": "y".repeat(20_000)});
    tab.send(big).await;
    assert_eq!(tab.next_of("error").await["code"], "message_too_large");
    tab.send_text("z".repeat(40 * 1024)).await;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match futures_util::StreamExt::next(&mut tab.socket).await {
                None
                | Some(Err(_))
                | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an oversized frame closes the connection");

    // An idle connection is closed; a pinging one lives until its lifetime ends.
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let (mut idle, _) = Console::hello(addr, &ann, json!({})).await;
    let started = std::time::Instant::now();
    loop {
        bob_tab.send(json!({"action": "ping"})).await;
        bob_tab.next_of("pong").await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        if started.elapsed() > std::time::Duration::from_millis(900) {
            break;
        }
    }
    let idle_end = tokio::time::timeout(
        std::time::Duration::from_millis(100),
        futures_util::StreamExt::next(&mut idle.socket),
    )
    .await;
    assert!(
        matches!(
            idle_end,
            Ok(None)
                | Ok(Some(Err(_)))
                | Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))))
        ),
        "the idle connection was closed: {idle_end:?}"
    );
    bob_tab.send(json!({"action": "ping"})).await;
    bob_tab.next_of("pong").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    bob_tab.send(json!({"action": "ping"})).await;
    let after_lifetime = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        loop {
            match futures_util::StreamExt::next(&mut bob_tab.socket).await {
                None
                | Some(Err(_))
                | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(
        after_lifetime,
        Ok(true),
        "every connection ends after its lifetime"
    );
    server.stop().await;
}
