//! The history benchmark: what a year of use costs an agent. At each size, a fresh local
//! server (its durable embedded store in a temp dir) holds Ann's past chats — N ended
//! chats, two messages each — and one open chat with Bob (60 messages); then it measures what she
//! meets: the `welcome` of a new tab (bytes), the resume that follows it (frames, and
//! the time until it is all there), the first page of her History
//! (`GET /api/chats?status=ended`), the first page of a supervisor's transcript text
//! search that matches nothing (its whole budget read), and sends to Bob (send →
//! acknowledgement, p50/p99).
//! The goal: flat — the same bytes and frames at every size, times within noise.
//!
//! `cargo bench -p console-local --bench history -- [--smoke] [--out FILE.md]`
//!
//! It prints a Markdown fragment and writes it to FILE. A missed goal is a result, not a
//! failure: it exits non-zero only when something could not be measured.

#[path = "../tests/support/mod.rs"]
mod support;

use console_domain::Chat;
use console_domain::ports::{ChatStore, DirectoryStore};
use protocol::AgentId;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use support::scripted::{Console, demo_store, http, say, sign_in, start_on};

/// The sizes of a full run: past chats behind Ann.
const FULL: [usize; 4] = [1, 100, 2_000, 20_000];
/// The sizes of a smoke run.
const SMOKE: [usize; 3] = [1, 10, 100];
/// Sends measured at each size.
const SENDS: usize = 200;
/// The sends of a smoke run.
const SMOKE_SENDS: usize = 20;
/// Messages of the open chat with Bob (more than a resume's page).
const OPEN_MESSAGES: usize = 60;
/// The tenant's own traffic at the largest size, beside Ann's: pairs of other agents,
/// ended chats per pair, messages per chat — 100 × 100 × 100 = 1,000,000 messages.
const BUSY: Busy = Busy {
    pairs: 100,
    chats: 100,
    messages: 100,
};
/// The same in a smoke run: 2,000 messages.
const SMOKE_BUSY: Busy = Busy {
    pairs: 10,
    chats: 2,
    messages: 100,
};

/// Other agents' chats in the tenant.
#[derive(Debug, Clone, Copy)]
struct Busy {
    pairs: usize,
    chats: usize,
    messages: usize,
}

impl Busy {
    fn messages(self) -> usize {
        self.pairs * self.chats * self.messages
    }
}

/// How much slower the largest size's median send may be than the smallest's, in the
/// same run, and still count as flat (this machine is shared and noisy).
const FLAT: f64 = 1.5;

/// What one size measured.
#[derive(Debug)]
struct Figures {
    past: usize,
    /// Messages in the tenant, Ann's and everyone else's.
    tenant_messages: usize,
    welcome_bytes: usize,
    resume_frames: usize,
    resume_ms: f64,
    history_ms: f64,
    search_ms: f64,
    /// How many transcripts the search's first page found (none: it looks for a word no
    /// message holds) and whether it said where to go on.
    search_goes_on: bool,
    send_p50_ms: f64,
    send_p99_ms: f64,
}

