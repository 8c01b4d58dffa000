//! The local server's configuration, read once at start.

use console_domain::ports::Quota;
use console_domain::service::SEND_QUOTA;
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
    /// How many sends one connection may make ([`SEND_QUOTA`] by default; a benchmark
    /// raises it to measure the server rather than the limit).
    pub send_quota: Quota,
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
    /// The defaults: 127.0.0.1:8080, `./.local-data`, `./dist`, the send quota of AWS.
    pub fn defaults() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from(".local-data"),
            console_dir: PathBuf::from("dist"),
            oidc: None,
            lifetimes: crate::gateway::Lifetimes::default(),
            send_quota: SEND_QUOTA,
        }
    }

    /// Reads the command line (as `--help` shows it) over the defaults.
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
                "--send-quota" => config.send_quota = send_quota(&value()?)?,
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

/// The command line, as `--help` shows it.
const USAGE: &str = "usage: agent-console-local [--listen 127.0.0.1:8080] [--data-dir .local-data] [--console-dir dist]
         [--oidc-issuer URL --oidc-audience CLIENT_ID --oidc-jwks FILE
          [--oidc-tenant-claim custom:tenant] [--oidc-agent-claim custom:agent]]
         [--send-quota 30/3000]
       agent-console-local import-directory FILE [--data-dir .local-data]

  --send-quota MAX/WINDOW_MS  how many messages one connection may send in each window
                              of WINDOW_MS milliseconds (default 30/3000, as in AWS);
                              for benchmarks that measure the server, not the limit";

/// Reads `MAX/WINDOW_MS`, both whole numbers above zero.
fn send_quota(raw: &str) -> Result<Quota, String> {
    let refused = || {
        format!(
            "--send-quota wants MAX/WINDOW_MS, two whole numbers above zero such as {}/{}, not {raw}",
            SEND_QUOTA.max, SEND_QUOTA.window_ms
        )
    };
    let (max, window_ms) = raw.split_once('/').ok_or_else(refused)?;
    let max: u32 = max.trim().parse().map_err(|_| refused())?;
    let window_ms: i64 = window_ms.trim().parse().map_err(|_| refused())?;
    if max == 0 || window_ms <= 0 {
        return Err(refused());
    }
    Ok(Quota { max, window_ms })
}

fn oidc(config: &mut Config) -> &mut OidcSettings {
    config.oidc.get_or_insert_with(|| OidcSettings {
        tenant_claim: "custom:tenant".into(),
        agent_claim: "custom:agent".into(),
        ..OidcSettings::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        Config::from_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn the_send_quota_is_that_of_aws_unless_given() {
        let config = parse(&[]).expect("no arguments are fine");
        assert_eq!(config.send_quota, SEND_QUOTA);
    }

    #[test]
    fn a_send_quota_is_read_as_max_per_window_in_milliseconds() {
        let config = parse(&["--send-quota", "1000/1000"]).expect("a good quota");
        assert_eq!(
            config.send_quota,
            Quota {
                max: 1000,
                window_ms: 1000
            }
        );
    }

    #[test]
    fn a_malformed_send_quota_is_refused_with_an_example() {
        for bad in [
            "1000", "0/1000", "10/0", "10/-5", "ten/1000", "10/1s", "/", "",
        ] {
            let error = parse(&["--send-quota", bad]).expect_err(bad);
            assert!(
                error.contains("MAX/WINDOW_MS") && error.contains("30/3000"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn a_send_quota_without_a_value_is_refused() {
        let error = parse(&["--send-quota"]).expect_err("no value");
        assert!(error.contains("--send-quota needs a value"), "{error}");
    }

    #[test]
    fn the_usage_names_the_send_quota() {
        let error = parse(&["--help"]).expect_err("help is shown as an error");
        assert!(error.contains("--send-quota MAX/WINDOW_MS"), "{error}");
    }
}
