//! The testing layer's own tests: the memory store through the conformance suite, the
//! pusher and the clock.

use super::*;
use crate::conformance;
use crate::model::ConnectionId;
use crate::ports::{Clock, PushOutcome, Pusher};
use futures_executor::block_on;

/// One conformance check on a fresh store.
fn conformance_check(name: &str) {
    block_on(conformance::run(name, &MemoryStore::new()));
}

mod conformance_suite {
    crate::conformance_tests!(super::conformance_check);
}

#[test]
fn the_recording_pusher_keeps_every_frame_and_answers_as_told() {
    let pusher = RecordingPusher::new();
    let (a1, b1) = (ConnectionId("a1".into()), ConnectionId("b1".into()));
    pusher.gone(&b1);
    assert_eq!(
        block_on(pusher.post(&a1, r#"{"type":"pong"}"#)),
        PushOutcome::Delivered
    );
    assert_eq!(
        block_on(pusher.post(&b1, r#"{"type":"pong"}"#)),
        PushOutcome::Gone
    );
    assert_eq!(block_on(pusher.probe(&b1)), PushOutcome::Gone);
    pusher.answer(&a1, PushOutcome::Failed("API Gateway answered 500".into()));
    assert!(matches!(
        block_on(pusher.post(&a1, r#"{"type":"ack"}"#)),
        PushOutcome::Failed(_)
    ));
    assert_eq!(pusher.types_to(&a1), ["pong", "ack"]);
    assert_eq!(
        pusher.types_to(&b1),
        ["pong"],
        "a post answered Gone was made"
    );
    assert_eq!(pusher.take().len(), 3);
    assert!(pusher.pushed().is_empty(), "taken");
    pusher.answer(&b1, PushOutcome::Delivered);
    assert_eq!(block_on(pusher.probe(&b1)), PushOutcome::Delivered);
}

#[test]
fn the_recording_pusher_takes_the_frames_of_one_connection_and_keeps_the_others() {
    let pusher = RecordingPusher::new();
    let (a1, b1) = (ConnectionId("a1".into()), ConnectionId("b1".into()));
    for (to, kind) in [(&a1, "ack"), (&b1, "message"), (&a1, "agent")] {
        block_on(pusher.post(to, &format!(r#"{{"type":"{kind}"}}"#)));
    }
    let taken: Vec<_> = pusher
        .take_frames_to(&a1)
        .into_iter()
        .map(|frame| frame["type"].clone())
        .collect();
    assert_eq!(taken, ["ack", "agent"]);
    assert!(pusher.take_frames_to(&a1).is_empty(), "taken");
    assert_eq!(pusher.types_to(&b1), ["message"], "b1's frame is kept");
    assert_eq!(pusher.pushed().len(), 1);
}

#[test]
fn the_manual_clock_moves_only_when_told_and_counts_its_ids() {
    let clock = ManualClock::new(1_000);
    assert_eq!(clock.now_ms(), 1_000);
    clock.advance(250);
    assert_eq!(clock.now_ms(), 1_250);
    clock.set(10);
    assert_eq!(clock.now_ms(), 10);
    assert_eq!(
        [clock.new_id(), clock.new_id(), clock.new_id()],
        ["id-1", "id-2", "id-3"]
    );
}
