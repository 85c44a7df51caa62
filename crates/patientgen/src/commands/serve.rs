//! `patientgen serve`.

use super::db::runtime;
use crate::cli::{LogFormat, ServeArgs};
use crate::error::{CliError, CliResult};
use patientgen_server::ServerConfig;
use patientgen_server::telemetry::{OtlpGuard, OtlpLayer};
use patientgen_storage::PoolSettings;
use std::time::Duration;
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

fn init_logging(format: LogFormat) -> CliResult<Option<OtlpGuard>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let mut guard = None;
    let _ = match format {
        LogFormat::Json => with_trace_export(builder.json().finish(), &mut guard)?.try_init(),
        LogFormat::Text => with_trace_export(builder.finish(), &mut guard)?.try_init(),
    };
    Ok(guard)
}

/// Adds span export over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set
/// (nothing otherwise). The guard sends the last spans when dropped.
fn with_trace_export<S>(
    subscriber: S,
    guard: &mut Option<OtlpGuard>,
) -> CliResult<Layered<Option<OtlpLayer<S>>, S>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let export =
        patientgen_server::telemetry::otlp_from_env::<S>().map_err(|e| CliError::input(e.to_string()))?;
    let layer = export.map(|(layer, g)| {
        *guard = Some(g);
        layer
    });
    Ok(subscriber.with(layer))
}

pub fn run(args: ServeArgs) -> CliResult {
    // Declared first, dropped last: after the runtime, the last spans are sent.
    let _trace_export = init_logging(args.log_format)?;
    let mut config = ServerConfig {
        bind: args.bind,
        database_url: args.database.database_url.clone(),
        data_dir: args.database.data_dir.clone(),
        pool: PoolSettings {
            max_connections: args.pool_size.max(1),
            acquire_timeout: Duration::from_secs(args.pool_timeout.max(1)),
            idle_timeout: Some(Duration::from_secs(args.pool_idle_timeout)),
            max_lifetime: Some(Duration::from_secs(args.pool_max_lifetime)),
        },
        workers: args.workers,
        max_patients_per_job: args.max_patients_per_job.clamp(1, patientgen_core::scenario::MAX_PATIENTS),
        max_job_runtime: Duration::from_secs(args.max_job_runtime.max(1)),
        job_lease: Duration::from_secs(args.job_lease),
        retention: Duration::from_secs(args.retention_hours.saturating_mul(3600)),
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        admin_key: args.admin_key.clone(),
        legacy_api_key: args.legacy_api_key.clone(),
        demo_key: args.demo_key,
        cors_origins: args
            .cors_origins
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        redis_url: args.redis_url.clone().filter(|u| !u.is_empty()),
        redis_prefix: args.redis_prefix.clone(),
        key_refresh_interval: Duration::from_millis(args.key_refresh_ms),
        usage_flush_interval: Duration::from_millis(args.usage_flush_ms),
        first_run_key: args.first_run_key && !args.no_first_run_key,
        ..ServerConfig::default()
    };
    config.threads_per_job =
        args.threads_per_job.map_or_else(|| ServerConfig::threads_per_job_for(args.workers), |t| t.max(1));
    if let Some(id) = args.instance_id {
        config.instance_id = id;
    }
    config.validate().map_err(|e| CliError::input(e.to_string()))?;
    runtime()?.block_on(patientgen_server::serve(config)).map_err(|e| CliError::Runtime(e.into()))
}
