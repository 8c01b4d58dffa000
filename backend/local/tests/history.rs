//! A year of use: agents with thousands of past chats behind them. What a console is sent
//! on signing in and on a new tab, and what the HTTP API pages, is bounded by the page —
//! the open chats, the latest messages — never by the history.

mod support;

use console_domain::ports::ChatStore;
use console_domain::{Chat, Store};
use futures_util::future::join_all;
use protocol::{AgentId, ChatId, TenantId};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use support::scripted::{Console, demo_store, http, sign_in, start_on};

/// Ann's past chats, one after the other with each of her colleagues, two messages each.
const ENDED: usize = 2_000;

/// Whom Ann's past chats were with (a pair has one open chat at a time: one chat each at
/// once while seeding).
const COLLEAGUES: [&str; 6] = ["bob", "cara", "dan", "eve", "finn", "sue"];

/// A chat between `a` and `b` with `messages` messages, alternating from `a`, ended at
/// `ended_at` if given.
async fn seed_chat(
    store: &dyn Store,
    id: &str,
    (a, b): (&str, &str),
    messages: u64,
    ended_at: Option<i64>,
) {
    let tenant = TenantId::from("acme");
    let at = ended_at.unwrap_or(1_000_000) - 1_000;
    store
        .open_chat(&Chat::new(
            tenant.clone(),
            id.into(),
            a.into(),
            b.into(),
            at,
            None,
        ))
        .await
        .expect("opened");
    for n in 0..messages {
        let from = AgentId::from(if n % 2 == 0 { a } else { b });
        let body = format!("{id} message {}", n + 1);
        store
            .append_message(
                &tenant,
                &id.into(),
                &from,
                &format!("m{n}"),
                &body,
                at + n as i64,
            )
            .await
            .expect("appended");
    }
    if let Some(ended_at) = ended_at {
        store
            .end_chat(&tenant, &id.into(), &a.into(), ended_at)
            .await
            .expect("ended");
    }
}

/// Ann's history: [`ENDED`] ended chats with her colleagues, and two open ones — with
/// Cara (120 messages, the last one Cara's: it requires Ann's response) and with Dan (one
/// message, Ann's).
async fn ann_s_year(store: &dyn Store) {
    let colleagues = COLLEAGUES.map(AgentId::from);
    console_local::demo::past_chats(
        store,
        &"acme".into(),
        &"ann".into(),
        &colleagues,
        ENDED,
        1_800_000_000_000,
        colleagues.len(),
    )
    .await
    .expect("past chats written");
    seed_chat(store, "open-cara", ("ann", "cara"), 120, None).await;
    seed_chat(store, "open-dan", ("ann", "dan"), 1, None).await;
}

