//! The Control Panel in the Two Tabs view: tabs Status, Phone and Chat, and what the
//! whole console shares (the session, the chat state, the link, the clock).

use crate::alerts::{self, AlertSettings};
use crate::api::{self, Link, LinkTargets};
use crate::components::agent_list::AgentList;
use crate::components::chat_tab::ChatTab;
use crate::components::context::{ConsoleContext, Tab};
use crate::components::transcripts::Transcripts;
use crate::format;
use crate::live::{attr, effect, handler, live, live_view};
use crate::state::{ConsoleState, Notice};
use leptos::prelude::*;
use protocol::http::SignedIn;
use protocol::{AgentState, ClientFrame, Role};

/// The `performance.mark` set once the signed-in console is live (its link up and the
/// server's welcome applied) and painted: what the console benchmark reads.
pub const INTERACTIVE_MARK: &str = "console-interactive";

/// How long a send refused by the rate limit waits before it goes again (the limit's
/// windows are 3 s long).
const RETRY_AFTER_MS: u32 = 1500;

/// The signed-in console.
#[component]
pub fn Console(signed_in: SignedIn, session: RwSignal<Option<SignedIn>>) -> impl IntoView {
    let state = RwSignal::new(ConsoleState::default());
    let link = RwSignal::new(Link::Connecting);
    let notices = RwSignal::new(Vec::<Notice>::new());
    let signed_out = RwSignal::new(false);
    let selected = RwSignal::new(None);
    let (outbound, catch_up) = api::open_link(
        signed_in.token.clone(),
        LinkTargets {
            state,
            link,
            notices,
            signed_out,
            selected,
        },
    );
    let now = RwSignal::new(js_sys::Date::now() as i64);
    every(1, move || now.set(js_sys::Date::now() as i64));
    // API Gateway closes a connection idle for 10 minutes: ping every 4.
    let keepalive = outbound.clone();
    every(240, move || {
        if link.get_untracked() == Link::Online {
            let _ = keepalive.unbounded_send(ClientFrame::Ping);
        }
    });
    let ctx = ConsoleContext {
        me: signed_in.me.clone(),
        token: signed_in.token.clone(),
        state,
        link,
        tab: RwSignal::new(Tab::StatusAgentStatus),
        selected,
        compose: RwSignal::new(false),
        now,
        visible: page_visibility(),
        alerts: RwSignal::new(AlertSettings::load()),
        refusal: RwSignal::new(None),
        drafts: RwSignal::new(std::collections::BTreeMap::new()),
        catch_up,
        outbound,
    };
    ctx.refresh_agents();
    provide_context(ctx.clone());

    effect(move || {
        if signed_out.get() {
            session.set(None);
        }
    });
    {
        let ctx = ctx.clone();
        effect(move || {
            if notices.with(Vec::is_empty) {
                return;
            }
            // Taken without notifying: this effect is the queue's only reader.
            let batch = notices
                .try_update_untracked(std::mem::take)
                .unwrap_or_default();
            for notice in batch {
                act_on(&ctx, notice);
            }
        });
    }
    mark_interactive(link);
    title_follows(state);
    let refresh_ctx = ctx.clone();
    effect(move || {
        if matches!(
            ctx.tab.get(),
            Tab::StatusAgentStatus | Tab::PhoneAgents | Tab::ChatAgents
        ) {
            refresh_ctx.refresh_agents();
        }
    });

    view! {
        <div class="console">
            <TopBar session=session />
            <main class="main">
                <Banners />
                <ControlPanel />
            </main>
        </div>
    }
}

/// Runs `tick` every `seconds` while the console is shown.
fn every(seconds: u64, tick: impl Fn() + 'static) {
    if let Ok(interval) = set_interval_with_handle(tick, std::time::Duration::from_secs(seconds)) {
        on_cleanup(move || interval.clear());
    }
}

