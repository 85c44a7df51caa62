//! The `api_keys` table: keys are stored as SHA-256 hashes plus a display prefix.

use super::{ApiKeyRecord, DailyUsage, KeyFilter, KeyLimits, KeyStats, NewApiKey};
use crate::{StorageError, StorageResult, Store, on_pool};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

macro_rules! key_columns {
    () => {
        "id, key_hash, key_prefix, name, email, is_active, is_demo, scopes, \
    max_patients_per_request, max_requests_per_minute, max_requests_per_hour, max_requests_per_day, \
    max_patients_per_day, total_requests, total_patients_generated, daily_requests, daily_patients, \
    last_used_at, last_reset_at, created_at, updated_at, expires_at, replaced_by, key_metadata"
    };
}

fn unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

impl Store {
    /// Inserts an active key; a second key with the same hash is a [`StorageError::Conflict`].
    pub async fn insert_key(&self, key: &NewApiKey, now: DateTime<Utc>) -> StorageResult<ApiKeyRecord> {
        let sql = concat!(
            "INSERT INTO api_keys (id, key_hash, key_prefix, name, email, is_active, is_demo, scopes, \
             max_patients_per_request, max_requests_per_minute, max_requests_per_hour, max_requests_per_day, \
             max_patients_per_day, last_reset_at, created_at, updated_at, expires_at, key_metadata) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13, $14, $15) RETURNING ",
            key_columns!(),
            ""
        );
        let result = on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiKeyRecord>(sql)
                .bind(&key.id)
                .bind(&key.key_hash)
                .bind(&key.key_prefix)
                .bind(&key.settings.name)
                .bind(&key.settings.email)
                .bind(key.settings.is_demo)
                .bind(key.settings.scopes.to_string())
                .bind(key.settings.limits.max_patients_per_request)
                .bind(key.settings.limits.max_requests_per_minute)
                .bind(key.settings.limits.max_requests_per_hour)
                .bind(key.settings.limits.max_requests_per_day)
                .bind(key.settings.limits.max_patients_per_day)
                .bind(now)
                .bind(key.settings.expires_at)
                .bind(Json(&key.settings.metadata))
                .fetch_one(pool)
                .await
        });
        result.map_err(
            |e| if unique_violation(&e) { StorageError::Conflict("API key".into()) } else { e.into() },
        )
    }

    /// A key by the hash of its value.
    pub async fn find_key_by_hash(&self, hash: &str) -> StorageResult<Option<ApiKeyRecord>> {
        let sql = concat!("SELECT ", key_columns!(), " FROM api_keys WHERE key_hash = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, ApiKeyRecord>(sql)
            .bind(hash)
            .fetch_optional(pool)
            .await?))
    }

    /// A key by id, or by id prefix (at least 8 characters, any case); a
    /// prefix shared by several keys is [`StorageError::Ambiguous`].
    pub async fn get_key(&self, id: &str) -> StorageResult<Option<ApiKeyRecord>> {
        let sql = concat!("SELECT ", key_columns!(), " FROM api_keys WHERE id = $1 OR id LIKE $2 LIMIT 2");
        let id = id.to_lowercase();
        // Ids are UUIDs: hex digits and hyphens; anything else cannot match a prefix.
        let prefix_ok = id.len() >= 8 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        let like = if prefix_ok { format!("{id}%") } else { String::new() };
        let rows: Vec<ApiKeyRecord> = on_pool!(self, |pool| sqlx::query_as::<_, ApiKeyRecord>(sql)
            .bind(&id)
            .bind(&like)
            .fetch_all(pool)
            .await?);
        if let Some(exact) = rows.iter().position(|r| r.id == id) {
            return Ok(rows.into_iter().nth(exact));
        }
        match rows.len() {
            0 | 1 => Ok(rows.into_iter().next()),
            _ => Err(StorageError::Ambiguous(format!(
                "several API keys start with '{id}'; give more of the id"
            ))),
        }
    }

    /// Keys matching a filter, newest first.
    pub async fn list_keys(&self, filter: &KeyFilter) -> StorageResult<Vec<ApiKeyRecord>> {
        let sql = concat!(
            "SELECT ",
            key_columns!(),
            " FROM api_keys WHERE ($1 = FALSE OR is_active) AND ($2 = FALSE OR is_demo) \
             AND ($3 = '' OR lower(name) LIKE $3 OR lower(coalesce(email, '')) LIKE $3) \
             ORDER BY created_at DESC, id LIMIT $4"
        );
        let search = filter.search.as_deref().map(|s| format!("%{}%", s.to_lowercase())).unwrap_or_default();
        let limit = if filter.limit <= 0 { i64::MAX } else { filter.limit };
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiKeyRecord>(sql)
                .bind(filter.active_only)
                .bind(filter.demo_only)
                .bind(&search)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Sets the active flag; returns whether the key exists.
    pub async fn set_key_active(&self, id: &str, active: bool, now: DateTime<Utc>) -> StorageResult<bool> {
        let sql = "UPDATE api_keys SET is_active = $1, updated_at = $2 WHERE id = $3";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// Deletes a key; returns whether it existed.
    pub async fn delete_key(&self, id: &str) -> StorageResult<bool> {
        let done = on_pool!(self, |pool| sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// Replaces a key's limits.
    pub async fn set_key_limits(
        &self,
        id: &str,
        limits: &KeyLimits,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let sql = "UPDATE api_keys SET max_patients_per_request = $1, max_requests_per_minute = $2, \
                   max_requests_per_hour = $3, max_requests_per_day = $4, max_patients_per_day = $5, updated_at = $6 WHERE id = $7";
        let done = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(limits.max_patients_per_request)
                .bind(limits.max_requests_per_minute)
                .bind(limits.max_requests_per_hour)
                .bind(limits.max_requests_per_day)
                .bind(limits.max_patients_per_day)
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Sets (or clears) a key's expiry.
    pub async fn set_key_expiry(
        &self,
        id: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let sql = "UPDATE api_keys SET expires_at = $1, updated_at = $2 WHERE id = $3";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(expires_at)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// Records that `old` was replaced by `new` and ends `old` at `until`.
    pub async fn mark_key_rotated(
        &self,
        old: &str,
        new: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let sql = "UPDATE api_keys SET replaced_by = $1, expires_at = CASE WHEN expires_at IS NULL OR expires_at > $2 THEN $2 ELSE expires_at END, \
                   updated_at = $3 WHERE id = $4";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(new)
            .bind(until)
            .bind(now)
            .bind(old)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// Adds usage to a key's counters; daily counters restart when `day_start`
    /// is after the last reset.
    pub async fn add_key_usage(
        &self,
        id: &str,
        requests: i64,
        patients: i64,
        last_used: DateTime<Utc>,
        day_start: DateTime<Utc>,
    ) -> StorageResult<()> {
        let sql = "UPDATE api_keys SET \
            daily_requests = CASE WHEN last_reset_at < $1 THEN $2 ELSE daily_requests + $2 END, \
            daily_patients = CASE WHEN last_reset_at < $1 THEN $3 ELSE daily_patients + $3 END, \
            last_reset_at = CASE WHEN last_reset_at < $1 THEN $1 ELSE last_reset_at END, \
            total_requests = total_requests + $2, total_patients_generated = total_patients_generated + $3, \
            last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $4 THEN $4 ELSE last_used_at END \
            WHERE id = $5";
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(day_start)
                .bind(requests)
                .bind(patients)
                .bind(last_used)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A key's daily counters as stored now (`None`: no such key).
    pub async fn daily_usage(&self, id: &str) -> StorageResult<Option<DailyUsage>> {
        let sql = "SELECT daily_requests, daily_patients, last_reset_at FROM api_keys WHERE id = $1";
        let row: Option<(i64, i64, DateTime<Utc>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(|(requests, patients, since)| DailyUsage { requests, patients, since }))
    }

    /// The key revision: bumped (by database triggers) on every change to a key
    /// that affects authentication or limits, whoever makes it.
    pub async fn key_revision(&self) -> StorageResult<i64> {
        let sql = "SELECT revision FROM api_key_revision WHERE id = 1";
        let row: Option<(i64,)> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_optional(pool).await?);
        Ok(row.map_or(0, |r| r.0))
    }

    /// Expired keys (for cleanup).
    pub async fn expired_keys(&self, now: DateTime<Utc>) -> StorageResult<Vec<ApiKeyRecord>> {
        let sql = concat!(
            "SELECT ",
            key_columns!(),
            " FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, ApiKeyRecord>(sql).bind(now).fetch_all(pool).await?))
    }

    /// Aggregates over all keys; "recently used" means since `since`.
    pub async fn key_stats(&self, since: DateTime<Utc>) -> StorageResult<KeyStats> {
        let sql = "SELECT CAST(COUNT(*) AS BIGINT), \
            CAST(COALESCE(SUM(CASE WHEN is_active THEN 1 ELSE 0 END), 0) AS BIGINT), \
            CAST(COALESCE(SUM(CASE WHEN is_demo THEN 1 ELSE 0 END), 0) AS BIGINT), \
            CAST(COALESCE(SUM(CASE WHEN last_used_at IS NOT NULL AND last_used_at >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
            CAST(COALESCE(SUM(total_requests), 0) AS BIGINT), \
            CAST(COALESCE(SUM(total_patients_generated), 0) AS BIGINT) FROM api_keys";
        let row: (i64, i64, i64, i64, i64, i64) =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(since).fetch_one(pool).await?);
        Ok(KeyStats {
            total_keys: row.0,
            active_keys: row.1,
            demo_keys: row.2,
            live_keys: row.0 - row.2,
            recently_used_keys: row.3,
            total_requests_all_time: row.4,
            total_patients_all_time: row.5,
        })
    }
}
