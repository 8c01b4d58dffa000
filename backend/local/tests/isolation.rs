//! The isolation matrix: each actor (a regular agent, a supervisor) against each target
//! (an agent of her functional group, of another group of her tenant, of another
//! tenant), over every WebSocket action and every HTTP endpoint, on the real local
//! server. The expected answer of every cell follows from the rules of DESIGN.md and
//! docs/protocol.md (see `expected`), not from what the server happens to do; every
//! forbidden cell must be refused and leak nothing — the target and the other agent of
//! the target's chat receive nothing, and no answer holds the chat's words.
//!
//! Forged, expired, `alg: none` and other-key tokens are refused in
//! `backend/handlers/tests/oidc.rs` and `backend/handlers/src/auth.rs`; here, genuinely
//! signed tokens of agents the directory does not hold are refused too.

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use support::scripted::{Console, fresh, http, raw_http, say, sign_in, start_chat};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Agent,
    Supervisor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    SameGroup,
    OtherGroup,
    OtherTenant,
}

const TARGETS: [Target; 3] = [Target::SameGroup, Target::OtherGroup, Target::OtherTenant];

/// What a cell tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// `set_state` (her own; the only state she can set): is the target told?
    SetState,
    /// `start_chat` with the target.
    StartChat,
    /// `send` into the target's chat with another agent.
    Send,
    /// `end` of the target's chat.
    End,
    /// `typing` in the target's chat.
    Typing,
    /// `seen` in the target's chat.
    Seen,
    /// `hello` resuming the target's chat from sequence 0.
    HelloResume,
    /// `GET /api/agents`: is the target listed?
    Agents,
    /// `GET /api/chats`: is the target's chat listed?
    Chats,
    /// `GET /api/chats/{target's chat}/messages`.
    Messages,
    /// `GET /api/transcripts`: is the target's chat listed?
    Transcripts,
    /// `GET /api/transcripts?agent={target}`: is the target's chat listed?
    TranscriptsOfAgent,
    /// `GET /api/transcripts/{target's chat}`.
    Transcript,
    /// `GET /api/transcripts/{target's chat}/download`.
    Download,
    /// The target asks her group a question: is the actor told, and may she `take` it?
    TakeQuestion,
    /// The target raises her hand: is the actor told, and may she `take` it?
    TakeHand,
}

const ACTIONS: [Action; 16] = [
    Action::SetState,
    Action::StartChat,
    Action::Send,
    Action::End,
    Action::Typing,
    Action::Seen,
    Action::HelloResume,
    Action::Agents,
    Action::Chats,
    Action::Messages,
    Action::Transcripts,
    Action::TranscriptsOfAgent,
    Action::Transcript,
    Action::Download,
    Action::TakeQuestion,
    Action::TakeHand,
];

/// The rules, cell by cell: may `role` do `action` to `target`?
fn expected(role: Role, target: Target, action: Action) -> bool {
    let same_tenant = target != Target::OtherTenant;
    // DESIGN §1: an agent sees and chats with her own group; a supervisor with every
    // group of her tenant; nobody ever sees another tenant.
    let sees = same_tenant && (role == Role::Supervisor || target == Target::SameGroup);
    match action {
        // Her state goes to whoever can see her; every target is a regular agent, who
        // sees her own group only (no chat joins them yet when states change).
        Action::SetState => target == Target::SameGroup,
        Action::StartChat | Action::Agents => sees,
        // A chat's contents are for its two participants: neither actor takes part in
        // the target's chat, so nothing of it reaches her over the WebSocket or
        // `/api/chats` — a supervisor included.
        Action::Send
        | Action::End
        | Action::Typing
        | Action::Seen
        | Action::HelloResume
        | Action::Chats
        | Action::Messages => false,
        // docs/protocol.md: transcripts are every chat of her tenant for a supervisor,
        // her own otherwise.
        Action::Transcripts
        | Action::TranscriptsOfAgent
        | Action::Transcript
        | Action::Download => role == Role::Supervisor && same_tenant,
        // docs/protocol.md: a question is taken by an agent of its group, or by a
        // supervisor of its group at once (another supervisor once it is overdue, a
        // minute later); a hand by a supervisor of the tenant.
        Action::TakeQuestion => same_tenant && target == Target::SameGroup,
        Action::TakeHand => same_tenant && role == Role::Supervisor,
    }
}

