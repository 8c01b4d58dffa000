//! The check after a run: what every tab holds and every acknowledgement it got, against
//! each chat's transcript as the store serves it (`GET /api/chats/{id}/messages`); and
//! the figures, printed.

use crate::support::console::Report;
use crate::support::http;
use console_domain::Identity;
use protocol::{AgentId, ChatId, MessageView};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// What came out of a run.
#[derive(Debug, Default)]
pub struct Figures {
    pub title: String,
    pub tabs: usize,
    pub chats: usize,
    /// Messages the plans hold.
    pub planned: u64,
    pub acknowledged: u64,
    /// Messages in the store.
    pub stored: u64,
    /// Acknowledged but not in the store under their sequence number.
    pub lost_acknowledged: u64,
    /// The same (sender, client message id) stored more than once.
    pub stored_twice: u64,
    /// Sequence numbers missing between 1 and a chat's last.
    pub sequence_gaps: u64,
    /// Planned but not stored (never acknowledged).
    pub missing: u64,
    /// Messages each tab should hold, summed over the tabs.
    pub deliveries_expected: u64,
    /// Messages the tabs hold that the store holds.
    pub delivered: u64,
    /// Messages of the store that a tab does not hold.
    pub undelivered: u64,
    /// The same message twice on one connection.
    pub duplicated: u64,
    /// A message after a later one of its chat on one connection.
    pub reordered: u64,
    /// Messages a tab holds that are not in the store, or differ from it.
    pub phantom: u64,
    pub redelivered_on_resume: u64,
    pub gaps_seen_live: u64,
    pub missed_live: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub elapsed: Duration,
    /// The time from "go" to the last tab complete.
    pub load_time: Duration,
    pub connects: u64,
    pub failed_connects: u64,
    pub dropped_by_client: u64,
    pub closed_by_server: u64,
    pub stall_resumes: u64,
    pub resends: u64,
    pub repeated_acks: u64,
    pub retried_errors: u64,
    pub rate_limited: u64,
    pub incomplete_tabs: usize,
    pub problems: Vec<String>,
    pub reorder_examples: Vec<String>,
}

impl Figures {
    /// Messages per second over the load time.
    pub fn rate(&self) -> f64 {
        self.acknowledged as f64 / self.load_time.as_secs_f64().max(1e-9)
    }

    /// Asserts that nothing was lost, stored twice, shown twice or out of order, and that
    /// every tab ended holding its chats' whole transcripts.
    pub fn assert_nothing_lost(&self) {
        let mut failures = self.problems.clone();
        let mut zero = |name: &str, value: u64| {
            if value != 0 {
                failures.push(format!("{name}: {value}"));
            }
        };
        zero("acknowledged messages lost", self.lost_acknowledged);
        zero("messages stored twice", self.stored_twice);
        zero("sequence gaps", self.sequence_gaps);
        zero("planned messages never stored", self.missing);
        zero("messages a connection lacks", self.undelivered);
        zero(
            "messages a connection holds that the store does not",
            self.phantom,
        );
        zero("incomplete tabs", self.incomplete_tabs as u64);
        if self.acknowledged != self.planned {
            failures.push(format!(
                "{} of {} messages acknowledged",
                self.acknowledged, self.planned
            ));
        }
        assert!(failures.is_empty(), "{}\n\nfailed: {failures:#?}", self);
    }

