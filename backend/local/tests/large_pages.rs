//! Chats of long messages: every HTTP answer stays inside what one Lambda response
//! carries (6 MB), whatever the messages hold — a page of messages ends early rather
//! than pass its bytes, and a download too large for one answer is refused clearly.

mod support;

use console_domain::Chat;
use console_domain::service::{DOWNLOAD_BYTES, PAGE_BYTES};
use protocol::{AgentId, TenantId};
use serde_json::{Value, json};
use support::scripted::{demo_store, http, sign_in, start_on};

/// An ended chat between Ann and Bob of `count` messages, each `body` long (ended: a
/// pair has one open chat at a time).
async fn seed(store: &dyn console_domain::Store, id: &str, count: u64, body: &str) {
    let tenant = TenantId::from("acme");
    store
        .open_chat(&Chat::new(
            tenant.clone(),
            id.into(),
            "ann".into(),
            "bob".into(),
            1_000,
            None,
        ))
        .await
        .expect("opened");
    for n in 0..count {
        let from = AgentId::from(if n % 2 == 0 { "ann" } else { "bob" });
        store
            .append_message(&tenant, &id.into(), &from, &format!("m{n}"), body, 2_000)
            .await
            .expect("appended");
    }
    store
        .end_chat(&tenant, &id.into(), &"ann".into(), 3_000)
        .await
        .expect("ended");
}

fn seqs(page: &Value) -> Vec<u64> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_u64().expect("a number"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_long_messages_stay_inside_one_answer_and_a_download_too_large_is_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let store = demo_store(data.path()).await;
    let long = "x".repeat(16_000);
    let per_page = (PAGE_BYTES / long.len()) as u64;
    // Bodies past the download's bound; then within it, and within it only as bodies
    // (quotes, which JSON writes in two bytes each).
    let count = (DOWNLOAD_BYTES / long.len()) as u64 + 20;
    seed(store.as_ref(), "huge", count, &long).await;
    seed(store.as_ref(), "fits", 250, &long).await;
    let quotes = "\"".repeat(16_000);
    seed(store.as_ref(), "quoted", 300, &quotes).await;
    let server = start_on(data.path(), store.clone()).await;
    let addr = server.addr;
    let ann = sign_in(addr, "acme", "ann").await;
    let get = |path: String| {
        let ann = ann.clone();
        async move { http(addr, "GET", &path, Some(&ann), "").await }
    };

    // The transcript's pages: as many messages as fit in PAGE_BYTES, each naming the next.
    let (status, page) = get("/api/transcripts/huge?after=0&limit=500".into()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(seqs(&page), (1..=per_page).collect::<Vec<_>>());
    assert_eq!(page["next"], per_page);
    let mut read = seqs(&page);
    let mut after = page["next"].as_u64();
    while let Some(from) = after {
        let (status, page) = get(format!("/api/transcripts/huge?after={from}&limit=500")).await;
        assert_eq!(status, 200);
        read.extend(seqs(&page));
        after = page["next"].as_u64();
    }
    assert_eq!(read, (1..=count).collect::<Vec<_>>(), "every message once");

    // The chat window's pages, forward and back.
    let (status, page) = get("/api/chats/huge/messages?after=0&limit=500".into()).await;
    assert_eq!(status, 200);
    assert_eq!(seqs(&page), (1..=per_page).collect::<Vec<_>>());
    assert_eq!(page["more"], true);
    let before = count + 1;
    let (status, page) = get(format!(
        "/api/chats/huge/messages?before={before}&limit=500"
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        seqs(&page),
        (count - per_page + 1..=count).collect::<Vec<_>>(),
        "the newest that fit"
    );
    assert_eq!(page["more"], true);

    // Downloads: whole when the file fits in one answer, refused clearly when not.
    let (status, whole) = get("/api/transcripts/fits/download?format=json".into()).await;
    assert_eq!(status, 200);
    assert_eq!(whole["messages"].as_array().map(Vec::len), Some(250));
    let (status, _) = get("/api/transcripts/quoted/download?format=text".into()).await;
    assert_eq!(status, 200, "quotes are one byte each in a text file");
    for (chat, format) in [("huge", "json"), ("huge", "text"), ("quoted", "json")] {
        let (status, body) = get(format!("/api/transcripts/{chat}/download?format={format}")).await;
        assert_eq!(
            (status, &body["code"]),
            (422, &json!("transcript_too_large")),
            "{chat} as {format}: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("a page at a time")),
            "{body}"
        );
    }
    let (status, page) = get("/api/transcripts/quoted?after=0&limit=500".into()).await;
    assert_eq!(status, 200, "its pages are read as ever");
    assert_eq!(seqs(&page).len(), PAGE_BYTES / quotes.len());
    server.stop().await;
}
