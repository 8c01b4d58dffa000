//! The `$connect` authorizer function: redeems the single-use ticket.

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use console_lambdas::settings::Settings;
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    console_lambdas::init_logging();
    let app = console_lambdas::app(&Settings::from_env()?).await?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
            let app = app.clone();
            async move {
                Ok::<_, Error>(console_handlers::websocket::authorize(event.payload, &app).await)
            }
        },
    ))
    .await
}
