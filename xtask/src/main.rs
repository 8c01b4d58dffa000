//! The project's two commands, and nothing that needs more than the standard library:
//!
//! - `cargo xtask run`  — installs what is missing, builds the console, starts the local
//!   server with its embedded store and demo directory, and prints the URL.
//! - `cargo xtask test` — installs what is missing (also Chromium and chromedriver, the
//!   DynamoDB emulator and the infra tools), then runs format and lint checks, the SAM
//!   template checks, the arm64 build of the Lambda functions, the component tests in
//!   headless Chromium, and every unit, integration and end-to-end test.
//! - `cargo xtask deploy` — builds and deploys the whole stack to AWS; `cargo xtask
//!   publish` — publishes the console to a stack deployed with plain `sam deploy`.
//! - `cargo xtask bench` — measures latency, throughput, memory, cost and the console's
//!   size and speed against their goals, and writes `BENCHMARKS.md`.

mod bench;
mod deploy;
mod glue;
mod infra;
mod loader;
mod shell;
mod tools;
mod unused_classes;
mod wasm_names;

use shell::{Step, fail};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <run|test|deploy|publish|bench> [options]

  run  [--listen ADDR] [--data-dir DIR]   build the console and start the local server
                                           (default 127.0.0.1:8080, data in .local-data/)
  test                                     install what tests need and run every test
  deploy [--stack-name NAME] [--region REGION] [--guided]
                                           deploy to AWS (see docs/deploying.md)
  publish [--stack-name NAME] [--region REGION]
                                           publish the console to a stack deployed
                                           with sam deploy
  bench [--smoke]                          measure against the goals, write BENCHMARKS.md
                                           (--smoke: tiny sizes, report in test-output/)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("deploy") => {
            tools::prepare(&root(), false).and_then(|env| deploy::deploy(&env, &args[1..]))
        }
        Some("publish") => {
            tools::prepare(&root(), false).and_then(|env| deploy::publish(&env, &args[1..]))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's folder): the folder `cargo run` names
/// as it starts xtask, else the one xtask was built in — which is another clone's when
/// two clones share a target folder and cargo reuses the build.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run(args: &[String]) -> Result<(), String> {
    let env = tools::prepare(&root(), false)?;
    build_console(&env)?;
    Step::new("Building the local server")
        .cargo(&env, ["build", "--package", "console-local"])
        .run()?;
    let server = env.target_dir.join("debug").join("agent-console-local");
    let mut command = std::process::Command::new(&server);
    command
        .current_dir(root())
        .args(["--console-dir", "dist"])
        .args(args);
    println!("\n==> Starting the local server ({})", server.display());
    let status = command
        .status()
        .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
    if status.success() {
        Ok(())
    } else {
        fail(format!("the local server stopped with {status}"))
    }
}

pub(crate) fn build_console(env: &tools::Env) -> Result<(), String> {
    Step::new("Building the console (Trunk, release)")
        .program(&env.trunk)
        .env_all(env)
        .args(["build", "--release"])
        .run()?;
    let dist = env.root.join("dist");
    glue::shrink(env, &dist)?;
    loader::externalize(&dist)
}

/// The fuzz targets (`fuzz/`, cargo-fuzz on stable Rust with `RUSTC_BOOTSTRAP=1`), each
/// for a short bounded run; `fuzz/README.md` has the long one.
fn fuzz(env: &tools::Env) -> Result<(), String> {
    let target_dir = env.cache.join("fuzz-target");
    let target_text = target_dir.to_string_lossy().into_owned();
    Step::new("Building the fuzz targets (cargo fuzz build, AddressSanitizer)")
        .cargo(
            env,
            [
                "fuzz",
                "build",
                "--fuzz-dir",
                "fuzz",
                "--target-dir",
                &target_text,
            ],
        )
        .env("RUSTC_BOOTSTRAP", "1")
        .run()?;
    for target in ["decode_frame", "websocket_event", "http_request"] {
        // New inputs go to a fresh corpus in the cache; the committed seeds stay as they are.
        let corpus = env.cache.join("fuzz-corpus").join(target);
        let _ = std::fs::remove_dir_all(&corpus);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        Step::new(&format!(
            "Fuzzing {target} for {FUZZ_SECONDS} s (no panic, bounded memory)"
        ))
        .cargo(
            env,
            [
                "fuzz".to_owned(),
                "run".into(),
                "--fuzz-dir".into(),
                "fuzz".into(),
                "--target-dir".into(),
                target_text.clone(),
                target.into(),
                corpus.to_string_lossy().into_owned(),
                format!("fuzz/corpus/{target}"),
                "--".into(),
                format!("-max_total_time={FUZZ_SECONDS}"),
                "-max_len=65536".into(),
                "-rss_limit_mb=1024".into(),
                "-malloc_limit_mb=256".into(),
                "-timeout=10".into(),
                "-print_final_stats=1".into(),
            ],
        )
        .env("RUSTC_BOOTSTRAP", "1")
        .run()?;
    }
    Ok(())
}

