//! Test databases: an embedded SQLite file, and a PostgreSQL schema of its own
//! per test in the database named by `PATIENTGEN_TEST_DATABASE_URL` (set by
//! `scripts/test` and `.ci/run`; tests fail, not skip, without it).
#![allow(dead_code)]

use patientgen_storage::{PoolSettings, Store};
use std::path::Path;

pub fn postgres_url() -> String {
    std::env::var("PATIENTGEN_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("PATIENTGEN_TEST_DATABASE_URL is not set: run the tests with scripts/test (it starts PostgreSQL and Redis)")
    })
}

/// A URL for a fresh, empty schema in the test database.
pub async fn fresh_postgres_schema() -> String {
    let base = postgres_url();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = Store::connect(Some(&base), Path::new("."), &PoolSettings::default()).await.expect("connect to test PostgreSQL");
    if let patientgen_storage::Backend::Postgres(pool) = admin.backend() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(pool).await.expect("create schema");
    }
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

pub async fn postgres() -> Store {
    let url = fresh_postgres_schema().await;
    let store = Store::connect(Some(&url), Path::new("."), &PoolSettings::default()).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

pub async fn sqlite(dir: &Path) -> Store {
    let store = Store::connect(None, dir, &PoolSettings::default()).await.expect("open sqlite");
    store.migrate().await.expect("migrate");
    store
}
