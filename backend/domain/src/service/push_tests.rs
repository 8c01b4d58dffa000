//! The use-cases seen through what they push: a `ChatService` over the testing layer
//! (the store in memory, a recording pusher, a clock moved by hand), each test a few
//! milliseconds on `block_on`.

use super::{ChatService, SEND_QUOTA};
use crate::directory::{import, parse};
use crate::error::DomainError;
use crate::model::{ConnectionId, Identity};
use crate::ports::{ChatStore, ConnectionStore, DirectoryStore, Unordered};
use crate::testing::{ManualClock, MemoryStore, RecordingPusher};
use futures_executor::block_on;
use protocol::{AgentState, ChatId};

/// Ann and Bob in sales, Cat in support, and Sue, a supervisor, who sees every group.
const DIRECTORY: &str = r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
    {"id":"ann","name":"Ann Lee","group":"sales","role":"agent"},
    {"id":"bob","name":"Bob Stone","group":"sales","role":"agent"},
    {"id":"cat","name":"Cat Moss","group":"support","role":"agent"},
    {"id":"sue","name":"Sue Grant","group":"support","role":"supervisor"}]}]}"#;

/// When every test starts (ms).
const START: i64 = 1_700_000_000_000;

struct World {
    store: MemoryStore,
    pusher: RecordingPusher,
    clock: ManualClock,
}

/// The directory imported, nobody connected, nothing pushed.
fn world() -> World {
    let world = World {
        store: MemoryStore::new(),
        pusher: RecordingPusher::new(),
        clock: ManualClock::new(START),
    };
    let directory = parse(DIRECTORY).expect("a valid directory");
    block_on(import(&world.store, directory)).expect("imported");
    world
}

fn who(agent: &str) -> Identity {
    Identity {
        tenant: "acme".into(),
        agent: agent.into(),
    }
}

fn connection(id: &str) -> ConnectionId {
    ConnectionId(id.into())
}

impl World {
    fn service(&self) -> ChatService<'_> {
        ChatService {
            store: &self.store,
            pusher: &self.pusher,
            clock: &self.clock,
            order: &Unordered,
            send_quota: SEND_QUOTA,
        }
    }

    /// Connects each `(connection, agent)`, then forgets what connecting pushed.
    fn connect(&self, connections: &[(&str, &str)]) {
        for (id, agent) in connections {
            block_on(self.service().connect(connection(id), &who(agent))).expect("connected");
        }
        self.pusher.take();
    }

    /// A chat `by` starts with `with` from connection `on`; what starting it pushed is
    /// forgotten.
    fn chat(&self, on: &str, by: &str, with: &str) -> ChatId {
        let chat =
            block_on(
                self.service()
                    .start_chat(&connection(on), &who(by), &with.into(), None),
            )
            .expect("started");
        self.pusher.take();
        chat.id
    }

    fn state_of(&self, agent: &str) -> AgentState {
        block_on(self.store.agent(&"acme".into(), &agent.into()))
            .expect("read")
            .expect("in the directory")
            .state
    }

    fn is_connected(&self, id: &str) -> bool {
        block_on(self.store.connection(&connection(id)))
            .expect("read")
            .is_some()
    }
}

#[test]
fn a_send_gives_the_recipient_a_message_and_the_sending_connection_an_ack_once_each() {
    let world = world();
    world.connect(&[("a1", "ann"), ("b1", "bob")]);
    let chat = world.chat("a1", "ann", "bob");
    assert_eq!(chat, ChatId::from("id-1"), "the clock's first id");
    world.clock.advance(1_000);

    let sent = block_on(world.service().send(
        &connection("a1"),
        &who("ann"),
        &chat,
        "m1",
        "Can you take a transfer?",
    ))
    .expect("sent");

    assert_eq!(sent.seq, 1);
    assert_eq!(world.pusher.pushed().len(), 2, "one frame each, no more");
    assert_eq!(world.pusher.types_to(&connection("b1")), ["message"]);
    let message = &world.pusher.frames_to(&connection("b1"))[0];
    assert_eq!(message["message"]["body"], "Can you take a transfer?");
    assert_eq!(message["message"]["from"], "ann");
    assert_eq!(message["message"]["seq"], 1);
    assert_eq!(message["chat"]["pending"], true, "Bob must answer");
    assert_eq!(message["pending_chats"], 1);
    assert_eq!(world.pusher.types_to(&connection("a1")), ["ack"]);
    let ack = &world.pusher.frames_to(&connection("a1"))[0];
    assert_eq!(ack["chat_id"], "id-1");
    assert_eq!(ack["client_msg_id"], "m1");
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["sent_at"], START + 1_000, "the clock's time");
    assert_eq!(ack["pending_chats"], 0, "Ann owes no answer");
}

