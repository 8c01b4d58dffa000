//! Least privilege, held to the code: each function's role in `infra/template.yaml` is
//! granted exactly the DynamoDB actions and `@connections` methods its code calls.
//!
//! Each function's handlers are wired as `console_lambdas::app_with` wires them (the
//! import as its binary does), with a recorder on their DynamoDB and management API
//! clients, and driven through every route they serve — against moto (DynamoDB) and the
//! local server's `@connections` endpoint, where live connections answer and others are
//! gone (410). What each recorded is compared with what its role is granted: a grant it
//! never used and a call it has no grant for both fail, naming the function and the
//! action. IAM has no `TransactWriteItems` action: a transaction needs the actions of its
//! parts (`Put` → `dynamodb:PutItem`, …, `ConditionCheck` → `dynamodb:ConditionCheckItem`),
//! so those are recorded from each transaction's request.

#[path = "../../store-dynamo/tests/moto/mod.rs"]
mod moto;
mod support;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
};
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use console_domain::ConnectionId;
use console_domain::ports::ConnectionStore;
use console_handlers::App;
use console_handlers::http_api::ROUTES;
use console_handlers::websocket::{authorize_console, handle, is_allowed};
use console_lambdas::settings::Settings;
use console_local::{Config, RunningServer};
use console_push_apigw::ApiGatewayPusher;
use console_store_dynamo::{DynamoStore, create_table};
use futures_util::{SinkExt, StreamExt};
use lambda_http::http;
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{now_ms, resources, text, token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const SECRET: &str = "a test secret of at least thirty-two bytes";
const TABLE: &str = "console";
/// The console's origin, as the template gives it to the authorizer.
const CONSOLE: &str = "https://d111111abcdef8.cloudfront.net";

/// The directory the import writes first; the second import moves Cy to support.
const DIRECTORY: &str = r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
    {"id":"ann","name":"Ann Archer","group":"sales","role":"agent"},
    {"id":"bob","name":"Bob Baker","group":"sales","role":"agent"},
    {"id":"cy","name":"Cy Cole","group":"sales","role":"agent"},
    {"id":"sue","name":"Sue Grant","group":"sales","role":"supervisor"}]}]}"#;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

// ---------------------------------------------------------------- what the code calls

/// What one function's SDK clients sent.
#[derive(Debug, Default)]
struct Recorded {
    /// DynamoDB operations (`GetItem`, `TransactWriteItems`, …).
    operations: BTreeSet<String>,
    /// The kinds of the parts of its transactions (`Put`, `Update`, `Delete`,
    /// `ConditionCheck`).
    transaction_parts: BTreeSet<String>,
    /// The methods of its `@connections` calls (`POST`, `GET`, `DELETE`).
    connections: BTreeSet<String>,
    /// Requests that are neither (there should be none).
    other: BTreeSet<String>,
}

/// Records every request a client sends, before it goes (every attempt, answered or
/// not): one recorder per function, on both of its clients.
#[derive(Debug, Default, Clone)]
struct Calls(Arc<Mutex<Recorded>>);

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "permission recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let mut recorded = self.0.lock().map_err(|_| "recorder poisoned")?;
        if let Some(target) = request.headers().get("x-amz-target") {
            let operation = target.trim_start_matches("DynamoDB_20120810.").to_owned();
            if operation == "TransactWriteItems" {
                let body: Value = request
                    .body()
                    .bytes()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                for part in body["TransactItems"].as_array().into_iter().flatten() {
                    let kinds = part.as_object().into_iter().flat_map(|p| p.keys());
                    recorded.transaction_parts.extend(kinds.cloned());
                }
            }
            recorded.operations.insert(operation);
        } else if request.uri().contains("/@connections/") {
            recorded.connections.insert(request.method().to_owned());
        } else {
            recorded
                .other
                .insert(format!("{} {}", request.method(), request.uri()));
        }
        Ok(())
    }
}

impl Calls {
    /// The IAM actions on the table these calls need, each with how it was called.
    fn table_actions(&self) -> BTreeMap<String, String> {
        let recorded = self.0.lock().expect("recorder");
        let mut actions = BTreeMap::new();
        for operation in recorded
            .operations
            .iter()
            .filter(|o| *o != "TransactWriteItems")
        {
            actions.insert(
                format!("dynamodb:{operation}"),
                format!("called as {operation}"),
            );
        }
        for part in &recorded.transaction_parts {
            let action = match part.as_str() {
                "ConditionCheck" => "ConditionCheckItem".to_owned(),
                item => format!("{item}Item"),
            };
            actions
                .entry(format!("dynamodb:{action}"))
                .or_insert_with(|| format!("a {part} in TransactWriteItems"));
        }
        actions
    }

