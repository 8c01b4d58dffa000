//! The walking skeleton, end to end in real browsers: agent A starts a chat with agent B
//! from Status > Agent Status and sends a message; B, already signed in elsewhere, sees
//! the Chat tab's number turn red, reads it and replies; A reads the reply; and after the
//! local server restarts the conversation is still there.

use console_e2e::browser::{Browser, Driver};
use console_e2e::console::{ENTER, sign_in, start_chat_with};
use console_e2e::server::TestServer;
use console_e2e::{eventually, output_dir};
use std::time::Duration;

/// Makes the page hidden (as when the agent looks at another tab) and records the
/// notifications and sounds the console makes, in `window.__alerts`.
const HIDE_AND_RECORD_ALERTS: &str = r#"
    window.__alerts = [];
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    window.Notification = class {
        static get permission() { return 'granted'; }
        static requestPermission() { return Promise.resolve('granted'); }
        constructor(title, options) { window.__alerts.push(['notification', title, options.body]); }
    };
    // The console's bindings hold on to AudioContext itself; its oscillators come from
    // the prototype, so that is where the sound is heard.
    const createOscillator = BaseAudioContext.prototype.createOscillator;
    BaseAudioContext.prototype.createOscillator = function () {
        if (!window.__alerts.some(a => a[0] === 'sound')) window.__alerts.push(['sound']);
        return createOscillator.call(this);
    };
"#;

/// Makes the page visible again.
const SHOW_AGAIN: &str = r#"
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
    document.dispatchEvent(new Event('visibilitychange'));
"#;

