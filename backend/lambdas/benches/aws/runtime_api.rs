//! A minimal stand-in of the Lambda Runtime API on 127.0.0.1: it notes when a function
//! asks for its next event (`GET /2018-06-01/runtime/invocation/next`) and holds that
//! request open, as Lambda does while no event is waiting. It also stands in for
//! everything else a starting function might call — the identity provider's keys
//! (`/.well-known/jwks.json`, answered with an empty key set) and any AWS API (refused) —
//! and notes each such request, so that what a function does before its first event shows.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const JWKS: &str = "/.well-known/jwks.json";

/// What the stand-in saw.
#[derive(Debug)]
pub enum Seen {
    /// A function asked for its next event.
    Next(Instant),
    /// Any other request: method, path and, for an AWS API, its operation.
    Other(String),
}

/// The stand-in, serving until the process ends.
#[derive(Debug)]
pub struct RuntimeApi {
    pub address: SocketAddr,
    pub seen: Receiver<Seen>,
}

impl RuntimeApi {
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let (tell, seen) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tell = tell.clone();
                std::thread::spawn(move || serve(stream, &tell));
            }
        });
        Ok(RuntimeApi { address, seen })
    }

    /// Forgets what was seen so far.
    pub fn drain(&self) {
        while self.seen.try_recv().is_ok() {}
    }
}

/// A request's head: method, path, and the `x-amz-target` header if any.
fn read_head(stream: &mut TcpStream) -> Option<(String, String, Option<String>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let target = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("x-amz-target"))
        .map(|(_, value)| value.trim().to_owned());
    Some((method, path, target))
}

fn serve(mut stream: TcpStream, tell: &Sender<Seen>) {
    let _ = stream.set_nodelay(true);
    let Some((method, path, target)) = read_head(&mut stream) else {
        return;
    };
    if method == "GET" && path == NEXT {
        let _ = tell.send(Seen::Next(Instant::now()));
        // Held open until the function goes away.
        let mut rest = [0u8; 1024];
        while matches!(stream.read(&mut rest), Ok(n) if n > 0) {}
        return;
    }
    let what = match target {
        Some(operation) => format!("{method} {path} ({operation})"),
        None => format!("{method} {path}"),
    };
    let _ = tell.send(Seen::Other(what));
    let (status, body) = if method == "GET" && path == JWKS {
        ("200 OK", r#"{"keys":[]}"#)
    } else {
        ("500 Internal Server Error", r#"{"message":"a stand-in"}"#)
    };
    // One write: a response in pieces could wait on the client's delayed acknowledgement.
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}
