//! The error a handler returns: a status, upstream's `detail` and the headers
//! to send. The envelope middleware (envelope.rs) turns it (and every
//! other error response) into upstream's JSON body.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patientgen_storage::StorageError;
use serde_json::Value;
use std::fmt::Display;

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

    /// 400: a request the service will not do (e.g. more patients than the key allows).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404, also for another key's jobs and templates.
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

    /// 403: the key lacks a scope.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 500 without internals.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// 500 without internals, logging `what` went wrong and its `cause`.
    pub fn internal_logged(what: &str, cause: impl Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::internal()
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
