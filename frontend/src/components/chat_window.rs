//! The chat window: its transcript (virtualised: only the messages near the view are in
//! the page), "Your Message", Send and End.

use crate::components::context::ConsoleContext;
use crate::format;
use crate::live::{ElementRef, attr, effect, handler, keep, keyed_list, live, live_view};
use crate::state::{ConsoleState, too_long};
use crate::visible_rows::varied;
use leptos::prelude::*;
use protocol::{AgentId, ChatId, ChatStatus, ClientFrame};
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;

/// How far beyond the transcript's view messages are rendered (px).
const MARGIN_PX: f64 = 800.0;
/// A message's height with the gap after it (px), until one is measured.
const LINE_PX: f64 = 62.0;
/// The gap between two messages (px; the style sheet's).
const GAP_PX: f64 = 10.0;
/// This close to the bottom (px) counts as at the bottom: new messages keep it there.
const BOTTOM_PX: f64 = 40.0;
/// This close to the top (px) counts as at the top: older messages are loaded.
const TOP_PX: f64 = 200.0;

/// One chat's window: who it is with, its transcript, and Your Message with Send and End.
#[component]
pub fn ChatWindow(chat: ChatId) -> impl IntoView {
    let ctx = ConsoleContext::current();
    let state = ctx.state;
    // A chat on show that lacks messages gets them: its latest page if none is held
    // (opened from the History list), or what a gap lacks.
    {
        let (catch_up, chat) = (ctx.catch_up.clone(), chat.clone());
        effect(move || {
            if state.with(|s| s.missing(&chat).is_some()) {
                catch_up.fill(chat.clone());
            }
        });
    }
    let typing_note = {
        let chat = chat.clone();
        let now = ctx.now;
        move || {
            let at = now.get().max(js_sys::Date::now() as i64);
            state.with(|s| {
                let entry = s.chats.get(&chat)?;
                s.is_typing(&chat, at)
                    .then(|| format!("{} is typing…", entry.view.with.name))
            })
        }
    };
    let ended = ended(state, chat.clone());
    view! {
        <section class="chat-window" aria-label="Chat window">
            <ChatHeader chat=chat.clone() />
            <Conversation chat=chat.clone() />
            <p class="typing" {attr("aria-live", "polite")}>{live_view(typing_note)}</p>
            {live_view(move || ended().then(|| view! { <p class="ended-note" role="status">"This chat has ended. The transcript stays here to read."</p> }))}
            <Composer chat=chat />
        </section>
    }
}

/// Whether `chat` has ended, as a live value.
fn ended(state: RwSignal<ConsoleState>, chat: ChatId) -> impl Fn() -> bool + Clone + 'static {
    move || {
        state.with(|s| {
            s.chats
                .get(&chat)
                .is_some_and(|e| e.view.status == ChatStatus::Ended)
        })
    }
}

/// Whom the chat is with, her group, and the customer interaction it is about.
#[component]
fn ChatHeader(chat: ChatId) -> impl IntoView {
    let state = ConsoleContext::current().state;
    let header = move || {
        state.with(|s| {
            s.chats.get(&chat).map(|e| {
                (
                    e.view.with.name.clone(),
                    e.view.with.group.to_string(),
                    e.view.interaction.clone(),
                )
            })
        })
    };
    view! {
        <header class="chat-header">
            {live_view(move || header().map(|(name, group, interaction)| view! {
                <h2>{format!("Chat with {name}")}</h2>
                <span class="muted">{group}</span>
                {interaction.map(|i| view! { <span class="interaction">{format!("About interaction {i}")}</span> }.into_any())}
            }))}
        </header>
    }
}

