//! What an agent does in the console, as the browser tests do it: sign in, start a
//! chat, wait for a send to be stored.

use crate::browser::{Browser, PATIENCE};
use crate::eventually;

/// WebDriver's key for Enter.
pub const ENTER: &str = "\u{E007}";

/// Opens the console at `url` and signs in as `agent_name` (the development sign-in's
/// button); waits for the Control Panel.
pub async fn sign_in(browser: &Browser, url: &str, agent_name: &str) -> anyhow::Result<()> {
    browser.client.goto(url).await?;
    browser.by_role("button", agent_name).await?.click().await?;
    browser.by_role("tab", "Status").await?;
    Ok(())
}

/// Clicks `name` in the agent list and chooses "Start a chat"; waits for the chat window.
pub async fn start_chat_with(browser: &Browser, name: &str) -> anyhow::Result<()> {
    browser.by_role("button", name).await?.click().await?;
    browser
        .by_role("menuitem", "Start a chat")
        .await?
        .click()
        .await?;
    browser.wait_for_text(&format!("Chat with {name}")).await
}

/// Waits until `browser` shows `text` as sent and stored (no longer "Sending…").
pub async fn stored(browser: &Browser, text: &str) -> anyhow::Result<()> {
    eventually(
        &format!("{}'s send to be stored", browser.name),
        PATIENCE,
        || async {
            let page = browser.text_of("body").await?;
            Ok((page.contains(text) && !page.contains("Sending…")).then_some(()))
        },
    )
    .await
}
