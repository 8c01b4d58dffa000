//! The HTTP side of the local server: transcripts for supervisors and agents, the
//! `@connections` management API, and the directory import command.

mod support;

use serde_json::json;
use std::process::Command;
use support::scripted::*;

#[tokio::test]
async fn supervisors_list_search_read_and_download_transcripts_of_their_tenant_only() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let (ann, dan) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "dan").await,
    );
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (mut dan_tab, _) = Console::hello(addr, &dan, json!({})).await;
    let sales = start_chat(&mut ann_tab, "bob").await;
    say(
        &mut ann_tab,
        &sales,
        "a1",
        "Customer asks about the Gold plan",
    )
    .await;
    say(&mut ann_tab, &sales, "a2", "Line two\nwith a break").await;
    let support = start_chat(&mut dan_tab, "eve").await;
    say(&mut dan_tab, &support, "d1", "Router reset did not help").await;

    let sue = sign_in(addr, "acme", "sue").await;
    let (status, all) = http(addr, "GET", "/api/transcripts", Some(&sue), "").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["transcripts"].as_array().map(Vec::len), Some(2));

    let (_, by_group) = http(addr, "GET", "/api/transcripts?group=sales", Some(&sue), "").await;
    assert_eq!(by_group["transcripts"][0]["id"], sales.as_str());
    assert_eq!(by_group["transcripts"].as_array().map(Vec::len), Some(1));
    let (_, by_agent) = http(addr, "GET", "/api/transcripts?agent=eve", Some(&sue), "").await;
    assert_eq!(by_agent["transcripts"][0]["id"], support.as_str());
    let (_, by_text) = http(
        addr,
        "GET",
        "/api/transcripts?q=gold%20PLAN",
        Some(&sue),
        "",
    )
    .await;
    assert_eq!(
        by_text["transcripts"].as_array().map(Vec::len),
        Some(1),
        "{by_text}"
    );
    assert_eq!(by_text["transcripts"][0]["id"], sales.as_str());
    let (_, future) = http(
        addr,
        "GET",
        "/api/transcripts?from=99999999999999",
        Some(&sue),
        "",
    )
    .await;
    assert_eq!(future["transcripts"], json!([]));

    let (status, whole) = http(
        addr,
        "GET",
        &format!("/api/transcripts/{sales}"),
        Some(&sue),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(whole["messages"].as_array().map(Vec::len), Some(2));

    let text = raw_get(
        addr,
        &format!("/api/transcripts/{sales}/download?format=text"),
        &sue,
    )
    .await;
    assert!(
        text.contains("Content-Disposition: attachment; filename=\"chat-")
            || text.contains("content-disposition: attachment; filename=\"chat-"),
        "{text}"
    );
    assert!(
        text.contains("Chat between Ann Lee (sales) and Bob Stone (sales)"),
        "{text}"
    );
    assert!(
        text.contains("#1 Ann Lee: Customer asks about the Gold plan"),
        "{text}"
    );
    let json_download = raw_get(
        addr,
        &format!("/api/transcripts/{sales}/download?format=json"),
        &sue,
    )
    .await;
    assert!(json_download.contains("\"messages\""));
    let (status, bad) = http(
        addr,
        "GET",
        &format!("/api/transcripts/{sales}/download?format=pdf"),
        Some(&sue),
        "",
    )
    .await;
    assert_eq!((status, bad["code"].clone()), (400, json!("bad_request")));

    // An agent reads only her own; another tenant's supervisor nothing of this tenant.
    let (_, own) = http(addr, "GET", "/api/transcripts", Some(&ann), "").await;
    assert_eq!(own["transcripts"].as_array().map(Vec::len), Some(1));
    let (status, _) = http(
        addr,
        "GET",
        &format!("/api/transcripts/{support}"),
        Some(&ann),
        "",
    )
    .await;
    assert_eq!(status, 404);
    let ivan = sign_in(addr, "globex", "ivan").await;
    let (_, foreign) = http(addr, "GET", "/api/transcripts", Some(&ivan), "").await;
    assert_eq!(foreign["transcripts"], json!([]));
    let (status, _) = http(
        addr,
        "GET",
        &format!("/api/transcripts/{sales}"),
        Some(&ivan),
        "",
    )
    .await;
    assert_eq!(status, 404);
    server.stop().await;
}

