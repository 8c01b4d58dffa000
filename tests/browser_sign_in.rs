//! Signing in through an identity provider, as in AWS with Cognito's hosted UI: the
//! console (told so by its `config.json`) sends the browser to the provider, redeems the
//! code it comes back with (PKCE), uses the ID token for the HTTP API and the WebSocket,
//! and signing out ends the provider's session too. A refused sign-in says why.

use console_e2e::browser::Driver;
use console_e2e::identity::Provider;
use console_e2e::server::TestServer;
use console_e2e::workspace_root;
use fantoccini::Locator;

/// The built console with a `config.json` naming the provider.
fn console_with_config(config: &serde_json::Value) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let built = workspace_root().join("dist");
    for entry in std::fs::read_dir(&built)? {
        let entry = entry?;
        std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name()))?;
    }
    std::fs::write(dir.path().join("config.json"), config.to_string())?;
    Ok(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_signs_in_with_the_identity_provider_and_out_again() -> anyhow::Result<()> {
    let provider = Provider::start(&[("ann.lee", "acme", "ann")]).await?;
    let console = console_with_config(&provider.console_config())?;
    let server =
        TestServer::start_with(console.path().to_path_buf(), Some(provider.settings())).await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann").await?;

    // No development sign-in here: one button to the provider.
    ann.client.goto(&server.url()).await?;
    ann.by_role("button", "Sign in").await?.click().await?;
    ann.wait_for_text("Username").await?;
    ann.client
        .find(Locator::Css("input[name=username]"))
        .await?
        .send_keys("ann.lee")
        .await?;
    ann.by_role("button", "Continue").await?.click().await?;

    // Back in the console as Ann, live: her colleagues are listed with their states.
    ann.by_role("tab", "Status").await?;
    ann.wait_for_text("Ann Lee").await?;
    ann.wait_for_text("Bob Stone").await?;
    let address = ann.client.current_url().await?;
    anyhow::ensure!(
        address.query().is_none(),
        "the single-use code is left in the address: {address}"
    );
    anyhow::ensure!(
        server.server.as_ref().map(|s| s.live_connections()) == Some(1),
        "the console's WebSocket is not open"
    );

    // Signing out ends the provider's session and comes back to the sign-in.
    ann.by_role("button", "Sign out").await?.click().await?;
    ann.by_role("button", "Sign in").await?;
    anyhow::ensure!(
        provider.logouts() == 1,
        "the provider's logout was not visited"
    );

    // A refused sign-in says so, and signing in again works.
    ann.by_role("button", "Sign in").await?.click().await?;
    ann.by_role("button", "Cancel").await?.click().await?;
    ann.wait_for_text("The user cancelled the sign-in").await?;
    ann.by_role("button", "Sign in").await?.click().await?;
    ann.client
        .find(Locator::Css("input[name=username]"))
        .await?
        .send_keys("ann.lee")
        .await?;
    ann.by_role("button", "Continue").await?.click().await?;
    ann.by_role("tab", "Status").await?;
    // Ends the session, which quits its Chromium (killing chromedriver would not).
    ann.client.clone().close().await?;
    Ok(())
}

/// The local server's development sign-in page, which stands where the provider's page
/// stands: the console goes there when nobody is signed in, an agent is chosen by
/// keyboard, the console opens as her, and signing out comes back to the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_server_s_development_sign_in_page_signs_in_and_the_console_comes_back_to_it()
-> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let driver = Driver::start().await?;
    let ann = driver.browser("ann-dev").await?;

    ann.client.goto(&server.url()).await?;
    let choice = ann.by_role("button", "Ann Lee").await?;
    anyhow::ensure!(
        ann.client.current_url().await?.path() == protocol::http::DEV_SIGN_IN_PAGE,
        "the console did not go to the development sign-in page"
    );
    ann.wait_for_text("Development sign-in: choose who you are.")
        .await?;
    let violations = ann.accessibility_violations().await?;
    anyhow::ensure!(violations.is_empty(), "axe-core: {violations:?}");
    choice.send_keys(console_e2e::console::ENTER).await?;
    ann.by_role("tab", "Status").await?;
    anyhow::ensure!(
        ann.client.current_url().await?.path() == "/",
        "the console is not at its own address"
    );

    ann.by_role("button", "Sign out").await?.click().await?;
    ann.by_role("button", "Bob Stone").await?;
    anyhow::ensure!(
        ann.client.current_url().await?.path() == protocol::http::DEV_SIGN_IN_PAGE,
        "signing out did not come back to the development sign-in page"
    );
    ann.client.clone().close().await?;
    Ok(())
}
