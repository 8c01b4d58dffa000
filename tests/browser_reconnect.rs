//! Reconnecting in real browsers: messages typed offline go out once and in order, a send
//! made while the console reconnects goes out on the new connection, and a lost push is
//! noticed and fetched without waiting for a reconnect.

use console_e2e::browser::{Browser, Driver, PATIENCE};
use console_e2e::console::{ENTER, sign_in, start_chat_with, stored};
use console_e2e::server::TestServer;
use console_e2e::{eventually, output_dir};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_typed_while_offline_are_delivered_once_in_order_on_reconnect()
-> anyhow::Result<()> {
    let mut server = TestServer::start().await?;
    let shots = output_dir().join("screenshots");
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-3").await?;
    let bob = driver.browser("bob-3").await?;
    sign_in(&bob, &server.url(), "Bob Stone").await?;
    sign_in(&ann, &server.url(), "Ann Lee").await?;
    // A consult about a customer interaction, before a transfer.
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("menuitem", "Start a chat about an interaction…")
        .await?
        .click()
        .await?;
    // The page's own dialog asks for it (tests/browser_keyboard.rs tries it by keyboard).
    ann.by_role("textbox", "Interaction ID")
        .await?
        .send_keys(&format!("INT-4711{ENTER}"))
        .await?;
    ann.wait_for_text("About interaction INT-4711").await?;
    let message = ann.by_role("textbox", "Your Message").await?;
    message.send_keys(&format!("First, online.{ENTER}")).await?;
    bob.by_role("tab", "Chat").await?.click().await?;
    bob.wait_for_text("First, online.").await?;
    bob.wait_for_text("About interaction INT-4711").await?;

    // Markup in a message is shown as text, never run.
    let payload =
        r#"<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b>bold?</b>"#;
    ann.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("{payload}{ENTER}"))
        .await?;
    bob.wait_for_text(payload).await?;
    let pwned = bob
        .client
        .execute("return window.__pwned === undefined && document.querySelector('.transcript b, .transcript img') === null;", Vec::new())
        .await?;
    assert_eq!(
        pwned.as_bool(),
        Some(true),
        "the payload did not become markup"
    );

    server.stop().await;
    ann.wait_for_text("Connection lost").await?;
    let message = ann.by_role("textbox", "Your Message").await?;
    message
        .send_keys(&format!("Second, typed offline.{ENTER}"))
        .await?;
    message
        .send_keys(&format!("Third, typed offline.{ENTER}"))
        .await?;
    ann.wait_for_text("Sending…").await?;
    ann.screenshot(&shots, "07-offline").await?;

    server.start_again().await?;
    bob.wait_for_text("Third, typed offline.").await?;
    eventually(
        "Ann's sends to be acknowledged",
        Duration::from_secs(20),
        || async {
            let page = ann
                .client
                .find(fantoccini::Locator::Css("body"))
                .await?
                .text()
                .await?;
            Ok((!page.contains("Sending…") && !page.contains("Connection lost")).then_some(()))
        },
    )
    .await?;
    let transcript = bob.text_of(".transcript").await?;
    let order: Vec<usize> = [
        "First, online.",
        "Second, typed offline.",
        "Third, typed offline.",
    ]
    .iter()
    .map(|m| transcript.find(m).unwrap_or(usize::MAX))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "in order: {transcript}"
    );
    assert_eq!(
        transcript.matches("Second, typed offline.").count(),
        1,
        "once: {transcript}"
    );
    for browser in [ann, bob] {
        browser.client.clone().close().await?;
    }
    Ok(())
}

/// Wraps the page's WebSocket listeners (before the console opens its socket) so that a
/// test can hold a reconnect half-way: while `window.__hold` is true, every frame that
/// comes in waits in `window.__held` (its type in `window.__heldTypes`) until
/// `window.__release()` hands them over in order.
const HOLD_THE_WELCOME: &str = r#"
    window.__hold = false;
    window.__held = [];
    window.__heldTypes = [];
    window.__release = () => {
        window.__hold = false;
        for (const [deliver, socket, event] of window.__held.splice(0)) deliver.call(socket, event);
    };
    const addEventListener = WebSocket.prototype.addEventListener;
    WebSocket.prototype.addEventListener = function (type, listener, options) {
        if (type === 'message') {
            const deliver = listener;
            listener = function (event) {
                if (window.__hold) {
                    window.__held.push([deliver, this, event]);
                    window.__heldTypes.push(JSON.parse(event.data).type);
                    return;
                }
                return deliver.call(this, event);
            };
        }
        return addEventListener.call(this, type, listener, options);
    };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_the_console_reconnects_goes_out_on_the_new_connection()
