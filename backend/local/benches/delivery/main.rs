//! The local server's delivery benchmark: delivery latency with 10, 1,000 and 10,000
//! agents connected beside a floor measured in the same run (a bare WebSocket relay and
//! one fsync), throughput with 1,000 agents chatting beside what a bare relay with
//! group-committed fsyncs sustains with the same workload, and resident memory with 10,000
//! idle connections — all through the real `agent-console-local` binary as a child
//! process with its durable embedded store in a temp dir.
//!
//! `cargo bench -p console-local --bench delivery -- [--smoke] [--out FILE.md]`
//!
//! It prints a Markdown fragment (one `## ` section per measure, each with how it was
//! measured, the figures, and whether each goal was met) and writes it to FILE. A missed
//! goal is a result, not a failure: it exits non-zero only when something could not be
//! measured. `--smoke` runs tiny sizes, to check the benchmark itself in the test
//! command. Progress goes to standard error; `DELIVERY_SEED` repeats a run's random
//! choices (when each console starts sending).

#[path = "../../tests/support/mod.rs"]
mod support;

// The parts of this benchmark live in `delivery/` (files right in `benches/` would each
// be taken for a benchmark of their own).
mod committed_relay;
mod cpu;
mod floor;
mod fsync;
mod idle;
mod latency;
mod open_files;
mod relay;
mod report;
mod server;
mod stats;
mod throughput;

use floor::{FloorSamples, Round};
use latency::{Chatter, SizeFigures};
use open_files::OpenFiles;
use report::{Goal, Section, Table, count, megabytes};
use stats::{Percentiles, ms};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use support::dice::{Dice, seed};
use throughput::Workload;

const USAGE: &str = "usage: cargo bench -p console-local --bench delivery -- [--smoke] [--out FILE.md] [--latency-at N,N,... | --throughput-only]

  --latency-at       only the latency, at these numbers of agents (with its floor)
  --throughput-only  only the throughput
  (both for comparing a change quickly)";

/// The latency goals are judged with this many agents connected.
const LATENCY_GOAL_AGENTS: usize = 1_000;
/// p50 within this many floors.
const P50_GOAL_FLOORS: f64 = 2.0;
/// p99 within this many of the floor's p99.
const P99_GOAL_FLOORS: f64 = 2.0;
/// Messages per second.
const THROUGHPUT_GOAL: f64 = 10_000.0;
/// At least this share of what the bare relay with group-committed fsyncs sustains.
const THROUGHPUT_GOAL_SHARE: f64 = 0.5;
/// The memory goal is judged with this many idle connections...
const MEMORY_GOAL_CONNECTIONS: usize = 10_000;
/// ...and this resident size (bytes).
const MEMORY_GOAL_BYTES: u64 = 500_000_000;

/// The command line.
#[derive(Debug)]
struct Options {
    smoke: bool,
    out: Option<PathBuf>,
    only: Only,
}

/// What a run measures.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Only {
    Everything,
    /// The latency at these sizes, with its floor.
    Latency(Vec<usize>),
    Throughput,
}

/// The sizes of a run.
#[derive(Debug)]
struct Sizes {
    latency_agents: Vec<usize>,
    chatter: Chatter,
    fsync_samples: usize,
    throughput: Workload,
}

impl Sizes {
    /// A few thousand samples per size; a few minutes on 2 cores.
    fn full() -> Sizes {
        Sizes {
            latency_agents: vec![10, 1_000, 10_000],
            chatter: Chatter {
                pairs: 5,
                messages: 3_000,
                // 8 a second per console: well within the default send quota.
                pace: Duration::from_millis(125),
            },
            fsync_samples: 2_000,
            throughput: Workload {
                agents: 1_000,
                warm_up: Duration::from_secs(3),
                window: Duration::from_secs(15),
                // Room for some consoles to be served far more than the average (50 a
                // second each) before their plans run out.
                planned: 50_000 * 18,
            },
        }
    }

    /// Tiny sizes: the whole program in well under a minute.
    fn smoke() -> Sizes {
        Sizes {
            latency_agents: vec![10, 200],
            chatter: Chatter {
                messages: 300,
                ..Sizes::full().chatter
            },
            fsync_samples: 200,
            throughput: Workload {
                agents: 100,
                warm_up: Duration::from_secs(1),
                window: Duration::from_secs(3),
                planned: 10_000 * 4,
            },
        }
    }
}