    fn connection_methods(&self) -> BTreeSet<String> {
        self.0.lock().expect("recorder").connections.clone()
    }

    fn summary(&self) -> String {
        let recorded = self.0.lock().expect("recorder");
        format!(
            "DynamoDB {:?}, transaction parts {:?}, @connections {:?}",
            recorded.operations, recorded.transaction_parts, recorded.connections
        )
    }
}

/// A function's handlers, wired as `console_lambdas::app_with` wires them, with both
/// clients recorded by `calls`.
async fn function(moto: &moto::Moto, management_endpoint: &str, calls: &Calls) -> (App, Settings) {
    let settings = Settings::from_lookup(|name| match name {
        "TABLE_NAME" => Some(TABLE.into()),
        "WEBSOCKET_MANAGEMENT_ENDPOINT" => Some(management_endpoint.into()),
        "TOKEN_SECRET" => Some(SECRET.into()),
        "CONSOLE_ORIGINS" => Some(CONSOLE.into()),
        _ => None,
    })
    .expect("settings");
    let aws = moto::config(&moto.url).await;
    let mut app = console_lambdas::app_with(&settings, &aws)
        .await
        .expect("the function's app");
    let client = moto::client_with(&moto.url, |c| c.interceptor(calls.clone())).await;
    app.store = Arc::new(DynamoStore::new(client, &settings.table_name));
    let management = aws_sdk_apigatewaymanagement::config::Builder::from(&aws)
        .endpoint_url(&settings.websocket_management_endpoint)
        .interceptor(calls.clone())
        .build();
    app.pusher = Arc::new(ApiGatewayPusher::new(
        aws_sdk_apigatewaymanagement::Client::from_conf(management),
    ));
    (app, settings)
}

// ---------------------------------------------------------------- driving the routes

/// One request to the HTTP API function: its status and JSON body (`Null` if not JSON).
async fn http_api(app: &App, method: &str, path: &str, agent: &str) -> (u16, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", token(SECRET, agent)),
        )
        .body(lambda_http::Body::Empty)
        .expect("a request");
    let response = console_handlers::http_api::handle(request, app).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

/// An API Gateway event recorded by the handlers' tests (`handlers/tests/fixtures/`).
fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../handlers/tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_json::from_str(&text).expect("JSON")
}

/// The authorizer's request for `ticket`, from a page of `origin`.
fn authorizer_request(ticket: &str, origin: &str) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let mut event = fixture("ws-authorizer.json");
    event["queryStringParameters"]["ticket"] = json!(ticket);
    event["multiValueQueryStringParameters"]["ticket"] = json!([ticket]);
    event["headers"]["Origin"] = json!(origin);
    serde_json::from_value(event).expect("an authorizer request")
}

/// The WebSocket event API Gateway sends `agent`'s `connection` on `route` (with the
/// frame, for an action).
fn ws_event(
    route: &str,
    connection: &ConnectionId,
    agent: &str,
    frame: Option<Value>,
) -> ApiGatewayWebsocketProxyRequest {
    let mut event = fixture(match route {
        "$connect" => "ws-connect.json",
        "$disconnect" => "ws-disconnect.json",
        _ => "ws-send.json",
    });
    let context = &mut event["requestContext"];
    context["routeKey"] = json!(route);
    context["connectionId"] = json!(connection.0);
    context["authorizer"]["principalId"] = json!(agent);
    context["authorizer"]["agent"] = json!(agent);
    event["body"] = frame.map_or(Value::Null, |f| json!(f.to_string()));
    serde_json::from_value(event).expect("a WebSocket event")
}

/// The WebSocket function's answer to `agent`'s `connection` on `route` (for an action,
/// with `frame`).
async fn on_route(
    websocket: &App,
    route: &str,
    connection: &ConnectionId,
    agent: &str,
    frame: Option<Value>,
) -> i64 {
    handle(ws_event(route, connection, agent, frame), websocket)
        .await
        .status_code
}

/// A JSON request to the local server.
async fn local_request(addr: SocketAddr, path: &str, token: &str, body: &str) -> Value {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    serde_json::from_str(text.split_once("\r\n\r\n").map_or("", |(_, b)| b)).expect("JSON")
}

