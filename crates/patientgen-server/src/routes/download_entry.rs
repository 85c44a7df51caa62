//! `GET /api/v1/downloads/{job_id}?format=csv` (or ndjson, fhir, xml): one of
//! the job's files, read out of its stored ZIP. The ZIP is copied to an
//! anonymous temporary file (it may live in database chunks, and a ZIP is read
//! from its end), then the entry streams out from a blocking task: memory stays
//! flat whatever the size.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use patientgen_output::Format;
use patientgen_storage::JobRecord;
use std::io::Read;
use tokio::io::AsyncWriteExt;

fn io_failure(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "reading a job's ZIP failed");
    ApiError::internal()
}

/// `?format=` other than `zip` and `json`: one of the output formats, or a 422.
pub fn parse_format(format: &str) -> Result<Format, ApiError> {
    format.parse().map_err(|_| {
        ApiError::unprocessable(format!(
            "query -> format: '{format}' is not one of zip, json, ndjson, csv, fhir, xml"
        ))
    })
}

/// The job's file in `format` (not `json`/`zip`, which `downloads` serves itself).
pub async fn one_format(state: &AppState, job: &JobRecord, format: &str) -> Result<Response, ApiError> {
    let wanted = parse_format(format)?;
    let options = &job.options;
    if !options.output_formats.contains(&wanted) {
        return Err(ApiError::bad_request(format!(
            "No {} output file found for this job. Was the job generated with output_formats=['{}']?",
            wanted.as_str().to_uppercase(),
            wanted.as_str()
        )));
    }
    let suffix = patientgen_output::sink::layer_suffix(options.use_compression, options.use_encryption);
    let entry = format!("{}{suffix}", wanted.file_name());
    let content_type = match (options.use_compression, options.use_encryption) {
        (_, true) => "application/octet-stream",
        (true, false) => "application/gzip",
        (false, false) => wanted.content_type(),
    };

    let mut zip = state.artifacts.open(&job.job_id, "patients.zip").await?;
    let mut spool = tokio::fs::File::from_std(tempfile::tempfile().map_err(io_failure)?);
    while let Some(chunk) = zip.next().await {
        spool.write_all(&chunk.map_err(io_failure)?).await.map_err(io_failure)?;
    }
    spool.flush().await.map_err(io_failure)?;
    let file = spool.into_std().await;

    let (ready, is_ready) = tokio::sync::oneshot::channel::<Result<u64, String>>();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let name = entry.clone();
    tokio::task::spawn_blocking(move || {
        let mut archive = match zip::ZipArchive::new(file) {
            Ok(a) => a,
            Err(e) => return drop(ready.send(Err(e.to_string()))),
        };
        let mut reader = match archive.by_name(&name) {
            Ok(r) => r,
            Err(e) => return drop(ready.send(Err(format!("{name}: {e}")))),
        };
        let _ = ready.send(Ok(reader.size()));
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                        break; // the client went away
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let size = is_ready.await.map_err(io_failure)?.map_err(io_failure)?;
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{entry}\"")),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    )
        .into_response())
}
