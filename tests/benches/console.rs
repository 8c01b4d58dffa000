//! The console benchmark: how big the built console is, and how fast it is in headless
//! Chromium against the real local server serving it — load, an agent list of thousands,
//! a chat of ten thousand messages.
//!
//! `cargo bench -p console-e2e --bench console -- [--smoke] [--out FILE.md]` writes a
//! Markdown fragment (`## Console`: how it was measured, a table, one line per goal). A
//! missed goal is reported, never a failure; it fails only when it cannot measure.
//! `--smoke` uses small sizes, to check the benchmark itself quickly; `--agents N` and
//! `--messages N` set them (after `--smoke`, if both are given).

use anyhow::Context;
use console_e2e::browser::{Browser, Driver};
use console_e2e::seed::{self, LongChat, LongChatSpec};
use console_e2e::server::TestServer;
use console_e2e::{eventually, workspace_root};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The tenant of the benchmark's directory.
const TENANT: &str = "bench";
/// The agent whose list holds every agent of the big group.
const LISTER: &str = "lister";
/// The agent with the long chat, and the one she chats with.
const TALKER: &str = "talker";
const PARTNER: &str = "partner";
/// The agent the load is measured for: a group of three.
const LOADER: &str = "loader";

/// The agent whose sign-in is measured with a year behind her, in a tenant of her own
/// per size (`year{past}`), and her colleagues there.
const YEAR_AGENT: &str = "me";
const YEAR_COLLEAGUES: [&str; 3] = ["cara", "dan", "eve"];
/// How much slower sign-in with the most past chats may be than with the fewest, in the
/// same run, and still count as flat (this machine is shared and noisy).
const FLAT: f64 = 1.5;

/// A frame gap over this (ms) is a visible stutter.
const JANK_MS: f64 = 50.0;

/// How much is measured.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    agents: usize,
    messages: usize,
    loads: usize,
    renders: usize,
    /// Past chats behind the agent whose sign-in is measured, one size each.
    histories: &'static [usize],
}

const FULL: Sizes = Sizes {
    agents: 5_000,
    messages: 10_000,
    loads: 9,
    renders: 5,
    histories: &[1, 100, 2_000, 20_000],
};

