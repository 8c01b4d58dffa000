//! A simulated Agent Console tab over a real WebSocket. Like the browser console it opens
//! its socket with a fresh single-use ticket, says `hello` with its resume points (per
//! chat, the last sequence number held without a gap), starts the chats it writes in,
//! sends with a window of unacknowledged messages, and when the socket goes it
//! reconnects by itself and sends again, with the same `client_msg_id`, whatever was not
//! acknowledged. It keeps everything it received and counts what a person would notice:
//! a message shown twice on one connection, out of order, or a gap.

use crate::support::dice::Dice;
use crate::support::http;
use console_domain::Identity;
use futures_util::{SinkExt, StreamExt};
use protocol::{AgentId, ChatId, ChatView, ClientFrame, ErrorCode, MessageView, ServerFrame};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One message a tab will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The other agent of the chat it goes to.
    pub to: AgentId,
    pub client_msg_id: String,
}

/// What one tab of one agent does, and what it should hold at the end.
#[derive(Debug, Clone)]
pub struct TabPlan {
    pub who: Identity,
    /// 0 for an agent's first tab, 1 for a second one (it only reads).
    pub tab: u32,
    /// The agents this tab starts a chat with (the others start theirs with it).
    pub starts: Vec<AgentId>,
    /// Sent in this order, each once its chat is known.
    pub sends: Vec<Outgoing>,
    /// Per chat partner: how many messages the chat holds at the end.
    pub expect: BTreeMap<AgentId, u64>,
}

/// How a tab behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// At most this many sends unacknowledged at once.
    pub window: usize,
    /// The chance of dropping the socket (no close frame) right after sending a message.
    pub drop_after_send: f64,
    /// Reconnect and resume when nothing new arrived this long while something is still
    /// missing — a person reloading a console that looks stuck. `None`: never.
    pub stall_resume: Option<Duration>,
    /// How long to wait before sending again a send refused as `internal` or
    /// `rate_limited`.
    pub retry_pause: Duration,
    /// At least this long between two new messages of one tab (a person does not type
    /// faster than the server's per-connection send quota).
    pub pace: Duration,
    /// The first message waits a random time below this once sending may start, so that
    /// paced tabs do not all send in step.
    pub start_within: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            window: 4,
            drop_after_send: 0.0,
            stall_resume: None,
            retry_pause: Duration::from_millis(100),
            pace: Duration::ZERO,
            start_within: Duration::ZERO,
        }
    }
}

/// An acknowledgement, as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRecord {
    pub who: Identity,
    pub chat: ChatId,
    pub client_msg_id: String,
    pub seq: u64,
}

/// What the tabs of one test share: where the server is, the gate that starts the
/// sending, the stop signal, the counters a test waits on.
#[derive(Debug, Clone)]
pub struct Shared {
    pub addr: SocketAddr,
    /// The time origin of the send times written into message bodies.
    pub epoch: std::time::Instant,
    /// A limit on unacknowledged sends over all tabs, if any.
    pub inflight: Option<Arc<Semaphore>>,
    /// No chat is started before this turns true.
    pub chats: watch::Receiver<bool>,
    /// No message is sent before this turns true.
    pub go: watch::Receiver<bool>,
    /// Every tab closes its socket and returns its report when this turns true.
    pub stop: watch::Receiver<bool>,
    /// Tabs that were welcomed at least once.
    pub welcomed: Arc<AtomicUsize>,
    /// Tabs that know every chat they expect.
    pub ready: Arc<AtomicUsize>,
    /// Tabs that hold everything they expect and had every send acknowledged.
    pub complete: Arc<AtomicUsize>,
    /// Sends acknowledged, over all tabs.
    pub acked: Arc<AtomicUsize>,
    /// Messages newly held, over all tabs.
    pub held: Arc<AtomicUsize>,
    /// Every acknowledgement, if a test wants them as they come.
    pub acks: Option<Arc<Mutex<Vec<AckRecord>>>>,
}

