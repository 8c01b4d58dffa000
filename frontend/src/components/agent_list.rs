//! The agent list (Status > Agent Status, Phone > Agents, Chat > Agents): name,
//! functional group, agent state, time in state, chat status. Clicking a name opens a
//! menu with "Start a chat".

use crate::components::context::ConsoleContext;
use crate::components::interaction::InteractionInput;
use crate::format;
use crate::live::{ElementRef, attr, effect, handler, keep, keyed_list, live, live_view};
use crate::state::{SortKey, matching, sort_agents};
use crate::visible_rows::uniform;
use leptos::prelude::*;
use protocol::{AgentId, AgentState, ChatStatus, ClientFrame};
use std::sync::Arc;

/// How far beyond the window rows are rendered (px), so a quick scroll finds them there.
const MARGIN_PX: f64 = 600.0;

/// A row's height (px) until one is measured.
const ROW_PX: f64 = 41.0;

/// The chat status of an agent, as its icon says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatMark {
    None,
    RequiresResponse,
    Waiting,
    Ended,
}

impl ChatMark {
    /// The icon's text alternative.
    pub fn label(self) -> &'static str {
        match self {
            ChatMark::None => "",
            ChatMark::RequiresResponse => "Requires your response",
            ChatMark::Waiting => "Waiting for the other agent",
            ChatMark::Ended => "Chat ended",
        }
    }

    /// The icon's CSS class.
    pub fn class(self) -> &'static str {
        match self {
            ChatMark::None => "mark none",
            ChatMark::RequiresResponse => "mark requires",
            ChatMark::Waiting => "mark waiting",
            ChatMark::Ended => "mark ended",
        }
    }
}

fn state_class(state: AgentState) -> &'static str {
    match state {
        AgentState::Available => "state available",
        AgentState::Busy => "state busy",
        AgentState::OnBreak => "state break",
        AgentState::WorkingOffline => "state offline",
        AgentState::PostProcessing => "state post",
        AgentState::LoggedOut => "state logged-out",
    }
}

/// The agent list sorted, and what it was sorted from and by: sorted again only when
/// one of them changes.
#[derive(Debug, PartialEq, Eq)]
struct SortedAgents {
    agents: Vec<protocol::AgentView>,
    order: (SortKey, bool),
    rows: Vec<crate::state::ListedAgent>,
}