const SMOKE: Sizes = Sizes {
    agents: 200,
    messages: 300,
    loads: 3,
    renders: 3,
    histories: &[1, 100],
};

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    sizes: Sizes,
    smoke: bool,
    out: Option<PathBuf>,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        sizes: FULL,
        smoke: false,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => {
                options.sizes = SMOKE;
                options.smoke = true;
            }
            "--out" => {
                options.out = Some(PathBuf::from(
                    args.next().context("--out needs a file name")?,
                ))
            }
            "--agents" | "--messages" => {
                let value: usize = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .with_context(|| format!("{arg} needs a number"))?;
                anyhow::ensure!(value > 0, "{arg} needs a number above 0");
                if arg == "--agents" {
                    options.sizes.agents = value;
                } else {
                    options.sizes.messages = value;
                }
            }
            // Cargo adds `--bench` when it runs a benchmark.
            "--bench" => {}
            other => anyhow::bail!(
                "unknown argument {other}; usage: cargo bench -p console-e2e --bench console -- [--smoke] [--agents N] [--messages N] [--out FILE.md]"
            ),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    match run().await {
        Ok(()) => {}
        Err(error) => {
            eprintln!("console benchmark: cannot measure: {error:#}");
            std::process::exit(1);
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let options = options()?;
    let dist = workspace_root().join("dist");
    let size = sizes(&dist)?;
    eprintln!("console benchmark: sizes measured; preparing the server's data");
    let data = tempfile::tempdir()?;
    let long_chat = prepare(data.path(), options.sizes).await?;
    let server = TestServer::start_on(data, dist, None).await?;
    let driver = Driver::start().await?;
    let browser = driver.browser("bench").await?;
    let result = measure(&browser, &server, options.sizes, &long_chat).await;
    let _ = browser.client.clone().close().await;
    let timings = result?;
    let fragment = report(&size, &timings, &options);
    match &options.out {
        Some(path) => std::fs::write(path, &fragment)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(fragment.as_bytes())?,
    }
    eprint!("{fragment}");
    Ok(())
}

/// The built console's size: its WASM raw, gzip and brotli, and all of it in brotli.
#[derive(Debug)]
struct ConsoleSize {
    wasm_raw: usize,
    wasm_gzip: usize,
    wasm_brotli: usize,
    all_brotli: usize,
    files: usize,
}

fn gzip(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

fn brotli(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out.len())
}

fn sizes(dist: &Path) -> anyhow::Result<ConsoleSize> {
    let entries = std::fs::read_dir(dist).with_context(|| {
        format!(
            "no built console in {} (run `trunk build --release` first)",
            dist.display()
        )
    })?;
    let mut size = ConsoleSize {
        wasm_raw: 0,
        wasm_gzip: 0,
        wasm_brotli: 0,
        all_brotli: 0,
        files: 0,
    };
    let mut wasm_files = 0;
    for entry in entries {
        let path = entry?.path();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !matches!(extension, "wasm" | "js" | "css" | "html") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let compressed = brotli(&bytes)?;
        size.all_brotli += compressed;
        size.files += 1;
        if extension == "wasm" {
            wasm_files += 1;
            size.wasm_raw += bytes.len();
            size.wasm_gzip += gzip(&bytes)?;
            size.wasm_brotli += compressed;
        }
    }
    anyhow::ensure!(
        wasm_files == 1,
        "expected one .wasm in {}, found {wasm_files} (run `trunk build --release`)",
        dist.display()
    );
    Ok(size)
}

/// A person's name from two short lists, different for each number below 5,000.
fn name(n: usize) -> String {
    const FIRST: [&str; 50] = [
        "Ann", "Bob", "Cara", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivan", "Jo", "Kim", "Lea",
        "Max", "Nia", "Omar", "Pia", "Quin", "Rosa", "Sam", "Tia", "Uma", "Vic", "Wes", "Xena",
        "Yuri", "Zoe", "Abel", "Beth", "Cole", "Dina", "Emil", "Faye", "Gil", "Hugo", "Ines",
        "Jack", "Kai", "Lina", "Milo", "Nora", "Otto", "Paz", "Rhea", "Saul", "Tess", "Ugo",
        "Vera", "Will", "Yara", "Zane",
    ];
    const LAST: [&str; 100] = [
        "Lee", "Stone", "Diaz", "Wu", "Park", "Hale", "Grant", "Moss", "Reed", "Cruz", "Nash",
        "Ortiz", "Patel", "Quinn", "Ross", "Shaw", "Tran", "Vance", "Ward", "Young", "Zhang",
        "Abbott", "Baker", "Carver", "Doyle", "Ellis", "Frost", "Gray", "Hayes", "Irwin", "Jensen",
        "Keller", "Lopez", "Meyer", "Novak", "Olsen", "Price", "Rhodes", "Silva", "Torres",
        "Usher", "Vargas", "Walsh", "Xu", "Yates", "Zamora", "Avery", "Brooks", "Chen", "Dunn",
        "Evans", "Fox", "Gomez", "Hunt", "Ibarra", "Jones", "Khan", "Lang", "Mills", "Nolan",
        "Owens", "Pace", "Ramos", "Sato", "Tate", "Upton", "Voss", "Webb", "Yoon", "Ziegler",
        "Adams", "Bell", "Cole", "Dale", "Ewing", "Ford", "Gill", "Hart", "Ingram", "Joyce",
        "Kemp", "Lowe", "Marsh", "Noble", "Oakes", "Pike", "Rich", "Sloan", "Todd", "Vail",
        "Wolfe", "York", "Beck", "Cobb", "Drake", "Eaton", "Flynn", "Gates", "Holt", "Kerr",
    ];
    format!(
        "{} {} {}",
        FIRST[n % FIRST.len()],
        LAST[(n / FIRST.len()) % LAST.len()],
        n / (FIRST.len() * LAST.len()) + 1
    )
}

/// The directory (a big group with the lister, a small one for the load and the long
/// chat) and the long chat, written into the data folder before the server starts.
async fn prepare(data: &Path, sizes: Sizes) -> anyhow::Result<LongChat> {
    let mut agents: Vec<Value> = (0..sizes.agents)
        .map(|n| json!({"id": format!("a{n:05}"), "name": name(n), "group": "floor", "role": "agent"}))
        .collect();
    agents.push(json!({"id": LISTER, "name": "Lister One", "group": "floor", "role": "agent"}));
    for (id, name) in [
        (TALKER, "Talker Two"),
        (PARTNER, "Partner Three"),
        (LOADER, "Loader Four"),
    ] {
        agents.push(json!({"id": id, "name": name, "group": "desk", "role": "agent"}));
    }
    let mut tenants = vec![json!({"id": TENANT, "name": "Benchmark Center", "agents": agents})];
    for &past in sizes.histories {
        let people: Vec<Value> = std::iter::once(YEAR_AGENT)
            .chain(YEAR_COLLEAGUES)
            .map(|id| json!({"id": id, "name": format!("{id} of year {past}"), "group": "desk", "role": "agent"}))
            .collect();
        tenants
            .push(json!({"id": year(past), "name": format!("A year of {past}"), "agents": people}));
    }
    let file = json!({ "tenants": tenants });
    let chat = LongChatSpec {
        tenant: TENANT,
        id: "long-chat",
        between: [TALKER, PARTNER],
        messages: sizes.messages,
    };
    let mut chats = seed::seed(data, &file, &[chat]).await?;
    for &past in sizes.histories {
        seed::past_chats(data, &year(past), YEAR_AGENT, &YEAR_COLLEAGUES, past).await?;
        eprintln!("console benchmark: {past} past chats written");
    }
    chats.pop().context("the long chat was not written")
}

/// The tenant of the agent with `past` chats behind her.
fn year(past: usize) -> String {
    format!("year{past}")
}

/// What the browser measured.
#[derive(Debug, Default)]
struct Timings {
    loads: Vec<f64>,
    /// Per size of history: past chats, and the loads from navigation to interactive.
    year_loads: Vec<(usize, Vec<f64>)>,
    list_renders: Vec<f64>,
    keystrokes: Vec<f64>,
    list_rows: usize,
    listed: usize,
    chat_first_open: f64,
    chat_opens: Vec<f64>,
    chat_lines_in_dom: usize,
    chat_nodes_in_dom: usize,
    frames: Vec<f64>,
    scrolled_px: f64,
}

/// Runs `script` (which must set `window.__bench` to its result when done, or to
/// `{error: ...}`) and waits for the result.
async fn in_page(browser: &Browser, what: &str, script: &str) -> anyhow::Result<Value> {
    browser
        .client
        .execute(&format!("window.__bench = undefined; {script}"), Vec::new())
        .await
        .with_context(|| format!("cannot start measuring {what}"))?;
    let result = eventually(what, Duration::from_secs(180), || async {
        let value = browser
            .client
            .execute(
                "return window.__bench === undefined ? null : window.__bench;",
                Vec::new(),
            )
            .await?;
        Ok((!value.is_null()).then_some(value))
    })
    .await?;
    if result.get("error").is_some() {
        anyhow::bail!("measuring {what} failed in the page: {result}");
    }
    Ok(result)
}

/// Signs `agent` in through the HTTP API and keeps the session in the tab, as the
/// console's own sign-in does.
async fn sign_in_as(browser: &Browser, base: &str, agent: &str) -> anyhow::Result<()> {
    sign_in_to(browser, base, TENANT, agent).await
}

/// Signs `agent` of `tenant` in, as [`sign_in_as`].
async fn sign_in_to(
    browser: &Browser,
    base: &str,
    tenant: &str,
    agent: &str,
) -> anyhow::Result<()> {
    // On the development sign-in page (the console itself would go there, signed out).
    browser
        .client
        .goto(&format!("{base}{}", protocol::http::DEV_SIGN_IN_PAGE))
        .await?;
    in_page(
        browser,
        "the sign-in",
        &format!(
            r#"fetch('/api/dev/sign-in', {{method: 'POST', headers: {{'content-type': 'application/json'}},
                 body: JSON.stringify({{tenant: '{tenant}', agent: '{agent}'}})}})
               .then(r => r.ok ? r.json() : Promise.reject('HTTP ' + r.status))
               .then(s => {{ sessionStorage.setItem('agent-console.session', JSON.stringify(s)); window.__bench = true; }})
               .catch(e => {{ window.__bench = {{error: String(e)}}; }});"#
        ),
    )
    .await?;
    Ok(())
}

