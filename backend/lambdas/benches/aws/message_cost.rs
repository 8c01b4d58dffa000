//! Section "Cost per message in AWS": both designs at each number of agents connected,
//! their requests, units and pushes per message, and what a million messages cost.

use crate::capacity::{self, Exchange, SizesAfter, Units};
use crate::pushes::Pushes;
use crate::text::{dollars, list, price, thousands, units};
use crate::{moto, our_design, prices, scan_broadcast};
use anyhow::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::time::Instant;

/// One message, as DynamoDB and API Gateway saw it.
#[derive(Debug)]
pub struct Measured {
    /// Every request sent to DynamoDB for it, with its answer.
    pub exchanges: Vec<Exchange>,
    /// The sizes of the items it updated, read back afterwards.
    pub sizes_after: SizesAfter,
    pub pushes: Pushes,
}

/// Which design a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Design {
    Ours,
    ScanBroadcast,
}

impl Design {
    fn name(self) -> &'static str {
        match self {
            Design::Ours => "ours",
            Design::ScanBroadcast => "Scan broadcast",
        }
    }
}

/// One message of one design with some agents connected.
#[derive(Debug)]
struct Row {
    connected: usize,
    design: Design,
    requests: BTreeMap<String, usize>,
    units: Units,
    pushes: Pushes,
}

impl Row {
    fn requests_cell(&self) -> String {
        let total: usize = self.requests.values().sum();
        let parts: Vec<String> = self
            .requests
            .iter()
            .map(|(operation, count)| format!("{count} {operation}"))
            .collect();
        format!("{} ({})", thousands(total), parts.join(", "))
    }
}

/// Measures both designs at each of `sizes` and writes the section.
pub async fn section(sizes: &[usize], smoke: bool) -> anyhow::Result<String> {
    let moto = moto::start();
    let probe = capacity::moto_answer(&moto::client(&moto.url).await)
        .await
        .context("asking moto for ConsumedCapacity")?;
    let mut rows = Vec::new();
    let mut assumptions = BTreeSet::new();
    for &connected in sizes {
        for design in [Design::Ours, Design::ScanBroadcast] {
            let started = Instant::now();
            let measured = match design {
                Design::Ours => our_design::one_message(&moto.url, connected).await,
                Design::ScanBroadcast => scan_broadcast::one_message(&moto.url, connected).await,
            }
            .with_context(|| {
                format!(
                    "{} design, {} agents connected",
                    design.name(),
                    thousands(connected)
                )
            })?;
            let bill = capacity::bill(&measured.exchanges, &measured.sizes_after)?;
            assumptions.extend(bill.assumptions);
            eprintln!(
                "aws bench: {:>6} agents connected, {:<14}: {} requests, {} pushes ({:.1} s with seeding)",
                thousands(connected),
                design.name(),
                measured.exchanges.len(),
                measured.pushes.posts,
                started.elapsed().as_secs_f64()
            );
            rows.push(Row {
                connected,
                design,
                requests: capacity::requests(&measured.exchanges),
                units: bill.units,
                pushes: measured.pushes,
            });
        }
    }
    drop(moto);
    Ok(render(&rows, &probe, &assumptions, sizes, smoke))
}