/// Who is told of a question or a hand: the agents of its group (a question), every
/// supervisor of its tenant; nobody of another tenant.
fn told_of_help(role: Role, target: Target, action: Action) -> bool {
    target != Target::OtherTenant
        && (role == Role::Supervisor
            || (action == Action::TakeQuestion && target == Target::SameGroup))
}

/// The two actors and, per target, the target and the other agent of the target's chat.
fn cast(role: Role, target: Target) -> (&'static str, &'static str) {
    match (role, target) {
        (Role::Agent, Target::SameGroup) => ("bob", "cara"),
        (Role::Agent, Target::OtherGroup) => ("dan", "finn"),
        (Role::Agent, Target::OtherTenant) => ("gus", "hana"),
        (Role::Supervisor, Target::SameGroup) => ("eve", "finn"),
        (Role::Supervisor, Target::OtherGroup) => ("cara", "bob"),
        (Role::Supervisor, Target::OtherTenant) => ("hana", "gus"),
    }
}

fn actor(role: Role) -> &'static str {
    match role {
        Role::Agent => "ann",
        Role::Supervisor => "sue",
    }
}

fn tenant_of(agent: &str) -> &'static str {
    if ["gus", "hana", "ivan"].contains(&agent) {
        "globex"
    } else {
        "acme"
    }
}

/// The words of the chat between two agents: no forbidden answer may hold them.
fn secret(a: &str, b: &str) -> String {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    format!("between {low} and {high} only")
}

struct World {
    addr: SocketAddr,
    tokens: HashMap<&'static str, String>,
    consoles: HashMap<&'static str, Console>,
    /// The chat of each pair, by its lower and higher agent id.
    chats: HashMap<(&'static str, &'static str), String>,
}

impl World {
    fn token(&self, agent: &str) -> &str {
        &self.tokens[agent]
    }

    fn console(&mut self, agent: &str) -> &mut Console {
        self.consoles.get_mut(agent).expect("a console")
    }

    fn chat(&self, a: &'static str, b: &'static str) -> String {
        let key = if a < b { (a, b) } else { (b, a) };
        self.chats[&key].clone()
    }

    /// What every console but the actors' received since last asked, all drained at once.
    async fn drain_others(&mut self) -> Vec<(&'static str, Vec<Value>)> {
        let draining = self
            .consoles
            .iter_mut()
            .filter(|(agent, _)| !["ann", "sue"].contains(*agent))
            .map(|(agent, console)| async move { (*agent, console.drain().await) });
        futures_util::future::join_all(draining).await
    }

    async fn get(&self, agent: &str, path: &str) -> (u16, Value) {
        http(self.addr, "GET", path, Some(self.token(agent)), "").await
    }

    /// Sends a frame on `agent`'s console; returns the answer if one comes before the
    /// `pong` of a ping sent right after it.
    async fn frame(&mut self, agent: &str, frame: Value) -> Vec<Value> {
        let console = self.console(agent);
        console.send(frame).await;
        console.send(json!({"action": "ping"})).await;
        let mut answers = Vec::new();
        loop {
            let next = console.next().await;
            if next["type"] == "pong" {
                return answers;
            }
            answers.push(next);
        }
    }
}