/// An agent's console: its connection, which the functions push to, and the socket on
/// the local server where their pushes arrive.
struct Console {
    agent: &'static str,
    connection: ConnectionId,
    socket: Socket,
}

impl Console {
    /// A WebSocket open on the local server (its own connection, signed in to its demo
    /// directory), which its `@connections` answers for: the console of `agent` once the
    /// WebSocket function has run `$connect` for it.
    async fn open(server: &RunningServer, websocket: &App, agent: &'static str) -> Console {
        let before = server.connection_ids();
        let signed = local_request(
            server.addr,
            "/api/dev/sign-in",
            "",
            r#"{"tenant":"acme","agent":"ann"}"#,
        )
        .await;
        let token = signed["token"].as_str().expect("a token");
        let ticket = local_request(server.addr, "/api/ws-ticket", token, "").await;
        let ticket = ticket["ticket"].as_str().expect("a ticket");
        let url = format!("ws://{}/ws?ticket={ticket}", server.addr);
        let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("opens");
        let mut console = Console {
            agent,
            connection: ConnectionId(String::new()),
            socket,
        };
        // Answered once the local server knows the socket.
        let ping = Message::Text(r#"{"action":"ping"}"#.into());
        console.socket.send(ping).await.expect("ping");
        console.next(of_type("pong")).await;
        console.connection = server
            .connection_ids()
            .into_iter()
            .find(|id| !before.contains(id))
            .expect("a new connection");
        let connect = on_route(websocket, "$connect", &console.connection, agent, None);
        assert_eq!(connect.await, 200, "{agent} connects");
        console
    }

    /// Runs `frame` from this console through the WebSocket function, on the route API
    /// Gateway picks for it.
    async fn send(&self, websocket: &App, frame: Value) {
        let action = frame["action"].as_str().unwrap_or_default();
        let route = match protocol::ClientFrame::ACTIONS.contains(&action) {
            true => action.to_owned(),
            false => "$default".to_owned(),
        };
        let answer = on_route(websocket, &route, &self.connection, self.agent, Some(frame));
        assert_eq!(answer.await, 200, "{route}");
    }

    /// The next frame pushed to it that `wanted` picks.
    async fn next(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a frame within 10 s")
                .expect("the socket is open")
                .expect("a good frame");
            if let Message::Text(text) = frame {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if wanted(&value) {
                    return value;
                }
            }
        }
    }
}

fn of_type(kind: &str) -> impl Fn(&Value) -> bool {
    move |frame| frame["type"] == kind
}

/// Imports `directory` as the import function does, recorded by `calls`.
async fn import(moto: &moto::Moto, calls: &Calls, directory: &str) -> (usize, usize) {
    let client = moto::client_with(&moto.url, |c| c.interceptor(calls.clone())).await;
    let store = DynamoStore::new(client, TABLE);
    let directory = console_domain::directory::parse(directory).expect("a directory");
    console_domain::directory::import(&store, directory)
        .await
        .expect("imported")
}

