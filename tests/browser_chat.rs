//! The walking skeleton, end to end in real browsers: agent A starts a chat with agent B
//! from Status > Agent Status and sends a message; B, already signed in elsewhere, sees
//! the Chat tab's number turn red, reads it and replies; A reads the reply; and after the
//! local server restarts the conversation is still there.

use console_e2e::browser::{Browser, Driver};
use console_e2e::server::TestServer;
use console_e2e::{eventually, output_dir};
use std::time::Duration;

/// WebDriver's key for Enter.
const ENTER: &str = "\u{E007}";

async fn sign_in(browser: &Browser, url: &str, agent_name: &str) -> anyhow::Result<()> {
    browser.client.goto(url).await?;
    browser.by_role("button", agent_name).await?.click().await?;
    browser.by_role("tab", "Status").await?;
    Ok(())
}

async fn chat_count(browser: &Browser) -> anyhow::Result<(String, String)> {
    let count = browser
        .client
        .find(fantoccini::Locator::Id("chat-count"))
        .await?;
    let text = count
        .find(fantoccini::Locator::Css("[aria-hidden]"))
        .await?
        .text()
        .await?;
    let class = count.attr("class").await?.unwrap_or_default();
    Ok((text, class))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_chat_from_the_agent_list_and_the_chat_survives_a_restart() -> anyhow::Result<()>
{
    let mut server = TestServer::start().await?;
    let shots = output_dir().join("screenshots");
    let driver = Driver::start().await?;
    let ann = driver.browser("ann").await?;
    let bob = driver.browser("bob").await?;

    // B is signed in and waiting.
    sign_in(&bob, &server.url(), "Bob Stone").await?;
    assert_eq!(chat_count(&bob).await?.0, "0");

    // A: Status > Agent Status, click B's name, Start a chat, type, Send.
    sign_in(&ann, &server.url(), "Ann Lee").await?;
    ann.by_role("tab", "Status").await?.click().await?;
    ann.by_role("tab", "Agent Status").await?.click().await?;
    ann.wait_for_text("Cara Diaz").await?;
    let page = ann.text_of("table").await?;
    assert!(
        !page.contains("Dan Wu"),
        "a regular agent sees only her own group: {page}"
    );
    ann.screenshot(&shots, "01-agent-status").await?;
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("menuitem", "Start a chat")
        .await?
        .click()
        .await?;
    let message = ann.by_role("textbox", "Your Message").await?;
    message
        .send_keys("Hi Bob, can you take a transfer on a billing question?")
        .await?;
    ann.by_role("button", "Send").await?.click().await?;
    ann.wait_for_text("Hi Bob, can you take a transfer on a billing question?")
        .await?;

    // B: the Chat tab's number turns red, without accepting anything.
    let (count, class) = eventually(
        "Bob's chat count to become 1",
        Duration::from_secs(15),
        || async {
            let (count, class) = chat_count(&bob).await?;
            Ok((count == "1").then_some((count, class)))
        },
    )
    .await?;
    assert_eq!(count, "1");
    assert!(
        class.contains("blink"),
        "the count blinks red: class={class}"
    );
    assert_eq!(bob.client.title().await?, "(1) Agent Console");
    bob.screenshot(&shots, "02-incoming-chat").await?;

    // B opens the Chat tab, reads the message and replies with Enter.
    bob.by_role("tab", "Chat").await?.click().await?;
    bob.wait_for_text("Hi Bob, can you take a transfer on a billing question?")
        .await?;
    bob.by_role("img", "Requires your response").await?;
    let reply = bob.by_role("textbox", "Your Message").await?;
    reply
        .send_keys(&format!("Sure, send it over.{ENTER}"))
        .await?;

    // A sees the reply; B's count and icon are gone now that she responded.
    ann.wait_for_text("Sure, send it over.").await?;
    eventually(
        "Bob's chat count to drop to 0",
        Duration::from_secs(15),
        || async { Ok((chat_count(&bob).await?.0 == "0").then_some(())) },
    )
    .await?;
    assert!(
        bob.all_by_role("img", "Requires your response")
            .await?
            .is_empty(),
        "the status icon disappears once Bob has responded"
    );
    ann.screenshot(&shots, "03-chat-window").await?;

    // The local server restarts; the conversation is still there after a reload.
    server.restart().await?;
    ann.client.refresh().await?;
    ann.by_role("tab", "Chat").await?.click().await?;
    ann.wait_for_text("Hi Bob, can you take a transfer on a billing question?")
        .await?;
    ann.wait_for_text("Sure, send it over.").await?;
    // Bob's console reconnects by itself and can go on chatting.
    bob.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("Transfer received.{ENTER}"))
        .await?;
    ann.wait_for_text("Transfer received.").await?;
    ann.screenshot(&shots, "04-after-restart").await?;

    ann.client.clone().close().await?;
    bob.client.clone().close().await?;
    Ok(())
}