/// Runs one cell; returns whether it was allowed. A refused cell is also checked to
/// leak nothing in its answer.
async fn try_cell(world: &mut World, role: Role, target: Target, action: Action) -> bool {
    let me = actor(role);
    let (them, third) = cast(role, target);
    let chat = world.chat(them, third);
    let words = secret(them, third);
    let named = |frames: &[Value]| frames.iter().any(|f| f.to_string().contains(&words));
    match action {
        Action::SetState => {
            // One change per actor (at most one per 300 ms), heard or not by each target.
            // The frame also names the target: a field the server must not heed.
            if target == TARGETS[0] {
                let answers = world
                    .frame(
                        me,
                        json!({"action": "set_state", "state": "busy", "agent": them}),
                    )
                    .await;
                assert!(
                    answers.iter().any(|f| f["type"] == "agent"),
                    "{me} is told of her own change: {answers:?}"
                );
            }
            let heard = world.console(them).drain().await;
            heard
                .iter()
                .any(|f| f["type"] == "agent" && f["agent"]["id"] == me)
        }
        Action::StartChat => {
            let answers = world
                .frame(me, json!({"action": "start_chat", "with": them}))
                .await;
            let started = answers.iter().find(|f| f["type"] == "chat_started");
            match started {
                Some(started) => {
                    // A positive control: what she sends in it reaches the target.
                    let id = started["chat"]["id"].as_str().expect("an id").to_owned();
                    let told = world.console(them).next_of("chat").await;
                    assert_eq!(told["chat"]["id"], id.as_str());
                    say(world.console(me), &id, "control", "hello from the matrix").await;
                    let message = world.console(them).next_of("message").await;
                    assert_eq!(message["message"]["body"], "hello from the matrix");
                    true
                }
                None => {
                    let code = &answers.first().expect("an answer")["code"];
                    let wanted = if target == Target::OtherTenant {
                        "not_found"
                    } else {
                        "forbidden"
                    };
                    assert_eq!(code, wanted, "{me} → {them}: {answers:?}");
                    false
                }
            }
        }
        Action::Send | Action::End | Action::Typing | Action::Seen => {
            let frame = match action {
                Action::Send => {
                    json!({"action": "send", "chat_id": chat, "client_msg_id": format!("x-{them}"), "body": "let me in"})
                }
                Action::End => json!({"action": "end", "chat_id": chat}),
                Action::Typing => json!({"action": "typing", "chat_id": chat}),
                _ => json!({"action": "seen", "chat_id": chat, "seq": 1}),
            };
            let answers = world.frame(me, frame).await;
            let refused = answers.len() == 1
                && answers[0]["type"] == "error"
                && answers[0]["code"] == "not_found";
            assert!(!named(&answers), "{action:?} leaked the chat: {answers:?}");
            !refused
        }
        Action::HelloResume => {
            let answers = world
                .frame(
                    me,
                    json!({"action": "hello", "protocol": protocol::PROTOCOL_VERSION, "resume": {chat.as_str(): 0}}),
                )
                .await;
            assert_eq!(
                answers.first().map(|f| f["type"].clone()),
                Some(json!("welcome"))
            );
            answers.iter().any(|f| {
                f["message"]["chat_id"] == chat.as_str()
                    || f["chats"]
                        .as_array()
                        .is_some_and(|chats| chats.iter().any(|c| c["id"] == chat.as_str()))
            }) || named(&answers)
        }
        Action::Agents => {
            let (status, body) = world.get(me, "/api/agents").await;
            assert_eq!(status, 200);
            listed(&body["agents"], "id", them)
        }
        Action::Chats => {
            let (status, body) = world.get(me, "/api/chats").await;
            assert_eq!(status, 200);
            listed(&body["chats"], "id", &chat) || body.to_string().contains(&words)
        }
        Action::Messages => {
            let (status, body) = world.get(me, &format!("/api/chats/{chat}/messages")).await;
            allowed_or_not_found(status, &body, &words)
        }
        Action::Transcripts | Action::TranscriptsOfAgent => {
            let path = if action == Action::Transcripts {
                "/api/transcripts".to_owned()
            } else {
                format!("/api/transcripts?agent={them}")
            };
            let (status, body) = world.get(me, &path).await;
            assert_eq!(status, 200, "{body}");
            listed(&body["transcripts"], "id", &chat)
        }
        Action::Transcript => {
            let (status, body) = world.get(me, &format!("/api/transcripts/{chat}")).await;
            allowed_or_not_found(status, &body, &words)
        }
        Action::TakeQuestion | Action::TakeHand => {
            let ask = if action == Action::TakeQuestion {
                json!({"action": "ask", "text": format!("{them} needs help")})
            } else {
                json!({"action": "raise_hand"})
            };
            let asked = world.frame(them, ask).await;
            let request = asked
                .iter()
                .find(|f| f["type"] == "help" && f["request"]["from"] == them)
                .unwrap_or_else(|| panic!("{them} is told of her own request: {asked:?}"))
                ["request"]["id"]
                .as_str()
                .expect("an id")
                .to_owned();
            let heard = world
                .console(me)
                .drain()
                .await
                .iter()
                .any(|f| f["type"] == "help" && f["request"]["id"] == request.as_str());
            assert_eq!(
                heard,
                told_of_help(role, target, action),
                "{me} told of {them}'s {action:?}"
            );
            let answers = world
                .frame(me, json!({"action": "take", "request": request}))
                .await;
            match answers.iter().find(|f| f["type"] == "chat_started") {
                Some(started) => {
                    assert_eq!(started["chat"]["with"]["id"], them, "{answers:?}");
                    true
                }
                None => {
                    let refusal = answers
                        .iter()
                        .find(|f| f["type"] == "error")
                        .unwrap_or_else(|| panic!("no chat and no refusal: {answers:?}"));
                    // Not told of it: it does not exist for her. Told, but not hers to take.
                    let wanted = if told_of_help(role, target, action) {
                        "forbidden"
                    } else {
                        "not_found"
                    };
                    assert_eq!(refusal["code"], wanted, "{me} takes {them}'s: {answers:?}");
                    // Withdrawn, so that it waits for nobody in the cells after.
                    world
                        .frame(them, json!({"action": "withdraw", "request": request}))
                        .await;
                    false
                }
            }
        }
        Action::Download => {
            let request = format!(
                "GET /api/transcripts/{chat}/download?format=text HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
                world.addr,
                world.token(me)
            );
            let (status, body) = raw_http(world.addr, request.into_bytes()).await;
            match status {
                200 => {
                    assert!(body.contains(&words), "the download is the transcript");
                    true
                }
                404 => {
                    assert!(!body.contains(&words), "a refusal leaked the chat");
                    false
                }
                other => panic!("download answered {other}: {body}"),
            }
        }
    }
}

