//! The WebSocket half of the API Gateway emulator.
//!
//! For each browser socket it does what API Gateway does: runs the authorizer on the
//! upgrade request, mints a connection id, sends `$connect`, one event per text frame
//! (routed on the frame's `action`), and `$disconnect` at the end, with API Gateway's
//! limits: 32 KB frames, 128 KB messages, 10 minutes idle, 2 hours in all. Like API
//! Gateway it disconnects a console that does not read what is pushed to it (once its
//! socket's queue holds [`push::MAX_QUEUED_BYTES`]).

use crate::push::{self, LocalPusher, Outbound, Socket, touch};
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Response};
use console_domain::ConnectionId;
use console_handlers::App;
use console_handlers::websocket::{self, CONTEXT_AGENT, CONTEXT_TENANT};
use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use protocol::ClientFrame;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// API Gateway's WebSocket frame limit.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// API Gateway's WebSocket message limit.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
/// API Gateway closes a connection idle this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// API Gateway closes every connection after this long.
pub const MAX_LIFETIME: Duration = Duration::from_secs(2 * 3600);

/// How long connections may live; API Gateway's values unless a test shortens them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub idle: Duration,
    pub total: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            idle: IDLE_TIMEOUT,
            total: MAX_LIFETIME,
        }
    }
}

/// What the emulator needs: the handlers' context and the live sockets.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub app: App,
    pub pusher: Arc<LocalPusher>,
    /// Turns true when the server stops: every socket closes.
    pub stopping: watch::Receiver<bool>,
    /// One clone per open socket task, so that a stop can wait for them all.
    pub active: Arc<()>,
    pub lifetimes: Lifetimes,
}

/// Who is at the other end of a socket, as API Gateway reports it.
#[derive(Debug, Clone)]
struct Peer {
    source_ip: String,
    user_agent: String,
}

/// `GET /ws?ticket=...`: authorizes, then upgrades to a WebSocket.
pub async fn upgrade(
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: http::HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if !crate::security::same_origin(header(http::header::ORIGIN), header(http::header::HOST)) {
        return (
            StatusCode::FORBIDDEN,
            [(http::header::CONTENT_TYPE, "application/json")],
            r#"{"code":"forbidden","message":"WebSocket connections from another site's pages are refused"}"#,
        )
            .into_response();
    }
    let mut request = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
    request.type_ = Some("REQUEST".into());
    request.method_arn =
        Some("arn:aws:execute-api:local:000000000000:local/$default/$connect".into());
    request.query_string_parameters = query.clone().into();
    let decision = websocket::authorize(request, &gateway.app).await;
    if !websocket::is_allowed(&decision) {
        return (
            StatusCode::UNAUTHORIZED,
            [(http::header::CONTENT_TYPE, "application/json")],
            r#"{"code":"invalid_ticket","message":"the connection ticket is unknown, used already or expired; ask for a new one"}"#,
        )
            .into_response();
    }
    let context = decision.context;
    let peer = Peer {
        source_ip: peer.ip().to_string(),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    };
    upgrade
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve_socket(gateway, socket, context, query, peer))
}

/// How many queued frames a socket writes out together at most, before it flushes.
const MAX_FRAMES_PER_WRITE: usize = 64;

/// How long a closing socket may take to write what was queued before it went, and its
/// close frame, before it is dropped anyway: a console that does not read must not keep
/// its socket task (and what it holds) alive.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How much a socket reads at once. tungstenite's default (128 KiB) is zeroed again on
/// every read, which cost a quarter of the server's time under load; a chat frame is a few
/// hundred bytes, and a larger one (up to the frame limit) still reads whole.
const READ_BUFFER_BYTES: usize = 8 * 1024;

