//! Help over the real WebSocket of the local server: fifty agents press **Take it** on one
//! question at once — exactly one chat, forty-nine clear "taken" answers; the asker sees
//! who took it and the question is the chat's first message; a withdrawn question is
//! taken by nobody; a raised hand is one at a time; asking has a quota.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use support::directory;
use support::scripted::{Console, sign_in, start};

/// The asker (`a0000`) and `takers` colleagues of her group, signed in.
async fn group(
    takers: usize,
) -> (
    tempfile::TempDir,
    console_local::RunningServer,
    Console,
    Vec<Console>,
) {
    let data = tempfile::tempdir().expect("temp dir");
    let size = takers + 1;
    directory::import(data.path(), &directory::generate(size, size, 1)).await;
    let server = start(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr;
    let token = sign_in(addr, "t00", "a0000").await;
    let (asker, _) = Console::hello(addr, &token, json!({})).await;
    let mut consoles = Vec::new();
    for n in 1..=takers {
        let token = sign_in(addr, "t00", &format!("a{n:04}")).await;
        consoles.push(Console::hello(addr, &token, json!({})).await.0);
    }
    (data, server, asker, consoles)
}

/// Sends `frame` and returns the first frame of one of `kinds` that answers it.
async fn answer(console: &mut Console, frame: Value, kinds: &[&str]) -> Value {
    console.send(frame).await;
    loop {
        let next = console.next().await;
        if kinds.iter().any(|kind| next["type"] == *kind) {
            return next;
        }
    }
}

async fn ask(console: &mut Console, text: &str) -> Value {
    answer(
        console,
        json!({"action": "ask", "text": text, "interaction": "call-7"}),
        &["help", "error"],
    )
    .await
}

#[tokio::test]
async fn of_fifty_agents_pressing_take_it_at_once_one_gets_the_chat_and_49_are_told_it_is_taken() {
    let (_data, server, mut asker, mut takers) = group(50).await;
    let question = "Who knows the refund rule for order 7?";
    let asked = ask(&mut asker, question).await;
    assert_eq!(asked["request"]["state"], "waiting", "{asked}");
    assert_eq!(asked["request"]["interaction"], "call-7");
    let id = asked["request"]["id"].as_str().expect("an id").to_owned();
    for taker in &mut takers {
        let told = taker.next_of("help").await;
        assert_eq!(
            told["request"]["id"],
            id.as_str(),
            "every colleague is told at once"
        );
        assert_eq!(told["request"]["text"], question);
    }

    let answers = futures_util::future::join_all(takers.iter_mut().map(|taker| {
        let id = id.clone();
        async move {
            answer(
                taker,
                json!({"action": "take", "request": id}),
                &["chat_started", "error"],
            )
            .await
        }
    }))
    .await;
    let won: Vec<usize> = (0..answers.len())
        .filter(|n| answers[*n]["type"] == "chat_started")
        .collect();
    assert_eq!(won.len(), 1, "exactly one taker: {answers:?}");
    let winner = won[0];
    let winner_name = format!("Agent {}", winner + 1);
    for (n, refused) in answers.iter().enumerate().filter(|(n, _)| *n != winner) {
        assert_eq!(refused["type"], "error", "taker {n}: {refused}");
        assert_eq!(refused["code"], "already_taken", "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains(&winner_name)),
            "the refusal says who took it: {refused}"
        );
    }
    let chat = answers[winner]["chat"]["id"]
        .as_str()
        .expect("a chat")
        .to_owned();
    assert_eq!(answers[winner]["chat"]["with"]["id"], "a0000");

    // The asker sees the chat whose first message is her question, and who took it.
    let (mut taken, mut first) = (None, None);
    while taken.is_none() || first.is_none() {
        let frame = asker.next().await;
        if frame["type"] == "help" && frame["request"]["state"] == "taken" {
            taken = Some(frame);
        } else if frame["type"] == "message" {
            first = Some(frame);
        }
    }
    let (taken, first) = (taken.expect("taken"), first.expect("a message"));
    assert_eq!(taken["request"]["taken_by_name"], winner_name.as_str());
    assert_eq!(taken["request"]["chat_id"], chat.as_str());
    assert_eq!(first["message"]["chat_id"], chat.as_str());
    assert_eq!(first["message"]["seq"], 1);
    assert_eq!(first["message"]["from"], "a0000");
    assert_eq!(first["message"]["body"], question);

    // Pressing again answers the same chat, and nobody else's take changes anything.
    let again = answer(
        &mut takers[winner],
        json!({"action": "take", "request": id}),
        &["chat_started", "error"],
    )
    .await;
    assert_eq!(again["chat"]["id"], chat.as_str(), "{again}");
    server.stop().await;
}

#[tokio::test]
async fn a_withdrawn_question_is_taken_by_nobody_and_hands_are_one_at_a_time() {
    let (_data, server, mut asker, mut takers) = group(2).await;
    let asked = ask(&mut asker, "Anyone free for a transfer?").await;
    let id = asked["request"]["id"].as_str().expect("an id").to_owned();
    let withdrawn = answer(
        &mut asker,
        json!({"action": "withdraw", "request": id}),
        &["help", "error"],
    )
    .await;
    assert_eq!(withdrawn["request"]["state"], "withdrawn", "{withdrawn}");
    let late = answer(
        &mut takers[0],
        json!({"action": "take", "request": id}),
        &["chat_started", "error"],
    )
    .await;
    assert_eq!(late["code"], "already_taken", "{late}");

    let raised = answer(&mut asker, json!({"action": "raise_hand"}), &["help"]).await;
    let again = answer(&mut asker, json!({"action": "raise_hand"}), &["help"]).await;
    assert_eq!(raised["request"]["kind"], "hand");
    assert_eq!(
        again["request"]["id"], raised["request"]["id"],
        "one hand at a time"
    );
    // A hand is for the supervisors: to a regular agent it does not exist.
    let refused = answer(
        &mut takers[1],
        json!({"action": "take", "request": raised["request"]["id"]}),
        &["chat_started", "error"],
    )
    .await;
    assert_eq!(refused["code"], "not_found", "{refused}");
    server.stop().await;
}

#[tokio::test]
async fn bad_questions_are_refused_clearly_and_asking_has_a_quota() {
    let (_data, server, mut asker, _takers) = group(1).await;
    for (text, why) in [
        ("   ", "needs some text"),
        ("bell\u{7}", "control characters"),
    ] {
        let refused = ask(&mut asker, text).await;
        assert_eq!(refused["code"], "bad_request", "{refused}");
        assert!(
            refused["message"].as_str().is_some_and(|m| m.contains(why)),
            "{refused}"
        );
    }
    let long = "x".repeat(2_001);
    assert_eq!(ask(&mut asker, &long).await["code"], "bad_request");
    for n in 0..5 {
        let asked = ask(&mut asker, &format!("question {n}")).await;
        assert_eq!(asked["type"], "help", "{asked}");
    }
    let limited = ask(&mut asker, "one too many").await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    server.stop().await;
}