/// Drives every function through every route it serves; what each called, by binary.
async fn drive() -> BTreeMap<&'static str, Calls> {
    let moto = moto::start();
    let plain = DynamoStore::new(moto::client(&moto.url).await, TABLE);
    create_table(&moto::client(&moto.url).await, TABLE)
        .await
        .expect("table");
    let data = tempfile::tempdir().expect("temp dir");
    let gateway = console_local::start(Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("no-console"),
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("the local server starts");
    let endpoint = gateway.url();
    let binaries = [
        "import-directory",
        "authorizer",
        "websocket",
        "http-api",
        "sweeper",
    ];
    let calls: BTreeMap<&'static str, Calls> = binaries
        .into_iter()
        .map(|binary| (binary, Calls::default()))
        .collect();

    // The import (again later, with Cy moved to another group).
    let imported = import(&moto, &calls["import-directory"], DIRECTORY).await;
    assert_eq!(imported, (1, 4));

    let (http, _) = function(&moto, &endpoint, &calls["http-api"]).await;
    let (authorizer, settings) = function(&moto, &endpoint, &calls["authorizer"]).await;
    let (websocket, _) = function(&moto, &endpoint, &calls["websocket"]).await;
    let (sweeper, _) = function(&moto, &endpoint, &calls["sweeper"]).await;
    let authorize = |ticket: &str, origin: &str| {
        let request = authorizer_request(ticket, origin);
        let (authorizer, origins) = (&authorizer, &settings.console_origins);
        async move { is_allowed(&authorize_console(request, authorizer, origins).await) }
    };

    // The authorizer: a ticket from another site's page (denied before the ticket is
    // looked at), from the console's, the same again, and a made-up one.
    for agent in ["ann", "bob", "cy"] {
        let (status, ticket) = http_api(&http, "POST", "/api/ws-ticket", agent).await;
        assert_eq!(status, 200, "{ticket}");
        let ticket = ticket["ticket"].as_str().expect("a ticket");
        assert!(!authorize(ticket, "https://elsewhere.example").await);
        assert!(authorize(ticket, CONSOLE).await, "{agent}'s ticket");
        assert!(!authorize(ticket, CONSOLE).await, "{agent}'s ticket again");
    }
    assert!(!authorize("made-up", CONSOLE).await);

    // The WebSocket function: Ann's and Bob's consoles, and a connection of Bob's that
    // went without its `$disconnect`.
    let mut ann = Console::open(&gateway, &websocket, "ann").await;
    let mut bob = Console::open(&gateway, &websocket, "bob").await;
    let bob_gone = ConnectionId("gone-connection-of-bob".into());
    assert_eq!(
        on_route(&websocket, "$connect", &bob_gone, "bob", None).await,
        200
    );
    let version = protocol::PROTOCOL_VERSION;
    let hello = json!({"action": "hello", "protocol": version, "resume": {}});
    ann.send(&websocket, hello).await;
    ann.next(of_type("welcome")).await;
    let start = json!({"action": "start_chat", "with": "bob"});
    ann.send(&websocket, start).await;
    let started = ann.next(of_type("chat_started")).await;
    let chat = started["chat"]["id"]
        .as_str()
        .expect("a chat id")
        .to_owned();
    let message = json!({"action": "send", "chat_id": chat, "client_msg_id": "m1", "body": "Hi"});
    ann.send(&websocket, message.clone()).await;
    assert_eq!(ann.next(of_type("ack")).await["seq"], 1);
    ann.send(&websocket, message).await;
    assert_eq!(ann.next(of_type("ack")).await["seq"], 1, "a retried send");
    // A push to Bob's gone connection came back 410: its record is forgotten.
    assert_eq!(plain.connection(&bob_gone).await.expect("read"), None);
    bob.send(&websocket, json!({"action": "typing", "chat_id": chat}))
        .await;
    ann.next(of_type("typing")).await;
    bob.send(
        &websocket,
        json!({"action": "seen", "chat_id": chat, "seq": 1}),
    )
    .await;
    ann.next(of_type("seen")).await;
    ann.send(&websocket, json!({"action": "set_state", "state": "busy"}))
        .await;
    bob.next(|f| f["type"] == "agent" && f["agent"]["state"] == "busy")
        .await;
    ann.send(&websocket, json!({"action": "ping"})).await;
    ann.next(of_type("pong")).await;
    ann.send(&websocket, json!({"action": "dance"})).await;
    assert_eq!(ann.next(of_type("error")).await["code"], "unknown_action");
    let resume = json!({"action": "hello", "protocol": version, "resume": {chat.as_str(): 0}});
    bob.send(&websocket, resume).await;
    bob.next(of_type("welcome")).await;
    bob.next(of_type("message")).await;
    bob.send(&websocket, json!({"action": "end", "chat_id": chat}))
        .await;
    ann.next(|f| f["type"] == "chat" && f["chat"]["status"] == "ended")
        .await;
    // Help: Ann asks her group and Bob takes it; she raises her hand and Sue takes it;
    // a question withdrawn.
    ann.send(&websocket, json!({"action": "ask", "text": "Refund rule?"}))
        .await;
    let asked = ann.next(of_type("help")).await;
    bob.send(
        &websocket,
        json!({"action": "take", "request": asked["request"]["id"]}),
    )
    .await;
    bob.next(of_type("chat_started")).await;
    ann.send(&websocket, json!({"action": "raise_hand"})).await;
    let hand = ann
        .next(|f| f["type"] == "help" && f["request"]["kind"] == "hand")
        .await;
    let mut sue = Console::open(&gateway, &websocket, "sue").await;
    sue.send(
        &websocket,
        json!({"action": "take", "request": hand["request"]["id"]}),
    )
    .await;
    sue.next(of_type("chat_started")).await;
    ann.send(&websocket, json!({"action": "ask", "text": "Never mind"}))
        .await;
    let second = ann
        .next(|f| f["type"] == "help" && f["request"]["text"] == "Never mind")
        .await;
    ann.send(
        &websocket,
        json!({"action": "withdraw", "request": second["request"]["id"]}),
    )
    .await;
    ann.next(|f| f["type"] == "help" && f["request"]["state"] == "withdrawn")
        .await;
    // A chat with Cy, who then moves to another group: Ann sees him as his partner only.
    ann.send(&websocket, json!({"action": "start_chat", "with": "cy"}))
        .await;
    ann.next(|f| f["type"] == "chat_started" && f["chat"]["with"]["id"] == "cy")
        .await;
    let moved = DIRECTORY.replace(
        r#""cy","name":"Cy Cole","group":"sales""#,
        r#""cy","name":"Cy Cole","group":"support""#,
    );
    import(&moto, &calls["import-directory"], &moved).await;

    // The HTTP API function: every route, as a participant of the chat and as a
    // supervisor (each answers one of them at least); then with the queries that take
    // other ways.
    for route in ROUTES {
        let (method, path) = route.split_once(' ').expect("METHOD /path");
        let path = path.replace("{chat}", &chat);
        let mut answers = Vec::new();
        for agent in ["ann", "sue"] {
            answers.push(http_api(&http, method, &path, agent).await);
        }
        assert!(
            answers.iter().any(|(s, _)| *s == 200),
            "{route}: {answers:?}"
        );
    }
    for (path, agent) in [
        ("/api/chats?status=ended".to_owned(), "ann"),
        (format!("/api/chats/{chat}/messages?before=2"), "bob"),
        ("/api/transcripts?agent=bob&q=hi".to_owned(), "sue"),
        ("/api/transcripts?group=sales&from=0".to_owned(), "sue"),
        (
            format!("/api/transcripts/{chat}/download?format=json"),
            "sue",
        ),
    ] {
        let (status, body) = http_api(&http, "GET", &path, agent).await;
        assert_eq!(status, 200, "{path} for {agent}: {body}");
    }

    // The sweeper: Ann's connection is due and there; Cy's is due and gone, his last (he
    // is logged out for those who see him: Ann, his partner in another group).
    let cy_gone = ConnectionId("gone-connection-of-cy".into());
    assert_eq!(
        on_route(&websocket, "$connect", &cy_gone, "cy", None).await,
        200
    );
    for id in [&ann.connection, &cy_gone] {
        let connection = plain.connection(id).await.expect("read").expect("recorded");
        let due = plain.check_later(&connection, now_ms() - 1).await;
        assert!(due.expect("due now"));
    }
    assert_eq!(sweeper.service().sweep().await.expect("swept"), (1, 2));
    ann.next(|f| {
        f["type"] == "agent" && f["agent"]["id"] == "cy" && f["agent"]["state"] == "logged_out"
    })
    .await;

    // The consoles close: `$disconnect`, the last one logging its agent out.
    for console in [&bob, &ann] {
        let closed = on_route(
            &websocket,
            "$disconnect",
            &console.connection,
            console.agent,
            None,
        );
        assert_eq!(closed.await, 200);
    }
    assert_eq!(plain.connection(&ann.connection).await.expect("read"), None);
    gateway.stop().await;
    calls
}

