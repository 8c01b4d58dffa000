//! The Agent Console: the agent-to-agent chat of a contact-center console, in the
//! browser. Leptos, client-side rendered; `main.rs` only mounts [`app::App`].

pub mod alerts;
pub mod api;
pub mod app;
pub mod components;
pub mod config;
pub mod fetch;
pub mod format;
pub mod live;
pub mod oidc;
pub mod socket;
pub mod sorting;
pub mod state;
pub mod storage;
pub mod visible_rows;
pub mod wire;
