//! The agent list's menu and the "Start a chat about an interaction…" dialog as an agent
//! works them all day, in a real browser: the focus goes where the hand goes next, a
//! click outside closes the menu, the dialog is the page's own (no browser prompt) and
//! keyboard-complete; and the Chat tab's blinking number keeps still for an agent who
//! asks her system for reduced motion.

use console_e2e::browser::{Browser, Driver};
use console_e2e::console::{ENTER, sign_in};
use console_e2e::eventually;
use console_e2e::server::TestServer;
use fantoccini::Locator;
use std::time::Duration;

/// WebDriver's keys (Enter: `console::ENTER`).
const ESCAPE: &str = "\u{E00C}";
const ARROW_DOWN: &str = "\u{E015}";

/// The accessible name of the element that has the keyboard focus.
async fn focused(browser: &Browser) -> anyhow::Result<String> {
    let element = browser.client.active_element().await?;
    browser.accessible_name(&element).await
}

/// Waits until nothing matches `css`.
async fn gone(browser: &Browser, what: &str, css: &str) -> anyhow::Result<()> {
    eventually(what, Duration::from_secs(10), || async {
        let left = browser.client.find_all(Locator::Css(css)).await?;
        Ok(left.is_empty().then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_and_the_interaction_dialog_work_by_keyboard_and_keep_the_focus_in_hand()
-> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-keys").await?;
    sign_in(&ann, &server.url(), "Ann Lee").await?;

    // Escape closes the menu and puts the focus back on the name that opened it.
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("menuitem", "Start a chat").await?;
    assert_eq!(focused(&ann).await?, "Start a chat");
    ann.client.active_element().await?.send_keys(ESCAPE).await?;
    gone(&ann, "the menu to close on Escape", "[role=menu]").await?;
    assert_eq!(focused(&ann).await?, "Bob Stone");

    // A click outside the menu closes it.
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("menuitem", "Start a chat").await?;
    ann.client.find(Locator::Css("h1")).await?.click().await?;
    gone(&ann, "the menu to close on a click outside", "[role=menu]").await?;

    // The interaction dialog: opened from the menu by keyboard, the focus in its field,
    // the page behind it clean for axe-core, Escape closes it and gives the focus back.
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("menuitem", "Start a chat").await?;
    ann.client
        .active_element()
        .await?
        .send_keys(ARROW_DOWN)
        .await?;
    assert_eq!(focused(&ann).await?, "Start a chat about an interaction…");
    ann.client.active_element().await?.send_keys(ENTER).await?;
    ann.by_role("dialog", "Start a chat with Bob Stone about an interaction")
        .await?;
    assert_eq!(focused(&ann).await?, "Interaction ID");
    let violations = ann.accessibility_violations().await?;
    assert!(violations.is_empty(), "axe-core found: {violations:#?}");
    ann.client.active_element().await?.send_keys(ESCAPE).await?;
    gone(&ann, "the dialog to close on Escape", "dialog").await?;
    assert_eq!(focused(&ann).await?, "Bob Stone");

    // Enter with nothing typed says why and starts nothing; a valid ID starts the chat,
    // and the focus is in Your Message, ready for the first line.
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("menuitem", "Start a chat about an interaction…")
        .await?
        .click()
        .await?;
    let field = ann.by_role("textbox", "Interaction ID").await?;
    field.send_keys(ENTER).await?;
    ann.wait_for_text("Enter the interaction's ID.").await?;
    assert!(
        ann.client
            .find_all(Locator::Css("dialog[open]"))
            .await?
            .len()
            == 1,
        "the dialog stays open"
    );
    field.send_keys(&format!("INT-4711{ENTER}")).await?;
    gone(&ann, "the dialog to close once the chat starts", "dialog").await?;
    ann.wait_for_text("About interaction INT-4711").await?;
    eventually(
        "the focus in Your Message",
        Duration::from_secs(10),
        || async { Ok((focused(&ann).await? == "Your Message").then_some(())) },
    )
    .await?;
    let _ = ann.client.clone().close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_tab_number_blinks_unless_the_agent_asks_for_reduced_motion() -> anyhow::Result<()>
{
    let server = TestServer::start().await?;
    let driver = Driver::start().await?;
    let bob = driver.browser("bob-motion").await?;
    let ann = driver
        .browser_with("ann-still", &["--force-prefers-reduced-motion"])
        .await?;
    let cara = driver.browser("cara-motion").await?;
    for (browser, name) in [(&ann, "Ann Lee"), (&cara, "Cara Diaz"), (&bob, "Bob Stone")] {
        sign_in(browser, &server.url(), name).await?;
    }
    // Bob writes to both: each has a chat that requires her response.
    for name in ["Ann Lee", "Cara Diaz"] {
        bob.by_role("tab", "Status").await?.click().await?;
        bob.by_role("button", name).await?.click().await?;
        bob.by_role("menuitem", "Start a chat")
            .await?
            .click()
            .await?;
        bob.wait_for_text(&format!("Chat with {name}")).await?;
        bob.by_role("textbox", "Your Message")
            .await?
            .send_keys(&format!("Can you take a transfer?{ENTER}"))
            .await?;
    }
    let animation = async |browser: &Browser| -> anyhow::Result<String> {
        eventually(
            "the Chat tab's number to count the chat",
            Duration::from_secs(15),
            || async {
                let count = browser.client.find(Locator::Css(".tabs > .count")).await?;
                let class = count.attr("class").await?.unwrap_or_default();
                if !class.contains("blink") {
                    return Ok(None);
                }
                let name = browser
                    .client
                    .execute(
                        "return getComputedStyle(document.querySelector('.tabs > .count')).animationName;",
                        Vec::new(),
                    )
                    .await?;
                Ok(name.as_str().map(str::to_owned))
            },
        )
        .await
    };
    assert_ne!(animation(&cara).await?, "none", "Cara's number blinks");
    assert_eq!(
        animation(&ann).await?,
        "none",
        "Ann's keeps still: she asked for reduced motion"
    );
    for browser in [ann, bob, cara] {
        let _ = browser.client.close().await;
    }
    Ok(())
}
