//! The `$connect` authorizer in AWS, on API Gateway's own event shape
//! (`fixtures/ws-authorizer.json`): a page of another site is denied before its ticket is
//! looked at; the console's pages, and clients that are not browsers, go on to their
//! ticket.

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use console_domain::model::Identity;
use console_domain::testing::{ManualClock, MemoryStore, RecordingPusher};
use console_handlers::websocket::{authorize_console, is_allowed};
use console_handlers::{App, TokenAuthority};
use std::sync::Arc;

const CONSOLE: &str = "https://d111111abcdef8.cloudfront.net";

async fn app() -> App {
    let store = Arc::new(MemoryStore::new());
    let directory = console_domain::directory::parse(
        r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
            {"id":"ann","name":"Ann Lee","group":"sales","role":"agent"}]}]}"#,
    )
    .expect("directory");
    console_domain::directory::import(store.as_ref(), directory)
        .await
        .expect("import");
    App {
        store,
        pusher: Arc::new(RecordingPusher::new()),
        clock: Arc::new(ManualClock::new(1_795_642_200_000)),
        order: Arc::new(console_domain::Unordered),
        tokens: TokenAuthority::new(&[3; 32]),
        dev_sign_in: false,
        send_quota: console_domain::service::SEND_QUOTA,
    }
}

/// The authorizer's event for `ticket`, from a page of `origin` (none: not a browser).
fn request(ticket: &str, origin: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let path = format!(
        "{}/tests/fixtures/ws-authorizer.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path)
        .expect("fixture")
        .replace("TICKET", ticket);
    let mut event: ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_str(&text).expect("an API Gateway event");
    if let Some(origin) = origin {
        event.headers.insert(
            http::header::ORIGIN,
            origin.parse().expect("a header value"),
        );
    }
    event
}

async fn ticket(app: &App) -> String {
    let ann = Identity {
        tenant: "acme".into(),
        agent: "ann".into(),
    };
    app.service().issue_ticket(&ann).await.expect("ticket").id
}

#[tokio::test]
async fn a_page_of_another_site_is_denied_and_its_ticket_is_left_unspent() {
    let app = app().await;
    let origins = vec![CONSOLE.to_owned(), "https://chat.example.com".to_owned()];
    let ticket = ticket(&app).await;
    for foreign in [
        "https://evil.example",
        "http://d111111abcdef8.cloudfront.net",
        "https://d111111abcdef8.cloudfront.net.evil.example",
        "null",
    ] {
        let denied = authorize_console(request(&ticket, Some(foreign)), &app, &origins).await;
        assert!(!is_allowed(&denied), "{foreign} is denied");
        assert_eq!(denied.principal_id.as_deref(), Some("anonymous"));
    }
    // The ticket was never looked at: the console's own page still opens with it.
    let allowed = authorize_console(request(&ticket, Some(CONSOLE)), &app, &origins).await;
    assert!(is_allowed(&allowed));
    assert_eq!(allowed.context["agent"], "ann");
}

#[tokio::test]
async fn the_console_s_origins_and_clients_without_one_go_on_to_their_ticket() {
    let app = app().await;
    let origins = vec![CONSOLE.to_owned(), "https://chat.example.com".to_owned()];
    for origin in [
        Some("https://chat.example.com"),
        Some("https://D111111ABCDEF8.cloudfront.net/"),
        None,
    ] {
        let ticket = ticket(&app).await;
        let allowed = authorize_console(request(&ticket, origin), &app, &origins).await;
        assert!(is_allowed(&allowed), "{origin:?}");
        let again = authorize_console(request(&ticket, origin), &app, &origins).await;
        assert!(
            !is_allowed(&again),
            "{origin:?}: a ticket opens one connection"
        );
    }
    // With no console origins configured, any page goes on to its ticket.
    let ticket = ticket(&app).await;
    let open = authorize_console(request(&ticket, Some("https://evil.example")), &app, &[]).await;
    assert!(is_allowed(&open));
}