fn chat_ids(chats: &Value) -> Vec<String> {
    chats
        .as_array()
        .expect("a list of chats")
        .iter()
        .map(|chat| chat["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Every page of `GET /api/chats?status={status}&limit=50`, as `agent` follows their
/// cursors from `cursor`.
async fn every_page(
    addr: std::net::SocketAddr,
    agent: &str,
    status: &str,
    mut cursor: String,
) -> Vec<Value> {
    let mut pages = Vec::new();
    loop {
        let (status_code, page) = http(
            addr,
            "GET",
            &format!("/api/chats?status={status}&limit=50&cursor={cursor}"),
            Some(agent),
            "",
        )
        .await;
        assert_eq!(status_code, 200, "{page}");
        cursor = page["next"].as_str().unwrap_or_default().to_owned();
        pages.push(page);
        if cursor.is_empty() {
            return pages;
        }
    }
}

/// The `message` frames a console is sent until it falls silent.
async fn messages_until_silence(console: &mut Console) -> Vec<Value> {
    let mut messages = Vec::new();
    while let Ok(frame) =
        tokio::time::timeout(std::time::Duration::from_millis(500), console.next()).await
    {
        if frame["type"] == "message" {
            messages.push(frame["message"].clone());
        }
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_two_thousand_past_chats_signs_in_to_her_open_chats_and_pages_the_rest() {
    let data = tempfile::tempdir().expect("temp dir");
    let store = demo_store(data.path()).await;
    ann_s_year(store.as_ref()).await;
    let server = start_on(data.path(), store.clone()).await;
    let addr = server.addr;
    let ann = sign_in(addr, "acme", "ann").await;

    // A new tab: the open chats, the count, and each open chat's latest page.
    let (mut tab, welcome) = Console::hello(addr, &ann, json!({})).await;
    assert_eq!(chat_ids(&welcome["chats"]), ["open-cara", "open-dan"]);
    assert_eq!(welcome["pending_chats"], 1, "Cara waits for Ann");
    assert!(welcome.get("more_open").is_none());
    let bytes = welcome.to_string().len();
    assert!(bytes < 2_000, "the welcome took {bytes} bytes");
    let messages = messages_until_silence(&mut tab).await;
    let of = |chat: &str| -> Vec<u64> {
        messages
            .iter()
            .filter(|m| m["chat_id"] == chat)
            .map(|m| m["seq"].as_u64().expect("seq"))
            .collect()
    };
    assert_eq!(
        of("open-cara"),
        (71..=120).collect::<Vec<_>>(),
        "the latest page, in order"
    );
    assert_eq!(of("open-dan"), [1]);
    assert_eq!(messages.len(), 51, "nothing of the past chats");

    // Older messages, a page at a time, as the chat window scrolls up.
    let (status, older) = http(
        addr,
        "GET",
        "/api/chats/open-cara/messages?before=71&limit=50",
        Some(&ann),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let seqs: Vec<u64> = older["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (21..=70).collect::<Vec<_>>());
    assert_eq!(older["more"], true);

    // The ended chats, newest first, a page at a time, each once.
    let mut seen = BTreeSet::new();
    let mut last_ended = i64::MAX;
    let pages = every_page(addr, &ann, "ended", String::new()).await;
    for page in &pages {
        for chat in page["chats"].as_array().expect("chats") {
            let ended = chat["ended_at"].as_i64().expect("ended");
            assert!(ended < last_ended, "newest first");
            last_ended = ended;
            assert_eq!(chat["status"], "ended");
            let id = chat["id"].as_str().expect("id");
            let n: usize = id.trim_start_matches("past-").parse().expect("a past chat");
            assert_eq!(chat["last_line"], format!("Past answer {n}"));
            assert!(seen.insert(chat["id"].as_str().expect("id").to_owned()));
        }
    }
    assert_eq!(seen.len(), ENDED);
    assert_eq!(pages.len(), ENDED / 50);
    let (status, open) = http(addr, "GET", "/api/chats", Some(&ann), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        chat_ids(&open["chats"]),
        ["open-cara", "open-dan"],
        "open by default"
    );

    // She answers Cara: the count goes down, kept, not recounted.
    tab.send(json!({"action": "send", "chat_id": "open-cara", "client_msg_id": "answer", "body": "On my way."}))
        .await;
    // One frame: the acknowledgement, with the chat's new state and the count.
    let ack = loop {
        let frame = tab.next().await;
        assert_ne!(
            frame["type"], "chat",
            "no chat frame besides the ack: {frame}"
        );
        if frame["type"] == "ack" {
            break frame;
        }
    };
    assert_eq!(ack["pending_chats"], 0);
    assert_eq!(ack["chat"]["id"], "open-cara");
    assert_eq!(ack["chat"]["last_line"], "On my way.");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_sends_the_latest_page_and_tells_of_a_chat_that_ended_meanwhile() {
    let data = tempfile::tempdir().expect("temp dir");
    let store = demo_store(data.path()).await;
    seed_chat(store.as_ref(), "long", ("ann", "cara"), 300, None).await;
    seed_chat(store.as_ref(), "gone", ("ann", "bob"), 4, Some(5_000_000)).await;
    let server = start_on(data.path(), store.clone()).await;
    let ann = sign_in(server.addr, "acme", "ann").await;
    // A console that held "long" up to 10 and "gone" (open, then) up to 2.
    let (mut tab, welcome) =
        Console::hello(server.addr, &ann, json!({"long": 10, "gone": 2})).await;
    assert_eq!(chat_ids(&welcome["chats"]), ["long"]);
    let ended = tab.next_of("chat").await;
    assert_eq!(ended["chat"]["id"], "gone");
    assert_eq!(ended["chat"]["status"], "ended");
    let messages = messages_until_silence(&mut tab).await;
    let seqs = |chat: &str| -> Vec<u64> {
        messages
            .iter()
            .filter(|m| m["chat_id"] == chat)
            .map(|m| m["seq"].as_u64().expect("seq"))
            .collect()
    };
    assert_eq!(
        seqs("long"),
        (251..=300).collect::<Vec<_>>(),
        "the latest page"
    );
    assert_eq!(seqs("gone"), [3, 4], "what it lacked");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_holds_the_open_chats_that_fit_and_names_where_the_rest_start() {
    let data = tempfile::tempdir().expect("temp dir");
    let store: Arc<console_store_embedded::EmbeddedStore> = demo_store(data.path()).await;
    // 150 open chats, with partners who have long names (departed from the directory:
    // their ids stand for them).
    let partners: Vec<String> = (0..150)
        .map(|n| format!("{}-{n:03}", "p".repeat(60)))
        .collect();
    join_all(partners.iter().enumerate().map(|(n, partner)| {
        let store = store.clone();
        async move {
            let chat = Chat::new(
                "acme".into(),
                ChatId::from(format!("c{n:03}").as_str()),
                "ann".into(),
                partner.as_str().into(),
                1,
                Some("\"".repeat(256)),
            );
            store.open_chat(&chat).await.expect("opened");
        }
    }))
    .await;
    let server = start_on(data.path(), store.clone()).await;
    let ann = sign_in(server.addr, "acme", "ann").await;
    let (_tab, welcome) = Console::hello(server.addr, &ann, json!({})).await;
    let first = chat_ids(&welcome["chats"]);
    assert!(
        !first.is_empty() && first.len() < 150,
        "{} chats",
        first.len()
    );
    let cursor = welcome["more_open"].as_str().expect("a cursor").to_owned();
    let mut all: Vec<String> = first;
    for page in every_page(server.addr, &ann, "open", cursor).await {
        all.extend(chat_ids(&page["chats"]));
    }
    let expected: Vec<String> = (0..150).map(|n| format!("c{n:03}")).collect();
    assert_eq!(all, expected, "every open chat once, in order");
    server.stop().await;
}

/// When past chat `n` of [`ann_s_year`] started (see `demo::past_chats`).
fn past_started(n: usize) -> i64 {
    1_800_000_000_000 - (ENDED - 1 - n) as i64 * 60_000 - 300_000
}

/// Every page of `GET /api/transcripts?{query}` as `who` follows their cursors.
async fn transcript_pages(addr: std::net::SocketAddr, who: &str, query: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = http(
            addr,
            "GET",
            &format!("/api/transcripts?{query}&cursor={cursor}"),
            Some(who),
            "",
        )
        .await;
        assert_eq!(status, 200, "{page}");
        cursor = page["next"].as_str().unwrap_or_default().to_owned();
        pages.push(page);
        if cursor.is_empty() {
            return pages;
        }
    }
}

fn transcript_ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|page| chat_ids(&page["transcripts"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_transcripts_is_listed_and_searched_a_bounded_page_at_a_time() {
    use console_domain::service::{CHATS_LOOKED_AT, MAX_TRANSCRIPTS, MESSAGES_READ};
    let data = tempfile::tempdir().expect("temp dir");
    let store = demo_store(data.path()).await;
    ann_s_year(store.as_ref()).await;
    // In another tenant, one long chat: a needle past a page's budget of messages.
    let globex = TenantId::from("globex");
    let long = MESSAGES_READ as u64 + 500;
    store
        .open_chat(&Chat::new(
            globex.clone(),
            "long".into(),
            "gus".into(),
            "hana".into(),
            5_000,
            None,
        ))
        .await
        .expect("opened");
    for n in 1..=long {
        let body = if n == long - 100 {
            "Found the needle".to_owned()
        } else {
            format!("hay {n}")
        };
        store
            .append_message(
                &globex,
                &"long".into(),
                &"gus".into(),
                &format!("m{n}"),
                &body,
                6_000,
            )
            .await
            .expect("appended");
    }
    let server = start_on(data.path(), store.clone()).await;
    let addr = server.addr;
    let (sue, bob, ivan) = (
        sign_in(addr, "acme", "sue").await,
        sign_in(addr, "acme", "bob").await,
        sign_in(addr, "globex", "ivan").await,
    );

    // Every transcript of the tenant, the latest started first, a page at a time.
    let pages = transcript_pages(addr, &sue, "").await;
    let ids = transcript_ids(&pages);
    assert_eq!(ids.len(), ENDED + 2);
    assert_eq!(pages.len(), (ENDED + 2).div_ceil(MAX_TRANSCRIPTS));
    assert_eq!(ids[0], format!("past-{:05}", ENDED - 1));
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "each once"
    );
    let started: Vec<i64> = pages
        .iter()
        .flat_map(|page| page["transcripts"].as_array().expect("list").clone())
        .map(|t| t["started_at"].as_i64().expect("started"))
        .collect();
    assert!(started.windows(2).all(|w| w[0] >= w[1]), "the latest first");

    // A text search looks at a fixed number of chats a page, says how far back it has
    // looked, and goes on from there until it has looked at every chat.
    let needle = format!("answer%20{}", ENDED - 766);
    let pages = transcript_pages(addr, &sue, &format!("q={needle}")).await;
    assert_eq!(transcript_ids(&pages), [format!("past-{:05}", ENDED - 766)]);
    assert_eq!(pages.len(), (ENDED + 2).div_ceil(CHATS_LOOKED_AT));
    assert_eq!(
        pages[0]["searched_to"],
        past_started(ENDED - CHATS_LOOKED_AT),
        "the first page looked at the latest {CHATS_LOOKED_AT} chats"
    );
    let searched: Vec<i64> = pages
        .iter()
        .filter_map(|page| page["searched_to"].as_i64())
        .collect();
    assert_eq!(searched.len(), pages.len() - 1, "every page but the last");
    assert!(
        searched.windows(2).all(|w| w[0] > w[1]),
        "further back each page"
    );
    assert!(pages.last().expect("a page")["searched_to"].is_null());

    // Within one chat too: a page reads at most its budget of messages, the next goes on.
    let pages = transcript_pages(addr, &ivan, "q=NEEDLE").await;
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(transcript_ids(&pages), ["long"]);
    assert_eq!(chat_ids(&pages[0]["transcripts"]), Vec::<String>::new());

    // Reading that chat's transcript: a page of messages at a time, each naming where
    // the next starts; the download is the whole of it.
    let mut after = Some(0);
    let mut read = Vec::new();
    while let Some(from) = after {
        let (status, page) = http(
            addr,
            "GET",
            &format!("/api/transcripts/long?after={from}"),
            Some(&ivan),
            "",
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let messages = page["messages"].as_array().expect("messages");
        assert!(messages.len() <= console_domain::service::MAX_PAGE);
        read.extend(
            messages
                .iter()
                .map(|m| m["seq"].as_u64().expect("a number")),
        );
        after = page["next"].as_u64();
        assert!(read.len() <= long as usize, "the pages end");
    }
    assert_eq!(
        read,
        (1..=long).collect::<Vec<_>>(),
        "every message once, in order"
    );
    let (status, page) = http(
        addr,
        "GET",
        "/api/transcripts/long?after=2490&limit=5",
        Some(&ivan),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(5));
    assert_eq!(page["next"], 2495);
    let (status, body) = http(
        addr,
        "GET",
        "/api/transcripts/long?after=x",
        Some(&ivan),
        "",
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("bad_request")),
        "{body}"
    );
    let (status, whole) = http(
        addr,
        "GET",
        "/api/transcripts/long/download?format=json",
        Some(&ivan),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        whole["messages"].as_array().map(Vec::len),
        Some(long as usize),
        "the download is the whole chat"
    );

    // Filters by time, agent and group resolve through their keys.
    let (from, to) = (past_started(990), past_started(1000));
    let pages = transcript_pages(addr, &sue, &format!("from={from}&to={to}")).await;
    let expected: Vec<String> = (990..=1000).rev().map(|n| format!("past-{n:05}")).collect();
    assert_eq!(transcript_ids(&pages), expected);
    assert_eq!(pages.len(), 1);
    let with_bob = transcript_pages(addr, &sue, "agent=bob").await;
    let of_bob = transcript_pages(addr, &bob, "").await;
    assert_eq!(transcript_ids(&with_bob), transcript_ids(&of_bob));
    assert_eq!(transcript_ids(&of_bob).len(), ENDED / COLLEAGUES.len() + 1);
    for page in transcript_pages(addr, &sue, "group=support").await {
        for transcript in page["transcripts"].as_array().expect("list") {
            let with = &transcript["participants"][1]["id"];
            assert!(
                ["dan", "eve", "finn", "sue"].contains(&with.as_str().expect("id")),
                "{transcript}"
            );
        }
    }
    let (status, own) = http(addr, "GET", "/api/transcripts?agent=cara", Some(&bob), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        chat_ids(&own["transcripts"]),
        Vec::<String>::new(),
        "an agent reads her own only"
    );

    // Bad input is refused, never wrapped or ignored.
    for query in [
        "to=9999999999999999999",
        "from=9223372036854775808",
        "cursor=nonsense",
        "limit=x",
    ] {
        let (status, body) = http(
            addr,
            "GET",
            &format!("/api/transcripts?{query}"),
            Some(&sue),
            "",
        )
        .await;
        assert_eq!(
            (status, &body["code"]),
            (400, &json!("bad_request")),
            "{query}: {body}"
        );
    }
    server.stop().await;
}
