//! Sessions: WebSocket tickets, connections coming and going, and the `hello` that
//! (re)starts a console.

use super::{ChatService, TICKET_TTL_MS, encode};
use crate::error::DomainError;
use crate::model::{Chat, Connection, ConnectionId, Identity, Ticket};
use crate::ports::{PushOutcome, Quota};
use protocol::{AgentState, AgentView, ChatId, ChatView, PROTOCOL_VERSION, ServerFrame};
use std::collections::BTreeMap;

/// The most open chats a `welcome` is built from (fewer when they do not fit its frame).
pub const WELCOME_CHATS: usize = 40;

/// How often a connection is asked after (ms): API Gateway closes one that has been idle
/// for 10 minutes, so one that died silently is found within 15 (and the sweep's period).
pub const CHECK_EVERY_MS: i64 = 5 * 60_000;

/// The most connections one sweep asks after; the rest are the next sweep's.
pub const SWEEP_BATCH: usize = 500;

/// The most messages a resume sends of one chat: its latest page.
pub const RESUME_PAGE: usize = 50;

/// The most chats one `hello` may resume.
pub const MAX_RESUME: usize = 100;

/// How many `hello`s one connection may send: a console sends one per connection.
pub const HELLO_QUOTA: Quota = Quota {
    max: 5,
    window_ms: 10_000,
};

/// The `welcome` of `me`, holding as many of `open` (in order) as fit in one frame,
/// with `more_open` naming where the rest start when some are left out (or `more`
/// says more follow `open`).
pub fn welcome_page(
    me: AgentView,
    mut open: Vec<ChatView>,
    more: bool,
    pending_chats: u32,
) -> ServerFrame {
    let frame = |chats: Vec<ChatView>, more_open: Option<String>| ServerFrame::Welcome {
        protocol: PROTOCOL_VERSION,
        me: me.clone(),
        chats,
        more_open,
        pending_chats,
    };
    // The envelope with the longest cursor it can carry, then each chat in turn while
    // they fit.
    let longest_cursor = Some("c".repeat(CURSOR_RESERVE));
    let mut size = encode(&frame(Vec::new(), longest_cursor)).len();
    let mut fit = 0;
    for view in &open {
        let grown = size + encode_len(view) + 1;
        if grown > protocol::MAX_FRAME_BYTES {
            break;
        }
        size = grown;
        fit += 1;
    }
    let more = more || fit < open.len();
    open.truncate(fit);
    let more_open = more.then(|| {
        open.last()
            .map(|view| view.id.to_string())
            .unwrap_or_default()
    });
    frame(open, more_open)
}

/// Room kept in a `welcome` for its cursor: a chat id (generated, a few dozen bytes).
const CURSOR_RESERVE: usize = 256;

fn encode_len(view: &ChatView) -> usize {
    serde_json::to_string(view).map_or(usize::MAX / 2, |json| json.len())
}

