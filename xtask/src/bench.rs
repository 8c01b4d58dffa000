//! `cargo xtask bench`: the benchmarks of what users feel and what deployers pay, each
//! beside its floor where one exists, gathered into `BENCHMARKS.md`.
//!
//! Four programs measure (each a `harness = false` bench target that writes a Markdown
//! fragment): `console-local`'s `delivery` (latency against a bare relay + fsync floor,
//! throughput, memory with idle sockets) and `history` (a new tab, History and sends
//! with 1 to 20,000 past chats behind the agent), `console-lambdas`' `aws` (DynamoDB requests and
//! pushes per message against the Scan-broadcast design, cost per million messages, the
//! functions' size and start), `console-e2e`'s `console` (WASM size, time to interactive,
//! a 5,000-agent list, a 10,000-message chat). This module runs them and writes the
//! report: the machine, the command, a table of every goal (met or not), the fragments.
//! A missed goal is reported, never a failure; a benchmark that cannot measure is.

use crate::shell::{Step, fail, output_of};
use crate::tools::Env;
use crate::{build_console, infra};
use std::path::{Path, PathBuf};

/// One benchmark program: its package, its bench target, what it needs.
struct Program {
    package: &'static str,
    bench: &'static str,
    title: &'static str,
}

const PROGRAMS: [Program; 4] = [
    Program {
        package: "console-local",
        bench: "delivery",
        title: "delivery latency, throughput and memory (local server)",
    },
    Program {
        package: "console-local",
        bench: "history",
        title: "a year of use: an agent's history (local server)",
    },
    Program {
        package: "console-lambdas",
        bench: "aws",
        title: "cost per message and the Lambda functions (AWS)",
    },
    Program {
        package: "console-e2e",
        bench: "console",
        title: "the console in headless Chromium",
    },
];

/// How large a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Tiny sizes, in the test command, so the benchmarks never rot.
    Smoke,
    /// The sizes of the goals.
    Full,
}

/// `cargo xtask bench [--smoke]`.
pub fn bench(args: &[String]) -> Result<(), String> {
    let size = match args {
        [] => Size::Full,
        [flag] if flag == "--smoke" => Size::Smoke,
        _ => return fail("usage: cargo xtask bench [--smoke]"),
    };
    let env = crate::tools::prepare(&crate::root(), true)?;
    if size == Size::Full {
        // The functions' arm64 bootstraps, whose sizes the report gives; the test command
        // builds them before its smoke run.
        let tools = infra::prepare(&env)?;
        infra::build_functions(&env, &tools)?;
        build_console(&env)?;
    }
    run(&env, size)
}

/// Runs every benchmark program at `size` and writes the report: `BENCHMARKS.md` for a
/// full run, `test-output/benchmarks-smoke.md` for a smoke run. Expects the console to
/// be built.
pub fn run(env: &Env, size: Size) -> Result<(), String> {
    let parts = env.root.join("test-output").join("benchmarks");
    std::fs::create_dir_all(&parts)
        .map_err(|e| format!("cannot create {}: {e}", parts.display()))?;
    let mut fragments = Vec::new();
    for program in &PROGRAMS {
        let out = parts.join(format!("{}.md", program.bench));
        let _ = std::fs::remove_file(&out);
        let mut args = vec![
            "bench".to_owned(),
            "--package".into(),
            program.package.into(),
            "--bench".into(),
            program.bench.into(),
            "--".into(),
            "--out".into(),
            out.to_string_lossy().into_owned(),
        ];
        if size == Size::Smoke {
            args.push("--smoke".into());
        }
        let smoke = if size == Size::Smoke { " (smoke)" } else { "" };
        Step::new(&format!("Benchmark{smoke}: {}", program.title))
            .cargo(env, args)
            .env("CHROMEDRIVER", env.chromedriver.as_os_str())
            .env("CHROMIUM", env.chromium.as_os_str())
            .env("MOTO_SERVER", env.moto_server.as_os_str())
            .run()?;
        let text = std::fs::read_to_string(&out).map_err(|e| {
            format!(
                "the {} benchmark wrote no report to {}: {e}",
                program.bench,
                out.display()
            )
        })?;
        fragments.push(text);
    }
    let report = report(env, size, &fragments);
    let target = match size {
        Size::Full => env.root.join("BENCHMARKS.md"),
        Size::Smoke => env.root.join("test-output").join("benchmarks-smoke.md"),
    };
    std::fs::write(&target, report)
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    let goals = goals(&fragments);
    let missed = goals.iter().filter(|goal| !goal.met).count();
    println!(
        "\n==> Benchmarks written to {}: {} goals, {} met, {missed} not met",
        target.display(),
        goals.len(),
        goals.len() - missed
    );
    for goal in goals.iter().filter(|goal| !goal.met) {
        println!("    not met: {}", goal.text);
    }
    Ok(())
}

