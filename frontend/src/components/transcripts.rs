//! The supervisor's Transcripts view: search the chats of her tenant by text, agent,
//! group and time, a page at a time (the server says how far back each page looked);
//! read one; download it as text or JSON.

use crate::api;
use crate::components::context::ConsoleContext;
use crate::format;
use crate::live::{handler, live, live_view};
use crate::sorting::stable_sort_by;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::ChatId;
use protocol::http::{ReadKind, Transcript, TranscriptReadView, TranscriptSummary};
use wasm_bindgen::JsCast;

/// Milliseconds since the epoch of a `yyyy-mm-dd` date input (local midnight), plus
/// `extra_ms`.
fn date_ms(value: &str, extra_ms: f64) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    let parsed = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&format!(
        "{value}T00:00:00"
    )));
    let ms = parsed.get_time();
    (!ms.is_nan()).then_some((ms + extra_ms) as i64)
}

/// Saves `text` as a file named `name` through a temporary link.
fn save_file(name: &str, text: &str, mime: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(link) = document().create_element("a")
        && let Ok(link) = link.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        link.set_href(&url);
        link.set_download(name);
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The Transcripts view.
#[component]
pub fn Transcripts() -> impl IntoView {
    let ctx = ConsoleContext::current();
    let (text, agent, group, from, to) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let results = RwSignal::new(None::<Vec<TranscriptSummary>>);
    // The query of the results shown, and where their next page starts.
    let shown = RwSignal::new(String::new());
    let next = RwSignal::new(None::<String>);
    // How far back the last page looked, as shown ("2026-12-06 14:02"), if it says.
    let searched_to = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let open = RwSignal::new(None::<Transcript>);
    let problem = RwSignal::new(None::<String>);
    let page_token = ctx.token.clone();
    // Fetches the page of `query` at `cursor`: the first replaces the results, a later
    // one adds to them.
    let fetch = move |query: String, cursor: Option<String>| {
        let token = page_token.clone();
        busy.set(true);
        spawn_local(async move {
            let path = match &cursor {
                Some(cursor) => format!("{query}&cursor={}", api::query_value(cursor)),
                None => query.clone(),
            };
            match api::transcripts(&token, &path).await {
                Ok(list) => {
                    problem.set(None);
                    shown.set(query);
                    next.set(list.next);
                    searched_to.set(
                        list.searched_to
                            .map(|at| format!("{} {}", format::date(at), format::clock_time(at))),
                    );
                    if cursor.is_some() {
                        results.update(|r| r.get_or_insert_default().extend(list.transcripts));
                    } else {
                        results.set(Some(list.transcripts));
                    }
                }
                Err(failure) => problem.set(Some(failure.message)),
            }
            busy.set(false);
        });
    };
    let first_page = fetch.clone();
    let search = move || {
        let mut query = Vec::new();
        for (name, value) in [
            ("q", text.get_untracked()),
            ("agent", agent.get_untracked()),
            ("group", group.get_untracked()),
        ] {
            if !value.is_empty() {
                query.push(format!("{name}={}", api::query_value(&value)));
            }
        }
        if let Some(ms) = date_ms(&from.get_untracked(), 0.0) {
            query.push(format!("from={ms}"));
        }
        if let Some(ms) = date_ms(&to.get_untracked(), 86_399_999.0) {
            query.push(format!("to={ms}"));
        }
        first_page(query.join("&"), None);
    };
    let further = move |_| {
        if let Some(cursor) = next.get_untracked() {
            fetch(shown.get_untracked(), Some(cursor));
        }
    };
    let searching_text = move || shown.with(|q| q.split('&').any(|p| p.starts_with("q=")));
    let initial = search.clone();
    initial();
    let on_submit = {
        let search = search.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            search();
        }
    };
    view! {
        <section class="transcripts" aria-label="Transcripts">
            <SearchForm text agent group from to on_submit />
            {live_view(move || problem.get().map(|p| view! { <p class="alert" role="alert">{p}</p> }))}
            <table class="transcript-list" aria-label="Transcripts found">
                <thead>
                    <tr>
                        <th scope="col">"Agents"</th>
                        <th scope="col">"Groups"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Messages"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {live_view(move || results.get().unwrap_or_default().into_iter().map(|found| view! {
                        <FoundRow found open problem />
                    }).map(IntoAny::into_any).collect_view())}
                </tbody>
            </table>
            {live_view(move || (results.get().is_some_and(|r| r.is_empty()) && next.get().is_none()).then(|| view! { <p class="empty">"No transcripts match."</p> }))}
            <p class="searched" role="status">
                {live(move || {
                    let found = results.with(|r| r.as_ref().map_or(0, Vec::len));
                    match (next.get(), searched_to.get()) {
                        (Some(_), Some(since)) => format!(
                            "{} so far: looked at the chats started since {since}.",
                            format::counted(found, "transcript", "transcripts"),
                        ),
                        (Some(_), None) => format!("{} so far.", format::counted(found, "transcript", "transcripts")),
                        (None, _) => String::new(),
                    }
                })}
            </p>
            {live_view(move || next.get().is_some().then(|| view! {
                <button class="quiet-dark" type="button" disabled=live(move || busy.get()) on:click=handler(further.clone())>
                    {live(move || if searching_text() { "Search further back" } else { "Show more" }.to_owned())}
                </button>
            }))}
            // Always there; it shows the transcript open, if any.
            <TranscriptReader open problem />
        </section>
    }
}