fn listed(list: &Value, field: &str, id: &str) -> bool {
    list.as_array()
        .expect("a list")
        .iter()
        .any(|item| item[field] == id)
}

/// 200 with the chat's words, or 404 `not_found` without them.
fn allowed_or_not_found(status: u16, body: &Value, words: &str) -> bool {
    match status {
        200 => {
            assert!(body.to_string().contains(words), "{body}");
            true
        }
        404 => {
            assert_eq!(body["code"], "not_found");
            assert!(
                !body.to_string().contains(words),
                "a refusal leaked: {body}"
            );
            false
        }
        other => panic!("answered {other}: {body}"),
    }
}

async fn world() -> (tempfile::TempDir, console_local::RunningServer, World) {
    let (data, server) = fresh().await;
    let addr = server.addr;
    let agents = [
        "ann", "sue", "bob", "cara", "dan", "finn", "eve", "gus", "hana",
    ];
    let mut tokens = HashMap::new();
    let mut consoles = HashMap::new();
    for agent in agents {
        let token = sign_in(addr, tenant_of(agent), agent).await;
        let (console, _) = Console::hello(addr, &token, json!({})).await;
        tokens.insert(agent, token);
        consoles.insert(agent, console);
    }
    let mut world = World {
        addr,
        tokens,
        consoles,
        chats: HashMap::new(),
    };
    // The targets' chats with other agents, none with an actor.
    for (from, to) in [
        ("bob", "cara"),
        ("dan", "finn"),
        ("finn", "eve"),
        ("gus", "hana"),
    ] {
        let id = start_chat(world.console(from), to).await;
        say(world.console(from), &id, "s", &secret(from, to)).await;
        let key = if from < to { (from, to) } else { (to, from) };
        world.chats.insert(key, id);
    }
    let everyone = world
        .consoles
        .values_mut()
        .map(|console| async move { console.drain().await });
    futures_util::future::join_all(everyone).await;
    (data, server, world)
}

