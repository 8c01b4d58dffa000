//! The local server's configuration, read once at start.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the local server listens, keeps its data and finds the built console.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Folder of the embedded store and the signing key; created if missing.
    pub data_dir: PathBuf,
    /// Folder of the built console (Trunk's `dist/`).
    pub console_dir: PathBuf,
}

impl Config {
    /// The defaults: 127.0.0.1:8080, `./.local-data`, `./dist`.
    pub fn defaults() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from(".local-data"),
            console_dir: PathBuf::from("dist"),
        }
    }

    /// Reads `--listen ADDR`, `--data-dir DIR` and `--console-dir DIR` from the command
    /// line, over the defaults.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut config = Config::defaults();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--listen" => {
                    let raw = value()?;
                    config.listen = raw.parse().map_err(|_| {
                        format!("--listen wants an address like 127.0.0.1:8080, not {raw}")
                    })?;
                }
                "--data-dir" => config.data_dir = PathBuf::from(value()?),
                "--console-dir" => config.console_dir = PathBuf::from(value()?),
                "--help" | "-h" => {
                    return Err("usage: agent-console-local [--listen 127.0.0.1:8080] [--data-dir .local-data] [--console-dir dist]".into());
                }
                other => return Err(format!("unknown argument {other}; try --help")),
            }
        }
        Ok(config)
    }
}
