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
    /// An OpenID Connect issuer whose tokens are accepted too, if any.
    pub oidc: Option<OidcSettings>,
    /// Connection idle timeout and lifetime (API Gateway's by default).
    pub lifetimes: crate::gateway::Lifetimes,
}

/// Where the tokens of an OpenID Connect identity provider come from.
#[derive(Debug, Clone, Default)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    /// A file holding the issuer's JWKS (`{"keys": [...]}`).
    pub jwks_file: PathBuf,
    pub tenant_claim: String,
    pub agent_claim: String,
}

impl Config {
    /// The defaults: 127.0.0.1:8080, `./.local-data`, `./dist`.
    pub fn defaults() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from(".local-data"),
            console_dir: PathBuf::from("dist"),
            oidc: None,
            lifetimes: crate::gateway::Lifetimes::default(),
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
                "--oidc-issuer" => oidc(&mut config).issuer = value()?,
                "--oidc-audience" => oidc(&mut config).audience = value()?,
                "--oidc-jwks" => oidc(&mut config).jwks_file = PathBuf::from(value()?),
                "--oidc-tenant-claim" => oidc(&mut config).tenant_claim = value()?,
                "--oidc-agent-claim" => oidc(&mut config).agent_claim = value()?,
                "--help" | "-h" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument {other}; try --help")),
            }
        }
        if let Some(oidc) = &config.oidc
            && (oidc.issuer.is_empty()
                || oidc.audience.is_empty()
                || oidc.jwks_file.as_os_str().is_empty())
        {
            return Err(
                "an OpenID Connect issuer needs --oidc-issuer, --oidc-audience and --oidc-jwks"
                    .into(),
            );
        }
        Ok(config)
    }
}

const USAGE: &str = "usage: agent-console-local [--listen 127.0.0.1:8080] [--data-dir .local-data] [--console-dir dist]
         [--oidc-issuer URL --oidc-audience CLIENT_ID --oidc-jwks FILE
          [--oidc-tenant-claim custom:tenant] [--oidc-agent-claim custom:agent]]
       agent-console-local import-directory FILE [--data-dir .local-data]";

fn oidc(config: &mut Config) -> &mut OidcSettings {
    config.oidc.get_or_insert_with(|| OidcSettings {
        tenant_claim: "custom:tenant".into(),
        agent_claim: "custom:agent".into(),
        ..OidcSettings::default()
    })
}
