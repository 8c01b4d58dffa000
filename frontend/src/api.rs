//! All network code of the console: the HTTP API and the WebSocket link.

use crate::config;
use crate::fetch::{Answer, fetch};
use crate::socket::Socket;
use crate::state::{ConsoleState, HistoryPaging, Missing, Notice, may_reveal_gap};
use crate::wire::{self, FromJson};
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::future::{self, Either};
use futures::{FutureExt, StreamExt};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::http::{
    AgentList, ChatList, Me, MessagePage, Transcript, TranscriptList, TranscriptReads, WsTicket,
};
use protocol::{AgentView, ChatId, ClientFrame, ErrorBody, PROTOCOL_VERSION, ServerFrame};
use std::sync::{Arc, Mutex};

/// How many messages one catch-up request asks for (the server's most).
const HISTORY_PAGE: u32 = 500;

/// How many messages a chat's latest page, or a page of older ones, holds: what the chat
/// window shows first and adds as it scrolls up.
const LATEST_PAGE: u32 = 50;

/// How many chats a page of the History list holds.
const HISTORY_CHATS: u32 = 20;

/// How many open chats a page of the rest of a `welcome` holds (the server's most).
const OPEN_CHATS: u32 = 50;

/// How long a gap may take to close by itself before it is fetched. Pushes from
/// concurrent handler invocations (and the resume after a reconnect) can arrive out of
/// order, a few milliseconds apart; a lost push never arrives.
const GAP_SETTLE_MS: u32 = 250;

/// At most this many frames already received are applied in one update.
const MAX_BATCH: usize = 2_000;

/// A failed API call: a sentence to show, and whether the session is no longer valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    pub message: String,
    pub unauthorized: bool,
}

impl ApiFailure {
    fn network(error: impl std::fmt::Display) -> Self {
        ApiFailure {
            message: format!("the server cannot be reached ({error})"),
            unauthorized: false,
        }
    }
}

/// The body of a successful answer; otherwise the failure, with the server's own
/// sentence when it gave one. Not generic, so it is compiled once for all calls.
fn body(answer: Result<Answer, String>) -> Result<String, ApiFailure> {
    let answer = answer.map_err(ApiFailure::network)?;
    if answer.ok() {
        return answer.body.map_err(ApiFailure::network);
    }
    let status = answer.status;
    let refusal = answer
        .body
        .ok()
        .and_then(|text| wire::parse::<ErrorBody>(&text));
    let message = match refusal {
        Some(body) => body.message,
        None => format!("the server answered {status}"),
    };
    Err(ApiFailure {
        message,
        unauthorized: status == 401,
    })
}

fn read<T: FromJson>(answer: Result<Answer, String>) -> Result<T, ApiFailure> {
    let body = body(answer)?;
    wire::parse(&body).ok_or_else(|| ApiFailure::network("its answer is not of the expected shape"))
}

/// Calls an API path (`/api/...`) with the bearer token.
async fn call(method: &str, path: &str, token: &str) -> Result<Answer, String> {
    let authorization = format!("Bearer {token}");
    let headers = [("Authorization", authorization.as_str())];
    fetch(method, &config::api(path), &headers, None).await
}

/// Who a bearer token speaks for.
pub async fn me(token: &str) -> Result<Me, ApiFailure> {
    read(call("GET", "/api/me", token).await)
}

/// The agents the signed-in agent can see.
pub async fn agents(token: &str) -> Result<Vec<AgentView>, ApiFailure> {
    let list: AgentList = read(call("GET", "/api/agents", token).await)?;
    Ok(list.agents)
}

/// A page of a chat's messages, in order: `after=N` (what follows N) or `before=N` (the
/// last ones before N), with its `limit`.
async fn chat_messages(token: &str, chat: &ChatId, query: &str) -> Result<MessagePage, ApiFailure> {
    let path = format!("/api/chats/{chat}/messages?{query}");
    read(call("GET", &path, token).await)
}

/// The transcripts matching a query string (`agent=…&group=…&from=…&to=…&q=…`).
pub async fn transcripts(token: &str, query: &str) -> Result<TranscriptList, ApiFailure> {
    let path = format!("/api/transcripts?{query}");
    read(call("GET", &path, token).await)
}

