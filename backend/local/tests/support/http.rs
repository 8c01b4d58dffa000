//! A plain HTTP/1.1 client for the HTTP API and the management API, one connection per
//! request, that reports failures instead of panicking: during a restart or a kill the
//! server is simply not there for a while.

use console_domain::Identity;
use protocol::http::MessagePage;
use protocol::{ChatId, MessageView};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Sends one request; returns the status and the raw body.
pub async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        stream.write_all(body).await.map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(response)
    };
    let response = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("{method} {path}: no answer within {TIMEOUT:?}"))??;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: a truncated answer"))?;
    let status = std::str::from_utf8(&response[..split])
        .ok()
        .and_then(|head| head.get(9..12))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no status line"))?;
    Ok((status, response[split + 4..].to_vec()))
}

/// A request to the HTTP API; returns the status and the JSON body (`null` if none).
pub async fn api(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, Value), String> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    let (status, body) = raw(addr, method, path, &headers, body.as_bytes()).await?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// The development sign-in; returns the bearer token.
pub async fn sign_in(addr: SocketAddr, who: &Identity) -> Result<String, String> {
    let body = json!({"tenant": who.tenant, "agent": who.agent}).to_string();
    match api(addr, "POST", "/api/dev/sign-in", None, &body).await? {
        (200, body) => body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("sign-in without a token: {body}")),
        (status, body) => Err(format!("sign-in answered {status} {body}")),
    }
}

/// Signs in, retrying while the server is not there or fails.
pub async fn sign_in_patiently(addr: SocketAddr, who: &Identity) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        match sign_in(addr, who).await {
            Ok(token) => return token,
            Err(error) => last = error,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}/{} cannot sign in: {last}", who.tenant, who.agent)
}

/// A single-use WebSocket ticket.
pub async fn ticket(addr: SocketAddr, token: &str) -> Result<String, String> {
    match api(addr, "POST", "/api/ws-ticket", Some(token), "").await? {
        (200, body) => body["ticket"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no ticket in {body}")),
        (status, body) => Err(format!("ticket answered {status} {body}")),
    }
}

/// A chat's whole transcript, page by page, as one of its participants reads it.
pub async fn history(
    addr: SocketAddr,
    token: &str,
    chat: &ChatId,
) -> Result<Vec<MessageView>, String> {
    let mut messages: Vec<MessageView> = Vec::new();
    loop {
        let after = messages.last().map_or(0, |m| m.seq);
        let path = format!("/api/chats/{chat}/messages?after={after}&limit=500");
        let (status, body) = api(addr, "GET", &path, Some(token), "").await?;
        if status != 200 {
            return Err(format!("{path} answered {status} {body}"));
        }
        let page: MessagePage = serde_json::from_value(body).map_err(|e| format!("{path}: {e}"))?;
        let more = page.more && !page.messages.is_empty();
        messages.extend(page.messages);
        if !more {
            return Ok(messages);
        }
    }
}

/// As [`history`], retrying while the server is not there or fails.
pub async fn history_patiently(addr: SocketAddr, token: &str, chat: &ChatId) -> Vec<MessageView> {
    let mut last = String::new();
    for _ in 0..200 {
        match history(addr, token, chat).await {
            Ok(messages) => return messages,
            Err(error) => last = error,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot read chat {chat}: {last}")
}
