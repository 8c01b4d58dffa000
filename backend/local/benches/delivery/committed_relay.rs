//! The throughput's floor: what a bare WebSocket relay that makes each frame durable
//! before passing it on sustains on this machine, with the throughput's workload.
//!
//! The relay (tokio + tokio-tungstenite on a runtime of its own with as many workers as
//! the server, nothing else) pairs sockets by path; every text frame it reads goes to
//! one committer thread, which appends all the frames waiting for it to a file and syncs
//! once (`sync_data`) for them all — group commit — then passes each frame to the other
//! socket of its pair and echoes it to its sender as the acknowledgement. Its clients do
//! per frame the JSON work the benchmark's consoles do — each frame a real `send`
//! encoded with serde_json, each frame read decoded — and keep the consoles' window of
//! unacknowledged frames, each sent as an acknowledgement comes back; the rate is the
//! acknowledgements counted over the same window after the same warm-up.

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use protocol::{ChatId, ClientFrame};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// The shape of the run: the throughput's.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Clients, in pairs.
    pub clients: usize,
    /// Unacknowledged frames each keeps going.
    pub window: usize,
    pub warm_up: Duration,
    pub counted: Duration,
}

/// What the relay sustained.
#[derive(Debug, Clone, Copy)]
pub struct Sustained {
    /// Acknowledgements per second over the counting window.
    pub rate: f64,
    /// Syncs over the counting window, and so frames per sync on average.
    pub frames_per_sync: f64,
    /// CPU time per frame acknowledged in the window (µs): the relay, its committer and
    /// its clients together, all in this process.
    pub cpu: f64,
}

/// A frame on its way: written to the log, then passed on and acknowledged.
struct Pending {
    frame: String,
    to: UnboundedSender<Message>,
    back: UnboundedSender<Message>,
}

/// Runs the workload through a fresh relay whose log is a file in `dir`.
pub async fn measure(dir: &Path, workload: Workload) -> anyhow::Result<Sustained> {
    let (own, listener, addr) = crate::relay::OwnRuntime::listening("committed-relay").await?;
    let (commits, waiting) = unbounded_channel();
    let syncs = Arc::new(AtomicU64::new(0));
    let log = dir.join("committed-relay.log");
    let committer = {
        let (log, syncs) = (log.clone(), syncs.clone());
        std::thread::spawn(move || commit(&log, waiting, &syncs))
    };
    own.spawn(relay(listener, commits))?;

    let acked = Arc::new(AtomicU64::new(0));
    let sending = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for n in 0..workload.clients {
        let (pair, side) = (n / 2, n % 2);
        let url = format!("ws://{addr}/pair/{pair}");
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("a relay client connects")?;
        clients.push(tokio::spawn(client(
            socket,
            (format!("pair-{pair}"), side),
            workload.window,
            acked.clone(),
            sending.clone(),
        )));
    }
    tokio::time::sleep(workload.warm_up).await;
    let (first, first_syncs, started, spent_before) = (
        acked.load(Ordering::Relaxed),
        syncs.load(Ordering::Relaxed),
        Instant::now(),
        crate::cpu::of_self()?,
    );
    tokio::time::sleep(workload.counted).await;
    let (last, last_syncs, window, spent_after) = (
        acked.load(Ordering::Relaxed),
        syncs.load(Ordering::Relaxed),
        started.elapsed(),
        crate::cpu::of_self()?,
    );
    sending.store(false, Ordering::Relaxed);
    for client in clients {
        client.await??;
    }
    drop(own);
    // The relay's runtime is gone with its senders: the committer's channel closes.
    committer
        .join()
        .map_err(|_| anyhow::anyhow!("the committer panicked"))??;
    std::fs::remove_file(&log)?;
    anyhow::ensure!(last > first, "no frame was acknowledged in the window");
    Ok(Sustained {
        rate: (last - first) as f64 / window.as_secs_f64(),
        frames_per_sync: (last - first) as f64 / (last_syncs - first_syncs).max(1) as f64,
        cpu: crate::cpu::per_message(
            (spent_after - spent_before).running,
            (last - first) as usize,
        ),
    })
}

