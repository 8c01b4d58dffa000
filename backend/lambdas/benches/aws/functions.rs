//! Section "Lambda functions": each function's arm64 bootstrap size, and how long its
//! process takes from start to asking the Runtime API for its first event.

use crate::runtime_api::{RuntimeApi, Seen};
use crate::text::{list, megabytes, millis};
use anyhow::Context;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The functions, with their native release builds (this bench's own package).
const FUNCTIONS: [(&str, &str); 5] = [
    ("http-api", env!("CARGO_BIN_EXE_http-api")),
    ("websocket", env!("CARGO_BIN_EXE_websocket")),
    ("authorizer", env!("CARGO_BIN_EXE_authorizer")),
    ("import-directory", env!("CARGO_BIN_EXE_import-directory")),
    ("sweeper", env!("CARGO_BIN_EXE_sweeper")),
];

/// How long a function may take to ask for its first event before the run fails.
const PATIENCE: Duration = Duration::from_secs(15);

const BUILD: &str = "cargo lambda build --release --arm64 -p console-lambdas";

/// One function's figures.
#[derive(Debug)]
struct Function {
    name: &'static str,
    bootstrap: Bootstrap,
    /// Start to ready, sorted.
    times: Vec<Duration>,
    /// The requests it made before asking for its first event, over every run.
    before_first_event: BTreeSet<String>,
}

/// The arm64 bootstrap, if built.
#[derive(Debug)]
enum Bootstrap {
    Built {
        bytes: u64,
        arm64: bool,
        age: Option<Duration>,
    },
    NotBuilt(PathBuf),
}

/// cargo-lambda's output directory: `$CARGO_TARGET_DIR/lambda`, else the workspace's
/// `target/lambda`.
fn lambda_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"));
    target.join("lambda")
}

fn bootstrap(name: &str) -> Bootstrap {
    let path = lambda_dir().join(name).join("bootstrap");
    let Ok(metadata) = std::fs::metadata(&path) else {
        return Bootstrap::NotBuilt(path);
    };
    // ELF: the machine is the 16-bit little-endian field at offset 18; 0xB7 is AArch64.
    let mut header = [0u8; 20];
    let arm64 = std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok_and(|()| header.starts_with(b"\x7fELF") && header[18..20] == [0xB7, 0x00]);
    Bootstrap::Built {
        bytes: metadata.len(),
        arm64,
        age: metadata
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok()),
    }
}

/// The environment the SAM template gives the functions (its `Globals`), with Lambda's
/// own variables and fake credentials; every endpoint is the stand-in.
fn environment(name: &str, stand_in: &str) -> Vec<(&'static str, String)> {
    let url = format!("http://{stand_in}");
    vec![
        ("AWS_LAMBDA_RUNTIME_API", stand_in.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", format!("agent-console-{name}")),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/agent-console-{name}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]bench".into(),
        ),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCHFAKE".into()),
        ("AWS_SECRET_ACCESS_KEY", "fake-secret".into()),
        ("AWS_SESSION_TOKEN", "fake-session".into()),
        // DynamoDB (and any other AWS API) at the stand-in, which notes and refuses it.
        ("AWS_ENDPOINT_URL", url.clone()),
        ("TABLE_NAME", "agent-console-table".into()),
        ("WEBSOCKET_MANAGEMENT_ENDPOINT", format!("{url}/prod")),
        ("OIDC_ISSUER", url),
        ("OIDC_AUDIENCE", "bench-client".into()),
        ("OIDC_TENANT_CLAIM", "custom:tenant".into()),
        ("OIDC_AGENT_CLAIM", "custom:agent".into()),
        ("RUST_LOG", "info".into()),
    ]
}

