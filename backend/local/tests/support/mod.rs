//! Shared helpers of the local server's tests and benches: the local server for tests
//! that script each step (`scripted`); and, for the load, fault and durability tests,
//! the local server on a runtime of its own (or the real binary as a child process), a
//! generated directory of many tenants, groups and agents, simulated consoles that
//! reconnect and resume by themselves, fault-injecting wrappers of the store and of API
//! Gateway's management API, and the check of what the consoles hold against what the
//! store holds.
//!
//! Sizes come from environment variables so that a longer run needs no code change;
//! every random choice comes from a seed that a run prints, so a failure can be repeated.
#![allow(dead_code)]

pub mod binary;
pub mod check;
pub mod console;
pub mod dice;
pub mod directory;
pub mod faulty_store;
pub mod flaky_gateway;
pub mod host;
pub mod http;
pub mod scripted;
pub mod swarm;

/// A whole number from the environment variable `name`, or `default`.
pub fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
        Err(_) => default,
    }
}