/// The search's filters: text, agent, group, and the days it spans.
#[component]
fn SearchForm(
    text: RwSignal<String>,
    agent: RwSignal<String>,
    group: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    on_submit: impl Fn(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let state = ConsoleContext::current().state;
    let agents = move || state.with(|s| s.agent_list());
    let groups = move || {
        let mut groups: Vec<String> = agents().into_iter().map(|a| a.group.to_string()).collect();
        if let Some(me) = state.with(|s| s.me.clone()) {
            groups.push(me.group.to_string());
        }
        stable_sort_by(&mut groups, |a, b| a.cmp(b));
        groups.dedup();
        groups
    };
    view! {
        <form class="transcript-filters" on:submit=handler(on_submit)>
            <label>"Search text"<input type="search" prop:value=live(move || text.get()) on:input=handler(move |ev| text.set(event_target_value(&ev))) /></label>
            <label>"Agent"
                <select on:change=handler(move |ev| agent.set(event_target_value(&ev)))>
                    <option value="">"Any agent"</option>
                    {live_view(move || agents().into_iter().map(|a| view! { <option value=a.id.to_string()>{a.name}</option> }).map(IntoAny::into_any).collect_view())}
                </select>
            </label>
            <label>"Group"
                <select on:change=handler(move |ev| group.set(event_target_value(&ev)))>
                    <option value="">"Any group"</option>
                    {live_view(move || groups().into_iter().map(|g| view! { <option value=g.clone()>{g.clone()}</option> }).map(IntoAny::into_any).collect_view())}
                </select>
            </label>
            <label>"From"<input type="date" on:change=handler(move |ev| from.set(event_target_value(&ev))) /></label>
            <label>"To"<input type="date" on:change=handler(move |ev| to.set(event_target_value(&ev))) /></label>
            <button class="primary" type="submit">"Search"</button>
        </form>
    }
}

/// A transcript found: who, which groups, when, how long, and Read, Text and JSON.
#[component]
fn FoundRow(
    found: TranscriptSummary,
    open: RwSignal<Option<Transcript>>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let token = ConsoleContext::current().token;
    let names = found
        .participants
        .iter()
        .map(|p| p.name.clone())
        .collect::<Vec<_>>()
        .join(" · ");
    let mut groups: Vec<String> = found
        .participants
        .iter()
        .map(|p| p.group.to_string())
        .collect();
    groups.dedup();
    let id = found.id.clone();
    let read = {
        let (token, id) = (token.clone(), id.clone());
        move |_| {
            let (token, id) = (token.clone(), id.clone());
            spawn_local(async move {
                match api::transcript(&token, &id, 0).await {
                    Ok(transcript) => open.set(Some(transcript)),
                    Err(failure) => problem.set(Some(failure.message)),
                }
            });
        }
    };
    let download = move |format_name: &'static str| {
        let (token, id) = (token.clone(), id.clone());
        move |_| {
            let (token, id) = (token.clone(), id.clone());
            spawn_local(async move {
                match api::transcript_download(&token, &id, format_name).await {
                    Ok(body) => {
                        let (extension, mime) = if format_name == "json" {
                            ("json", "application/json")
                        } else {
                            ("txt", "text/plain")
                        };
                        save_file(&format!("chat-{id}.{extension}"), &body, mime);
                    }
                    Err(failure) => problem.set(Some(failure.message)),
                }
            });
        }
    };
    view! {
        <tr>
            <td>{names.clone()}</td>
            <td>{groups.join(", ")}</td>
            <td>{format!("{} {}", format::date(found.started_at), format::clock_time(found.started_at))}</td>
            <td class="numeric">{found.messages}</td>
            <td>{if found.status == protocol::ChatStatus::Ended { "Ended" } else { "Open" }}</td>
            <td class="row-actions">
                <button class="quiet-dark" aria-label=format!("Read the chat of {names}") on:click=handler(read)>"Read"</button>
                <button class="quiet-dark" aria-label=format!("Download the chat of {names} as text") on:click=handler(download("text"))>"Text"</button>
                <button class="quiet-dark" aria-label=format!("Download the chat of {names} as JSON") on:click=handler(download("json"))>"JSON"</button>
            </td>
        </tr>
    }
}

