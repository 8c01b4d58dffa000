//! The store conformance suite against a DynamoDB-compatible server over its real
//! protocol: moto's server (PyPI `moto[server]`), started here on a free port of
//! 127.0.0.1. `cargo xtask test` installs it and sets `MOTO_SERVER`.

mod moto;

use console_domain::conformance;
use console_store_dynamo::{DynamoStore, create_table};
use moto::{client, start as start_moto};

/// One conformance check on a fresh table of its own emulator.
fn conformance_check(name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let moto = start_moto();
        let client = client(&moto.url).await;
        create_table(&client, "console")
            .await
            .expect("the table is created");
        conformance::run(name, &DynamoStore::new(client, "console")).await;
    });
}

mod conformance_suite {
    console_domain::conformance_tests!(super::conformance_check);
}

#[tokio::test]
async fn concurrent_sends_to_one_chat_get_gapless_sequence_numbers() {
    use console_domain::Chat;
    use console_domain::ports::{Appended, ChatStore};
    let moto = start_moto();
    let client = client(&moto.url).await;
    create_table(&client, "race").await.expect("table");
    let store = DynamoStore::new(client, "race");
    let tenant = protocol::TenantId::from("t1");
    let chat = Chat::new(
        tenant.clone(),
        "c1".into(),
        "ann".into(),
        "bob".into(),
        0,
        None,
    );
    store.open_chat(&chat).await.expect("open");
    let sends = (0..12).map(|i| {
        let store = store.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let from = protocol::AgentId::from(if i % 2 == 0 { "ann" } else { "bob" });
            // Each send is tried twice, as a client retrying after a lost acknowledgement.
            let first = store
                .append_message(&tenant, &"c1".into(), &from, &format!("m{i}"), "hi", i)
                .await;
            let again = store
                .append_message(&tenant, &"c1".into(), &from, &format!("m{i}"), "hi", i)
                .await;
            (first, again)
        })
    });
    let mut seqs = Vec::new();
    for send in sends {
        let (first, again) = send.await.expect("joined");
        let seq_of = |a: Appended| match a {
            Appended::Stored { message, .. } | Appended::Duplicate { message, .. } => message.seq,
            other => panic!("unexpected {other:?}"),
        };
        let (first, again) = (seq_of(first.expect("first")), seq_of(again.expect("again")));
        assert_eq!(first, again, "a retry gets the same sequence number");
        seqs.push(first);
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=12).collect::<Vec<u64>>(),
        "gapless, each stored once"
    );
    let stored = store
        .messages(&tenant, &"c1".into(), 0, 100)
        .await
        .expect("read");
    assert_eq!(stored.len(), 12);
}

#[tokio::test]
async fn a_page_of_chats_goes_on_after_a_chat_that_has_left_the_list_since() {
    use console_domain::Chat;
    use console_domain::ports::{ChatStore, EndedCursor};
    let moto = start_moto();
    let client = client(&moto.url).await;
    create_table(&client, "pages").await.expect("table");
    let store = DynamoStore::new(client, "pages");
    let (t1, ann) = (
        protocol::TenantId::from("t1"),
        protocol::AgentId::from("ann"),
    );
    for (id, with) in [("c1", "bob"), ("c2", "cat"), ("c3", "dan"), ("c4", "eve")] {
        let chat = Chat::new(t1.clone(), id.into(), ann.clone(), with.into(), 1, None);
        store.open_chat(&chat).await.expect("open");
    }
    let ids = |chats: Vec<Chat>| {
        chats
            .into_iter()
            .map(|c| c.id.to_string())
            .collect::<Vec<_>>()
    };
    let first = store
        .open_chats_of(&t1, &ann, None, 2)
        .await
        .expect("first page");
    assert_eq!(ids(first), ["c1", "c2"]);
    // The page's last chat ends before the next page is asked for: its key is gone.
    store
        .end_chat(&t1, &"c2".into(), &ann, 50)
        .await
        .expect("end c2");
    let next = store
        .open_chats_of(&t1, &ann, Some(&"c2".into()), 2)
        .await
        .expect("next page");
    assert_eq!(ids(next), ["c3", "c4"], "from the first chat after it");
    store
        .end_chat(&t1, &"c3".into(), &ann, 60)
        .await
        .expect("end c3");
    let ended = store
        .ended_chats_of(&t1, &ann, None, 1)
        .await
        .expect("ended");
    assert_eq!(ids(ended.clone()), ["c3"]);
    let cursor = EndedCursor::after(&ended[0]);
    let older = store
        .ended_chats_of(&t1, &ann, Some(&cursor), 5)
        .await
        .expect("older");
    assert_eq!(ids(older), ["c2"]);
    assert_eq!(
        ids(store.open_chats_of(&t1, &ann, None, 0).await.expect("none")),
        Vec::<String>::new(),
        "a page of none is empty, never a Query with Limit 0 (which DynamoDB refuses)"
    );
}
