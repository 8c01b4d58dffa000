//! Chats listed by start time, the latest first: per tenant, per participant and per
//! participant's group, paged from any point.

use crate::model::Chat;
use crate::ports::{StartedCursor, StartedIndex, Store};
use protocol::{ChatId, TenantId};

fn chat(tenant: &str, id: &str, by: (&str, &str), with: (&str, &str), at: i64) -> Chat {
    Chat::new(
        tenant.into(),
        id.into(),
        by.0.into(),
        with.0.into(),
        at,
        None,
    )
    .in_groups([by.1.into(), with.1.into()])
}

async fn listed(
    store: &dyn Store,
    tenant: &str,
    index: &StartedIndex,
    after: Option<&StartedCursor>,
    limit: usize,
) -> Vec<String> {
    store
        .chats_started(&TenantId::from(tenant), index, after, limit)
        .await
        .expect("chats by start time")
        .into_iter()
        .map(|chat| chat.id.to_string())
        .collect()
}

/// Every chat of an index, one page of `page` at a time.
pub(super) async fn every_chat(
    store: &dyn Store,
    tenant: &TenantId,
    index: &StartedIndex,
    page: usize,
) -> Vec<Chat> {
    let mut all: Vec<Chat> = Vec::new();
    loop {
        let after = all.last().map(StartedCursor::after);
        let chats = store
            .chats_started(tenant, index, after.as_ref(), page)
            .await
            .expect("chats by start time");
        let done = chats.len() < page;
        all.extend(chats);
        if done {
            return all;
        }
    }
}

pub(super) async fn chats_are_listed_by_start_time(store: &dyn Store) {
    let (sales, support) = ("sales", "support");
    for chat in [
        chat("t1", "c1", ("ann", sales), ("bob", support), 100),
        chat("t1", "c2", ("cat", sales), ("dan", sales), 300),
        chat("t1", "c3", ("ann", sales), ("cat", sales), 200),
        chat("t1", "c4", ("bob", support), ("dan", sales), 300),
        chat("t2", "c5", ("ann", sales), ("bob", support), 250),
        Chat::new(
            "t1".into(),
            "c6".into(),
            "eve".into(),
            "fay".into(),
            50,
            None,
        ),
    ] {
        store.open_chat(&chat).await.expect("open");
    }
    store
        .end_chat(&"t1".into(), &"c1".into(), &"ann".into(), 400)
        .await
        .expect("end");
    let (_, created) = store
        .open_chat(&chat("t1", "c7", ("cat", sales), ("ann", sales), 500))
        .await
        .expect("open again");
    assert!(!created, "ann and cat have c3 open");

    let tenant = StartedIndex::Tenant;
    let all = listed(store, "t1", &tenant, None, 10).await;
    assert_eq!(
        all,
        ["c2", "c4", "c3", "c1", "c6"],
        "the latest started first, by id at the same time; ending a chat keeps its place; \
         a chat that was not opened is not listed"
    );
    let ann = StartedIndex::Agent("ann".into());
    assert_eq!(listed(store, "t1", &ann, None, 10).await, ["c3", "c1"]);
    let group = |g: &str| StartedIndex::Group(g.into());
    assert_eq!(
        listed(store, "t1", &group(sales), None, 10).await,
        ["c2", "c4", "c3", "c1"],
        "a chat is in each of its participants' groups"
    );
    assert_eq!(
        listed(store, "t1", &group(support), None, 10).await,
        ["c4", "c1"]
    );
    assert_eq!(
        listed(store, "t1", &group("billing"), None, 10).await,
        Vec::<String>::new()
    );
    assert_eq!(listed(store, "t2", &tenant, None, 10).await, ["c5"]);
    assert_eq!(listed(store, "t2", &ann, None, 10).await, ["c5"]);

    // Paged one at a time, from each chat on.
    let paged: Vec<String> = every_chat(store, &"t1".into(), &tenant, 1)
        .await
        .into_iter()
        .map(|chat| chat.id.to_string())
        .collect();
    assert_eq!(paged, all);
    let c2 = store
        .chat(&"t1".into(), &ChatId::from("c2"))
        .await
        .expect("c2")
        .expect("c2 exists");
    assert_eq!(
        listed(store, "t1", &tenant, Some(&StartedCursor::after(&c2)), 2).await,
        ["c4", "c3"]
    );
    for (at, expected) in [
        (i64::MAX, &["c2", "c4", "c3", "c1", "c6"][..]),
        (300, &["c2", "c4", "c3", "c1", "c6"]),
        (299, &["c3", "c1", "c6"]),
        (100, &["c1", "c6"]),
        (49, &[]),
        (-5, &[]),
    ] {
        assert_eq!(
            listed(
                store,
                "t1",
                &tenant,
                Some(&StartedCursor::at_or_before(at)),
                10
            )
            .await,
            expected,
            "started at or before {at}"
        );
    }
}
