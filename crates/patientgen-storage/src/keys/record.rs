//! Stored keys and keys to store.

use super::{KeySettings, Scope, Scopes};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ApiKeyRecord {
    /// Its id (a UUID); keys are named by it or an 8-character prefix.
    pub id: String,
    /// SHA-256 of the key, hex.
    #[serde(skip)]
    pub key_hash: String,
    /// First characters of the key, for display.
    pub key_prefix: String,
    /// Shown in listings.
    pub name: String,
    /// Who to contact about the key.
    pub email: Option<String>,
    /// Active flag.
    pub is_active: bool,
    /// Demo key.
    pub is_demo: bool,
    /// What the key may do (stored as comma-separated names).
    #[sqlx(try_from = "String")]
    pub scopes: Scopes,
    /// Most patients one request may ask for (400 above it).
    pub max_patients_per_request: i32,
    /// Requests per UTC minute (429 above it).
    pub max_requests_per_minute: i32,
    /// Requests per UTC hour (429 above it).
    pub max_requests_per_hour: i32,
    /// Requests per day (none = unlimited).
    pub max_requests_per_day: Option<i32>,
    /// Patients per day (none = unlimited).
    pub max_patients_per_day: Option<i32>,
    /// Requests made.
    pub total_requests: i64,
    /// Patients generated, all time.
    pub total_patients_generated: i64,
    /// Requests today.
    pub daily_requests: i64,
    /// Patients today.
    pub daily_patients: i64,
    /// Last request.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Start of the current daily counters.
    pub last_reset_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its settings last changed.
    pub updated_at: DateTime<Utc>,
    /// When it stops working (never when `None`).
    pub expires_at: Option<DateTime<Utc>>,
    /// The key that replaced this one (rotation).
    pub replaced_by: Option<String>,
    /// Free-form metadata: `bootstrap`, `imported`, `rotated_from`…
    #[sqlx(json)]
    pub key_metadata: serde_json::Value,
}

impl ApiKeyRecord {
    /// Whether the key has a scope (`admin` implies every scope).
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.allows(scope)
    }

    /// Whether the key has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// The key's limits.
    pub fn limits(&self) -> KeyLimits {
        KeyLimits {
            max_patients_per_request: self.max_patients_per_request,
            max_requests_per_minute: self.max_requests_per_minute,
            max_requests_per_hour: self.max_requests_per_hour,
            max_requests_per_day: self.max_requests_per_day,
            max_patients_per_day: self.max_patients_per_day,
        }
    }
}

/// A key's daily usage counters as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyUsage {
    /// Requests counted since `since`.
    pub requests: i64,
    /// Patients counted since `since`.
    pub patients: i64,
    /// Start of the UTC day these counters belong to.
    pub since: DateTime<Utc>,
}

/// What a key may use: patients per request, requests per window, patients per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLimits {
    /// Most patients one request may ask for.
    pub max_patients_per_request: i32,
    /// Requests per UTC minute.
    pub max_requests_per_minute: i32,
    /// Requests per UTC hour.
    pub max_requests_per_hour: i32,
    /// Requests per UTC day (`None`: unlimited).
    pub max_requests_per_day: Option<i32>,
    /// Patients per UTC day (`None`: unlimited).
    pub max_patients_per_day: Option<i32>,
}

impl Default for KeyLimits {
    /// Upstream's defaults: 1000 patients/request, 60/min, 1000/h, unlimited per day.
    fn default() -> Self {
        Self {
            max_patients_per_request: 1000,
            max_requests_per_minute: 60,
            max_requests_per_hour: 1000,
            max_requests_per_day: None,
            max_patients_per_day: None,
        }
    }
}

impl KeyLimits {
    /// Upstream's demo limits: 50 patients/request, 10/min, 50/h, 100/day.
    pub fn demo() -> Self {
        Self {
            max_patients_per_request: 50,
            max_requests_per_minute: 10,
            max_requests_per_hour: 50,
            max_requests_per_day: Some(100),
            max_patients_per_day: None,
        }
    }
}

/// A key to insert: its id, what identifies its value, and its settings.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Its id (a UUID).
    pub id: String,
    /// SHA-256 hex of the key's value.
    pub key_hash: String,
    /// The value's display form (see [`display_prefix`](super::display_prefix)).
    pub key_prefix: String,
    /// Everything else about it.
    pub settings: KeySettings,
}

/// Filters for listing keys.
#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    /// Only active keys.
    pub active_only: bool,
    /// Only demo keys.
    pub demo_only: bool,
    /// Substring of name or email.
    pub search: Option<String>,
    /// Maximum rows.
    pub limit: i64,
}

/// Aggregate figures over keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyStats {
    /// All keys.
    pub total_keys: i64,
    /// Keys not deactivated (expired ones included).
    pub active_keys: i64,
    /// Demo keys (`is_demo`).
    pub demo_keys: i64,
    /// Non-demo keys.
    pub live_keys: i64,
    /// Keys used within the period.
    pub recently_used_keys: i64,
    /// Requests by every key, all time.
    pub total_requests_all_time: i64,
    /// Patients generated by every key, all time.
    pub total_patients_all_time: i64,
}
