//! The top of the console: the sign-in until someone signs in, then the Control Panel.

use crate::components::console::Console;
use crate::components::sign_in::SignIn;
use crate::live::{effect, live_view};
use crate::storage::{self, Kept};
use crate::{config, oidc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::http::SignedIn;

/// Where the session is kept: per browser tab, so two tabs can be two agents.
pub const SESSION_KEY: &str = "agent-console.session";

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(storage::load::<SignedIn>(Kept::InTab, SESSION_KEY));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    effect(move || match session.get() {
        Some(signed_in) => {
            // A browser that keeps nothing only forgets the session on reload.
            let _ = storage::save(Kept::InTab, SESSION_KEY, &signed_in);
        }
        None => storage::forget(Kept::InTab, SESSION_KEY),
    });
    // Back from the identity provider: redeem its answer.
    busy.set(true);
    spawn_local(async move {
        match oidc::finish(&config::sign_in()).await {
            Some(Ok(signed_in)) => session.set(Some(signed_in)),
            Some(Err(message)) => error.set(Some(message)),
            None => {}
        }
        busy.set(false);
    });
    view! {
        {live_view(move || match session.get() {
            None => view! { <SignIn error=error busy=busy /> }.into_any(),
            Some(signed_in) => view! { <Console signed_in=signed_in session=session /> }.into_any(),
        })}
    }
}