impl ChatService<'_> {
    /// Issues a single-use ticket for opening a WebSocket as `who`.
    pub async fn issue_ticket(&self, who: &Identity) -> Result<Ticket, DomainError> {
        self.agent(who).await?;
        let ticket = Ticket {
            id: self.clock.new_id(),
            tenant: who.tenant.clone(),
            agent: who.agent.clone(),
            expires_at: self.clock.now_ms() + TICKET_TTL_MS,
        };
        self.store.put_ticket(&ticket).await?;
        Ok(ticket)
    }

    /// Redeems a ticket (once) and returns who it was issued to.
    pub async fn redeem_ticket(&self, id: &str) -> Result<Identity, DomainError> {
        if id.is_empty() || id.len() > 128 {
            return Err(DomainError::InvalidTicket);
        }
        let ticket = self
            .store
            .take_ticket(id)
            .await?
            .ok_or(DomainError::InvalidTicket)?;
        if ticket.expires_at < self.clock.now_ms() {
            return Err(DomainError::InvalidTicket);
        }
        let who = Identity {
            tenant: ticket.tenant,
            agent: ticket.agent,
        };
        self.agent(&who).await?;
        Ok(who)
    }

    /// Records a new connection of `who`. An agent who was Logged Out becomes Available,
    /// and everyone who can see her is told (not this connection: API Gateway cannot
    /// push to a connection before its `$connect` has returned).
    pub async fn connect(&self, id: ConnectionId, who: &Identity) -> Result<(), DomainError> {
        let me = self.agent(who).await?;
        self.store
            .put_connection(&Connection {
                id: id.clone(),
                tenant: who.tenant.clone(),
                agent: who.agent.clone(),
                connected_at: self.clock.now_ms(),
                group: Some(me.group.clone()),
                supervisor: me.role == protocol::Role::Supervisor,
                check_at: self.clock.now_ms() + CHECK_EVERY_MS,
            })
            .await?;
        if me.state == AgentState::LoggedOut {
            self.change_state(who, AgentState::Available, Some(&id))
                .await?;
        }
        Ok(())
    }

    /// Forgets a connection. When it was the agent's last one she is Logged Out, and
    /// everyone who can see her is told.
    pub async fn disconnect(&self, id: &ConnectionId) -> Result<(), DomainError> {
        let Some(gone) = self.store.delete_connection(id).await? else {
            return Ok(());
        };
        let remaining = self.store.connections_of(&gone.tenant, &gone.agent).await?;
        if remaining.is_empty() {
            let who = Identity {
                tenant: gone.tenant,
                agent: gone.agent,
            };
            self.change_state(&who, AgentState::LoggedOut, None).await?;
        }
        Ok(())
    }

    /// Asks after the connections whose check is due (at most [`SWEEP_BATCH`], the
    /// earliest first): one that is gone is forgotten as its `$disconnect` would — the
    /// agent is Logged Out for those who see her when it was her last — and the others
    /// are asked again in [`CHECK_EVERY_MS`]. API Gateway sends `$disconnect` on a
    /// best-effort basis; this finds the connections it never told of. Returns how many
    /// were found gone and how many checked in all.
    pub async fn sweep(&self) -> Result<(usize, usize), DomainError> {
        use futures_util::StreamExt;
        let now = self.clock.now_ms();
        let due = self.store.connections_due(now, SWEEP_BATCH).await?;
        let checked = due.len();
        let outcomes: Vec<Result<bool, DomainError>> = futures_util::stream::iter(due)
            .map(|connection| async move {
                match self.pusher.probe(&connection.id).await {
                    PushOutcome::Gone => {
                        // Counted by the stack's dashboard (a metric filter on this message).
                        tracing::info!(connection = %connection.id.0, "a connection was found gone (410) by the sweeper: forgotten");
                        self.disconnect(&connection.id).await.map(|()| true)
                    }
                    // Still there, or not known: asked again later.
                    PushOutcome::Delivered | PushOutcome::Failed(_) => {
                        self.store
                            .check_later(&connection, now + CHECK_EVERY_MS)
                            .await?;
                        Ok(false)
                    }
                }
            })
            .buffer_unordered(super::MAX_CONCURRENT_PUSHES)
            .collect()
            .await;
        let mut gone = 0;
        for outcome in outcomes {
            gone += usize::from(outcome?);
        }
        Ok((gone, checked))
    }

    /// Answers a console's `hello`: who she is, a page of her open chats and her count of
    /// pending chats (see [`welcome_page`]); then, for each chat `resume` names that the
    /// welcome does not hold, its state (it may have ended meanwhile); then the messages
    /// she lacks — per chat named, those after its number, per open chat of the welcome
    /// not named, its latest page — at most [`RESUME_PAGE`] per chat, in order. The work
    /// is bounded by the page and by `resume`, never by her history.
    pub async fn hello(
        &self,
        connection: &ConnectionId,
        who: &Identity,
        protocol: u32,
        resume: &BTreeMap<ChatId, u64>,
    ) -> Result<(), DomainError> {
        if protocol != PROTOCOL_VERSION {
            return Err(DomainError::UnsupportedProtocol {
                sent: protocol,
                supported: PROTOCOL_VERSION,
            });
        }
        if resume.len() > MAX_RESUME {
            return Err(DomainError::BadRequest(format!(
                "resume names {} chats; at most {MAX_RESUME} may be resumed at once",
                resume.len()
            )));
        }
        if !self
            .store
            .take(
                &format!("hello\u{1f}{}", connection.0),
                HELLO_QUOTA,
                self.clock.now_ms(),
            )
            .await?
        {
            return Err(DomainError::RateLimited(
                "too many hellos on one connection; reconnect in a moment".into(),
            ));
        }
        let me = self.agent(who).await?;
        let open = self
            .store
            .open_chats_of(&who.tenant, &who.agent, None, WELCOME_CHATS + 1)
            .await?;
        let views = self
            .chat_views(open.iter().take(WELCOME_CHATS), who)
            .await?;
        let pending_chats = self.store.pending_count(&who.tenant, &who.agent).await?;
        let welcome = welcome_page(me.view(), views, open.len() > WELCOME_CHATS, pending_chats);
        let ServerFrame::Welcome {
            chats: welcomed, ..
        } = &welcome
        else {
            unreachable!("welcome_page makes a welcome");
        };
        let welcomed: Vec<ChatId> = welcomed.iter().map(|view| view.id.clone()).collect();
        self.push_to_connection(connection, &welcome).await;
        self.send_waiting_help(connection, &me).await?;

        let mut to_send: Vec<(Chat, Option<u64>)> = Vec::new();
        for (chat_id, after) in resume {
            if let Some(chat) = open.iter().find(|chat| &chat.id == chat_id) {
                to_send.push((chat.clone(), Some(*after)));
                continue;
            }
            // Not in the welcome: ended meanwhile, or past its page. A chat that is not
            // hers is passed over in silence, as if it did not exist.
            let Some(chat) = self.store.chat(&who.tenant, chat_id).await? else {
                continue;
            };
            if !chat.has_participant(&who.agent) {
                continue;
            }
            let frame = ServerFrame::Chat {
                chat: self.chat_view(&chat, &who.agent).await?,
                pending_chats,
            };
            self.push_to_connection(connection, &frame).await;
            to_send.push((chat, Some(*after)));
        }
        for chat in open.iter().filter(|chat| welcomed.contains(&chat.id)) {
            if !resume.contains_key(&chat.id) {
                to_send.push((chat.clone(), None));
            }
        }
        for (chat, after) in &to_send {
            let page = match after {
                Some(after) if chat.last_seq.saturating_sub(*after) <= RESUME_PAGE as u64 => {
                    self.store
                        .messages(&who.tenant, &chat.id, *after, RESUME_PAGE)
                        .await?
                }
                _ if chat.last_seq == 0 => Vec::new(),
                _ => {
                    self.store
                        .messages_before(&who.tenant, &chat.id, chat.last_seq + 1, RESUME_PAGE)
                        .await?
                }
            };
            for message in &page {
                self.push_to_connection(
                    connection,
                    &ServerFrame::Message {
                        message: message.view(),
                        chat: None,
                        pending_chats: None,
                    },
                )
                .await;
            }
        }
        Ok(())
    }

    /// Answers `ping`: keeps an idle connection open.
    pub async fn ping(&self, connection: &ConnectionId) {
        self.push_to_connection(connection, &ServerFrame::Pong)
            .await;
    }
}
