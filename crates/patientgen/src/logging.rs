//! The service's logs: the one place where the `tracing` subscriber is set up.
//! JSON lines or text on stderr; text carries ANSI colours only when stderr is
//! a terminal (and `NO_COLOR` is unset), so piped or collected logs are plain.
//! Further layers (trace export, …) are added to the registry here.

use patientgen_server::settings::LogFormat;
use patientgen_server::telemetry::{OtlpGuard, TelemetryError};
use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

/// Whether text logs get colours: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the subscriber (once; later calls do nothing), with span export
/// over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`)
/// is set and nothing otherwise. Keep the guard until the service has
/// stopped: dropping it sends the last spans.
pub fn init(format: LogFormat) -> Result<Option<OtlpGuard>, TelemetryError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (export, guard) = match patientgen_server::telemetry::otlp_from_env::<tracing_subscriber::Registry>()?
    {
        Some((layer, guard)) => (Some(layer), Some(guard)),
        None => (None, None),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Json => fmt.json().with_ansi(false).boxed(),
        LogFormat::Text => fmt.with_ansi(colours()).boxed(),
    };
    let _ = tracing_subscriber::registry().with(export).with(filter).with(fmt).try_init();
    Ok(guard)
}