/// A GET returning the raw response (headers and body) as text.
async fn raw_get(addr: std::net::SocketAddr, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn the_management_api_posts_to_describes_and_closes_connections() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let (mut ann_tab, _) = Console::hello(addr, &ann, json!({})).await;
    // Bob's console hears of Ann coming online; find Ann's connection id through GET.
    let _ = bob_tab.next_of("agent").await;
    let connections = server_connection_ids(&server);
    assert_eq!(connections.len(), 2);
    for id in &connections {
        let (status, info) = http(addr, "GET", &format!("/@connections/{id}"), None, "").await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["Identity"]["SourceIp"], "127.0.0.1");
        assert!(
            info["ConnectedAt"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        // Post a probe to each and see who gets it.
        let (status, _) = http(
            addr,
            "POST",
            &format!("/@connections/{id}"),
            None,
            "{\"type\":\"pong\"}",
        )
        .await;
        assert_eq!(status, 200);
    }
    ann_tab.next_of("pong").await;
    bob_tab.next_of("pong").await;
    let closing = &connections[0];
    let (status, _) = http(
        addr,
        "DELETE",
        &format!("/@connections/{closing}"),
        None,
        "",
    )
    .await;
    assert_eq!(status, 204);
    for _ in 0..50 {
        if server.live_connections() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.live_connections(),
        1,
        "the deleted connection closed"
    );
    let (status, _) = http(addr, "GET", &format!("/@connections/{closing}"), None, "").await;
    assert_eq!(status, 410, "a closed connection is gone");
    let (status, body) = http(addr, "POST", "/@connections/not-a-connection", None, "x").await;
    assert_eq!(status, 410, "{body}");
    let (status, _) = http(addr, "GET", "/@connections/not-a-connection", None, "").await;
    assert_eq!(status, 410);
    server.stop().await;
}

fn server_connection_ids(server: &console_local::RunningServer) -> Vec<String> {
    server.connection_ids().into_iter().map(|c| c.0).collect()
}

#[test]
fn the_import_command_reports_a_bad_file_by_line_and_imports_a_good_one() {
    let data = tempfile::tempdir().expect("temp dir");
    let bad = data.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"tenants\": [\n  {\"id\": \"initech\", \"name\": \"Initech\", \"agents\": [\n    {\"id\": \"Peter G\", \"name\": \"Peter\", \"group\": \"tps\", \"role\": \"agent\"}\n  ]}\n]}\n",
    )
    .expect("write");
    let program = env!("CARGO_BIN_EXE_agent-console-local");
    let output = Command::new(program)
        .args(["import-directory", &bad.to_string_lossy(), "--data-dir"])
        .arg(data.path())
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid id \"Peter G\"") && stderr.contains("line 3"),
        "{stderr}"
    );

    let good = data.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"tenants": [{"id": "initech", "name": "Initech", "agents": [
            {"id": "peter", "name": "Peter Gibbons", "group": "tps", "role": "agent"},
            {"id": "bill", "name": "Bill Lumbergh", "group": "tps", "role": "supervisor"}]}]}"#,
    )
    .expect("write");
    let output = Command::new(program)
        .args(["import-directory", &good.to_string_lossy(), "--data-dir"])
        .arg(data.path())
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Imported 1 tenant(s) and 2 agent(s)")
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let server = start(data.path(), std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await;
        let peter = sign_in(server.addr, "initech", "peter").await;
        let (_, agents) = http(server.addr, "GET", "/api/agents", Some(&peter), "").await;
        assert_eq!(agents["agents"][0]["name"], "Bill Lumbergh");
        server.stop().await;
    });
}

