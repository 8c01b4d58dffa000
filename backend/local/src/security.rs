//! What the served console is protected with: a Content Security Policy that allows only
//! the console's own scripts (Trunk's inline loader by its hash), styles and connections,
//! and no framing; the refusal of WebSockets opened from another site's pages; and of
//! requests that name a host the server is not (DNS rebinding).

use base64::Engine;
use protocol::http::{ConsoleConfig, SignInMethod};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The Content-Security-Policy for the console in `console_dir`.
pub fn content_security_policy(console_dir: &Path) -> String {
    let index = std::fs::read_to_string(console_dir.join("index.html")).unwrap_or_default();
    let hashes: Vec<String> = inline_scripts(&index)
        .into_iter()
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    let mut connect = vec!["'self'".to_owned()];
    connect.extend(configured_origins(console_dir));
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self'; \
         img-src 'self' data:; connect-src {}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
        hashes.join(" "),
        connect.join(" ")
    )
}

/// The other origins the console's `config.json` (if any) connects to: its APIs and its
/// identity provider's token endpoint.
fn configured_origins(console_dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(console_dir.join("config.json")) else {
        return Vec::new();
    };
    let config: ConsoleConfig = match serde_json::from_str(&text) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, "the console's config.json is not valid");
            return Vec::new();
        }
    };
    let mut urls = vec![config.api];
    urls.extend(config.websocket);
    if let SignInMethod::Oidc { token_url, .. } = config.sign_in {
        urls.push(token_url);
    }
    let mut origins: Vec<String> = urls.iter().filter_map(|url| origin(url)).collect();
    origins.dedup();
    origins
}

/// `scheme://host[:port]` of an absolute URL; `None` for a relative one or one that
/// could break out of the header.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let safe = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    };
    (safe(scheme) && safe(host)).then(|| format!("{scheme}://{host}"))
}

/// The text of every `<script>` without a `src`.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(open_end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + open_end];
        let body_start = start + open_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            scripts.push(&rest[body_start..body_start + close]);
        }
        rest = &rest[body_start + close..];
    }
    scripts
}

/// True when a request's `Host` is one this server answers to: `localhost` (or a name
/// under `.localhost`), an IP address, or one of `allowed` — as development servers do
/// against DNS rebinding, where a foreign page's name is made to point at 127.0.0.1 and
/// its requests then name that foreign host. A request without a `Host` is refused.
pub fn host_allowed(host: Option<&str>, allowed: &[String]) -> bool {
    let Some(host) = host else {
        return false;
    };
    // Without the port: `name:port`, `1.2.3.4:port`, `[::1]:port`.
    let name = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((address, _)) => return address.parse::<std::net::Ipv6Addr>().is_ok(),
            None => return false,
        },
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::Ipv4Addr>().is_ok()
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(&name))
}

/// True when a WebSocket upgrade comes from a page of this server (its `Origin` names the
/// `Host` it was sent to), or from a program that sends no `Origin` at all (browsers
/// always do). A foreign page could otherwise ride on a signed-in agent's browser.
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(host) = host else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_external_ones_skipped() {
        let html = r#"<script src="/a.js"></script><script type="module">let a = 1;</script>"#;
        assert_eq!(inline_scripts(html), vec!["let a = 1;"]);
    }

    #[test]
    fn the_configured_apis_and_token_endpoint_may_be_connected_to() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"api":"https://h.example","websocket":"wss://w.example/prod",
                "sign_in":{"kind":"oidc","authorize_url":"https://id.example/authorize",
                "token_url":"https://id.example:8443/token","client_id":"c","scope":"openid"}}"#,
        )
        .expect("written");
        let policy = content_security_policy(dir.path());
        assert!(
            policy.contains(
                "connect-src 'self' https://h.example wss://w.example https://id.example:8443;"
            ),
            "{policy}"
        );
        assert_eq!(origin("https://x.example; script-src *"), None);
        assert_eq!(origin("/api"), None);
    }

    #[test]
    fn only_localhost_ip_addresses_and_allowed_names_are_answered() {
        let allowed = vec!["desk-7.example".to_owned()];
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "console.localhost:9000",
            "[::1]:8080",
            "10.1.2.3",
            "desk-7.example:8080",
        ] {
            assert!(host_allowed(Some(host), &allowed), "{host}");
        }
        for host in [
            "evil.example:9400",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io:8080",
            "[::1",
            "",
        ] {
            assert!(!host_allowed(Some(host), &allowed), "{host}");
        }
        assert!(!host_allowed(None, &allowed), "no Host");
    }

    #[test]
    fn only_the_console_s_own_origin_may_open_a_websocket() {
        assert!(same_origin(
            Some("http://127.0.0.1:8080"),
            Some("127.0.0.1:8080")
        ));
        assert!(!same_origin(
            Some("https://evil.example"),
            Some("127.0.0.1:8080")
        ));
        assert!(!same_origin(Some("null"), Some("127.0.0.1:8080")));
        assert!(same_origin(None, Some("127.0.0.1:8080")), "not a browser");
    }
}
