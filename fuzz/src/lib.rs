//! What the fuzz targets share: a small world to run the handlers in — the real `App`
//! over the embedded store, seeded with two tenants and a few chats, a pusher that
//! records every frame, a clock that moves a little with every input — and the text form
//! of an HTTP request that the `http_request` target reads its inputs as.

pub mod clock;
pub mod http_text;
pub mod pusher;
pub mod world;

pub use world::{World, with_world};
