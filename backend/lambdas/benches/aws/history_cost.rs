//! Section "A year of use in AWS": what Ann's operations cost in DynamoDB with 1 to
//! 20,000 past chats behind her — the real `ChatService` over the real `DynamoStore`,
//! against moto, every request counted at the SDK and billed with DynamoDB's rules (see
//! [`crate::capacity`]). The goal (issue 14): identical requests and units at every size
//! (a page's once the page is full).
//!
//! Her past chats are with Cara and Bob, her colleagues of sales: a regular agent starts
//! chats within her group, and only a supervisor starts one across groups. Who she has
//! chatted with outside her group is part of her audience (she sees them, they see her
//! state), so each such partner adds a directory read at sign-in and a read of their
//! connections at a state change (docs/scaling.md): a cost of whom she has talked to,
//! never of how often.

use crate::capacity::{self, Recorder, Units};
use crate::moto;
use crate::our_design::{Clockwork, sizes_after};
use crate::pushes::Pushes;
use crate::text::{thousands, units};
use anyhow::Context;
use console_domain::model::Connection;
use console_domain::ports::{ChatStore, ConnectionStore, DirectoryStore};
use console_domain::service::{CHATS_LOOKED_AT, ChatCursor, ChatPage, TranscriptFilter};
use console_domain::testing::RecordingPusher;
use console_domain::{Chat, ChatService, ConnectionId, Identity};
use console_store_dynamo::{DynamoStore, create_table};
use protocol::{AgentId, AgentState};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

/// The tenant of the demo directory: Ann, Bob and Cara of sales, Dan, Eve, Finn and Sue
/// (a supervisor) of support.
const TENANT: &str = "acme";
/// Ann's partners in her past chats, in turn: her colleagues of sales.
const PARTNERS: [&str; 2] = ["cara", "bob"];
/// Chats on a page of History.
const HISTORY_PAGE: usize = 20;
/// Messages of Ann's open chat with Bob (more than a resume's page).
const OPEN_MESSAGES: usize = 60;
/// Past chats written at once while seeding.
const SEEDING_AT_ONCE: usize = 1;
/// "Now", for the clock: the past chats end before it.
const NOW: i64 = 1_800_000_000_000;

/// What one operation cost.
#[derive(Debug, Clone, PartialEq)]
struct Cost {
    requests: BTreeMap<String, usize>,
    units: Units,
    pushes: Pushes,
}

impl Cost {
    fn cell(&self) -> String {
        let total: usize = self.requests.values().sum();
        format!(
            "{total} req, {} W + {} R, {} push{}",
            units(self.units.write),
            units(self.units.read),
            self.pushes.posts,
            if self.pushes.posts == 1 { "" } else { "es" }
        )
    }
}

/// The operations measured, in the order of the table.
const OPERATIONS: [&str; 5] = [
    "sign-in (ticket, `$connect` — Logged Out to Available — and `hello` with its resume)",
    "a message to Bob",
    "a state change (Available → Busy)",
    "the first page of History (up to 20 ended chats)",
    "the first page of Sue's transcript search (`q=zebra`, the whole tenant)",
];

/// One size: Ann's past chats and the cost of each operation.
struct Column {
    past: usize,
    costs: Vec<Cost>,
}

pub async fn section(sizes: &[usize]) -> anyhow::Result<String> {
    let moto = moto::start();
    let mut columns = Vec::new();
    for &past in sizes {
        let started = Instant::now();
        let costs = measure(&moto.url, past)
            .await
            .with_context(|| format!("{past} past chats"))?;
        eprintln!(
            "aws bench: {:>6} past chats: {} ({:.0} s with seeding)",
            thousands(past),
            costs.iter().map(Cost::cell).collect::<Vec<_>>().join("; "),
            started.elapsed().as_secs_f64()
        );
        columns.push(Column { past, costs });
    }
    Ok(render(&columns))
}

