//! Tracing: the span every request runs in, and the optional export of spans
//! over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! A request's span (`request`) carries its request id, method, route template,
//! status, latency and the id of its API key (never the key). Jobs run in a
//! `job` span with `job.run`, `job.store` and `job.finish` children (claims in
//! `job.claim`, at debug level: idle workers poll); key-cache refreshes in
//! `keys.refresh`. A 500 is logged once, where its cause is known
//! ([`ApiError::internal_logged`](crate::error::ApiError::internal_logged), the
//! storage error conversion, the panic handler): the request span records
//! the status, and the trace layer itself logs no failure.

use crate::metrics::UNMATCHED;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;
use tracing::field::Empty;

/// Makes the `request` span of a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
        let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, |p| p.as_str());
        let method = request.method().as_str();
        tracing::info_span!(
            "request",
            otel.name = format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id,
            method,
            route,
            status = Empty,
            latency_ms = Empty,
            key_id = Empty,
        )
    }
}

/// Records status and latency on the request span when the response starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordResponse;

impl<B> OnResponse<B> for RecordResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        let status = response.status();
        span.record("status", status.as_u16());
        span.record("latency_ms", latency.as_secs_f64() * 1000.0);
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
        tracing::debug!(status = status.as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
    }
}

/// The trace layer of the router: [`RequestSpan`], [`RecordResponse`], and no
/// failure log of its own (the cause of a 500 is logged where it happens).
pub fn http_trace_layer()
-> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), RecordResponse, (), (), ()> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(RecordResponse)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// Records the caller's key id on the current request span.
pub fn record_key_id(key_id: &str) {
    Span::current().record("key_id", key_id);
}

/// Why the OTLP exporter could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("OTLP trace export: {0}")]
pub struct TelemetryError(String);

/// Keeps the OTLP exporter running; dropping it sends the spans still
/// buffered and stops the exporter (call it outside the async runtime).
pub struct OtlpGuard(SdkTracerProvider);

impl OtlpGuard {
    /// Sends the buffered spans now.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        self.0.force_flush().map_err(|e| TelemetryError(e.to_string()))
    }
}

impl Drop for OtlpGuard {
    fn drop(&mut self) {
        if let Err(e) = self.0.shutdown() {
            eprintln!("OTLP trace export: could not send the last spans: {e}");
        }
    }
}

/// Whether trace export is asked for: `OTEL_EXPORTER_OTLP_ENDPOINT` (or the
/// traces-only `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and not empty.
pub fn otlp_requested(env: impl Fn(&str) -> Option<String>) -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|v| env(v).is_some_and(|s| !s.trim().is_empty()))
}

/// The OTLP layer when the environment asks for it (see [`otlp_requested`]),
/// else `None`: no exporter, no thread, no per-span cost. The endpoint, headers
/// and timeout come from the standard `OTEL_EXPORTER_OTLP_*` variables
/// (http/protobuf; `…/v1/traces` is appended to `OTEL_EXPORTER_OTLP_ENDPOINT`).
pub type OtlpLayer<S> = tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>;

/// See [`OtlpLayer`].
pub fn otlp_from_env<S>() -> Result<Option<(OtlpLayer<S>, OtlpGuard)>, TelemetryError>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    if !otlp_requested(|v| std::env::var(v).ok()) {
        return Ok(None);
    }
    otlp_layer(None).map(Some)
}

/// An OTLP/HTTP (protobuf) span exporter layer sending to `traces_url` (the
/// full URL, e.g. `http://collector:4318/v1/traces`), or to where the
/// `OTEL_EXPORTER_OTLP_*` variables say when `None`. Spans are batched and
/// sent from the exporter's own thread. Build it outside the async runtime.
pub fn otlp_layer<S>(traces_url: Option<&str>) -> Result<(OtlpLayer<S>, OtlpGuard), TelemetryError>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let mut builder =
        opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(Protocol::HttpBinary);
    if let Some(url) = traces_url {
        builder = builder.with_endpoint(url);
    }
    let exporter = builder.build().map_err(|e| TelemetryError(e.to_string()))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("patientgen")
        .with_attribute(opentelemetry::KeyValue::new("service.version", patientgen_core::VERSION))
        .build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer("patientgen");
    Ok((tracing_opentelemetry::layer().with_tracer(tracer), OtlpGuard(provider)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;
    use tracing_subscriber::layer::SubscriberExt;

    /// Counts ERROR events.
    struct Errors(Arc<AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Errors {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            if *event.metadata().level() == tracing::Level::ERROR {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A 500 is logged once (by the code that knows its cause), not again by
    /// the trace layer.
    #[tokio::test]
    async fn a_500_is_logged_once() {
        async fn fails() -> Result<&'static str, crate::error::ApiError> {
            Err(crate::error::ApiError::internal_logged("deliberate failure", "the cause"))
        }
        let errors = Arc::new(AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry().with(Errors(errors.clone()));
        let _guard = tracing::subscriber::set_default(subscriber);
        let app: Router = Router::new().route("/fails", get(fails)).layer(http_trace_layer());
        let request = axum::http::Request::builder().uri("/fails").body(Body::empty()).expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(response.status().as_u16(), 500);
        assert_eq!(errors.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn export_only_when_an_endpoint_is_set() {
        assert!(!otlp_requested(|_| None));
        assert!(!otlp_requested(|_| Some("  ".into())));
        assert!(otlp_requested(
            |v| (v == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://127.0.0.1:4318".into())
        ));
        assert!(otlp_requested(
            |v| (v == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").then(|| "http://c/v1/traces".into())
        ));
    }
}
