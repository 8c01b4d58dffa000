//! Help, end to end in real browsers (six Chromium sessions): Ann asks her group about a
//! customer's interaction (an ID the protocol refuses is refused at once, her question
//! kept) and Bob takes it while Cara sees it taken; Dan's question goes unanswered past
//! his tenant's response target and his supervisor Sue, alerted, takes it; Cara raises
//! her hand, Sue sees what Cara is doing (live) and takes it; Dan (another group) and Gus (another tenant) see none of sales' questions;
//! a reload keeps a waiting question.

use console_e2e::browser::{Browser, Driver};
use console_e2e::console::sign_in;
use console_e2e::seed::seed;
use console_e2e::server::TestServer;
use console_e2e::{eventually, output_dir, workspace_root};
use std::time::Duration;

/// How long a question waits before it is overdue in this test's tenant.
const TARGET_SECONDS: u64 = 6;

/// Records the notifications and sounds the console makes, in `window.__alerts` (as
/// `browser_chat` does; the page stays visible: an overdue question alerts anyway).
const RECORD_ALERTS: &str = r#"
    window.__alerts = [];
    window.Notification = class {
        static get permission() { return 'granted'; }
        static requestPermission() { return Promise.resolve('granted'); }
        constructor(title, options) { window.__alerts.push(['notification', title, options.body]); }
    };
"#;

async fn open_questions(browser: &Browser) -> anyhow::Result<String> {
    browser.text_of(".open-questions").await
}

/// Waits until `browser`'s Open questions list contains `text`.
async fn listed(browser: &Browser, text: &str) -> anyhow::Result<()> {
    eventually(
        &format!("{}'s Open questions to show {text:?}", browser.name),
        Duration::from_secs(20),
        || async {
            let shown = open_questions(browser).await?;
            anyhow::ensure!(shown.contains(text), "it shows {shown:?}");
            Ok(Some(()))
        },
    )
    .await
}

async fn ask(browser: &Browser, question: &str) -> anyhow::Result<()> {
    ask_about(browser, question, None).await
}