/// What a tab saw and holds.
#[derive(Debug, Default)]
pub struct Report {
    pub who: Option<Identity>,
    pub tab: u32,
    pub expect: BTreeMap<AgentId, u64>,
    /// Per chat partner, the chat.
    pub chats: BTreeMap<AgentId, ChatId>,
    /// Per chat, the messages held: sequence number → (sender, client message id).
    pub history: HashMap<ChatId, BTreeMap<u64, (AgentId, String)>>,
    /// Per client message id of this tab's sends: the chat and the acknowledged sequence.
    pub acked: BTreeMap<String, (ChatId, u64)>,
    /// Sends never acknowledged.
    pub unacked: usize,
    pub planned: usize,
    pub complete: bool,
    /// `message` frames received.
    pub deliveries: u64,
    /// The same message twice on one connection.
    pub duplicates: u64,
    /// A message held already, sent again on a later connection (a resume overlapping
    /// what arrived live: expected after a reconnect).
    pub redelivered: u64,
    /// A message after a later one of the same chat, on one connection.
    pub reordered: u64,
    /// A message that arrived more than one ahead of the latest held in its chat: the
    /// console saw a gap open.
    pub gaps: u64,
    /// Messages sent before a resume after a stall that the console got only through
    /// that resume: missed by the live pushes.
    pub missed_live: u64,
    /// Send to arrival, for the other agent's messages, in microseconds: from just before
    /// the sender's console builds its frame to when this console reads the pushed one
    /// (before taking it in).
    pub latencies_us: Vec<u64>,
    pub sends: u64,
    pub resends: u64,
    pub repeated_acks: u64,
    pub connects: u64,
    pub failed_connects: u64,
    pub dropped: u64,
    pub closed_by_server: u64,
    pub stall_resumes: u64,
    /// Refusals as `internal`, retried.
    pub retried_errors: u64,
    /// Refusals as `rate_limited`, retried.
    pub rate_limited: u64,
    /// Anything that must never happen: refusals of good frames, conflicting messages.
    pub problems: Vec<String>,
    /// The first few messages that arrived after a later one of their chat.
    pub reorder_examples: Vec<String>,
}

/// One unacknowledged send.
#[derive(Debug)]
struct Pending {
    body: String,
    /// When to send it again; `None` while it is on its way on the current socket.
    due: Option<Instant>,
}

/// How a socket's session ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Stop,
    Failed,
    Dropped,
    Closed,
    Stalled,
    Reset,
}

/// A tab: its plan, and what it holds across sockets.
struct Tab {
    plan: TabPlan,
    token: String,
    behaviour: Behaviour,
    dice: Dice,
    shared: Shared,
    report: Report,
    next: usize,
    pending: BTreeMap<usize, Pending>,
    index: HashMap<String, usize>,
    held_upto: HashMap<ChatId, u64>,
    progress: Instant,
    /// Welcomes received over all sockets.
    welcomes: u64,
    /// When the last new message was sent.
    last_new: Option<Instant>,
    /// When the first message may go (with [`Behaviour::start_within`]).
    first_at: Option<Instant>,
    /// The last socket ended in a stall.
    stalled: bool,
}

/// Runs a tab until the stop signal; returns what it saw and holds.
pub async fn run(
    plan: TabPlan,
    token: String,
    behaviour: Behaviour,
    dice: Dice,
    shared: Shared,
) -> Report {
    let index = plan
        .sends
        .iter()
        .enumerate()
        .map(|(i, out)| (out.client_msg_id.clone(), i))
        .collect();
    let report = Report {
        who: Some(plan.who.clone()),
        tab: plan.tab,
        expect: plan.expect.clone(),
        planned: plan.sends.len(),
        ..Report::default()
    };
    let mut tab = Tab {
        plan,
        token,
        behaviour,
        dice,
        shared,
        report,
        next: 0,
        pending: BTreeMap::new(),
        index,
        held_upto: HashMap::new(),
        progress: Instant::now(),
        welcomes: 0,
        last_new: None,
        first_at: None,
        stalled: false,
    };
    let mut pause = Duration::from_millis(20);
    loop {
        if *tab.shared.stop.borrow() {
            break;
        }
        let welcomes = tab.welcomes;
        let end = tab.session().await;
        if end == End::Stop {
            break;
        }
        if tab.welcomes > welcomes {
            pause = Duration::from_millis(20);
        }
        let mut stop = tab.shared.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            () = stopped(&mut stop) => break,
        }
        if end != End::Dropped {
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }
    tab.report.unacked = tab.pending.len() + (tab.plan.sends.len() - tab.next);
    tab.report.complete = tab.is_complete();
    tab.report
}

