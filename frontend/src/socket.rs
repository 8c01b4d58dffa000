//! The link's WebSocket: the text frames it receives as a stream, ending when it closes
//! (or fails), and text frames sent.
//!
//! Why not gloo-net's WebSocket: it also carries binary frames and reports close codes and
//! errors as values, none of which the console uses, and it brings the `http` crate and
//! its own sink machinery; this is the little the link needs, and a smaller WASM.

use futures::Stream;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// A listener of the socket and the name of the browser event it listens to.
type Listener = (&'static str, Closure<dyn FnMut(web_sys::Event)>);

/// What the listeners report, in the order the browser fires them.
enum Event {
    Open,
    Text(String),
    Closed,
}

/// An open (or opening) WebSocket. Dropping it closes it.
pub struct Socket {
    socket: web_sys::WebSocket,
    events: UnboundedReceiver<Event>,
    /// The browser calls these, by event name, while the socket lives.
    listeners: [Listener; 4],
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").finish_non_exhaustive()
    }
}

fn listener(
    events: &UnboundedSender<Event>,
    event: impl Fn(web_sys::Event) -> Option<Event> + 'static,
) -> Closure<dyn FnMut(web_sys::Event)> {
    let events = events.clone();
    Closure::new(move |e| {
        if let Some(event) = event(e) {
            let _ = events.unbounded_send(event);
        }
    })
}

impl Socket {
    /// Starts opening a WebSocket to `url`; `None` when the URL is not one.
    pub fn open(url: &str) -> Option<Socket> {
        let socket = web_sys::WebSocket::new(url).ok()?;
        let (sender, events) = unbounded();
        let listeners = [
            ("open", listener(&sender, |_| Some(Event::Open))),
            (
                "message",
                listener(&sender, |e| {
                    // Binary frames are no part of the protocol: skipped.
                    let text = e
                        .unchecked_into::<web_sys::MessageEvent>()
                        .data()
                        .as_string();
                    text.map(Event::Text)
                }),
            ),
            ("close", listener(&sender, |_| Some(Event::Closed))),
            ("error", listener(&sender, |_| Some(Event::Closed))),
        ];
        for (name, listener) in &listeners {
            let _ =
                socket.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        Some(Socket {
            socket,
            events,
            listeners,
        })
    }

    /// Waits until the socket is open: true, or false when it closed (or failed) first.
    pub async fn opened(&mut self) -> bool {
        use futures::StreamExt;
        matches!(self.events.next().await, Some(Event::Open))
    }

    /// Sends a text frame; false when the socket is not open.
    pub fn send(&self, text: &str) -> bool {
        self.socket.send_with_str(text).is_ok()
    }
}

impl Stream for Socket {
    type Item = String;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        loop {
            return match Pin::new(&mut self.events).poll_next(cx) {
                Poll::Ready(Some(Event::Open)) => continue,
                Poll::Ready(Some(Event::Text(text))) => Poll::Ready(Some(text)),
                Poll::Ready(Some(Event::Closed) | None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        for (name, listener) in &self.listeners {
            let _ = self
                .socket
                .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        let _ = self.socket.close();
    }
}
