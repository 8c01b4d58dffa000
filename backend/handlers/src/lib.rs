//! The request handlers of the Agent Console chat: library functions that take API
//! Gateway's event types and a context of ports. The Lambda binaries and the local server
//! (an API Gateway emulator) call the very same functions, so what runs locally is what
//! runs in AWS.

pub mod app;
pub mod auth;
pub mod clock;
pub mod download;
pub mod http_api;
pub mod respond;
pub mod websocket;

pub use app::App;
pub use auth::TokenAuthority;
