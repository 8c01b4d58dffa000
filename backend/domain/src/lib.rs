//! The agent-to-agent chat's domain: what an agent, a chat and a message are, the rules
//! (who sees whom, what requires a response, how messages are ordered), the use-cases that
//! apply them, and the ports (store, pusher, clock) through which they reach the world.
//!
//! Nothing here knows AWS, Lambda, tokio or axum: adapters implement the ports.

pub mod conformance;
pub mod directory;
pub mod error;
pub mod help;
pub mod model;
pub mod ports;
pub mod rules;
pub mod service;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::DomainError;
pub use model::{Agent, Chat, Connection, ConnectionId, Identity, Message, Tenant, Ticket};
pub use ports::{Clock, Order, PushOutcome, Pusher, Store, StoreError, Turn, Unordered};
pub use service::ChatService;
