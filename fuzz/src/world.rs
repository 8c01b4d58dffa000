//! The world the handler targets run in: the handlers' real `App` over the embedded store
//! (its file on `/dev/shm` where there is one, so the store's fsyncs cost little, and
//! unlinked as soon as it is open), with a small directory of two tenants, a few chats
//! and open connections.
//!
//! It is built once per process and renewed every [`RENEW_EVERY`] inputs: the store then
//! stays small however long the run (a `hello` replays a chat's every message, and the
//! store's cache grows with its file), and a chat ended by one input is open again soon.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use console_domain::ports::{ChatStore, DirectoryStore};
use console_domain::testing::{ManualClock, RecordingPusher};
use console_domain::{Chat, ConnectionId, Identity};
use console_handlers::{App, TokenAuthority};
use console_store_embedded::EmbeddedStore;
use futures_executor::block_on;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// How many inputs one world serves before it is built afresh.
pub const RENEW_EVERY: u64 = 2_000;

/// How far the clock moves before each input: 60 inputs share a send window (30 sends per
/// connection per 3 s), 6 a state change's (one per 300 ms), so limits are reached too.
pub const STEP_MS: i64 = 50;

/// The connection every WebSocket input arrives on: Ann's, of tenant `acme`.
pub const FUZZ_CONNECTION: &str = "ws-ann";

/// The connection of an agent of the other tenant: nothing may ever be pushed to it.
pub const OTHER_TENANT_CONNECTION: &str = "ws-gus";

/// Words only the other tenant's chat holds: no answer to anyone else may contain them.
pub const OTHER_TENANT_SECRET: &str = "globex-only-7f3a";

/// The seeded directory: Ann and Bob (sales) and Dan (support) are agents of `acme`, Sue
/// its supervisor; Gus and Ivan are of `globex`.
const DIRECTORY: &str = r#"{"tenants": [
  {"id": "acme", "name": "Acme Contact Center", "agents": [
    {"id": "ann", "name": "Ann Lee", "group": "sales", "role": "agent"},
    {"id": "bob", "name": "Bob Stone", "group": "sales", "role": "agent"},
    {"id": "dan", "name": "Dan Wu", "group": "support", "role": "agent"},
    {"id": "sue", "name": "Sue Grant", "group": "support", "role": "supervisor"}]},
  {"id": "globex", "name": "Globex Support", "agents": [
    {"id": "gus", "name": "Gus Hale", "group": "sales", "role": "agent"},
    {"id": "ivan", "name": "Ivan Roy", "group": "sales", "role": "supervisor"}]}]}"#;

/// An API Gateway WebSocket event on Ann's authorized connection, as API Gateway sends
/// it (the authorizer's context names the tenant and the agent); the body is the input.
const FRAME_EVENT: &str = r#"{
  "requestContext": {
    "routeKey": "$default",
    "authorizer": {"principalId": "ann", "tenant": "acme", "agent": "ann", "integrationLatency": 0},
    "messageId": "fuzzmessage=", "eventType": "MESSAGE", "extendedRequestId": "fuzzrequest=",
    "requestTime": "25/Nov/2026:21:30:05 +0000", "messageDirection": "IN", "stage": "prod",
    "connectedAt": 1795642200000, "requestTimeEpoch": 1795642205000,
    "identity": {"userAgent": "Mozilla/5.0", "sourceIp": "203.0.113.7"},
    "requestId": "fuzzrequest=", "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
    "connectionId": "ws-ann", "apiId": "abcdef1234"
  },
  "body": "",
  "isBase64Encoded": false
}"#;

/// The handlers' context and what the targets look at after each input.
pub struct World {
    /// The handlers' context: the embedded store, the recording pusher, the manual clock
    /// (started at the wall clock's time: tokens are checked against the real time; its
    /// ids counted, so that a run can be replayed), and the development sign-in (as on
    /// the local server).
    pub app: App,
    /// Every frame pushed while the current input ran.
    pub pusher: Arc<RecordingPusher>,
    /// The clock of `app`.
    pub clock: Arc<ManualClock>,
    frame_event: ApiGatewayWebsocketProxyRequest,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").finish_non_exhaustive()
    }
}

impl World {
    /// Builds a fresh world: a new store, the directory, the chats and the connections.
    ///
    /// Chats of `acme`: `c-1` Ann and Bob, open, two messages; `c-2` Dan and Sue, open,
    /// one message (not Ann's); `c-3` Ann and Dan, ended. Of `globex`: `g-1` Gus and
    /// Ivan, open, one message holding [`OTHER_TENANT_SECRET`]. Ann, Bob, Sue and Gus are
    /// connected.
    pub fn build() -> World {
        let dir = store_dir();
        let store =
            Arc::new(EmbeddedStore::open(&dir.path().join("fuzz.redb")).expect("a new store"));
        // The store keeps its file open; removing the folder now means that nothing is
        // left behind when libFuzzer ends the process, which drops no static.
        drop(dir);
        let pusher = Arc::new(RecordingPusher::new());
        let clock = Arc::new(ManualClock::new(wall_time_ms()));
        let app = App {
            store: store.clone(),
            pusher: pusher.clone(),
            clock: clock.clone(),
            order: Arc::new(console_domain::Unordered),
            tokens: TokenAuthority::new(&[7; 32]),
            dev_sign_in: true,
            send_quota: console_domain::service::SEND_QUOTA,
        };
        block_on(seed(&app, store.as_ref()));
        pusher.take();
        let frame_event = serde_json::from_str(FRAME_EVENT).expect("an API Gateway event");
        World {
            app,
            pusher,
            clock,
            frame_event,
        }
    }

