//! The sign-in: the identity provider's page when the console has one (in AWS), or the
//! local server's development sign-in page (pick a demo agent), which is not part of the
//! console (`backend/local/src/dev_sign_in.rs`).

use crate::live::{handler, live, live_view};
use crate::{config, oidc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::http::{DEV_SIGN_IN_PAGE, SignInMethod};

/// Signs in by the console's method; `busy` while a provider's answer is being redeemed.
#[component]
pub fn SignIn(error: RwSignal<Option<String>>, busy: RwSignal<bool>) -> impl IntoView {
    match config::sign_in() {
        SignInMethod::Development => {
            let _ = window().location().replace(DEV_SIGN_IN_PAGE);
            ().into_any()
        }
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
