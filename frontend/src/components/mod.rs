//! The console's parts, one file each.

pub mod agent_list;
pub mod chat_tab;
pub mod chat_window;
pub mod console;
pub mod context;
pub mod help;
pub mod history;
pub mod interaction;
pub mod sign_in;
pub mod transcripts;
