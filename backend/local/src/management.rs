//! API Gateway's management API for WebSocket connections, `@connections`, as the local
//! emulator serves it: `POST` pushes data to a connection, `GET` describes it, `DELETE`
//! closes it; a connection that is not live answers `410 Gone`. The AWS push adapter
//! (aws-sdk-apigatewaymanagement) is tested against this endpoint.
//!
//! Only callers on this machine (loopback) may use it: locally there is no IAM.

use crate::push::LocalPusher;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use console_domain::{ConnectionId, PushOutcome, Pusher};
use http::StatusCode;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// API Gateway's answer for a connection that is not there: 410, and the error type in
/// the header the AWS SDKs read it from.
fn gone() -> Response {
    (
        StatusCode::GONE,
        [
            (http::header::CONTENT_TYPE, "application/json"),
            (
                http::HeaderName::from_static("x-amzn-errortype"),
                "GoneException",
            ),
        ],
        r#"{"message":"GoneException"}"#,
    )
        .into_response()
}

fn local_only(peer: &SocketAddr) -> Option<Response> {
    (!peer.ip().is_loopback()).then(|| {
        (
            StatusCode::FORBIDDEN,
            [(http::header::CONTENT_TYPE, "application/json")],
            r#"{"message":"the management API answers callers on this machine only"}"#,
        )
            .into_response()
    })
}

/// ISO 8601 (`2026-11-25T21:33:47Z`), as the management API reports times.
fn iso(ms: i64) -> String {
    let text = console_handlers::download::utc(ms);
    format!("{}Z", text.trim_end_matches(" UTC").replacen(' ', "T", 1))
}

/// `POST /@connections/{id}`: sends the body to the connection as one text frame.
pub async fn post(
    State(pusher): State<Arc<LocalPusher>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(refused) = local_only(&peer) {
        return refused;
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return (StatusCode::BAD_REQUEST, "the data must be UTF-8 text").into_response();
    };
    if text.len() > crate::gateway::MAX_MESSAGE_BYTES {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the data is larger than 128 KB",
        )
            .into_response();
    }
    match pusher.post(&ConnectionId(id), &text).await {
        PushOutcome::Delivered => StatusCode::OK.into_response(),
        PushOutcome::Gone | PushOutcome::Failed(_) => gone(),
    }
}

/// `GET /@connections/{id}`: when it connected, from where, when it was last active.
pub async fn get(
    State(pusher): State<Arc<LocalPusher>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = local_only(&peer) {
        return refused;
    }
    match pusher.socket(&ConnectionId(id)) {
        Some(socket) => axum::Json(json!({
            "ConnectedAt": iso(socket.connected_at),
            "Identity": { "SourceIp": socket.source_ip, "UserAgent": socket.user_agent },
            "LastActiveAt": iso(socket.last_active.load(Ordering::Relaxed)),
        }))
        .into_response(),
        None => gone(),
    }
}

/// `DELETE /@connections/{id}`: closes the connection (its `$disconnect` runs).
pub async fn delete(
    State(pusher): State<Arc<LocalPusher>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = local_only(&peer) {
        return refused;
    }
    if pusher.close(&ConnectionId(id)) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        gone()
    }
}