/// Seeds a fresh table with Ann's `past` chats and her open chat with Bob, then measures
/// each of [`OPERATIONS`].
async fn measure(url: &str, past: usize) -> anyhow::Result<Vec<Cost>> {
    let recorder = Recorder::default();
    let client = moto::client_with(url, |b| b.interceptor(recorder.clone())).await;
    let table = format!("history-{past}");
    create_table(&client, &table).await?;
    let store = DynamoStore::new(client, &table);
    let tenant: protocol::TenantId = TENANT.into();
    let (directory, agents) = console_local::demo::directory()
        .into_iter()
        .find(|(t, _)| t.id == tenant)
        .context("the demo directory has acme")?;
    store.put_tenant(&directory, &agents).await?;
    console_local::demo::past_chats(
        &store,
        &tenant,
        &"ann".into(),
        &PARTNERS.map(AgentId::from),
        past,
        NOW - 3_600_000,
        SEEDING_AT_ONCE,
    )
    .await?;
    let open = Chat::new(
        tenant.clone(),
        "with-bob".into(),
        "ann".into(),
        "bob".into(),
        NOW - 60_000,
        None,
    );
    store.open_chat(&open).await?;
    for n in 0..OPEN_MESSAGES {
        let from = AgentId::from(if n % 2 == 0 { "bob" } else { "ann" });
        store
            .append_message(
                &tenant,
                &open.id,
                &from,
                &format!("o{n}"),
                "Still with the customer?",
                NOW - 30_000,
            )
            .await?;
    }
    // Bob and Sue on one tab each; Ann signs in.
    for (connection, agent) in [("bob-1", "bob"), ("sue-1", "sue")] {
        store
            .put_connection(&Connection {
                id: ConnectionId(connection.into()),
                tenant: tenant.clone(),
                agent: agent.into(),
                connected_at: NOW - 60_000,
                group: agents
                    .iter()
                    .find(|a| a.id.as_str() == agent)
                    .map(|a| a.group.clone()),
                supervisor: agent == "sue",
                check_at: NOW + 240_000,
            })
            .await?;
    }
    recorder.take();

    let pusher = RecordingPusher::new();
    let clock = Clockwork::at(NOW);
    let service = ChatService {
        store: &store,
        pusher: &pusher,
        clock: &clock,
        order: &console_domain::Unordered,
        send_quota: console_domain::service::SEND_QUOTA,
    };
    let who = |agent: &str| Identity {
        tenant: tenant.clone(),
        agent: agent.into(),
    };
    let (ann, sue) = (who("ann"), who("sue"));
    let mut costs = Vec::new();
    let mut cost_of = async |what: &str| -> anyhow::Result<()> {
        let exchanges = recorder.take();
        let sizes = sizes_after(url, &exchanges, &table).await?;
        let bill = capacity::bill(&exchanges, &sizes).with_context(|| what.to_owned())?;
        costs.push(Cost {
            requests: capacity::requests(&exchanges),
            units: bill.units,
            pushes: Pushes::of(&pusher.take()),
        });
        Ok(())
    };

    let ticket = service.issue_ticket(&ann).await?;
    let redeemed = service.redeem_ticket(&ticket.id).await?;
    let tab = ConnectionId("ann-1".into());
    service.connect(tab.clone(), &redeemed).await?;
    service
        .hello(&tab, &ann, protocol::PROTOCOL_VERSION, &BTreeMap::new())
        .await?;
    cost_of(OPERATIONS[0]).await?;

    service
        .send(
            &ConnectionId("ann-1".into()),
            &ann,
            &open.id,
            "after-a-year",
            "Can you take a transfer? The caller is asking about an invoice.",
        )
        .await?;
    cost_of(OPERATIONS[1]).await?;

    service.set_state(&ann, AgentState::Busy).await?;
    cost_of(OPERATIONS[2]).await?;

    let (page, _) = service
        .chats(
            &ann,
            &ChatPage {
                cursor: ChatCursor::Ended(None),
                limit: HISTORY_PAGE,
            },
        )
        .await?;
    anyhow::ensure!(page.len() == past.min(HISTORY_PAGE), "History's first page");
    cost_of(OPERATIONS[3]).await?;

    let filter = TranscriptFilter {
        text: Some("zebra".into()),
        ..TranscriptFilter::default()
    };
    let found = service.transcripts(&sue, &filter, None, 50).await?;
    anyhow::ensure!(found.transcripts.is_empty(), "nothing holds the word");
    cost_of(OPERATIONS[4]).await?;
    Ok(costs)
}

fn render(columns: &[Column]) -> String {
    let mut out = String::from("## A year of use in AWS\n\n");
    let _ = writeln!(
        out,
        "What Ann's operations cost in DynamoDB as her past grows, measured against moto with \
         the real AWS SDK, as the section above does (requests counted at the SDK, units \
         computed from the items' sizes with DynamoDB's on-demand rules): per size, a fresh \
         table with the demo directory, Ann's past chats (ended, two messages each, one \
         after the other with Cara and Bob of her group in turn, written through the store: \
         a regular agent starts chats within her group) and her open chat with Bob ({OPEN_MESSAGES} messages); Bob and Sue connected on \
         one tab each, then Ann signs in. Each cell: DynamoDB requests, write (W) and read (R) \
         request units, and pushes (`PostToConnection`). A page costs what it holds: History's \
         first page holds {HISTORY_PAGE} chats at most and a transcript search's first page \
         looks at {CHATS_LOOKED_AT} chats at most, so each grows until she has that many. A \
         partner outside her group (a supervisor, or a colleague since moved) would add one \
         directory read at sign-in and a read of the partner's connections at a state \
         change, at every size: it is whom she has talked to that counts, never how often.\n"
    );
    out.push_str("| operation |");
    for column in columns {
        let _ = write!(out, " {} past chats |", thousands(column.past));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for (row, operation) in OPERATIONS.iter().enumerate() {
        let _ = write!(out, "| {operation} |");
        for column in columns {
            let _ = write!(
                out,
                " {} |",
                column.costs.get(row).map_or_else(String::new, Cost::cell)
            );
        }
        out.push('\n');
    }
    out.push('\n');
    let (Some(first), Some(last)) = (columns.first(), columns.last()) else {
        return out;
    };
    // A page is held to the smallest size at which it is full.
    let full_from = |page: usize| columns.iter().find(|c| c.past >= page).unwrap_or(last);
    let history_from = full_from(HISTORY_PAGE);
    // The tenant's chats: Ann's past ones and her open one.
    let search_from = full_from(CHATS_LOOKED_AT - 1);
    let flat = (0..OPERATIONS.len()).all(|row| {
        let from = match row {
            3 => history_from,
            4 => search_from,
            _ => first,
        };
        columns
            .iter()
            .filter(|c| c.past >= from.past)
            .all(|c| c.costs.get(row) == from.costs.get(row))
    });
    let _ = writeln!(
        out,
        "- Goal: every operation's DynamoDB requests, units and pushes identical from {} to {} \
         past chats (a page's once it is full: History's from {}, the search's from {}) — **{}**",
        thousands(first.past),
        thousands(last.past),
        thousands(history_from.past),
        thousands(search_from.past),
        if flat { "met" } else { "not met" }
    );
    out
}
