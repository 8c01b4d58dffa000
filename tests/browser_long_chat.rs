//! Long lists in a real browser. A chat of thousands of messages: only a window of it is
//! in the page, the view follows new messages while it is at the bottom and stays put
//! while the agent reads further up, and the first message is there when she scrolls to
//! it (older pages load as she nears the top). An agent list of hundreds: a window of
//! rows, the whole list counted for assistive technology, reached by scrolling the page
//! and by the filter. An agent with two thousand past chats: her open chat in the
//! Multi-Chat Table, the past ones in History a page at a time, and she chats as ever.

use console_e2e::browser::{Browser, Driver};
use console_e2e::seed::{LongChatSpec, past_chats, seed};
use console_e2e::server::TestServer;
use console_e2e::{eventually, output_dir, workspace_root};
use serde_json::json;
use std::time::Duration;

const ENTER: &str = "\u{E007}";
const MESSAGES: usize = 2_000;

async fn sign_in(browser: &Browser, url: &str, name: &str) -> anyhow::Result<()> {
    browser.client.goto(url).await?;
    browser.by_role("button", name).await?.click().await?;
    browser.by_role("tab", "Chat").await?.click().await?;
    Ok(())
}

/// The transcript's scroll position, height and view height, and how many messages
/// are in the page.
async fn transcript_view(browser: &Browser) -> anyhow::Result<(f64, f64, f64, u64)> {
    let value = browser
        .client
        .execute(
            "const v = document.querySelector('.transcript');
             return [v.scrollTop, v.scrollHeight, v.clientHeight, v.querySelectorAll('li').length];",
            Vec::new(),
        )
        .await?;
    let number = |at: usize| value[at].as_f64().unwrap_or(f64::NAN);
    Ok((
        number(0),
        number(1),
        number(2),
        value[3].as_u64().unwrap_or(0),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_of_thousands_keeps_a_window_in_the_page_and_follows_new_messages_at_the_bottom()
-> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let directory = json!({"tenants": [{"id": "acme", "name": "Acme Contact Center", "agents": [
        {"id": "ann", "name": "Ann Lee", "group": "sales", "role": "agent"},
        {"id": "bob", "name": "Bob Stone", "group": "sales", "role": "agent"}]}]});
    let chat = LongChatSpec {
        tenant: "acme",
        id: "long",
        between: ["ann", "bob"],
        messages: MESSAGES,
    };
    let long = seed(data.path(), &directory, &[chat])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no chat written"))?;
    let server = TestServer::start_on(data, workspace_root().join("dist"), None).await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-long").await?;
    let bob = driver.browser("bob-long").await?;
    sign_in(&ann, &server.url(), "Ann Lee").await?;
    sign_in(&bob, &server.url(), "Bob Stone").await?;

    // The chat opens at its last message, with only a window of the messages in the page.
    eventually(
        "Ann's chat to show its last message",
        Duration::from_secs(30),
        || async {
            let last = ann.text_of(".transcript li:last-child .body").await?;
            Ok((last == long.last).then_some(()))
        },
    )
    .await?;
    let (top, height, view, lines) = transcript_view(&ann).await?;
    assert!(
        lines < 100,
        "{lines} of {MESSAGES} messages are in the page"
    );
    assert!(
        height - top - view < 50.0,
        "at the bottom: {top} {height} {view}"
    );
    ann.screenshot(&output_dir().join("screenshots"), "09-long-chat")
        .await?;

    // A new message arrives: the view follows it.
    bob.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("Fresh at the bottom.{ENTER}"))
        .await?;
    eventually(
        "the view to follow the new message",
        Duration::from_secs(15),
        || async {
            let last = ann.text_of(".transcript li:last-child .body").await?;
            let (top, height, view, _) = transcript_view(&ann).await?;
            Ok((last == "Fresh at the bottom." && height - top - view < 50.0).then_some(()))
        },
    )
    .await?;

    // She scrolls to the top: the first message is there.
    ann.client
        .execute(
            "document.querySelector('.transcript').scrollTop = 0;",
            Vec::new(),
        )
        .await?;
    eventually(
        "the first message at the top",
        Duration::from_secs(90),
        || async {
            ann.client
                .execute(
                    "document.querySelector('.transcript').scrollTop = 0;",
                    Vec::new(),
                )
                .await?;
            let first = ann.text_of(".transcript li:first-child .body").await?;
            Ok((first == long.first).then_some(()))
        },
    )
    .await?;

    // While she reads up there, a new message does not pull the view away.
    bob.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("While you read the top.{ENTER}"))
        .await?;
    eventually(
        "Bob's message to be stored",
        Duration::from_secs(15),
        || async {
            let page = bob.text_of("body").await?;
            Ok(
                (page.contains("While you read the top.") && !page.contains("Sending…"))
                    .then_some(()),
            )
        },
    )
    .await?;
    // Given the moment the push takes to come, and a few frames.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (top, _, _, _) = transcript_view(&ann).await?;
    assert!(top < 50.0, "the view stayed at the top: scrollTop {top}");
    let first = ann.text_of(".transcript li:first-child .body").await?;
    assert_eq!(first, long.first);

    // Back at the bottom, the message is there.
    ann.client
        .execute(
            "const v = document.querySelector('.transcript'); v.scrollTop = v.scrollHeight;",
            Vec::new(),
        )
        .await?;
    eventually(
        "the latest message at the bottom",
        Duration::from_secs(15),
        || async {
            ann.client
            .execute(
                "const v = document.querySelector('.transcript'); v.scrollTop = v.scrollHeight;",
                Vec::new(),
            )
            .await?;
            let last = ann.text_of(".transcript li:last-child .body").await?;
            Ok((last == "While you read the top.").then_some(()))
        },
    )
    .await?;
    for browser in [ann, bob] {
        browser.client.clone().close().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_list_of_hundreds_keeps_a_window_in_the_page_and_scrolls_and_filters_them_all()
-> anyhow::Result<()> {
    const AGENTS: usize = 600;
    let data = tempfile::tempdir()?;
    let mut agents =
        vec![json!({"id": "ann", "name": "Ann Lee", "group": "sales", "role": "agent"})];
    agents.extend((0..AGENTS).map(|n| {
        json!({"id": format!("agent-{n:04}"), "name": format!("Colleague {n:04}"), "group": "sales", "role": "agent"})
    }));
    let directory =
        json!({"tenants": [{"id": "acme", "name": "Acme Contact Center", "agents": agents}]});
    seed(data.path(), &directory, &[]).await?;
    let server = TestServer::start_on(data, workspace_root().join("dist"), None).await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-list").await?;
    ann.client.goto(&server.url()).await?;
    ann.by_role("button", "Ann Lee").await?.click().await?;
    ann.wait_for_text("Colleague 0000").await?;

    // Every agent is counted for assistive technology; only a window is in the page.
    let rows = |script: &'static str| {
        let ann = &ann;
        async move {
            let value = ann.client.execute(script, Vec::new()).await?;
            anyhow::Ok(value.as_u64().unwrap_or_default())
        }
    };
    let count =
        "return Number(document.querySelector('table.agents').getAttribute('aria-rowcount'));";
    let in_page =
        "return document.querySelectorAll('table.agents tbody tr[aria-rowindex]').length;";
    // The header row and every agent (counted once the whole list has come).
    eventually("every agent counted", Duration::from_secs(10), || async {
        Ok((rows(count).await? == AGENTS as u64 + 1).then_some(()))
    })
    .await?;
    let shown = rows(in_page).await?;
    assert!(
        shown > 5 && shown < 100,
        "{shown} rows of {AGENTS} in the page"
    );

    // Scrolled to the end of the page, the last agents are there.
    eventually(
        "the last agent at the end of the page",
        Duration::from_secs(15),
        || async {
            ann.client
                .execute(
                    "window.scrollTo(0, document.documentElement.scrollHeight);",
                    Vec::new(),
                )
                .await?;
            let table = ann.by_role("table", "Agent Status").await?.text().await?;
            Ok(table
                .contains(&format!("Colleague {:04}", AGENTS - 1))
                .then_some(()))
        },
    )
    .await?;
    assert!(rows(in_page).await? < 100);
    // The audit with rows left out above and below the window.
    ann.client
        .execute(
            "window.scrollTo(0, document.documentElement.scrollHeight / 2);",
            Vec::new(),
        )
        .await?;
    let violations = ann.accessibility_violations().await?;
    assert!(violations.is_empty(), "axe-core found: {violations:#?}");

    // Filtering finds an agent from the middle of the list, and only her.
    ann.client
        .execute("window.scrollTo(0, 0);", Vec::new())
        .await?;
    ann.by_role("searchbox", "Filter by name")
        .await?
        .send_keys("colleague 0321")
        .await?;
    eventually(
        "the filter to leave one agent",
        Duration::from_secs(15),
        || async { Ok((rows(count).await? == 2 && rows(in_page).await? == 1).then_some(())) },
    )
    .await?;
    ann.by_role("button", "Colleague 0321").await?;
    ann.client.clone().close().await?;
    Ok(())
}

/// How many rows the History list shows.
async fn history_rows(browser: &Browser) -> anyhow::Result<u64> {
    let count = browser
        .client
        .execute(
            "return document.querySelectorAll('.history-list li').length;",
            Vec::new(),
        )
        .await?;
    Ok(count.as_u64().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_two_thousand_past_chats_sees_her_open_chat_pages_her_history_and_chats()
-> anyhow::Result<()> {
    const PAST: usize = 2_000;
    let data = tempfile::tempdir()?;
    let directory = json!({"tenants": [{"id": "acme", "name": "Acme Contact Center", "agents": [
        {"id": "ann", "name": "Ann Lee", "group": "sales", "role": "agent"},
        {"id": "bob", "name": "Bob Stone", "group": "sales", "role": "agent"},
        {"id": "cara", "name": "Cara Diaz", "group": "sales", "role": "agent"},
        {"id": "dan", "name": "Dan Wu", "group": "sales", "role": "agent"},
        {"id": "eve", "name": "Eve Park", "group": "sales", "role": "agent"},
        {"id": "sue", "name": "Sue Grant", "group": "sales", "role": "supervisor"}]}]});
    seed(data.path(), &directory, &[]).await?;
    let colleagues = [
        ("cara", "Cara Diaz"),
        ("dan", "Dan Wu"),
        ("eve", "Eve Park"),
    ];
    past_chats(
        data.path(),
        "acme",
        "ann",
        &colleagues.map(|(id, _)| id),
        PAST,
    )
    .await?;
    let open = LongChatSpec {
        tenant: "acme",
        id: "open-with-bob",
        between: ["bob", "ann"],
        messages: 3,
    };
    seed(data.path(), &directory, &[open]).await?;
    let server = TestServer::start_on(data, workspace_root().join("dist"), None).await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-history").await?;
    let bob = driver.browser("bob-history").await?;
    sign_in(&ann, &server.url(), "Ann Lee").await?;

    // The table: her one open chat. History: the latest 20 past chats, newest first.
    eventually(
        "Ann's History to show a page",
        Duration::from_secs(30),
        || async { Ok((history_rows(&ann).await? == 20).then_some(())) },
    )
    .await?;
    let table = ann.text_of("table.multi-chat tbody").await?;
    assert!(
        table.contains("Bob Stone"),
        "the open chat is listed: {table:?}"
    );
    let open_rows = ann
        .client
        .execute(
            "return document.querySelectorAll('table.multi-chat tbody tr').length;",
            Vec::new(),
        )
        .await?;
    assert_eq!(
        open_rows.as_u64(),
        Some(1),
        "ended chats are not in the table"
    );
    let newest = ann.text_of(".history-list li:first-child").await?;
    assert!(
        newest.contains(&format!("Past answer {}", PAST - 1))
            && newest.contains(colleagues[(PAST - 1) % colleagues.len()].1),
        "the most recently ended first, with its last line: {newest:?}"
    );
    ann.screenshot(&output_dir().join("screenshots"), "10-history")
        .await?;

    // Older chats as she scrolls the list to its end, and on "Show older chats".
    ann.client
        .execute(
            "const l = document.querySelector('.history-list'); l.scrollTop = l.scrollHeight;",
            Vec::new(),
        )
        .await?;
    eventually(
        "a second page of History",
        Duration::from_secs(15),
        || async { Ok((history_rows(&ann).await? == 40).then_some(())) },
    )
    .await?;
    ann.by_role("button", "Show older chats")
        .await?
        .click()
        .await?;
    eventually(
        "a third page of History",
        Duration::from_secs(15),
        || async { Ok((history_rows(&ann).await? == 60).then_some(())) },
    )
    .await?;

    // A past chat opens, ended, with its messages.
    ann.client
        .find(fantoccini::Locator::Css(
            ".history-list li:nth-child(45) button",
        ))
        .await?
        .click()
        .await?;
    let past = PAST - 45;
    eventually(
        "the past chat's messages",
        Duration::from_secs(15),
        || async {
            let shown = ann.text_of(".transcript").await?;
            Ok((shown.contains(&format!("Past question {past}"))
                && shown.contains(&format!("Past answer {past}")))
            .then_some(()))
        },
    )
    .await?;

    // And she chats with Bob as ever.
    ann.by_role("button", "Bob Stone").await?.click().await?;
    ann.by_role("textbox", "Your Message")
        .await?
        .send_keys(&format!("Back to the transfer.{ENTER}"))
        .await?;
    sign_in(&bob, &server.url(), "Bob Stone").await?;
    bob.by_role("button", "Ann Lee").await?.click().await?;
    eventually(
        "Bob to read Ann's message",
        Duration::from_secs(15),
        || async {
            let shown = bob.text_of(".transcript").await?;
            Ok(shown.contains("Back to the transfer.").then_some(()))
        },
    )
    .await?;

    // Sue searches the year's transcripts for one old answer: each page looks at a
    // bounded number of chats and says how far back it has gone; she goes on until found.
    let sue = driver.browser("sue-history").await?;
    sign_in(&sue, &server.url(), "Sue Grant").await?;
    sue.by_role("tab", "Transcripts").await?.click().await?;
    let wanted = PAST - 766;
    sue.by_role("searchbox", "Search text")
        .await?
        .send_keys(&format!("Past answer {wanted}{ENTER}"))
        .await?;
    sue.wait_for_text("0 transcripts so far: looked at the chats started since")
        .await?;
    let found = async || -> anyhow::Result<u64> {
        let rows = sue
            .client
            .execute(
                "return document.querySelectorAll('table.transcript-list tbody tr').length;",
                Vec::new(),
            )
            .await?;
        Ok(rows.as_u64().unwrap_or(0))
    };
    let mut pages = 1;
    while found().await? == 0 {
        assert!(pages < 30, "a search that never ends");
        sue.by_role("button", "Search further back")
            .await?
            .click()
            .await?;
        pages += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(pages > 1, "the first page looked at the latest chats only");
    let row = sue.text_of("table.transcript-list tbody").await?;
    assert!(
        row.contains("Ann Lee") && row.contains(colleagues[wanted % colleagues.len()].1),
        "{row:?}"
    );
    let violations = sue.accessibility_violations().await?;
    assert!(
        violations.is_empty(),
        "axe-core found on a paged search: {violations:#?}"
    );
    sue.screenshot(&output_dir().join("screenshots"), "11-transcript-search")
        .await?;
    for browser in [ann, bob, sue] {
        browser.client.clone().close().await?;
    }
    Ok(())
}
