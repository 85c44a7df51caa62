//! A JSON body extractor whose errors are 422 envelopes naming the field
//! (`front_configs -> 0 -> id: field required`), like upstream's validation
//! errors; 413 for bodies over the limit; 415 for other content types.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

/// A JSON request body.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// Parses JSON with the failing field named.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::unprocessable(format!("body: invalid JSON ({inner})"));
        }
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        let field_path = patientgen_core::scenario::display_path(if path == "." { "" } else { &path });
        if let Some(field) = message.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            let at =
                if field_path.is_empty() { field.to_string() } else { format!("{field_path} -> {field}") };
            return ApiError::unprocessable(format!("{at}: field required"));
        }
        if field_path.is_empty() {
            ApiError::unprocessable(format!("body: {message}"))
        } else {
            ApiError::unprocessable(format!("{field_path}: {message}"))
        }
    })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            } else {
                ApiError::bad_request(format!("Could not read the request body: {rejection}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::unprocessable("body: field required"));
        }
        parse_json(&bytes).map(JsonBody)
    }
}
