//! The sign-in: the identity provider's page when the console has one (in AWS), or the
//! development sign-in of the local server (pick a demo agent).

use crate::live::{handler, live, live_view};
use crate::{api, config, oidc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::Role;
use protocol::http::{SignInMethod, SignedIn};

/// Signs in by the console's method; `busy` while a provider's answer is being redeemed.
#[component]
pub fn SignIn(
    session: RwSignal<Option<SignedIn>>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
) -> impl IntoView {
    match config::sign_in() {
        SignInMethod::Development => view! { <DevSignIn session=session error=error /> }.into_any(),
        method => view! { <ProviderSignIn method=method error=error busy=busy /> }.into_any(),
    }
}

/// One button to the identity provider.
#[component]
fn ProviderSignIn(
    method: SignInMethod,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let go = move |_| {
        let method = method.clone();
        busy.set(true);
        spawn_local(async move {
            if let Err(message) = oidc::begin(&method).await {
                busy.set(false);
                error.set(Some(message));
            }
        });
    };
    view! {
        <main class="sign-in">
            <div class="sign-in-card">
                <h1>"Agent Console"</h1>
                <p class="lead">"Sign in with your contact-center account."</p>
                {live_view(move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> }))}
                <button class="primary" on:click=handler(go) disabled=live(move || busy.get())>
                    {live_view(move || if busy.get() { "Signing in…" } else { "Sign in" })}
                </button>
            </div>
        </main>
    }
}

/// Lists the demo directory; choosing an agent signs in as her.
#[component]
fn DevSignIn(
    session: RwSignal<Option<SignedIn>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    // A signal filled once the directory comes, rather than a resource under
    // `<Suspense>`: the same page for the agent, and far less WASM.
    let directory = RwSignal::new(None);
    spawn_local(async move { directory.set(Some(api::dev_directory().await)) });
    view! {
        <main class="sign-in">
            <div class="sign-in-card">
                <h1>"Agent Console"</h1>
                <p class="lead">"Development sign-in: choose who you are."</p>
                {live_view(move || error.get().map(|message| view! { <p class="alert" role="alert">{message}</p> }))}
                {live_view(move || match directory.get() {
                    None => view! { <p>"Loading the directory…"</p> }.into_any(),
                    Some(Err(failure)) => view! { <p class="alert" role="alert">{failure.message}</p> }.into_any(),
                    Some(Ok(directory)) => directory.tenants.into_iter().map(|tenant| {
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
                                                <button class="choice" on:click=handler(move |_| {
                                                    let (tenant_id, agent_id) = (tenant_id.clone(), agent_id.clone());
                                                    spawn_local(async move {
                                                        match api::dev_sign_in(tenant_id, agent_id).await {
                                                            Ok(signed_in) => session.set(Some(signed_in)),
                                                            Err(failure) => error.set(Some(failure.message)),
                                                        }
                                                    });
                                                })>
                                                    {agent.name.clone()}
                                                </button>
                                                <span class="muted">{detail}</span>
                                            </li>
                                        }
                                    }).map(IntoAny::into_any).collect_view()}
                                </ul>
                            </section>
                        }
                    }).map(IntoAny::into_any).collect_view().into_any(),
                })}
            </div>
        </main>
    }
}