/// Asks `question`, about `interaction` if any.
async fn ask_about(
    browser: &Browser,
    question: &str,
    interaction: Option<&str>,
) -> anyhow::Result<()> {
    browser
        .by_role("textbox", "Your question")
        .await?
        .send_keys(question)
        .await?;
    if let Some(interaction) = interaction {
        browser
            .by_role("textbox", "Interaction ID (optional)")
            .await?
            .send_keys(interaction)
            .await?;
    }
    browser
        .by_role("button", "Ask my group")
        .await?
        .click()
        .await?;
    listed(browser, question).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_and_hands_are_taken_once_escalate_and_stay_within_group_and_tenant()
-> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let mut directory: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        workspace_root().join("backend/local/demo-directory.json"),
    )?)?;
    directory["tenants"][0]["response_target_seconds"] = TARGET_SECONDS.into();
    seed(data.path(), &directory, &[]).await?;
    let server = TestServer::start_on(data, workspace_root().join("dist"), None).await?;
    let shots = output_dir().join("screenshots");
    let driver = Driver::start().await?;
    let [ann, bob, cara, dan, sue, gus] = [
        driver.browser("ann").await?,
        driver.browser("bob").await?,
        driver.browser("cara").await?,
        driver.browser("dan").await?,
        driver.browser("sue").await?,
        driver.browser("gus").await?,
    ];
    for (browser, name) in [
        (&ann, "Ann Lee"),
        (&bob, "Bob Stone"),
        (&cara, "Cara Diaz"),
        (&dan, "Dan Wu"),
        (&sue, "Sue Grant"),
        (&gus, "Gus Hale"),
    ] {
        sign_in(browser, &server.url(), name).await?;
        browser.by_role("tab", "Chat").await?.click().await?;
    }
    sue.client.execute(RECORD_ALERTS, Vec::new()).await?;

    // An interaction ID the protocol refuses is refused at once, and the question stays.
    let question = "Who knows the refund rule for annual plans?";
    ann.by_role("textbox", "Your question")
        .await?
        .send_keys(question)
        .await?;
    ann.by_role("textbox", "Interaction ID (optional)")
        .await?
        .send_keys(&"x".repeat(300))
        .await?;
    ann.by_role("button", "Ask my group").await?.click().await?;
    ann.wait_for_text("An interaction ID has at most 256 characters.")
        .await?;
    let kept = ann
        .by_role("textbox", "Your question")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(kept == question, "the question was lost: {kept:?}");
    ann.by_role("textbox", "Interaction ID (optional)")
        .await?
        .clear()
        .await?;
    ann.by_role("textbox", "Your question")
        .await?
        .clear()
        .await?;

    // Ann asks her group about a customer's interaction: Bob and Cara see it at once,
    // and the Chat tab counts it.
    ask_about(&ann, question, Some("INT-42")).await?;
    listed(&bob, question).await?;
    listed(&bob, "INT-42").await?;
    listed(&cara, question).await?;
    listed(&sue, question).await?;
    ann.screenshot(&shots, "help-01-asked").await?;
    bob.by_role("button", "Take it").await?.click().await?;
    // Bob's chat with Ann opens, her question its first message; Cara sees who took it.
    bob.wait_for_text("Chat with Ann Lee").await?;
    bob.wait_for_text(question).await?;
    listed(&cara, "Taken by Bob Stone").await?;
    listed(&ann, "Taken by Bob Stone").await?;
    cara.screenshot(&shots, "help-02-taken").await?;
    anyhow::ensure!(
        cara.all_by_role("button", "Take it").await?.is_empty(),
        "a taken question can no longer be taken"
    );

    // Dan (support) asks; nobody of support takes it; past the target Sue, support's
    // supervisor, is alerted and sees it overdue, and takes it.
    let unanswered = "Is the outage page up to date?";
    ask(&dan, unanswered).await?;
    listed(&sue, unanswered).await?;
    tokio::time::sleep(Duration::from_secs(TARGET_SECONDS)).await;
    listed(&sue, "Overdue").await?;
    let alerts = eventually("Sue's overdue alert", Duration::from_secs(15), || async {
        let alerts = sue
            .client
            .execute("return JSON.stringify(window.__alerts);", Vec::new())
            .await?;
        let alerts = alerts.as_str().unwrap_or_default().to_owned();
        Ok(alerts.contains("overdue").then_some(alerts))
    })
    .await?;
    anyhow::ensure!(alerts.contains("notification"), "{alerts}");
    sue.screenshot(&shots, "help-03-overdue").await?;
    sue.by_role("button", "Take it").await?.click().await?;
    sue.wait_for_text("Chat with Dan Wu").await?;
    listed(&dan, "Taken by Sue Grant").await?;

    // Cara, busy, raises her hand; Sue sees it with what Cara is doing now, live, and
    // takes it; Cara sees who is coming.
    cara.by_role("combobox", "My State")
        .await?
        .send_keys("Busy")
        .await?;
    cara.by_role("button", "Raise hand").await?.click().await?;
    cara.by_role("button", "Lower hand").await?;
    listed(&sue, "Raised a hand").await?;
    listed(&sue, "Busy").await?;
    // (Chosen as the page's own select would: typing a label with a space in it opens
    // the list instead. A change within 300 ms of the last is refused: chosen again.)
    eventually("Cara to be On Break", Duration::from_secs(10), || async {
        cara.client
            .execute(
                "const s = document.getElementById('my-state'); s.value = 'on_break'; \
                 s.dispatchEvent(new Event('change', { bubbles: true }));",
                Vec::new(),
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let chosen = cara
            .by_role("combobox", "My State")
            .await?
            .prop("value")
            .await?;
        Ok((chosen.as_deref() == Some("on_break")).then_some(()))
    })
    .await?;
    listed(&sue, "On Break").await?;
    sue.by_role("button", "Take it").await?.click().await?;
    sue.wait_for_text("Chat with Cara Diaz").await?;
    listed(&cara, "Taken by Sue Grant").await?;
    cara.by_role("button", "Raise hand").await?;

    // Another group and another tenant saw none of sales' questions nor the hand.
    for (browser, never) in [
        (&dan, question),
        (&dan, "Raised a hand"),
        (&gus, question),
        (&gus, unanswered),
        (&gus, "Raised a hand"),
    ] {
        let text = browser.text_of("body").await?;
        anyhow::ensure!(!text.contains(never), "{} saw {never:?}", browser.name);
    }

    // A question still waiting survives the asker's reload, with its Withdraw.
    let waiting = "Anyone free to shadow a call at 3?";
    ask(&ann, waiting).await?;
    listed(&bob, waiting).await?;
    ann.client.refresh().await?;
    ann.by_role("tab", "Chat").await?.click().await?;
    listed(&ann, waiting).await?;
    ann.by_role("button", "Withdraw").await?.click().await?;
    listed(&bob, "Withdrawn").await?;
    let violations = ann.accessibility_violations().await?;
    anyhow::ensure!(violations.is_empty(), "axe-core: {violations:#?}");
    ann.screenshot(&shots, "help-04-withdrawn").await?;
    // Ends each session, which quits its Chromium (killing chromedriver would not).
    for browser in [ann, bob, cara, dan, sue, gus] {
        browser.client.clone().close().await?;
    }
    Ok(())
}