    /// The WebSocket event of a frame with `body` on Ann's connection.
    pub fn frame_event(&self, body: &str) -> ApiGatewayWebsocketProxyRequest {
        let mut event = self.frame_event.clone();
        event.body = Some(body.to_owned());
        event
    }
}

/// Runs `f` in this process's world, one input later than the last: the clock moved by
/// [`STEP_MS`], nothing pushed yet, and the world renewed every [`RENEW_EVERY`] inputs.
pub fn with_world<R>(f: impl FnOnce(&World) -> R) -> R {
    struct Shared {
        world: Option<World>,
        inputs: u64,
    }
    static SHARED: OnceLock<Mutex<Shared>> = OnceLock::new();
    let mut shared = SHARED
        .get_or_init(|| {
            Mutex::new(Shared {
                world: None,
                inputs: 0,
            })
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if shared.inputs.is_multiple_of(RENEW_EVERY) {
        // The old store is closed, and its file freed, before the new one is made.
        shared.world = None;
        shared.world = Some(World::build());
    }
    shared.inputs += 1;
    let world = shared.world.as_ref().expect("built above");
    world.clock.advance(STEP_MS);
    world.pusher.take();
    f(world)
}

/// The wall clock's time, in milliseconds since the Unix epoch.
fn wall_time_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A temporary folder for the store's file, in memory where the machine offers it.
fn store_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("console-fuzz-")
            .tempdir_in(shm)
    } else {
        tempfile::Builder::new().prefix("console-fuzz-").tempdir()
    };
    dir.expect("a temporary folder")
}

async fn seed(app: &App, store: &EmbeddedStore) {
    for (tenant, agents) in console_domain::directory::parse(DIRECTORY).expect("a directory") {
        store
            .put_tenant(&tenant, &agents)
            .await
            .expect("the directory is stored");
    }
    let service = app.service();
    let who = |tenant: &str, agent: &str| Identity {
        tenant: tenant.into(),
        agent: agent.into(),
    };
    let (ann, bob, sue) = (who("acme", "ann"), who("acme", "bob"), who("acme", "sue"));
    let gus = who("globex", "gus");
    for (connection, agent) in [
        (FUZZ_CONNECTION, &ann),
        ("ws-bob", &bob),
        ("ws-sue", &sue),
        (OTHER_TENANT_CONNECTION, &gus),
    ] {
        service
            .connect(ConnectionId(connection.into()), agent)
            .await
            .expect("connected");
    }
    let now = app.clock.now_ms();
    let chats = [
        ("acme", "c-1", "ann", "bob"),
        ("acme", "c-2", "dan", "sue"),
        ("acme", "c-3", "ann", "dan"),
        ("globex", "g-1", "gus", "ivan"),
    ];
    for (tenant, id, by, with) in chats {
        let chat = Chat::new(tenant.into(), id.into(), by.into(), with.into(), now, None);
        store.open_chat(&chat).await.expect("a chat");
    }
    let messages = [
        ("ws-ann", &ann, "c-1", "Can you take a transfer?"),
        ("ws-bob", &bob, "c-1", "Yes, send it over."),
        ("ws-sue", &sue, "c-2", "Dan, the billing queue is long."),
        ("ws-gus", &gus, "g-1", OTHER_TENANT_SECRET),
    ];
    for (n, (connection, from, chat, body)) in messages.into_iter().enumerate() {
        service
            .send(
                &ConnectionId(connection.into()),
                from,
                &chat.into(),
                &format!("seed-{n}"),
                body,
            )
            .await
            .expect("a message");
    }
    service.end(&ann, &"c-3".into()).await.expect("ended");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_world_holds_the_seeded_chats_and_has_pushed_nothing() {
        let world = World::build();
        let service = world.app.service();
        let ann = Identity {
            tenant: "acme".into(),
            agent: "ann".into(),
        };
        let (messages, _) = block_on(service.messages(&ann, &"c-1".into(), 0, 10)).expect("c-1");
        assert_eq!(messages.len(), 2);
        assert!(block_on(service.messages(&ann, &"g-1".into(), 0, 10)).is_err());
        assert!(world.pusher.take().is_empty());
        assert_eq!(
            world
                .frame_event("{}")
                .request_context
                .connection_id
                .as_deref(),
            Some(FUZZ_CONNECTION)
        );
    }
}