fn main() -> ExitCode {
    let options = match options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(options))
}

/// `--smoke`, `--out FILE`; cargo's own `--bench` is ignored.
fn options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        smoke: false,
        out: None,
        only: Only::Everything,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--out" => {
                let file = args.next().ok_or("--out needs a file")?;
                options.out = Some(PathBuf::from(file));
            }
            "--latency-at" => {
                let sizes = args.next().ok_or("--latency-at needs numbers of agents")?;
                let sizes = sizes
                    .split(',')
                    .map(|n| n.trim().parse::<usize>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| format!("--latency-at {sizes}: not a list of numbers"))?;
                options.only = Only::Latency(sizes);
            }
            "--throughput-only" => options.only = Only::Throughput,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

async fn run(options: Options) -> ExitCode {
    let mut sizes = if options.smoke {
        Sizes::smoke()
    } else {
        Sizes::full()
    };
    match &options.only {
        Only::Everything => {}
        Only::Latency(only) => sizes.latency_agents = only.clone(),
        Only::Throughput => sizes.latency_agents.clear(),
    }
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut notes = Vec::new();
    let open_files = match OpenFiles::raise() {
        Ok(open_files) => open_files,
        Err(error) => {
            eprintln!("cannot read or raise the open-file limit: {error}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "open files: soft limit {} raised to {} (hard {})",
        open_files.before, open_files.soft, open_files.hard
    );
    for agents in &mut sizes.latency_agents {
        let fits = open_files.agents_that_fit(*agents, 10);
        if fits < *agents {
            notes.push(format!(
                "The open-file limit is {} (hard {}): {} sockets per process do not fit, so that size was measured with {} agents.",
                count(open_files.soft),
                count(open_files.hard),
                count(*agents as u64),
                count(fits as u64)
            ));
            *agents = fits;
        }
    }
    sizes.latency_agents.retain(|agents| *agents >= 10);
    sizes.latency_agents.dedup();

    let root = match tempfile::tempdir() {
        Ok(root) => root,
        Err(error) => {
            eprintln!("cannot make a temp dir: {error}");
            return ExitCode::FAILURE;
        }
    };
    let dice = Dice::new(seed("DELIVERY_SEED"));
    let load_at_start = load_average();

    // The floor in rounds: one before the first size and one after each, half the
    // samples each, so that every size has one just before and one just after it.
    let chatter = sizes.chatter;
    let round = Round {
        chatter: Chatter {
            messages: chatter.messages / 2,
            ..chatter
        },
        fsync_samples: sizes.fsync_samples / 2,
    };
    let mut floors = Vec::new();
    if !sizes.latency_agents.is_empty() {
        floors.push(floor_round(root.path(), round, &dice, 0).await);
    }
    let mut latencies = Vec::new();
    for (n, agents) in sizes.latency_agents.iter().copied().enumerate() {
        eprintln!("delivery latency with {agents} agents connected…");
        let data = root.path().join(format!("latency-{agents}"));
        let size_dice = dice.derive(100 + n as u64);
        let figures =
            guarded(async move { latency::measure(&data, agents, chatter, &size_dice).await })
                .await;
        latencies.push((agents, figures));
        floors.push(floor_round(root.path(), round, &dice, n + 1).await);
    }

    let throughput = if !matches!(options.only, Only::Latency(_)) {
        eprintln!("throughput with {} agents…", sizes.throughput.agents);
        let data = root.path().join("throughput");
        let workload = sizes.throughput;
        let throughput_dice = dice.derive(2);
        let ours =
            guarded(async move { throughput::measure(&data, workload, &throughput_dice).await })
                .await;
        eprintln!("the bare relay with group-committed fsyncs, same workload…");
        let dir = root.path().to_path_buf();
        let floor = guarded(async move {
            committed_relay::measure(
                &dir,
                committed_relay::Workload {
                    clients: workload.agents,
                    window: throughput::WINDOW,
                    warm_up: workload.warm_up,
                    counted: workload.window,
                },
            )
            .await
        })
        .await;
        Some((ours, floor))
    } else {
        None
    };

    // Other work on the machine shows in every figure: say how busy it was.
    let machine = format!(
        "Load average (1 min, from `/proc/loadavg`) when the run started: {}; when it ended: {} — on {cores} cores, with the benchmark's own consoles on the same cores as the server.",
        load_at_start,
        load_average()
    );
    let mut sections = Vec::new();
    if options.only != Only::Throughput {
        let mut latency = latency_section(&options, cores, chatter, &floors, &latencies, &notes);
        latency.notes.push(machine.clone());
        sections.push(latency);
    }
    if let Some(throughput) = &throughput {
        let (ours, floor) = throughput;
        let mut throughput = throughput::section(&options, cores, ours, floor);
        throughput.notes.push(machine);
        sections.push(throughput);
    }
    if options.only == Only::Everything {
        sections.push(memory_section(&options, &latencies, &notes));
    }
    let failed = sections.iter().any(|s| s.failure.is_some())
        || latencies.iter().any(|(_, figures)| figures.is_err());
    let fragment: String = sections.iter().map(ToString::to_string).collect();
    println!("{fragment}");
    if let Some(out) = &options.out
        && let Err(error) = std::fs::write(out, &fragment)
    {
        eprintln!("cannot write {}: {error}", out.display());
        return ExitCode::FAILURE;
    }
    if failed {
        eprintln!("something could not be measured: see the fragment");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The 1-minute load average of the machine, as `/proc/loadavg` gives it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// Measures round `n` of the floor, beside the stores in `dir`.
async fn floor_round(
    dir: &std::path::Path,
    round: Round,
    dice: &Dice,
    n: usize,
) -> Result<FloorSamples, String> {
    eprintln!(
        "floor, round {}: fsync of a small append, bare WebSocket relay…",
        n + 1
    );
    let (dir, dice) = (dir.to_path_buf(), dice.derive(1_000 + n as u64));
    guarded(floor::measure(dir, round, dice)).await
}

/// Runs one measure as a task of its own: an error or a panic (the shared test helpers
/// panic on what they cannot do) becomes the reason it could not be measured.
async fn guarded<T: Send + 'static>(
    work: impl Future<Output = anyhow::Result<T>> + Send + 'static,
) -> Result<T, String> {
    match tokio::spawn(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(join) => match join.try_into_panic() {
            Ok(panic) => Err(format!(
                "it panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Err(join) => Err(join.to_string()),
        },
    }
}

/// "1.25×": `ours` over `floor`.
fn ratio(ours: u64, floor: u64) -> String {
    format!("{:.2}×", ours as f64 / floor.max(1) as f64)
}

/// The first line of every section of a smoke run.
fn smoke_line(options: &Options) -> &'static str {
    if options.smoke {
        "*Smoke run: tiny sizes, to check that the benchmark works — not figures to quote.* "
    } else {
        ""
    }
}

/// The size a goal is judged at: `wanted` if it was measured, else the largest measured
/// below it (a smoke run, or too few open files), else the largest.
fn judged_at<T>(measured: &[(usize, T)], wanted: usize) -> Option<&(usize, T)> {
    measured
        .iter()
        .find(|(agents, _)| *agents == wanted)
        .or_else(|| {
            measured
                .iter()
                .filter(|(a, _)| *a < wanted)
                .max_by_key(|(a, _)| *a)
        })
        .or_else(|| measured.iter().max_by_key(|(a, _)| *a))
}

/// "at 1,000 agents", or "at 200 agents (not 1,000: ...)".
fn at_size(agents: usize, wanted: usize, what: &str) -> String {
    if agents == wanted {
        format!("at {} {what}", count(agents as u64))
    } else {
        format!(
            "at {} {what} — not {}, which this run did not measure",
            count(agents as u64),
            count(wanted as u64)
        )
    }
}

fn latency_section(
    options: &Options,
    cores: usize,
    chatter: Chatter,
    floors: &[Result<FloorSamples, String>],
    latencies: &[(usize, Result<SizeFigures, String>)],
    notes: &[String],
) -> Section {
    let mut section = Section {
        title: "Delivery latency".into(),
        how: format!(
            "{}Send on agent A's WebSocket to arrival of the pushed message on agent B's, through the real `agent-console-local` binary (release build, a child process, its durable embedded store in a temp dir) on {cores} cores: with N agents each holding an open, welcomed socket, {} pairs chat (each console sends at most one message every {} ms, one unacknowledged at a time, starting at a random moment) and the rest stay idle; a sample is the time from just before A's console writes its `send` frame to when B's console reads the `message` frame. The floor is measured in the same run: the same pairs at the same pace through a bare tokio + tokio-tungstenite relay that only forwards text frames, plus one `sync_data` after appending {} bytes to a file beside the stores, at the pace the consoles send together (a random pause averaging {} ms before each: on these virtual machines a sync right after another costs about half of one after a pause, so syncs back to back, shown too, would be a floor no store reaches at this pace); floor = relay + fsync. The floor is measured in rounds, one before the first size and one after each, and each size is held to the floor of the rounds just before and just after it: on this shared machine both halves of the floor drift by tens of percent within minutes.",
            smoke_line(options),
            chatter.pairs,
            chatter.pace.as_millis(),
            fsync::RECORD_BYTES,
            chatter.gap().as_secs_f64() * 1000.0
        ),
        ..Section::default()
    };
    let mut failures: Vec<String> = floors
        .iter()
        .enumerate()
        .filter_map(|(n, round)| {
            round
                .as_ref()
                .err()
                .map(|error| format!("the floor's round {}: {error}", n + 1))
        })
        .collect();
    // Size n ran between rounds n and n + 1.
    let floor_around = |n: usize| {
        FloorSamples::pooled(
            floors
                .iter()
                .skip(n)
                .take(2)
                .filter_map(|r| r.as_ref().ok()),
        )
        .figures()
        .map(|f| (f.p50(), f.p99()))
    };
    let mut sizes = Table::new(&[
        "Agents connected",
        "Samples",
        "p50 (ms)",
        "p99 (ms)",
        "p99.9 (ms)",
        "max (ms)",
        "Floor p50 (ms), rounds before and after",
        "p50 / floor p50",
        "Floor p99 (ms)",
        "p99 / floor p99",
    ]);
    let mut measured = Vec::new();
    for (n, (agents, figures)) in latencies.iter().enumerate() {
        let floor = floor_around(n);
        match figures {
            Ok(figures) => {
                let l = figures.latency;
                sizes.row(vec![
                    count(*agents as u64),
                    count(l.count as u64),
                    ms(l.p50),
                    ms(l.p99),
                    ms(l.p999),
                    ms(l.max),
                    floor.map_or("–".into(), |(p50, _)| ms(p50)),
                    floor.map_or("–".into(), |(p50, _)| ratio(l.p50, p50)),
                    floor.map_or("–".into(), |(_, p99)| ms(p99)),
                    floor.map_or("–".into(), |(_, p99)| ratio(l.p99, p99)),
                ]);
                if figures.refused_sends > 0 {
                    section.notes.push(format!(
                        "With {} agents, {} sends were refused (rate-limited or internal) and sent again; their samples include the wait.",
                        count(*agents as u64),
                        figures.refused_sends
                    ));
                }
                if figures.idle_closed > 0 {
                    section.notes.push(format!(
                        "With {} agents, the server closed {} idle sockets during the run.",
                        count(*agents as u64),
                        figures.idle_closed
                    ));
                }
                measured.push((*agents, (l, floor)));
            }
            Err(error) => {
                let mut row = vec![count(*agents as u64)];
                row.extend(std::iter::repeat_n("–".to_string(), 9));
                sizes.row(row);
                failures.push(format!("with {agents} agents: {error}"));
            }
        }
    }
    section.tables.push(sizes);

    let rounds: Vec<&FloorSamples> = floors.iter().filter_map(|r| r.as_ref().ok()).collect();
    let mut floor = Table::new(&[
        &format!("Floor, all {} rounds together", rounds.len()),
        "Samples",
        "p50 (ms)",
        "p99 (ms)",
        "p99.9 (ms)",
    ]);
    if let Some(all) = FloorSamples::pooled(rounds.iter().copied()).figures() {
        let row = |name: String, p: &Percentiles| {
            vec![
                name,
                count(p.count as u64),
                ms(p.p50),
                ms(p.p99),
                ms(p.p999),
            ]
        };
        floor.row(row("Bare WebSocket relay".into(), &all.relay));
        floor.row(row(
            format!(
                "fsync of a {}-byte append, one every {} ms on average (the consoles' pace)",
                fsync::RECORD_BYTES,
                chatter.gap().as_secs_f64() * 1000.0
            ),
            &all.paced,
        ));
        floor.row(vec![
            "Floor (relay + fsync)".into(),
            "–".into(),
            ms(all.p50()),
            ms(all.p99()),
            "–".into(),
        ]);
        floor.row(row(
            "*Not in the floor:* the same fsync back to back".into(),
            &all.back_to_back,
        ));
        match &all.direct {
            Some(direct) => floor.row(row(
                "*Not in the floor:* what the store's journal does instead, one direct, \
                 synchronous write (`O_DIRECT | O_DSYNC`) of the 4 KiB block holding the \
                 record, at the same pace"
                    .into(),
                direct,
            )),
            None => section.notes.push(
                "This file system refused direct I/O: the store's journal syncs through \
                 the page cache here, as the floor does."
                    .into(),
            ),
        }
        let per_round: Vec<String> = rounds
            .iter()
            .filter_map(|round| round.figures())
            .map(|f| ms(f.p50()))
            .collect();
        section.notes.push(format!(
            "The floor's p50 in each round, in order (ms): {}.",
            per_round.join(", ")
        ));
    }
    section.tables.push(floor);
    section.notes.extend(notes.iter().cloned());
    if !failures.is_empty() {
        section.failure = Some(failures.join("; "));
    }

    let goal_p50 = format!("p50 within {P50_GOAL_FLOORS}× the floor (1,000 agents, durable)");
    let goal_p99 = format!("p99 within {P99_GOAL_FLOORS}× the floor's p99 (1,000 agents, durable)");
    match judged_at(&measured, LATENCY_GOAL_AGENTS) {
        Some((agents, (l, floor))) => {
            let at = at_size(*agents, LATENCY_GOAL_AGENTS, "agents");
            for (goal, name, ours, floor, floors) in [
                (goal_p50, "p50", l.p50, floor.map(|f| f.0), P50_GOAL_FLOORS),
                (goal_p99, "p99", l.p99, floor.map(|f| f.1), P99_GOAL_FLOORS),
            ] {
                section.goals.push(match floor {
                    Some(floor) => Goal {
                        goal,
                        met: Some(ours as f64 <= floors * floor as f64),
                        figure: format!(
                            "{name} {} ms = {} the floor's {name} of {} ms around it, {at}",
                            ms(ours),
                            ratio(ours, floor),
                            ms(floor)
                        ),
                    },
                    None => Goal {
                        goal,
                        met: None,
                        figure: format!("{name} {} ms {at}, but no floor", ms(ours)),
                    },
                });
            }
        }
        None => section.not_judged([goal_p50, goal_p99], "no size was measured"),
    }
    section
}

fn memory_section(
    options: &Options,
    latencies: &[(usize, Result<SizeFigures, String>)],
    notes: &[String],
) -> Section {
    let mut section = Section {
        title: "Memory with idle connections".into(),
        how: format!(
            "{}Resident memory (`VmRSS` in `/proc/<pid>/status`) of the server process right after it started serving, before any request, and with every agent's socket open, signed in and welcomed, before any chat starts (all of them idle then); the same servers as the delivery latency.",
            smoke_line(options)
        ),
        ..Section::default()
    };
    let mut table = Table::new(&[
        "Idle connections",
        "Before connections",
        "With the connections",
        "Per connection (kB)",
    ]);
    let mut measured = Vec::new();
    for (_, figures) in latencies {
        if let Ok(f) = figures {
            let grown = f.resident_connected.saturating_sub(f.resident_before);
            table.row(vec![
                count(f.connections as u64),
                megabytes(f.resident_before),
                megabytes(f.resident_connected),
                format!("{:.1}", grown as f64 / f.connections.max(1) as f64 / 1000.0),
            ]);
            measured.push((f.connections, f.resident_connected));
        }
    }
    section.tables.push(table);
    section.notes.extend(notes.iter().cloned());
    let goal = format!(
        "under {} MB with {} idle connections",
        MEMORY_GOAL_BYTES / 1_000_000,
        count(MEMORY_GOAL_CONNECTIONS as u64)
    );
    match judged_at(&measured, MEMORY_GOAL_CONNECTIONS) {
        Some((connections, resident)) => section.goals.push(Goal {
            goal,
            met: Some(*resident < MEMORY_GOAL_BYTES),
            figure: format!(
                "{}, {}",
                megabytes(*resident),
                at_size(*connections, MEMORY_GOAL_CONNECTIONS, "connections")
            ),
        }),
        None => {
            section.failure = Some("no size was measured (see the delivery latency)".into());
            section.goals.push(Goal {
                goal,
                met: None,
                figure: "not measured".into(),
            });
        }
    }
    section
}
