//! `agent-console-local`: the Agent Console on this machine, with its embedded store and
//! a demo directory.

use console_local::{Config, demo};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_args(std::env::args().skip(1)).map_err(anyhow::Error::msg)?;
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
    println!();
    println!("  Sign in with the development sign-in: pick any demo agent, for example");
    for (tenant, agents) in demo::directory() {
        let names: Vec<String> = agents
            .iter()
            .map(|a| {
                format!(
                    "{} ({}{})",
                    a.name,
                    a.group,
                    if a.role == protocol::Role::Supervisor {
                        ", supervisor"
                    } else {
                        ""
                    }
                )
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
