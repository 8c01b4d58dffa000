use super::*;
use console_domain::conformance;
use futures_executor::block_on;
use protocol::Role;
use std::path::{Path, PathBuf};

fn fresh() -> (tempfile::TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(&dir.path().join("store.redb")).expect("open");
    (dir, store)
}

/// Opens chat `id` of tenant t1 between Ann and `with`, and Ann says `body` in it.
fn open_and_say(store: &EmbeddedStore, id: &str, with: &str, body: &str) {
    let tenant = TenantId::from("t1");
    let chat = Chat::new(
        tenant.clone(),
        id.into(),
        "ann".into(),
        with.into(),
        1,
        None,
    );
    block_on(store.open_chat(&chat)).expect("open chat");
    block_on(store.append_message(&tenant, &id.into(), &"ann".into(), "m1", body, 2))
        .expect("append");
}

/// One conformance check on a fresh store.
fn conformance_check(name: &str) {
    let (_dir, store) = fresh();
    block_on(conformance::run(name, &store));
}

mod conformance_suite {
    console_domain::conformance_tests!(super::conformance_check);
}

#[test]
fn messages_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let tenant = TenantId::from("t1");
    {
        let store = EmbeddedStore::open(&path).expect("open");
        open_and_say(&store, "c1", "bob", "kept");
    }
    let store = EmbeddedStore::open(&path).expect("reopen");
    let messages = block_on(store.messages(&tenant, &"c1".into(), 0, 10)).expect("read");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "kept");
}

/// What a crash leaves on disk: the files as they are while the store is open (the page
/// cache survives a killed process; a power cut loses only what was never synced).
fn files_of(dir: &Path, into: &Path, with_journal: bool) -> PathBuf {
    std::fs::create_dir_all(into).expect("crash dir");
    std::fs::copy(dir.join("store.redb"), into.join("store.redb")).expect("copies the store");
    if with_journal {
        std::fs::copy(
            dir.join("store.redb.journal"),
            into.join("store.redb.journal"),
        )
        .expect("copies the journal");
    }
    into.join("store.redb")
}

#[test]
fn after_a_crash_the_store_opens_with_everything_committed_and_needs_its_journal_for_it() {
    for check in conformance::CHECKS {
        let (dir, store) = fresh();
        block_on(conformance::run(check, &store));
        // Enough messages that the journal was checkpointed and started over on the way.
        let tenant = TenantId::from("crash");
        let chat = Chat::new(
            tenant.clone(),
            "c".into(),
            "ann".into(),
            "bob".into(),
            1,
            None,
        );
        block_on(store.open_chat(&chat)).expect("open chat");
        for n in 0..300 {
            block_on(store.append_message(
                &tenant,
                &"c".into(),
                &"ann".into(),
                &format!("m{n}"),
                "hi",
                2,
            ))
            .expect("append");
        }
        let committed = store.snapshot().expect("snapshot");

        let crashed = tempfile::tempdir().expect("temp dir");
        let reopened = EmbeddedStore::open(&files_of(dir.path(), crashed.path(), true))
            .expect("opens after the crash");
        assert_eq!(reopened.snapshot().expect("snapshot"), committed, "{check}");

        // The redb file alone is behind: the journal holds what was committed since the
        // last checkpoint (so this test shows the journal at work).
        let without = tempfile::tempdir().expect("temp dir");
        let behind = EmbeddedStore::open(&files_of(dir.path(), without.path(), false))
            .expect("opens without its journal");
        assert_ne!(behind.snapshot().expect("snapshot"), committed, "{check}");
        drop(store);
    }
}

#[test]
fn a_snapshot_holds_what_is_durable_and_leaves_out_what_a_restart_may_lose() {
    let (_dir, store) = fresh();
    let tenant = TenantId::from("t1");
    block_on(conformance::run("directory_round_trips", &store));
    let before = store.snapshot().expect("snapshot");
    assert!(before.tables["agents"].len() >= 2);
    block_on(store.put_ticket(&Ticket {
        id: "tk".into(),
        tenant: tenant.clone(),
        agent: "ann".into(),
        expires_at: 1,
    }))
    .expect("ticket");
    block_on(store.put_connection(&Connection {
        id: ConnectionId("c9".into()),
        tenant: tenant.clone(),
        agent: "ann".into(),
        connected_at: 1,
        group: Some("sales".into()),
        supervisor: false,
        check_at: 0,
    }))
    .expect("connection");
    block_on(store.allow("k", 1000, 5)).expect("limit");
    let quota = Quota {
        max: 2,
        window_ms: 1000,
    };
    block_on(store.take("k", quota, 5)).expect("quota");
    assert_eq!(
        store.snapshot().expect("snapshot"),
        before,
        "tickets, connections and limits are not in it"
    );
    let chat = Chat::new(
        tenant.clone(),
        "c1".into(),
        "ann".into(),
        "bob".into(),
        1,
        None,
    );
    block_on(store.open_chat(&chat)).expect("open chat");
    block_on(store.append_message(&tenant, &"c1".into(), &"ann".into(), "m1", "hi", 2))
        .expect("append");
    let after = store.snapshot().expect("snapshot");
    let differences = before.differences(&after);
    for table in [
        "chats",
        "started",
        "open_pairs",
        "messages",
        "send_keys",
        "open_chats",
        "partners",
        "pending",
    ] {
        assert!(
            differences
                .iter()
                .any(|d| d.starts_with(&format!("{table}: added"))),
            "{table} is in the snapshot: {differences:?}"
        );
    }
    // started: the tenant's, ann's and bob's (no groups kept in this chat).
    assert_eq!(after.len(), before.len() + 12);
}

