//! The real `agent-console-local` binary as a child process, for killing it with
//! SIGKILL: nothing of it runs in the test's process.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `agent-console-local`.
#[derive(Debug)]
pub struct Binary {
    pub addr: SocketAddr,
    child: Child,
}

impl Binary {
    /// Starts the binary on `listen` with its store in `data`; returns once it serves.
    pub async fn start(data: &Path, listen: SocketAddr) -> Binary {
        Binary::start_with(data, listen, &[]).await
    }

    /// As [`Binary::start`], with more arguments (`--send-quota 1000/1000`, say).
    pub async fn start_with(data: &Path, listen: SocketAddr, more: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_agent-console-local"))
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--data-dir")
            .arg(data)
            .arg("--console-dir")
            .arg(data.join("no-console"))
            .args(more)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("its standard output");
        let (ready, serving) = tokio::sync::oneshot::channel();
        // Read its output to the end, so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut ready = Some(ready);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("running at http://").nth(1)
                    && let Some(ready) = ready.take()
                {
                    let _ = ready.send(url.trim().to_owned());
                }
            }
        });
        let url = tokio::time::timeout(Duration::from_secs(60), serving)
            .await
            .expect("the binary serves within a minute")
            .expect("the binary prints where it serves");
        Binary {
            addr: url.parse().expect("an address"),
            child,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
