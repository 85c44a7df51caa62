//! `patientgen serve`.

use super::db::runtime;
use crate::cli::{LogFormat, ServeArgs};
use crate::error::{CliError, CliResult};
use patientgen_server::ServerConfig;
use patientgen_storage::PoolSettings;
use std::time::Duration;

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn run(args: ServeArgs) -> CliResult {
    init_logging(args.log_format);
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