#[tokio::test]
async fn every_cell_of_the_isolation_matrix_is_allowed_or_denied_by_the_rules_and_denials_leak_nothing()
 {
    let (_data, server, mut world) = world().await;
    // Start-chat and help cells go last: a chat (a taken request is one) makes its two
    // agents visible to each other.
    let last = [Action::StartChat, Action::TakeQuestion, Action::TakeHand];
    let mut order: Vec<Action> = ACTIONS.into_iter().filter(|a| !last.contains(a)).collect();
    order.extend(last);
    let mut cells = Vec::new();
    for action in order {
        for role in [Role::Agent, Role::Supervisor] {
            for target in TARGETS {
                let allowed = try_cell(&mut world, role, target, action).await;
                cells.push((
                    role,
                    target,
                    action,
                    expected(role, target, action),
                    allowed,
                ));
            }
        }
        if action == Action::SetState {
            // Only the actors' own states changed.
            for role in [Role::Agent, Role::Supervisor] {
                for target in TARGETS {
                    let them = cast(role, target).0;
                    let (_, body) = world.get(them, "/api/me").await;
                    assert!(
                        body.to_string().contains("\"state\":\"available\""),
                        "{them} kept her state: {body}"
                    );
                }
            }
            // Those who may see the actors were told; that is all.
            for (agent, heard) in world.drain_others().await {
                assert!(
                    heard
                        .iter()
                        .all(|f| f["type"] == "agent" && f["agent"]["state"] == "busy"),
                    "{agent} received {heard:?}"
                );
            }
        } else if matches!(action, Action::TakeQuestion | Action::TakeHand) {
            // Requests are told within their tenant only.
            for (agent, heard) in world.drain_others().await {
                for frame in heard.iter().filter(|f| f["type"] == "help") {
                    let from = frame["request"]["from"].as_str().expect("an asker");
                    assert_eq!(
                        tenant_of(from),
                        tenant_of(agent),
                        "{agent} was told of {frame}"
                    );
                }
            }
        } else if action != Action::StartChat {
            // Nothing of what the actors tried reached anyone else.
            for (agent, heard) in world.drain_others().await {
                assert!(heard.is_empty(), "{action:?}: {agent} received {heard:?}");
            }
        }
    }

    println!("| actor | target | action | expected | observed |\n|---|---|---|---|---|");
    for (role, target, action, expected, observed) in &cells {
        println!(
            "| {role:?} | {target:?} | {action:?} | {} | {} |",
            verdict(*expected),
            verdict(*observed)
        );
    }
    let wrong: Vec<_> = cells.iter().filter(|c| c.3 != c.4).collect();
    assert!(wrong.is_empty(), "cells against the rules: {wrong:?}");
    let denied = cells.iter().filter(|c| !c.3).count();
    assert_eq!(cells.len(), 2 * 3 * ACTIONS.len());
    println!(
        "{} cells: {} allowed, {} denied; every denial leaked nothing",
        cells.len(),
        cells.len() - denied,
        denied
    );

    // The target's chats are as they were: nothing sent, ended or marked.
    for (pair, chat) in world.chats.clone() {
        let (_, body) = world
            .get(pair.0, &format!("/api/chats/{chat}/messages"))
            .await;
        assert_eq!(
            body["messages"].as_array().map(Vec::len),
            Some(1),
            "{pair:?}"
        );
        let (_, chats) = world.get(pair.0, "/api/chats").await;
        let view = chats["chats"]
            .as_array()
            .expect("chats")
            .iter()
            .find(|c| c["id"] == chat.as_str())
            .expect("listed")
            .clone();
        assert_eq!(view["status"], "open", "{pair:?}");
    }
    server.stop().await;
}

fn verdict(allowed: bool) -> &'static str {
    if allowed { "allow" } else { "deny" }
}

#[tokio::test]
async fn me_and_tickets_are_always_the_caller_s_own() {
    let (_data, server) = fresh().await;
    let addr = server.addr;
    for role in [Role::Agent, Role::Supervisor] {
        let me = actor(role);
        let token = sign_in(addr, "acme", me).await;
        let (status, body) = http(addr, "GET", "/api/me", Some(&token), "").await;
        assert_eq!(status, 200);
        let text = body.to_string();
        assert!(
            text.matches("\"id\":\"").count() == 1 && text.contains(&format!("\"id\":\"{me}\"")),
            "/api/me names {me} and nobody else: {body}"
        );
        let (_, welcome) = Console::hello(addr, &token, json!({})).await;
        assert_eq!(
            welcome["me"]["id"], me,
            "a ticket opens a socket of its own agent"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn genuinely_signed_tokens_of_agents_the_directory_lacks_are_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let (data, server) = fresh().await;
    let addr = server.addr;
    let secret = std::fs::read(data.path().join("signing.key")).expect("the signing key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let token = |tenant: &str, agent: &str| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({"iss": "agent-console", "sub": agent, "tid": tenant, "iat": now, "exp": now + 3600}),
            &EncodingKey::from_secret(&secret),
        )
        .expect("signed")
    };
    // The control: the same signing makes a good token for an agent who is there.
    let (status, _) = http(addr, "GET", "/api/me", Some(&token("acme", "ann")), "").await;
    assert_eq!(status, 200, "the forged-looking token is genuinely signed");
    for (tenant, agent, why) in [
        (
            "acme",
            "zoe",
            "an agent who is not (or no longer) in the directory",
        ),
        (
            "acme",
            "gus",
            "another tenant's agent claimed under this tenant",
        ),
        ("initech", "ann", "a tenant that does not exist"),
    ] {
        let token = token(tenant, agent);
        for (method, path) in [
            ("GET", "/api/me"),
            ("POST", "/api/ws-ticket"),
            ("GET", "/api/agents"),
            ("GET", "/api/chats"),
            ("GET", "/api/transcripts"),
        ] {
            let (status, body) = http(addr, method, path, Some(&token), "").await;
            assert_eq!(
                (status, body["code"].clone()),
                (401, json!("unauthorized")),
                "{why}: {method} {path} answered {body}"
            );
        }
    }
    server.stop().await;
}
