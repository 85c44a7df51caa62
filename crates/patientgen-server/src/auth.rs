//! Who is calling: the `X-API-Key` header authenticated against the key cache
//! (a miss reads the database once), and the [`Caller`] extractor handlers take
//! (401 without a valid key, 403 without the scope a route needs). The key
//! format, hashing and scopes live in [`patientgen_storage::keys`].

use crate::error::ApiError;
use crate::keycache::CachedKey;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use patientgen_storage::keys::{checksum_valid, key_digest, looks_generated};
use patientgen_storage::{ApiKeyRecord, Scope};
use std::sync::Arc;
use tracing::Instrument;

/// The caller of a request: its authenticated key, as cached.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key with its limit headers.
    pub key: Arc<CachedKey>,
}

impl Caller {
    /// The key's stored row.
    pub fn record(&self) -> &ApiKeyRecord {
        &self.key.record
    }

    /// The key's id: the owner of what it creates.
    pub fn key_id(&self) -> &str {
        &self.key.record.id
    }

    /// Whether the key has the `admin` scope.
    pub fn is_admin(&self) -> bool {
        self.record().has_scope(Scope::Admin)
    }

    /// Owner filter for tenant-scoped queries: `None` for admins (see all).
    pub fn owner_filter(&self) -> Option<&str> {
        if self.is_admin() { None } else { Some(self.key_id()) }
    }

    /// Fails with 403 unless the key has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.record().has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("This API key lacks the '{scope}' scope")))
        }
    }
}

/// Authenticates a key value: `Ok(record)` or the 401/503 to send. A key seen
/// before comes from the [key cache](crate::keycache) without a query.
pub async fn authenticate(
    state: &AppState,
    value: &str,
    now: DateTime<Utc>,
) -> Result<Arc<CachedKey>, ApiError> {
    let invalid = || ApiError::unauthorized("Invalid or inactive API key", "invalid");
    if value.is_empty() {
        return Err(ApiError::unauthorized("Missing API Key", "missing"));
    }
    if value.len() > 256 || (looks_generated(value) && !checksum_valid(value)) {
        return Err(invalid());
    }
    let digest = key_digest(value);
    let record = match state.keys.get(&digest) {
        Some(cached) => cached,
        None => {
            let generation = state.keys.generation();
            let hash = hex::encode(digest);
            let lookup = state.store.find_key_by_hash(&hash);
            let found = lookup.instrument(tracing::info_span!("keys.lookup")).await.map_err(|e| {
                tracing::error!(error = %e, "API key lookup failed");
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "Database lookup failed. Service temporarily unavailable.",
                )
                .with_header(axum::http::header::RETRY_AFTER, "5")
            })?;
            let found = found.map(|record| Arc::new(CachedKey::new(record)));
            state.keys.insert(digest, generation, found.clone());
            found
        }
    };
    let Some(key) = record else { return Err(invalid()) };
    if !key.record.is_active {
        return Err(ApiError::unauthorized("API key is inactive", "inactive"));
    }
    if key.record.is_expired(now) {
        return Err(ApiError::unauthorized("API key has expired", "expired"));
    }
    Ok(key)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The admission middleware has authenticated (and counted) the request already.
        if let Some(AuthVerdict(outcome)) = parts.extensions.get::<AuthVerdict>() {
            return outcome.clone();
        }
        let value = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
        let key = authenticate(state, value, state.clock.now()).await;
        crate::metrics::auth_outcome(key.as_ref().map_or_else(|e| e.status.as_u16(), |_| 200));
        let key = key?;
        crate::telemetry::record_key_id(&key.record.id);
        Ok(Caller { key })
    }
}

/// The admission middleware's verdict on a request's key, kept in the
/// request's extensions for the [`Caller`] extractor.
#[derive(Debug, Clone)]
pub struct AuthVerdict(pub Result<Caller, ApiError>);
