//! The sweeper function, run on a schedule: asks API Gateway after the connections whose
//! check is due, and forgets those it no longer has as their `$disconnect` would (see
//! `ChatService::sweep`). The schedule's event says nothing it needs.

use console_lambdas::settings::Settings;
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    console_lambdas::init_logging();
    // It authenticates no one: without the identity provider's settings, its cold start
    // fetches no keys.
    let settings = Settings {
        oidc: None,
        ..Settings::from_env()?
    };
    let app = console_lambdas::app(&settings).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            let (gone, checked) = app.service().sweep().await?;
            tracing::info!(request_id = %event.context.request_id, gone, checked, "swept");
            Ok::<_, Error>(serde_json::json!({ "gone": gone, "checked": checked }))
        }
    }))
    .await
}
