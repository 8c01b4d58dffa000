//! The agent list (Status > Agent Status, Phone > Agents, Chat > Agents): name,
//! functional group, agent state, time in state, chat status. Clicking a name opens a
//! menu with "Start a chat".

use crate::components::console::ConsoleContext;
use crate::format;
use leptos::prelude::*;
use protocol::{AgentId, AgentState, ChatStatus, ClientFrame};

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

/// The agent list; `label` names the table for assistive technology.
#[component]
pub fn AgentList(label: &'static str) -> impl IntoView {
    let ctx = expect_context::<ConsoleContext>();
    let menu_for = RwSignal::new(None::<AgentId>);
    let state = ctx.state;
    // The listed agents, plus anyone I have a chat with (she appears in my list).
    let rows = move || state.with(|s| s.agent_list());
    let mark = move |agent: &AgentId| {
        state.with(|s| match s.chat_with(agent) {
            None => ChatMark::None,
            Some(entry) if entry.view.pending => ChatMark::RequiresResponse,
            Some(entry) if entry.view.status == ChatStatus::Ended => ChatMark::Ended,
            Some(_) => ChatMark::Waiting,
        })
    };
    let start_ctx = ctx.clone();
    let start_chat = move |agent: AgentId| {
        menu_for.set(None);
        start_ctx.send(ClientFrame::StartChat {
            with: agent,
            interaction: None,
        });
    };
    let now = ctx.now;
    view! {
        <table class="agents" aria-label=label>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Group"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Time in State"</th>
                    <th scope="col">"Chat"</th>
                </tr>
            </thead>
            <tbody>
                <For each=rows key=|agent| (agent.id.clone(), agent.state, agent.state_since) children=move |agent| {
                    let id = agent.id.clone();
                    let menu_id = format!("menu-{}", agent.id);
                    let open = {
                        let id = id.clone();
                        move || menu_for.get().as_ref() == Some(&id)
                    };
                    let toggle = {
                        let id = id.clone();
                        move |_| menu_for.update(|m| *m = if m.as_ref() == Some(&id) { None } else { Some(id.clone()) })
                    };
                    let start = {
                        let id = id.clone();
                        let start_chat = start_chat.clone();
                        move |_| start_chat(id.clone())
                    };
                    let mark_id = id.clone();
                    let since = agent.state_since;
                    view! {
                        <tr>
                            <td class="name-cell">
                                <button class="agent-name" aria-haspopup="menu" aria-expanded={let open = open.clone(); move || open().to_string()}
                                    aria-controls=menu_id.clone() on:click=toggle
                                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { menu_for.set(None) }>
                                    {agent.name.clone()}
                                </button>
                                <Show when=open.clone()>
                                    <ul class="menu" role="menu" id=menu_id.clone() aria-label=format!("Actions for {}", agent.name)>
                                        <li role="none">
                                            <button role="menuitem" on:click=start.clone()
                                                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { menu_for.set(None) }>
                                                "Start a chat"
                                            </button>
                                        </li>
                                    </ul>
                                </Show>
                            </td>
                            <td>{agent.group.to_string()}</td>
                            <td><span class=state_class(agent.state)><span class="dot" aria-hidden="true"></span>{agent.state.label()}</span></td>
                            <td class="numeric">{move || if since > 0 { format::elapsed(now.get() - since) } else { String::new() }}</td>
                            <td>{move || {
                                let m = mark(&mark_id);
                                (m != ChatMark::None).then(|| view! { <span class=m.class() role="img" aria-label=m.label() title=m.label()></span> })
                            }}</td>
                        </tr>
                    }
                } />
            </tbody>
        </table>
        {move || rows().is_empty().then(|| view! { <p class="empty">"No agents to show."</p> })}
    }
}
