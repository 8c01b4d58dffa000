//! `docs/protocol.md` documents every action, frame type and error code the code has.

use protocol::{ClientFrame, ErrorCode, ServerFrame};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    std::fs::read_to_string(path).expect("docs/protocol.md exists")
}

#[test]
fn every_client_action_is_documented() {
    let doc = doc();
    for action in ClientFrame::ACTIONS {
        assert!(
            doc.contains(&format!("| `{action}` |")),
            "docs/protocol.md lacks the action {action}"
        );
    }
}

#[test]
fn every_server_frame_type_is_documented() {
    let doc = doc();
    for kind in ServerFrame::TYPES {
        assert!(
            doc.contains(&format!("| `{kind}` |")),
            "docs/protocol.md lacks the frame type {kind}"
        );
    }
}

#[test]
fn every_error_code_is_documented_with_its_http_status() {
    let doc = doc();
    for code in ErrorCode::ALL {
        let name = serde_json::to_value(code).expect("serialises");
        let name = name.as_str().expect("a string");
        let row = format!("| `{name}` | {} |", code.http_status());
        assert!(
            doc.contains(&row),
            "docs/protocol.md lacks the row starting {row}"
        );
    }
}
