//! Benchmarks of the AWS deployment (issue "Fast and lean, measured"):
//!
//! - what one chat message costs in AWS, with 10 to 10,000 agents connected: our design
//!   (the real `ChatService` over the real `DynamoStore`, against moto) beside the
//!   connection-Scan broadcast of AWS's serverless WebSocket chat sample;
//! - what an agent's operations cost in DynamoDB with 1 to 20,000 past chats behind her
//!   (issue "A year of use");
//! - the Lambda functions: their arm64 bootstraps' sizes, and how long each takes from
//!   its process's start to asking the Runtime API for its first event.
//!
//! ```sh
//! cargo bench -p console-lambdas --bench aws -- [--smoke] [--out FILE.md]
//! ```
//!
//! Prints what it measures and writes it as a Markdown fragment to FILE. A goal that is
//! missed is reported, not failed; the exit status is non-zero only when something could
//! not be measured.

#[path = "../../../store-dynamo/tests/moto/mod.rs"]
mod moto;

mod capacity;
mod connected;
mod functions;
mod history_cost;
mod message_cost;
mod our_design;
mod prices;
mod pushes;
mod runtime_api;
mod scan_broadcast;
mod text;

use anyhow::Context;

const USAGE: &str =
    "usage: cargo bench -p console-lambdas --bench aws -- [--smoke] [--out FILE.md]";

/// What to run.
#[derive(Debug)]
struct Options {
    /// A quick run for the test command: fewer sizes and repetitions.
    smoke: bool,
    /// Where to write the Markdown fragment.
    out: Option<std::path::PathBuf>,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        smoke: false,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--out" => options.out = Some(args.next().context(USAGE)?.into()),
            // Cargo passes `--bench` to every bench target.
            "--bench" => {}
            "--help" | "-h" => anyhow::bail!(USAGE),
            other => anyhow::bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("aws bench: could not measure: {error:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let options = options()?;
    let sizes: &[usize] = if options.smoke {
        &[10, 100]
    } else {
        &[10, 100, 1_000, 10_000]
    };
    let runs = if options.smoke { 3 } else { 20 };
    let histories: &[usize] = if options.smoke {
        &[1, 10]
    } else {
        &[1, 100, 2_000, 20_000]
    };

    let cost = message_cost::section(sizes, options.smoke)
        .await
        .context("cost per message")?;
    println!("{cost}");
    let history = history_cost::section(histories)
        .await
        .context("a year of use")?;
    println!("{history}");
    let lambdas = tokio::task::spawn_blocking(move || functions::section(runs))
        .await
        .context("the Lambda functions' measurement stopped")?
        .context("Lambda functions")?;
    println!("{lambdas}");

    if let Some(out) = options.out {
        std::fs::write(&out, format!("{cost}\n{history}\n{lambdas}"))
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("aws bench: wrote {}", out.display());
    }
    Ok(())
}