    /// As [`Figures::assert_nothing_lost`], and no connection saw a message twice or
    /// after a later one of its chat (a run without reconnects).
    pub fn assert_exactly_once_in_order(&self) {
        assert!(
            self.duplicated == 0 && self.reordered == 0,
            "{self}\n\nfailed: {} duplicated, {} reordered",
            self.duplicated,
            self.reordered
        );
        self.assert_nothing_lost();
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== {} ==", self.title)?;
        writeln!(
            f,
            "messages:    planned {}  acknowledged {}  stored {}  lost (acknowledged, not stored) {}  stored twice {}  sequence gaps {}  never stored {}",
            self.planned,
            self.acknowledged,
            self.stored,
            self.lost_acknowledged,
            self.stored_twice,
            self.sequence_gaps,
            self.missing
        )?;
        writeln!(
            f,
            "deliveries:  expected {}  delivered {}  lost {}  duplicated {}  reordered {}  phantom {}  ({} connections, {} chats; a resume overlapping live pushes duplicates and reorders)",
            self.deliveries_expected,
            self.delivered,
            self.undelivered,
            self.duplicated,
            self.reordered,
            self.phantom,
            self.tabs,
            self.chats
        )?;
        writeln!(
            f,
            "delivery time (send to the other agent's connection): p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )?;
        writeln!(
            f,
            "time:        elapsed {:.1} s  load {:.1} s  {:.0} messages/s",
            self.elapsed.as_secs_f64(),
            self.load_time.as_secs_f64(),
            self.rate()
        )?;
        write!(
            f,
            "recovery:    sockets opened {}  failed attempts {}  dropped by clients {}  closed by the server {}  resumes after a stall {} (messages they brought that no live push had: {})  resends {}  repeated acks {}  internal errors retried {}  rate-limited sends retried {}  redelivered on resume {}  gaps opened {}  incomplete tabs {}",
            self.connects,
            self.failed_connects,
            self.dropped_by_client,
            self.closed_by_server,
            self.stall_resumes,
            self.missed_live,
            self.resends,
            self.repeated_acks,
            self.retried_errors,
            self.rate_limited,
            self.redelivered_on_resume,
            self.gaps_seen_live,
            self.incomplete_tabs
        )?;
        for example in &self.reorder_examples {
            write!(f, "\nout of order: {example}")?;
        }
        Ok(())
    }
}

/// Compares the tabs' reports with the store's transcripts; `tokens` signs in as a
/// participant of each chat.
pub async fn against_store(
    addr: SocketAddr,
    tokens: &HashMap<Identity, String>,
    reports: &[Report],
    title: String,
) -> Figures {
    let mut figures = Figures {
        title,
        tabs: reports.len(),
        ..Figures::default()
    };
    let mut chats: BTreeMap<ChatId, (Identity, u64)> = BTreeMap::new();
    let mut seen_pairs: HashMap<(Identity, AgentId), ChatId> = HashMap::new();
    for report in reports {
        let who = report.who.clone().expect("a tab knows who it is");
        for (partner, total) in &report.expect {
            let Some(chat) = report.chats.get(partner) else {
                figures.problems.push(format!(
                    "{}/{} tab {} never learnt its chat with {partner}",
                    who.tenant, who.agent, report.tab
                ));
                continue;
            };
            if let Some(other) = seen_pairs.insert((who.clone(), partner.clone()), chat.clone())
                && &other != chat
            {
                figures.problems.push(format!(
                    "{}'s tabs disagree on the chat with {partner}",
                    who.agent
                ));
            }
            chats.insert(chat.clone(), (who.clone(), *total));
        }
        if report.tab == 0 {
            figures.planned += report.planned as u64;
        }
    }
    figures.chats = chats.len();

    let mut transcripts: HashMap<ChatId, BTreeMap<u64, MessageView>> = HashMap::new();
    for (chat, (reader, total)) in &chats {
        let token = tokens.get(reader).expect("a token for every agent");
        let messages = http::history_patiently(addr, token, chat).await;
        figures.stored += messages.len() as u64;
        let mut keys = HashSet::new();
        let mut by_seq = BTreeMap::new();
        for message in messages {
            if !keys.insert((message.from.clone(), message.client_msg_id.clone())) {
                figures.stored_twice += 1;
            }
            by_seq.insert(message.seq, message);
        }
        let last = by_seq.keys().next_back().copied().unwrap_or(0);
        figures.sequence_gaps += last - by_seq.len() as u64;
        if (by_seq.len() as u64) < *total {
            figures.missing += total - by_seq.len() as u64;
        }
        if by_seq.len() as u64 > *total {
            figures.problems.push(format!(
                "chat {chat} holds {} messages, {total} planned",
                by_seq.len()
            ));
        }
        transcripts.insert(chat.clone(), by_seq);
    }

    let mut latencies = Vec::new();
    for report in reports {
        let who = report.who.clone().expect("a tab knows who it is");
        for (client_msg_id, (chat, seq)) in &report.acked {
            let stored = transcripts.get(chat).and_then(|t| t.get(seq));
            if !stored.is_some_and(|m| m.client_msg_id == *client_msg_id && m.from == who.agent) {
                figures.lost_acknowledged += 1;
            }
        }
        figures.acknowledged += report.acked.len() as u64;
        for (partner, total) in &report.expect {
            figures.deliveries_expected += total;
            let Some(chat) = report.chats.get(partner) else {
                figures.undelivered += total;
                continue;
            };
            let held = report.history.get(chat);
            let transcript = transcripts.get(chat);
            for (seq, stored) in transcript.into_iter().flatten() {
                match held.and_then(|h| h.get(seq)) {
                    Some((from, id)) if *from == stored.from && *id == stored.client_msg_id => {
                        figures.delivered += 1;
                    }
                    Some(_) => figures.phantom += 1,
                    None => figures.undelivered += 1,
                }
            }
            for seq in held.into_iter().flat_map(BTreeMap::keys) {
                if !transcript.is_some_and(|t| t.contains_key(seq)) {
                    figures.phantom += 1;
                }
            }
        }
        figures.duplicated += report.duplicates;
        figures.reordered += report.reordered;
        figures.redelivered_on_resume += report.redelivered;
        figures.gaps_seen_live += report.gaps;
        figures.missed_live += report.missed_live;
        figures.connects += report.connects;
        figures.failed_connects += report.failed_connects;
        figures.dropped_by_client += report.dropped;
        figures.closed_by_server += report.closed_by_server;
        figures.stall_resumes += report.stall_resumes;
        figures.resends += report.resends;
        figures.repeated_acks += report.repeated_acks;
        figures.retried_errors += report.retried_errors;
        figures.rate_limited += report.rate_limited;
        if !report.complete {
            figures.incomplete_tabs += 1;
        }
        for problem in &report.problems {
            figures
                .problems
                .push(format!("{}/{}: {problem}", who.tenant, who.agent));
        }
        latencies.extend_from_slice(&report.latencies_us);
        for example in &report.reorder_examples {
            if figures.reorder_examples.len() < 5 {
                figures.reorder_examples.push(format!(
                    "{}/{} tab {}: {example}",
                    who.tenant, who.agent, report.tab
                ));
            }
        }
    }
    latencies.sort_unstable();
    let at = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1000.0
    };
    figures.p50_ms = at(0.50);
    figures.p99_ms = at(0.99);
    figures.max_ms = at(1.0);
    figures.problems.truncate(50);
    figures
}