/// The transcript being read, a page at a time (Show more messages), and Close.
#[component]
fn TranscriptReader(
    open: RwSignal<Option<Transcript>>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let token = ConsoleContext::current().token;
    // The next page of the transcript being read, added below what is shown.
    let read_more = move |_| {
        let Some((id, after)) =
            open.with_untracked(|t| t.as_ref().and_then(|t| Some((t.chat.id.clone(), t.next?))))
        else {
            return;
        };
        let token = token.clone();
        spawn_local(async move {
            match api::transcript(&token, &id, after).await {
                Ok(page) => open.update(|shown| {
                    if let Some(shown) = shown.as_mut().filter(|t| t.chat.id == id) {
                        shown.messages.extend(page.messages);
                        shown.next = page.next;
                    }
                }),
                Err(failure) => problem.set(Some(failure.message)),
            }
        });
    };
    live_view(move || {
        open.get().map(|t| {
        let names: Vec<(protocol::AgentId, String)> = t.chat.participants.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
        let title = names.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join(" and ");
        view! {
            <article class="transcript-reader" aria-label=format!("Transcript of {title}")>
                <h2>{format!("Chat between {title}")}</h2>
                {t.chat.interaction.clone().map(|i| view! { <p class="interaction">{format!("About interaction {i}")}</p> }.into_any())}
                <div class="transcript"><ol>
                    {t.messages.into_iter().map(|m| {
                        let who = names.iter().find(|(id, _)| *id == m.from).map(|(_, n)| n.clone()).unwrap_or_else(|| m.from.to_string());
                        view! {
                            <li class="theirs">
                                <div class="meta"><span class="sender">{who}</span>" "<span class="time">{format!("{} {} · #{}", format::date(m.sent_at), format::clock_time(m.sent_at), m.seq)}</span></div>
                                <div class="body">{m.body}</div>
                            </li>
                        }
                    }).map(IntoAny::into_any).collect_view()}
                </ol></div>
                {t.next.map(|_| view! { <button class="quiet-dark" on:click=handler(read_more.clone())>"Show more messages"</button> })}
                <ReadsOf chat=t.chat.id.clone() problem />
                <button class="quiet-dark" on:click=handler(move |_| open.set(None))>"Close transcript"</button>
            </article>
        }
    })
    })
}

/// The transcript's audit trail, on request: who has read or downloaded it, when, and
/// which messages (its latest reads; this one among them).
#[component]
fn ReadsOf(chat: ChatId, problem: RwSignal<Option<String>>) -> impl IntoView {
    let token = ConsoleContext::current().token;
    // Kept as the text shown (a String signal, the type the console's texts share).
    let reads = RwSignal::new(String::new());
    let show = move |_| {
        let (token, chat) = (token.clone(), chat.clone());
        spawn_local(async move {
            match api::transcript_reads(&token, &chat).await {
                Ok(page) => reads.set(lines_of(&page.reads)),
                Err(failure) => problem.set(Some(failure.message)),
            }
        });
    };
    view! {
        <button class="quiet-dark" on:click=handler(show)>"Who has read it"</button>
        // One text, a line per read: cheaper in the WASM than a view per read.
        <p class="reads" aria-live="polite">{live(move || reads.get())}</p>
    }
}

/// Each read as a line: who did what to which messages, when.
fn lines_of(reads: &[TranscriptReadView]) -> String {
    let mut text = String::new();
    for read in reads {
        let did = if read.kind == ReadKind::Download {
            "downloaded"
        } else {
            "read"
        };
        let what = if read.to == 0 {
            "no messages".to_owned()
        } else {
            format!("messages {}–{}", read.from, read.to)
        };
        text.push_str(&format!(
            "{} {did} {what} · {} {}\n",
            read.name,
            format::date(read.at),
            format::clock_time(read.at)
        ));
    }
    text
}
