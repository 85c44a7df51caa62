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
    if !(2..=3600).contains(&args.job_lease) {
        return Err(CliError::input("--job-lease must be between 2 and 3600 seconds"));
    }
    // Past a century the retention period would overflow the server's date arithmetic.
    if !(1..=24 * 365 * 100).contains(&args.retention_hours) {
        return Err(CliError::input("--retention-hours must be between 1 and 876000"));
    }
    if !(10..=1000).contains(&args.key_refresh_ms) {
        return Err(CliError::input("--key-refresh-ms must be between 10 and 1000"));
    }
    if args.usage_flush_ms < 10 {
        return Err(CliError::input("--usage-flush-ms must be at least 10"));
    }
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
        retention: Duration::from_secs(args.retention_hours * 3600),
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
        ..ServerConfig::default()
    };
    if let Some(t) = args.threads_per_job {
        config.threads_per_job = t.max(1);
    } else {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        config.threads_per_job = cores.checked_div(args.workers).unwrap_or(cores).max(1);
    }
    if let Some(id) = args.instance_id {
        config.instance_id = id;
    }
    runtime()?.block_on(patientgen_server::serve(config)).map_err(|e| CliError::Runtime(e.into()))
}
