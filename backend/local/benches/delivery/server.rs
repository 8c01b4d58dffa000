//! The server under test: the real `agent-console-local` binary as a child process,
//! with its durable embedded store in a folder of its own, a generated directory
//! imported before it starts, and every agent signed in.

use crate::support::binary::Binary;
use crate::support::directory::{self, Directory};
use crate::support::host::any_port;
use crate::support::http;
use anyhow::Context;
use console_domain::Identity;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;

/// How many HTTP requests the benchmark makes at once while setting up.
pub const SETUP_CONCURRENCY: usize = 32;

/// A running server and the sign-ins of its agents.
#[derive(Debug)]
pub struct Server {
    pub binary: Binary,
    /// Every agent's bearer token.
    pub tokens: HashMap<Identity, String>,
    /// Resident memory right after it started serving, before any request (bytes).
    pub resident_at_start: u64,
}

impl Server {
    /// Imports `directory` into a new store in `data`, starts the binary on it with
    /// `more` arguments, and signs every agent in.
    pub async fn start(
        data: &Path,
        directory: &Directory,
        more: &[&str],
    ) -> anyhow::Result<Server> {
        directory::import(data, directory).await;
        let binary = Binary::start_with(data, any_port(), more).await;
        let resident_at_start = resident_bytes(binary.pid())?;
        let addr = binary.addr;
        let tokens = futures_util::stream::iter(directory::everyone(directory))
            .map(|who| async move {
                let token = http::sign_in_patiently(addr, &who).await;
                (who, token)
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .collect()
            .await;
        Ok(Server {
            binary,
            tokens,
            resident_at_start,
        })
    }

    /// Its resident memory now (bytes).
    pub fn resident(&self) -> anyhow::Result<u64> {
        resident_bytes(self.binary.pid())
    }
}

/// `VmRSS` of a process, from `/proc/<pid>/status` (bytes).
pub fn resident_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS in {path}"))?;
    Ok(kb * 1024)
}
