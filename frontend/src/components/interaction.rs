//! An interaction ID being typed (the customer interaction a chat, a question or a hand
//! is about): its field, and its check by the protocol's rules before anything is sent,
//! with why beside it when it is refused and nothing typed lost. The interaction dialog
//! of the agent list and the help form share it.

use crate::live::{attr, handler, live};
use leptos::prelude::*;

/// What is typed in an interaction field, and why it was refused, if it was.
#[derive(Clone, Copy, Debug)]
pub struct InteractionInput {
    text: RwSignal<String>,
    problem: RwSignal<Option<String>>,
}

impl InteractionInput {
    pub fn new() -> Self {
        InteractionInput {
            text: RwSignal::new(String::new()),
            problem: RwSignal::new(None),
        }
    }

    /// The ID to send, trimmed (`Some(None)` when nothing is typed and it is optional);
    /// `None` when the rules refuse it, with why shown beside the field.
    pub fn checked(&self, optional: bool) -> Option<Option<String>> {
        let text = self.text.get_untracked();
        let text = text.trim();
        if optional && text.is_empty() {
            return Some(None);
        }
        if let Some(why) = interaction_problem(text) {
            self.problem.set(Some(why.to_owned()));
            return None;
        }
        Some(Some(text.to_owned()))
    }

    /// Empties the field once what it held is sent.
    pub fn clear(&self) {
        self.text.set(String::new());
    }

    /// The field, labelled `label`, with its `id`; why it was refused shows under it.
    pub fn field(self, id: &'static str, label: &'static str) -> impl IntoView {
        let (text, problem) = (self.text, self.problem);
        let problem_id = format!("{id}-problem");
        view! {
            <label for=id>{label}</label>
            <input id=id type="text" {attr("autocomplete", "off")}
                {attr("aria-invalid", live(move || problem.get().is_some().to_string()))}
                {attr("aria-describedby", problem_id.clone())}
                prop:value=live(move || text.get())
                on:input=handler(move |ev| { text.set(event_target_value(&ev)); problem.set(None); }) />
            <p id=problem_id class="field-problem" role="alert">{live(move || problem.get().unwrap_or_default())}</p>
        }
    }
}

impl Default for InteractionInput {
    fn default() -> Self {
        InteractionInput::new()
    }
}

/// Why an interaction reference cannot be sent, by the protocol's rules: something, at
/// most 256 bytes, no control characters.
fn interaction_problem(reference: &str) -> Option<&'static str> {
    let reference = reference.trim();
    if reference.is_empty() {
        Some("Enter the interaction's ID.")
    } else if reference.len() > 256 {
        Some("An interaction ID has at most 256 characters.")
    } else if reference.chars().any(char::is_control) {
        Some("An interaction ID cannot hold control characters.")
    } else {
        None
    }
}
