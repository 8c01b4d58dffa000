//! HTTP answers: JSON bodies, never cached, and refusals as their status and
//! [`ErrorBody`]. What `http_api` (the routes) and `download` (the attachments) share.

use console_domain::DomainError;
use lambda_http::{Body, Response};
use protocol::{ErrorBody, ErrorCode};
use serde::Serialize;

/// `value` as a JSON answer.
pub fn json<T: Serialize>(status: u16, value: &T) -> Result<Response<Body>, DomainError> {
    let body = serde_json::to_string(value)
        .map_err(|e| DomainError::Internal(format!("could not encode the answer: {e}")))?;
    Ok(response(status, body))
}

/// An answer of `status` with a JSON `body`, never cached.
pub fn response(status: u16, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

/// A refusal as its HTTP status and [`ErrorBody`]; a failure of the server's own is logged.
pub fn error_response(error: &DomainError) -> Response<Body> {
    if error.code() == ErrorCode::Internal {
        tracing::error!(%error, "an HTTP request failed on the server");
    }
    let code: ErrorCode = error.code();
    let body = ErrorBody {
        code,
        message: error.public_message(),
    };
    response(
        code.http_status(),
        serde_json::to_string(&body).unwrap_or_default(),
    )
}
