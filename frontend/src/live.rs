//! The reactive parts of the console's views: `{live(move || …)}` where Leptos would take
//! a bare `{move || …}` (and likewise for attribute values).
//!
//! Why: Leptos compiles the machinery that keeps a reactive closure's DOM up to date
//! (its render effect, first build and rebuild) once per closure *type*, and every
//! closure has a type of its own. Behind [`live`] all closures with the same output
//! share one type, so the console's WASM carries that machinery far fewer times (about
//! 5 KB less after brotli). This is the trade Leptos itself makes under
//! `--cfg erase_components`: one allocation per reactive part and a dynamic call per
//! update, neither of which a person can notice.

use leptos::tachys::reactive_graph::SharedReactiveFunction;
use std::sync::{Arc, Mutex};

/// A reactive view part (text, child view or attribute value) that re-renders whenever
/// the signals `f` reads change, exactly as the bare closure would.
pub fn live<T: 'static>(f: impl FnMut() -> T + Send + 'static) -> SharedReactiveFunction<T> {
    Arc::new(Mutex::new(f))
}
