//! patientgen-server: the HTTP service — upstream's API v1 on axum, jobs in the
//! database with a worker pool per instance, API keys, OpenAPI and metrics.

pub mod admission;
pub mod auth;
pub mod clock;
pub mod config;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod first_run;
pub mod http_io;
pub mod job_request;
pub mod job_views;
pub mod jobs;
pub mod keycache;
pub mod limits;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod routes;
pub mod scenario_source;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod usage;

pub use config::{InvalidSetting, ServerConfig};
pub use settings::{Profile, Settings};
pub use state::AppState;

use chrono::{DateTime, Utc};
use clock::Clock;
use patientgen_storage::{KeyLimits, KeySettings, Scope, Scopes, StorageError, Store};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tracing::Instrument;

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Database or migrations.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Binding or serving.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    /// A setting that cannot work.
    #[error("configuration error: {0}")]
    Config(String),
}

/// Connects, migrates and makes sure the bootstrap keys exist.
pub async fn build_state(config: ServerConfig) -> Result<AppState, ServeError> {
    build_state_with_clock(config, Arc::new(clock::SystemClock)).await
}

/// [`build_state`] with another time source (tests stand at chosen instants).
pub async fn build_state_with_clock(
    config: ServerConfig,
    clock: Arc<dyn Clock>,
) -> Result<AppState, ServeError> {
    config.validate().map_err(|e| ServeError::Config(e.to_string()))?;
    let redis_url = config.redis_url.as_ref().map(|u| u.expose_secret().to_string());
    let limiter = limits::Limiter::new(
        redis_url.as_deref(),
        &config.redis_prefix,
        config.redis_call_timeout,
        config.limiter_max_keys,
    )
    .map_err(|e| ServeError::Config(format!("REDIS_URL: {e}")))?;
    let database_url = config.database_url.as_ref().map(|u| u.expose_secret());
    let store = Store::connect(database_url, &config.data_dir, &config.pool).await?;
    store.migrate().await?;
    ensure_bootstrap_keys(&store, &config, clock.now()).await?;
    let state = AppState::new(config, store, metrics::install(), limiter, clock);
    state.keys.observe_revision(state.store.key_revision().await?);
    Ok(state)
}

/// Settings of an admin key the service makes itself (bootstrap, first run):
/// every scope, patients per request up to the job ceiling, generous windows.
pub fn admin_key_settings(config: &ServerConfig, name: &str, metadata: serde_json::Value) -> KeySettings {
    KeySettings {
        name: name.to_string(),
        email: None,
        is_demo: false,
        scopes: Scopes::new([Scope::Admin, Scope::Generate, Scope::Read]),
        limits: KeyLimits {
            max_patients_per_request: i32::try_from(config.max_patients_per_job).unwrap_or(i32::MAX),
            max_requests_per_minute: 6000,
            max_requests_per_hour: 100_000,
            max_requests_per_day: None,
            max_patients_per_day: None,
        },
        expires_at: None,
        metadata,
    }
}

