//! What a handler needs: the ports and the token authority, built once at start.

use crate::auth::TokenAuthority;
use console_domain::ports::Quota;
use console_domain::{ChatService, Clock, Order, Pusher, Store};
use std::sync::Arc;

/// The handlers' context, shared by every request.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub pusher: Arc<dyn Pusher>,
    pub clock: Arc<dyn Clock>,
    /// The order of a chat's pushes: a striped lock in the local server, none in Lambda.
    pub order: Arc<dyn Order>,
    pub tokens: TokenAuthority,
    /// Offer the development sign-in (the local server only; never in AWS).
    pub dev_sign_in: bool,
    /// How many sends one connection may make: `console_domain::service::SEND_QUOTA`
    /// everywhere but in a local server started with `--send-quota`.
    pub send_quota: Quota,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("dev_sign_in", &self.dev_sign_in)
            .field("send_quota", &self.send_quota)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The use-cases over this context's ports.
    pub fn service(&self) -> ChatService<'_> {
        ChatService {
            store: self.store.as_ref(),
            pusher: self.pusher.as_ref(),
            clock: self.clock.as_ref(),
            order: self.order.as_ref(),
            send_quota: self.send_quota,
        }
    }
}
