//! Moving from upstream (medical-patients): its API keys and saved
//! configurations, read from its alembic tables (`api_keys`,
//! `configuration_templates`) and written as ours. Keys are stored hashed on
//! the way in, with their limits, activity and expiry; upstream's keys had no
//! scopes and could generate and read, so they get `generate,read`. Running
//! the import again skips what is already there.

use crate::keys::{
    KeyLimits, KeySettings, NewApiKey, Scope, Scopes, check_importable, display_prefix, hash_key,
};
use crate::schema::quote;
use crate::{NewConfiguration, StorageError, StorageResult, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Where upstream's tables are and what to do with them.
#[derive(Debug, Clone)]
pub struct UpstreamSource {
    /// Upstream's `DATABASE_URL` (`postgres://…`).
    pub database_url: String,
    /// The schema holding its alembic tables (`public` for upstream).
    pub schema: String,
    /// The key that owns imported configurations (`None`: no owner; only
    /// admin keys see them). Upstream's templates were visible to every key.
    pub configurations_owner: Option<String>,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Upstream's id of the row.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Keys imported (their ids are upstream's).
    pub keys_imported: usize,
    /// Of those, imported inactive (as they were upstream).
    pub keys_inactive: usize,
    /// Keys not imported.
    pub keys_skipped: Vec<Skipped>,
    /// Configurations imported (their ids are upstream's).
    pub configurations_imported: usize,
    /// Configurations not imported.
    pub configurations_skipped: Vec<Skipped>,
    /// Upstream tables that were not there.
    pub missing_tables: Vec<String>,
}

type UpstreamKey = (
    String,
    String,
    String,
    Option<String>,
    bool,
    bool,
    i32,
    Option<i32>,
    i32,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
);

type UpstreamConfiguration =
    (String, String, Option<String>, String, String, String, i32, i32, Option<String>, DateTime<Utc>);

async fn columns(pool: &PgPool, schema: &str, table: &str) -> StorageResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

fn json(text: &str, what: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not JSON: {e}"))
}

impl Store {
    /// Copies upstream's API keys and saved configurations into this store.
    pub async fn import_upstream(
        &self,
        source: &UpstreamSource,
        now: DateTime<Utc>,
    ) -> StorageResult<ImportReport> {
        if !(source.database_url.starts_with("postgres://")
            || source.database_url.starts_with("postgresql://"))
        {
            return Err(StorageError::Config(
                "--from must be upstream's PostgreSQL URL (postgres://…); upstream kept nothing else".into(),
            ));
        }
        let upstream = PgPoolOptions::new().max_connections(2).connect(&source.database_url).await?;
        let result = self.import_from(&upstream, source, now).await;
        upstream.close().await;
        result
    }

    async fn import_from(
        &self,
        upstream: &PgPool,
        source: &UpstreamSource,
        now: DateTime<Utc>,
    ) -> StorageResult<ImportReport> {
        let schema = &source.schema;
        let key_columns = columns(upstream, schema, "api_keys").await?;
        let template_columns = columns(upstream, schema, "configuration_templates").await?;
        if key_columns.is_empty() && template_columns.is_empty() {
            return Err(StorageError::Schema(format!(
                "schema \"{schema}\" of the --from database has neither api_keys nor configuration_templates: \
                 not a medical-patients database (or its alembic migrations were never run)"
            )));
        }
        let mut report = ImportReport::default();
        if key_columns.is_empty() {
            report.missing_tables.push("api_keys".into());
        } else {
            self.import_keys(upstream, schema, &key_columns, now, &mut report).await?;
        }
        if template_columns.is_empty() {
            report.missing_tables.push("configuration_templates".into());
        } else {
            self.import_configurations(upstream, source, &template_columns, now, &mut report).await?;
        }
        Ok(report)
    }