fn render(
    rows: &[Row],
    probe: &capacity::MotoAnswer,
    assumptions: &BTreeSet<String>,
    sizes: &[usize],
    smoke: bool,
) -> String {
    let mut out = String::from("## Cost per message in AWS\n\n");
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let moto_said = match probe.moto_units {
        Some(answered) => format!(
            "asked for `ConsumedCapacity`, moto answered {} for a strongly consistent GetItem \
             of a {}-byte item, where DynamoDB's rules charge {}",
            units(answered),
            thousands(probe.item_bytes),
            units(probe.rule_units)
        ),
        None => "moto returns no `ConsumedCapacity` for a GetItem".to_owned(),
    };
    let _ = writeln!(
        out,
        "Measured against moto (the DynamoDB emulator) with the real AWS SDK: one message \
         from one agent to another, with 10 to {} agents connected (one console each, all \
         in one tenant). **Ours**: the real `ChatService` over the real `DynamoStore`, as \
         `backend/store-dynamo/tests/cost_shape.rs` does. **Scan broadcast**: the design of \
         AWS's serverless WebSocket chat sample (simple-websockets-chat-app, `sendmessage`), \
         written in Rust with the same SDK: Scan the connections table, following every \
         1 MB page (the sample reads only the first), and post to every connection; its \
         items hold the connection id, tenant, agent, connection time and expiry \
         ({:.0} bytes on average; the sample stores the id alone; read whole, as DynamoDB \
         bills a Scan on whole items even with the sample's projection). It stores no \
         message, where ours stores each one with its chat. Requests are counted at the \
         SDK (an interceptor, every request sent), pushes (`PostToConnection`) by a \
         counting pusher. Capacity units are computed from the sizes of the items each \
         request wrote or read, with DynamoDB's on-demand rules (1 write unit per KB \
         written, ×2 in a transaction; 1 read unit per 4 KB read strongly consistent, ½ \
         eventually consistent; a Query or Scan page rounds its total, a GetItem each item), \
         not from moto's `ConsumedCapacity`, which is a placeholder: {moto_said}.",
        thousands(largest),
        scan_broadcast::average_item_bytes(largest.max(2)),
    );
    for assumption in assumptions {
        let _ = writeln!(out, "Assumed: {assumption}.");
    }
    out.push('\n');
    out.push_str(
        "| agents connected | design | DynamoDB requests per message | write units | read units | pushes |\n\
         |---:|---|---|---:|---:|---:|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            thousands(row.connected),
            row.design.name(),
            row.requests_cell(),
            units(row.units.write),
            units(row.units.read),
            thousands(row.pushes.posts)
        );
    }

    let _ = writeln!(
        out,
        "\nCost per million messages, at the list prices of docs/deploying.md (us-east-1, \
         on-demand, as published in 2025: list prices, to verify on AWS's pricing pages): \
         DynamoDB {} per million write units and {} per million read units; API Gateway \
         WebSocket {} per million messages (the frame received and each push, per 32 KB); \
         Lambda (arm64) {} per million requests and {} per million GB-seconds, one \
         invocation per message of {} s at {} GB assumed, not measured: {} per million \
         messages (for the Scan broadcast, which posts to every connection within that \
         invocation, a lower bound). Each figure per message × its price per million. Logs, \
         X-Ray and storage are left out (see docs/deploying.md).\n",
        price(prices::WRITE_UNITS),
        price(prices::READ_UNITS),
        price(prices::WEBSOCKET_MESSAGES),
        price(prices::LAMBDA_REQUESTS),
        price(prices::LAMBDA_GB_SECONDS),
        prices::LAMBDA_SECONDS,
        prices::LAMBDA_MEMORY_GB,
        prices::lambda_arithmetic(),
    );
    out.push_str(
        "| agents connected | design | DynamoDB writes | DynamoDB reads | WebSocket messages | Lambda | per million messages |\n\
         |---:|---|---|---|---|---:|---:|\n",
    );
    for row in rows {
        let cost = prices::PerMillion::of(row.units, row.pushes);
        let _ = writeln!(
            out,
            "| {} | {} | {} × {} = {} | {} × {} = {} | (1 + {}) × {} = {} | {} | **{}** |",
            thousands(row.connected),
            row.design.name(),
            units(row.units.write),
            price(prices::WRITE_UNITS),
            dollars(cost.writes),
            units(row.units.read),
            price(prices::READ_UNITS),
            dollars(cost.reads),
            thousands(row.pushes.billed),
            price(prices::WEBSOCKET_MESSAGES),
            dollars(cost.websocket),
            dollars(cost.lambda),
            dollars(cost.total()),
        );
    }
    out.push('\n');
    out.push_str(&goal(rows, sizes, smoke));
    out
}

/// The goal line: ours flat as agents grow.
fn goal(rows: &[Row], sizes: &[usize], smoke: bool) -> String {
    let ours: Vec<&Row> = rows.iter().filter(|r| r.design == Design::Ours).collect();
    let flat = ours
        .windows(2)
        .all(|w| w[0].requests == w[1].requests && w[0].pushes.posts == w[1].pushes.posts);
    let at = list(&sizes.iter().map(|s| thousands(*s)).collect::<Vec<_>>());
    let figures = if flat {
        ours.first().map_or_else(String::new, |first| {
            format!(
                "{} DynamoDB requests and {} pushes per message at {} agents connected",
                first.requests.values().sum::<usize>(),
                first.pushes.posts,
                at
            )
        })
    } else {
        ours.iter()
            .map(|r| {
                format!(
                    "{} requests and {} pushes at {}",
                    r.requests.values().sum::<usize>(),
                    r.pushes.posts,
                    thousands(r.connected)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let scope = if smoke {
        " (smoke run: 1,000 and 10,000 not measured)"
    } else {
        ""
    };
    let mut line = format!(
        "- Goal: ours flat as agents grow from 10 to 10,000 (requests and pushes per message \
         identical at every size) — **{}**: {figures}{scope}.\n",
        if flat { "met" } else { "not met" }
    );
    let largest = |design| {
        rows.iter()
            .filter(|r| r.design == design)
            .max_by_key(|r| r.connected)
    };
    if let (Some(ours), Some(scan)) = (largest(Design::Ours), largest(Design::ScanBroadcast)) {
        let (ours_cost, scan_cost) = (
            prices::PerMillion::of(ours.units, ours.pushes).total(),
            prices::PerMillion::of(scan.units, scan.pushes).total(),
        );
        let _ = writeln!(
            line,
            "- At {} agents connected, a million messages cost {} with ours and {} with the \
             Scan broadcast ({:.0}×).",
            thousands(ours.connected),
            dollars(ours_cost),
            dollars(scan_cost),
            scan_cost / ours_cost
        );
        let provisioned = prices::PerMillion::provisioned(ours.units, ours.pushes).total();
        let _ = writeln!(
            line,
            "- Goal: a million messages at most $8 (issue 14; before logs, which \
             docs/deploying.md adds) — on-demand **{}** ({}); with the table's capacity \
             provisioned and used at {:.0}% (`TableCapacity=provisioned`; {} per write and {} \
             per read capacity unit-hour) **{}** ({}).",
            if ours_cost <= 8.0 { "met" } else { "not met" },
            dollars(ours_cost),
            prices::PROVISIONED_USE * 100.0,
            price(prices::WRITE_UNIT_HOUR),
            price(prices::READ_UNIT_HOUR),
            if provisioned <= 8.0 { "met" } else { "not met" },
            dollars(provisioned),
        );
    }
    line
}
