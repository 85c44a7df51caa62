//! The `configuration_templates` table, scoped by owner key.

use crate::{StorageResult, Store, on_pool};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

/// A stored configuration template.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConfigurationRecord {
    /// UUID.
    pub id: String,
    /// Key that created it.
    pub owner_key_id: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Fronts.
    pub front_configs: Json<serde_json::Value>,
    /// Facilities.
    pub facility_configs: Json<serde_json::Value>,
    /// Injury mix.
    pub injury_distribution: Json<serde_json::Value>,
    /// Patients.
    pub total_patients: i32,
    /// Version.
    pub version: i32,
    /// Parent template.
    pub parent_config_id: Option<String>,
    /// Other scenario fields (warfare types, tempo…), kept for generation.
    pub extra: Json<serde_json::Value>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// Fields of a template to write.
#[derive(Debug, Clone)]
pub struct NewConfiguration {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Fronts.
    pub front_configs: serde_json::Value,
    /// Facilities.
    pub facility_configs: serde_json::Value,
    /// Injury mix.
    pub injury_distribution: serde_json::Value,
    /// Patients.
    pub total_patients: i32,
    /// Version.
    pub version: i32,
    /// Parent.
    pub parent_config_id: Option<String>,
    /// Other scenario fields.
    pub extra: serde_json::Value,
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
