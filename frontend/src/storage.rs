//! What the console keeps in the browser: the session per tab (sessionStorage) and the
//! agent's alert settings (localStorage), as JSON.

use crate::wire::{self, FromJson, ToJson};
use leptos::prelude::window;

/// Where a value is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// For this browser tab, until it closes (sessionStorage).
    InTab,
    /// In this browser, for good (localStorage).
    InBrowser,
}

fn storage(kept: Kept) -> Option<web_sys::Storage> {
    match kept {
        Kept::InTab => window().session_storage(),
        Kept::InBrowser => window().local_storage(),
    }
    .ok()
    .flatten()
}

/// The value kept under `key`; `None` when there is none or it is not of `T`'s shape.
pub fn load<T: FromJson>(kept: Kept, key: &str) -> Option<T> {
    wire::parse(&storage(kept)?.get_item(key).ok()??)
}

/// Keeps `value` under `key`; false when the browser refuses (its storage is off or full).
pub fn save<T: ToJson>(kept: Kept, key: &str, value: &T) -> bool {
    storage(kept).is_some_and(|storage| storage.set_item(key, &wire::print(value)).is_ok())
}

/// Forgets what is kept under `key`.
pub fn forget(kept: Kept, key: &str) {
    if let Some(storage) = storage(kept) {
        let _ = storage.remove_item(key);
    }
}
