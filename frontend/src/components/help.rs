//! Help in the Chat tab: **Ask my group** (a question whoever of the group is free takes),
//! **Raise hand** (a supervisor comes), and **Open questions** — every question and hand
//! this console sees, who asked and since when, overdue ones marked, with **Take it** or,
//! for one's own, **Withdraw**.

use crate::alerts;
use crate::components::context::ConsoleContext;
use crate::components::interaction::InteractionInput;
use crate::format;
use crate::live::{attr, effect, handler, keyed_list, live, live_view};
use crate::state::{HelpRow, RowAction};
use leptos::prelude::*;
use protocol::help::{HelpKind, HelpState};
use protocol::{AgentState, ClientFrame, Role};

/// The ask form, the hand, and the list.
#[component]
pub fn Help() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (state, now) = (ctx.state, ctx.now);
    let me = ctx.me.clone();
    let agent = me.role == Role::Agent;
    if !agent {
        alert_when_overdue(&ctx);
    }
    let question = RwSignal::new(String::new());
    // The customer interaction a question or a hand is about, if any.
    let interaction = InteractionInput::new();
    let about = move || {
        let about = interaction.checked(true)?;
        interaction.clear();
        Some(about)
    };
    let ask = {
        let ctx = ctx.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let text = question.get_untracked();
            if !text.trim().is_empty()
                && let Some(interaction) = about()
            {
                ctx.send(ClientFrame::Ask { text, interaction });
                question.set(String::new());
            }
        }
    };
    let hand = {
        let me = me.clone();
        move || state.with(|s| s.help.my_hand(&me).map(|h| h.id.clone()))
    };
    let toggle_hand = {
        let (ctx, hand) = (ctx.clone(), hand.clone());
        move |_| match hand() {
            Some(request) => ctx.send(ClientFrame::Withdraw { request }),
            None => {
                if let Some(interaction) = about() {
                    ctx.send(ClientFrame::RaiseHand { interaction });
                }
            }
        }
    };
    let (pressed, label) = (hand.clone(), hand.clone());
    let listed = {
        let me = me.clone();
        move || state.with(|s| s.help.listed(&me, now.get()))
    };
    let row = move |row: HelpRow| {
        let ctx = ctx.clone();
        let HelpRow {
            view: request,
            overdue,
            action,
        } = row;
        let hand = request.kind == HelpKind::Hand;
        let what = match request.text {
            Some(text) if !hand => text,
            _ => "Raised a hand".to_owned(),
        };
        // Who raised a hand, as she is now (her state, as the agent list shows it).
        let from = request.from.clone();
        let now_doing = move || {
            state
                .with(|s| s.agent_state(&from))
                .map_or("", AgentState::label)
        };
        let asked_at = request.asked_at;
        let standing = match request.state {
            HelpState::Waiting => None,
            HelpState::Taken => Some(format!(
                "Taken by {}",
                request.taken_by_name.unwrap_or_default()
            )),
            HelpState::Withdrawn => Some("Withdrawn".to_owned()),
        };
        let id = request.id;
        let button = action.map(|action| {
            let label = match action {
                RowAction::Take => "Take it",
                RowAction::Withdraw => "Withdraw",
            };
            let act = move |_| {
                let request = id.clone();
                ctx.send(match action {
                    RowAction::Take => ClientFrame::Take { request },
                    RowAction::Withdraw => ClientFrame::Withdraw { request },
                });
            };
            view! { <button on:click=handler(act)>{label}</button> }
        });
        view! {
            <li class:overdue=overdue>
                <span class="who">{request.from_name}" · "{request.group.to_string()}</span>
                <span class="what">{what}</span>
                {hand.then(|| view! { <span class="agent-state">{live_view(now_doing.clone())}</span> })}
                {request.interaction.map(|i| view! { <span class="interaction">{i}</span> })}
                <span class="since">{live_view(move || format::elapsed(now.get() - asked_at))}</span>
                {overdue.then(|| view! { <span class="overdue-mark">"Overdue"</span> })}
                {standing.map(|s| view! { <span class="standing">{s}</span> })}
                {button}
            </li>
        }
        .into_any()
    };
    view! {
        <section class="help" aria-labelledby="help-title">
            <h2 id="help-title">"Open questions"</h2>
            <form class="ask" on:submit=handler(ask)>
                <label for="ask-text">"Your question"</label>
                <textarea id="ask-text" rows="2" prop:value=move || question.get()
                    on:input=move |e| question.set(event_target_value(&e))></textarea>
                {interaction.field("ask-interaction", "Interaction ID (optional)")}
                <button type="submit">"Ask my group"</button>
                // A hand is raised to the supervisors: theirs is not offered.
                {agent.then(|| view! {
                    <button class="hand" type="button" on:click=handler(toggle_hand)
                        {attr("aria-pressed", live(move || Some(pressed().is_some().to_string())))}>
                        {live_view(move || if label().is_some() { "Lower hand" } else { "Raise hand" })}
                    </button>
                })}
            </form>
            <ul class="open-questions" aria-live="polite" aria-label="Open questions">
                {keyed_list(listed, HelpRow::key, row)}
            </ul>
        </section>
    }
}

/// A supervisor is alerted (notification and chime, as for a new chat) when a question
/// or hand of her group passes its due time unanswered.
fn alert_when_overdue(ctx: &ConsoleContext) {
    let (state, now, alerts_on) = (ctx.state, ctx.now, ctx.alerts);
    let group = ctx.me.group.clone();
    let mut overdue_before = 0;
    effect(move || {
        let overdue = state.with(|s| s.help.overdue_in(&group, now.get()));
        if overdue > overdue_before {
            let (title, body) = ("Agent Console", "A question of your group is overdue");
            alerts::alert(alerts_on.get_untracked(), title, body, "overdue");
        }
        overdue_before = overdue;
    });
}
