//! Pushes as in AWS, with API Gateway misbehaving: the handlers wired as the Lambda
//! functions are (the store given, and the API Gateway pusher over the real SDK), whose
//! management API endpoint is a proxy in front of the local server's `@connections`.
//! The proxy answers a share of the pushes `410 Gone` — after closing that connection,
//! as when a browser vanished — and a share `429` throttled; the rest it passes on.

use crate::support::dice::Dice;
use crate::support::http;
use ::http::StatusCode;
use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use console_domain::Store;
use console_handlers::clock::SystemClock;
use console_handlers::{App, TokenAuthority};
use console_local::Backend;
use console_push_apigw::ApiGatewayPusher;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How often the proxy misbehaves.
#[derive(Debug, Clone, Copy)]
pub struct Flakiness {
    /// The chance that a push closes its connection and answers 410 Gone.
    pub gone: f64,
    /// The chance that a push attempt answers 429 (the SDK and the pusher retry).
    pub throttled: f64,
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct Counts {
    pub passed: AtomicU64,
    pub gone: AtomicU64,
    pub throttled: AtomicU64,
    /// Passed on and answered Gone by the server: the connection had left by itself.
    pub gone_upstream: AtomicU64,
}

impl Counts {
    pub fn summary(&self) -> String {
        format!(
            "pushes passed {}  made Gone {}  throttled {}  already gone {}",
            self.passed.load(Ordering::Relaxed),
            self.gone.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
            self.gone_upstream.load(Ordering::Relaxed)
        )
    }
}

#[derive(Debug)]
struct Proxy {
    upstream: SocketAddr,
    flakiness: Flakiness,
    dice: Dice,
    counts: Arc<Counts>,
}

/// The handlers' context as the Lambdas build it, over `store`, pushing through the flaky
/// proxy: a backend for [`console_local::start_with`].
pub fn backend(
    store: Arc<dyn Store>,
    secret: Vec<u8>,
    flakiness: Flakiness,
    dice: Dice,
    counts: Arc<Counts>,
) -> Backend {
    Backend::Functions(Box::new(move |url: String| {
        Box::pin(async move {
            let upstream: SocketAddr = url.trim_start_matches("http://").parse()?;
            let proxy = start_proxy(Proxy {
                upstream,
                flakiness,
                dice,
                counts,
            })
            .await?;
            let config = aws_config::defaults(BehaviorVersion::latest())
                .region("eu-west-1")
                .endpoint_url(format!("http://{proxy}"))
                .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
                .load()
                .await;
            let pusher = ApiGatewayPusher::new(aws_sdk_apigatewaymanagement::Client::new(&config));
            Ok(App {
                store,
                pusher: Arc::new(pusher),
                clock: Arc::new(SystemClock),
                order: Arc::new(console_domain::Unordered),
                tokens: TokenAuthority::new(&secret),
                dev_sign_in: true,
                send_quota: console_domain::service::SEND_QUOTA,
            })
        })
    }))
}

async fn start_proxy(proxy: Proxy) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let router = Router::new()
        .route("/@connections/{id}", post(push))
        .with_state(Arc::new(proxy));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

fn gone() -> Response {
    (
        StatusCode::GONE,
        [
            (::http::header::CONTENT_TYPE, "application/json"),
            (
                ::http::HeaderName::from_static("x-amzn-errortype"),
                "GoneException",
            ),
        ],
        r#"{"message":"GoneException"}"#,
    )
        .into_response()
}

async fn push(State(proxy): State<Arc<Proxy>>, Path(id): Path<String>, body: Bytes) -> Response {
    let path = format!("/@connections/{id}");
    if proxy.dice.chance(proxy.flakiness.gone) {
        proxy.counts.gone.fetch_add(1, Ordering::Relaxed);
        let _ = http::raw(proxy.upstream, "DELETE", &path, &[], b"").await;
        return gone();
    }
    if proxy.dice.chance(proxy.flakiness.throttled) {
        proxy.counts.throttled.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (::http::header::CONTENT_TYPE, "application/json"),
                (
                    ::http::HeaderName::from_static("x-amzn-errortype"),
                    "LimitExceededException",
                ),
            ],
            r#"{"message":"Rate exceeded"}"#,
        )
            .into_response();
    }
    match http::raw(proxy.upstream, "POST", &path, &[], &body).await {
        Ok((200, _)) => {
            proxy.counts.passed.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK.into_response()
        }
        Ok((410, _)) => {
            proxy.counts.gone_upstream.fetch_add(1, Ordering::Relaxed);
            gone()
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
