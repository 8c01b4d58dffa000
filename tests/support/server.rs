//! The local server for a test: a fresh data folder, the built console, a free port.

use console_local::{Config, RunningServer};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A local server and the data folder it keeps, so it can be stopped and started again
/// on the same data and port.
#[derive(Debug)]
pub struct TestServer {
    pub data: tempfile::TempDir,
    pub console_dir: PathBuf,
    pub server: Option<RunningServer>,
    pub addr: SocketAddr,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 with a free port and an empty store (seeded with the
    /// demo directory).
    pub async fn start() -> anyhow::Result<Self> {
        let console_dir = crate::workspace_root().join("dist");
        anyhow::ensure!(
            console_dir.join("index.html").exists(),
            "the console is not built in {}: run `cargo xtask test` (it builds it) or `trunk build --release`",
            console_dir.display()
        );
        let data = tempfile::tempdir()?;
        let server = console_local::start(Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data.path().to_path_buf(),
            console_dir: console_dir.clone(),
            oidc: None,
            lifetimes: Default::default(),
        })
        .await?;
        let addr = server.addr;
        Ok(TestServer {
            data,
            console_dir,
            server: Some(server),
            addr,
        })
    }

    /// The console's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and starts it again on the same port and data.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        self.start_again().await
    }

    /// Stops the server (its sockets close; the browsers' consoles go offline).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Starts the stopped server again on the same port and data.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        self.server = Some(
            console_local::start(Config {
                listen: self.addr,
                data_dir: self.data.path().to_path_buf(),
                console_dir: self.console_dir.clone(),
                oidc: None,
                lifetimes: Default::default(),
            })
            .await?,
        );
        Ok(())
    }
}
