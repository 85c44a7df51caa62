//! patientgen-storage: persistence for the service — API keys, configuration
//! templates, jobs and their output files — on PostgreSQL or an embedded SQLite
//! file, with one ordered migration set per backend.
//!
//! Both backends run the same SQL text (sqlx binds `$1` placeholders on SQLite
//! too); the few statements that differ (claiming jobs with `FOR UPDATE SKIP
//! LOCKED`) are chosen per backend. Timestamps are `DateTime<Utc>`: TIMESTAMPTZ on
//! PostgreSQL, RFC 3339 text on SQLite (which sorts chronologically).

mod artifacts;
mod configurations;
mod jobs;
pub mod keys;
mod observe;
mod schema;
mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod upstream;

pub use artifacts::{ArtifactStore, FileStream};
pub use configurations::{ConfigurationRecord, NewConfiguration};
pub use jobs::{
    Claimed, JobEvent, JobEvents, JobFile, JobOptions, JobRecord, JobStatus, JobSummary, NewJob, Priority,
    Progress, UnknownStatus,
};
pub use keys::{
    ApiKeyRecord, DailyUsage, KeyError, KeyFilter, KeyLimits, KeySettings, KeyStats, NewApiKey, Scope, Scopes,
};
pub(crate) use store::Backend;
pub use store::{PoolSettings, Store};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[source] DatabaseError),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migration(#[source] DatabaseError),
    /// The database schema is not one patientgen can migrate: what was found.
    #[error("{0}")]
    Schema(String),
    /// The database cannot be reached (pool timeout, connection or TLS failure).
    #[error("database error: {0}")]
    Unavailable(#[source] DatabaseError),
    /// The artifact store failed.
    #[error("artifact store error: {0}")]
    Io(#[from] std::io::Error),
    /// The database URL is not usable.
    #[error("{0}")]
    Config(String),
    /// A row that must exist does not.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value already exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// A prefix matches more than one row.
    #[error("{0}")]
    Ambiguous(String),
}

/// The database driver's error, kept as the source of a [`StorageError`]
/// without making the driver part of this crate's interface.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DatabaseError(Box<dyn std::error::Error + Send + Sync>);

impl DatabaseError {
    /// An error described by its message alone.
    pub(crate) fn from_message(message: String) -> Self {
        Self(message.into())
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        let unavailable = matches!(
            e,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_)
        );
        if unavailable {
            StorageError::Unavailable(DatabaseError(e.into()))
        } else {
            StorageError::Database(DatabaseError(e.into()))
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StorageError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StorageError::Migration(DatabaseError(e.into()))
    }
}

impl StorageError {
    /// Whether the error means the database is unreachable (as opposed to a bad query).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StorageError::Unavailable(_))
    }
}

/// Result of storage operations.
pub type StorageResult<T> = Result<T, StorageError>;

/// Runs the same block against whichever pool the store has. The block sees
/// the pool as a [`Timed`](observe::Timed) executor: connection waits are
/// measured (`db_pool_acquire_seconds`).
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store.backend() {
            $crate::store::Backend::Postgres(p) => {
                let $pool = &$crate::observe::Timed(p);
                $body
            }
            $crate::store::Backend::Sqlite(p) => {
                let $pool = &$crate::observe::Timed(p);
                $body
            }
        }
    };
}
pub(crate) use on_pool;