fn main() -> ExitCode {
    let mut smoke = false;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--out" => out = args.next(),
            "--bench" => {}
            other => {
                eprintln!(
                    "unknown argument {other}; usage: cargo bench -p console-local --bench history -- [--smoke] [--out FILE.md]"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (sizes, sends, busy): (&[usize], usize, Busy) = if smoke {
        (&SMOKE, SMOKE_SENDS, SMOKE_BUSY)
    } else {
        (&FULL, SENDS, BUSY)
    };
    let mut all = Vec::new();
    for (n, &past) in sizes.iter().enumerate() {
        eprintln!("history benchmark: {past} past chats");
        let busy = (n + 1 == sizes.len()).then_some(busy);
        all.push(runtime.block_on(measure(past, busy, sends)));
    }
    let fragment = report(&all, sends, busy);
    println!("{fragment}");
    if let Some(path) = out
        && let Err(error) = std::fs::write(&path, &fragment)
    {
        eprintln!("cannot write {path}: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Everything at one size, on a server of its own; `busy`, the tenant's other traffic.
async fn measure(past: usize, busy: Option<Busy>, sends: usize) -> Figures {
    let data = tempfile::tempdir().expect("a temp dir");
    let store = demo_store(data.path()).await;
    let colleagues = ["cara", "dan", "eve", "finn", "sue"].map(AgentId::from);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    if let Some(busy) = busy {
        // Before Ann's year, so that the search's first page reads the same chats at
        // every size: the tenant's colleagues on the floor, two by two.
        let started = Instant::now();
        let tenant = console_local::demo::directory()
            .into_iter()
            .find(|(tenant, _)| tenant.id.as_str() == "acme")
            .expect("the demo tenant");
        let mut agents = tenant.1;
        let floor: Vec<AgentId> = (0..busy.pairs * 2)
            .map(|n| AgentId::from(format!("floor{n:04}").as_str()))
            .collect();
        agents.extend(floor.iter().map(|id| console_domain::model::Agent {
            tenant: "acme".into(),
            id: id.clone(),
            name: format!("Floor Agent {id}"),
            group: "floor".into(),
            role: protocol::Role::Agent,
            state: protocol::AgentState::LoggedOut,
            state_since: 0,
        }));
        store
            .put_tenant(&tenant.0, &agents)
            .await
            .expect("the floor joins the directory");
        let pairs: Vec<(AgentId, AgentId)> = floor
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        console_local::demo::chatter(
            store.as_ref(),
            &"acme".into(),
            &pairs,
            busy.chats,
            busy.messages,
            now - 3_600_000 - (past as i64 + 1) * 60_000,
        )
        .await
        .expect("the tenant's traffic is written");
        eprintln!(
            "history benchmark: {} messages of the floor written in {:.0} s",
            busy.messages(),
            started.elapsed().as_secs_f64()
        );
    }
    console_local::demo::past_chats(
        store.as_ref(),
        &"acme".into(),
        &"ann".into(),
        &colleagues,
        past,
        now - 3_600_000,
        colleagues.len(),
    )
    .await
    .expect("the past chats are written");
    let open = Chat::new(
        "acme".into(),
        "with-bob".into(),
        "ann".into(),
        "bob".into(),
        now,
        None,
    );
    store.open_chat(&open).await.expect("the open chat");
    for n in 0..OPEN_MESSAGES {
        let from = AgentId::from(if n % 2 == 0 { "bob" } else { "ann" });
        store
            .append_message(
                &"acme".into(),
                &open.id,
                &from,
                &format!("o{n}"),
                "Still with the customer?",
                now,
            )
            .await
            .expect("a message of the open chat");
    }
    let server = start_on(data.path(), store.clone()).await;
    let (ann, bob) = (
        sign_in(server.addr, "acme", "ann").await,
        sign_in(server.addr, "acme", "bob").await,
    );

    // A new tab: its welcome, then the resume until the console falls silent.
    let started = Instant::now();
    let (mut tab, welcome) = Console::hello(server.addr, &ann, json!({})).await;
    let welcome_bytes = welcome.to_string().len();
    let mut resume_frames = 0;
    let mut last_frame = started.elapsed();
    while let Ok(_frame) = tokio::time::timeout(Duration::from_millis(300), tab.next()).await {
        resume_frames += 1;
        last_frame = started.elapsed();
    }
    let resume_ms = ms(last_frame);

    // The first page of her History.
    let asked = Instant::now();
    let (status, page) = http(
        server.addr,
        "GET",
        "/api/chats?status=ended&limit=20",
        Some(&ann),
        "",
    )
    .await;
    let history_ms = ms(asked.elapsed());
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["chats"].as_array().map(Vec::len),
        Some(past.min(20)),
        "the first page of History"
    );

    // Sue searches the tenant's transcripts for a word no message holds: the first page
    // reads its whole budget (or every chat, when there are fewer).
    let sue = sign_in(server.addr, "acme", "sue").await;
    let asked = Instant::now();
    let (status, search) = http(
        server.addr,
        "GET",
        "/api/transcripts?q=zebra",
        Some(&sue),
        "",
    )
    .await;
    let search_ms = ms(asked.elapsed());
    assert_eq!(status, 200, "{search}");
    assert_eq!(search["transcripts"].as_array().map(Vec::len), Some(0));
    let search_goes_on = search["next"].is_string();

    // Sends to Bob, who is connected too, each waited for.
    let (_bob_tab, _) = Console::hello(server.addr, &bob, json!({})).await;
    let mut times = Vec::with_capacity(sends);
    for n in 0..sends {
        let sent = Instant::now();
        say(
            &mut tab,
            "with-bob",
            &format!("b{n}"),
            "A consult, after a year.",
        )
        .await;
        times.push(ms(sent.elapsed()));
        // The send quota (30 in 3 s) is the console's: pace like a person in a hurry.
        if n % 25 == 24 {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    server.stop().await;
    times.sort_by(f64::total_cmp);
    Figures {
        past,
        tenant_messages: past * 2 + OPEN_MESSAGES + busy.map_or(0, Busy::messages),
        welcome_bytes,
        resume_frames,
        resume_ms,
        history_ms,
        search_ms,
        search_goes_on,
        send_p50_ms: percentile(&times, 0.50),
        send_p99_ms: percentile(&times, 0.99),
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], at: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * at).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(all: &[Figures], sends: usize, busy: Busy) -> String {
    let mut out = String::from("## A year of use: an agent's history (local server)\n\n");
    out.push_str(&format!(
        "Per size, a fresh local server (durable embedded store) with Ann's past chats (two \
         messages each, ended) and one open chat with Bob; at the largest size the tenant \
         also holds {} messages of {} other pairs of agents ({} ended chats of {} messages \
         each, all before Ann's), written straight into the store. A new tab of Ann's: the `welcome` \
         (bytes, as JSON), the frames that follow it until the console falls silent for \
         300 ms, and the time until the last of them; the first page of History \
         (`GET /api/chats?status=ended&limit=20`); the first page of Sue's transcript search \
         for a word no message holds (`GET /api/transcripts?q=zebra`: it looks at {} chats \
         at most, then names where to go on); {sends} sends to Bob, each waited for \
         until acknowledged (paced under the send quota). What the same operations cost in \
         DynamoDB, at the same sizes, is the section \"A year of use in AWS\".\n\n",
        busy.messages(),
        busy.pairs,
        busy.pairs * busy.chats,
        busy.messages,
        console_domain::service::CHATS_LOOKED_AT
    ));
    out.push_str("| past chats | messages in the tenant | welcome | new-tab frames | resume | History page | search, first page | send → ack p50 | p99 |\n|---|---|---|---|---|---|---|---|---|\n");
    for figures in all {
        out.push_str(&format!(
            "| {} | {} | {} bytes | {} | {:.1} ms | {:.1} ms | {:.1} ms{} | {:.2} ms | {:.2} ms |\n",
            figures.past,
            figures.tenant_messages,
            figures.welcome_bytes,
            figures.resume_frames,
            figures.resume_ms,
            figures.history_ms,
            figures.search_ms,
            if figures.search_goes_on {
                " (goes on)"
            } else {
                " (all looked at)"
            },
            figures.send_p50_ms,
            figures.send_p99_ms
        ));
    }
    out.push('\n');
    let (Some(first), Some(last)) = (all.first(), all.last()) else {
        return out;
    };
    let same_frames = all
        .iter()
        .all(|f| f.welcome_bytes == first.welcome_bytes && f.resume_frames == first.resume_frames);
    out.push_str(&format!(
        "- Goal: a new tab is sent the same with {} past chats as with {} (welcome bytes and frames identical) — {}\n",
        last.past,
        first.past,
        if same_frames { "**met**" } else { "**not met**" }
    ));
    // The search's first page is bounded once there are more chats than it looks at.
    if let Some(full) = all
        .iter()
        .find(|f| f.past >= console_domain::service::CHATS_LOOKED_AT)
        && full.past != last.past
    {
        let ratio = last.search_ms / full.search_ms;
        out.push_str(&format!(
            "- Goal: a transcript search's first page with {} past chats within {FLAT}× of {} in the same run — {} ({:.1} ms against {:.1} ms: {ratio:.2}×)\n",
            last.past,
            full.past,
            if ratio <= FLAT { "**met**" } else { "**not met**" },
            last.search_ms,
            full.search_ms
        ));
    }
    let ratio = last.send_p50_ms / first.send_p50_ms;
    out.push_str(&format!(
        "- Goal: send → acknowledgement p50 with {} past chats within {FLAT}× of {} in the same run — {} ({:.2} ms against {:.2} ms: {ratio:.2}×)\n",
        last.past,
        first.past,
        if ratio <= FLAT { "**met**" } else { "**not met**" },
        last.send_p50_ms,
        first.send_p50_ms
    ));
    out
}
