//! The development sign-in of the local server: pick a demo agent.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::Role;
use protocol::http::SignedIn;

/// Lists the demo directory; choosing an agent signs in as her.
#[component]
pub fn SignIn(session: RwSignal<Option<SignedIn>>) -> impl IntoView {
    let directory = LocalResource::new(api::dev_directory);
    let error = RwSignal::new(None::<String>);
    view! {
        <main class="sign-in">
            <div class="sign-in-card">
                <h1>"Agent Console"</h1>
                <p class="lead">"Development sign-in: choose who you are."</p>
                {move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
                <Suspense fallback=|| view! { <p>"Loading the directory…"</p> }>
                    {move || directory.get().map(|result| match result {
                        Err(failure) => view! { <p class="alert" role="alert">{failure.message}</p> }.into_any(),
                        Ok(directory) => directory.tenants.into_iter().map(|tenant| {
                            let tenant_id = tenant.id.clone();
                            view! {
                                <section class="tenant" aria-label=tenant.name.clone()>
                                    <h2>{tenant.name.clone()}</h2>
                                    <ul class="agent-choices">
                                        {tenant.agents.into_iter().map(|agent| {
                                            let tenant_id = tenant_id.clone();
                                            let agent_id = agent.id.clone();
                                            let role = if agent.role == Role::Supervisor { " · Supervisor" } else { "" };
                                            let detail = format!("{}{}", agent.group, role);
                                            view! {
                                                <li>
                                                    <button class="choice" on:click=move |_| {
                                                        let (tenant_id, agent_id) = (tenant_id.clone(), agent_id.clone());
                                                        spawn_local(async move {
                                                            match api::dev_sign_in(tenant_id, agent_id).await {
                                                                Ok(signed_in) => session.set(Some(signed_in)),
                                                                Err(failure) => error.set(Some(failure.message)),
                                                            }
                                                        });
                                                    }>
                                                        {agent.name.clone()}
                                                    </button>
                                                    <span class="muted">{detail}</span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </section>
                            }
                        }).collect_view().into_any(),
                    })}
                </Suspense>
            </div>
        </main>
    }
}