/// The transcript: the messages near the view, older ones loaded as she scrolls up, and
/// what she has seen told to the other agent.
#[component]
fn Conversation(chat: ChatId) -> impl IntoView {
    let ctx = ConsoleContext::current();
    let state = ctx.state;
    let (lines, shown) = transcript(state, chat.clone(), ctx.me.id.clone());
    let list = shown.list;
    // Older messages, a page at a time, as she reaches the top (or asks for them).
    let has_older = {
        let chat = chat.clone();
        move || {
            state.with(|s| {
                s.chats
                    .get(&chat)
                    .is_some_and(|e| e.older_before().is_some())
            })
        }
    };
    let load_older = {
        let (catch_up, chat) = (ctx.catch_up.clone(), chat.clone());
        move || catch_up.older(chat.clone())
    };
    {
        // While the view is near its top and older messages exist, they load: when it
        // comes there, and again each time a page arrives (or anything else changes the
        // chat) and it is still there — a request refused because another page of the
        // chat was on its way is made again then.
        let (load_older, has_older) = (load_older.clone(), has_older.clone());
        effect(move || {
            if shown.at_top.get() && has_older() {
                load_older();
            }
        });
    }
    // Tell the other agent what I have seen, while this window shows and the page is visible.
    let reported = StoredValue::new(0u64);
    let visible = ctx.visible;
    effect(move || {
        if !visible.get() {
            return;
        }
        let unseen = state.with(|s| s.unseen(&chat, reported.get_value()));
        if let Some(seq) = unseen {
            reported.set_value(seq);
            state.update(|s| s.saw(&chat, seq));
            ctx.send(ClientFrame::Seen {
                chat_id: chat.clone(),
                seq,
            });
        }
    });
    view! {
        <div class="transcript" role="log" aria-label="Transcript" {attr("aria-live", "polite")} use:keep=list
            on:scroll=handler(move |_| shown.scrolled())>
            {live_view(move || has_older().then(|| {
                let load_older = load_older.clone();
                view! { <button class="quiet-dark earlier" on:click=handler(move |_| load_older())>"Load earlier messages"</button> }
            }))}
            <ol style:padding-top=live(move || format!("{}px", shown.get().above.round() as i64))
                style:padding-bottom=live(move || format!("{}px", shown.get().below.round() as i64))>
            {keyed_list(lines, |line| line.key.clone(), |line| view! {
                <li class:mine=line.mine class:theirs=!line.mine data-line=line.id.attribute()>
                    <div class="meta"><span class="sender">{line.who}</span>" "<span class="time">{line.time}</span></div>
                    <div class="body">{line.body}</div>
                    {line.seen.then(|| view! { <div class="seen">"Seen"</div> }.into_any())}
                </li>
            }.into_any())}
        </ol></div>
    }
}

/// Your Message (a draft kept per chat), Send and End; typing told to the other agent.
#[component]
fn Composer(chat: ChatId) -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (state, drafts) = (ctx.state, ctx.drafts);
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
    let input = ElementRef::new();
    // Chosen by the agent (not shown by itself): Your Message takes the focus.
    let compose = ctx.compose;
    effect(move || {
        if compose.get()
            && let Some(input) = input.get::<web_sys::HtmlElement>()
        {
            compose.set(false);
            let _ = input.focus();
        }
    });
    let send = {
        let (ctx, chat, draft, set_draft) =
            (ctx.clone(), chat.clone(), draft.clone(), set_draft.clone());
        move || {
            let body = draft();
            if body.trim().is_empty() {
                return;
            }
            // Too long to send, it stays in Your Message, and why shows beside it.
            if ctx.send_message(chat.clone(), body) {
                set_draft(String::new());
            }
            if let Some(input) = input.get::<web_sys::HtmlElement>() {
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
    // A message the server would refuse is not sent: it stays in Your Message, and this
    // says why until it is short enough.
    let too_long_note = {
        let draft = draft.clone();
        move || too_long(&draft())
    };
    // Tell the other agent I am typing, at most every two seconds.
    let last_typing = StoredValue::new(0f64);
    let typing_chat = chat.clone();
    let announce_typing = move || {
        let now = js_sys::Date::now();
        if now - last_typing.get_value() > 2_000.0 {
            last_typing.set_value(now);
            ctx.send(ClientFrame::Typing {
                chat_id: typing_chat.clone(),
            });
        }
    };
    let send_on_enter = send.clone();
    let ended = ended(state, chat);
    let (ended_for_input, ended_for_send) = (ended.clone(), ended.clone());
    view! {
        <div class="composer">
            <label for="your-message">"Your Message"</label>
            {live_view(move || too_long_note().map(|why| view! { <p class="alert" role="status">{why}</p> }))}
            <textarea id="your-message" {attr("rows", "3")} use:keep=input
                prop:value=live(draft.clone())
                disabled=live(ended_for_input)
                on:input=handler(move |ev| {
                    set_draft(event_target_value(&ev));
                    announce_typing();
                })
                on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send_on_enter();
                    }
                })></textarea>
            <div class="actions">
                <button class="primary" on:click=handler(move |_| send()) disabled=live(ended_for_send)>"Send"</button>
                <button class="danger" on:click=handler(end) disabled=live(ended)>"End"</button>
            </div>
        </div>
    }
}

/// A line of the transcript: a stored message, or a send not acknowledged yet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LineId {
    Stored(u64),
    Sending(String),
}

