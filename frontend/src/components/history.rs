//! The History list of the Chat tab: ended chats, the most recently ended first, a page
//! at a time (`GET /api/chats?status=ended`) as it is scrolled to its end or asked for.
//! A row opens its chat, read-only, in the chat window.

use crate::components::context::ConsoleContext;
use crate::format;
use crate::live::{attr, handler, live_view};
use crate::state::HistoryPaging;
use leptos::prelude::*;

/// This close to the end of the list (px) loads its next page.
const END_PX: i32 = 40;

/// The History list.
#[component]
pub fn History() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (state, selected) = (ctx.state, ctx.selected);
    if state.with_untracked(|s| s.history_paging == HistoryPaging::NotLoaded) {
        ctx.catch_up.more_history();
    }
    // The rows are built again only when the list grows (a page, a chat that ended), not
    // on every message.
    let listed = Memo::new(move |_| state.with(|s| s.history.len()));
    let rows = move || {
        let _ = listed.get();
        state.with_untracked(|s| s.history.clone())
    };
    let paging = move || state.with(|s| s.history_paging.clone());
    let at_end = {
        let ctx = ctx.clone();
        move |ev: leptos::ev::Event| {
            let list = event_target::<web_sys::Element>(&ev);
            if list.scroll_height() - list.scroll_top() - list.client_height() <= END_PX {
                ctx.catch_up.more_history();
            }
        }
    };
    let show_older = ctx.clone();
    view! {
        <section class="history" {attr("aria-labelledby", "history-title")}>
            <h2 id="history-title">"History"</h2>
            <ul class="history-list" on:scroll=handler(at_end)>
                {live_view(move || rows().into_iter().map(|view| {
                    let ended = view.ended_at.unwrap_or(view.started_at);
                    let when = format!(
                        "{} {} · {}",
                        format::date(ended),
                        format::clock_time(ended),
                        format::lasted(ended - view.started_at)
                    );
                    let who = format!("{} · {}", view.with.name, view.with.group);
                    let line = view.last_line.clone().unwrap_or_default();
                    let open = move |_| {
                        let id = view.id.clone();
                        state.update(|s| s.open_from_history(view.clone()));
                        selected.set(Some(id));
                    };
                    view! {
                        <li>
                            <button class="history-row" on:click=handler(open)>
                                <span class="history-who">{who}</span>
                                <span class="muted">{when}</span>
                                <span class="history-line">{line}</span>
                            </button>
                        </li>
                    }
                }).map(IntoAny::into_any).collect_view())}
            </ul>
            {live_view(move || match paging() {
                HistoryPaging::More(_) => {
                    let ctx = show_older.clone();
                    Some(view! { <button class="quiet-dark" on:click=handler(move |_| ctx.catch_up.more_history())>"Show older chats"</button> }.into_any())
                }
                HistoryPaging::Loading => Some(view! { <p class="empty" role="status">"Loading…"</p> }.into_any()),
                HistoryPaging::Complete if listed.get() == 0 => Some(view! { <p class="empty">"No ended chats yet."</p> }.into_any()),
                _ => None,
            })}
        </section>
    }
}