#[test]
fn expired_tickets_are_swept_so_unused_tickets_do_not_pile_up() {
    let (_dir, store) = fresh();
    let held = |store: &EmbeddedStore| {
        let txn = store.read_txn().expect("read");
        redb::ReadableTableMetadata::len(&txn.open_table(TICKETS).expect("tickets")).expect("len")
    };
    // Tickets issued a second apart, never used: 20,000 of them, as a console that asks
    // for tickets and never connects would leave.
    for n in 0..20_000_i64 {
        let ticket = Ticket {
            id: format!("ticket-{n}"),
            tenant: "t1".into(),
            agent: "ann".into(),
            expires_at: n * 1000 + 30_000,
        };
        block_on(store.put_ticket(&ticket)).expect("ticket");
    }
    let most = TICKET_SWEEP_EVERY + (TICKET_SWEEP_GRACE_MS / 1000) as u64 + 1;
    assert!(
        held(&store) <= most,
        "{} tickets held, at most {most} expected",
        held(&store)
    );
    let newest = block_on(store.take_ticket("ticket-19999")).expect("take");
    assert!(newest.is_some(), "a ticket within its lifetime is kept");
}

#[test]
fn rate_limit_keys_unused_for_an_hour_are_swept() {
    let (_dir, store) = fresh();
    for n in 0..LIMIT_SWEEP_EVERY {
        let key = format!("typing {n}");
        assert!(block_on(store.allow(&key, 1000, 0)).expect("allow"));
    }
    let later = LIMIT_KEPT_MS + 1;
    for n in 0..LIMIT_SWEEP_EVERY {
        block_on(store.allow("typing now", 1000, later + n as i64 * 1000)).expect("allow");
    }
    assert!(
        store.limits().last.len() < 10,
        "{} keys kept",
        store.limits().last.len()
    );
}

#[test]
fn a_file_written_before_the_inbox_tables_is_indexed_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let tenant = TenantId::from("t1");
    {
        let store = EmbeddedStore::open(&path).expect("open");
        open_and_say(&store, "c1", "bob", "hi");
        let other = Chat::new(
            tenant.clone(),
            "c2".into(),
            "ann".into(),
            "cat".into(),
            1,
            None,
        );
        block_on(store.open_chat(&other)).expect("open chat");
        block_on(store.end_chat(&tenant, &"c2".into(), &"cat".into(), 5)).expect("end");
        let agent = |id: &str, group: &str| Agent {
            tenant: tenant.clone(),
            id: id.into(),
            name: id.into(),
            group: group.into(),
            role: Role::Agent,
            state: AgentState::LoggedOut,
            state_since: 0,
        };
        let directory = [
            agent("ann", "sales"),
            agent("bob", "sales"),
            agent("cat", "support"),
        ];
        block_on(store.put_tenant(
            &Tenant {
                id: tenant.clone(),
                name: "T1".into(),
                response_target_ms: None,
            },
            &directory,
        ))
        .expect("directory");
        // As an earlier version left it: no inbox tables, no version mark.
        store
            .write_now(|txn| {
                for table in [OPEN_CHATS, ENDED_CHATS, PARTNERS, STARTED, GROUP_AGENTS] {
                    txn.delete_table(table).map_err(fail)?;
                }
                txn.delete_table(PENDING).map_err(fail)?;
                txn.delete_table(META).map_err(fail)?;
                Ok(())
            })
            .expect("undo the inbox tables");
    }
    let store = EmbeddedStore::open(&path).expect("reopen");
    let ann = AgentId::from("ann");
    let open = block_on(store.open_chats_of(&tenant, &ann, None, 10)).expect("open");
    assert_eq!(open.len(), 1);
    let ended = block_on(store.ended_chats_of(&tenant, &ann, None, 10)).expect("ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(
        block_on(store.pending_count(&tenant, &"bob".into())).expect("bob"),
        1
    );
    assert!(block_on(store.has_partner(&tenant, &"cat".into(), &ann)).expect("cat"));
    let started = |index: StartedIndex| -> Vec<String> {
        block_on(store.chats_started(&tenant, &index, None, 10))
            .expect("started")
            .into_iter()
            .map(|chat| chat.id.to_string())
            .collect()
    };
    assert_eq!(started(StartedIndex::Tenant).len(), 2);
    assert_eq!(started(StartedIndex::Agent("cat".into())), ["c2"]);
    assert_eq!(
        started(StartedIndex::Group("support".into())),
        ["c2"],
        "the groups its participants are in now"
    );
    let support = block_on(store.agents_of_group(&tenant, &"support".into())).expect("group");
    assert_eq!(support.len(), 1, "the directory by group, built too");
}

#[test]
fn finished_quota_windows_are_swept_so_the_store_does_not_grow_with_connections() {
    let (_dir, store) = fresh();
    let quota = Quota {
        max: 1,
        window_ms: 1000,
    };
    let count = |store: &EmbeddedStore| store.limits().quotas.len() as u64;
    for i in 0..QUOTA_SWEEP_EVERY - 1 {
        assert!(block_on(store.take(&format!("connection {i}"), quota, 10_000)).expect("take"));
    }
    assert_eq!(count(&store), QUOTA_SWEEP_EVERY - 1);
    // Later, in another window: the sweep forgets every finished window.
    assert!(block_on(store.take("late", quota, 20_000)).expect("take"));
    assert_eq!(count(&store), 1, "only the window still open is kept");
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
