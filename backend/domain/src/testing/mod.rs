//! The testing layer: the ports in memory, for tests of the use-cases that run in
//! milliseconds on any executor (`futures_executor::block_on` will do) — no file, no
//! socket, no runtime.
//!
//! - [`MemoryStore`]: every store port over plain maps behind one lock, each method doing
//!   in one lock what the embedded store does in one transaction; it passes the store
//!   conformance suite ([`crate::conformance`]).
//! - [`RecordingPusher`]: keeps every frame posted, and answers `Gone` (or `Failed`) for
//!   the connections a test chooses.
//! - [`ManualClock`]: a time the test sets, and ids `id-1`, `id-2`… in order.
//!
//! Compiled for this crate's tests, and for other crates' with the `testing` feature.

mod clock;
mod pusher;
mod store;

pub use clock::ManualClock;
pub use pusher::RecordingPusher;
pub use store::MemoryStore;

#[cfg(test)]
mod tests;