/// The number on the Chat tab and its classes ("blink" while it blinks red); checks that
/// the Chat tab's description says the same.
async fn chat_count(browser: &Browser) -> anyhow::Result<(String, String)> {
    let count = browser
        .client
        .find(fantoccini::Locator::Css(".tabs > .count"))
        .await?;
    let text = count.text().await?;
    let class = count.attr("class").await?.unwrap_or_default();
    let described = browser
        .client
        .find(fantoccini::Locator::Id("chat-count"))
        .await?
        .prop("textContent")
        .await?
        .unwrap_or_default();
    let words = if text == "1" {
        "1 chat requires your response".to_owned()
    } else {
        format!("{text} chats require your response")
    };
    anyhow::ensure!(
        described.trim() == words,
        "the tab's description {described:?} disagrees with its number {text}"
    );
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
    // Bob looks at another tab of his browser: his console alerts him with a
    // notification and a sound (the browser's Notification and AudioContext are
    // recorded here; headless Chromium shows neither).
    bob.client
        .execute(HIDE_AND_RECORD_ALERTS, Vec::new())
        .await?;
    ann.by_role("button", "Send").await?.click().await?;
    ann.wait_for_text("Hi Bob, can you take a transfer on a billing question?")
        .await?;
    let alerts = eventually(
        "Bob's notification and sound",
        Duration::from_secs(15),
        || async {
            let alerts = bob
                .client
                .execute("return JSON.stringify(window.__alerts);", Vec::new())
                .await?;
            let alerts = alerts.as_str().unwrap_or_default().to_owned();
            anyhow::ensure!(
                alerts.contains("notification") && alerts.contains("sound"),
                "recorded so far: {alerts}"
            );
            Ok(Some(alerts))
        },
    )
    .await?;
    assert!(
        alerts.contains(r#"["notification","Ann Lee (Agent Console)","Hi Bob, can you take a transfer on a billing question?"]"#),
        "{alerts}"
    );
    bob.client.execute(SHOW_AGAIN, Vec::new()).await?;

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
    // Ann sees that Bob has seen her message, and that he is typing.
    ann.wait_for_text("Seen").await?;
    // Read is read: no Unread count on the chat he has in front of him, though it
    // still requires his response.
    eventually(
        "Bob's unread count to clear as he reads",
        Duration::from_secs(15),
        || async {
            let badges = bob
                .client
                .execute(
                    "return document.querySelectorAll('table.multi-chat .unread').length;",
                    Vec::new(),
                )
                .await?;
            Ok((badges.as_u64() == Some(0)).then_some(()))
        },
    )
    .await?;
    assert_eq!(chat_count(&bob).await?.0, "1", "seen is not answered");
    let reply = bob.by_role("textbox", "Your Message").await?;
    reply.send_keys("Sure, send it over.").await?;
    ann.wait_for_text("Bob Stone is typing…").await?;
    reply.send_keys(ENTER).await?;

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

    // A draft stays with its chat while Ann opens another one and comes back.
    ann.by_role("textbox", "Your Message")
        .await?
        .send_keys("Draft for Bob")
        .await?;
    ann.by_role("tab", "Agents").await?.click().await?;
    start_chat_with(&ann, "Cara Diaz").await?;
    let cara_draft = ann
        .by_role("textbox", "Your Message")
        .await?
        .prop("value")
        .await?;
    assert_eq!(
        cara_draft.as_deref(),
        Some(""),
        "a new chat starts with an empty box"
    );
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.wait_for_text("Chat with Bob Stone").await?;
    let bob_draft = ann
        .by_role("textbox", "Your Message")
        .await?
        .prop("value")
        .await?;
    assert_eq!(
        bob_draft.as_deref(),
        Some("Draft for Bob"),
        "the draft was kept"
    );

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

/// The agent list's table, as text.
async fn agent_table(browser: &Browser, label: &str) -> anyhow::Result<String> {
    Ok(browser.by_role("table", label).await?.text().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_chats_across_groups_ends_the_chat_and_reads_its_transcript()
-> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let shots = output_dir().join("screenshots");
    let driver = Driver::start().await?;
    let sue = driver.browser("sue").await?;
    let ann = driver.browser("ann-2").await?;
    let dan = driver.browser("dan").await?;

    sign_in(&ann, &server.url(), "Ann Lee").await?;
    sign_in(&dan, &server.url(), "Dan Wu").await?;
    sign_in(&sue, &server.url(), "Sue Grant").await?;

    // A supervisor sees every group of her tenant; a regular agent only her own.
    sue.by_role("tab", "Agent Status").await?.click().await?;
    sue.wait_for_text("Ann Lee").await?;
    let list = agent_table(&sue, "Agent Status").await?;
    assert!(
        list.contains("Ann Lee") && list.contains("Dan Wu") && !list.contains("Gus Hale"),
        "{list}"
    );
    dan.wait_for_text("Eve Park").await?;
    let list = agent_table(&dan, "Agent Status").await?;
    assert!(
        !list.contains("Ann Lee"),
        "another group's agent is not listed: {list}"
    );

    // Ann shows as Available (she is signed in), live.
    ann.by_role("combobox", "My State")
        .await?
        .send_keys("Busy")
        .await?;
    eventually("Sue to see Ann Busy", Duration::from_secs(15), || async {
        Ok(agent_table(&sue, "Agent Status")
            .await?
            .contains("Busy")
            .then_some(()))
    })
    .await?;

    // Filter the list by name, then start the chat from it.
    sue.by_role("searchbox", "Filter by name")
        .await?
        .send_keys("ann")
        .await?;
    eventually(
        "the filter to leave Ann only",
        Duration::from_secs(10),
        || async {
            let list = agent_table(&sue, "Agent Status").await?;
            Ok((list.contains("Ann Lee") && !list.contains("Dan Wu")).then_some(()))
        },
    )
    .await?;
    // By keyboard: the menu takes the focus on its first item, Enter chooses it.
    sue.by_role("button", "Ann Lee").await?.click().await?;
    sue.by_role("menuitem", "Start a chat").await?;
    let focused = sue.client.active_element().await?;
    assert_eq!(sue.accessible_name(&focused).await?, "Start a chat");
    focused.send_keys(ENTER).await?;
    sue.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("Please join the escalation on line 4.{ENTER}"))
        .await?;

    // Ann: the chat arrives by itself; Sue now appears in her agent list.
    ann.by_role("tab", "Chat").await?.click().await?;
    ann.wait_for_text("Please join the escalation on line 4.")
        .await?;
    ann.by_role("tab", "Agents").await?.click().await?;
    eventually(
        "Sue in Ann's agent list",
        Duration::from_secs(15),
        || async {
            Ok(agent_table(&ann, "Agents")
                .await?
                .contains("Sue Grant")
                .then_some(()))
        },
    )
    .await?;
    ann.by_role("tab", "Chats").await?.click().await?;
    // Shift+Enter is a new line, Enter sends.
    let reply = ann.by_role("textbox", "Your Message").await?;
    reply.send_keys("On my way.").await?;
    reply.send_keys("\u{E008}\u{E007}").await?;
    reply.send_keys(&format!("Joining now.{ENTER}")).await?;
    sue.wait_for_text("Joining now.").await?;
    let bubble = sue.text_of(".transcript li:last-child .body").await?;
    assert_eq!(
        bubble, "On my way.\nJoining now.",
        "one message of two lines"
    );

    // The accessibility audit of a signed-in console with an open chat.
    let violations = ann.accessibility_violations().await?;
    assert!(violations.is_empty(), "axe-core found: {violations:#?}");
    ann.screenshot(&shots, "05-supervisor-chat").await?;

    // Sue ends the chat: both windows say so; the transcript stays readable.
    sue.by_role("button", "End").await?.click().await?;
    ann.wait_for_text("This chat has ended.").await?;
    sue.wait_for_text("This chat has ended.").await?;
    assert!(
        ann.by_role("button", "Send")
            .await?
            .attr("disabled")
            .await?
            .is_some()
    );
    ann.wait_for_text("Please join the escalation on line 4.")
        .await?;

    // Sue reads the transcript under Chat > Transcripts.
    sue.by_role("tab", "Transcripts").await?.click().await?;
    sue.by_role("button", "Read the chat of Sue Grant · Ann Lee")
        .await?
        .click()
        .await?;
    sue.wait_for_text("Chat between Sue Grant and Ann Lee")
        .await?;
    // Her read is in the transcript's audit trail.
    sue.by_role("button", "Who has read it")
        .await?
        .click()
        .await?;
    sue.wait_for_text("Sue Grant read messages 1–").await?;
    let violations = sue.accessibility_violations().await?;
    assert!(
        violations.is_empty(),
        "axe-core found on Transcripts: {violations:#?}"
    );
    sue.screenshot(&shots, "06-transcripts").await?;
    // Usable at 1024 px wide: nothing runs off the side.
    sue.client.set_window_size(1024, 800).await?;
    let overflow = sue
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            Vec::new(),
        )
        .await?;
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "no horizontal scrolling at 1024 px"
    );
    sue.by_role("tab", "Chats").await?.click().await?;
    sue.screenshot(&shots, "08-at-1024px").await?;

    // Dan, of another group, saw none of it.
    assert_eq!(chat_count(&dan).await?.0, "0");
    assert!(!agent_table(&dan, "Agent Status").await?.contains("Ann Lee"));
    for browser in [sue, ann, dan] {
        browser.client.clone().close().await?;
    }
    Ok(())
}
