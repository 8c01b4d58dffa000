//! The `$connect` authorizer function: denies a page of another site, redeems the
//! single-use ticket.

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use console_lambdas::settings::Settings;
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    console_lambdas::init_logging();
    let settings = Settings::from_env()?;
    let app = console_lambdas::app(&settings).await?;
    let origins = std::sync::Arc::new(settings.console_origins);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
            let (app, origins) = (app.clone(), origins.clone());
            async move {
                Ok::<_, Error>(
                    console_handlers::websocket::authorize_console(event.payload, &app, &origins)
                        .await,
                )
            }
        },
    ))
    .await
}