/// The agent list; `label` names the table for assistive technology.
#[component]
pub fn AgentList(label: &'static str) -> impl IntoView {
    let ctx = ConsoleContext::current();
    let menu_for = RwSignal::new(None::<AgentId>);
    // A click outside the open menu (and outside the names that open one) closes it.
    let outside = window_event_listener(leptos::ev::click, move |ev| {
        use wasm_bindgen::JsCast;
        if menu_for.with_untracked(Option::is_none) {
            return;
        }
        let inside = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest(".menu, .agent-name").ok().flatten())
            .is_some();
        if !inside {
            menu_for.set(None);
        }
    });
    // Removed with the list: a handle dropped leaves its listener on the window.
    on_cleanup(move || outside.remove());
    // The agent a chat about an interaction is being started with, while the dialog
    // asks for the interaction's ID.
    let asking = RwSignal::new(None::<Asking>);
    let state = ctx.state;
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new((SortKey::Name, true));
    // The listed agents, plus anyone I have a chat with (she appears in my list). Each
    // step is worked out again only when what it reads changes: a message does not
    // re-sort the list, a keystroke only filters it.
    let sorted = Memo::new(move |previous: Option<&Arc<SortedAgents>>| {
        let order = sort.get();
        let agents = state.with(|s| s.agent_list());
        match previous {
            Some(previous) if previous.order == order && previous.agents == agents => {
                previous.clone()
            }
            _ => Arc::new(SortedAgents {
                rows: sort_agents(agents.clone(), order.0, order.1),
                order,
                agents,
            }),
        }
    });
    let shown =
        Memo::new(move |_| filter.with(|f| sorted.with(|sorted| matching(&sorted.rows, f))));
    let body = ElementRef::new();
    let slice = rows_in_window(body, shown);
    let rows = move || {
        let slice = slice();
        shown.with(|shown| {
            sorted.with(|sorted| {
                shown
                    .get(slice.first..slice.end)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(at, index)| (slice.first + at, sorted.rows[*index].agent.clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    let spacer = move |px: f64| {
        (px > 0.0).then(|| {
            view! {
                <tr class="spacer" {attr("aria-hidden", "true")}><td {attr("colspan", "5")} style:height=format!("{}px", px.round() as i64)></td></tr>
            }
        })
    };
    let header = move |title: &'static str, key: SortKey| {
        let aria_sort = move || match sort.get() {
            (k, true) if k == key => "ascending",
            (k, false) if k == key => "descending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=aria_sort>
                <button class="sort" on:click=handler(move |_| sort.update(|(k, asc)| {
                    if *k == key { *asc = !*asc } else { *k = key; *asc = true }
                }))>
                    {title}
                    <span class="sort-arrow" {attr("aria-hidden", "true")}>{live_view(move || match aria_sort() {
                        "ascending" => "▲",
                        "descending" => "▼",
                        _ => "",
                    })}</span>
                </button>
            </th>
        }
    };
    let start_ctx = ctx.clone();
    let start_chat = move |agent: AgentId, interaction: Option<String>| {
        menu_for.set(None);
        // Your Message takes the focus as the chat's window shows.
        start_ctx.compose.set(true);
        start_ctx.send(ClientFrame::StartChat {
            with: agent,
            interaction,
        });
    };
    let dialog_start = start_chat.clone();
    view! {
        <div class="list-tools">
            <label class="filter">
                <span>"Filter by name"</span>
                <input type="search" prop:value=live(move || filter.get())
                    on:input=handler(move |ev| filter.set(event_target_value(&ev))) />
            </label>
        </div>
        <table class="agents" {attr("aria-rowcount", live(move || (shown.with(Vec::len) + 1).to_string()))} aria-label=label>
            <thead>
                <tr {attr("aria-rowindex", "1")}>
                    {header("Name", SortKey::Name)}
                    {header("Group", SortKey::Group)}
                    {header("State", SortKey::State)}
                    {header("Time in State", SortKey::TimeInState)}
                    <th scope="col">"Chat"</th>
                </tr>
            </thead>
            <tbody use:keep=body>
                {live_view(move || spacer(slice().above))}
                {keyed_list(rows, |(at, agent)| format!("{at}:{}:{}:{}", agent.id, agent.state.label(), agent.state_since), move |(at, agent)| view! {
                    <AgentRow at agent menu_for asking start_chat=start_chat.clone() />
                }.into_any())}
                {live_view(move || spacer(slice().below))}
            </tbody>
        </table>
        {live_view(move || shown.with(Vec::is_empty).then(|| view! { <p class="empty">"No agents to show."</p> }))}
        {live_view(move || asking.get().map(|asked| view! { <InteractionDialog asked asking start=dialog_start.clone() /> }))}
    }
}

/// Which of the `shown` rows are in the browser's window (and a margin): only those are
/// in the page; the rest are spacers. The window is the page's, so the list scrolls with
/// it as before.
fn rows_in_window(
    body: ElementRef,
    shown: Memo<Vec<usize>>,
) -> impl Fn() -> crate::visible_rows::Slice + Copy + 'static {
    let view = RwSignal::new((0.0f64, 800.0f64));
    let row_px = RwSignal::new(ROW_PX);
    let measure = move || {
        let Some(body) = body.get_untracked::<web_sys::Element>() else {
            return;
        };
        let top = body.get_bounding_client_rect().top();
        let height = window()
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        if view.get_untracked() != (top, height) {
            view.set((top, height));
        }
        let first = body
            .query_selector("tr[aria-rowindex]")
            .ok()
            .flatten()
            .map(|row| row.get_bounding_client_rect().height());
        if let Some(px) =
            first.filter(|px| *px >= 1.0 && (*px - row_px.get_untracked()).abs() > 0.5)
        {
            row_px.set(px);
        }
    };
    let on_scroll = window_event_listener(leptos::ev::scroll, move |_| measure());
    let on_resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || {
        on_scroll.remove();
        on_resize.remove();
    });
    effect(move || {
        shown.track();
        request_animation_frame(measure);
    });
    move || {
        let (top, height) = view.get();
        uniform(shown.with(Vec::len), row_px.get(), -top, height, MARGIN_PX)
    }
}

/// One agent's row: her name (which opens the menu with "Start a chat"), group, state,
/// time in state, and the status of my chat with her.
#[component]
fn AgentRow(
    at: usize,
    agent: protocol::AgentView,
    menu_for: RwSignal<Option<AgentId>>,
    asking: RwSignal<Option<Asking>>,
    start_chat: impl Fn(AgentId, Option<String>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (state, now) = (ctx.state, ctx.now);
    let id = agent.id.clone();
    let menu_id = format!("menu-{}", agent.id);
    let name_button = ElementRef::new();
    // Escape closes the menu and gives the focus back to the name.
    let close_menu = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            menu_for.set(None);
            if let Some(button) = name_button.get_untracked::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
        }
    };
    let open = {
        let id = id.clone();
        move || menu_for.get().as_ref() == Some(&id)
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            menu_for.update(|m| {
                *m = if m.as_ref() == Some(&id) {
                    None
                } else {
                    Some(id.clone())
                }
            })
        }
    };
    let start = {
        let id = id.clone();
        move |_| start_chat(id.clone(), None)
    };
    let start_about = {
        let (id, name) = (id.clone(), agent.name.clone());
        move |_| {
            menu_for.set(None);
            asking.set(Some(Asking {
                with: id.clone(),
                name: name.clone(),
                back: name_button,
            }));
        }
    };
    let mark = move || {
        state.with(|s| match s.chat_with(&id) {
            None => ChatMark::None,
            Some(entry) if entry.view.pending => ChatMark::RequiresResponse,
            Some(entry) if entry.view.status == ChatStatus::Ended => ChatMark::Ended,
            Some(_) => ChatMark::Waiting,
        })
    };
    let since = agent.state_since;
    view! {
        <tr {attr("aria-rowindex", (at + 2).to_string())}>
            <td class="name-cell">
                <button class="agent-name" {attr("aria-haspopup", "menu")} {attr("aria-expanded", live({ let open = open.clone(); move || open().to_string() }))}
                    {attr("aria-controls", menu_id.clone())} use:keep=name_button on:click=handler(toggle)
                    on:keydown=handler(close_menu)>
                    {agent.name.clone()}
                </button>
                // The menu, while open.
                {live_view({
                    let name = agent.name.clone();
                    move || open().then(|| view! {
                        <ul class="menu" role="menu" id=menu_id.clone() aria-label=format!("Actions for {name}")
                            on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| move_focus_in_menu(&ev))>
                            <li role="none">
                                <button role="menuitem" use:keep=focus_first() on:click=handler(start.clone())
                                    on:keydown=handler(close_menu)>
                                    "Start a chat"
                                </button>
                            </li>
                            <li role="none">
                                <button role="menuitem" on:click=handler(start_about.clone())
                                    on:keydown=handler(close_menu)>
                                    "Start a chat about an interaction…"
                                </button>
                            </li>
                        </ul>
                    })
                })}
            </td>
            <td>{agent.group.to_string()}</td>
            <td><span class=state_class(agent.state)><span class="dot" aria-hidden="true"></span>{agent.state.label()}</span></td>
            <td class="numeric">{live_view(move || if since > 0 { format::elapsed(now.get() - since) } else { String::new() })}</td>
            <td>{live_view(move || {
                let m = mark();
                (m != ChatMark::None).then(|| view! { <span class=m.class() role="img" aria-label=m.label() {attr("title", m.label())}></span> })
            })}</td>
        </tr>
    }
}

