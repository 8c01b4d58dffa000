//! The local server on a runtime of its own, as if in another process: its blocking
//! store calls (redb commits with an fsync each) never stall the simulated consoles, and
//! thousands of consoles never stall it.

use console_domain::ConnectionId;
use console_local::{Backend, Config, RunningServer};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::runtime::Runtime;

/// The configuration of a test server: `data` holds its store and signing key; there is
/// no built console.
pub fn config(data: &Path, listen: SocketAddr) -> Config {
    Config {
        listen,
        data_dir: data.to_path_buf(),
        console_dir: data.join("no-console"),
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    }
}

/// A free port of 127.0.0.1 (`:0` lets the server pick one).
pub fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A running local server and the runtime it runs on.
#[derive(Debug)]
pub struct Host {
    pub addr: SocketAddr,
    server: Option<RunningServer>,
    runtime: Option<Runtime>,
}

impl Host {
    /// Starts the server with `backend` on a two-thread runtime of its own.
    pub async fn start(config: Config, backend: Backend) -> anyhow::Result<Host> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("local-server")
            .enable_all()
            .build()?;
        let started = runtime
            .spawn(console_local::start_with(config, backend))
            .await;
        let server = match started {
            Ok(Ok(server)) => server,
            Ok(Err(error)) => {
                shut_down(runtime).await;
                return Err(error);
            }
            Err(error) => {
                shut_down(runtime).await;
                return Err(error.into());
            }
        };
        Ok(Host {
            addr: server.addr,
            server: Some(server),
            runtime: Some(runtime),
        })
    }

    /// Starts the server with its embedded store in `data`, on `listen`; retries for a
    /// while if the previous run still holds the store file or the port.
    pub async fn embedded(data: &Path, listen: SocketAddr) -> Host {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match Host::start(config(data, listen), Backend::Embedded).await {
                Ok(host) => return host,
                Err(error) if tokio::time::Instant::now() < deadline => {
                    eprintln!("the local server did not start yet ({error:#}); retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("the local server does not start: {error:#}"),
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The ids of the open WebSockets.
    pub fn connection_ids(&self) -> Vec<ConnectionId> {
        self.server
            .as_ref()
            .map(RunningServer::connection_ids)
            .unwrap_or_default()
    }

    /// Stops the server (every socket closes, each `$disconnect` runs) and its runtime,
    /// so that the store file is closed when this returns.
    pub async fn stop(mut self) {
        if let (Some(server), Some(runtime)) = (self.server.take(), self.runtime.as_ref()) {
            let _ = runtime.spawn(server.stop()).await;
        }
        if let Some(runtime) = self.runtime.take() {
            shut_down(runtime).await;
        }
    }
}

/// Shuts a runtime down from async code (dropping it here would block).
async fn shut_down(runtime: Runtime) {
    let _ = tokio::task::spawn_blocking(move || runtime.shutdown_timeout(Duration::from_secs(10)))
        .await;
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
