//! moto's server (PyPI `moto[server]`), the DynamoDB emulator, on a free port of
//! 127.0.0.1, and SDK clients for it. `cargo xtask test` installs it and sets
//! `MOTO_SERVER`.
//!
//! The server answers one request at a time (`one_at_a_time/sitecustomize.py` says why:
//! on many threads, its transactions are not isolated).
#![allow(dead_code)]

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_program() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/agent-console/venv/bin/moto_server")
        })
}

/// The server's `PYTHONPATH`: the folder of `one_at_a_time/sitecustomize.py` first.
fn python_path() -> std::ffi::OsString {
    // Every package that includes this module is a sibling of the store's, under backend/.
    let ours =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../store-dynamo/tests/moto/one_at_a_time");
    assert!(
        ours.join("sitecustomize.py").exists(),
        "no {}/sitecustomize.py",
        ours.display()
    );
    let inherited = std::env::var_os("PYTHONPATH").unwrap_or_default();
    let inherited = std::env::split_paths(&inherited).filter(|p| !p.as_os_str().is_empty());
    std::env::join_paths(std::iter::once(ours).chain(inherited)).expect("a PYTHONPATH")
}

pub fn start() -> Moto {
    let program = moto_program();
    assert!(
        program.exists(),
        "moto_server not found at {} (set MOTO_SERVER); `cargo xtask test` installs it",
        program.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new(program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("PYTHONPATH", python_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// The AWS configuration of every client of the emulator at `url`.
pub async fn config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

pub async fn client(url: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config(url).await)
}

/// A client for `url` with extra configuration (an interceptor, say).
pub async fn client_with(
    url: &str,
    configure: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::Client {
    let shared = config(url).await;
    aws_sdk_dynamodb::Client::from_conf(
        configure(aws_sdk_dynamodb::config::Builder::from(&shared)).build(),
    )
}