/// Loads the console and waits until it marks itself interactive; returns that time
/// (ms since the navigation started).
async fn load(browser: &Browser, base: &str) -> anyhow::Result<f64> {
    browser.client.goto(&format!("{base}/")).await?;
    let mark = eventually(
        "the console to mark itself interactive",
        Duration::from_secs(30),
        || async {
            let value = browser
                .client
                .execute(
                    "const m = performance.getEntriesByName('console-interactive', 'mark')[0]; return m ? m.startTime : null;",
                    Vec::new(),
                )
                .await?;
            Ok(value.as_f64())
        },
    )
    .await?;
    Ok(mark)
}

/// In the page: `step()` runs at the start of a frame (in `requestAnimationFrame`), and
/// `done` gets the time from then until that frame is rendered with its change (a task
/// queued then runs once the frame's style, layout and paint are done). Starting at a
/// frame leaves out the wait for the display's next frame, which is no work of the
/// console's.
const TIME_TO_FRAME: &str = r#"
    window.__timeToFrame = (step, done) => {
        requestAnimationFrame(() => {
            const start = performance.now();
            step();
            setTimeout(() => done(performance.now() - start), 0);
        });
    };
"#;

async fn measure(
    browser: &Browser,
    server: &TestServer,
    sizes: Sizes,
    long_chat: &LongChat,
) -> anyhow::Result<Timings> {
    let base = server.url();
    let mut timings = Timings::default();

    // Loading: a console with a small group, from navigation to interactive.
    sign_in_as(browser, &base, LOADER).await?;
    for _ in 0..sizes.loads {
        timings.loads.push(load(browser, &base).await?);
    }
    eprintln!("console benchmark: loads measured");

    // Sign-in with a year behind her: the same loads, with 1 to 20,000 past chats.
    for &past in sizes.histories {
        sign_in_to(browser, &base, &year(past), YEAR_AGENT).await?;
        let mut loads = Vec::with_capacity(sizes.loads);
        for _ in 0..sizes.loads {
            loads.push(load(browser, &base).await?);
        }
        timings.year_loads.push((past, loads));
    }
    eprintln!("console benchmark: sign-in with a year behind measured");

    // The agent list of the big group: rendering it, filtering it.
    sign_in_as(browser, &base, LISTER).await?;
    load(browser, &base).await?;
    // Her colleagues (herself aside) are all listed.
    let listed = eventually("the whole agent list", Duration::from_secs(60), || async {
        let count = browser
            .client
            .execute(
                "const t = document.querySelector('table.agents'); return t ? Number(t.getAttribute('aria-rowcount')) - 1 : 0;",
                Vec::new(),
            )
            .await?;
        let count = count.as_u64().unwrap_or_default() as usize;
        Ok((count >= sizes.agents).then_some(count))
    })
    .await?;
    timings.listed = listed;
    browser.client.execute(TIME_TO_FRAME, Vec::new()).await?;
    for round in 0..sizes.renders {
        // Away to the Chat tab, then back: the list is built anew.
        let (away, back) = if round % 2 == 0 {
            ("tab-chat", "tab-phone")
        } else {
            ("tab-chat", "tab-status")
        };
        let result = in_page(
            browser,
            "the agent list's render",
            &format!(
                r#"document.getElementById('{away}').click();
                   setTimeout(() => window.__timeToFrame(
                       () => document.getElementById('{back}').click(),
                       ms => {{
                           const rows = document.querySelectorAll('table.agents tbody tr[aria-rowindex]').length;
                           window.__bench = rows > 0 ? {{ms, rows}} : {{error: 'no rows rendered'}};
                       }}), 100);"#
            ),
        )
        .await?;
        timings
            .list_renders
            .push(result["ms"].as_f64().unwrap_or(f64::NAN));
        timings.list_rows = result["rows"].as_u64().unwrap_or_default() as usize;
    }
    // Typing a name into the filter and deleting it again, a keystroke at a time.
    let typed = "kim l";
    let mut values: Vec<String> = (1..=typed.len()).map(|n| typed[..n].to_owned()).collect();
    values.extend((0..typed.len()).rev().map(|n| typed[..n].to_owned()));
    let result = in_page(
        browser,
        "the filter's keystrokes",
        &format!(
            r#"const input = document.querySelector('input[type=search]');
               const values = {values};
               const times = [];
               const next = i => {{
                   if (i === values.length) {{ window.__bench = {{times}}; return; }}
                   window.__timeToFrame(() => {{
                       input.value = values[i];
                       input.dispatchEvent(new Event('input', {{bubbles: true}}));
                   }}, ms => {{ times.push(ms); setTimeout(() => next(i + 1), 50); }});
               }};
               if (!input) window.__bench = {{error: 'no filter box'}}; else next(0);"#,
            values = serde_json::to_string(&values)?
        ),
    )
    .await?;
    timings.keystrokes = numbers(&result["times"]);
    let filtered = browser
        .client
        .execute(
            "return Number(document.querySelector('table.agents').getAttribute('aria-rowcount')) - 1;",
            Vec::new(),
        )
        .await?;
    anyhow::ensure!(
        filtered.as_u64() == Some(listed as u64),
        "the list does not show every agent again after the filter was cleared: {filtered}"
    );
    eprintln!("console benchmark: agent list measured");

    // The long chat: opening it, what the page holds, scrolling through it.
    sign_in_as(browser, &base, TALKER).await?;
    load(browser, &base).await?;
    browser.client.execute(TIME_TO_FRAME, Vec::new()).await?;
    let open_script = format!(
        r#"const start = performance.now();
           document.getElementById('tab-chat').click();
           const wait = () => {{
               const bodies = document.querySelectorAll('.transcript .body');
               const shown = bodies.length && bodies[bodies.length - 1].textContent === {last};
               if (shown) requestAnimationFrame(() => setTimeout(() => {{ window.__bench = {{ms: performance.now() - start}}; }}, 0));
               else if (performance.now() - start > 60000) {{
                   const view = document.querySelector('.transcript');
                   window.__bench = {{error: 'the last message never showed', lines: bodies.length,
                       last: bodies.length ? bodies[bodies.length - 1].textContent.slice(0, 40) : null,
                       view: view && [view.scrollTop, view.scrollHeight, view.clientHeight]}};
               }}
               else requestAnimationFrame(wait);
           }};
           wait();"#,
        last = serde_json::to_string(&long_chat.last)?
    );
    let first = in_page(browser, "opening the long chat", &open_script).await?;
    timings.chat_first_open = first["ms"].as_f64().unwrap_or(f64::NAN);
    for _ in 0..sizes.renders {
        browser
            .client
            .find(Locator::Id("tab-status"))
            .await?
            .click()
            .await?;
        let again = in_page(browser, "opening the long chat again", &open_script).await?;
        timings
            .chat_opens
            .push(again["ms"].as_f64().unwrap_or(f64::NAN));
    }
    let dom = browser
        .client
        .execute(
            "return [document.querySelectorAll('.transcript li').length, document.querySelectorAll('.transcript *').length];",
            Vec::new(),
        )
        .await?;
    timings.chat_lines_in_dom = dom[0].as_u64().unwrap_or_default() as usize;
    timings.chat_nodes_in_dom = dom[1].as_u64().unwrap_or_default() as usize;
    // Up to the first message: the console holds the latest page, and loads the pages
    // before it as the view nears its top (protocol 2), so the frames include those loads.
    let scroll_script = format!(
        r#"const view = document.querySelector('.transcript');
           const frames = [];
           const started = performance.now();
           let last = started;
           const step = Math.max(200, view.clientHeight);
           let travelled = 0;
           // At the top with the first message for a few frames in a row: a page of
           // older messages can show at the top for a frame before the view moves back
           // to the message that was being read.
           let settled = 0;
           const tick = now => {{
               frames.push(now - last);
               last = now;
               const top = view.querySelector('li:first-child .body');
               settled = view.scrollTop <= 0 && top && top.textContent === {first} ? settled + 1 : 0;
               if (settled >= 10) {{
                   window.__bench = {{frames: frames.slice(1, frames.length - 9), travelled}};
                   return;
               }}
               if (now - started > 180000) {{
                   window.__bench = {{error: 'the first message never showed', top: top && top.textContent.slice(0, 40)}};
                   return;
               }}
               const before = view.scrollTop;
               view.scrollTop = Math.max(0, before - step);
               travelled += before - view.scrollTop;
               requestAnimationFrame(tick);
           }};
           requestAnimationFrame(now => {{ last = now; requestAnimationFrame(tick); }});"#,
        first = serde_json::to_string(&long_chat.first)?
    );
    let scrolled = in_page(browser, "scrolling through the long chat", &scroll_script).await?;
    timings.frames = numbers(&scrolled["frames"]);
    timings.scrolled_px = scrolled["travelled"].as_f64().unwrap_or_default();
    // The last page's lines are measured a frame or two after they show: the view
    // settles at the top.
    let first = long_chat.first.clone();
    eventually(
        "the first message at the top once the view settles",
        std::time::Duration::from_secs(5),
        || async {
            let top = browser.text_of(".transcript li:first-child .body").await?;
            Ok((top == first).then_some(()))
        },
    )
    .await?;
    eprintln!("console benchmark: long chat measured");
    Ok(timings)
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut values = values.to_vec();
    values.sort_by(|a, b| a.total_cmp(b));
    values
}

