//! Shared state of the service.

use crate::config::ServerConfig;
use metrics_exporter_prometheus::PrometheusHandle;
use patientgen_storage::{ArtifactStore, Store};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// Cloneable handle to everything a request or worker needs.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state itself.
pub struct Inner {
    /// Configuration.
    pub config: ServerConfig,
    /// Database.
    pub store: Store,
    /// Job files.
    pub artifacts: ArtifactStore,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Wakes idle workers when a job is created on this instance.
    pub wake_workers: Notify,
    /// Start time.
    pub started: Instant,
}

impl AppState {
    /// Builds the state.
    pub fn new(config: ServerConfig, store: Store, metrics: PrometheusHandle) -> Self {
        let artifacts = ArtifactStore::for_store(&store);
        Self(Arc::new(Inner {
            config,
            store,
            artifacts,
            metrics,
            wake_workers: Notify::new(),
            started: Instant::now(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
