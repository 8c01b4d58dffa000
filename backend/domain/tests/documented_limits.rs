//! `docs/protocol.md` states the rate limits the code enforces, figure for figure.

use console_domain::service::{SEND_QUOTA, STATE_CHANGE_WINDOW_MS, TYPING_WINDOW_MS};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    std::fs::read_to_string(path).expect("docs/protocol.md exists")
}

#[test]
fn the_rate_limits_table_has_the_figures_of_the_code() {
    let doc = doc();
    let rows = [
        format!(
            "| `send` | connection | {} in each {}-second window |",
            SEND_QUOTA.max,
            SEND_QUOTA.window_ms / 1000
        ),
        format!("| `typing` | agent and chat | 1 per {TYPING_WINDOW_MS} ms |"),
        format!("| `set_state` | agent | 1 per {STATE_CHANGE_WINDOW_MS} ms |"),
    ];
    for row in rows {
        assert!(
            doc.contains(&row),
            "docs/protocol.md lacks the row starting {row}"
        );
    }
    assert_eq!(
        SEND_QUOTA.window_ms % 1000,
        0,
        "the document speaks of whole seconds"
    );
}

#[test]
fn the_send_action_names_its_limit() {
    let doc = doc();
    let send = doc
        .lines()
        .find(|line| line.starts_with("| `send` | `chat_id`"))
        .expect("the send action's row");
    assert!(
        send.contains(&format!(
            "At most {} sends per connection in each {}-second window",
            SEND_QUOTA.max,
            SEND_QUOTA.window_ms / 1000
        )),
        "{send}"
    );
}