/// Sets [`INTERACTIVE_MARK`] once the link is first online and the page painted.
fn mark_interactive(link: RwSignal<Link>) {
    let marked = StoredValue::new(false);
    effect(move || {
        if link.get() == Link::Online && !marked.get_value() {
            marked.set_value(true);
            request_animation_frame(|| {
                if let Some(performance) = window().performance() {
                    let _ = performance.mark(INTERACTIVE_MARK);
                }
            });
        }
    });
}

/// The page title carries the count of chats that require a response.
fn title_follows(state: RwSignal<ConsoleState>) {
    effect(move || {
        let pending = state.with(|s| s.pending_chats);
        let title = if pending > 0 {
            format!("({pending}) Agent Console")
        } else {
            "Agent Console".to_owned()
        };
        document().set_title(&title);
    });
}

/// The bar over the console: who is signed in, her state, the alerts, Sign out.
#[component]
fn TopBar(session: RwSignal<Option<SignedIn>>) -> impl IntoView {
    let me = ConsoleContext::current().me;
    let role = if me.role == Role::Supervisor {
        "Supervisor"
    } else {
        "Agent"
    };
    view! {
        <header class="topbar">
            <h1 class="brand">"Agent Console"</h1>
            <span class="who">
                <strong>{me.name.clone()}</strong>
                <span class="muted">{format!(" · {} · {}", me.group, role)}</span>
            </span>
            <MyState />
            <AlertToggles />
            <button class="quiet" on:click=handler(move |_| {
                session.set(None);
                crate::oidc::end_session(&crate::config::sign_in());
            })>"Sign out"</button>
        </header>
    }
}

/// The connection's banner while it is not online, and the last refusal, to dismiss.
#[component]
fn Banners() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (link, refusal) = (ctx.link, ctx.refusal);
    view! {
        {live_view(move || match link.get() {
            Link::Online => None,
            Link::Connecting => Some(view! { <div class="banner" role="status">"Connecting…"</div> }),
            Link::Offline => Some(view! { <div class="banner offline" role="status">"Connection lost. Reconnecting… Messages you send are kept and delivered when the connection is back."</div> }),
        })}
        {live_view(move || refusal.get().map(|message| view! {
            <div class="alert" role="alert">
                {message}
                <button class="quiet" on:click=handler(move |_| refusal.set(None))>"Dismiss"</button>
            </div>
        }))}
    }
}

