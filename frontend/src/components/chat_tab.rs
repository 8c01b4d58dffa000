//! The Chat tab: the Multi-Chat Table (one row per open chat, longest waiting first) and
//! the History list of ended chats beside the chat window ([`ChatWindow`]).

use crate::components::agent_list::ChatMark;
use crate::components::chat_window::ChatWindow;
use crate::components::context::ConsoleContext;
use crate::components::help::Help;
use crate::components::history::History;
use crate::format;
use crate::live::{attr, handler, keyed_list, live, live_view};
use leptos::prelude::*;
use protocol::{ChatId, ChatStatus};

/// The Multi-Chat Table and the chat window.
#[component]
pub fn ChatTab() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let state = ctx.state;
    let selected = ctx.selected;
    let compose = ctx.compose;
    // The chat on show: the one chosen, else the one on show that ended (it stays
    // there to read), else the top row of the table.
    let current = Memo::new(move |shown: Option<&Option<ChatId>>| {
        let chosen = selected.get();
        state.with(|s| {
            let ended = shown.cloned().flatten().filter(|id| {
                s.chats
                    .get(id)
                    .is_some_and(|e| e.view.status == ChatStatus::Ended)
            });
            match chosen {
                Some(id) if s.chats.contains_key(&id) => Some(id),
                _ => ended.or_else(|| s.table().first().map(|entry| entry.view.id.clone())),
            }
        })
    });
    let now = ctx.now;
    let rows = move || {
        state.with(|s| {
            s.table()
                .into_iter()
                .map(|entry| entry.view.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="chat-tab">
            <div class="chat-lists">
            <Help />
            <table class="multi-chat" aria-label="Multi-Chat Table">
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Status"</span></th>
                        <th scope="col">"Agent"</th>
                        <th scope="col">"Group"</th>
                        <th scope="col">"Waiting"</th>
                        <th scope="col">"Unread"</th>
                    </tr>
                </thead>
                <tbody>
                    {keyed_list(rows, |view| format!("{}:{}:{}:{}:{}", view.id, view.last_seq, view.pending, view.status == ChatStatus::Ended, view.unread), move |view| {
                        let id = view.id.clone();
                        let mark = if view.pending {
                            ChatMark::RequiresResponse
                        } else {
                            ChatMark::Waiting
                        };
                        let is_current = {
                            let id = id.clone();
                            move || current.get().as_ref() == Some(&id)
                        };
                        let choose = {
                            let id = id.clone();
                            move |_| {
                                selected.set(Some(id.clone()));
                                compose.set(true);
                            }
                        };
                        let waiting_since = view.waiting_since;
                        view! {
                            <tr class:current=live(is_current.clone()) class:pending=view.pending {attr("aria-current", live(move || is_current().then(|| "true".to_owned())))}>
                                <td><span class=mark.class() role="img" aria-label=mark.label() {attr("title", mark.label())}></span></td>
                                <td><button class="row-link" on:click=handler(choose)>{view.with.name.clone()}</button></td>
                                <td>{view.with.group.to_string()}</td>
                                <td class="numeric">{live_view(move || waiting_since.map(|t| format::elapsed(now.get() - t)).unwrap_or_default())}</td>
                                <td class="numeric">{(view.unread > 0).then(|| view! { <span class="unread" aria-label=format!("{} unread", view.unread)>{view.unread}</span> }.into_any())}</td>
                            </tr>
                        }.into_any()
                    })}
                </tbody>
            </table>
            {live_view(move || rows().is_empty().then(|| view! {
                <p class="empty">"No open chats. Open Agents, click an agent's name and choose Start a chat."</p>
            }))}
            <History />
            </div>
            {live_view(move || current.get().map(|id| view! { <ChatWindow chat=id /> }))}
        </div>
    }
}
