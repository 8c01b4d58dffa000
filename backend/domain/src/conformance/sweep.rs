//! Connections asked after when their check is due: how one that died without its
//! `$disconnect` is found.

use super::connection;
use crate::model::Connection;
use crate::ports::Store;

fn due_at(id: &str, tenant: &str, check_at: i64) -> Connection {
    Connection {
        check_at,
        ..connection(id, tenant, "ann", "sales", false)
    }
}

async fn due(store: &dyn Store, now: i64, limit: usize) -> Vec<String> {
    store
        .connections_due(now, limit)
        .await
        .expect("connections due")
        .into_iter()
        .map(|c| c.id.0)
        .collect()
}

pub(super) async fn connections_are_checked_when_due(store: &dyn Store) {
    for connection in [
        due_at("a", "t1", 100),
        due_at("b", "t1", 300),
        due_at("c", "t2", 200),
        due_at("d", "t1", 500),
    ] {
        store.put_connection(&connection).await.expect("put");
    }
    assert_eq!(due(store, 50, 10).await, Vec::<String>::new());
    assert_eq!(
        due(store, 250, 10).await,
        ["a", "c"],
        "every tenant's, the earliest first"
    );
    assert_eq!(due(store, 250, 1).await, ["a"], "at most the limit");
    let a = due_at("a", "t1", 100);
    assert!(store.check_later(&a, 400).await.expect("check later"));
    assert_eq!(due(store, 250, 10).await, ["c"], "a's check moved on");
    assert_eq!(due(store, 450, 10).await, ["c", "b", "a"]);
    let moved = store
        .connections_due(450, 10)
        .await
        .expect("due")
        .into_iter()
        .find(|c| c.id.0 == "a")
        .expect("a is due");
    assert_eq!(moved.check_at, 400, "the record knows its next check");
    let c = store
        .delete_connection(&due_at("c", "t2", 200).id)
        .await
        .expect("delete")
        .expect("c was there");
    assert_eq!(
        due(store, 450, 10).await,
        ["b", "a"],
        "gone with the connection"
    );
    assert!(
        !store.check_later(&c, 600).await.expect("check later"),
        "a connection that is gone is not brought back"
    );
    assert_eq!(due(store, 1_000, 10).await, ["b", "a", "d"]);
    assert!(store.connection(&c.id).await.expect("read").is_none());
}