/// The admin key from `PATIENTGEN_ADMIN_KEY`, upstream's `API_KEY`, and the demo
/// key when enabled — stored hashed, created once. An existing demo key gets the
/// documented demo limits back ([`KeyLimits::demo`]): `--demo-key` means the
/// public key with the public limits, whatever they were changed to since; a
/// revoked demo key stays revoked.
pub async fn ensure_bootstrap_keys(
    store: &Store,
    config: &ServerConfig,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    for (key, name) in
        [(&config.admin_key, "Bootstrap admin key"), (&config.legacy_api_key, "Legacy API_KEY (imported)")]
    {
        if let Some(k) = key.as_ref().map(|k| k.expose_secret()).filter(|k| !k.is_empty()) {
            let settings = admin_key_settings(config, name, serde_json::json!({"bootstrap": true}));
            store.ensure_key(k, settings, now).await?;
        }
    }
    if config.demo_key {
        let settings = KeySettings {
            name: "Public Demo Key".to_string(),
            email: None,
            is_demo: true,
            scopes: Scopes::new([Scope::Generate, Scope::Read]),
            limits: KeyLimits::demo(),
            expires_at: None,
            metadata: serde_json::json!({"auto_created": true, "public_demo": true}),
        };
        let key = store.ensure_key(config::DEMO_KEY, settings, now).await?;
        let demo = KeyLimits::demo();
        if key.limits() != demo {
            tracing::warn!(
                key_prefix = %key.key_prefix,
                before = ?key.limits(),
                "the demo key's limits were changed; --demo-key resets them to the documented demo limits"
            );
            store.set_key_limits(&key.id, &demo, now).await?;
        }
        if !key.is_active {
            tracing::warn!(key_prefix = %key.key_prefix, "the demo key is revoked; --demo-key does not re-enable it");
        }
    }
    Ok(())
}

/// Runs the service until SIGINT/SIGTERM, then stops workers and requeues their jobs.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    let bind = config.bind;
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    first_run::announce(&state, listener.local_addr()?, &mut std::io::stdout()).await?;
    tracing::info!(address = %listener.local_addr()?, backend = state.store.kind(), instance = %state.config.instance_id, "patientgen serving");
    serve_on(listener, state, shutdown_signal()).await
}

/// Serves on a bound listener until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let workers = jobs::Workers::start(&state);
    let background = [
        jobs::spawn_retention(state.clone()),
        jobs::spawn_cancel_reaper(state.clone()),
        spawn_key_watcher(state.clone()),
        spawn_usage_flusher(state.clone()),
        spawn_redis_watcher(state.clone()),
        jobs::spawn_job_events(state.clone()),
        spawn_metrics_upkeep(state.clone()),
    ];
    let app = routes::router(state.clone());
    axum::serve(http_io::EnvelopeListener(listener), app).with_graceful_shutdown(shutdown).await?;
    for task in background {
        task.abort();
    }
    workers.shutdown(&state).await;
    match state.usage.flush(&state.store).await {
        Ok(n) => tracing::debug!(batches = n, "usage written"),
        Err(e) => {
            tracing::error!(error = %e, batches = state.usage.waiting(), "usage could not be written at shutdown")
        }
    }
    state.store.close().await;
    Ok(())
}

/// Polls the key revision so key changes made anywhere reach this instance
/// within `key_refresh_interval`.
fn spawn_key_watcher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::time::sleep(state.config.key_refresh_interval).await;
            // Every poll is a (debug) span; a change clears the cache in a `keys.refresh` span.
            let poll = tracing::debug_span!("keys.poll");
            match state.store.key_revision().instrument(poll).await {
                Ok(revision) => {
                    failing = false;
                    if state.keys.observe_revision(revision) {
                        tracing::debug!(revision, "API keys changed; cache cleared");
                    }
                }
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot read the key revision; keeping cached keys");
                }
                Err(_) => {}
            }
        }
    })
}

/// Writes usage counters every `usage_flush_interval`.
fn spawn_usage_flusher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(state.config.usage_flush_interval).await;
            if let Err(e) = state.usage.flush(&state.store).await {
                tracing::warn!(error = %e, "usage counters not written yet; will retry");
            }
        }
    })
}

/// Folds recorded histogram samples into their buckets every 5 s. The
/// Prometheus recorder keeps every sample until the next scrape or upkeep, so
/// without it a service nobody scrapes grows by ~24 bytes per request (the
/// soak's memory growth, docs/BENCHMARKS.md).
fn spawn_metrics_upkeep(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            state.metrics.run_upkeep();
        }
    })
}

/// Watches Redis while the limiter is degraded (no-op without Redis).
fn spawn_redis_watcher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { state.limiter.watch_redis(std::time::Duration::from_millis(500)).await })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
