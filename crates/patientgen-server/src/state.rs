//! Shared state of the service.

use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::job_views::JobViews;
use crate::keycache::KeyCache;
use crate::limits::Limiter;
use crate::usage::UsageRecorder;
use metrics_exporter_prometheus::PrometheusHandle;
use patientgen_storage::{ArtifactStore, Store};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Cloneable handle to everything a request or worker needs.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state itself.
pub struct Inner {
    /// Settings, fixed at start.
    pub config: ServerConfig,
    /// Keys, templates, jobs and (on PostgreSQL) job files.
    pub store: Store,
    /// Job files.
    pub artifacts: ArtifactStore,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Wakes idle workers when a job is created on this instance or (on
    /// PostgreSQL, through job events) on another.
    pub wake_workers: Notify,
    /// Start time.
    pub started: Instant,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// API keys by hash.
    pub keys: KeyCache,
    /// Per-key rate limits and quotas.
    pub limiter: Limiter,
    /// Usage counters waiting to be written.
    pub usage: UsageRecorder,
    /// Serialized views of ended jobs and job lists.
    pub job_views: JobViews,
}

impl AppState {
    /// Builds the state.
    pub fn new(
        config: ServerConfig,
        store: Store,
        metrics: PrometheusHandle,
        limiter: Limiter,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let artifacts = ArtifactStore::for_store(&store);
        let keys = KeyCache::new(config.key_cache_capacity, Duration::from_secs(300));
        // The embedded database has no other instance: every change is made here.
        let job_views = JobViews::new(store.kind() == "sqlite");
        Self(Arc::new(Inner {
            config,
            store,
            artifacts,
            metrics,
            wake_workers: Notify::new(),
            started: Instant::now(),
            clock,
            keys,
            limiter,
            usage: UsageRecorder::default(),
            job_views,
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
