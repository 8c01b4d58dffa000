use super::*;
use console_domain::conformance;
use futures_executor::block_on;

fn fresh() -> (tempfile::TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(&dir.path().join("store.redb")).expect("open");
    (dir, store)
}

#[test]
fn passes_every_store_conformance_check() {
    for check in conformance::CHECKS {
        let (_dir, store) = fresh();
        block_on(conformance::run(check, &store));
    }
}

#[test]
fn messages_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let tenant = TenantId::from("t1");
    {
        let store = EmbeddedStore::open(&path).expect("open");
        let chat = Chat::new(
            tenant.clone(),
            "c1".into(),
            "ann".into(),
            "bob".into(),
            1,
            None,
        );
        block_on(store.open_chat(&chat)).expect("open chat");
        block_on(store.append_message(&tenant, &"c1".into(), &"ann".into(), "m1", "kept", 2))
            .expect("append");
    }
    let store = EmbeddedStore::open(&path).expect("reopen");
    let messages = block_on(store.messages(&tenant, &"c1".into(), 0, 10)).expect("read");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "kept");
}
