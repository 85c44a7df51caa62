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