/// A page of a transcript: its messages after number `after`.
pub async fn transcript(token: &str, chat: &ChatId, after: u64) -> Result<Transcript, ApiFailure> {
    let path = format!("/api/transcripts/{chat}?after={after}");
    read(call("GET", &path, token).await)
}

/// The latest reads of a transcript by supervisors (its audit trail's first page).
pub async fn transcript_reads(token: &str, chat: &ChatId) -> Result<TranscriptReads, ApiFailure> {
    read(call("GET", &format!("/api/transcripts/{chat}/reads"), token).await)
}

/// A transcript's download (`text` or `json`) as text.
pub async fn transcript_download(
    token: &str,
    chat: &ChatId,
    format: &str,
) -> Result<String, ApiFailure> {
    let path = format!("/api/transcripts/{chat}/download?format={format}");
    let answer = call("GET", &path, token)
        .await
        .map_err(ApiFailure::network)?;
    if !answer.ok() {
        return Err(ApiFailure {
            message: format!("the download failed ({})", answer.status),
            unauthorized: answer.status == 401,
        });
    }
    answer.body.map_err(ApiFailure::network)
}

/// Encodes a query string value.
pub fn query_value(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

async fn ws_ticket(token: &str) -> Result<WsTicket, ApiFailure> {
    read(call("POST", "/api/ws-ticket", token).await)
}

/// The state of the WebSocket link, for the connection banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Online,
    Offline,
}

/// The signals the link writes into.
#[derive(Clone, Copy, Debug)]
pub struct LinkTargets {
    pub state: RwSignal<ConsoleState>,
    pub link: RwSignal<Link>,
    /// Notices from the server (an incoming message, a refusal, ...) not yet acted on,
    /// oldest first.
    pub notices: RwSignal<Vec<Notice>>,
    /// Set when the server no longer accepts the session.
    pub signed_out: RwSignal<bool>,
    /// The chat chosen for the chat window: a reconnect resumes it, open or ended.
    pub selected: RwSignal<Option<ChatId>>,
}

/// Opens the WebSocket link and keeps it open: it reconnects by itself with a growing
/// pause, resumes from the last sequence numbers held, and sends again what was not
/// acknowledged. Returns the sender for client frames, and what fetches the messages a
/// chat lacks.
pub fn open_link(token: String, targets: LinkTargets) -> (UnboundedSender<ClientFrame>, CatchUp) {
    let (outbound, inbound) = unbounded::<ClientFrame>();
    let catch_up = CatchUp {
        token,
        targets,
        running: Arc::default(),
    };
    spawn_local(run_link(catch_up.clone(), inbound));
    (outbound, catch_up)
}

async fn run_link(catch_up: CatchUp, mut outbound: UnboundedReceiver<ClientFrame>) {
    let (token, targets) = (catch_up.token.clone(), catch_up.targets);
    let mut pause_ms = 250;
    loop {
        targets.link.set(Link::Connecting);
        let ticket = match ws_ticket(&token).await {
            Ok(ticket) => ticket,
            Err(failure) if failure.unauthorized => {
                targets.signed_out.set(true);
                return;
            }
            Err(_) => {
                targets.link.set(Link::Offline);
                TimeoutFuture::new(pause_ms).await;
                pause_ms = (pause_ms * 2).min(10_000);
                continue;
            }
        };
        let Some(mut socket) = Socket::open(&config::socket(&ticket.ticket)) else {
            targets.link.set(Link::Offline);
            TimeoutFuture::new(pause_ms).await;
            continue;
        };
        // Frames handed over while the link was down are dropped: the outbox below holds
        // every message among them. From here on, what is handed over goes out after
        // the `hello`, even before the `welcome` comes back.
        loop {
            match outbound.next().now_or_never() {
                Some(Some(_)) => continue,
                Some(None) => return,
                None => break,
            }
        }
        let shown = targets.selected.get_untracked();
        targets.state.update(|s| s.shown = shown);
        let hello = ClientFrame::Hello {
            protocol: PROTOCOL_VERSION,
            resume: targets.state.with_untracked(|s| s.resume_points()),
        };
        let mut frames = vec![hello];
        frames.extend(
            targets
                .state
                .with_untracked(|s| s.outbox.iter().map(|o| o.frame()).collect::<Vec<_>>()),
        );
        let healthy =
            socket.opened().await && frames.iter().all(|frame| socket.send(&wire::print(frame)));
        if healthy {
            loop {
                // Whichever comes first: a frame from the server or one to send. The
                // socket does one thing at a time, so it needs no splitting.
                match future::select(socket.next(), outbound.next()).await {
                    Either::Left((incoming, _)) => {
                        // This frame and every one already waiting behind it (a resume
                        // brings thousands), applied in one update: one re-render.
                        let mut texts = Vec::new();
                        let mut open = true;
                        let mut next = Some(incoming);
                        while let Some(item) = next.take() {
                            match item {
                                Some(text) => texts.push(text),
                                None => {
                                    open = false;
                                    break;
                                }
                            }
                            if texts.len() < MAX_BATCH {
                                next = socket.next().now_or_never();
                            }
                        }
                        if !texts.is_empty() {
                            if targets.link.get_untracked() != Link::Online {
                                targets.link.set(Link::Online);
                                pause_ms = 250;
                            }
                            receive(&texts, &catch_up);
                        }
                        if !open {
                            break;
                        }
                    }
                    Either::Right((frame, _)) => match frame {
                        Some(frame) => {
                            if !socket.send(&wire::print(&frame)) {
                                break;
                            }
                        }
                        None => return,
                    },
                }
            }
        }
        targets.link.set(Link::Offline);
        TimeoutFuture::new(pause_ms).await;
        pause_ms = (pause_ms * 2).min(10_000);
    }
}

