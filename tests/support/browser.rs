//! Real Chromium browsers through chromedriver, and finding controls by ARIA role and
//! accessible name (WebDriver's "Get Computed Role/Label", as the browser's
//! accessibility tree computes them).

use crate::eventually;
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long to wait for something to appear in a page.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A chromedriver process, stopped when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    url: String,
    profiles: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(env: &str, candidates: &[&str]) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Ok(PathBuf::from(path));
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} not found (set {env}); `cargo xtask test` installs Debian's chromium and chromium-driver",
                candidates.join(" or ")
            )
        })
}

impl Driver {
    /// Starts chromedriver on a free port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let program = find_program("CHROMEDRIVER", &["/usr/bin/chromedriver"])?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let url = format!("http://127.0.0.1:{port}");
        let driver = Driver {
            child,
            url,
            profiles: tempfile::tempdir()?,
        };
        eventually(
            "chromedriver to listen",
            Duration::from_secs(20),
            || async {
                Ok(std::net::TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .map(|_| ()))
            },
        )
        .await?;
        Ok(driver)
    }

    /// Opens a new headless Chromium with its own fresh profile: a separate browser, as a
    /// second agent at another desk would have.
    pub async fn browser(&self, name: &str) -> anyhow::Result<Browser> {
        self.browser_with(name, &[]).await
    }

    /// As [`Driver::browser`], with more command-line switches for Chromium (say,
    /// `--force-prefers-reduced-motion`).
    pub async fn browser_with(&self, name: &str, switches: &[&str]) -> anyhow::Result<Browser> {
        let chromium = find_program(
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        )?;
        let profile = self.profiles.path().join(name);
        std::fs::create_dir_all(&profile)?;
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,800".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ]
        .into_iter()
        .chain(switches.iter().map(|switch| (*switch).to_owned()))
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await?;
        Ok(Browser {
            client,
            name: name.to_owned(),
        })
    }
}

/// One browser window, as one agent.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    pub name: String,
}

/// A WebDriver command of the session at `session/{id}/{path}`: a GET, or a POST of
/// `body` (chromedriver's own endpoints among them, which fantoccini does not wrap).
#[derive(Debug)]
struct SessionCommand {
    path: String,
    body: Option<String>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        match &self.body {
            None => (http::Method::GET, None),
            Some(body) => (http::Method::POST, Some(body.clone())),
        }
    }
}

/// CSS for the elements that may have a role: its native elements and explicit roles.
fn role_selector(role: &str) -> String {
    let native = match role {
        "button" => "button, input[type=button], input[type=submit]",
        "textbox" => "textarea, input:not([type]), input[type=text]",
        "link" => "a[href]",
        "combobox" => "select",
        "searchbox" => "input[type=search]",
        "checkbox" => "input[type=checkbox]",
        "table" => "table",
        "dialog" => "dialog",
        "row" => "tr",
        _ => "",
    };
    if native.is_empty() {
        format!("[role=\"{role}\"]")
    } else {
        format!("{native}, [role=\"{role}\"]")
    }
}

impl Browser {
    /// Runs `script` first in every page this browser loads from now on, before the
    /// page's own scripts: how a test stands between the console and its WebSocket from
    /// the start, across the sign-in page's move to the console.
    pub async fn on_every_page(&self, script: &str) -> anyhow::Result<()> {
        // Chromium's Page.addScriptToEvaluateOnNewDocument, through chromedriver.
        let body = serde_json::json!({
            "cmd": "Page.addScriptToEvaluateOnNewDocument",
            "params": { "source": script },
        });
        self.client
            .issue_cmd(SessionCommand {
                path: "goog/cdp/execute".into(),
                body: Some(body.to_string()),
            })
            .await?;
        Ok(())
    }

    /// The accessible name of an element, as the browser computes it.
    pub async fn accessible_name(&self, element: &Element) -> anyhow::Result<String> {
        self.query(element, "computedlabel").await
    }

    async fn query(&self, element: &Element, what: &'static str) -> anyhow::Result<String> {
        let value = self
            .client
            .issue_cmd(SessionCommand {
                path: format!("element/{}/{what}", element.element_id()),
                body: None,
            })
            .await?;
        Ok(match value {
            Value::String(text) => text,
            other => other.to_string(),
        })
    }

    /// The visible elements whose role is `role` and whose accessible name is `name`.
    pub async fn all_by_role(&self, role: &str, name: &str) -> anyhow::Result<Vec<Element>> {
        let mut found = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(&role_selector(role)))
            .await?
        {
            if !element.is_displayed().await.unwrap_or(false) {
                continue;
            }
            let computed = self.query(&element, "computedrole").await?;
            // ARIA 1.3 renamed `img` to `image`; Chromium reports the new name.
            let same = computed == role || (role == "img" && computed == "image");
            if !same {
                continue;
            }
            if self.accessible_name(&element).await?.trim() == name {
                found.push(element);
            }
        }
        Ok(found)
    }

    /// Waits for exactly one visible element of this role and name.
    pub async fn by_role(&self, role: &str, name: &str) -> anyhow::Result<Element> {
        eventually(
            &format!("{} to show the {role} \"{name}\"", self.name),
            PATIENCE,
            || async {
                let mut found = self.all_by_role(role, name).await?;
                Ok(if found.len() == 1 { found.pop() } else { None })
            },
        )
        .await
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) -> anyhow::Result<()> {
        eventually(
            &format!("{} to show \"{text}\"", self.name),
            PATIENCE,
            || async {
                let body = self.client.find(Locator::Css("body")).await?.text().await?;
                Ok(body.contains(text).then_some(()))
            },
        )
        .await
    }

    /// The text of the first element matching a CSS selector.
    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    /// Runs the axe-core accessibility audit (WCAG 2.x A and AA) on the page as it is and
    /// returns its violations, one line each.
    pub async fn accessibility_violations(&self) -> anyhow::Result<Vec<String>> {
        let path = std::env::var_os("AXE_CORE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let home = std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default();
                home.join(".cache/agent-console/tools/npm/node_modules/axe-core/axe.min.js")
            });
        let source = std::fs::read_to_string(&path)
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read axe-core at {} ({e}); `cargo xtask test` installs it (or set AXE_CORE)",
                    path.display()
                )
            })?;
        self.client.execute(&source, Vec::new()).await?;
        let result = self
            .client
            .execute(
                "return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
                   .then(r => r.violations.map(v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).join(', ')));",
                Vec::new(),
            )
            .await?;
        Ok(result
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Saves a screenshot of the page as `dir/name.png`.
    pub async fn screenshot(&self, dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }
}
