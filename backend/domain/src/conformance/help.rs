//! Help requests: taken once whatever the race, listed while they wait, one hand per agent.

use super::agent;
use crate::help::{HelpRequest, Taken};
use crate::ports::Store;
use crate::{Agent, DomainError};
use protocol::ChatId;
use protocol::help::{HelpKind, HelpState};

const TARGET_MS: i64 = 60_000;

fn question(id: &str, asker: &Agent, at: i64) -> HelpRequest {
    HelpRequest::new(
        id.into(),
        asker,
        HelpKind::Question,
        Some(format!("question {id}")),
        Some("call-7".into()),
        at,
        TARGET_MS,
    )
}

fn hand(id: &str, asker: &Agent, at: i64) -> HelpRequest {
    HelpRequest::new(id.into(), asker, HelpKind::Hand, None, None, at, TARGET_MS)
}

pub(super) async fn help_requests_are_taken_once(store: &dyn Store) {
    let (ann, bob, cat) = (
        agent("t1", "ann", "sales"),
        agent("t1", "bob", "sales"),
        agent("t1", "cat", "sales"),
    );
    let asked = question("q1", &ann, 1_000);
    assert_eq!(
        store.put_help(&asked).await.expect("put"),
        (asked.clone(), true)
    );
    let take = |who: &Agent, now| {
        let who = who.clone();
        async move {
            store
                .take_help(&"t1".into(), &"q1".into(), &who, now)
                .await
                .expect("take")
                .expect("the request exists")
        }
    };
    let (taken, how) = take(&bob, 2_000).await.expect("bob takes it");
    assert_eq!(how, Taken::Now);
    assert_eq!(taken.state, HelpState::Taken);
    assert_eq!(taken.taken_by, Some("bob".into()));
    assert!(matches!(
        take(&cat, 2_001).await,
        Err(DomainError::AlreadyTaken(_))
    ));
    assert_eq!(take(&bob, 2_002).await.expect("a retry").1, Taken::Before);
    assert!(matches!(
        take(&ann, 2_003).await,
        Err(DomainError::Forbidden(_))
    ));
    let chat = ChatId::from("c1");
    let attached = store
        .attach_help_chat(&"t1".into(), &"q1".into(), &chat)
        .await
        .expect("attach")
        .expect("taken");
    assert_eq!(attached.chat_id, Some(chat.clone()));
    let stored = store
        .help(&"t1".into(), &"q1".into())
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(stored.taken_by, Some("bob".into()));
    assert_eq!(stored.chat_id, Some(chat));
    assert_eq!(stored.closed_at, Some(2_000), "the retry changed nothing");
    assert!(
        store
            .take_help(&"t2".into(), &"q1".into(), &bob, 2_004)
            .await
            .expect("take")
            .is_none(),
        "another tenant has no such request"
    );

    // Withdrawn, it can be taken by nobody; taken, it cannot be withdrawn.
    let second = question("q2", &ann, 3_000);
    store.put_help(&second).await.expect("put");
    let (withdrawn, changed) = store
        .withdraw_help(&"t1".into(), &"q2".into(), &ann, 3_500)
        .await
        .expect("withdraw")
        .expect("exists")
        .expect("hers, waiting");
    assert!(changed);
    assert_eq!(withdrawn.state, HelpState::Withdrawn);
    let late = store
        .take_help(&"t1".into(), &"q2".into(), &cat, 3_700)
        .await
        .expect("take")
        .expect("exists");
    assert!(matches!(late, Err(DomainError::AlreadyTaken(_))));
    let refused = store
        .withdraw_help(&"t1".into(), &"q1".into(), &ann, 3_800)
        .await
        .expect("withdraw")
        .expect("exists");
    assert!(matches!(refused, Err(DomainError::AlreadyTaken(_))));
}

pub(super) async fn of_many_takers_at_once_one_wins(store: &dyn Store) {
    let ann = agent("t1", "ann", "sales");
    store
        .put_help(&question("race", &ann, 1_000))
        .await
        .expect("put");
    let takers: Vec<Agent> = (0..20)
        .map(|n| agent("t1", &format!("taker{n}"), "sales"))
        .collect();
    let attempts = futures_util::future::join_all(takers.iter().map(|taker| async move {
        store
            .take_help(&"t1".into(), &"race".into(), taker, 2_000)
            .await
            .expect("take")
            .expect("exists")
    }))
    .await;
    let winners: Vec<_> = attempts
        .iter()
        .filter_map(|attempt| attempt.as_ref().ok())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one taker: {attempts:?}");
    assert_eq!(winners[0].1, Taken::Now);
    assert!(
        attempts
            .iter()
            .filter_map(|attempt| attempt.as_ref().err())
            .all(|refusal| matches!(refusal, DomainError::AlreadyTaken(_))),
        "every other taker is told it is taken"
    );
}

pub(super) async fn waiting_help_is_listed_oldest_first_and_hands_are_one_per_agent(
    store: &dyn Store,
) {
    let (ann, bob) = (agent("t1", "ann", "sales"), agent("t1", "bob", "support"));
    let zed = agent("t2", "zed", "sales");
    store
        .put_help(&question("a", &ann, 3_000))
        .await
        .expect("put");
    store
        .put_help(&question("b", &bob, 1_000))
        .await
        .expect("put");
    store
        .put_help(&question("c", &ann, 2_000))
        .await
        .expect("put");
    store
        .put_help(&question("z", &zed, 500))
        .await
        .expect("put");
    let (raised, new) = store.put_help(&hand("h1", &bob, 4_000)).await.expect("put");
    assert!(new);
    let (again, new) = store.put_help(&hand("h2", &bob, 5_000)).await.expect("put");
    assert!(!new, "one hand per agent at a time");
    assert_eq!(again, raised);

    let ids = |requests: Vec<HelpRequest>| -> Vec<String> {
        requests.into_iter().map(|r| r.id.0).collect()
    };
    let tenant = "t1".into();
    assert_eq!(
        ids(store.waiting_help(&tenant, None, 10).await.expect("list")),
        ["b", "c", "a", "h1"],
        "the tenant's, oldest first across groups"
    );
    assert_eq!(
        ids(store.waiting_help(&tenant, None, 2).await.expect("list")),
        ["b", "c"]
    );
    assert_eq!(
        ids(store
            .waiting_help(&tenant, Some(&"sales".into()), 10)
            .await
            .expect("list")),
        ["c", "a"]
    );
    assert_eq!(
        ids(store
            .waiting_help(&"t2".into(), None, 10)
            .await
            .expect("list")),
        ["z"]
    );

    // Taken or withdrawn, a request leaves the listing; a lowered hand can be raised again.
    store
        .take_help(&tenant, &"c".into(), &agent("t1", "cat", "sales"), 6_000)
        .await
        .expect("take")
        .expect("exists")
        .expect("taken");
    store
        .withdraw_help(&tenant, &"h1".into(), &bob, 6_100)
        .await
        .expect("lower")
        .expect("exists")
        .expect("hers");
    assert_eq!(
        ids(store.waiting_help(&tenant, None, 10).await.expect("list")),
        ["b", "a"]
    );
    let (raised, new) = store.put_help(&hand("h3", &bob, 7_000)).await.expect("put");
    assert!(new, "raised again after lowering");
    assert_eq!(raised.id.0, "h3");
}
