//! Errors as upstream's JSON envelope `{error, detail, timestamp, request_id}`,
//! for every error response the service sends — handler errors, unknown routes,
//! wrong methods, oversized or malformed bodies, timeouts and panics — with the
//! headers the error sets (upstream dropped them).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use patientgen_storage::StorageError;
use serde_json::Value;

/// An error to return to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `detail`: usually a string, sometimes an object.
    pub detail: Value,
    /// Headers to send with it.
    pub headers: Box<HeaderMap>,
}

/// Marker put on error responses so the envelope middleware can fill in the
/// request id.
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub Value);

impl ApiError {
    /// An error with a text detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::with_detail(status, Value::String(detail.into()))
    }

    /// An error whose detail is any JSON value.
    pub fn with_detail(status: StatusCode, detail: Value) -> Self {
        Self { status, detail, headers: Box::default() }
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 422 (validation; the detail names the field).
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// 401 with `WWW-Authenticate` and upstream's `X-Key-Status`.
    pub fn unauthorized(detail: &str, key_status: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, "ApiKey")
            .with_header(HeaderName::from_static("x-key-status"), key_status)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 500 without internals.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// Adds a header.
    pub fn with_header(mut self, name: HeaderName, value: impl TryInto<HeaderValue>) -> Self {
        if let Ok(v) = value.try_into() {
            self.headers.insert(name, v);
        }
        self
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage error");
        if e.is_unavailable() {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Database unavailable. Service temporarily unavailable.",
            )
            .with_header(header::RETRY_AFTER, "5")
        } else {
            ApiError::internal()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status;
        *response.headers_mut() = *self.headers;
        response.extensions_mut().insert(ErrorDetail(self.detail));
        response
    }
}

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
        415 => "Unsupported Media Type",
        422 => "Validation Error",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// UTC now as upstream writes it: ISO 8601 with microseconds and `Z`.
pub fn timestamp_now() -> String {
    rfc3339(chrono::Utc::now())
}

/// Upstream's timestamp form: RFC 3339, microseconds, `Z`.
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Turns every error response into the envelope, keeping its headers.
pub async fn envelope(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
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
        timestamp: timestamp_now(),
        request_id,
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

/// Converts a panic into a plain 500 the envelope middleware then wraps.
pub fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal().into_response()
}
