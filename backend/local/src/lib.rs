//! The local server: an API Gateway emulator around the shared handlers.
//!
//! It accepts browser WebSockets, mints connection ids, runs the `$connect` authorizer,
//! builds the same API Gateway events the Lambdas receive and calls the same handlers;
//! pushes go through an in-process connection map. It also bridges the HTTP API to the
//! shared HTTP handler, keeps its data in the embedded store on disk, and serves the
//! built console and the development sign-in page.

pub mod clock;
pub mod config;
pub mod demo;
pub mod dev_sign_in;
pub mod gateway;
pub mod http_bridge;
pub mod management;
pub mod order;
pub mod push;
pub mod security;
pub mod server;

pub use config::Config;
pub use server::{Backend, RunningServer, start, start_with};