/// Applies received frames and acts on them. A frame that does not parse (a newer
/// server's, or a broken one) is dropped, and said so in the browser's console.
fn receive(texts: &[String], catch_up: &CatchUp) {
    let frames = texts
        .iter()
        .filter_map(|text| {
            let frame = wire::parse::<ServerFrame>(text);
            if frame.is_none() {
                let start: String = text.chars().take(200).collect();
                web_sys::console::warn_2(
                    &"a frame the console cannot read was dropped:".into(),
                    &start.into(),
                );
            }
            frame
        })
        .collect();
    catch_up.apply(frames);
}

/// Fetches over the HTTP API what the console lacks: the messages a lost push did not
/// bring, without waiting for the next reconnect's resume; a chat's latest page when none
/// of its messages is held, and older pages as the chat window scrolls up; the open chats
/// a `welcome` had no room for; the pages of the History list.
#[derive(Clone, Debug)]
pub struct CatchUp {
    token: String,
    targets: LinkTargets,
    /// The chats being fetched: one task per chat at a time.
    running: Arc<Mutex<Vec<ChatId>>>,
}

impl CatchUp {
    /// Applies frames in one update, passes their notices on, and starts catching up
    /// any chat they show to lack messages.
    fn apply(&self, frames: Vec<ServerFrame>) {
        let now = js_sys::Date::now() as i64;
        let mut notices = Vec::new();
        let mut touched = Vec::new();
        let mut more_open = None;
        self.targets.state.update(|state| {
            for frame in frames {
                if let ServerFrame::Welcome {
                    more_open: Some(cursor),
                    ..
                } = &frame
                {
                    more_open = Some(cursor.clone());
                }
                let shown = may_reveal_gap(&frame);
                let notice = state.apply(frame, now);
                if let Some((chat, seq)) = shown
                    && !touched.contains(&chat)
                    && state.lacks_before(&chat, seq)
                {
                    touched.push(chat);
                }
                if notice != Notice::None && !notices.contains(&notice) {
                    notices.push(notice);
                }
            }
        });
        self.tell(notices);
        for chat in touched {
            self.fill(chat);
        }
        if more_open.is_some() {
            spawn_local(self.clone().chats(true, more_open));
        }
    }

    /// Passes notices on to the console.
    fn tell(&self, notices: Vec<Notice>) {
        if !notices.is_empty() {
            self.targets.notices.update(|queue| queue.extend(notices));
        }
    }

    /// Catches `chat` up if it lacks messages, unless that is under way already.
    pub fn fill(&self, chat: ChatId) {
        if self
            .targets
            .state
            .with_untracked(|s| s.missing(&chat))
            .is_some()
        {
            self.start(chat, None);
        }
    }