// ---------------------------------------------------------------- what the roles grant

/// A value that is one item or a list of them, as a list.
fn items(value: &Yaml) -> Vec<&Yaml> {
    match value {
        Yaml::Sequence(items) => items.iter().collect(),
        Yaml::Null => Vec::new(),
        one => vec![one],
    }
}

/// The ARN of the WebSocket API's stage, as the template writes it: a method and
/// `/@connections/*` follow.
const STAGE_ARN: &str =
    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${Stage}/";

/// What a function's role may do, by the statements of its policies.
#[derive(Debug, Default)]
struct Grants {
    /// `dynamodb:…` actions.
    table: BTreeSet<String>,
    /// The `@connections` methods of `execute-api:ManageConnections`.
    connections: BTreeSet<String>,
}

/// The function (logical id) built from `binary`.
fn function_of(resources: &BTreeMap<String, Yaml>, binary: &str) -> String {
    let functions: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .filter(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(functions.len(), 1, "one function runs {binary}");
    functions[0].clone()
}

/// The grants of `function`'s role; what cannot be read as one (another service's
/// action, a wildcard, a policy of an unknown form) goes to `wrong`.
fn grants(resources: &BTreeMap<String, Yaml>, function: &str, wrong: &mut Vec<String>) -> Grants {
    let properties = &resources[function]["Properties"];
    assert!(
        properties.get("Role").is_none(),
        "{function} has a role of its own: the test reads only its Policies"
    );
    let mut statements = Vec::new();
    for policy in items(&properties["Policies"]) {
        match policy {
            Yaml::Tagged(reference) => {
                let id = text(&reference.value);
                let managed = resources
                    .get(&id)
                    .unwrap_or_else(|| panic!("{function}'s policy {id} is a resource"));
                assert_eq!(
                    managed["Type"].as_str(),
                    Some("AWS::IAM::ManagedPolicy"),
                    "{function}'s policy {id}"
                );
                statements.extend(items(&managed["Properties"]["PolicyDocument"]["Statement"]));
            }
            Yaml::Mapping(inline) if inline.contains_key("Statement") => {
                statements.extend(items(&policy["Statement"]));
            }
            other => wrong.push(format!(
                "{function} has a policy the test cannot read: {other:?}"
            )),
        }
    }
    let mut grants = Grants::default();
    for statement in statements {
        assert_eq!(
            statement["Effect"].as_str(),
            Some("Allow"),
            "{function}: {statement:?}"
        );
        let resources: Vec<String> = items(&statement["Resource"])
            .into_iter()
            .map(text)
            .collect();
        for action in items(&statement["Action"]).into_iter().map(text) {
            if action.contains('*') {
                wrong.push(format!("{function} is granted the wildcard {action}"));
            } else if action.starts_with("dynamodb:") {
                if resources != ["Table.Arn"] {
                    wrong.push(format!(
                        "{function} is granted {action} on {resources:?}, not the table"
                    ));
                }
                grants.table.insert(action);
            } else if action == "execute-api:ManageConnections" {
                for resource in &resources {
                    let method = resource
                        .strip_suffix("/@connections/*")
                        .and_then(|r| r.strip_prefix(STAGE_ARN))
                        .filter(|m| !m.contains('*'));
                    match method {
                        Some(method) => {
                            grants.connections.insert(method.to_owned());
                        }
                        None => wrong.push(format!(
                            "{function} may manage connections other than one method on this stage's: {resource}"
                        )),
                    }
                }
            } else if action.starts_with("kms:") {
                // The table's key, only as DynamoDB uses it for the function.
                let through = text(&statement["Condition"]["StringEquals"]["kms:ViaService"]);
                if resources != ["DataKey.Arn"] || !through.starts_with("dynamodb.") {
                    wrong.push(format!(
                        "{function} is granted {action} on {resources:?} other than through DynamoDB"
                    ));
                }
            } else {
                wrong.push(format!(
                    "{function} is granted {action}, which no code of it calls"
                ));
            }
        }
    }
    grants
}

#[tokio::test]
async fn every_function_is_granted_exactly_the_table_actions_and_connection_methods_it_calls() {
    let recorded = drive().await;
    let (_, resources) = resources();
    let deployed: BTreeSet<String> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| text(&r["Metadata"]["BuildProperties"]["Binary"]))
        .collect();
    assert_eq!(
        deployed,
        recorded.keys().map(|b| (*b).to_owned()).collect(),
        "every deployed function is driven"
    );
    let mut wrong = Vec::new();
    for (binary, calls) in &recorded {
        println!("{binary}: {}", calls.summary());
        let other = calls.0.lock().expect("recorder").other.clone();
        assert!(
            other.is_empty(),
            "{binary} sent requests to neither DynamoDB nor @connections: {other:?}"
        );
        let function = function_of(&resources, binary);
        let named = format!("{binary} ({function})");
        let granted = grants(&resources, &function, &mut wrong);
        let needed = calls.table_actions();
        for action in granted.table.iter().filter(|a| !needed.contains_key(*a)) {
            wrong.push(format!(
                "{named} is granted {action}, which its code never calls"
            ));
        }
        for (action, how) in needed.iter().filter(|(a, _)| !granted.table.contains(*a)) {
            wrong.push(format!(
                "{named} calls {action} ({how}), which its role is not granted"
            ));
        }
        let methods = calls.connection_methods();
        for method in granted.connections.difference(&methods) {
            wrong.push(format!(
                "{named} is granted {method} @connections, which its code never calls"
            ));
        }
        for method in methods.difference(&granted.connections) {
            wrong.push(format!(
                "{named} calls {method} @connections, which its role is not granted"
            ));
        }
    }
    assert!(wrong.is_empty(), "least privilege:\n{}", wrong.join("\n"));
}