/// The value at fraction `p` of the sorted values (nearest rank).
fn percentile(values: &[f64], p: f64) -> f64 {
    let values = sorted(values);
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn goal(met: bool) -> &'static str {
    if met { "**met**" } else { "**not met**" }
}

fn report(size: &ConsoleSize, t: &Timings, options: &Options) -> String {
    let sizes = options.sizes;
    let mut out = String::new();
    let mode = if options.smoke {
        " (smoke run: small sizes)"
    } else {
        ""
    };
    out.push_str("## Console\n\n");
    out.push_str(&format!(
        "Measured{mode} by `cargo bench -p console-e2e --bench console` on the release build in \
         `dist/` (after wasm-opt; gzip and brotli at their best settings; 1 KB = 1000 bytes), served by the real local \
         server on localhost and driven in headless Chromium through chromedriver; times are taken \
         in the page with `performance.now()`, from a change made at the start of a frame \
         (`requestAnimationFrame`) until that frame is rendered with it, and navigation from the Navigation Timing start to the console's \
         `performance.mark(\"console-interactive\")`. A directory of {} agents in one group and a chat of \
         {} messages are written into the server's store before it starts, and, for sign-in after \
         a year, an agent with {} past chats behind her (a tenant each).\n\n",
        sizes.agents,
        sizes.messages,
        sizes
            .histories
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str("| measure | value |\n|---|---|\n");
    out.push_str(&format!(
        "| WASM after wasm-opt: raw / gzip / brotli | {} / {} / {} |\n",
        kb(size.wasm_raw),
        kb(size.wasm_gzip),
        kb(size.wasm_brotli)
    ));
    out.push_str(&format!(
        "| whole console, brotli ({} files: wasm, js, css, html) | {} |\n",
        size.files,
        kb(size.all_brotli)
    ));
    out.push_str(&format!(
        "| navigation to interactive console, median / max of {} loads | {:.0} ms / {:.0} ms |\n",
        t.loads.len(),
        median(&t.loads),
        max(&t.loads)
    ));
    for (past, loads) in &t.year_loads {
        out.push_str(&format!(
            "| with {past} past chats (ended, two messages each): navigation to interactive, median / max of {} loads | {:.0} ms / {:.0} ms |\n",
            loads.len(),
            median(loads),
            max(loads)
        ));
    }
    out.push_str(&format!(
        "| agent list of {} agents: render (tab switch to painted), median / max of {} | {:.1} ms / {:.1} ms |\n",
        t.listed,
        t.list_renders.len(),
        median(&t.list_renders),
        max(&t.list_renders)
    ));
    out.push_str(&format!(
        "| agent list: filter keystroke to painted frame, median / max of {} | {:.1} ms / {:.1} ms |\n",
        t.keystrokes.len(),
        median(&t.keystrokes),
        max(&t.keystrokes)
    ));
    out.push_str(&format!(
        "| agent list: rows in the DOM | {} of {} |\n",
        t.list_rows, t.listed
    ));
    out.push_str(&format!(
        "| chat of {} messages: first open after sign-in (the resume included) | {:.0} ms |\n",
        sizes.messages, t.chat_first_open
    ));
    out.push_str(&format!(
        "| chat: open again, median / max of {} | {:.1} ms / {:.1} ms |\n",
        t.chat_opens.len(),
        median(&t.chat_opens),
        max(&t.chat_opens)
    ));
    out.push_str(&format!(
        "| chat: messages / elements in the DOM | {} / {} |\n",
        t.chat_lines_in_dom, t.chat_nodes_in_dom
    ));
    out.push_str(&format!(
        "| chat: scrolling {:.0} px to the top, a screenful a frame: frame gap p50 / p99 / max ({} frames) | {:.1} / {:.1} / {:.1} ms |\n",
        t.scrolled_px,
        t.frames.len(),
        median(&t.frames),
        percentile(&t.frames, 0.99),
        max(&t.frames)
    ));
    out.push('\n');
    let all_kb = size.all_brotli as f64 / 1000.0;
    out.push_str(&format!(
        "- Goal: whole console < 150 KB brotli — {} ({all_kb:.1} KB)\n",
        goal(all_kb < 150.0)
    ));
    let load = median(&t.loads);
    out.push_str(&format!(
        "- Goal: interactive < 300 ms after navigation — {} (median {load:.0} ms)\n",
        goal(load < 300.0)
    ));
    if let (Some((fewest, few_loads)), Some((most, most_loads))) =
        (t.year_loads.first(), t.year_loads.last())
    {
        let ratio = median(most_loads) / median(few_loads);
        out.push_str(&format!(
            "- Goal: sign-in with {most} past chats within {FLAT}× of {fewest} in the same run — {} (median {:.0} ms against {:.0} ms: {ratio:.2}×)\n",
            goal(ratio <= FLAT),
            median(most_loads),
            median(few_loads)
        ));
    }
    let worst_key = max(&t.keystrokes);
    out.push_str(&format!(
        "- Goal: filter keystroke < 16 ms with {} agents — {} (max {worst_key:.1} ms, median {:.1} ms)\n",
        t.listed,
        goal(worst_key < 16.0),
        median(&t.keystrokes)
    ));
    let worst_frame = max(&t.frames);
    let windowed = t.chat_lines_in_dom < sizes.messages.min(400);
    out.push_str(&format!(
        "- Goal: no frame over {JANK_MS:.0} ms scrolling {} messages, and only a window of them in the DOM — {} (max frame {worst_frame:.1} ms; {} of {} messages in the DOM)\n",
        sizes.messages,
        goal(worst_frame <= JANK_MS && windowed),
        t.chat_lines_in_dom,
        sizes.messages
    ));
    out
}
