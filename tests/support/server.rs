//! The local server for a test: a fresh data folder, the built console, a free port.

use console_local::config::OidcSettings;
use console_local::{Config, RunningServer};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A local server and the data folder it keeps, so it can be stopped and started again
/// on the same data and port.
#[derive(Debug)]
pub struct TestServer {
    pub data: tempfile::TempDir,
    pub console_dir: PathBuf,
    pub oidc: Option<OidcSettings>,
    pub server: Option<RunningServer>,
    pub addr: SocketAddr,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 with a free port and an empty store (seeded with the
    /// demo directory), serving the built console.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(crate::workspace_root().join("dist"), None).await
    }

    /// As [`TestServer::start`], serving the console in `console_dir` and accepting the
    /// tokens of an identity provider, if given.
    pub async fn start_with(
        console_dir: PathBuf,
        oidc: Option<OidcSettings>,
    ) -> anyhow::Result<Self> {
        Self::start_on(tempfile::tempdir()?, console_dir, oidc).await
    }

    /// As [`TestServer::start_with`], on a data folder prepared beforehand (a directory
    /// imported, chats written into its store); the demo directory is seeded only if the
    /// store holds no tenant.
    pub async fn start_on(
        data: tempfile::TempDir,
        console_dir: PathBuf,
        oidc: Option<OidcSettings>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            console_dir.join("index.html").exists(),
            "the console is not built in {}: run `cargo xtask test` (it builds it) or `trunk build --release`",
            console_dir.display()
        );
        let mut test = TestServer {
            data,
            console_dir,
            oidc,
            server: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        test.start_again().await?;
        test.addr = test.server.as_ref().map(|s| s.addr).unwrap_or(test.addr);
        Ok(test)
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
                oidc: self.oidc.clone(),
                lifetimes: Default::default(),
                send_quota: Config::defaults().send_quota,
                allowed_hosts: Vec::new(),
            })
            .await?,
        );
        Ok(())
    }
}