    async fn import_keys(
        &self,
        upstream: &PgPool,
        schema: &str,
        present: &[String],
        now: DateTime<Utc>,
        report: &mut ImportReport,
    ) -> StorageResult<()> {
        // The migration names the column `metadata`; the ORM's attribute is `key_metadata`.
        let metadata = ["metadata", "key_metadata"]
            .into_iter()
            .find(|c| present.iter().any(|p| p == c))
            .map_or_else(|| "NULL::text".to_string(), |c| format!("{}::text", quote(c)));
        let sql = format!(
            "SELECT id::text, key, name, email, is_active, is_demo, max_patients_per_request, max_requests_per_day, \
             max_requests_per_minute, max_requests_per_hour, created_at, expires_at, {metadata} \
             FROM {}.api_keys ORDER BY created_at, id",
            quote(schema)
        );
        let rows: Vec<UpstreamKey> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(upstream).await?;
        for (
            id,
            key,
            name,
            email,
            active,
            demo,
            per_request,
            per_day,
            per_minute,
            per_hour,
            created,
            expires,
            meta,
        ) in rows
        {
            let skip = |reason: String| Skipped { id: id.clone(), name: name.clone(), reason };
            if let Err(e) = check_importable(&key) {
                report.keys_skipped.push(skip(e.to_string()));
                continue;
            }
            if self.find_key_by_hash(&hash_key(&key)).await?.is_some() {
                report.keys_skipped.push(skip("already imported (a key with this value exists)".into()));
                continue;
            }
            let upstream_metadata = match meta.as_deref().map(|m| json(m, "metadata")).transpose() {
                Ok(m) => m.unwrap_or_else(|| serde_json::json!({})),
                Err(e) => {
                    report.keys_skipped.push(skip(e));
                    continue;
                }
            };
            let settings = KeySettings {
                name: name.clone(),
                email,
                is_demo: demo,
                scopes: Scopes::new([Scope::Generate, Scope::Read]),
                limits: KeyLimits {
                    max_patients_per_request: per_request,
                    max_requests_per_minute: per_minute,
                    max_requests_per_hour: per_hour,
                    max_requests_per_day: per_day,
                    max_patients_per_day: None,
                },
                expires_at: expires,
                metadata: serde_json::json!({
                    "imported_from": "medical-patients",
                    "upstream_id": id,
                    "upstream_created_at": created,
                    "upstream_metadata": upstream_metadata,
                }),
            };
            let row = NewApiKey {
                id: id.to_lowercase(),
                key_hash: hash_key(&key),
                key_prefix: display_prefix(&key),
                settings,
            };
            match self.insert_key(&row, now).await {
                Ok(_) => {}
                Err(StorageError::Conflict(_)) => {
                    report.keys_skipped.push(skip("a key with this id exists".into()));
                    continue;
                }
                Err(e) => return Err(e),
            }
            if !active {
                self.set_key_active(&row.id, false, now).await?;
                report.keys_inactive += 1;
            }
            report.keys_imported += 1;
        }
        Ok(())
    }

    async fn import_configurations(
        &self,
        upstream: &PgPool,
        source: &UpstreamSource,
        present: &[String],
        now: DateTime<Utc>,
        report: &mut ImportReport,
    ) -> StorageResult<()> {
        let has = |c: &str| present.iter().any(|p| p == c);
        // `version` and `parent_config_id` came with upstream's third migration.
        let version = if has("version") { "version" } else { "1" };
        let parent = if has("parent_config_id") { "parent_config_id::text" } else { "NULL::text" };
        let sql = format!(
            "SELECT id::text, name, description, front_configs::text, facility_configs::text, \
             injury_distribution::text, total_patients, {version}, {parent}, created_at \
             FROM {}.configuration_templates ORDER BY created_at, id",
            quote(&source.schema)
        );
        let rows: Vec<UpstreamConfiguration> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(upstream).await?;
        for (id, name, description, fronts, facilities, injuries, total, version, parent, _created) in rows {
            let skip = |reason: String| Skipped { id: id.clone(), name: name.clone(), reason };
            if self.get_configuration(&id, None).await?.is_some() {
                report
                    .configurations_skipped
                    .push(skip("already imported (a configuration with this id exists)".into()));
                continue;
            }
            let parsed = (|| {
                Ok::<_, String>((
                    json(&fronts, "front_configs")?,
                    json(&facilities, "facility_configs")?,
                    json(&injuries, "injury_distribution")?,
                ))
            })();
            let (front_configs, facility_configs, injury_distribution) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    report.configurations_skipped.push(skip(e));
                    continue;
                }
            };
            let configuration = NewConfiguration {
                name: name.clone(),
                description,
                front_configs,
                facility_configs,
                injury_distribution,
                total_patients: total,
                version,
                parent_config_id: parent,
                extra: serde_json::Map::new(),
            };
            self.insert_configuration(&id, source.configurations_owner.as_deref(), &configuration, now)
                .await?;
            report.configurations_imported += 1;
        }
        Ok(())
    }
}