#[tokio::test]
async fn an_identity_providers_token_signs_in_when_its_issuer_is_configured() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../handlers/tests/fixtures");
    let data = tempfile::tempdir().expect("temp dir");
    let server = console_local::start(console_local::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("no-console"),
        oidc: Some(console_local::config::OidcSettings {
            issuer: "https://idp.example".into(),
            audience: "console".into(),
            jwks_file: fixtures.join("oidc-test-jwks.json"),
            tenant_claim: "custom:tenant".into(),
            agent_claim: "custom:agent".into(),
        }),
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("starts");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let key =
        EncodingKey::from_rsa_pem(&std::fs::read(fixtures.join("oidc-test-key.pem")).expect("key"))
            .expect("a key");
    let sign = |tenant: &str, agent: &str| {
        jsonwebtoken::encode(
            &header,
            &json!({"iss": "https://idp.example", "aud": "console", "exp": now + 600,
                    "custom:tenant": tenant, "custom:agent": agent}),
            &key,
        )
        .expect("signs")
    };
    let (status, me) = http(
        server.addr,
        "GET",
        "/api/me",
        Some(&sign("acme", "dan")),
        "",
    )
    .await;
    assert_eq!(
        (status, me["me"]["name"].clone(), me["tenant"].clone()),
        (200, json!("Dan Wu"), json!("acme"))
    );
    let (status, body) = http(
        server.addr,
        "GET",
        "/api/me",
        Some(&sign("acme", "nobody")),
        "",
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (401, json!("unauthorized")),
        "an agent not in the directory"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_console_is_served_with_security_headers_and_foreign_pages_cannot_open_sockets() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let data = tempfile::tempdir().expect("temp dir");
    let console = data.path().join("console");
    std::fs::create_dir_all(&console).expect("dir");
    std::fs::write(
        console.join("index.html"),
        "<html><head><script type=\"module\">import init from '/app.js';</script></head><body></body></html>",
    )
    .expect("write");
    let server = console_local::start(console_local::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().join("data"),
        console_dir: console,
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("starts");
    let addr = server.addr;
    let page = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        String::from_utf8_lossy(&response).to_lowercase()
    };
    // sha256 of the inline loader above, base64.
    assert!(
        page.contains("content-security-policy: default-src 'self'"),
        "{page}"
    );
    assert!(
        page.contains("'sha256-"),
        "the inline loader is allowed by its hash: {page}"
    );
    assert!(page.contains("frame-ancestors 'none'"));
    assert!(page.contains("x-content-type-options: nosniff"));

    let token = sign_in(addr, "acme", "ann").await;
    let mut foreign = format!("ws://{addr}/ws?ticket={}", ticket(addr, &token).await)
        .into_client_request()
        .expect("request");
    foreign
        .headers_mut()
        .insert("Origin", "https://evil.example".parse().expect("header"));
    assert!(
        tokio_tungstenite::connect_async(foreign).await.is_err(),
        "a foreign page is refused"
    );
    let mut own = format!("ws://{addr}/ws?ticket={}", ticket(addr, &token).await)
        .into_client_request()
        .expect("request");
    own.headers_mut()
        .insert("Origin", format!("http://{addr}").parse().expect("header"));
    assert!(
        tokio_tungstenite::connect_async(own).await.is_ok(),
        "the console's own page is let in"
    );
    server.stop().await;
}

#[test]
fn the_command_line_answers_help_and_names_a_bad_option() {
    let program = env!("CARGO_BIN_EXE_agent-console-local");
    let help = Command::new(program).arg("--help").output().expect("runs");
    assert!(help.status.success(), "--help exits 0");
    let text = String::from_utf8_lossy(&help.stdout);
    for named in [
        "Usage:",
        "--listen",
        "--data-dir",
        "--send-quota",
        "import-directory",
    ] {
        assert!(text.contains(named), "{named} in {text}");
    }
    let bad = Command::new(program)
        .arg("--colour")
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    let text = String::from_utf8_lossy(&bad.stderr);
    assert!(
        text.contains("--colour") && text.contains("--help"),
        "{text}"
    );
    assert!(!text.contains("backtrace"), "no backtrace: {text}");
}

/// Sends `request` as it is (its own `Host` line) and returns the status code and body.
async fn raw(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    raw_http(addr, request.as_bytes().to_vec()).await
}

#[tokio::test]
async fn a_page_that_rebinds_its_name_to_this_server_is_refused_before_anything_else() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    let sign_in = r#"{"tenant":"acme","agent":"ann"}"#;
    // The outside tester's probe: a foreign name, pointed at 127.0.0.1 by DNS.
    for host in ["evil.example:9400", "localhost.evil.example"] {
        let (status, body) = raw(
            addr,
            &format!(
                "POST /api/dev/sign-in HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sign_in}",
                sign_in.len()
            ),
        )
        .await;
        assert_eq!(status, 403, "{host}: {body}");
        assert!(
            body.contains("\"code\":\"forbidden\"") && !body.contains("token"),
            "{body}"
        );
        let (status, _) = raw(
            addr,
            &format!(
                "GET /ws HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: Upgrade, close\r\n\
                 Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, 403, "no upgrade for {host}");
        let (status, _) = raw(
            addr,
            &format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 403, "not even the console for {host}");
    }
    // The server's own names still answer.
    for host in [addr.to_string(), format!("localhost:{}", addr.port())] {
        let (status, body) = raw(
            addr,
            &format!(
                "POST /api/dev/sign-in HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{sign_in}",
                sign_in.len()
            ),
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    server.stop().await;
}
