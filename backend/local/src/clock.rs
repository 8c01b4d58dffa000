//! The system clock and random ids (shared with the Lambdas).

pub use console_handlers::clock::SystemClock;
