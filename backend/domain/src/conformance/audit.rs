//! The audit trail of transcripts: every supervisor's read kept, listed per chat, the
//! latest first, a page at a time; no other chat's or tenant's among them.

use crate::model::TranscriptRead;
use crate::ports::{ReadCursor, Store};
use protocol::http::ReadKind;

fn read(tenant: &str, chat: &str, id: &str, at: i64, kind: ReadKind) -> TranscriptRead {
    TranscriptRead {
        id: id.into(),
        tenant: tenant.into(),
        chat: chat.into(),
        by: "sue".into(),
        by_name: "Sue Grant".into(),
        at,
        kind,
        from_seq: 1,
        to_seq: 20,
    }
}

pub(super) async fn transcript_reads_are_kept_and_listed_latest_first(store: &dyn Store) {
    // Out of order, two in one millisecond, and reads of another chat and tenant.
    for (id, at) in [
        ("r2", 200),
        ("r1", 100),
        ("r4", 300),
        ("r3", 300),
        ("r5", 500),
    ] {
        let kind = if id == "r4" {
            ReadKind::Download
        } else {
            ReadKind::Read
        };
        store
            .record_read(&read("t1", "c1", id, at, kind))
            .await
            .expect("kept");
    }
    store
        .record_read(&read("t1", "c2", "other-chat", 400, ReadKind::Read))
        .await
        .expect("kept");
    store
        .record_read(&read("t2", "c1", "other-tenant", 400, ReadKind::Read))
        .await
        .expect("kept");
    let ids = |reads: &[TranscriptRead]| reads.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let (t1, c1) = ("t1".into(), "c1".into());
    let all = store.reads_of(&t1, &c1, None, 10).await.expect("listed");
    assert_eq!(
        ids(&all),
        ["r5", "r4", "r3", "r2", "r1"],
        "the latest first; in one millisecond, the greater id first"
    );
    assert_eq!(
        all[1],
        read("t1", "c1", "r4", 300, ReadKind::Download),
        "as kept"
    );
    let first = store.reads_of(&t1, &c1, None, 2).await.expect("a page");
    assert_eq!(ids(&first), ["r5", "r4"]);
    let cursor = ReadCursor {
        at: first[1].at,
        id: first[1].id.clone(),
    };
    let next = store
        .reads_of(&t1, &c1, Some(&cursor), 2)
        .await
        .expect("the next page");
    assert_eq!(ids(&next), ["r3", "r2"]);
    let none = store.reads_of(&t1, &c1, None, 0).await.expect("none");
    assert!(none.is_empty(), "a page of none");
    let other = store
        .reads_of(&"t2".into(), &c1, None, 10)
        .await
        .expect("listed");
    assert_eq!(ids(&other), ["other-tenant"]);
}