/// A goal line of a fragment: `- Goal: … — **met** …` or `**not met**`.
#[derive(Debug, PartialEq, Eq)]
struct Goal {
    text: String,
    met: bool,
}

/// Every goal line of the fragments, in order.
fn goals(fragments: &[String]) -> Vec<Goal> {
    fragments
        .iter()
        .flat_map(|fragment| fragment.lines())
        .filter_map(|line| {
            let text = line.trim().strip_prefix("- Goal:")?.trim();
            let met = if text.contains("**not met**") {
                false
            } else if text.contains("**met**") {
                true
            } else {
                return None;
            };
            Some(Goal {
                text: text.to_owned(),
                met,
            })
        })
        .collect()
}

/// The whole report: where it ran, how to run it again, the goals, the fragments.
fn report(env: &Env, size: Size, fragments: &[String]) -> String {
    let goals = goals(fragments);
    let mut out = String::from("# Benchmarks\n\n");
    if size == Size::Smoke {
        out.push_str(
            "A **smoke run** (tiny sizes, in the test command so the benchmarks never rot): \
             the figures below say nothing about the goals.\n\n",
        );
    }
    out.push_str(&format!(
        "Measured by `cargo xtask bench`{} on {} — {}.\n\n",
        if size == Size::Smoke { " --smoke" } else { "" },
        today(),
        machine(env)
    ));
    out.push_str(
        "These machines are shared and noisy: figures with a floor are compared with the \
         floor measured in the same run. A goal that is missed is reported here, not \
         hidden; the benchmarks never fail the build.\n\n## Goals\n\n| Goal | Result |\n|---|---|\n",
    );
    for goal in &goals {
        let (what, result) = goal.text.split_once(" — ").unwrap_or((&goal.text, ""));
        out.push_str(&format!(
            "| {} | {} |\n",
            what.replace('|', "\\|"),
            result.replace('|', "\\|")
        ));
    }
    out.push('\n');
    for fragment in fragments {
        out.push_str(fragment.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// The machine: processor, cores, memory, operating system, Rust, commit.
fn machine(env: &Env) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("an unknown processor")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let kb: u64 = text
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(format!("{:.1} GB memory", kb as f64 / 1_048_576.0))
        })
        .unwrap_or_else(|| "unknown memory".into());
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "Linux".into());
    let rustc = output_of(Path::new("rustc"), &["--version"])
        .map(|text| text.trim().to_owned())
        .unwrap_or_default();
    let commit = output_of(
        Path::new("git"),
        &[
            "-C",
            &env.root.to_string_lossy(),
            "rev-parse",
            "--short",
            "HEAD",
        ],
    )
    .map(|text| format!("commit {}", text.trim()))
    .unwrap_or_default();
    format!("{cpu}, {cores} cores available, {memory}, {os}, {rustc}, {commit}")
}

/// Today's date (UTC), from `date`.
fn today() -> String {
    output_of(&PathBuf::from("date"), &["-u", "+%Y-%m-%d %H:%M UTC"])
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|| "an unknown date".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_read_from_the_fragments_met_or_not() {
        let fragments = vec![
            "## A\n\n| x |\n- Goal: p50 within 2x the floor — **met** (1.4x)\n".to_owned(),
            "## B\n- Goal: under 150 KB brotli — **not met** (195 KB)\n- not a goal\n- Goal: no verdict\n"
                .to_owned(),
        ];
        assert_eq!(
            goals(&fragments),
            [
                Goal {
                    text: "p50 within 2x the floor — **met** (1.4x)".into(),
                    met: true
                },
                Goal {
                    text: "under 150 KB brotli — **not met** (195 KB)".into(),
                    met: false
                },
            ]
        );
    }
}
