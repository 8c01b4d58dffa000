//! The HTTP API bridge: an axum request in, the shared `lambda_http` handler, an axum
//! response out — what API Gateway's HTTP API does in AWS.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use console_handlers::App;

/// The largest HTTP API request body accepted (API Gateway's own limit is 10 MB; ours
/// are small JSON documents).
const MAX_BODY: usize = 1024 * 1024;

/// Serves one `/api/...` request through the shared handler.
pub async fn api(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        let refused =
            console_handlers::respond::error_response(&console_domain::DomainError::BodyTooLarge {
                max: MAX_BODY,
            });
        return into_axum(refused);
    };
    let body = if bytes.is_empty() {
        lambda_http::Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => lambda_http::Body::Text(text),
            Err(raw) => lambda_http::Body::Binary(raw.into_bytes()),
        }
    };
    into_axum(
        console_handlers::http_api::handle(http::Request::from_parts(parts, body), &app).await,
    )
}

fn into_axum(response: http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, Body::from(bytes))
}
