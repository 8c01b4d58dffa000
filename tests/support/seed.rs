//! Data written into a test server's data folder before it starts, as
//! `agent-console-local import-directory` and the server's own writes would: a directory,
//! and chats of thousands of messages (the send rate limit makes sending them over a
//! socket far too slow).

use anyhow::Context;
use console_domain::model::Chat;
use console_domain::ports::ChatStore;
use console_store_embedded::EmbeddedStore;
use serde_json::Value;
use std::path::Path;

/// A long chat to write: its tenant and id, who started it and with whom, how many
/// messages (from both, in turn).
#[derive(Clone, Copy, Debug)]
pub struct LongChatSpec<'a> {
    pub tenant: &'a str,
    pub id: &'a str,
    pub between: [&'a str; 2],
    pub messages: usize,
}

/// A long chat as written: the bodies of its first and last message, by sequence number.
#[derive(Clone, Debug)]
pub struct LongChat {
    pub first: String,
    pub last: String,
}

/// Imports `directory` (a directory file's JSON) into the store of the data folder
/// `data`, then writes the `chats`. The server started on `data` afterwards serves them
/// (and seeds no demo directory).
pub async fn seed(
    data: &Path,
    directory: &Value,
    chats: &[LongChatSpec<'_>],
) -> anyhow::Result<Vec<LongChat>> {
    let directory = console_domain::directory::parse(&directory.to_string())
        .map_err(|e| anyhow::anyhow!("the directory is refused: {e}"))?;
    let store = EmbeddedStore::open(&data.join("console.redb"))
        .map_err(|e| anyhow::anyhow!("cannot open the embedded store: {e}"))?;
    console_domain::directory::import(&store, directory)
        .await
        .map_err(|e| anyhow::anyhow!("cannot import the directory: {e}"))?;
    let mut written = Vec::new();
    for spec in chats {
        written.push(long_chat(&store, spec).await?);
    }
    Ok(written)
}

async fn long_chat(store: &EmbeddedStore, spec: &LongChatSpec<'_>) -> anyhow::Result<LongChat> {
    anyhow::ensure!(spec.messages > 0, "a long chat needs messages");
    let start = now_ms() - 3_600_000;
    let [by, with] = spec.between;
    let chat = Chat::new(
        spec.tenant.into(),
        spec.id.into(),
        by.into(),
        with.into(),
        start,
        None,
    );
    let (chat, _) = store
        .open_chat(&chat)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the chat: {e}"))?;
    let (tenant, chat_id) = (chat.tenant, chat.id);
    // Written a batch at a time: the store commits concurrent writes together.
    for batch in (1..=spec.messages).collect::<Vec<_>>().chunks(250) {
        let writes = batch.iter().map(|n| {
            let from = if n.is_multiple_of(3) { with } else { by };
            let (tenant, chat_id) = (&tenant, &chat_id);
            async move {
                store
                    .append_message(
                        tenant,
                        chat_id,
                        &from.into(),
                        &format!("seed-{n}"),
                        &message_body(*n),
                        start + *n as i64 * 100,
                    )
                    .await
            }
        });
        for done in futures_util::future::join_all(writes).await {
            done.map_err(|e| anyhow::anyhow!("cannot write a message: {e}"))?;
        }
    }
    // Concurrent writes take their sequence numbers in the order they commit: ask the
    // store which bodies came first and last.
    let body_after = |after: u64| {
        let (tenant, chat_id) = (&tenant, &chat_id);
        async move {
            store
                .messages(tenant, chat_id, after, 1)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read the chat back: {e}"))?
                .pop()
                .map(|m| m.body)
                .context("the chat has fewer messages than written")
        }
    };
    Ok(LongChat {
        first: body_after(0).await?,
        last: body_after(spec.messages as u64 - 1).await?,
    })
}

/// Writes `count` past chats of `agent` into the store of the data folder `data` (after
/// [`seed`]), as [`console_local::demo::past_chats`] does, the last ended an hour ago. A
/// year of consults behind her.
pub async fn past_chats(
    data: &Path,
    tenant: &str,
    agent: &str,
    colleagues: &[&str],
    count: usize,
) -> anyhow::Result<()> {
    let store = EmbeddedStore::open(&data.join("console.redb"))
        .map_err(|e| anyhow::anyhow!("cannot open the embedded store: {e}"))?;
    let colleagues: Vec<protocol::AgentId> = colleagues.iter().map(|&id| id.into()).collect();
    console_local::demo::past_chats(
        &store,
        &tenant.into(),
        &agent.into(),
        &colleagues,
        count,
        now_ms() - 3_600_000,
        colleagues.len(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot write the past chats: {e}"))
}

/// Message bodies of one to a few lines, so that messages differ in height.
pub fn message_body(n: usize) -> String {
    let words = "please check the customer's billing address before the transfer";
    let mut body = format!("Message {n}:");
    for _ in 0..=n % 4 {
        body.push(' ');
        body.push_str(words);
    }
    if n.is_multiple_of(7) {
        body.push_str("\nSecond line of the note.");
    }
    body
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