/// The Control Panel: tabs Status, Phone and Chat (with the blinking count of chats
/// requiring a response), and the panel of the one selected.
#[component]
fn ControlPanel() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (state, tab) = (ctx.state, ctx.tab);
    // Supervisors read the transcripts of their tenant under Chat > Transcripts.
    let mut chat_tabs = vec![("Chats", Tab::ChatChats), ("Agents", Tab::ChatAgents)];
    if ctx.me.role == Role::Supervisor {
        chat_tabs.push(("Transcripts", Tab::ChatTranscripts));
    }
    // Chats requiring a response, and questions and hands waiting for me to take them.
    let now = ctx.now;
    let questions = move || state.with(|s| s.questions_for_me(now.get()));
    let pending = move || state.with(|s| s.pending_chats) + questions();
    let count_class = move || {
        if pending() > 0 {
            "count blink"
        } else {
            "count zero"
        }
    };
    let top = move || match tab.get() {
        Tab::StatusAgentStatus => "status",
        Tab::PhoneAgents => "phone",
        Tab::ChatChats | Tab::ChatAgents | Tab::ChatTranscripts => "chat",
    };
    let select_top = move |name: &'static str| {
        tab.set(match name {
            "status" => Tab::StatusAgentStatus,
            "phone" => Tab::PhoneAgents,
            _ => Tab::ChatChats,
        })
    };
    view! {
        <nav class="tabs" aria-label="Control Panel">
            <div class="tablist" role="tablist" aria-label="Control Panel">
                <button role="tab" id="tab-status" {attr("aria-controls", "panel")} {attr("aria-selected", live(move || (top() == "status").to_string()))}
                    class:active=live(move || top() == "status") on:click=handler(move |_| select_top("status"))>"Status"</button>
                <button role="tab" id="tab-phone" {attr("aria-controls", "panel")} {attr("aria-selected", live(move || (top() == "phone").to_string()))}
                    class:active=live(move || top() == "phone") on:click=handler(move |_| select_top("phone"))>"Phone"</button>
                <button role="tab" id="tab-chat" class="with-count" {attr("aria-controls", "panel")} {attr("aria-describedby", "chat-count")}
                    {attr("aria-selected", live(move || (top() == "chat").to_string()))}
                    class:active=live(move || top() == "chat") on:click=handler(move |_| select_top("chat"))>"Chat"</button>
            </div>
            // The count sits over the Chat tab; for assistive technology it is the tab's
            // description and a status that is announced when it changes.
            <span class=live(count_class) {attr("aria-hidden", "true")}>{live_view(pending)}</span>
            <span id="chat-count" class="visually-hidden" role="status">
                {live_view(move || format::requiring_response(
                    state.with(|s| s.pending_chats) as usize,
                    questions() as usize,
                ))}
            </span>
        </nav>
        <section id="panel" class="panel" role="tabpanel" {attr("aria-labelledby", live(move || format!("tab-{}", top())))}>
            {live_view(move || match tab.get() {
                Tab::StatusAgentStatus => view! {
                    <SubTabs entries=vec![("Agent Status", Tab::StatusAgentStatus)] />
                    <AgentList label="Agent Status" />
                }.into_any(),
                Tab::PhoneAgents => view! {
                    <SubTabs entries=vec![("Agents", Tab::PhoneAgents)] />
                    <AgentList label="Agents" />
                }.into_any(),
                Tab::ChatChats => view! {
                    <SubTabs entries=chat_tabs.clone() />
                    <ChatTab />
                }.into_any(),
                Tab::ChatAgents => view! {
                    <SubTabs entries=chat_tabs.clone() />
                    <AgentList label="Agents" />
                }.into_any(),
                Tab::ChatTranscripts => view! {
                    <SubTabs entries=chat_tabs.clone() />
                    <Transcripts />
                }.into_any(),
            })}
        </section>
    }
}

/// Does what a notice from the server asks of the console.
fn act_on(ctx: &ConsoleContext, notice: Notice) {
    match notice {
        Notice::OpenChat(id) => {
            ctx.selected.set(Some(id));
            ctx.tab.set(Tab::ChatChats);
        }
        Notice::Incoming(chat) => {
            if !ctx.visible.get_untracked() {
                let settings = ctx.alerts.get_untracked();
                let last = ctx.state.with_untracked(|s| {
                    s.chats.get(&chat).and_then(|e| {
                        e.messages
                            .values()
                            .next_back()
                            .map(|m| (e.view.with.name.clone(), m.body.clone()))
                    })
                });
                if let Some((from, body)) = last {
                    let title = format!("{from} (Agent Console)");
                    alerts::alert(settings, &title, &body, chat.as_str());
                }
            }
            let listed = ctx.state.with_untracked(|s| {
                s.chats
                    .get(&chat)
                    .is_some_and(|e| s.agents.iter().any(|a| a.id == e.view.with.id))
            });
            if !listed {
                ctx.refresh_agents();
            }
        }
        Notice::Asked => {
            if !ctx.visible.get_untracked() {
                let settings = ctx.alerts.get_untracked();
                alerts::alert(settings, "Agent Console", "A colleague needs help", "help");
            }
        }
        Notice::Refused(message) => ctx.refusal.set(Some(message)),
        Notice::Unsendable {
            chat_id,
            body,
            message,
        } => {
            // Its text goes back into Your Message, before anything typed since, where
            // the chat window says it is too long.
            if crate::state::too_long(&body).is_none() {
                // The server counted otherwise than this console.
                ctx.refusal.set(Some(message));
            }
            ctx.drafts.update(|drafts| {
                let draft = drafts.get(&chat_id).cloned().unwrap_or_default();
                let text = if draft.is_empty() || draft == body {
                    body
                } else {
                    format!("{body}\n{draft}")
                };
                drafts.insert(chat_id, text);
            });
        }
        Notice::RetryLater(id) => {
            // Too fast for the server's rate limit: send it again in a moment (and again,
            // until it is stored).
            let ctx = ctx.clone();
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(RETRY_AFTER_MS).await;
                let again = ctx.state.with_untracked(|s| {
                    s.outbox
                        .iter()
                        .find(|o| o.client_msg_id == id)
                        .map(|o| o.frame())
                });
                if let Some(frame) = again {
                    ctx.send(frame);
                }
            });
        }
        Notice::None => {}
    }
}