-> anyhow::Result<()> {
    let mut server = TestServer::start().await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-5").await?;
    let bob = driver.browser("bob-5").await?;
    sign_in(&ann, &server.url(), "Ann Lee").await?;
    bob.on_every_page(HOLD_THE_WELCOME).await?;
    sign_in(&bob, &server.url(), "Bob Stone").await?;
    start_chat_with(&bob, "Ann Lee").await?;

    // The server restarts. Bob's console opens a new socket and says hello; what the
    // server sends back is held, so the console is still connecting when Bob sends.
    server.stop().await;
    bob.wait_for_text("Connection lost").await?;
    bob.client
        .execute("window.__hold = true;", Vec::new())
        .await?;
    server.start_again().await?;
    eventually("Bob's welcome to be held", PATIENCE, || async {
        let held = bob
            .client
            .execute("return window.__heldTypes.includes('welcome');", Vec::new())
            .await?;
        Ok((held.as_bool() == Some(true)).then_some(()))
    })
    .await?;
    bob.wait_for_text("Connecting…").await?;
    bob.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("Sent while connecting.{ENTER}"))
        .await?;
    bob.client
        .execute("window.__release();", Vec::new())
        .await?;

    ann.by_role("tab", "Chat").await?.click().await?;
    ann.wait_for_text("Sent while connecting.").await?;
    stored(&bob, "Sent while connecting.").await?;
    let transcript = ann.text_of(".transcript").await?;
    assert_eq!(
        transcript.matches("Sent while connecting.").count(),
        1,
        "once: {transcript}"
    );
    for browser in [ann, bob] {
        browser.client.clone().close().await?;
    }
    Ok(())
}

/// Wraps the page's WebSocket listeners (before the console opens its socket) so that a
/// test can lose pushes on the way: every frame for which `window.__lose(frame)` is true
/// is dropped and its type recorded in `window.__lost`. `window.__sockets` counts the
/// sockets the console opened, to tell a catch-up from a reconnect's resume.
const LOSE_PUSHES_ON_DEMAND: &str = r#"
    window.__lose = null;
    window.__lost = [];
    window.__sockets = 0;
    const addEventListener = WebSocket.prototype.addEventListener;
    WebSocket.prototype.addEventListener = function (type, listener, options) {
        if (type === 'message') {
            window.__sockets += 1;
            const deliver = listener;
            listener = function (event) {
                let frame = null;
                try { frame = JSON.parse(event.data); } catch (_) {}
                if (frame && window.__lose && window.__lose(frame)) {
                    window.__lost.push(frame.type);
                    return;
                }
                return deliver.call(this, event);
            };
        }
        return addEventListener.call(this, type, listener, options);
    };
"#;

/// The types of the pushes lost so far.
async fn lost_pushes(browser: &Browser) -> anyhow::Result<String> {
    let lost = browser
        .client
        .execute("return JSON.stringify(window.__lost);", Vec::new())
        .await?;
    Ok(lost.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_push_is_noticed_and_fetched_without_waiting_for_a_reconnect() -> anyhow::Result<()>
{
    let server = TestServer::start().await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-4").await?;
    let bob = driver.browser("bob-4").await?;
    sign_in(&bob, &server.url(), "Bob Stone").await?;
    ann.on_every_page(LOSE_PUSHES_ON_DEMAND).await?;
    sign_in(&ann, &server.url(), "Ann Lee").await?;
    start_chat_with(&ann, "Bob Stone").await?;
    bob.by_role("tab", "Chat").await?.click().await?;
    let say = |text: &'static str| {
        let bob = &bob;
        async move {
            bob.by_role("textbox", "Your Message")
                .await?
                .send_keys(&format!("{text}{ENTER}"))
                .await?;
            stored(bob, text).await
        }
    };
    say("One, delivered.").await?;
    ann.wait_for_text("One, delivered.").await?;

    // The push of message 2 (which carries the chat's new state too: protocol 3) is
    // lost: nothing tells Ann's console about it until message 3 comes, numbered past it.
    ann.client
        .execute(
            "window.__lose = f => f.type === 'message' && f.message.body === 'Two, lost on the way.';",
            Vec::new(),
        )
        .await?;
    say("Two, lost on the way.").await?;
    eventually("the push to be lost", PATIENCE, || async {
        let lost = lost_pushes(&ann).await?;
        Ok(lost.contains("message").then_some(()))
    })
    .await?;
    ann.client
        .execute("window.__lose = null;", Vec::new())
        .await?;
    say("Three, delivered.").await?;
    ann.wait_for_text("Two, lost on the way.").await?;

    // Message 4's push is lost too; message 5 reveals it.
    ann.client
        .execute(
            "window.__lose = f => f.type === 'message' && f.message.body === 'Four, lost too.';",
            Vec::new(),
        )
        .await?;
    say("Four, lost too.").await?;
    ann.client
        .execute("window.__lose = null;", Vec::new())
        .await?;
    say("Five, delivered.").await?;
    ann.wait_for_text("Four, lost too.").await?;

    let transcript = ann.text_of(".transcript").await?;
    let lines = [
        "One, delivered.",
        "Two, lost on the way.",
        "Three, delivered.",
        "Four, lost too.",
        "Five, delivered.",
    ];
    let at: Vec<usize> = lines
        .iter()
        .map(|line| transcript.find(line).unwrap_or(usize::MAX))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "in order: {transcript}");
    for line in lines {
        assert_eq!(transcript.matches(line).count(), 1, "once: {transcript}");
    }
    let lost = lost_pushes(&ann).await?;
    assert!(lost.matches("message").count() == 2, "lost: {lost}");
    let sockets = ann
        .client
        .execute("return window.__sockets;", Vec::new())
        .await?;
    assert_eq!(
        sockets.as_i64(),
        Some(1),
        "caught up on the same connection, not by reconnecting"
    );
    for browser in [ann, bob] {
        browser.client.clone().close().await?;
    }
    Ok(())
}