async fn serve_socket(
    gateway: Gateway,
    socket: WebSocket,
    authorizer: Value,
    query: HashMap<String, String>,
    peer: Peer,
) {
    let _active = gateway.active.clone();
    let mut stopping = gateway.stopping.clone();
    let connection = ConnectionId(mint_connection_id());
    let connected_at = gateway.app.clock.now_ms();
    let event = |route: &str, body: Option<String>| {
        let mut event = ApiGatewayWebsocketProxyRequest::default();
        let context = &mut event.request_context;
        context.connection_id = Some(connection.0.clone());
        context.route_key = Some(route.to_owned());
        context.stage = Some("local".into());
        context.connected_at = connected_at;
        context.request_time_epoch = gateway.app.clock.now_ms();
        context.event_type = Some(
            match route {
                "$connect" => "CONNECT",
                "$disconnect" => "DISCONNECT",
                _ => "MESSAGE",
            }
            .into(),
        );
        context.request_id = Some(uuid::Uuid::new_v4().to_string());
        if let Value::Object(fields) = &authorizer {
            for key in [CONTEXT_TENANT, CONTEXT_AGENT] {
                if let Some(value) = fields.get(key) {
                    context
                        .authorizer
                        .fields
                        .insert(key.to_owned(), value.clone());
                }
            }
        }
        context.identity.source_ip = Some(peer.source_ip.clone());
        context.identity.user_agent = Some(peer.user_agent.clone());
        if route == "$connect" {
            event.query_string_parameters = query.clone().into();
        }
        event.body = body;
        event
    };

    // Bounded (push::MAX_QUEUED_BYTES): a push that does not fit closes the socket.
    let (own_outbox, mut pending) = push::outbox();
    let last_active = Arc::new(AtomicI64::new(connected_at));
    gateway.pusher.register(
        connection.clone(),
        Socket {
            outbox: own_outbox.clone(),
            connected_at,
            source_ip: peer.source_ip.clone(),
            user_agent: peer.user_agent.clone(),
            last_active: last_active.clone(),
        },
    );
    let connected = websocket::handle(event("$connect", None), &gateway.app).await;
    if connected.status_code != 200 {
        gateway.pusher.unregister(&connection);
        return;
    }
    tracing::debug!(connection = %connection.0, "connected");

    let (mut sink, mut stream) = socket.split();
    let lifetime = tokio::time::sleep(gateway.lifetimes.total);
    tokio::pin!(lifetime);
    let idle_left = || {
        let quiet = gateway.app.clock.now_ms() - last_active.load(Ordering::Relaxed);
        gateway
            .lifetimes
            .idle
            .saturating_sub(Duration::from_millis(quiet.max(0) as u64))
    };
    // Frames in are handled one at a time, in order, as they came; frames out go as soon
    // as they are queued, also while a handler of this socket waits for the store.
    let reading = async {
        loop {
            tokio::select! {
                incoming = tokio::time::timeout(idle_left(), stream.next()) => {
                    let frame = match incoming {
                        // Frames out count as activity too (as they did in API Gateway).
                        Err(_) if idle_left().is_zero() => break, // idle timeout
                        Err(_) => continue,
                        Ok(None) | Ok(Some(Err(_))) => break,
                        Ok(Some(Ok(frame))) => frame,
                    };
                    touch(&last_active, gateway.app.clock.now_ms());
                    match frame {
                        Message::Text(text) => {
                            let route = route_of(text.as_str());
                            websocket::handle(event(&route, Some(text.to_string())), &gateway.app)
                                .await;
                        }
                        Message::Binary(_) => {
                            let refusal = r#"{"type":"error","code":"bad_request","message":"binary frames are not supported; send JSON text frames"}"#;
                            let _ = own_outbox.push(refusal.into());
                        }
                        Message::Close(_) => break,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                () = &mut lifetime => break,
                _ = stopping.changed() => break,
                // The console does not read what is pushed to it: close the socket, also
                // while the writing below is stuck on a peer whose TCP window is shut.
                () = own_outbox.overflow() => break,
            }
        }
    };
    // Frames queued together (a send's message, chat and ack) leave in one write.
    let writing = async {
        'socket: while let Some(mut outbound) = pending.recv().await {
            let mut fed = 0;
            loop {
                match outbound {
                    Outbound::Frame(payload) => {
                        if sink.feed(Message::Text(payload.into())).await.is_err() {
                            break 'socket;
                        }
                    }
                    Outbound::Close => break 'socket,
                }
                fed += 1;
                if fed == MAX_FRAMES_PER_WRITE {
                    break;
                }
                match pending.try_recv() {
                    Some(next) => outbound = next,
                    None => break,
                }
            }
            touch(&last_active, gateway.app.clock.now_ms());
            if sink.flush().await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        () = reading => {}
        () = writing => {}
    }
    gateway.pusher.unregister(&connection);
    let overflowed = pending.overflowed();
    if !overflowed {
        // Deliver what the handlers queued before the socket went, then let it close.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            while let Some(Outbound::Frame(payload)) = pending.try_recv() {
                if sink.send(Message::Text(payload.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        })
        .await;
    }
    // Whatever is still queued goes now, not after the `$disconnect`.
    drop((pending, own_outbox));
    let socket = if overflowed {
        // Dropped unwritten: its console does not read.
        drop((sink, stream));
        None
    } else {
        // Held open while the `$disconnect` runs, as before: the console gets to answer
        // the close frame (dropping it at once would reset a console that is sending).
        Some((sink, stream))
    };
    websocket::handle(event("$disconnect", None), &gateway.app).await;
    drop(socket);
    tracing::debug!(connection = %connection.0, "disconnected");
}

/// The route API Gateway would pick: the frame's `action` if it names a route, else
/// `$default`.
fn route_of(text: &str) -> String {
    /// Only the `action` of a frame (the rest is skipped, not built).
    #[derive(serde::Deserialize)]
    struct Action<'a> {
        #[serde(borrow)]
        action: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_str::<Action>(text)
        .ok()
        .and_then(|frame| frame.action)
        .filter(|action| ClientFrame::ACTIONS.contains(&action.as_ref()))
        .map_or_else(|| "$default".into(), |action| action.into_owned())
}

/// A connection id shaped like API Gateway's (base64 of random bytes).
fn mint_connection_id() -> String {
    let id = uuid::Uuid::new_v4();
    let bytes = id.as_bytes();
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    bytes[..12]
        .chunks(3)
        .flat_map(|chunk| {
            let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
            [18, 12, 6, 0].map(|shift| ALPHABET[((n >> shift) & 63) as usize] as char)
        })
        .chain(std::iter::once('='))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::route_of;

    #[test]
    fn a_frame_goes_to_its_action_s_route_or_to_default() {
        assert_eq!(
            route_of(r#"{"action":"send","chat":"c","body":"hi"}"#),
            "send"
        );
        assert_eq!(route_of(r#"{"body":"x \" y","action":"ping"}"#), "ping");
        for other in [
            r#"{"action":"drop_tables"}"#,
            r#"{"action":5}"#,
            r#"{"body":"no action"}"#,
            r#"["action","send"]"#,
            "not json",
            "",
        ] {
            assert_eq!(route_of(other), "$default", "{other}");
        }
    }
}
