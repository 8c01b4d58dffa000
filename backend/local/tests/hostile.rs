//! The hostile-input corpus: malformed and hostile WebSocket frames, WebSocket upgrades
//! and HTTP requests against the real local server, over real sockets. Each case states
//! its expected answer — an `error` frame with its code (the connection stays open), a
//! closed connection, a refused upgrade, or an HTTP status with its error code — as
//! `docs/protocol.md` documents them. Around the whole corpus the durable store is
//! compared record by record: nothing stored changed, and nobody else received a thing.

mod support;

use serde_json::{Value, json};
use support::scripted::{
    Console, demo_store, http, raw_http, say, sign_in, start_chat, start_on, upgrade,
};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// What a case sends.
enum Input {
    /// A text frame on Ann's open connection.
    Frame(String),
    /// Any WebSocket message on Ann's open connection.
    Message(Message),
    /// WebSocket messages on a connection of Ann's opened for this case alone.
    Alone(Vec<Message>),
    /// A WebSocket upgrade with this query string (and this `Origin`).
    Upgrade {
        query: String,
        origin: Option<&'static str>,
    },
    /// One raw HTTP/1.1 request.
    Http(Vec<u8>),
}

/// What a case must get back.
enum Expect {
    /// An `error` frame with this code, naming this `client_msg_id` (or none), as the
    /// very next frame; the connection stays open.
    Error(&'static str, Option<String>),
    /// `welcome`, then messages of Ann's own chats only — none of these chats'; the
    /// connection stays open.
    WelcomeWithout(Vec<String>),
    /// The connection is closed without an answer.
    Closed,
    /// The upgrade is refused with this HTTP status.
    Refused(u16),
    /// An HTTP answer with this status and this error code in its JSON body.
    Status(u16, &'static str),
    /// An HTTP answer with this status that does not hold the file outside the console.
    NoSecret(u16),
}

struct Case {
    name: &'static str,
    input: Input,
    expect: Expect,
}

fn case(name: &'static str, input: Input, expect: Expect) -> Case {
    Case {
        name,
        input,
        expect,
    }
}

fn frame(value: Value) -> Input {
    Input::Frame(value.to_string())
}

fn text(raw: &str) -> Input {
    Input::Frame(raw.to_owned())
}

fn send(chat: &str, client_msg_id: &str, body: &str) -> Input {
    frame(json!({"action": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body}))
}

/// An HTTP/1.1 request with a JSON content type, closed after the answer.
fn request(method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Input {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    request_with(method, path, &auth, body)
}

fn request_with(method: &str, path: &str, headers: &str, body: &[u8]) -> Input {
    // JSON, unless the case says what it sends.
    let kind = if headers.contains("Content-Type") {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let mut bytes = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}{kind}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Input::Http(bytes)
}

const SECRET: &str = "the file beside the console folder";

/// The chats the corpus aims at.
struct Chats {
    /// Ann and Bob's open chat, with two messages.
    own: String,
    /// Ann and Cara's chat, ended.
    ended: String,
    /// Dan and Eve's chat: Ann's tenant, not hers.
    others: String,
    /// Gus and Hana's chat, in tenant globex.
    other_tenant: String,
}

#[rustfmt::skip]
fn corpus(chats: &Chats, ann: &str, used_ticket: &str, fresh_ticket: &str) -> Vec<Case> {
    use Expect::*;
    let Chats {
        own,
        ended,
        others,
        other_tenant,
    } = chats;
    let deep = "[".repeat(30_000);
    let tampered = {
        // The payload of Ann's token says another tenant; the signature is Ann's.
        let parts: Vec<&str> = ann.split('.').collect();
        let payload = String::from_utf8(base64url_decode(parts[1])).expect("UTF-8");
        let forged = payload.replace("\"acme\"", "\"globex\"");
        assert_ne!(payload, forged, "the token names its tenant");
        format!(
            "{}.{}.{}",
            parts[0],
            base64url_encode(forged.as_bytes()),
            parts[2]
        )
    };
    vec![
        // Frames that are not JSON, or not a frame.
        case("broken JSON", text(r#"{"action":"send","#), Error("bad_request", None)),
        case("an empty frame", text(""), Error("bad_request", None)),
        case("only white space", text(" \n\t "), Error("bad_request", None)),
        case("JSON null", text("null"), Error("bad_request", None)),
        case("a JSON array of frames", text(r#"[{"action":"ping"}]"#), Error("bad_request", None)),
        case("a JSON string", text(r#""ping""#), Error("bad_request", None)),
        case("a huge number", text(&"9".repeat(4000)), Error("bad_request", None)),
        case("no action", frame(json!({"chat_id": own})), Error("bad_request", None)),
        case("an action of the wrong type", frame(json!({"action": ["send"]})), Error("bad_request", None)),
        case("an unknown action", frame(json!({"action": "delete_everything"})), Error("unknown_action", None)),
        case("an action in capitals", frame(json!({"action": "SEND", "chat_id": own, "client_msg_id": "h0", "body": "hi"})), Error("unknown_action", None)),
        case("API Gateway's $disconnect route as an action", frame(json!({"action": "$disconnect"})), Error("unknown_action", None)),
        case("a duplicate action key", text(r#"{"action":"ping","action":"send"}"#), Error("bad_request", None)),
        case("30 000 nested arrays", Input::Frame(deep.clone()), Error("bad_request", None)),
        case("deep nesting inside a send", Input::Frame(format!(r#"{{"action":"send","chat_id":{deep}"#)), Error("bad_request", None)),
        case("a lone surrogate escape", text(&format!(r#"{{"action":"send","chat_id":"{own}","client_msg_id":"h-sur","body":"\ud800"}}"#)), Error("bad_request", None)),
        case("a binary frame of raw bytes", Input::Message(Message::Binary(vec![0xff, 0xfe, 0x00, 0x01].into())), Error("bad_request", None)),
        case("a binary frame holding a good send", Input::Message(Message::Binary(json!({"action": "send", "chat_id": own, "client_msg_id": "h-bin", "body": "hi"}).to_string().into_bytes().into())), Error("bad_request", None)),
        // Sends of the wrong shape, size or text.
        case("a send without fields", frame(json!({"action": "send"})), Error("bad_request", None)),
        case("a numeric chat id", frame(json!({"action": "send", "chat_id": 7, "client_msg_id": "h1", "body": "hi"})), Error("bad_request", Some("h1".into()))),
        case("an object as body", frame(json!({"action": "send", "chat_id": own, "client_msg_id": "h2", "body": {"html": "<b>"}})), Error("bad_request", Some("h2".into()))),
        case("a null client_msg_id", frame(json!({"action": "send", "chat_id": own, "client_msg_id": null, "body": "hi"})), Error("bad_request", None)),
        case("an empty body", send(own, "h-empty", ""), Error("empty_message", Some("h-empty".into()))),
        case("a body of white space", send(own, "h-blank", " \n\t\r\n "), Error("empty_message", Some("h-blank".into()))),
        case("a body of 16 385 bytes", send(own, "h-big", &"x".repeat(protocol::MAX_MESSAGE_BYTES + 1)), Error("message_too_large", Some("h-big".into()))),
        case("a body of 8 193 two-byte characters", send(own, "h-big2", &"é".repeat(protocol::MAX_MESSAGE_BYTES / 2 + 1)), Error("message_too_large", Some("h-big2".into()))),
        case("a NUL in the body", send(own, "h-nul", "before\u{0}after"), Error("bad_request", Some("h-nul".into()))),
        case("a terminal escape sequence in the body", send(own, "h-esc", "\u{1b}[2J\u{1b}[31mred"), Error("bad_request", Some("h-esc".into()))),
        case("an empty client_msg_id", send(own, "", "hi"), Error("bad_request", Some("".into()))),
        case("a control character in the client_msg_id", send(own, "a\u{1}b", "hi"), Error("bad_request", Some("a\u{1}b".into()))),
        case("a key separator in the client_msg_id", send(own, "x\u{1f}y", "hi"), Error("bad_request", Some("x\u{1f}y".into()))),
        case("a client_msg_id of 65 characters", send(own, &"k".repeat(65), "hi"), Error("bad_request", Some("k".repeat(65)))),
        // Chats that are not Ann's.
        case("a send to an unknown chat", send("no-such-chat", "h-unknown", "hi"), Error("not_found", Some("h-unknown".into()))),
        case("a send to another tenant's chat", send(other_tenant, "h-tenant", "hi"), Error("not_found", Some("h-tenant".into()))),
        case("a send to a chat of two other agents", send(others, "h-others", "hi"), Error("not_found", Some("h-others".into()))),
        case("a send to an ended chat", send(ended, "h-ended", "hi"), Error("chat_ended", Some("h-ended".into()))),
        case("a path-traversal chat id", send("../../globex/chats", "h-path", "hi"), Error("not_found", Some("h-path".into()))),
        case("a chat id smuggling another tenant's key", send(&format!("globex\u{1f}{other_tenant}"), "h-key", "hi"), Error("not_found", Some("h-key".into()))),
        case("a chat id in DynamoDB key syntax", send(&format!("x#T#globex#CHAT#{other_tenant}"), "h-dyn", "hi"), Error("not_found", Some("h-dyn".into()))),
        case("ending another tenant's chat", frame(json!({"action": "end", "chat_id": other_tenant})), Error("not_found", None)),
        case("ending a chat of two other agents", frame(json!({"action": "end", "chat_id": others})), Error("not_found", None)),
        case("typing in another tenant's chat", frame(json!({"action": "typing", "chat_id": other_tenant})), Error("not_found", None)),
        case("typing in a chat of two other agents", frame(json!({"action": "typing", "chat_id": others})), Error("not_found", None)),
        case("typing in an ended chat", frame(json!({"action": "typing", "chat_id": ended})), Error("chat_ended", None)),
        case("seen in another tenant's chat", frame(json!({"action": "seen", "chat_id": other_tenant, "seq": 1})), Error("not_found", None)),
        case("seen in a chat of two other agents", frame(json!({"action": "seen", "chat_id": others, "seq": 1})), Error("not_found", None)),
        case("seen with a negative sequence", frame(json!({"action": "seen", "chat_id": own, "seq": -1})), Error("bad_request", None)),
        case("seen with a sequence past 2^64", text(&format!(r#"{{"action":"seen","chat_id":"{own}","seq":18446744073709551616}}"#)), Error("bad_request", None)),
        // Chats with the wrong agents.
        case("a chat with another tenant's agent", frame(json!({"action": "start_chat", "with": "gus"})), Error("not_found", None)),
        case("a chat with another group's agent", frame(json!({"action": "start_chat", "with": "dan"})), Error("forbidden", None)),
        case("a chat with herself", frame(json!({"action": "start_chat", "with": "ann"})), Error("self_chat", None)),
        case("a chat with nobody", frame(json!({"action": "start_chat", "with": "zed"})), Error("not_found", None)),
        case("a chat with an agent key of another tenant", frame(json!({"action": "start_chat", "with": "gus\u{1f}globex"})), Error("not_found", None)),
        case("an interaction reference over 256 bytes", frame(json!({"action": "start_chat", "with": "bob", "interaction": "i".repeat(257)})), Error("bad_request", None)),
        case("control characters in an interaction reference", frame(json!({"action": "start_chat", "with": "bob", "interaction": "case\u{7}42"})), Error("bad_request", None)),
        // States and hellos.
        case("choosing Logged Out", frame(json!({"action": "set_state", "state": "logged_out"})), Error("bad_request", None)),
        case("an unknown state", frame(json!({"action": "set_state", "state": "asleep"})), Error("bad_request", None)),
        case("a state of the wrong type", frame(json!({"action": "set_state", "state": 3})), Error("bad_request", None)),
        case("an unknown protocol version", frame(json!({"action": "hello", "protocol": 99})), Error("unsupported_protocol", None)),
        case("a protocol version as text", frame(json!({"action": "hello", "protocol": "1"})), Error("bad_request", None)),
        case("resume as a list", frame(json!({"action": "hello", "protocol": protocol::PROTOCOL_VERSION, "resume": [own]})), Error("bad_request", None)),
        case("resuming other agents' and another tenant's chats", frame(json!({"action": "hello", "protocol": protocol::PROTOCOL_VERSION, "resume": {others.as_str(): 0, other_tenant.as_str(): 0}})), WelcomeWithout(vec![others.clone(), other_tenant.clone()])),
        // Frames past API Gateway's limits, and text that is not text: the connection closes.
        case("a text frame over 32 KB", Input::Alone(vec![Message::Text("z".repeat(40 * 1024).into())]), Closed),
        case("100 000 nested arrays", Input::Alone(vec![Message::Text("[".repeat(100_000).into())]), Closed),
        case("a text frame that is not UTF-8", Input::Alone(vec![Message::Frame(Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true))]), Closed),
        case("a message of 150 KB in five fragments", Input::Alone(fragments(5, 30 * 1024)), Closed),
        // Upgrades without a good ticket.
        case("an upgrade without a ticket", Input::Upgrade { query: String::new(), origin: None }, Refused(401)),
        case("an unknown ticket", Input::Upgrade { query: "?ticket=made-up".into(), origin: None }, Refused(401)),
        case("a replayed ticket", Input::Upgrade { query: format!("?ticket={used_ticket}"), origin: None }, Refused(401)),
        case("a ticket of 4 KB", Input::Upgrade { query: format!("?ticket={}", "t".repeat(4096)), origin: None }, Refused(401)),
        case("a ticket of NUL and traversal", Input::Upgrade { query: "?ticket=%00..%2F..%2Fconsole.redb".into(), origin: None }, Refused(401)),
        case("a bearer token instead of a ticket", Input::Upgrade { query: format!("?ticket={ann}"), origin: None }, Refused(401)),
        case("a good ticket from a foreign page", Input::Upgrade { query: format!("?ticket={fresh_ticket}"), origin: Some("https://evil.example") }, Refused(403)),
        // HTTP requests without a good token.
        case("the API without a token", request("GET", "/api/me", None, b""), Status(401, "unauthorized")),
        case("a made-up token", request("GET", "/api/me", Some("not.a.token"), b""), Status(401, "unauthorized")),
        case("Basic instead of Bearer", request_with("GET", "/api/me", "Authorization: Basic YW5uOmFubg==\r\n", b""), Status(401, "unauthorized")),
        case("a token whose tenant was rewritten", request("GET", "/api/agents", Some(&tampered), b""), Status(401, "unauthorized")),
        case("a token in the query string", request("GET", &format!("/api/agents?token={ann}"), None, b""), Status(401, "unauthorized")),
        case("a ticket without a token", request("POST", "/api/ws-ticket", None, b""), Status(401, "unauthorized")),
        // HTTP requests for what is not Ann's, or with bad parameters.
        case("another tenant's messages", request("GET", &format!("/api/chats/{other_tenant}/messages"), Some(ann), b""), Status(404, "not_found")),
        case("the messages of two other agents", request("GET", &format!("/api/chats/{others}/messages"), Some(ann), b""), Status(404, "not_found")),
        case("a negative after", request("GET", &format!("/api/chats/{own}/messages?after=-1"), Some(ann), b""), Status(400, "bad_request")),
        case("a limit in words", request("GET", &format!("/api/chats/{own}/messages?limit=ten"), Some(ann), b""), Status(400, "bad_request")),
        case("an after past 2^64", request("GET", &format!("/api/chats/{own}/messages?after=99999999999999999999999"), Some(ann), b""), Status(400, "bad_request")),
        case("a transcript search from yesterday", request("GET", "/api/transcripts?from=yesterday", Some(ann), b""), Status(400, "bad_request")),
        case("another tenant's transcript", request("GET", &format!("/api/transcripts/{other_tenant}"), Some(ann), b""), Status(404, "not_found")),
        case("a download as .exe", request("GET", &format!("/api/transcripts/{own}/download?format=exe"), Some(ann), b""), Status(400, "bad_request")),
        case("path traversal in an API path", request("GET", "/api/../../../etc/passwd", Some(ann), b""), Status(404, "not_found")),
        case("encoded traversal in a chat id", request("GET", "/api/chats/..%2F..%2Fglobex/messages", Some(ann), b""), Status(404, "not_found")),
        case("path traversal out of the console folder", request("GET", "/../secret.txt", None, b""), NoSecret(200)),
        case("encoded traversal out of the console folder", request("GET", "/%2e%2e/secret.txt", None, b""), NoSecret(200)),
        case("a wrong method on a collection", request("DELETE", "/api/chats", Some(ann), b""), Status(405, "method_not_allowed")),
        case("a wrong method on me", request("PUT", "/api/me", Some(ann), br#"{"role":"supervisor"}"#), Status(405, "method_not_allowed")),
        case("a wrong method on a chat's messages", request("POST", &format!("/api/chats/{own}/messages"), Some(ann), b"{}"), Status(405, "method_not_allowed")),
        case("a path the API does not have", request("GET", "/api/nothing", Some(ann), b""), Status(404, "not_found")),
        // Sign-in bodies.
        case("a sign-in of broken JSON", request("POST", "/api/dev/sign-in", None, br#"{"tenant":"#), Status(400, "bad_request")),
        case("a sign-in without a body", request("POST", "/api/dev/sign-in", None, b""), Status(400, "bad_request")),
        case("a sign-in of the wrong types", request("POST", "/api/dev/sign-in", None, br#"{"tenant":1,"agent":true}"#), Status(400, "bad_request")),
        case("a sign-in as another tenant's agent", request("POST", "/api/dev/sign-in", None, br#"{"tenant":"acme","agent":"gus"}"#), Status(404, "not_found")),
        case("a sign-in body that is not UTF-8", request("POST", "/api/dev/sign-in", None, &[b'{', 0xff, 0xfe, b'}']), Status(400, "bad_request")),
        case("a sign-in body of 100 000 nested arrays", request("POST", "/api/dev/sign-in", None, "[".repeat(100_000).as_bytes()), Status(400, "bad_request")),
        case("a body over 1 MB", request("POST", "/api/dev/sign-in", None, &vec![b' '; 1024 * 1024 + 1]), Status(413, "body_too_large")),
        // What a page of another site can send without asking first: refused.
        case("a sign-in sent as plain text", request_with("POST", "/api/dev/sign-in", "Content-Type: text/plain\r\n", br#"{"tenant":"acme","agent":"ann"}"#), Status(415, "unsupported_media_type")),
        case("a sign-in sent as a form", request_with("POST", "/api/dev/sign-in", "Content-Type: application/x-www-form-urlencoded\r\n", br#"{"tenant":"acme","agent":"ann"}"#), Status(415, "unsupported_media_type")),
    ]
}

/// One text message of `count` fragments of `size` bytes each.
fn fragments(count: usize, size: usize) -> Vec<Message> {
    (0..count)
        .map(|i| {
            let opcode = if i == 0 { Data::Text } else { Data::Continue };
            Message::Frame(Frame::message(
                vec![b'a'; size],
                OpCode::Data(opcode),
                i == count - 1,
            ))
        })
        .collect()
}

fn base64url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

fn base64url_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Runs one case; on failure, says which and why.
async fn run(case: &Case, addr: std::net::SocketAddr, ann: &str, tab: &mut Console) {
    let name = case.name;
    match (&case.input, &case.expect) {
        (Input::Frame(_) | Input::Message(_), expect) => {
            match &case.input {
                Input::Frame(text) => tab.send_text(text.clone()).await,
                Input::Message(message) => tab.send_message(message.clone()).await,
                _ => unreachable!(),
            }
            match expect {
                Expect::Error(code, client_msg_id) => {
                    let answer = tab.next().await;
                    assert_eq!(answer["type"], "error", "{name}: answered {answer}");
                    assert_eq!(answer["code"], *code, "{name}: answered {answer}");
                    assert!(
                        answer["message"].as_str().is_some_and(|m| !m.is_empty()),
                        "{name}: a message for a person"
                    );
                    assert_eq!(
                        answer.get("client_msg_id").and_then(Value::as_str),
                        client_msg_id.as_deref(),
                        "{name}: the refused send is named"
                    );
                }
                Expect::WelcomeWithout(chats) => {
                    let welcome = tab.next().await;
                    assert_eq!(welcome["type"], "welcome", "{name}");
                    for chat in welcome["chats"].as_array().expect("chats") {
                        assert!(!chats.contains(&chat["id"].as_str().unwrap_or("").to_owned()));
                    }
                    tab.send(json!({"action": "ping"})).await;
                    loop {
                        let frame = tab.next().await;
                        if frame["type"] == "pong" {
                            break;
                        }
                        assert_eq!(frame["type"], "message", "{name}: {frame}");
                        let chat = frame["message"]["chat_id"].as_str().unwrap_or("");
                        assert!(
                            !chats.contains(&chat.to_owned()),
                            "{name}: leaked a message of {chat}"
                        );
                    }
                }
                _ => panic!("{name}: a frame on the open connection expects an answer"),
            }
            assert!(tab.still_open().await, "{name}: the connection stays open");
        }
        (Input::Alone(messages), Expect::Closed) => {
            let mut alone = Console::open(addr, ann).await;
            for message in messages {
                alone.send_message(message.clone()).await;
            }
            let answered = alone.closes().await;
            assert_eq!(
                answered,
                Some(Vec::new()),
                "{name}: closed without an answer"
            );
        }
        (Input::Upgrade { query, origin }, Expect::Refused(status)) => {
            match upgrade(addr, query, *origin).await {
                Ok(_) => panic!("{name}: the upgrade was accepted"),
                Err(refused) => assert_eq!(refused, *status, "{name}"),
            }
        }
        (Input::Http(bytes), Expect::Status(status, code)) => {
            let (answered, body) = raw_http(addr, bytes.clone()).await;
            assert_eq!(answered, *status, "{name}: answered {body}");
            let body: Value = serde_json::from_str(&body)
                .unwrap_or_else(|_| panic!("{name}: a JSON error body, not {body}"));
            assert_eq!(body["code"], *code, "{name}: answered {body}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{name}: a message for a person"
            );
        }
        (Input::Http(bytes), Expect::NoSecret(status)) => {
            let (answered, body) = raw_http(addr, bytes.clone()).await;
            assert_eq!(answered, *status, "{name}: answered {body}");
            assert!(!body.contains(SECRET), "{name}: served the file outside");
        }
        _ => panic!("{name}: this input cannot have this answer"),
    }
}

#[tokio::test]
async fn a_corpus_of_hostile_input_is_refused_as_documented_and_changes_nothing_stored() {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(data.path().join("console")).expect("console folder");
    std::fs::write(
        data.path().join("console/index.html"),
        "<!doctype html><title>Agent Console</title>",
    )
    .expect("console page");
    std::fs::write(data.path().join("secret.txt"), SECRET).expect("secret");
    let store = demo_store(data.path()).await;
    let server = start_on(data.path(), store.clone()).await;
    let addr = server.addr;

    // The chats the corpus aims at, and a console for each of their agents.
    let (ann, bob, dan) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
        sign_in(addr, "acme", "dan").await,
    );
    let gus = sign_in(addr, "globex", "gus").await;
    let (mut tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let (mut dan_tab, _) = Console::hello(addr, &dan, json!({})).await;
    let (mut gus_tab, _) = Console::hello(addr, &gus, json!({})).await;
    let own = start_chat(&mut tab, "bob").await;
    say(&mut tab, &own, "s1", "Can you take a transfer?").await;
    say(&mut tab, &own, "s2", "<script>alert(1)</script>").await;
    let ended = start_chat(&mut tab, "cara").await;
    say(&mut tab, &ended, "s3", "Thanks, done").await;
    tab.send(json!({"action": "end", "chat_id": ended})).await;
    let others = start_chat(&mut dan_tab, "eve").await;
    say(&mut dan_tab, &others, "d1", "Dan to Eve").await;
    let other_tenant = start_chat(&mut gus_tab, "hana").await;
    say(&mut gus_tab, &other_tenant, "g1", "Gus to Hana").await;
    let used_ticket = support::scripted::ticket(addr, &ann).await;
    upgrade(addr, &format!("?ticket={used_ticket}"), None)
        .await
        .unwrap_or_else(|status| panic!("a fresh ticket opens a socket, not {status}"));
    let fresh_ticket = support::scripted::ticket(addr, &ann).await;
    for console in [&mut tab, &mut bob_tab, &mut dan_tab, &mut gus_tab] {
        console.drain().await;
    }
    let chats = Chats {
        own,
        ended,
        others,
        other_tenant,
    };

    let before = store.snapshot().expect("snapshot");
    assert_eq!(
        before.tables["messages"].len(),
        5,
        "the snapshot sees the messages"
    );
    let cases = corpus(&chats, &ann, &used_ticket, &fresh_ticket);
    println!("| # | hostile input | expected answer |\n|---|---|---|");
    for (i, case) in cases.iter().enumerate() {
        println!("| {} | {} | {} |", i + 1, case.name, describe(&case.expect));
        run(case, addr, &ann, &mut tab).await;
    }
    assert!(
        cases.len() >= 40,
        "the corpus holds at least 40 cases, not {}",
        cases.len()
    );

    // Nobody else heard a thing, and nothing stored changed.
    for (who, console) in [
        ("Bob", &mut bob_tab),
        ("Dan", &mut dan_tab),
        ("Gus", &mut gus_tab),
    ] {
        let heard = console.drain().await;
        assert!(heard.is_empty(), "{who} received {heard:?}");
    }
    let after = store.snapshot().expect("snapshot");
    let differences = before.differences(&after);
    assert!(
        differences.is_empty(),
        "the corpus changed the store:\n{}",
        differences.join("\n")
    );
    let (status, page) = http(
        addr,
        "GET",
        &format!("/api/chats/{}/messages", chats.own),
        Some(&ann),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(2));
    println!(
        "{} hostile inputs, each refused as documented; the store is unchanged",
        cases.len()
    );
    server.stop().await;
}

fn describe(expect: &Expect) -> String {
    match expect {
        Expect::Error(code, Some(id)) => format!("error `{code}` naming `{id:?}`, stays open"),
        Expect::Error(code, None) => format!("error `{code}`, stays open"),
        Expect::WelcomeWithout(_) => "welcome with her own chats only, stays open".into(),
        Expect::Closed => "connection closed".into(),
        Expect::Refused(status) => format!("upgrade refused, HTTP {status}"),
        Expect::Status(status, code) => format!("HTTP {status} `{code}`"),
        Expect::NoSecret(status) => format!("HTTP {status}, the console page, never the file"),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_flood_of_sends_from_one_console_is_cut_at_its_quota_and_nothing_refused_is_stored() {
    use console_domain::service::SEND_QUOTA;
    let (_data, server) = support::scripted::fresh().await;
    let addr = server.addr;
    let (ann, bob) = (
        sign_in(addr, "acme", "ann").await,
        sign_in(addr, "acme", "bob").await,
    );
    let (mut tab, _) = Console::hello(addr, &ann, json!({})).await;
    let (mut bob_tab, _) = Console::hello(addr, &bob, json!({})).await;
    let chat = start_chat(&mut tab, "bob").await;
    bob_tab.drain().await;

    // A script floods the socket: every frame is sent before any answer is read.
    const FLOOD: usize = 100;
    let started = now_ms();
    for i in 0..FLOOD {
        tab.send(json!({"action": "send", "chat_id": chat, "client_msg_id": format!("f{i}"), "body": format!("line {i}")}))
            .await;
    }
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    while acked.len() + refused.len() < FLOOD {
        let frame = tab.next().await;
        match frame["type"].as_str() {
            Some("ack") => acked.push(frame["client_msg_id"].as_str().expect("id").to_owned()),
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                refused.push(
                    frame["client_msg_id"]
                        .as_str()
                        .expect("the refused send is named")
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    let windows = (now_ms() / SEND_QUOTA.window_ms - started / SEND_QUOTA.window_ms + 1) as usize;
    println!(
        "{FLOOD} sends flooded over {windows} quota window(s): {} acknowledged, {} refused",
        acked.len(),
        refused.len()
    );
    assert!(
        acked.len() <= SEND_QUOTA.max as usize * windows,
        "at most {} per window",
        SEND_QUOTA.max
    );
    assert!(
        acked.len() >= SEND_QUOTA.max as usize,
        "a burst of {} goes through",
        SEND_QUOTA.max
    );
    if windows <= 3 {
        assert!(!refused.is_empty(), "the flood was cut");
    }

    // What was acknowledged is stored and delivered, once each; what was refused, neither.
    let (_, page) = http(
        addr,
        "GET",
        &format!("/api/chats/{chat}/messages?limit=500"),
        Some(&ann),
        "",
    )
    .await;
    let stored: Vec<String> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["client_msg_id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        stored, acked,
        "exactly the acknowledged sends are stored, in order"
    );
    let delivered: Vec<String> = bob_tab
        .drain()
        .await
        .into_iter()
        .filter(|f| f["type"] == "message")
        .map(|f| {
            f["message"]["client_msg_id"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(delivered, acked, "Bob received the stored ones only");

    // The console retries a refused send once the window has passed: it is taken.
    if let Some(first_refused) = refused.first() {
        let wait = SEND_QUOTA.window_ms - now_ms() % SEND_QUOTA.window_ms;
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64 + 10)).await;
        let seq = say(&mut tab, &chat, first_refused, "line again").await;
        assert_eq!(seq, acked.len() as u64 + 1);
    }
    server.stop().await;
}
