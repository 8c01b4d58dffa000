//! The console's `config.json`: where the HTTP and WebSocket APIs are and how people
//! sign in, read once before the console mounts. Without it (the local server answers
//! 404) the console uses its own origin and the development sign-in.

use crate::fetch::fetch;
use crate::sorting::contains;
use crate::wire;
use leptos::prelude::window;
use protocol::http::{ConsoleConfig, SignInMethod};
use std::cell::RefCell;

thread_local! {
    static CONFIG: RefCell<ConsoleConfig> = RefCell::new(ConsoleConfig::default());
}

/// Reads `config.json`; a missing file means the defaults, a broken one is reported on
/// the browser console and also means the defaults.
pub async fn load() {
    let Ok(answer) = fetch("GET", "/config.json", &[], None).await else {
        return;
    };
    // A server without the file may answer with the console's page instead (the local
    // server's fallback for the console's own routes): that is no file either.
    if !answer.ok() || !contains(&answer.content_type, "json") {
        return;
    }
    let Ok(text) = answer.body else {
        return;
    };
    match wire::parse::<ConsoleConfig>(&text) {
        Some(config) => CONFIG.with(|c| *c.borrow_mut() = config),
        None => web_sys::console::error_1(
            &"config.json is not valid: it must be a JSON object of at most `api`, \
              `websocket` and `sign_in`, as docs/deploying.md shows"
                .into(),
        ),
    }
}

/// The URL of an HTTP API path (`/api/...`).
pub fn api(path: &str) -> String {
    CONFIG.with(|c| format!("{}{path}", c.borrow().api.trim_end_matches('/')))
}

/// The URL of the WebSocket that `ticket` opens.
pub fn socket(ticket: &str) -> String {
    let ticket = js_sys::encode_uri_component(ticket);
    if let Some(url) = CONFIG.with(|c| c.borrow().websocket.clone()) {
        return format!("{url}?ticket={ticket}");
    }
    let location = window().location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/ws?ticket={ticket}")
}

/// How people sign in.
pub fn sign_in() -> SignInMethod {
    CONFIG.with(|c| c.borrow().sign_in.clone())
}
