//! What the three Lambda functions share: their settings, read once from the environment
//! at a cold start, and the wiring of the AWS adapters (DynamoDB, API Gateway's
//! management API) to the shared handlers. Each binary in `src/bin/` only runs one
//! handler.

pub mod settings;

use console_handlers::auth::{JwkSet, KeySource, OidcIssuer};
use console_handlers::clock::SystemClock;
use console_handlers::{App, TokenAuthority};
use console_push_apigw::ApiGatewayPusher;
use console_store_dynamo::DynamoStore;
use settings::Settings;
use std::sync::Arc;

/// Structured JSON logs for CloudWatch, with the level from `RUST_LOG` (default info):
/// each line carries the span of the event or request it was written for (route,
/// connection, tenant, agent).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .init();
}

/// Builds the handlers' context: SDK clients once per cold start; the identity
/// provider's keys when a sign-in first needs them.
pub async fn app(settings: &Settings) -> anyhow::Result<App> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    app_with(settings, &aws).await
}

/// As [`app`], with the given AWS configuration (credentials, region, endpoints): the
/// management API client always goes to the settings' endpoint.
pub async fn app_with(settings: &Settings, aws: &aws_config::SdkConfig) -> anyhow::Result<App> {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), &settings.table_name);
    let management = aws_sdk_apigatewaymanagement::config::Builder::from(aws)
        .endpoint_url(&settings.websocket_management_endpoint)
        .build();
    let pusher = ApiGatewayPusher::new(aws_sdk_apigatewaymanagement::Client::from_conf(management));
    let mut tokens = TokenAuthority::new(&settings.token_secret);
    if let Some(oidc) = &settings.oidc {
        let source = Arc::new(JwksUrl {
            url: oidc.jwks_url.clone(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(3))
                .build()?,
        });
        // No fetch at the cold start: most functions never check a token (the WebSocket
        // ones trust the authorizer's context, the authorizer redeems tickets), and a
        // provider unreachable for a moment must not fail a start. The keys are fetched
        // at the first sign-in that needs them (`TokenAuthority::verify_fresh`).
        tokens = tokens
            .with_oidc(OidcIssuer {
                issuer: oidc.issuer.clone(),
                audience: oidc.audience.clone(),
                keys: JwkSet { keys: Vec::new() },
                tenant_claim: oidc.tenant_claim.clone(),
                agent_claim: oidc.agent_claim.clone(),
            })
            .refreshing_keys_from(source);
    }
    Ok(App {
        store: Arc::new(store),
        pusher: Arc::new(pusher),
        clock: Arc::new(SystemClock),
        // One invocation per event: no order to keep in process (see `Order`).
        order: Arc::new(console_domain::Unordered),
        tokens,
        dev_sign_in: false,
        send_quota: console_domain::service::SEND_QUOTA,
    })
}

/// The identity provider's keys, from its JWKS URL.
struct JwksUrl {
    url: String,
    client: reqwest::Client,
}

#[async_trait::async_trait]
impl KeySource for JwksUrl {
    async fn fetch(&self) -> Result<JwkSet, String> {
        let answer = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("{}: {e}", self.url))?;
        answer
            .json()
            .await
            .map_err(|e| format!("{}: {e}", self.url))
    }
}
