//! patientgen-server: the HTTP service — upstream's API v1 on axum, jobs in the
//! database with a worker pool per instance, API keys, OpenAPI and metrics.

pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod metrics;
pub mod models;
pub mod routes;
pub mod state;

pub use config::ServerConfig;
pub use state::AppState;

use patientgen_storage::{KeyLimits, StorageError, Store};

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Database or migrations.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Binding or serving.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects, migrates and makes sure the bootstrap keys exist.
pub async fn build_state(config: ServerConfig) -> Result<AppState, ServeError> {
    let store = Store::connect(config.database_url.as_deref(), &config.data_dir, &config.pool).await?;
    store.migrate().await?;
    ensure_bootstrap_keys(&store, &config).await?;
    Ok(AppState::new(config, store, metrics::install()))
}

/// The admin key from `PATIENTGEN_ADMIN_KEY`, upstream's `API_KEY`, and the demo
/// key when enabled — stored hashed, created once.
pub async fn ensure_bootstrap_keys(store: &Store, config: &ServerConfig) -> Result<(), StorageError> {
    let admin_limits = KeyLimits {
        max_patients_per_request: i32::try_from(config.max_patients_per_job).unwrap_or(i32::MAX),
        max_requests_per_minute: 6000,
        max_requests_per_hour: 100_000,
        max_requests_per_day: None,
        max_patients_per_day: None,
    };
    for (key, name) in
        [(&config.admin_key, "Bootstrap admin key"), (&config.legacy_api_key, "Legacy API_KEY (imported)")]
    {
        if let Some(k) = key.as_deref().filter(|k| !k.is_empty()) {
            auth::ensure_key(
                store,
                k,
                name,
                "admin,generate,read",
                admin_limits,
                false,
                serde_json::json!({"bootstrap": true}),
            )
            .await?;
        }
    }
    if config.demo_key {
        auth::ensure_key(
            store,
            config::DEMO_KEY,
            "Public Demo Key",
            "generate,read",
            KeyLimits::demo(),
            true,
            serde_json::json!({"auto_created": true, "public_demo": true}),
        )
        .await?;
    }
    Ok(())
}

/// Runs the service until SIGINT/SIGTERM, then stops workers and requeues their jobs.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    let bind = config.bind;
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
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
    let retention = jobs::spawn_retention(state.clone());
    let app = routes::router(state.clone());
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    retention.abort();
    workers.shutdown(&state).await;
    state.store.close().await;
    Ok(())
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
