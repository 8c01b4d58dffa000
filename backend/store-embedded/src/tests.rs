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

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Sends from both agents, with retries of earlier sends mixed in at random, are
        /// stored once each, under gapless sequence numbers, in the order first sent.
        #[test]
        fn retried_sends_are_stored_once_under_gapless_sequence_numbers(
            steps in prop::collection::vec((any::<bool>(), 0usize..10), 1..30)
        ) {
            let (_dir, store) = fresh();
            let tenant = TenantId::from("t1");
            let chat_id = ChatId::from("c1");
            block_on(store.open_chat(&Chat::new(tenant.clone(), chat_id.clone(), "ann".into(), "bob".into(), 0, None)))
                .expect("open");
            let mut sent: Vec<(AgentId, String)> = Vec::new();
            for (i, (from_ann, retry_of)) in steps.into_iter().enumerate() {
                let (from, id) = if retry_of < sent.len() && retry_of % 3 == 0 {
                    sent[retry_of].clone()
                } else {
                    let fresh = (AgentId::from(if from_ann { "ann" } else { "bob" }), format!("m{i}"));
                    sent.push(fresh.clone());
                    fresh
                };
                let outcome = block_on(store.append_message(&tenant, &chat_id, &from, &id, "x", i as i64))
                    .expect("append");
                let expected = sent.iter().position(|s| s.0 == from && s.1 == id).map(|p| p as u64 + 1);
                let seq = match outcome {
                    Appended::Stored { message, .. } | Appended::Duplicate { message, .. } => Some(message.seq),
                    _ => None,
                };
                prop_assert_eq!(seq, expected);
            }
            let stored = block_on(store.messages(&tenant, &chat_id, 0, 1000)).expect("read");
            prop_assert_eq!(stored.len(), sent.len());
            for (i, message) in stored.iter().enumerate() {
                prop_assert_eq!(message.seq, i as u64 + 1);
                prop_assert_eq!(&message.client_msg_id, &sent[i].1);
            }
        }
    }
}
