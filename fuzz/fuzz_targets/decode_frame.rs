//! Arbitrary bytes as a WebSocket frame: the handler's decoder (`websocket::decode`, on
//! the bytes as text when they are UTF-8) and serde's (`ClientFrame` straight from the
//! bytes, and `ServerFrame` as the console decodes it) never panic, and whatever decodes
//! encodes back to JSON that decodes to the same frame.

#![no_main]

use console_handlers::websocket::decode;
use libfuzzer_sys::fuzz_target;
use protocol::{ClientFrame, ServerFrame};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = serde_json::from_slice::<ClientFrame>(data) {
        client_frame_round_trips(&frame);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(frame) = decode(text)
    {
        client_frame_round_trips(&frame);
    }
    if let Ok(frame) = serde_json::from_slice::<ServerFrame>(data) {
        let json = serde_json::to_string(&frame).expect("a decoded server frame encodes");
        let again: ServerFrame =
            serde_json::from_str(&json).expect("an encoded server frame decodes");
        assert_eq!(
            again, frame,
            "the server frame changed on its way through {json}"
        );
    }
});

fn client_frame_round_trips(frame: &ClientFrame) {
    let json = serde_json::to_string(frame).expect("a decoded frame encodes");
    let again = decode(&json).expect("an encoded frame decodes");
    assert_eq!(&again, frame, "the frame changed on its way through {json}");
}