/// How long the test command fuzzes each target.
const FUZZ_SECONDS: u32 = 25;

fn test(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return fail(format!("`test` takes no arguments\n{USAGE}"));
    }
    let env = tools::prepare(&root(), true)?;
    Step::new("Checking formatting (cargo fmt --check)")
        .cargo(&env, ["fmt", "--all", "--check"])
        .run()?;
    Step::new("Linting the server side (cargo clippy -D warnings)")
        .cargo(&env, ["clippy", "--all-targets", "--", "-D", "warnings"])
        .run()?;
    Step::new("Linting the console (cargo clippy, wasm32, -D warnings)")
        .cargo(
            &env,
            [
                "clippy",
                "--package",
                "console-frontend",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )
        .run()?;
    let infra_tools = infra::prepare(&env)?;
    infra::check(&env, &infra_tools)?;
    infra::build_functions(&env, &infra_tools)?;
    fuzz(&env)?;
    build_console(&env)?;
    Step::new("Component tests in headless Chromium (wasm-bindgen-test)")
        .cargo(
            &env,
            [
                "test",
                "--package",
                "console-frontend",
                "--target",
                "wasm32-unknown-unknown",
            ],
        )
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            env.wasm_bindgen_test_runner.as_os_str(),
        )
        .env("CHROMEDRIVER", env.chromedriver.as_os_str())
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .run()?;
    Step::new("Load: 1,000 agents exchange 100,000 messages (release build)")
        .cargo(&env, load_test(&env))
        .run()?;
    bench::run(&env, bench::Size::Smoke)?;
    let output = env.root.join("test-output");
    let tests = Step::new("Unit, integration and end-to-end tests (real browsers, real sockets)")
        .env("E2E_OUTPUT", output.as_os_str())
        // A test that fails says why in its last lines, not above a backtrace.
        .env("RUST_LIB_BACKTRACE", "0")
        .env("CHROMEDRIVER", env.chromedriver.as_os_str())
        .env("CHROMIUM", env.chromium.as_os_str())
        .env("AXE_CORE", env.axe_core.as_os_str())
        .env("MOTO_SERVER", env.moto_server.as_os_str());
    // The load test ran above, in a release build, at its full size.
    if tools::has_nextest(&env) {
        tests
            .cargo(
                &env,
                [
                    "nextest",
                    "run",
                    "--no-fail-fast",
                    "--retries",
                    "0",
                    "-E",
                    LOAD_TEST_FILTER_OUT,
                ],
            )
            .untimed()
            .run()?;
    } else {
        tests
            .cargo(&env, ["test", "--no-fail-fast", "--", "--skip", LOAD_TEST])
            .untimed()
            .run()?;
    }
    clone_is_clean(&env.root)
}

/// The test command's last check: it leaves the clone as it found it (`git status
/// --porcelain` prints nothing), so that nothing it writes can be committed by mistake.
fn clone_is_clean(root: &std::path::Path) -> Result<(), String> {
    println!("==> Checking that the tests left the clone clean (git status --porcelain)");
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git status: {e}"))?;
    if !status.status.success() {
        // Not a git clone (a source archive): nothing to compare with.
        println!("    not a git clone; skipped");
        return Ok(());
    }
    let changed = String::from_utf8_lossy(&status.stdout);
    if changed.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the tests changed the clone (commit or ignore what they write):\n{changed}"
        ))
    }
}

/// The load test (`backend/local/tests/load.rs`), by its name.
const LOAD_TEST: &str =
    "every_message_reaches_every_connection_of_its_agents_once_and_in_order_under_load";

/// Every test but the load test, for nextest.
const LOAD_TEST_FILTER_OUT: &str = "not (package(console-local) & binary(load))";

/// The arguments of the load test's run in a release build (a debug build takes ~9 min
/// for its 100,000 messages, a release build about one).
fn load_test(env: &tools::Env) -> Vec<&'static str> {
    if tools::has_nextest(env) {
        vec![
            "nextest",
            "run",
            "--cargo-profile",
            "release",
            "--package",
            "console-local",
            "--test",
            "load",
            "--no-capture",
        ]
    } else {
        vec![
            "test",
            "--release",
            "--package",
            "console-local",
            "--test",
            "load",
            "--",
            "--nocapture",
        ]
    }
}
