//! The `configuration_templates` table, scoped by owner key.

use crate::{StorageResult, Store, on_pool};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

/// A stored configuration template: upstream's template fields as the client
/// sent them (validated as a scenario when written), plus the other scenario
/// fields in `extra`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConfigurationRecord {
    /// Its id (a UUID).
    pub id: String,
    /// The key that created it: its owner.
    pub owner_key_id: Option<String>,
    /// Scenario name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// `front_configs` as sent (a list of fronts).
    #[sqlx(json)]
    pub front_configs: serde_json::Value,
    /// `facility_configs` as sent (a list of facilities).
    #[sqlx(json)]
    pub facility_configs: serde_json::Value,
    /// `injury_distribution` as sent (injury type → share).
    #[sqlx(json)]
    pub injury_distribution: serde_json::Value,
    /// Patients to generate.
    pub total_patients: i32,
    /// The client's version number (1 or more).
    pub version: i32,
    /// The template this one was derived from.
    pub parent_config_id: Option<String>,
    /// Other scenario fields (warfare types, tempo…), kept for generation.
    #[sqlx(json)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last replaced.
    pub updated_at: DateTime<Utc>,
}

/// A template to write (the fields of [`ConfigurationRecord`] a client sets).
#[derive(Debug, Clone)]
pub struct NewConfiguration {
    /// Scenario name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// `front_configs` as sent.
    pub front_configs: serde_json::Value,
    /// `facility_configs` as sent.
    pub facility_configs: serde_json::Value,
    /// `injury_distribution` as sent.
    pub injury_distribution: serde_json::Value,
    /// Patients to generate.
    pub total_patients: i32,
    /// The client's version number.
    pub version: i32,
    /// The template it was derived from.
    pub parent_config_id: Option<String>,
    /// Other scenario fields.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

macro_rules! configuration_columns {
    () => {
        "id, owner_key_id, name, description, front_configs, facility_configs, injury_distribution, \
    total_patients, version, parent_config_id, extra, created_at, updated_at"
    };
}

impl Store {
    /// Inserts a template owned by `owner`.
    pub async fn insert_configuration(
        &self,
        id: &str,
        owner: Option<&str>,
        c: &NewConfiguration,
        now: DateTime<Utc>,
    ) -> StorageResult<ConfigurationRecord> {
        let sql = concat!(
            "INSERT INTO configuration_templates (id, owner_key_id, name, description, front_configs, facility_configs, \
             injury_distribution, total_patients, version, parent_config_id, extra, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING ",
            configuration_columns!(),
            ""
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ConfigurationRecord>(sql)
                .bind(id)
                .bind(owner)
                .bind(&c.name)
                .bind(&c.description)
                .bind(Json(&c.front_configs))
                .bind(Json(&c.facility_configs))
                .bind(Json(&c.injury_distribution))
                .bind(c.total_patients)
                .bind(c.version)
                .bind(&c.parent_config_id)
                .bind(Json(&c.extra))
                .bind(now)
                .fetch_one(pool)
                .await?
        }))
    }

    /// A template visible to `owner` (`None`: any owner).
    pub async fn get_configuration(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> StorageResult<Option<ConfigurationRecord>> {
        let sql = concat!(
            "SELECT ",
            configuration_columns!(),
            " FROM configuration_templates WHERE id = $1 AND ($2 IS NULL OR owner_key_id = $2)"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ConfigurationRecord>(sql).bind(id).bind(owner).fetch_optional(pool).await?
        }))
    }

    /// Up to `limit` templates visible to `owner`, by name.
    pub async fn list_configurations(
        &self,
        owner: Option<&str>,
        limit: i64,
    ) -> StorageResult<Vec<ConfigurationRecord>> {
        let sql = concat!(
            "SELECT ",
            configuration_columns!(),
            " FROM configuration_templates WHERE ($1 IS NULL OR owner_key_id = $1) ORDER BY name, id LIMIT $2"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ConfigurationRecord>(sql).bind(owner).bind(limit).fetch_all(pool).await?
        }))
    }

    /// Replaces a template; `None` if it is not visible to `owner`.
    pub async fn update_configuration(
        &self,
        id: &str,
        owner: Option<&str>,
        c: &NewConfiguration,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<ConfigurationRecord>> {
        let sql = concat!(
            "UPDATE configuration_templates SET name = $1, description = $2, front_configs = $3, facility_configs = $4, \
             injury_distribution = $5, total_patients = $6, version = $7, parent_config_id = $8, extra = $9, updated_at = $10 \
             WHERE id = $11 AND ($12 IS NULL OR owner_key_id = $12) RETURNING ",
            configuration_columns!(),
            ""
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ConfigurationRecord>(sql)
                .bind(&c.name)
                .bind(&c.description)
                .bind(Json(&c.front_configs))
                .bind(Json(&c.facility_configs))
                .bind(Json(&c.injury_distribution))
                .bind(c.total_patients)
                .bind(c.version)
                .bind(&c.parent_config_id)
                .bind(Json(&c.extra))
                .bind(now)
                .bind(id)
                .bind(owner)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Deletes a template; returns whether it was visible and deleted.
    pub async fn delete_configuration(&self, id: &str, owner: Option<&str>) -> StorageResult<bool> {
        let sql = "DELETE FROM configuration_templates WHERE id = $1 AND ($2 IS NULL OR owner_key_id = $2)";
        let n =
            on_pool!(self, |pool| sqlx::query(sql).bind(id).bind(owner).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }
}
