//! The WebSocket function: `$connect`, `$disconnect`, `$default` and every action route.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use console_lambdas::settings::Settings;
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    console_lambdas::init_logging();
    let app = console_lambdas::app(&Settings::from_env()?).await?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
            let app = app.clone();
            async move {
                let connection = event.payload.request_context.connection_id.clone();
                let route = event.payload.request_context.route_key.clone();
                tracing::info!(request_id = %event.context.request_id, ?connection, ?route, "websocket event");
                Ok::<_, Error>(console_handlers::websocket::handle(event.payload, &app).await)
            }
        },
    ))
    .await
}
