//! The Chat tab: the Multi-Chat Table (one row per chat, longest waiting first) beside
//! the chat window (transcript, "Your Message", Send, End).

use crate::components::agent_list::ChatMark;
use crate::components::console::ConsoleContext;
use crate::format;
use crate::live::live;
use leptos::html::Textarea;
use leptos::prelude::*;
use protocol::{ChatId, ChatStatus, ClientFrame};

/// The Multi-Chat Table and the chat window.
#[component]
pub fn ChatTab() -> impl IntoView {
    let ctx = expect_context::<ConsoleContext>();
    let state = ctx.state;
    let selected = ctx.selected;
    // The chat on show: the one chosen, else the top row of the table.
    let current = Memo::new(move |_| {
        let chosen = selected.get();
        state.with(|s| match chosen {
            Some(id) if s.chats.contains_key(&id) => Some(id),
            _ => s.table().first().map(|entry| entry.view.id.clone()),
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
                    <For each=rows key=|view| format!("{}:{}:{}:{:?}", view.id, view.last_seq, view.pending, view.status) children=move |view| {
                        let id = view.id.clone();
                        let mark = if view.pending {
                            ChatMark::RequiresResponse
                        } else if view.status == ChatStatus::Ended {
                            ChatMark::Ended
                        } else {
                            ChatMark::Waiting
                        };
                        let is_current = {
                            let id = id.clone();
                            move || current.get().as_ref() == Some(&id)
                        };
                        let choose = {
                            let id = id.clone();
                            move |_| selected.set(Some(id.clone()))
                        };
                        let waiting_since = view.waiting_since;
                        view! {
                            <tr class:current=live(is_current.clone()) class:pending=view.pending aria-current=live(move || is_current().then_some("true"))>
                                <td><span class=mark.class() role="img" aria-label=mark.label() title=mark.label()></span></td>
                                <td><button class="row-link" on:click=choose>{view.with.name.clone()}</button></td>
                                <td>{view.with.group.to_string()}</td>
                                <td class="numeric">{live(move || waiting_since.map(|t| format::elapsed(now.get() - t)).unwrap_or_default())}</td>
                                <td class="numeric">{(view.unread > 0).then(|| view! { <span class="unread" aria-label=format!("{} unread", view.unread)>{view.unread}</span> })}</td>
                            </tr>
                        }
                    } />
                </tbody>
            </table>
            {live(move || rows().is_empty().then(|| view! {
                <p class="empty">"No chats yet. Open Agents, click an agent's name and choose Start a chat."</p>
            }))}
            {live(move || current.get().map(|id| view! { <ChatWindow chat=id /> }))}
        </div>
    }
}

/// One chat's window.
#[component]
fn ChatWindow(chat: ChatId) -> impl IntoView {
    let ctx = expect_context::<ConsoleContext>();
    let drafts = ctx.drafts;
    let state = ctx.state;
    let me = ctx.me.id.clone();
    let entry = {
        let chat = chat.clone();
        move || state.with(|s| s.chats.get(&chat).cloned())
    };
    let ended = {
        let entry = entry.clone();
        move || entry().is_some_and(|e| e.view.status == ChatStatus::Ended)
    };
    let draft = {
        let chat = chat.clone();
        move || drafts.with(|d| d.get(&chat).cloned().unwrap_or_default())
    };
    let set_draft = {
        let chat = chat.clone();
        move |text: String| {
            drafts.update(|d| {
                d.insert(chat.clone(), text);
            })
        }
    };
    let input = NodeRef::<Textarea>::new();
    let send = {
        let (ctx, chat, draft, set_draft) =
            (ctx.clone(), chat.clone(), draft.clone(), set_draft.clone());
        move || {
            let body = draft();
            if body.trim().is_empty() {
                return;
            }
            ctx.send_message(chat.clone(), body);
            set_draft(String::new());
            if let Some(input) = input.get() {
                let _ = input.focus();
            }
        }
    };
    let end = {
        let (ctx, chat) = (ctx.clone(), chat.clone());
        move |_| {
            ctx.send(ClientFrame::End {
                chat_id: chat.clone(),
            })
        }
    };
    let transcript = {
        let (entry, chat, me) = (entry.clone(), chat.clone(), me.clone());
        move || {
            let Some(entry) = entry() else {
                return Vec::new();
            };
            let other = entry.view.with.name.clone();
            // "Seen" goes under my last message the other agent has seen.
            let seen_seq = entry
                .messages
                .values()
                .filter(|m| m.from == me && m.seq <= entry.view.seen_by_other)
                .map(|m| m.seq)
                .max();
            let mut lines: Vec<Line> = entry
                .messages
                .values()
                .map(|m| {
                    let mine = m.from == me;
                    Line {
                        key: format!("s{}:{}", m.seq, seen_seq == Some(m.seq)),
                        who: if mine {
                            "You".to_owned()
                        } else {
                            other.clone()
                        },
                        time: format::clock_time(m.sent_at),
                        body: m.body.clone(),
                        mine,
                        seen: seen_seq == Some(m.seq),
                    }
                })
                .collect();
            lines.extend(state.with(|s| {
                s.unacknowledged(&chat)
                    .into_iter()
                    .map(|o| Line {
                        key: format!("o{}", o.client_msg_id),
                        who: "You".to_owned(),
                        time: "Sending…".to_owned(),
                        body: o.body.clone(),
                        mine: true,
                        seen: false,
                    })
                    .collect::<Vec<_>>()
            }));
            lines
        }
    };
    // Tell the other agent what I have seen, while this window shows and the page is visible.
    let reported = StoredValue::new(0u64);
    {
        let (ctx, chat) = (ctx.clone(), chat.clone());
        let visible = ctx.visible;
        Effect::new(move |_| {
            if !visible.get() {
                return;
            }
            let unseen = state.with(|s| s.unseen(&chat, reported.get_value()));
            if let Some(seq) = unseen {
                reported.set_value(seq);
                ctx.send(ClientFrame::Seen {
                    chat_id: chat.clone(),
                    seq,
                });
            }
        });
    }
    // Tell the other agent I am typing, at most every two seconds.
    let last_typing = StoredValue::new(0f64);
    let typing_ctx = ctx.clone();
    let typing_chat = chat.clone();
    let announce_typing = move || {
        let now = js_sys::Date::now();
        if now - last_typing.get_value() > 2_000.0 {
            last_typing.set_value(now);
            typing_ctx.send(ClientFrame::Typing {
                chat_id: typing_chat.clone(),
            });
        }
    };
    let typing_note = {
        let (entry, chat) = (entry.clone(), chat.clone());
        let now = ctx.now;
        move || {
            let at = now.get().max(js_sys::Date::now() as i64);
            let typing = state.with(|s| s.is_typing(&chat, at));
            typing
                .then(|| entry().map(|e| format!("{} is typing…", e.view.with.name)))
                .flatten()
        }
    };
    let header = {
        let entry = entry.clone();
        move || {
            entry().map(|e| {
                (
                    e.view.with.name.clone(),
                    e.view.with.group.to_string(),
                    e.view.interaction.clone(),
                )
            })
        }
    };
    let send_on_enter = send.clone();
    let send_on_click = send.clone();
    let ended_for_input = ended.clone();
    let ended_for_send = ended.clone();
    let ended_for_end = ended.clone();
    view! {
        <section class="chat-window" aria-label="Chat window">
            <header class="chat-header">
                {live(move || header().map(|(name, group, interaction)| view! {
                    <h2>{format!("Chat with {name}")}</h2>
                    <span class="muted">{group}</span>
                    {interaction.map(|i| view! { <span class="interaction">{format!("About interaction {i}")}</span> })}
                }))}
            </header>
            <div class="transcript" role="log" aria-label="Transcript" aria-live="polite"><ol>
                <For each=transcript key=|line| line.key.clone() children=|line| view! {
                    <li class:mine=line.mine class:theirs=!line.mine>
                        <div class="meta"><span class="sender">{line.who}</span>" "<span class="time">{line.time}</span></div>
                        <div class="body">{line.body}</div>
                        {line.seen.then(|| view! { <div class="seen">"Seen"</div> })}
                    </li>
                } />
            </ol></div>
            <p class="typing" aria-live="polite">{live(typing_note)}</p>
            {live(move || ended().then(|| view! { <p class="ended-note" role="status">"This chat has ended. The transcript stays here to read."</p> }))}
            <div class="composer">
                <label for="your-message">"Your Message"</label>
                <textarea id="your-message" node_ref=input rows="3"
                    prop:value=live(draft.clone())
                    disabled=live(ended_for_input)
                    on:input=move |ev| {
                        set_draft(event_target_value(&ev));
                        announce_typing();
                    }
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send_on_enter();
                        }
                    }></textarea>
                <div class="actions">
                    <button class="primary" on:click=move |_| send_on_click() disabled=live(ended_for_send)>"Send"</button>
                    <button class="danger" on:click=end disabled=live(ended_for_end)>"End"</button>
                </div>
            </div>
        </section>
    }
}

/// One line of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    key: String,
    who: String,
    time: String,
    body: String,
    mine: bool,
    seen: bool,
}
