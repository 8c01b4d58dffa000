//! The WebSocket API: the `$connect` authorizer, and one handler for `$connect`,
//! `$disconnect` and every action route, over API Gateway's WebSocket event types.
//!
//! Replies go through the pusher (API Gateway's `PostToConnection`), never as the route's
//! return value, so one path serves replies and deliveries alike.

use crate::app::App;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use console_domain::{ConnectionId, DomainError, Identity};
use protocol::help::HelpKind;
use protocol::{ClientFrame, ServerFrame};
use serde_json::Value;
use tracing::Instrument;

/// The authorizer context keys that carry the identity to every later route.
pub const CONTEXT_TENANT: &str = "tenant";
/// See [`CONTEXT_TENANT`].
pub const CONTEXT_AGENT: &str = "agent";

/// The `$connect` authorizer in AWS: a connection opened by a page of another site (an
/// `Origin` that is not one of `console_origins`) is denied before its ticket is looked
/// at; then as [`authorize`]. A request without `Origin` is not a browser's (browsers
/// always send it on a WebSocket upgrade) and goes on to its ticket. With no console
/// origins given, any is allowed.
pub async fn authorize_console(
    request: ApiGatewayCustomAuthorizerRequestTypeRequest,
    app: &App,
    console_origins: &[String],
) -> ApiGatewayCustomAuthorizerResponse {
    let origin = request
        .headers
        .get(http::header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    if let Some(origin) = origin
        && !console_origins.is_empty()
        && !console_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    {
        tracing::warn!(
            origin,
            "WebSocket connection from another site's page denied"
        );
        let resource = request.method_arn.unwrap_or_else(|| "*".into());
        return policy(IamPolicyEffect::Deny, "anonymous".into(), resource);
    }
    authorize(request, app).await
}

/// The `$connect` authorizer: redeems the single-use `ticket` query parameter and allows
/// the connection as the agent it was issued to, or denies it.
pub async fn authorize(
    request: ApiGatewayCustomAuthorizerRequestTypeRequest,
    app: &App,
) -> ApiGatewayCustomAuthorizerResponse {
    let resource = request.method_arn.clone().unwrap_or_else(|| "*".into());
    let ticket = request
        .query_string_parameters
        .first("ticket")
        .unwrap_or_default()
        .to_owned();
    match app.service().redeem_ticket(&ticket).await {
        Ok(who) => {
            let mut response = policy(IamPolicyEffect::Allow, who.agent.to_string(), resource);
            response.context = serde_json::json!({
                CONTEXT_TENANT: who.tenant.as_str(),
                CONTEXT_AGENT: who.agent.as_str(),
            });
            response
        }
        Err(error) => {
            tracing::info!(%error, "WebSocket connection denied");
            policy(IamPolicyEffect::Deny, "anonymous".to_owned(), resource)
        }
    }
}

/// An authorizer's answer: `effect` for `principal` on `resource`.
fn policy(
    effect: IamPolicyEffect,
    principal: String,
    resource: String,
) -> ApiGatewayCustomAuthorizerResponse {
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = effect;
    statement.resource = vec![resource];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    response.principal_id = Some(principal);
    response.policy_document = policy;
    response
}

/// True when an authorizer response allows the connection.
pub fn is_allowed(response: &ApiGatewayCustomAuthorizerResponse) -> bool {
    !response.policy_document.statement.is_empty()
        && response
            .policy_document
            .statement
            .iter()
            .all(|s| s.effect == IamPolicyEffect::Allow)
}

/// Handles one WebSocket event: `$connect`, `$disconnect`, or a client frame on any
/// other route. A refused frame is answered with an `error` frame on the same connection.
pub async fn handle(event: ApiGatewayWebsocketProxyRequest, app: &App) -> ApiGatewayProxyResponse {
    let context = &event.request_context;
    let Some(connection) = context.connection_id.clone().map(ConnectionId) else {
        return status(400);
    };
    let route = context.route_key.as_deref().unwrap_or("$default");
    let Some(who) = identity(&event) else {
        tracing::warn!(route, connection = %connection.0, "WebSocket event without an authorizer identity");
        return status(403);
    };
    // Everything logged while this event is handled names it.
    let span = tracing::info_span!(
        "ws",
        route,
        connection = %connection.0,
        tenant = %who.tenant,
        agent = %who.agent
    );
    handle_as(&event, route, connection, &who, app)
        .instrument(span)
        .await
}

async fn handle_as(
    event: &ApiGatewayWebsocketProxyRequest,
    route: &str,
    connection: ConnectionId,
    who: &Identity,
    app: &App,
) -> ApiGatewayProxyResponse {
    let service = app.service();
    match route {
        "$connect" => match service.connect(connection, who).await {
            Ok(()) => status(200),
            Err(error) => {
                tracing::error!(%error, "could not record a connection");
                status(500)
            }
        },
        "$disconnect" => {
            if let Err(error) = service.disconnect(&connection).await {
                tracing::error!(%error, "could not forget a connection");
            }
            status(200)
        }
        _ => {
            let body = event.body.as_deref().unwrap_or("");
            if let Err((error, client_msg_id)) = dispatch(&connection, who, body, app).await {
                if error.code() == protocol::ErrorCode::Internal {
                    tracing::error!(%error, "a WebSocket frame failed on the server");
                }
                service
                    .push_to_connection(
                        &connection,
                        &ServerFrame::Error {
                            code: error.code(),
                            message: error.public_message(),
                            client_msg_id,
                        },
                    )
                    .await;
            }
            status(200)
        }
    }
}

/// Decodes one client frame and runs its use-case. On refusal, returns the error and the
/// refused send's `client_msg_id`, if any.
async fn dispatch(
    connection: &ConnectionId,
    who: &Identity,
    body: &str,
    app: &App,
) -> Result<(), (DomainError, Option<String>)> {
    let frame = decode(body).map_err(|e| (e, refused_send_id(body)))?;
    let service = app.service();
    match frame {
        ClientFrame::Hello { protocol, resume } => service
            .hello(connection, who, protocol, &resume)
            .await
            .map_err(|e| (e, None)),
        ClientFrame::StartChat { with, interaction } => service
            .start_chat(connection, who, &with, interaction)
            .await
            .map(drop)
            .map_err(|e| (e, None)),
        ClientFrame::Send {
            chat_id,
            client_msg_id,
            body,
        } => service
            .send(connection, who, &chat_id, &client_msg_id, &body)
            .await
            .map(drop)
            .map_err(|e| (e, Some(client_msg_id))),
        ClientFrame::End { chat_id } => service
            .end(who, &chat_id)
            .await
            .map(drop)
            .map_err(|e| (e, None)),
        ClientFrame::SetState { state } => {
            service.set_state(who, state).await.map_err(|e| (e, None))
        }
        ClientFrame::Typing { chat_id } => {
            service.typing(who, &chat_id).await.map_err(|e| (e, None))
        }
        ClientFrame::Seen { chat_id, seq } => service
            .seen(who, &chat_id, seq)
            .await
            .map_err(|e| (e, None)),
        ClientFrame::Ping => {
            service.ping(connection).await;
            Ok(())
        }
        ClientFrame::Ask { text, interaction } => service
            .ask(who, HelpKind::Question, Some(text), interaction)
            .await
            .map(drop)
            .map_err(|e| (e, None)),
        ClientFrame::RaiseHand { interaction } => service
            .ask(who, HelpKind::Hand, None, interaction)
            .await
            .map(drop)
            .map_err(|e| (e, None)),
        ClientFrame::Take { request } => service
            .take_help(connection, who, &request)
            .await
            .map(drop)
            .map_err(|e| (e, None)),
        ClientFrame::Withdraw { request } => service
            .withdraw_help(who, &request)
            .await
            .map(drop)
            .map_err(|e| (e, None)),
    }
}

/// The `client_msg_id` of a `send` refused for its shape, when it has one: the console
/// learns which of its messages was refused.
fn refused_send_id(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    if value.get("action")?.as_str()? != "send" {
        return None;
    }
    Some(value.get("client_msg_id")?.as_str()?.to_owned())
}

/// Decodes a client frame, telling an unknown action apart from a malformed frame.
pub fn decode(body: &str) -> Result<ClientFrame, DomainError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| DomainError::BadRequest(format!("the frame is not valid JSON: {e}")))?;
    let action = value
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| DomainError::BadRequest("the frame has no `action` string".into()))?
        .to_owned();
    if !ClientFrame::ACTIONS.contains(&action.as_str()) {
        return Err(DomainError::UnknownAction(action));
    }
    serde_json::from_value(value).map_err(|e| {
        DomainError::BadRequest(format!(
            "the `{action}` frame is not of the expected shape: {e}"
        ))
    })
}

/// The identity the authorizer attached to the connection.
fn identity(event: &ApiGatewayWebsocketProxyRequest) -> Option<Identity> {
    let fields = &event.request_context.authorizer.fields;
    let tenant = fields.get(CONTEXT_TENANT)?.as_str()?;
    let agent = fields.get(CONTEXT_AGENT)?.as_str()?;
    Some(Identity {
        tenant: tenant.into(),
        agent: agent.into(),
    })
}

fn status(code: i64) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = code;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_tells_unknown_actions_from_malformed_frames() {
        assert!(matches!(decode("{"), Err(DomainError::BadRequest(_))));
        assert!(matches!(
            decode(r#"{"action":"dance"}"#),
            Err(DomainError::UnknownAction(_))
        ));
        assert!(matches!(
            decode(r#"{"action":"send","chat_id":1}"#),
            Err(DomainError::BadRequest(_))
        ));
        assert!(decode(r#"{"action":"end","chat_id":"c"}"#).is_ok());
        assert!(decode(r#"{"action":"ping"}"#).is_ok());
        assert!(matches!(
            decode(r#"{"action":"set_state","state":"asleep"}"#),
            Err(DomainError::BadRequest(_))
        ));
    }
}
