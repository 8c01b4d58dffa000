//! The HTTP API function (API Gateway HTTP API, payload 2.0): the shared HTTP handler.

use console_lambdas::settings::Settings;
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    console_lambdas::init_logging();
    let app = console_lambdas::app(&Settings::from_env()?).await?;
    lambda_http::run(service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<_, Error>(console_handlers::http_api::handle(request, &app).await) }
    }))
    .await
}
