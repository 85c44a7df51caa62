//! The finishing touches of the OpenAPI document that the handler annotations
//! cannot give (issue #7.7): the error responses the middleware and the
//! extractors send on every operation they apply to, and the limits that
//! depend on this instance's settings. `tests/openapi.rs` walks every
//! operation and checks the service answers only what is documented here.

use crate::config::ServerConfig;
use patientgen_output::Format;
use patientgen_storage::Priority;
use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

/// Paths whose responses stream (no request timeout, so no 408).
pub const STREAMING: [&str; 2] = ["/api/v1/streaming/", "/api/v1/downloads/"];

fn envelope_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorResponse" } } }
    })
}

/// The error responses every operation of a kind can give, with why.
fn common_errors(path: &str, op: &Map<String, Value>) -> Vec<(&'static str, Value)> {
    let secured = op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
    let has_body = op.contains_key("requestBody");
    let has_params = op.get("parameters").and_then(Value::as_array).is_some_and(|p| !p.is_empty());
    let mut out = Vec::new();
    if has_body {
        out.push(("400", envelope_response("The request body could not be read")));
        out.push(("413", envelope_response("The request body is over the size limit")));
        out.push((
            "415",
            envelope_response("The body's Content-Type is not JSON (`application/json` or `…+json`)"),
        ));
    }
    if has_body || has_params {
        out.push((
            "422",
            envelope_response(
                "Invalid input: `detail` names the field (`path -> …`, `query -> …` or the body field), \
                 e.g. a value out of range, of the wrong type, or holding a NUL character",
            ),
        ));
    }
    if secured {
        let mut unauthorized = envelope_response("No `X-API-Key`, or an unknown, inactive or expired key");
        unauthorized["headers"] = json!({
            "WWW-Authenticate": { "schema": { "type": "string" }, "description": "`ApiKey`" },
            "X-Key-Status": { "schema": { "type": "string", "enum": ["missing", "invalid", "inactive", "expired"] } }
        });
        out.push(("401", unauthorized));
        out.push(("403", envelope_response("The key lacks the scope this operation needs")));
    }
    if !STREAMING.iter().any(|p| path.starts_with(p)) {
        out.push(("408", envelope_response("The request took longer than the request timeout")));
    }
    let mut limited = envelope_response(
        "A limit of the calling key is used up (requests per minute, hour or day, or patients per day). \
         Sent only to requests that carry `X-API-Key`.",
    );
    limited["headers"] = json!({
        "Retry-After": { "schema": { "type": "integer" }, "description": "Seconds until the window frees up" },
        "X-Limit-Type": { "schema": { "type": "string" }, "description": "The limit reached" }
    });
    out.push(("429", limited));
    out.push(("500", envelope_response("An internal error (logged; no internals are sent)")));
    if secured {
        let mut unavailable = envelope_response("The database is unreachable");
        unavailable["headers"] = json!({ "Retry-After": { "schema": { "type": "integer" } } });
        out.push(("503", unavailable));
    }
    out
}

/// Walks every operation: `f(path, method, operation)`.
fn each_operation(doc: &mut Value, mut f: impl FnMut(&str, &str, &mut Map<String, Value>)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if let Some(op) = op.as_object_mut() {
                f(path, method, op);
            }
        }
    }
}

fn set(target: Option<&mut Value>, key: &str, value: Value) {
    if let Some(Value::Object(map)) = target {
        map.insert(key.to_string(), value);
    }
}

fn property<'a>(doc: &'a mut Value, schema: &str, field: &str) -> Option<&'a mut Value> {
    doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}"))
}

fn parameter<'a>(op: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    op.get_mut("parameters")?.as_array_mut()?.iter_mut().find(|p| p["name"] == name)?.get_mut("schema")
}

/// Adds the common error responses and this instance's limits.
pub fn finish(doc: OpenApi, config: &ServerConfig) -> OpenApi {
    let mut value = match serde_json::to_value(&doc) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "OpenAPI document unwritable; served without its finishing touches");
            return doc;
        }
    };
    let max_patients = json!(config.max_patients_per_job);
    each_operation(&mut value, |path, method, op| {
        let errors = common_errors(path, op);
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
        for (code, response) in errors {
            responses.entry(code).or_insert(response);
        }
        if path == "/api/v1/streaming/generate" {
            set(parameter(op, "count"), "maximum", max_patients.clone());
        }
        if path == "/api/v1/downloads/{job_id}" && method == "get" {
            let mut names = vec![json!("zip")];
            names.extend(Format::ALL.iter().map(|f| json!(f.as_str())));
            set(parameter(op, "format"), "enum", Value::Array(names));
        }
    });
    let formats: Vec<Value> = Format::ALL.iter().map(|f| json!(f.as_str())).collect();
    set(
        property(&mut value, "GenerationRequest", "output_formats").and_then(|p| p.get_mut("items")),
        "enum",
        Value::Array(formats),
    );
    let mut priorities: Vec<Value> = Priority::ALL.iter().map(|p| json!(p.as_str())).collect();
    priorities.push(Value::Null);
    set(property(&mut value, "GenerationRequest", "priority"), "enum", Value::Array(priorities));
    set(property(&mut value, "GenerationRequest", "total_patients"), "maximum", max_patients.clone());
    set(property(&mut value, "ConfigurationTemplate", "total_patients"), "maximum", max_patients);
    match serde_json::from_value(value) {
        Ok(finished) => finished,
        Err(e) => {
            tracing::error!(error = %e, "OpenAPI document unreadable after finishing; served without");
            doc
        }
    }
}