impl LineId {
    /// As the line's `data-line` attribute says it.
    fn attribute(&self) -> String {
        match self {
            LineId::Stored(seq) => format!("s{seq}"),
            LineId::Sending(id) => format!("o{id}"),
        }
    }

    fn from_attribute(text: &str) -> Option<LineId> {
        match text.split_at_checked(1)? {
            ("s", seq) => seq.parse().ok().map(LineId::Stored),
            ("o", id) => Some(LineId::Sending(id.to_owned())),
            _ => None,
        }
    }
}

/// Which lines of the transcript are in the page: it keeps only those in its view (and a
/// margin), measures them as they show, and stays at the bottom while she is there.
#[derive(Clone, Copy, Debug)]
struct TranscriptView {
    /// Every line's id, in order, and where each starts.
    layout: Memo<(Vec<LineId>, Vec<f64>)>,
    list: ElementRef,
    /// The view's scroll position and height (px).
    scroll: RwSignal<(f64, f64)>,
    /// Whether the view is at the bottom: new lines keep it there.
    at_bottom: RwSignal<bool>,
    /// Whether the view is at the top: older messages are loaded.
    at_top: RwSignal<bool>,
    /// The message at the top of the view (0: none), how far (px) the view's top is below
    /// its start, and the first message held then: when older messages come before that
    /// one, the view stays on the message she was reading. (Lines measured above it
    /// the browser's own scroll anchoring takes care of.)
    anchor: StoredValue<u64>,
    anchor_offset: StoredValue<f64>,
    anchor_first: StoredValue<u64>,
    heights: StoredValue<BTreeMap<LineId, f64>>,
    measured: RwSignal<i64>,
}

impl TranscriptView {
    /// The lines on show.
    fn get(&self) -> crate::visible_rows::Slice {
        self.layout.with(|(_, starts)| {
            let (top, height) = self.scroll.get();
            let total = starts.last().copied().unwrap_or_default();
            let top = if self.at_bottom.get() {
                (total - height).max(0.0)
            } else {
                top
            };
            varied(starts, top, height, MARGIN_PX)
        })
    }

    /// The view was scrolled (by her, or to keep it at the bottom).
    fn scrolled(&self) {
        let Some(div) = self.list.get_untracked::<web_sys::Element>() else {
            return;
        };
        let (top, height) = (f64::from(div.scroll_top()), f64::from(div.client_height()));
        let near_bottom = f64::from(div.scroll_height()) - top - height <= BOTTOM_PX;
        // Once at the bottom, only scrolling up leaves it: lines measured taller than
        // guessed grow the list under a view that was at its bottom, and that is no
        // reason to stop following new messages.
        let (last_top, _) = self.scroll.get_untracked();
        let bottom = if self.at_bottom.get_untracked() {
            near_bottom || top >= last_top - 1.0
        } else {
            near_bottom
        };
        if self.scroll.get_untracked() != (top, height) {
            self.scroll.set((top, height));
        }
        if self.at_bottom.get_untracked() != bottom {
            self.at_bottom.set(bottom);
        }
        let at_top = top <= TOP_PX;
        if self.at_top.get_untracked() != at_top {
            self.at_top.set(at_top);
        }
        self.layout.with_untracked(|(ids, starts)| {
            let at = starts[1..].partition_point(|end| *end <= top);
            if let (Some(LineId::Stored(first)), Some(LineId::Stored(seq))) =
                (ids.first(), ids.get(at))
            {
                self.anchor.set_value(*seq);
                self.anchor_offset.set_value(top - starts[at]);
                self.anchor_first.set_value(*first);
            }
        });
    }

    /// After the lines on show changed: measures them, and keeps the view at the bottom
    /// if it was there.
    fn rendered(&self) {
        let Some(div) = self.list.get_untracked::<web_sys::Element>() else {
            return;
        };
        let mut changed = false;
        if let Ok(items) = div.query_selector_all("li[data-line]") {
            self.heights.update_value(|heights| {
                for at in 0..items.length() {
                    let Some(item) = items
                        .item(at)
                        .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
                    else {
                        continue;
                    };
                    let Some(id) = item
                        .get_attribute("data-line")
                        .as_deref()
                        .and_then(LineId::from_attribute)
                    else {
                        continue;
                    };
                    let px = item.get_bounding_client_rect().height() + GAP_PX;
                    if heights
                        .get(&id)
                        .is_none_or(|known| (known - px).abs() > 0.5)
                    {
                        heights.insert(id, px);
                        changed = true;
                    }
                }
            });
        }
        if changed {
            self.measured.update(|n| *n += 1);
        }
        if self.at_bottom.get_untracked() {
            div.set_scroll_top(div.scroll_height());
        } else {
            // Older messages added above the one she reads do not move it.
            let anchor = LineId::Stored(self.anchor.get_value());
            let first = LineId::Stored(self.anchor_first.get_value());
            let start = self.layout.with_untracked(|(ids, starts)| {
                let prepended = ids.first().is_some_and(|id| *id < first);
                let at = ids.binary_search(&anchor).ok().filter(|_| prepended);
                at.map(|at| starts[at])
            });
            if let Some(start) = start {
                div.set_scroll_top((start + self.anchor_offset.get_value()).round() as i32);
            }
        }
        self.scrolled();
    }
}

