//! `agent-console-local`: the Agent Console on this machine, with its embedded store and
//! a demo directory.
//!
//! `agent-console-local [--listen ADDR] [--data-dir DIR] [--console-dir DIR]` serves;
//! `agent-console-local import-directory FILE [--data-dir DIR]` imports a directory file.

use anyhow::Context;
use clap::Parser;
use console_local::config::{Cli, Command};
use console_local::{Config, demo};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    // `--help` and `--version` print and exit 0; a bad option is named, with the usage,
    // and exits 2.
    let cli = Cli::parse();
    let config = cli.options.config().map_err(anyhow::Error::msg)?;
    match cli.command {
        Some(Command::ImportDirectory { file }) => import(&file, &config).await,
        None => serve(config).await,
    }
}

async fn import(file: &std::path::Path, config: &Config) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let directory = console_domain::directory::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    std::fs::create_dir_all(&config.data_dir)?;
    let store = console_store_embedded::EmbeddedStore::open(&config.data_dir.join("console.redb"))
        .context("cannot open the embedded store (is the local server running? stop it first)")?;
    let (tenants, agents) = console_domain::directory::import(&store, directory)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "Imported {tenants} tenant(s) and {agents} agent(s) into {}",
        config.data_dir.display()
    );
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if !config.console_dir.join("index.html").exists() {
        eprintln!(
            "note: no built console in {} (run `cargo xtask run` to build it); the API still works",
            config.console_dir.display()
        );
    }
    let server = console_local::start(config.clone()).await?;
    println!();
    println!("  Agent Console is running at {}", server.url());
    println!("  Data is kept in {}", config.data_dir.display());
    if config.send_quota != console_domain::service::SEND_QUOTA {
        println!(
            "  Each connection may send {} messages in each {} ms (--send-quota)",
            config.send_quota.max, config.send_quota.window_ms
        );
    }
    println!();
    println!("  Sign in with the development sign-in: pick any demo agent, for example");
    for (tenant, agents) in demo::directory() {
        let names: Vec<String> = agents
            .iter()
            .map(|a| {
                let role = if a.role == protocol::Role::Supervisor {
                    ", supervisor"
                } else {
                    ""
                };
                format!("{} ({}{role})", a.name, a.group)
            })
            .collect();
        println!("    {}: {}", tenant.name, names.join(", "));
    }
    println!("  Open a second browser (or a private window) to sign in as another agent.");
    println!("  Press Ctrl+C to stop.");
    println!();
    tokio::select! {
        () = server.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
