//! Connecting, pooling and migrating.

use crate::{StorageError, StorageResult};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// Connection-pool settings (`DATABASE_POOL_*`).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long to wait for a free connection.
    pub acquire_timeout: Duration,
    /// Close connections idle for longer than this.
    pub idle_timeout: Option<Duration>,
    /// Replace connections older than this.
    pub max_lifetime: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        }
    }
}

/// The database behind a store.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// PostgreSQL.
    Postgres(PgPool),
    /// Embedded SQLite file.
    Sqlite(SqlitePool),
}

/// The database handle shared by the service, its workers and the CLI.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// The PostgreSQL schema holding our tables (see [`crate::schema`]).
    schema: Option<String>,
    /// Where job files live on the embedded backend.
    data_dir: Option<PathBuf>,
}

impl Store {
    /// Connects to `database_url` (`postgres://…`, `sqlite://…`), or to the embedded
    /// SQLite file `<data_dir>/patientgen.db` when the URL is `None`. On
    /// PostgreSQL every connection works in our own schema: the one the URL
    /// names (`options=-c search_path=<schema>`), else `patientgen`.
    pub async fn connect(
        database_url: Option<&str>,
        data_dir: &Path,
        pool: &PoolSettings,
    ) -> StorageResult<Self> {
        match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let mut options = PgConnectOptions::from_str(url)
                    .map_err(|e| StorageError::Config(format!("DATABASE_URL: {e}")))?
                    .application_name("patientgen");
                let schema = match crate::schema::schema_in_options(options.get_options()) {
                    Some(schema) => schema,
                    None => {
                        options = options.options([("search_path", crate::schema::DEFAULT_SCHEMA)]);
                        crate::schema::DEFAULT_SCHEMA.to_string()
                    }
                };
                let pg = PgPoolOptions::new()
                    .max_connections(pool.max_connections)
                    .acquire_timeout(pool.acquire_timeout)
                    .idle_timeout(pool.idle_timeout)
                    .max_lifetime(pool.max_lifetime)
                    .connect_with(options.clone())
                    .await;
                let pg = match pg {
                    Ok(pg) => pg,
                    Err(e) => return Err(first_connection_error(&options, pool.acquire_timeout, e).await),
                };
                Ok(Self { backend: Backend::Postgres(pg), schema: Some(schema), data_dir: None })
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StorageError::Config(format!("DATABASE_URL: {e}")))?;
                let dir = options.get_filename().parent().map(Path::to_path_buf).unwrap_or_default();
                Self::sqlite(options, dir, pool).await
            }
            Some(other) => Err(StorageError::Config(format!(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got '{}')",
                other.split(':').next().unwrap_or("")
            ))),
            None => {
                std::fs::create_dir_all(data_dir)?;
                let options = SqliteConnectOptions::new().filename(data_dir.join("patientgen.db"));
                Self::sqlite(options, data_dir.to_path_buf(), pool).await
            }
        }
    }

    async fn sqlite(options: SqliteConnectOptions, dir: PathBuf, pool: &PoolSettings) -> StorageResult<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let lite = SqlitePoolOptions::new()
            .max_connections(pool.max_connections.max(2))
            .acquire_timeout(pool.acquire_timeout)
            .idle_timeout(pool.idle_timeout)
            .max_lifetime(pool.max_lifetime)
            .connect_with(options)
            .await?;
        Ok(Self { backend: Backend::Sqlite(lite), schema: None, data_dir: Some(dir) })
    }

    /// Applies pending migrations; running it again is harmless. On
    /// PostgreSQL the schema is created if needed and looked at first: tables
    /// patientgen did not create, or patientgen's tables left in `public`, stop
    /// it with a [`StorageError::Schema`] saying what was found.
    pub async fn migrate(&self) -> StorageResult<()> {
        match &self.backend {
            Backend::Postgres(pool) => {
                crate::schema::migrate(
                    pool,
                    self.schema().unwrap_or(crate::schema::DEFAULT_SCHEMA),
                    &POSTGRES_MIGRATIONS,
                )
                .await?
            }
            Backend::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The PostgreSQL schema holding our tables (`None` on SQLite).
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Moves patientgen's tables from schema `from` (e.g. `public`, where
    /// versions before the own schema kept them) into this store's schema, in
    /// one transaction; returns what was moved. PostgreSQL only.
    pub async fn move_tables_from(&self, from: &str) -> StorageResult<Vec<String>> {
        match (&self.backend, self.schema()) {
            (Backend::Postgres(pool), Some(schema)) => {
                crate::schema::move_from(pool, from, schema, &POSTGRES_MIGRATIONS).await
            }
            _ => Err(StorageError::Config("moving tables between schemas needs PostgreSQL".into())),
        }
    }

    /// Versions of the migrations applied, in order.
    pub async fn applied_migrations(&self) -> StorageResult<Vec<i64>> {
        let sql = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
        let rows: Vec<(i64,)> = crate::on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Number of migrations this build knows.
    pub fn known_migrations(&self) -> usize {
        match &self.backend {
            Backend::Postgres(_) => POSTGRES_MIGRATIONS.iter().count(),
            Backend::Sqlite(_) => SQLITE_MIGRATIONS.iter().count(),
        }
    }

    /// The database pool, for the backend-specific statements.
    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    /// `postgres` or `sqlite`.
    pub fn kind(&self) -> &'static str {
        match &self.backend {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    /// The embedded data directory (SQLite only).
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// `SELECT 1`.
    pub async fn ping(&self) -> StorageResult<()> {
        crate::on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// The database server's version string.
    pub async fn server_version(&self) -> StorageResult<String> {
        let v: (String,) = match &self.backend {
            Backend::Postgres(pool) => sqlx::query_as("SELECT version()").fetch_one(pool).await?,
            Backend::Sqlite(pool) => {
                sqlx::query_as("SELECT 'SQLite ' || sqlite_version()").fetch_one(pool).await?
            }
        };
        Ok(v.0)
    }

    /// (size, idle) connections of the pool.
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.backend {
            Backend::Postgres(p) => (p.size(), p.num_idle()),
            Backend::Sqlite(p) => (p.size(), p.num_idle()),
        }
    }

    /// Maximum pool size.
    pub fn pool_max(&self) -> u32 {
        match &self.backend {
            Backend::Postgres(p) => p.options().get_max_connections(),
            Backend::Sqlite(p) => p.options().get_max_connections(),
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Postgres(p) => p.close().await,
            Backend::Sqlite(p) => p.close().await,
        }
    }
}

/// Why the pool could not open its first PostgreSQL connection, naming where
/// it tried. The pool reports only that it timed out (after retrying for the
/// acquire timeout), so one direct attempt is made to learn the cause
/// (connection refused, unknown host, authentication…).
async fn first_connection_error(
    options: &PgConnectOptions,
    timeout: Duration,
    e: sqlx::Error,
) -> StorageError {
    use sqlx::ConnectOptions;
    let target = match options.get_socket() {
        Some(socket) => format!("socket {}", socket.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let cause = match e {
        sqlx::Error::PoolTimedOut => match tokio::time::timeout(timeout, options.connect()).await {
            Ok(Err(cause)) => cause.to_string(),
            Ok(Ok(_)) => format!("no connection within {timeout:?}; a direct attempt then succeeded"),
            Err(_) => format!("no answer within {timeout:?}"),
        },
        other => other.to_string(),
    };
    let database = options.get_database().map(|d| format!(" (database {d})")).unwrap_or_default();
    StorageError::Unavailable(crate::DatabaseError::from_message(format!(
        "cannot connect to PostgreSQL at {target}{database}: {cause}"
    )))
}
