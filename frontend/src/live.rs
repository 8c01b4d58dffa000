//! The reactive parts of the console's views, its effects and its event handlers, each
//! behind a shared type: `{live_view(move || …)}` for a reactive child view where Leptos
//! would take a bare `{move || …}`, `live(move || …)` for a reactive attribute value,
//! `effect(move || …)` for `Effect::new(move |_| …)`, and `on:click=handler(move |_| …)`
//! for a bare handler. Lists of views are collected erased for the same reason:
//! `.map(IntoAny::into_any).collect_view()`, so that every list has one type.
//!
//! A keyed list (Leptos's `<For>`) is `keyed_list(items, key, view)`, for the same reason:
//! `<For>` compiles its keyed-list machinery once per item type and per closure, and
//! behind [`keyed_list`] every list of the console is a list of one type, [`Row`].
//!
//! An element the code needs (to focus it, measure or scroll it, open a dialog) is kept
//! by `use:keep=node` with `node` an [`ElementRef`], where Leptos would take a typed
//! `NodeRef` and `node_ref=node`: a `NodeRef` compiles its code once per kind of element.
//!
//! An attribute whose typed name Leptos would compile for its own is written
//! `{attr("aria-selected", value)}` where `aria-selected=value` would be: the same
//! attribute on the element, set the same way, behind one type for every name.
//!
//! Why: Leptos compiles the machinery behind each of them (a render effect with its first
//! build and rebuild, an effect's task, a handler's attachment) once per closure *type*,
//! and every closure has a type of its own. Behind these helpers the closures share a
//! few types, so the console's WASM carries that machinery far fewer times (measured
//! after brotli: `live` about 5 KB less, `live_view` 3 KB, `handler` 1.5 KB, `effect`
//! 0.7 KB). This is the trade Leptos itself makes under `--cfg erase_components`: one
//! allocation per reactive part and a dynamic call per update, neither of which a person
//! can notice.

use leptos::prelude::{
    AnyView, Effect, For, Get, GetUntracked, IntoAny, IntoView, LocalStorage, RwSignal, Set, view,
};
use leptos::tachys::reactive_graph::SharedReactiveFunction;
use std::sync::{Arc, Mutex};

/// An attribute by its name (`{attr("aria-hidden", "true")}` in a view), as
/// `aria-hidden="true"` would be: Leptos compiles a typed attribute's code once per
/// attribute name, and an attribute by name once for all of them.
pub use leptos::tachys::html::attribute::custom::custom_attribute as attr;

/// A reactive view part (text, child view or attribute value) that re-renders whenever
/// the signals `f` reads change, exactly as the bare closure would.
pub fn live<T: 'static>(f: impl FnMut() -> T + Send + 'static) -> SharedReactiveFunction<T> {
    Arc::new(Mutex::new(f))
}

/// A reactive child view: as [`live`], its view erased to an [`AnyView`] so that every
/// reactive child view of the console, whatever it shows, shares one type.
pub fn live_view<V: IntoView + 'static>(
    mut f: impl FnMut() -> V + Send + 'static,
) -> SharedReactiveFunction<AnyView> {
    live(move || f().into_any())
}

/// An effect that runs `f` now and again whenever the signals it reads change, exactly as
/// `Effect::new(move |_| f())` would. Behind one boxed type, so that Leptos compiles its
/// effect machinery once for all the console's effects rather than once per closure.
pub fn effect(f: impl FnMut() + 'static) -> Effect<LocalStorage> {
    let mut f: Box<dyn FnMut()> = Box::new(f);
    Effect::new(move |_| f())
}

/// An event handler (`on:click=handler(move |_| …)`), boxed: as the bare closure, behind
/// one type per kind of event, so that Leptos compiles its handler machinery once per
/// kind (click, input, …) rather than once per handler.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}

/// A row of a [`keyed_list`]: its key, and what builds its view should the row be new.
pub struct Row {
    key: String,
    view: Box<dyn FnOnce() -> AnyView + Send>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A keyed list, exactly as `<For each=items key=key children=view />`: whenever the
/// signals `items` reads change, the rows of keys not shown before get their views (built
/// by `view`), the rows of keys gone lose theirs, and the others keep theirs.
pub fn keyed_list<T: Send + 'static>(
    items: impl Fn() -> Vec<T> + Send + 'static,
    key: impl Fn(&T) -> String + Send + 'static,
    view: impl Fn(T) -> AnyView + Send + Sync + 'static,
) -> AnyView {
    let view: Arc<dyn Fn(T) -> AnyView + Send + Sync> = Arc::new(view);
    let rows: Box<dyn Fn() -> Vec<Row> + Send> = Box::new(move || {
        items()
            .into_iter()
            .map(|item| {
                let view = Arc::clone(&view);
                Row {
                    key: key(&item),
                    view: Box::new(move || view(item)),
                }
            })
            .collect()
    });
    rows_view(rows)
}

/// The one `<For>` of the console.
fn rows_view(rows: Box<dyn Fn() -> Vec<Row> + Send>) -> AnyView {
    view! { <For each=rows key=|row: &Row| row.key.clone() children=|row: Row| (row.view)() /> }
        .into_any()
}

/// An element of a view, as Leptos's `NodeRef` holds one, whatever its kind: empty until
/// the element is built, then the element. `get` is tracked (an effect that reads it runs
/// again once the element is there), `get_untracked` is not; both hand the element as the
/// kind the caller names (`node.get::<HtmlDialogElement>()`).
#[derive(Clone, Copy, Debug)]
pub struct ElementRef(RwSignal<Option<web_sys::Element>, LocalStorage>);

impl ElementRef {
    pub fn new() -> Self {
        ElementRef(RwSignal::new_local(None))
    }

    /// The element, once built; tracked.
    pub fn get<E: wasm_bindgen::JsCast>(&self) -> Option<E> {
        self.0.get().map(wasm_bindgen::JsCast::unchecked_into)
    }

    /// The element, once built; untracked.
    pub fn get_untracked<E: wasm_bindgen::JsCast>(&self) -> Option<E> {
        self.0
            .get_untracked()
            .map(wasm_bindgen::JsCast::unchecked_into)
    }
}

impl Default for ElementRef {
    fn default() -> Self {
        ElementRef::new()
    }
}

/// The directive that fills an [`ElementRef`]: `use:keep=node` on the element.
pub fn keep(element: web_sys::Element, node: ElementRef) {
    node.0.set(Some(element));
}