/// The committer: takes every frame waiting, appends them, syncs once, then passes each
/// on and acknowledges it; until the relay is gone.
fn commit(
    log: &Path,
    mut waiting: UnboundedReceiver<Pending>,
    syncs: &AtomicU64,
) -> anyhow::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(log)?;
    let mut batch = Vec::new();
    while let Some(first) = waiting.blocking_recv() {
        batch.push(first);
        while let Ok(next) = waiting.try_recv() {
            batch.push(next);
        }
        let mut bytes = Vec::new();
        for pending in &batch {
            bytes.extend_from_slice(pending.frame.as_bytes());
            bytes.push(b'\n');
        }
        file.write_all(&bytes)?;
        file.sync_data()?;
        syncs.fetch_add(1, Ordering::Relaxed);
        for pending in batch.drain(..) {
            // A socket gone at the end of the run is no error.
            let frame: tokio_tungstenite::tungstenite::Utf8Bytes = pending.frame.into();
            let _ = pending.to.send(Message::Text(frame.clone()));
            let _ = pending.back.send(Message::Text(frame));
        }
    }
    Ok(())
}

/// Accepts sockets on `/pair/{n}`; once both of a pair are there, each one's frames go
/// to the committer, addressed to the other.
async fn relay(listener: TcpListener, commits: UnboundedSender<Pending>) {
    crate::relay::pairs(listener, move |socket, other| {
        let (a, a_outgoing) = unbounded_channel();
        let (b, b_outgoing) = unbounded_channel();
        serve(socket, a_outgoing, a.clone(), b.clone(), commits.clone());
        serve(other, b_outgoing, b, a, commits.clone());
    })
    .await;
}

/// One socket of a pair: what is sent to it (`outgoing`: frames of the other, and
/// acknowledgements) is written; what it sends is committed, for `to`, acknowledged to
/// `back`.
fn serve(
    socket: WebSocketStream<TcpStream>,
    mut outgoing: UnboundedReceiver<Message>,
    back: UnboundedSender<Message>,
    to: UnboundedSender<Message>,
    commits: UnboundedSender<Pending>,
) {
    let (mut write, mut read) = socket.split();
    tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if write.send(frame).await.is_err() {
                return;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Ok(frame)) = read.next().await {
            if let Message::Text(text) = frame {
                let pending = Pending {
                    frame: text.as_str().to_owned(),
                    to: to.clone(),
                    back: back.clone(),
                };
                if commits.send(pending).is_err() {
                    return;
                }
            }
        }
    });
}

/// A client: keeps `window` `send` frames of its pair's chat unacknowledged while
/// `sending`; then waits for what it sent to be acknowledged (its own frame echoed),
/// and closes.
async fn client(
    socket: WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    (chat, side): (String, usize),
    window: usize,
    acked: Arc<AtomicU64>,
    sending: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let (mut out, mut incoming) = socket.split();
    let mut sent = 0u64;
    let mut unacknowledged = 0;
    let frame = |n: u64| -> anyhow::Result<Message> {
        let send = ClientFrame::Send {
            chat_id: ChatId::from(chat.as_str()),
            client_msg_id: format!("{side}-{n}"),
            body: format!("message {n} of the run: a caller asks about an order"),
        };
        Ok(Message::Text(serde_json::to_string(&send)?.into()))
    };
    while unacknowledged < window {
        out.send(frame(sent)?).await?;
        (sent, unacknowledged) = (sent + 1, unacknowledged + 1);
    }
    let mine = format!("{side}-");
    let deadline = Duration::from_secs(30);
    while unacknowledged > 0 {
        let next = tokio::time::timeout(deadline, incoming.next())
            .await
            .context("a relay client waited 30 s for a frame")?;
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error).context("a relay client's socket"),
            None => anyhow::bail!("the relay closed a socket"),
        };
        let ClientFrame::Send { client_msg_id, .. } = serde_json::from_str(text.as_str())? else {
            anyhow::bail!("the relay passed on something else than a send");
        };
        if client_msg_id.starts_with(&mine) {
            acked.fetch_add(1, Ordering::Relaxed);
            unacknowledged -= 1;
            if sending.load(Ordering::Relaxed) {
                out.send(frame(sent)?).await?;
                (sent, unacknowledged) = (sent + 1, unacknowledged + 1);
            }
        }
    }
    let _ = out.close().await;
    Ok(())
}
