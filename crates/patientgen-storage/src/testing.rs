//! Test support (feature `test-support`): throwaway databases.

use crate::{Backend, PoolSettings, Store};
use std::path::Path;

/// The PostgreSQL URL tests use (`PATIENTGEN_TEST_DATABASE_URL`, set by
/// `scripts/test` and `.ci/run`). Tests fail, not skip, without it.
pub fn postgres_url() -> String {
    std::env::var("PATIENTGEN_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("PATIENTGEN_TEST_DATABASE_URL is not set: run the tests with scripts/test (it starts PostgreSQL and Redis)")
    })
}

/// A URL for a new, empty schema of the test database, so that tests running
/// at the same time never see each other's rows.
pub async fn fresh_postgres_url() -> String {
    let base = postgres_url();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = Store::connect(Some(&base), Path::new("."), &PoolSettings::default())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL ({base}): {e}"));
    if let Backend::Postgres(pool) = admin.backend() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    }
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A migrated store on a fresh PostgreSQL schema.
pub async fn postgres() -> Store {
    let url = fresh_postgres_url().await;
    let store = Store::connect(Some(&url), Path::new("."), &PoolSettings::default()).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// A migrated embedded store in `dir`.
pub async fn sqlite(dir: &Path) -> Store {
    let store = Store::connect(None, dir, &PoolSettings::default()).await.expect("open sqlite");
    store.migrate().await.expect("migrate");
    store
}

/// Ends the job-event listener connections of `store`'s schema from the
/// server side (as a restart of PostgreSQL or a network cut would); returns
/// how many were ended. Their instances reconnect by themselves.
pub async fn terminate_job_listeners(store: &Store) -> u64 {
    let Backend::Postgres(pool) = store.backend() else { return 0 };
    let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
               WHERE application_name = $1 || ' ' || coalesce(current_schema(), '')";
    let ended: Vec<(bool,)> = sqlx::query_as(sql)
        .bind(crate::jobs::LISTENER_APPLICATION)
        .fetch_all(pool)
        .await
        .expect("terminate listeners");
    ended.into_iter().filter(|(ok,)| *ok).count() as u64
}

/// The job-event listener connections of `store`'s schema now open.
pub async fn job_listeners(store: &Store) -> u64 {
    let Backend::Postgres(pool) = store.backend() else { return 0 };
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity \
               WHERE application_name = $1 || ' ' || coalesce(current_schema(), '')";
    let (n,): (i64,) = sqlx::query_as(sql)
        .bind(crate::jobs::LISTENER_APPLICATION)
        .fetch_one(pool)
        .await
        .expect("count listeners");
    u64::try_from(n).unwrap_or(0)
}

/// `url` with its database name replaced by `database` (query kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{database}?{q}"),
        None => format!("{prefix}/{database}"),
    }
}

async fn admin_pool(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL ({url}): {e}"))
}

/// A new, empty database on the test PostgreSQL server, for tests of the
/// default schema layout (`public` and `patientgen` as a real deployment has
/// them); returns its URL. [`drop_postgres_database`] removes it.
pub async fn fresh_postgres_database() -> String {
    let base = postgres_url();
    let name = format!("pg_{}", uuid::Uuid::new_v4().simple());
    let admin = admin_pool(&base).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    admin.close().await;
    with_database(&base, &name)
}

/// Drops a database made by [`fresh_postgres_database`].
pub async fn drop_postgres_database(url: &str) {
    let name = url.split('?').next().and_then(|b| b.rsplit('/').next()).unwrap_or_default().to_string();
    assert!(name.starts_with("pg_"), "not a test database: {url}");
    let admin = admin_pool(&postgres_url()).await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&admin)
        .await;
    admin.close().await;
}

/// Runs `sql` (any number of statements) on `url` as it is, in the
/// connection's default schema.
pub async fn execute_sql(url: &str, sql: &str) {
    let pool = admin_pool(url).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("SQL failed: {e}"));
    pool.close().await;
}

/// The single BIGINT `sql` answers on `url` (in the connection's default schema).
pub async fn query_i64(url: &str, sql: &str) -> i64 {
    let pool = admin_pool(url).await;
    let row: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("query failed: {e}"));
    pool.close().await;
    row.0
}

/// How `job_file_chunks.data` of `store`'s schema is compressed
/// (`attcompression`: `l` for LZ4, empty for the server's default) and whether
/// the server offers LZ4 at all.
pub async fn chunk_compression(store: &Store) -> (String, bool) {
    let Backend::Postgres(pool) = store.backend() else { return (String::new(), false) };
    let sql = "SELECT attcompression::text, \
                      EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' \
                              AND 'lz4' = ANY (enumvals)) \
               FROM pg_attribute WHERE attrelid = 'job_file_chunks'::regclass AND attname = 'data'";
    sqlx::query_as(sql).fetch_one(pool).await.expect("chunk compression")
}

/// How many migrations this build applies to a PostgreSQL database and to an
/// embedded one, in that order (`patientgen migrate` reports them).
pub fn known_migrations() -> (usize, usize) {
    (crate::store::POSTGRES_MIGRATIONS.iter().count(), crate::store::SQLITE_MIGRATIONS.iter().count())
}

/// The local TCP port of a connection of `store`'s pool (PostgreSQL's
/// `inet_client_port()`); the connection goes back to the pool, still open.
pub async fn pooled_connection_port(store: &Store) -> u16 {
    let Backend::Postgres(pool) = store.backend() else { panic!("a PostgreSQL store") };
    let (port,): (Option<i32>,) =
        sqlx::query_as("SELECT inet_client_port()").fetch_one(pool).await.expect("client port");
    port.and_then(|p| u16::try_from(p).ok()).expect("a TCP connection (not a Unix socket)")
}