#[test]
fn a_send_to_an_ended_chat_is_refused_and_pushes_nothing() {
    let world = world();
    world.connect(&[("a1", "ann"), ("b1", "bob")]);
    let chat = world.chat("a1", "ann", "bob");
    block_on(world.service().end(&who("bob"), &chat)).expect("ended");
    world.pusher.take();

    let refused = block_on(world.service().send(
        &connection("a1"),
        &who("ann"),
        &chat,
        "m1",
        "Are you still there?",
    ));

    assert!(
        matches!(refused, Err(DomainError::ChatEnded)),
        "{refused:?}"
    );
    assert_eq!(world.pusher.pushed(), Vec::new(), "nothing pushed");
    let stored = block_on(world.store.messages(&"acme".into(), &chat, 0, 10)).expect("read");
    assert!(stored.is_empty(), "nothing stored");
}

#[test]
fn a_connection_found_gone_is_forgotten_and_its_agent_stays_while_she_has_another() {
    let world = world();
    world.connect(&[("a1", "ann"), ("a2", "ann"), ("b1", "bob"), ("s1", "sue")]);
    let chat = world.chat("b1", "bob", "ann");
    world.pusher.gone(&connection("a1"));

    block_on(
        world
            .service()
            .send(&connection("b1"), &who("bob"), &chat, "m1", "Hello"),
    )
    .expect("sent");

    assert!(!world.is_connected("a1"), "forgotten");
    assert!(world.is_connected("a2"));
    assert_eq!(world.state_of("ann"), AgentState::Available);
    assert_eq!(world.pusher.types_to(&connection("a2")), ["message"]);
    assert_eq!(world.pusher.types_to(&connection("b1")), ["ack"]);
    assert_eq!(
        world.pusher.types_to(&connection("s1")),
        Vec::<String>::new(),
        "nobody is told of a change that did not happen"
    );
}

#[test]
fn when_her_last_connection_is_found_gone_the_agent_is_logged_out_for_those_who_see_her() {
    let world = world();
    world.connect(&[("a1", "ann"), ("b1", "bob"), ("c1", "cat"), ("s1", "sue")]);
    let chat = world.chat("b1", "bob", "ann");
    world.pusher.gone(&connection("a1"));

    block_on(
        world
            .service()
            .send(&connection("b1"), &who("bob"), &chat, "m1", "Hello"),
    )
    .expect("sent");

    assert!(!world.is_connected("a1"), "forgotten");
    assert_eq!(world.state_of("ann"), AgentState::LoggedOut);
    assert_eq!(
        world.pusher.types_to(&connection("a1")),
        ["message"],
        "the post that found it gone, and nothing after"
    );
    assert_eq!(
        world.pusher.types_to(&connection("b1")),
        ["agent", "ack"],
        "Bob, of her group, is told before his ack"
    );
    assert_eq!(
        world.pusher.types_to(&connection("s1")),
        ["agent"],
        "a supervisor"
    );
    for frame in [
        &world.pusher.frames_to(&connection("b1"))[0],
        &world.pusher.frames_to(&connection("s1"))[0],
    ] {
        assert_eq!(frame["agent"]["id"], "ann");
        assert_eq!(frame["agent"]["state"], "logged_out");
    }
    assert_eq!(
        world.pusher.types_to(&connection("c1")),
        Vec::<String>::new(),
        "Cat, of another group, does not see her"
    );
}
