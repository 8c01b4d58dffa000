//! Test support for the end-to-end tests: the local server on a free port with a fresh
//! data folder, and real Chromium browsers driven through chromedriver, found by role and
//! accessible name the way a person (or a screen reader) finds them.

pub mod browser;
pub mod console;
pub mod identity;
pub mod seed;
pub mod server;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where tests keep what they produce (screenshots): `E2E_OUTPUT`, or `test-output/` at
/// the workspace root.
pub fn output_dir() -> PathBuf {
    std::env::var_os("E2E_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("test-output"))
}

/// Retries `check` until it returns `Ok(Some(value))` or `timeout` passes; then fails
/// with the last reason.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut last;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => last = "not yet".into(),
            Err(error) => last = format!("{error:#}"),
        }
        if Instant::now() > deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
