//! Arbitrary bytes as the body of an API Gateway WebSocket event on Ann's connected,
//! authorized connection, through `websocket::handle` with the real `App` over the
//! embedded store. The handler never panics and answers 200 (a refused frame is answered
//! by an `error` frame, never by the route's status); every frame pushed to anyone is
//! JSON of a `ServerFrame`; nothing is pushed to the other tenant's connection.

#![no_main]

use console_fuzz::with_world;
use console_fuzz::world::OTHER_TENANT_CONNECTION;
use console_handlers::websocket::handle;
use futures_executor::block_on;
use libfuzzer_sys::fuzz_target;
use protocol::ServerFrame;

fuzz_target!(|data: &[u8]| {
    // API Gateway hands on text frames only, as UTF-8: other bytes become U+FFFD, so
    // that every input still makes a frame.
    let body = String::from_utf8_lossy(data);
    with_world(|world| {
        let answer = block_on(handle(world.frame_event(&body), &world.app));
        assert_eq!(answer.status_code, 200, "a frame's route answers 200");
        for (connection, payload) in world.pusher.take() {
            assert_ne!(
                connection.0, OTHER_TENANT_CONNECTION,
                "a frame reached the other tenant: {payload}"
            );
            if let Err(error) = serde_json::from_str::<ServerFrame>(&payload) {
                panic!("pushed a frame that is not a ServerFrame ({error}): {payload}");
            }
        }
    });
});
