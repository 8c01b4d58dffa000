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

/// The first-column names of the table under `heading` in the document.
fn table_names(doc: &str, heading: &str) -> Vec<String> {
    let Some(start) = doc.find(heading) else {
        return Vec::new();
    };
    doc[start..]
        .lines()
        .skip(1)
        .skip_while(|line| !line.starts_with('|') || line.starts_with("|---"))
        .skip_while(|line| line.starts_with("|---"))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let first = line.trim_start_matches('|').split('|').next()?.trim();
            first
                .strip_prefix('`')
                .and_then(|rest| rest.strip_suffix('`'))
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn everything_the_document_names_exists_in_the_code() {
    let doc = doc();
    let actions = table_names(&doc, "### Client → server");
    assert!(!actions.is_empty());
    for action in actions {
        assert!(
            ClientFrame::ACTIONS.contains(&action.as_str()),
            "documented action {action} is not in the code"
        );
    }
    let types = table_names(&doc, "### Server → client");
    assert!(!types.is_empty());
    for kind in types {
        assert!(
            ServerFrame::TYPES.contains(&kind.as_str()),
            "documented frame {kind} is not in the code"
        );
    }
    let codes = table_names(&doc, "| code | HTTP | when |");
    assert_eq!(codes.len(), ErrorCode::ALL.len(), "one row per error code");
    let known: Vec<String> = ErrorCode::ALL
        .iter()
        .filter_map(|code| serde_json::to_value(code).ok()?.as_str().map(str::to_owned))
        .collect();
    for code in codes {
        assert!(
            known.contains(&code),
            "documented error code {code} is not in the code"
        );
    }
}
