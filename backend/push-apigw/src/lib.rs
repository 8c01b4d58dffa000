//! The pusher port over API Gateway's management API: `PostToConnection` to one
//! connection, `GetConnection` to ask whether it is still there. `410 Gone` means the
//! connection no longer exists (its record is then deleted by the domain); throttling is
//! retried with a growing pause.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::DisplayErrorContext;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use console_domain::{ConnectionId, PushOutcome, Pusher};
use std::time::Duration;

/// How many times a throttled push is tried.
const ATTEMPTS: u32 = 4;

/// Pushes through API Gateway's management API of one WebSocket API stage.
#[derive(Clone, Debug)]
pub struct ApiGatewayPusher {
    client: Client,
}

impl ApiGatewayPusher {
    /// A pusher over `client`, whose endpoint is the stage's
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    pub fn new(client: Client) -> Self {
        ApiGatewayPusher { client }
    }
}

#[async_trait]
impl Pusher for ApiGatewayPusher {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> PushOutcome {
        let mut pause = Duration::from_millis(25);
        for attempt in 1..=ATTEMPTS {
            let sent = self
                .client
                .post_to_connection()
                .connection_id(&connection.0)
                .data(Blob::new(payload.as_bytes()))
                .send()
                .await;
            let error = match sent {
                Ok(_) => return PushOutcome::Delivered,
                Err(error) => error,
            };
            if error
                .as_service_error()
                .is_some_and(|e| e.is_gone_exception())
            {
                return PushOutcome::Gone;
            }
            let throttled = error
                .as_service_error()
                .is_some_and(|e| e.is_limit_exceeded_exception())
                || error
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 429);
            if !throttled || attempt == ATTEMPTS {
                // Logged by the caller, with what it was pushing for.
                return PushOutcome::Failed(DisplayErrorContext(&error).to_string());
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        PushOutcome::Failed("throttled".into())
    }

    async fn probe(&self, connection: &ConnectionId) -> PushOutcome {
        match self
            .client
            .get_connection()
            .connection_id(&connection.0)
            .send()
            .await
        {
            Ok(_) => PushOutcome::Delivered,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_gone_exception()) =>
            {
                PushOutcome::Gone
            }
            Err(error) => {
                let text = DisplayErrorContext(&error).to_string();
                tracing::warn!(connection = %connection.0, error = %text, "asking after a connection failed");
                PushOutcome::Failed(text)
            }
        }
    }
}