impl Tab {
    /// One socket, from its ticket to its end.
    async fn session(&mut self) -> End {
        let addr = self.shared.addr;
        let Ok(ticket) = http::ticket(addr, &self.token).await else {
            self.report.failed_connects += 1;
            return End::Failed;
        };
        let url = format!("ws://{addr}/ws?ticket={ticket}");
        let opened = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async_with_config(url, Some(socket_config()), false),
        )
        .await;
        let Ok(Ok((mut socket, _))) = opened else {
            self.report.failed_connects += 1;
            return End::Failed;
        };
        self.report.connects += 1;
        let resume = self
            .report
            .chats
            .values()
            .map(|chat| (chat.clone(), self.held_upto.get(chat).copied().unwrap_or(0)))
            .collect();
        if send(
            &mut socket,
            &ClientFrame::Hello {
                protocol: protocol::PROTOCOL_VERSION,
                resume,
            },
        )
        .await
        .is_err()
        {
            return End::Closed;
        }
        for pending in self.pending.values_mut() {
            pending.due = Some(Instant::now());
        }
        let mut session = Session {
            after_stall: self
                .stalled
                .then(|| self.shared.epoch.elapsed().as_micros() as u64),
            ..Session::default()
        };
        self.stalled = false;
        let mut stop = self.shared.stop.clone();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.progress = Instant::now();
        loop {
            let can_send = session.welcomed
                && *self.shared.go.borrow()
                && self.pending.len() < self.behaviour.window
                && self
                    .plan
                    .sends
                    .get(self.next)
                    .is_some_and(|out| self.report.chats.contains_key(&out.to));
            let inflight = self.shared.inflight.clone();
            if can_send && self.first_at.is_none() && !self.behaviour.start_within.is_zero() {
                let wait = self
                    .dice
                    .between(Duration::ZERO, self.behaviour.start_within);
                self.first_at = Some(Instant::now() + wait);
            }
            let paced = self
                .last_new
                .map(|at| at + self.behaviour.pace)
                .or(self.first_at);
            tokio::select! {
                biased;
                () = stopped(&mut stop) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                    return End::Stop;
                }
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        // A message's arrival is when its frame is read, before it is taken in.
                        let arrived = self.shared.epoch.elapsed().as_micros() as u64;
                        if let Some(end) = self.receive(text.as_str(), arrived, &mut session) {
                            return end;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                        self.report.closed_by_server += 1;
                        return End::Closed;
                    }
                    Some(Ok(_)) => {}
                },
                () = take_turn(paced, inflight), if can_send => {
                    let index = self.next;
                    self.next += 1;
                    let body = format!(
                        "{} {} #{index}: a caller asks about an order",
                        self.shared.epoch.elapsed().as_micros(),
                        self.plan.who.agent
                    );
                    self.pending.insert(index, Pending { body, due: None });
                    self.last_new = Some(Instant::now());
                    self.report.sends += 1;
                    if let Some(end) = self.transmit(&mut socket, index).await {
                        return end;
                    }
                }
                _ = tick.tick() => {
                    if let Some(end) = self.housekeeping(&mut socket, &mut session).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Sends (or sends again) the pending send `index`; may drop the socket right after.
    async fn transmit(&mut self, socket: &mut Socket, index: usize) -> Option<End> {
        let out = &self.plan.sends[index];
        let chat = self.report.chats.get(&out.to)?.clone();
        let pending = self.pending.get_mut(&index)?;
        pending.due = None;
        let frame = ClientFrame::Send {
            chat_id: chat,
            client_msg_id: out.client_msg_id.clone(),
            body: pending.body.clone(),
        };
        if send(socket, &frame).await.is_err() {
            return Some(End::Closed);
        }
        if self.dice.chance(self.behaviour.drop_after_send) {
            self.report.dropped += 1;
            return Some(End::Dropped);
        }
        None
    }

    /// Every 50 ms: start missing chats, send again what is due, and watch for a stall.
    async fn housekeeping(&mut self, socket: &mut Socket, session: &mut Session) -> Option<End> {
        if !session.welcomed || !*self.shared.chats.borrow() {
            return None;
        }
        let wanted: Vec<AgentId> = self
            .plan
            .starts
            .iter()
            .filter(|to| !self.report.chats.contains_key(*to) && !session.asked.contains(*to))
            .cloned()
            .collect();
        for with in wanted {
            session.asked.insert(with.clone());
            let frame = ClientFrame::StartChat {
                with,
                interaction: None,
            };
            if send(socket, &frame).await.is_err() {
                return Some(End::Closed);
            }
        }
        let now = Instant::now();
        let due: Vec<usize> = self
            .pending
            .iter()
            .filter(|(i, p)| {
                p.due.is_some_and(|at| at <= now)
                    && self.report.chats.contains_key(&self.plan.sends[**i].to)
            })
            .map(|(i, _)| *i)
            .collect();
        for index in due {
            self.report.resends += 1;
            if let Some(end) = self.transmit(socket, index).await {
                return Some(end);
            }
        }
        if let Some(limit) = self.behaviour.stall_resume
            && self.progress.elapsed() > limit
            && !self.is_complete()
        {
            self.report.stall_resumes += 1;
            self.stalled = true;
            return Some(End::Stalled);
        }
        None
    }

    /// Takes in one server frame, read `arrived` µs after the epoch.
    fn receive(&mut self, text: &str, arrived: u64, session: &mut Session) -> Option<End> {
        let frame = match serde_json::from_str::<ServerFrame>(text) {
            Ok(frame) => frame,
            Err(error) => {
                self.report
                    .problems
                    .push(format!("an unreadable frame ({error}): {text}"));
                return None;
            }
        };
        match frame {
            ServerFrame::Welcome { chats, .. } => {
                session.welcomed = true;
                self.progress = Instant::now();
                self.welcomes += 1;
                if self.welcomes == 1 {
                    self.shared.welcomed.fetch_add(1, Ordering::SeqCst);
                }
                for chat in chats {
                    self.learn(chat);
                }
            }
            ServerFrame::Chat { chat, .. } | ServerFrame::ChatStarted { chat } => {
                self.learn(chat);
            }
            ServerFrame::Message { message, chat, .. } => {
                self.hold(message, arrived, session);
                if let Some(chat) = chat {
                    self.learn(chat);
                }
            }
            ServerFrame::Ack {
                chat_id,
                client_msg_id,
                seq,
                sent_at,
                chat,
                ..
            } => {
                // The sending socket gets no `message` of its own send (protocol 3): the
                // acknowledgement stands for it, as in the console.
                let sent = self
                    .index
                    .get(&client_msg_id)
                    .and_then(|index| self.pending.get(index))
                    .map(|pending| pending.body.clone());
                if let Some(body) = sent {
                    let own = MessageView {
                        chat_id: chat_id.clone(),
                        seq,
                        from: self.plan.who.agent.clone(),
                        body,
                        sent_at: sent_at.unwrap_or_default(),
                        client_msg_id: client_msg_id.clone(),
                    };
                    self.hold(own, arrived, session);
                }
                self.acknowledged(chat_id, client_msg_id, seq);
                if let Some(chat) = chat {
                    self.learn(chat);
                }
            }
            ServerFrame::Error {
                code,
                message,
                client_msg_id,
            } => match (code, client_msg_id) {
                (code @ (ErrorCode::Internal | ErrorCode::RateLimited), Some(id)) => {
                    if code == ErrorCode::RateLimited {
                        self.report.rate_limited += 1;
                    } else {
                        self.report.retried_errors += 1;
                    }
                    if let Some(pending) = self
                        .index
                        .get(&id)
                        .and_then(|index| self.pending.get_mut(index))
                    {
                        pending.due = Some(Instant::now() + self.behaviour.retry_pause);
                    }
                }
                (ErrorCode::Internal, None) => {
                    // A hello or a start_chat failed; which one, the console cannot
                    // tell: it starts over on a new socket.
                    self.report.retried_errors += 1;
                    return Some(End::Reset);
                }
                (code, id) => self
                    .report
                    .problems
                    .push(format!("refused ({code:?}, {id:?}): {message}")),
            },
            ServerFrame::Agent { .. }
            | ServerFrame::Typing { .. }
            | ServerFrame::Seen { .. }
            | ServerFrame::Help { .. }
            | ServerFrame::Pong => {}
        }
        self.check_complete();
        None
    }

    fn learn(&mut self, chat: ChatView) {
        let partner = chat.with.id.clone();
        if !self.plan.expect.contains_key(&partner) {
            return;
        }
        match self.report.chats.get(&partner) {
            Some(known) if known != &chat.id => self
                .report
                .problems
                .push(format!("two chats with {partner}: {known} and {}", chat.id)),
            Some(_) => {}
            None => {
                self.report.chats.insert(partner, chat.id.clone());
                self.progress = Instant::now();
                if self.report.chats.len() == self.plan.expect.len() {
                    self.shared.ready.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn hold(&mut self, message: MessageView, arrived: u64, session: &mut Session) {
        self.report.deliveries += 1;
        let chat = message.chat_id.clone();
        if !session.seen.insert((chat.clone(), message.seq)) {
            self.report.duplicates += 1;
            return;
        }
        let last = session
            .last
            .entry(chat.clone())
            .or_insert_with(|| (0, AgentId::new("")));
        if message.seq < last.0 {
            self.report.reordered += 1;
            if self.report.reorder_examples.len() < 3 {
                self.report.reorder_examples.push(format!(
                    "chat {chat}: seq {} from {} arrived after seq {} from {}",
                    message.seq, message.from, last.0, last.1
                ));
            }
        } else {
            *last = (message.seq, message.from.clone());
        }
        let held = self.report.history.entry(chat.clone()).or_default();
        let entry = (message.from.clone(), message.client_msg_id.clone());
        if let Some(before) = held.get(&message.seq) {
            self.report.redelivered += 1;
            if before != &entry {
                self.report.problems.push(format!(
                    "chat {chat} seq {} was {before:?} and is now {entry:?}",
                    message.seq
                ));
            }
            return;
        }
        if message.seq > held.keys().next_back().copied().unwrap_or(0) + 1 {
            self.report.gaps += 1;
        }
        let upto = self.held_upto.entry(chat.clone()).or_default();
        held.insert(message.seq, entry);
        self.shared.held.fetch_add(1, Ordering::Relaxed);
        while held.contains_key(&(*upto + 1)) {
            *upto += 1;
        }
        self.progress = Instant::now();
        let sent = message
            .body
            .split(' ')
            .next()
            .and_then(|t| t.parse::<u64>().ok());
        if let (Some(sent), Some(resumed)) = (sent, session.after_stall)
            && sent < resumed
        {
            self.report.missed_live += 1;
        }
        if message.from != self.plan.who.agent
            && let Some(sent) = sent
        {
            self.report.latencies_us.push(arrived.saturating_sub(sent));
        }
    }

    fn acknowledged(&mut self, chat: ChatId, client_msg_id: String, seq: u64) {
        let Some(&index) = self.index.get(&client_msg_id) else {
            self.report
                .problems
                .push(format!("an ack for a send never made: {client_msg_id}"));
            return;
        };
        if self.pending.remove(&index).is_none() {
            self.report.repeated_acks += 1;
            if let Some((_, first)) = self.report.acked.get(&client_msg_id)
                && *first != seq
            {
                self.report.problems.push(format!(
                    "{client_msg_id} acknowledged as {first} and then as {seq}"
                ));
            }
            return;
        }
        if let Some(inflight) = &self.shared.inflight {
            inflight.add_permits(1);
        }
        self.shared.acked.fetch_add(1, Ordering::SeqCst);
        if let Some(acks) = &self.shared.acks {
            acks.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(AckRecord {
                    who: self.plan.who.clone(),
                    chat: chat.clone(),
                    client_msg_id: client_msg_id.clone(),
                    seq,
                });
        }
        self.report.acked.insert(client_msg_id, (chat, seq));
        self.progress = Instant::now();
    }

    fn is_complete(&self) -> bool {
        self.next == self.plan.sends.len()
            && self.pending.is_empty()
            && self.plan.expect.iter().all(|(partner, total)| {
                self.report.chats.get(partner).is_some_and(|chat| {
                    self.held_upto.get(chat).copied().unwrap_or(0) == *total
                        && self.report.history.get(chat).map_or(0, BTreeMap::len) as u64 == *total
                })
            })
    }

    fn check_complete(&mut self) {
        if !self.report.complete && self.is_complete() {
            self.report.complete = true;
            self.shared.complete.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// What one socket has delivered.
#[derive(Debug, Default)]
struct Session {
    welcomed: bool,
    /// When this socket opened, if it follows a stall (µs since the epoch).
    after_stall: Option<u64>,
    /// `start_chat` sent on this socket, per partner.
    asked: HashSet<AgentId>,
    seen: HashSet<(ChatId, u64)>,
    /// Per chat, the latest message on this socket and its sender.
    last: HashMap<ChatId, (u64, AgentId)>,
}

async fn send(socket: &mut Socket, frame: &ClientFrame) -> Result<(), ()> {
    let text = serde_json::to_string(frame).map_err(drop)?;
    socket.send(Message::Text(text.into())).await.map_err(drop)
}

/// Waits for the stop signal.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Waits until `paced` (if any), then for room in the shared limit of unacknowledged
/// sends (if any) and takes it; an acknowledgement gives it back.
async fn take_turn(paced: Option<Instant>, inflight: Option<Arc<Semaphore>>) {
    if let Some(paced) = paced {
        tokio::time::sleep_until(paced).await;
    }
    if let Some(inflight) = inflight
        && let Ok(permit) = inflight.acquire().await
    {
        permit.forget();
    }
}

/// A console's socket settings: a small read buffer, as the server's (tungstenite zeroes
/// its 128 KiB default on every read, which would make the simulated consoles, not the
/// server, the bottleneck of a load run).
pub fn socket_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 * 1024)
}
