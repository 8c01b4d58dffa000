//! What the fuzz targets share: a small world to run the handlers in — the real `App`
//! over the embedded store, seeded with two tenants and a few chats, the domain's
//! recording pusher, and its manual clock moved a little with every input — and the text
//! form of an HTTP request that the `http_request` target reads its inputs as.

pub mod http_text;
pub mod world;

pub use world::{World, with_world};