/// The transcript's lines on show, and the view that picks them (and knows the element
/// that scrolls them).
fn transcript(
    state: RwSignal<ConsoleState>,
    chat: ChatId,
    me: AgentId,
) -> (
    impl Fn() -> Vec<Line> + Clone + Send + Sync + 'static,
    TranscriptView,
) {
    let heights = StoredValue::new(BTreeMap::<LineId, f64>::new());
    // A count (i64, the type of the console's clock signal: one signal type less).
    let measured = RwSignal::new(0i64);
    // Every line's id, in order (the stored messages, then the sends on their way), and
    // where each starts (px), measured or guessed from those measured.
    let layout = {
        let chat = chat.clone();
        Memo::new(move |_| {
            measured.track();
            let mut ids: Vec<LineId> = Vec::new();
            state.with(|s| {
                if let Some(entry) = s.chats.get(&chat) {
                    ids.extend(entry.messages.keys().map(|seq| LineId::Stored(*seq)));
                }
                ids.extend(
                    s.unacknowledged(&chat)
                        .into_iter()
                        .map(|o| LineId::Sending(o.client_msg_id.clone())),
                );
            });
            let starts = heights.with_value(|heights| {
                let guess = if heights.is_empty() {
                    LINE_PX
                } else {
                    heights.values().sum::<f64>() / heights.len() as f64
                };
                let mut starts = Vec::with_capacity(ids.len() + 1);
                let mut at = 0.0;
                for id in &ids {
                    starts.push(at);
                    at += heights.get(id).copied().unwrap_or(guess);
                }
                starts.push(at);
                starts
            });
            (ids, starts)
        })
    };
    let scroll = RwSignal::new((0.0, 480.0));
    let at_bottom = RwSignal::new(true);
    let list = ElementRef::new();
    let view = TranscriptView {
        layout,
        list,
        scroll,
        at_bottom,
        at_top: RwSignal::new(false),
        anchor: StoredValue::new(0),
        anchor_offset: StoredValue::new(0.0),
        anchor_first: StoredValue::new(0),
        heights,
        measured,
    };
    effect(move || {
        layout.track();
        scroll.track();
        request_animation_frame(move || view.rendered());
    });
    let lines = move || {
        let slice = view.get();
        layout.with(|(ids, _)| {
            state.with(|s| {
                let Some(entry) = s.chats.get(&chat) else {
                    return Vec::new();
                };
                let other = &entry.view.with.name;
                // "Seen" goes under my last message the other agent has seen.
                let seen_seq = entry
                    .messages
                    .range(..=entry.view.seen_by_other)
                    .rev()
                    .find(|(_, m)| m.from == me)
                    .map(|(seq, _)| *seq);
                ids.get(slice.first..slice.end)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|id| match id {
                        LineId::Stored(seq) => entry.messages.get(seq).map(|m| {
                            let mine = m.from == me;
                            let seen = seen_seq == Some(m.seq);
                            Line {
                                key: format!("s{}:{seen}", m.seq),
                                id: id.clone(),
                                who: if mine {
                                    "You".to_owned()
                                } else {
                                    other.clone()
                                },
                                time: format::clock_time(m.sent_at),
                                body: m.body.clone(),
                                mine,
                                seen,
                            }
                        }),
                        LineId::Sending(client_msg_id) => s
                            .outbox
                            .iter()
                            .find(|o| &o.client_msg_id == client_msg_id)
                            .map(|o| Line {
                                key: format!("o{}", o.client_msg_id),
                                id: id.clone(),
                                who: "You".to_owned(),
                                time: "Sending…".to_owned(),
                                body: o.body.clone(),
                                mine: true,
                                seen: false,
                            }),
                    })
                    .collect()
            })
        })
    };
    (lines, view)
}

/// One line of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    key: String,
    id: LineId,
    who: String,
    time: String,
    body: String,
    mine: bool,
    seen: bool,
}
