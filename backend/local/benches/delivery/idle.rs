//! Idle consoles: each signs in, opens its WebSocket with a ticket, says `hello`, waits
//! for `welcome`, then only reads (and drops) what the server pushes until the end.
//!
//! Not the load tests' simulated console (`support::console`): that one wakes every
//! 50 ms to do its housekeeping, and 10,000 of them would take a good part of a core
//! from the 2 that the server and the measuring consoles share.

use crate::server::SETUP_CONCURRENCY;
use crate::support::http;
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientFrame, ServerFrame};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one console may take to be welcomed.
const WELCOME_WITHIN: Duration = Duration::from_secs(60);

/// Open idle consoles.
#[derive(Debug)]
pub struct IdleConsoles {
    tasks: Vec<JoinHandle<()>>,
    /// Sockets the server closed (or that failed) while they should have stayed open.
    closed: Arc<AtomicUsize>,
}

impl IdleConsoles {
    /// Opens one welcomed console per token, [`SETUP_CONCURRENCY`] at a time; says how
    /// far it got every `report_every` consoles.
    pub async fn open(
        addr: SocketAddr,
        tokens: Vec<String>,
        report_every: usize,
    ) -> anyhow::Result<IdleConsoles> {
        let total = tokens.len();
        let closed = Arc::new(AtomicUsize::new(0));
        let mut opening = futures_util::stream::iter(tokens)
            .map(|token| async move { welcomed(addr, &token).await })
            .buffer_unordered(SETUP_CONCURRENCY);
        let mut tasks = Vec::with_capacity(total);
        while let Some(socket) = opening.next().await {
            tasks.push(tokio::spawn(hold(socket?, closed.clone())));
            if tasks.len().is_multiple_of(report_every) {
                eprintln!("  {} of {total} idle consoles welcomed", tasks.len());
            }
        }
        Ok(IdleConsoles { tasks, closed })
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// How many sockets went while they should have stayed open.
    pub fn closed(&self) -> usize {
        self.closed.load(Ordering::SeqCst)
    }

    /// Drops every socket (after the server is gone, so no `$disconnect` work).
    pub fn abandon(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// A socket with a fresh ticket, `hello` said and `welcome` received; a few attempts.
async fn welcomed(addr: SocketAddr, token: &str) -> anyhow::Result<Socket> {
    let mut last = None;
    for _ in 0..5 {
        match tokio::time::timeout(WELCOME_WITHIN, attempt(addr, token)).await {
            Ok(Ok(socket)) => return Ok(socket),
            Ok(Err(error)) => last = Some(error),
            Err(_) => last = Some(anyhow::anyhow!("no welcome within {WELCOME_WITHIN:?}")),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("never tried")))
        .context("an idle console could not connect")
}

async fn attempt(addr: SocketAddr, token: &str) -> anyhow::Result<Socket> {
    let ticket = http::ticket(addr, token)
        .await
        .map_err(anyhow::Error::msg)?;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?ticket={ticket}"))
            .await
            .context("the WebSocket upgrade")?;
    let hello = ClientFrame::Hello {
        protocol: protocol::PROTOCOL_VERSION,
        resume: Default::default(),
    };
    socket
        .send(Message::Text(serde_json::to_string(&hello)?.into()))
        .await?;
    while let Some(frame) = socket.next().await {
        if let Message::Text(text) = frame?
            && let Ok(ServerFrame::Welcome { .. }) = serde_json::from_str(text.as_str())
        {
            return Ok(socket);
        }
    }
    bail!("the socket closed before the welcome")
}

/// Reads until the socket goes (answering pings, as reading does).
async fn hold(mut socket: Socket, closed: Arc<AtomicUsize>) {
    while let Some(Ok(_)) = socket.next().await {}
    closed.fetch_add(1, Ordering::SeqCst);
}