/// Starts `program` once and times it until its first `next`.
fn start_once(
    name: &str,
    program: &str,
    api: &RuntimeApi,
    before_first_event: &mut BTreeSet<String>,
) -> anyhow::Result<Duration> {
    api.drain();
    let stand_in = api.address.to_string();
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(environment(name, &stand_in))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let outcome = loop {
        match api.seen.recv_timeout(Duration::from_millis(20)) {
            Ok(Seen::Next(at)) => break Ok(at.duration_since(started)),
            Ok(Seen::Other(request)) => {
                before_first_event.insert(request);
            }
            Err(_) => {
                if let Some(status) = child.try_wait()? {
                    let mut stderr = String::new();
                    if let Some(mut pipe) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                    }
                    break Err(anyhow::anyhow!(
                        "{name} ended ({status}) before asking for its first event: {}",
                        stderr.trim()
                    ));
                }
                if started.elapsed() > PATIENCE {
                    break Err(anyhow::anyhow!(
                        "{name} did not ask for its first event within {} s",
                        PATIENCE.as_secs()
                    ));
                }
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// Measures every function `runs` times (after one untimed run) and writes the section.
pub fn section(runs: usize) -> anyhow::Result<String> {
    let api = RuntimeApi::start().context("starting the stand-in Runtime API")?;
    let mut functions = Vec::new();
    for (name, program) in FUNCTIONS {
        let mut before_first_event = BTreeSet::new();
        let mut times = Vec::new();
        for run in 0..=runs {
            let time = start_once(name, program, &api, &mut before_first_event)?;
            if run > 0 {
                times.push(time);
            }
        }
        times.sort();
        eprintln!(
            "aws bench: {name}: start to ready p50 {}, max {}",
            millis(percentile(&times, 50)),
            millis(times.last().copied().unwrap_or_default())
        );
        functions.push(Function {
            name,
            bootstrap: bootstrap(name),
            times,
            before_first_event,
        });
    }
    Ok(render(&functions, runs))
}

/// The nearest-rank percentile of sorted `times`.
fn percentile(times: &[Duration], p: usize) -> Duration {
    let rank = (times.len() * p).div_ceil(100).max(1);
    times.get(rank - 1).copied().unwrap_or_default()
}

fn render(functions: &[Function], runs: usize) -> String {
    let mut out = String::from("## Lambda functions\n\n");
    let _ = writeln!(
        out,
        "Bootstrap sizes are those of the arm64 release build that runs in AWS, read from \
         `{}/<function>/bootstrap` (built by `{BUILD}`, which `cargo xtask test` runs). Start \
         to ready is the time from spawning a function's process to its first `GET \
         /2018-06-01/runtime/invocation/next`, {runs} times per function after one untimed \
         run: the native release build of each function (this machine's x86-64; its size is \
         not what matters, the arm64 one is), started with the environment the SAM template \
         gives it and fake AWS credentials, against a minimal stand-in of the Lambda Runtime \
         API that the bench runs on 127.0.0.1, which notes that request and holds it open. \
         The stand-in — not `cargo lambda watch`, which recompiles with `cargo run` and \
         would time the build — also stands in for the identity provider's keys (an empty \
         key set) and for DynamoDB and every other AWS endpoint (refused), and notes every \
         request made before the first event. In AWS, the Init phase adds the sandbox's own \
         start to these times, and reaching the identity provider over the internet.\n",
        lambda_dir().display()
    );
    out.push_str(
        "| function | arm64 bootstrap | start to ready, p50 | max | requests before the first event |\n\
         |---|---:|---:|---:|---|\n",
    );
    for function in functions {
        let size = match &function.bootstrap {
            Bootstrap::Built {
                bytes,
                arm64: true,
                age,
            } => match age {
                Some(age) if age.as_secs() > 24 * 3600 => format!(
                    "{} (built {} days ago)",
                    megabytes(*bytes),
                    age.as_secs() / (24 * 3600)
                ),
                _ => megabytes(*bytes),
            },
            Bootstrap::Built { bytes, .. } => {
                format!("{} — not an arm64 binary", megabytes(*bytes))
            }
            Bootstrap::NotBuilt(path) => {
                format!("not built (no `{}`; run `{BUILD}`)", path.display())
            }
        };
        let requests = if function.before_first_event.is_empty() {
            "none".to_owned()
        } else {
            function
                .before_first_event
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {size} | {} | {} | {requests} |",
            function.name,
            millis(percentile(&function.times, 50)),
            millis(function.times.last().copied().unwrap_or_default()),
        );
    }
    out.push('\n');
    let aws_calls: Vec<String> = functions
        .iter()
        .filter(|f| f.before_first_event.iter().any(|r| !r.contains("jwks")))
        .map(|f| f.name.to_owned())
        .collect();
    let _ = writeln!(
        out,
        "- Goal: no function needs DynamoDB (or any AWS API) before asking for its first \
         event — **{}**{}.",
        if aws_calls.is_empty() {
            "met"
        } else {
            "not met"
        },
        if aws_calls.is_empty() {
            ": none called one".to_owned()
        } else {
            format!(": {} did", list(&aws_calls))
        }
    );
    let jwks: Vec<&str> = functions
        .iter()
        .filter(|f| f.before_first_event.iter().any(|r| r.contains("jwks")))
        .map(|f| f.name)
        .collect();
    if !jwks.is_empty() {
        let _ = writeln!(
            out,
            "- Finding: {} fetch the identity provider's keys (`OIDC_ISSUER`'s \
             `/.well-known/jwks.json`) before asking for their first event: in AWS, an HTTPS \
             request to Cognito within every cold start's Init phase.",
            list(&jwks)
        );
    }
    let missing: Vec<&str> = functions
        .iter()
        .filter(|f| matches!(f.bootstrap, Bootstrap::NotBuilt(_)))
        .map(|f| f.name)
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "- Not built for arm64: {} (run `{BUILD}` for their sizes).",
            list(&missing)
        );
    }
    out
}
