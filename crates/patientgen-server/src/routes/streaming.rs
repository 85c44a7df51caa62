//! Streaming generation: patients are generated on a blocking thread and sent as
//! they are made, through a small bounded channel — a slow client slows the
//! generator down and memory stays flat. NDJSON by default; upstream's
//! `{"patients": [...], "total_patients": N}` object on `Accept: application/json`.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Query;
use crate::models::{ErrorResponse, StreamRequest};
use crate::scenario_source::{ScenarioSource, resolve_scenario};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use patientgen_core::time::UtcSeconds;
use patientgen_core::{Generator, Patient, Scenario};
use patientgen_output::encode::{EncodeOptions, Encoder, encoder_for, write_patient};
use patientgen_output::pipeline::{GenerateOptions, generate};
use patientgen_output::{Format, Metadata, OutputError};
use patientgen_storage::Scope;
use serde::Deserialize;
use serde_json::Value;
use std::io::Write;
use tokio::sync::mpsc;

/// Bytes per message to the client.
const CHUNK: usize = 64 << 10;
/// Messages buffered between generator and socket.
const DEPTH: usize = 4;

/// Query of `GET /api/v1/streaming/generate`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StreamQuery {
    /// Saved configuration.
    pub configuration_id: String,
    /// Patients (default: the configuration's; at most this instance's ceiling).
    #[param(minimum = 1)]
    pub count: Option<i64>,
    /// Accepted for compatibility (1–1000); output is sent as generated.
    #[param(minimum = 1, maximum = 1000)]
    pub batch_size: Option<i64>,
}

/// Query of `POST /api/v1/streaming/generate`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StreamInlineQuery {
    /// Patients (default: the configuration's; at most this instance's ceiling).
    #[param(minimum = 1)]
    pub count: Option<i64>,
    /// Accepted for compatibility (1–1000); output is sent as generated.
    #[param(minimum = 1, maximum = 1000)]
    pub batch_size: Option<i64>,
}

/// Upstream's JSON object shape.
struct ObjectEncoder {
    total: u64,
}

impl Encoder for ObjectEncoder {
    fn header(&self, _meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        out.extend_from_slice(b"{\"patients\":[");
        Ok(())
    }

    fn record(&self, patient: &Patient<'_>, first: bool, out: &mut Vec<u8>) -> Result<(), OutputError> {
        if !first {
            out.push(b',');
        }
        write_patient(patient, out);
        Ok(())
    }

    fn footer(&self, _meta: &Metadata, out: &mut Vec<u8>) -> Result<(), OutputError> {
        out.extend_from_slice(format!("],\"total_patients\":{}}}\n", self.total).as_bytes());
        Ok(())
    }
}

/// A `Write` that hands full chunks to the response stream, blocking while the
/// client is behind.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

fn wants_object(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("application/x-ndjson"))
}

fn check_batch(batch_size: Option<i64>) -> Result<i64, ApiError> {
    let b = batch_size.unwrap_or(100);
    if !(1..=1000).contains(&b) {
        return Err(ApiError::unprocessable("query -> batch_size: Batch size must be between 1 and 1000"));
    }
    Ok(b)
}

/// `count`: 1 to the instance's patient ceiling.
fn check_count(count: Option<i64>, max: u32) -> Result<(), ApiError> {
    match count {
        Some(c) if c < 1 => Err(ApiError::unprocessable("query -> count: Patient count must be at least 1")),
        Some(c) if c > i64::from(max) => Err(ApiError::unprocessable(format!(
            "query -> count: Input should be less than or equal to {max}"
        ))),
        _ => Ok(()),
    }
}

fn stream(state: &AppState, scenario: Scenario, object: bool, batch: i64) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(DEPTH);
    let threads = state.config.threads_per_job;
    let total = u64::from(scenario.total_patients);
    tokio::task::spawn_blocking(move || {
        let generator = Generator::new(&scenario);
        let meta = Metadata::new(&scenario, UtcSeconds(0));
        let encoder: Box<dyn Encoder> = if object {
            Box::new(ObjectEncoder { total })
        } else {
            encoder_for(Format::Ndjson, scenario.seed, EncodeOptions::default())
        };
        let mut sink = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK) };
        let result = {
            let mut sinks: Vec<&mut dyn Write> = vec![&mut sink];
            generate(
                &generator,
                &meta,
                &[encoder],
                &mut sinks,
                &GenerateOptions { threads, ..Default::default() },
            )
        };
        match result {
            Ok(_) => {
                crate::metrics::patients_generated(if object { "json" } else { "ndjson" }, "stream", total)
            }
            Err(OutputError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                tracing::debug!("streaming client disconnected");
            }
            Err(e) => {
                tracing::error!(error = %e, "streaming generation failed");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let content_type = if object { "application/json" } else { "application/x-ndjson" };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::HeaderName::from_static("x-patient-count"), total.to_string()),
            (header::HeaderName::from_static("x-batch-size"), batch.to_string()),
        ],
        body,
    )
        .into_response()
}

/// Streams patients of a saved configuration.
#[utoipa::path(get, path = "/api/v1/streaming/generate", tag = "streaming", params(StreamQuery),
    responses(
        (status = 200, description = "Patients as NDJSON (default) or upstream's JSON object (Accept: application/json)",
            content((String = "application/x-ndjson"), (Object = "application/json"))),
        (status = 400, description = "More patients than the key allows in one request", body = ErrorResponse),
        (status = 404, description = "Unknown configuration", body = ErrorResponse),
        (status = 422, description = "Bad parameters", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn stream_saved(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Generate)?;
    let batch = check_batch(q.batch_size)?;
    let id = q.configuration_id.as_str();
    check_count(q.count, state.config.max_patients_per_job)?;
    let source = ScenarioSource::Saved(id.to_string());
    let (_, scenario) = resolve_scenario(&state, &caller, &source, q.count).await?;
    crate::admission::admit_patients(&state, &caller, scenario.total_patients).await?.commit();
    Ok(stream(&state, scenario, wants_object(&headers), batch))
}

/// Streams patients of an inline configuration.
#[utoipa::path(post, path = "/api/v1/streaming/generate", tag = "streaming", request_body = StreamRequest,
    params(StreamInlineQuery),
    responses(
        (status = 200, description = "Patients as NDJSON (default) or upstream's JSON object (Accept: application/json)",
            content((String = "application/x-ndjson"), (Object = "application/json"))),
        (status = 400, description = "More patients than the key allows in one request", body = ErrorResponse),
        (status = 422, description = "Invalid configuration", body = ErrorResponse)),
    security(("api_key" = [])))]
pub async fn stream_inline(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamInlineQuery>,
    crate::extract::JsonBody(body): crate::extract::JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Generate)?;
    let batch = check_batch(q.batch_size)?;
    let config = body.get("configuration").cloned().unwrap_or(body);
    let Value::Object(mut config) = config else {
        return Err(ApiError::unprocessable("body: Input should be a valid dictionary or object"));
    };
    // Upstream read `count` before `total_patients`.
    if let Some(count) = config.remove("count") {
        config.insert("total_patients".into(), count);
    }
    let count = q.count;
    check_count(count, state.config.max_patients_per_job)?;
    let (_, scenario) = resolve_scenario(&state, &caller, &ScenarioSource::Inline(config), count).await?;
    crate::admission::admit_patients(&state, &caller, scenario.total_patients).await?.commit();
    Ok(stream(&state, scenario, wants_object(&headers), batch))
}