/// The sub-tabs of a Control Panel tab.
#[component]
fn SubTabs(entries: Vec<(&'static str, Tab)>) -> impl IntoView {
    let ctx = ConsoleContext::current();
    let tab = ctx.tab;
    view! {
        <div class="subtabs" role="tablist">
            {entries.into_iter().map(|(label, target)| view! {
                <button role="tab" {attr("aria-selected", live(move || (tab.get() == target).to_string()))}
                    class:active=live(move || tab.get() == target) on:click=handler(move |_| tab.set(target))>{label}</button>
            }).map(IntoAny::into_any).collect_view()}
        </div>
    }
}

/// The agent's own state, set from the panel; everyone who can see her sees it change.
#[component]
fn MyState() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let state = ctx.state;
    let current = move || {
        state
            .with(|s| s.me.as_ref().map(|m| m.state))
            .unwrap_or(AgentState::LoggedOut)
    };
    let choose = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Some(chosen) = AgentState::ALL.iter().find(|s| state_value(**s) == value) {
            ctx.send(ClientFrame::SetState { state: *chosen });
        }
    };
    view! {
        <span class="my-state">
            <label for="my-state">"My State"</label>
            <select id="my-state" on:change=handler(choose) prop:value=live(move || state_value(current()))>
                {AgentState::ALL.into_iter().filter(|s| *s != AgentState::LoggedOut).map(|s| view! {
                    <option value=state_value(s)>{s.label()}</option>
                }).map(IntoAny::into_any).collect_view()}
            </select>
        </span>
    }
}

fn state_value(state: AgentState) -> &'static str {
    match state {
        AgentState::Available => "available",
        AgentState::Busy => "busy",
        AgentState::OnBreak => "on_break",
        AgentState::WorkingOffline => "working_offline",
        AgentState::PostProcessing => "post_processing",
        AgentState::LoggedOut => "logged_out",
    }
}

/// A signal that follows the page's visibility.
fn page_visibility() -> RwSignal<bool> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let is_visible = || document().visibility_state() == web_sys::VisibilityState::Visible;
    let visible = RwSignal::new(is_visible());
    let listener = Closure::<dyn Fn()>::new(move || visible.set(is_visible()));
    let _ = document()
        .add_event_listener_with_callback("visibilitychange", listener.as_ref().unchecked_ref());
    // The console lives as long as the page; so does the listener.
    listener.forget();
    visible
}

/// The two alert settings: a notification and a sound for new messages while the page
/// is hidden.
#[component]
fn AlertToggles() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let settings = ctx.alerts;
    let change = move |update: fn(&mut AlertSettings, bool)| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            settings.update(|s| update(s, on));
            settings.get_untracked().save();
            if on {
                alerts::ask_permission();
            }
        }
    };
    view! {
        <span class="alert-toggles">
            <label>
                <input type="checkbox" prop:checked=live(move || settings.get().notify)
                    on:change=handler(change(|s, on| s.notify = on)) />
                "Notifications"
            </label>
            <label>
                <input type="checkbox" prop:checked=live(move || settings.get().sound)
                    on:change=handler(change(|s, on| s.sound = on)) />
                "Sound"
            </label>
        </span>
    }
}