    /// Loads the page of `chat`'s messages before the first one held, if older ones
    /// precede it.
    pub fn older(&self, chat: ChatId) {
        let before = self
            .targets
            .state
            .with_untracked(|s| s.chats.get(&chat).and_then(|entry| entry.older_before()));
        if before.is_some() {
            self.start(chat, before);
        }
    }

    fn start(&self, chat: ChatId, before: Option<u64>) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        if !running.contains(&chat) {
            running.push(chat.clone());
            spawn_local(self.clone().run(chat, before));
        }
    }

    /// Fetches the page before `before` if asked, then what `chat` lacks.
    async fn run(self, chat: ChatId, mut before: Option<u64>) {
        let state = self.targets.state;
        let held = move |chat: &ChatId| {
            state.with_untracked(|s| s.chats.get(chat).map(|entry| entry.held_through()))
        };
        // A gap first gets a moment to close by itself; while messages keep coming in (a
        // resume), it gets another.
        let mut watched = held(&chat);
        let mut settle = before.is_none();
        loop {
            if settle {
                TimeoutFuture::new(GAP_SETTLE_MS).await;
            }
            let missing = match before.take() {
                Some(before) => Missing::Before(before),
                None => match state.with_untracked(|s| s.missing(&chat)) {
                    Some(missing) => missing,
                    None => break,
                },
            };
            if settle && held(&chat) > watched {
                watched = held(&chat);
                continue;
            }
            let query = match missing {
                Missing::After(after) => format!("after={after}&limit={HISTORY_PAGE}"),
                Missing::Before(before) => format!("before={before}&limit={LATEST_PAGE}"),
            };
            let page = match chat_messages(&self.token, &chat, &query).await {
                Ok(page) if !page.messages.is_empty() => page,
                // Nothing there, or the server cannot be reached: the next push or
                // reconnect tries again.
                _ => break,
            };
            let more = page.more;
            match missing {
                // Applied as the pushes they stand for (the catch-up of this chat is
                // under way, so they start no other).
                Missing::After(_) => self.apply(
                    page.messages
                        .into_iter()
                        .map(|message| ServerFrame::Message {
                            message,
                            chat: None,
                            pending_chats: None,
                        })
                        .collect(),
                ),
                // What was said before: no notice.
                Missing::Before(_) => state.update(|s| s.add_messages(page.messages)),
            }
            watched = held(&chat);
            settle = matches!(missing, Missing::After(_)) && !more;
        }
        if let Ok(mut running) = self.running.lock() {
            running.retain(|running| *running != chat);
        }
    }

    /// Loads the next page of the History list, unless one is on its way or every page
    /// is there.
    pub fn more_history(&self) {
        let state = self.targets.state;
        let cursor = match state.with_untracked(|s| s.history_paging.clone()) {
            HistoryPaging::NotLoaded => None,
            HistoryPaging::More(cursor) => Some(cursor),
            HistoryPaging::Loading | HistoryPaging::Complete => return,
        };
        state.update(|s| s.history_paging = HistoryPaging::Loading);
        spawn_local(self.clone().chats(false, cursor));
    }

    /// Fetches pages of my chats from `cursor`: every open one a `welcome` had no room
    /// for (if the server cannot be reached, the next reconnect's welcome tries again),
    /// or one page of the ended ones for the History list.
    async fn chats(self, open: bool, mut cursor: Option<String>) {
        let state = self.targets.state;
        loop {
            let (status, limit) = if open {
                ("open", OPEN_CHATS)
            } else {
                ("ended", HISTORY_CHATS)
            };
            let mut path = format!("/api/chats?status={status}&limit={limit}");
            if let Some(cursor) = &cursor {
                path.push_str("&cursor=");
                path.push_str(&query_value(cursor));
            }
            let page = read::<ChatList>(call("GET", &path, &self.token).await);
            let ChatList { chats, next } = match page {
                Ok(page) => page,
                Err(failure) => {
                    if !open {
                        state.update(|s| {
                            s.history_paging =
                                cursor.map_or(HistoryPaging::NotLoaded, HistoryPaging::More)
                        });
                        self.tell(vec![Notice::Refused(failure.message)]);
                    }
                    return;
                }
            };
            let last = next.is_none();
            if open {
                state.update(|s| s.open_page(chats, last));
            } else {
                state.update(|s| s.history_page(chats, next));
                return;
            }
            if last {
                return;
            }
            cursor = next;
        }
    }
}
