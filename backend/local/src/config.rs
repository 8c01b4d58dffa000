//! The local server's configuration, read once at start.

use clap::{Args, Parser, Subcommand};
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
    /// Host names the server answers to besides `localhost` and IP addresses (see
    /// [`crate::security::host_allowed`]).
    pub allowed_hosts: Vec<String>,
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
            allowed_hosts: Vec::new(),
        }
    }

    /// Reads the server's options (as `--help` shows them, without the program's
    /// name) over the defaults.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut argv = vec!["agent-console-local".to_owned()];
        argv.extend(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        cli.options.config()
    }
}

/// The local server's command line.
#[derive(Debug, Parser)]
#[command(
    name = "agent-console-local",
    version,
    about = "The Agent Console on this machine: the chat's API, its WebSocket and the \
             built console, over an embedded store (with a demo directory when it is empty)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub options: Options,
}

/// What the server does instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Imports a directory file (tenants and their agents) into the data folder; stop the
    /// server first.
    ImportDirectory {
        /// The directory file (JSON; see backend/local/demo-directory.json).
        file: PathBuf,
    },
}

/// The server's options, shared by its commands.
#[derive(Debug, Args)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, global = true, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder of the embedded store and the signing key; created if missing.
    #[arg(long, global = true, default_value = ".local-data")]
    data_dir: PathBuf,
    /// Folder of the built console (Trunk's dist/).
    #[arg(long, global = true, default_value = "dist")]
    console_dir: PathBuf,
    /// How many messages one connection may send in each window of WINDOW_MS
    /// milliseconds (as in AWS by default); for benchmarks that measure the server, not
    /// the limit.
    #[arg(
        long,
        global = true,
        value_name = "MAX/WINDOW_MS",
        default_value = "30/3000",
        value_parser = send_quota
    )]
    send_quota: Quota,
    /// An OpenID Connect issuer whose tokens are accepted too (with --oidc-audience and
    /// --oidc-jwks).
    #[arg(long, global = true, value_name = "URL")]
    oidc_issuer: Option<String>,
    /// The audience (client id) the issuer's tokens must name.
    #[arg(long, global = true, value_name = "CLIENT_ID")]
    oidc_audience: Option<String>,
    /// A file holding the issuer's JWKS ({"keys": [...]}).
    #[arg(long, global = true, value_name = "FILE")]
    oidc_jwks: Option<PathBuf>,
    /// The claim that names the tenant.
    #[arg(long, global = true, default_value = "custom:tenant")]
    oidc_tenant_claim: String,
    /// The claim that names the agent.
    #[arg(long, global = true, default_value = "custom:agent")]
    oidc_agent_claim: String,
    /// A host name the server answers to besides localhost and IP addresses (say, the
    /// machine's name on your network); repeat for several. Any other `Host` is refused,
    /// so that a web page cannot reach the server through DNS rebinding.
    #[arg(long = "allowed-host", global = true, value_name = "NAME")]
    allowed_hosts: Vec<String>,
}

impl Options {
    /// The configuration these options make.
    pub fn config(self) -> Result<Config, String> {
        let oidc = match (self.oidc_issuer, self.oidc_audience, self.oidc_jwks) {
            (Some(issuer), Some(audience), Some(jwks_file)) => Some(OidcSettings {
                issuer,
                audience,
                jwks_file,
                tenant_claim: self.oidc_tenant_claim,
                agent_claim: self.oidc_agent_claim,
            }),
            (None, None, None) => None,
            _ => {
                return Err(
                    "an OpenID Connect issuer needs --oidc-issuer, --oidc-audience and --oidc-jwks"
                        .into(),
                );
            }
        };
        Ok(Config {
            listen: self.listen,
            data_dir: self.data_dir,
            console_dir: self.console_dir,
            oidc,
            lifetimes: crate::gateway::Lifetimes::default(),
            send_quota: self.send_quota,
            allowed_hosts: self.allowed_hosts,
        })
    }
}

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
        assert!(error.contains("--send-quota"), "{error}");
        assert!(error.contains("a value is required"), "{error}");
    }

    #[test]
    fn the_usage_names_every_option_and_the_import() {
        let help = parse(&["--help"]).expect_err("help is not a configuration");
        for named in [
            "--send-quota <MAX/WINDOW_MS>",
            "--listen",
            "--data-dir",
            "--oidc-issuer",
            "import-directory",
        ] {
            assert!(help.contains(named), "{named}: {help}");
        }
    }

    #[test]
    fn a_bad_option_is_named_and_an_oidc_issuer_needs_its_audience_and_keys() {
        let error = parse(&["--colour", "red"]).expect_err("unknown");
        assert!(error.contains("--colour"), "{error}");
        let error = parse(&["--oidc-issuer", "https://id.example"]).expect_err("incomplete");
        assert!(error.contains("--oidc-audience"), "{error}");
        let error = parse(&["--listen", "nowhere"]).expect_err("not an address");
        assert!(error.contains("nowhere"), "{error}");
    }
}
