//! The floor's network half: a bare WebSocket relay (tokio + tokio-tungstenite, nothing
//! else) that forwards every text frame of one socket of a pair to the other, on a
//! runtime of its own as the server has its process; and pairs of clients that talk
//! through it at the pace of the chatting consoles, timed the same way: the send time
//! written into the frame just before it is written to the socket, the arrival taken
//! when the other client reads it.

use crate::support::dice::Dice;
use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// The workload: as many pairs as chat through the server, at the same pace.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    pub pairs: usize,
    /// Frames each client sends.
    pub per_client: usize,
    /// Between two frames of one client.
    pub pace: Duration,
}

/// Runs the workload through a fresh relay; the one-way times of every frame (µs).
pub async fn measure(workload: Workload, dice: &Dice) -> anyhow::Result<Vec<u64>> {
    let (own, listener, addr) = OwnRuntime::listening("bare-relay").await?;
    own.spawn(relay(listener))?;

    let epoch = Instant::now();
    let mut clients = Vec::new();
    for pair in 0..workload.pairs {
        for side in 0..2 {
            let url = format!("ws://{addr}/pair/{pair}");
            let (socket, _) = tokio_tungstenite::connect_async(url)
                .await
                .context("a relay client connects")?;
            let start = dice.between(Duration::ZERO, workload.pace);
            clients.push((socket, start, side));
        }
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(socket, start, side)| tokio::spawn(client(socket, workload, start, epoch, side)))
        .collect();
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    anyhow::ensure!(!samples.is_empty(), "no frame went through the relay");
    Ok(samples)
}

/// The relay's runtime, shut down without waiting when the measure ends, however it
/// ends (dropping a runtime inside another one would panic).
pub struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    /// A runtime of two worker threads (as the server's) named `name`, and a listener on
    /// a free port of 127.0.0.1 that it serves.
    pub async fn listening(name: &str) -> anyhow::Result<(OwnRuntime, TcpListener, SocketAddr)> {
        let own = OwnRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name(name)
                .enable_all()
                .build()?,
        ));
        let runtime = own.0.as_ref().context("the relay's runtime")?;
        let listener = runtime
            .spawn(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
            .await??;
        let addr = listener.local_addr()?;
        Ok((own, listener, addr))
    }

    /// Runs `task` on this runtime.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        self.0.as_ref().context("the relay's runtime")?.spawn(task);
        Ok(())
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Accepts sockets on `/pair/{n}`; the second of a pair starts the forwarding both ways.
async fn relay(listener: TcpListener) {
    pairs(listener, |a, b| {
        let (a_out, a_in) = a.split();
        let (b_out, b_in) = b.split();
        tokio::spawn(forward(a_in, b_out));
        tokio::spawn(forward(b_in, a_out));
    })
    .await;
}

/// Accepts WebSocket upgrades on `/pair/{n}` and hands each two of the same path to
/// `paired`, as they come.
pub async fn pairs(
    listener: TcpListener,
    paired: impl Fn(WebSocketStream<TcpStream>, WebSocketStream<TcpStream>) + Clone + Send + 'static,
) {
    let waiting: Arc<Mutex<HashMap<String, WebSocketStream<TcpStream>>>> = Arc::default();
    while let Ok((stream, _)) = listener.accept().await {
        let (waiting, paired) = (waiting.clone(), paired.clone());
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut path = String::new();
            // The signature is tungstenite's: its refusal is a whole HTTP response.
            #[allow(clippy::result_large_err)]
            let upgrade = |request: &Request, response: Response| {
                path = request.uri().path().to_owned();
                Ok(response)
            };
            let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, upgrade).await else {
                return;
            };
            let other = {
                let mut waiting = waiting.lock().unwrap_or_else(|p| p.into_inner());
                match waiting.remove(&path) {
                    Some(other) => other,
                    None => {
                        waiting.insert(path, socket);
                        return;
                    }
                }
            };
            paired(socket, other);
        });
    }
}

/// Writes every text frame read from `from` to `to`.
async fn forward(
    mut from: impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
    mut to: impl SinkExt<Message> + Unpin,
) {
    while let Some(Ok(frame)) = from.next().await {
        if frame.is_text() && to.send(frame).await.is_err() {
            return;
        }
    }
}

/// Sends `per_client` frames at the pace (the first after `start`) and reads as many
/// from the other side; returns the one-way times of those it read (µs).
async fn client(
    socket: WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    workload: Workload,
    start: Duration,
    epoch: Instant,
    side: usize,
) -> anyhow::Result<Vec<u64>> {
    let (mut out, mut incoming) = socket.split();
    let mut samples = Vec::with_capacity(workload.per_client);
    let mut sent = 0;
    let mut next = tokio::time::Instant::now() + start;
    let deadline = tokio::time::Instant::now()
        + start
        + workload.pace * workload.per_client as u32
        + Duration::from_secs(30);
    while sent < workload.per_client || samples.len() < workload.per_client {
        tokio::select! {
            biased;
            frame = incoming.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let now = epoch.elapsed().as_micros() as u64;
                    let at = text
                        .as_str()
                        .split(' ')
                        .next()
                        .and_then(|t| t.parse::<u64>().ok())
                        .context("a relayed frame without its send time")?;
                    samples.push(now.saturating_sub(at));
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error).context("a relay client's socket"),
                None => anyhow::bail!("the relay closed a socket"),
            },
            () = tokio::time::sleep_until(next), if sent < workload.per_client => {
                let body = format!(
                    "{} side {side} #{sent}: a caller asks about an order",
                    epoch.elapsed().as_micros()
                );
                // At least the pace from this send to the next, as the consoles pace.
                next = tokio::time::Instant::now() + workload.pace;
                out.send(Message::Text(body.into())).await?;
                sent += 1;
            }
            () = tokio::time::sleep_until(deadline) => {
                anyhow::bail!("{} of {} relayed frames arrived in time", samples.len(), workload.per_client)
            }
        }
    }
    Ok(samples)
}