/// A chat about an interaction, being asked for.
#[derive(Clone, Debug)]
struct Asking {
    with: AgentId,
    name: String,
    /// The agent's name in the list, which has the focus back when the dialog closes.
    back: ElementRef,
}

/// Asks for the interaction a chat is about: a modal dialog (the page behind it inert,
/// Escape and Cancel close it, Enter starts the chat) with the protocol's rules for the
/// reference checked before it goes.
#[component]
fn InteractionDialog(
    asked: Asking,
    asking: RwSignal<Option<Asking>>,
    start: impl Fn(AgentId, Option<String>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let dialog = ElementRef::new();
    effect(move || {
        if let Some(dialog) = dialog.get::<web_sys::HtmlDialogElement>()
            && !dialog.open()
        {
            let _ = dialog.show_modal();
        }
    });
    let reference = InteractionInput::new();
    let back = asked.back;
    // Closed first (the page behind is inert while it is open), then the focus goes
    // back, then it goes.
    let close = move || {
        if let Some(dialog) = dialog.get_untracked::<web_sys::HtmlDialogElement>() {
            dialog.close();
        }
        if let Some(button) = back.get_untracked::<web_sys::HtmlElement>() {
            let _ = button.focus();
        }
        asking.set(None);
    };
    let with = asked.with.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(interaction) = reference.checked(false) {
            close();
            start(with.clone(), interaction);
        }
    };
    view! {
        <dialog class="interaction-dialog" {attr("aria-labelledby", "interaction-title")} use:keep=dialog
            on:cancel=handler(move |ev: leptos::ev::Event| { ev.prevent_default(); close() })>
            <form on:submit=handler(submit)>
                <h2 id="interaction-title">{format!("Start a chat with {} about an interaction", asked.name)}</h2>
                {reference.field("interaction-id", "Interaction ID")}
                <div class="dialog-actions">
                    <button class="primary" type="submit">"Start a chat"</button>
                    <button type="button" on:click=handler(move |_| close())>"Cancel"</button>
                </div>
            </form>
        </dialog>
    }
}

/// A node reference that takes the keyboard focus as soon as its element appears: the
/// first item of a menu that just opened.
fn focus_first() -> ElementRef {
    let node = ElementRef::new();
    effect(move || {
        if let Some(button) = node.get::<web_sys::HtmlElement>() {
            let _ = button.focus();
        }
    });
    node
}

/// Up and Down move between the items of a menu.
fn move_focus_in_menu(ev: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let forward = match ev.key().as_str() {
        "ArrowDown" => true,
        "ArrowUp" => false,
        _ => return,
    };
    ev.prevent_default();
    let Some(current) = document().active_element() else {
        return;
    };
    let sibling = current
        .parent_element()
        .and_then(|item| {
            if forward {
                item.next_element_sibling()
            } else {
                item.previous_element_sibling()
            }
        })
        .and_then(|item| item.first_element_child())
        .and_then(|button| button.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = sibling {
        let _ = button.focus();
    }
}
