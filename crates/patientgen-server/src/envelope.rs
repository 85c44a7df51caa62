//! Upstream's JSON envelope `{error, detail, timestamp, request_id}` for every
//! error response the service sends — handler errors, unknown routes, wrong
//! methods, oversized or malformed bodies, timeouts and panics — with the
//! headers the error sets (upstream dropped them).

use crate::clock::{Clock, rfc3339};
use crate::error::{ApiError, ErrorDetail};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

/// Upstream's `error` names (a few more, where upstream said only "Error").
pub fn error_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Validation Error",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Marks an error response whose body is already the one its route documents
/// (the health reports' 503): the envelope leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub struct DocumentedBody;

/// Turns every error response into the envelope, keeping its headers; its
/// `timestamp` comes from `clock`. Responses marked [`DocumentedBody`] pass
/// unchanged.
pub async fn envelope(clock: Arc<dyn Clock>, request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<DocumentedBody>().is_some()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = match parts.extensions.remove::<ErrorDetail>() {
        Some(ErrorDetail(d)) => d,
        None => {
            // A response from the framework (404, 405, 413, 408, panic…): keep its text.
            let text = axum::body::to_bytes(body, 16 << 10)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .unwrap_or_default();
            Value::String(match status {
                StatusCode::NOT_FOUND => "Not Found".to_string(),
                StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed".to_string(),
                StatusCode::PAYLOAD_TOO_LARGE => "Request body too large".to_string(),
                StatusCode::REQUEST_TIMEOUT => "Request timed out".to_string(),
                StatusCode::INTERNAL_SERVER_ERROR => "Internal server error".to_string(),
                _ if !text.is_empty() => text,
                _ => error_name(status).to_string(),
            })
        }
    };
    let body = crate::models::ErrorResponse {
        error: error_name(status).to_string(),
        detail,
        timestamp: rfc3339(clock.now()),
        request_id,
    };
    let body = match serde_json::to_string(&body) {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(error = %e, "could not write an error envelope");
            String::new()
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

/// Converts a panic into a plain 500 the envelope middleware then wraps,
/// logging the panic's message (never sent to the client).
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".to_string());
    ApiError::internal_logged("a request handler panicked", message).into_response()
}
