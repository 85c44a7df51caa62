//! The request extractors every handler uses, so that input is checked in one
//! place: a JSON body, path parameters and the query string. Their errors are
//! 422 envelopes naming the field (`front_configs -> 0 -> id: field required`,
//! `path -> job_id: …`, `query -> page: …`), like upstream's validation
//! errors; 413 for bodies over the limit; 415 for other content types.
//!
//! No string of a request may hold the NUL character (U+0000): PostgreSQL
//! cannot store it in `text` or `jsonb`, and no field of the API has a use for
//! it. The three extractors refuse it on every backend, naming the field, so
//! that it never reaches the database (issue #7.3). Handlers must take
//! [`Path`] and [`Query`] from here, not axum's (clippy.toml forbids those).

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a 422 about a NUL character says after the field's name.
pub const NUL_MESSAGE: &str = "String should not contain the NUL character (\\u0000)";

/// A JSON request body.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// Path parameters, NUL-free, with errors naming `path -> <name>`.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

/// The query string, NUL-free, with errors naming `query -> <name>`.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

fn nul_error(field: &str) -> ApiError {
    ApiError::unprocessable(format!("{field}: {NUL_MESSAGE}"))
}

/// Parses JSON with the failing field named: the whole body must be one JSON
/// value (whitespace may follow it, nothing else), and no string or key in it
/// may contain NUL.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, the whole body included: trailing characters after the
    // value (`{…} xyz`) make it invalid before any field is looked at.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(ApiError::unprocessable(format!("body: invalid JSON ({e})")));
    }
    if let Some(field) = nul_in_json(bytes) {
        return Err(nul_error(&field));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
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
    })?;
    de.end().map_err(|e| ApiError::unprocessable(format!("body: invalid JSON ({e})")))?;
    Ok(value)
}

/// The field (`configuration -> name`, `body` for the top level) of the first
/// string or object key holding NUL, if the body is JSON that has one. A NUL
/// can only come in as the escape `\u0000` (JSON forbids raw control
/// characters in strings), so bodies without that text are not walked.
fn nul_in_json(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let mut path = Vec::new();
    if find_nul(&value, &mut path) {
        Some(if path.is_empty() { "body".to_string() } else { path.join(" -> ") })
    } else {
        None
    }
}

fn find_nul(value: &Value, path: &mut Vec<String>) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
            path.push(i.to_string());
            let found = find_nul(v, path);
            if !found {
                path.pop();
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(k, v)| {
            path.push(k.replace('\0', "\\u0000"));
            let found = k.contains('\0') || find_nul(v, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
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

#[allow(clippy::disallowed_types)] // the wrapped extractor itself
impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("path: {}", e.body_text())))?;
        if let Some((name, _)) = raw.iter().find(|(_, value)| value.contains('\0')) {
            return Err(nul_error(&format!("path -> {name}")));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::unprocessable(format!("path: {}", e.body_text())))
    }
}

/// Parses a query string into `T`, naming the field of the first problem.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.contains('\0') || value.contains('\0') {
            return Err(nul_error(&format!("query -> {}", name.replace('\0', "\\u0000"))));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if let Some(field) = message.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            return ApiError::unprocessable(format!("query -> {field}: Field required"));
        }
        let message = match message.as_str() {
            "invalid digit found in string" | "cannot parse integer from empty string" => {
                format!("Input should be a valid integer ({message})")
            }
            _ => message,
        };
        if path == "." || path.is_empty() {
            ApiError::unprocessable(format!("query: {message}"))
        } else {
            ApiError::unprocessable(format!("query -> {path}: {message}"))
        }
    })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        configuration: Value,
    }

    fn detail(e: ApiError) -> String {
        e.detail.as_str().unwrap_or_default().to_string()
    }

    /// Issue #7.6: nothing but whitespace may follow the JSON value.
    #[test]
    fn trailing_garbage_is_refused() {
        let e = parse_json::<Body>(br#"{"configuration":{"total_patients":5}} xyz"#).expect_err("garbage");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(detail(e).starts_with("body: invalid JSON (trailing characters"));
        let e = parse_json::<Body>(br#"{"configuration":{}}{"configuration":{}}"#).expect_err("two values");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(parse_json::<Body>(b"{\"configuration\":{}} \r\n\t ").is_ok(), "whitespace may follow");
    }

    /// Issue #7.3: NUL in a string or a key is named.
    #[test]
    fn nul_is_refused_naming_the_field() {
        let e =
            parse_json::<Body>(br#"{"configuration":{"fronts":[{"name":"a\u0000b"}]}}"#).expect_err("nul");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(detail(e), format!("configuration -> fronts -> 0 -> name: {NUL_MESSAGE}"));
        let e = parse_json::<Body>(br#"{"configuration":{"k\u0000":1}}"#).expect_err("nul key");
        assert!(detail(e).starts_with("configuration -> k\\u0000: "));
        let e = parse_json::<Value>(br#""\u0000""#).expect_err("top level");
        assert!(detail(e).starts_with("body: "));
        // An escaped backslash before `u0000` is not a NUL.
        assert!(parse_json::<Body>(br#"{"configuration":"\\u0000"}"#).is_ok());
        let e = parse_query::<std::collections::HashMap<String, String>>("a=1&job_id=x%00y").expect_err("q");
        assert_eq!(detail(e), format!("query -> job_id: {NUL_MESSAGE}"));
    }

    #[test]
    fn query_errors_name_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Q {
            page: Option<i64>,
            configuration_id: String,
        }
        let e = parse_query::<Q>("page=abc&configuration_id=x").expect_err("type");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(detail(e).starts_with("query -> page: Input should be a valid integer"));
        let e = parse_query::<Q>("page=1").expect_err("missing");
        assert_eq!(detail(e), "query -> configuration_id: Field required");
    }
}
