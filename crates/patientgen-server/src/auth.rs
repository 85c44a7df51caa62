//! API keys: the `X-API-Key` header, the key format, hashing, scopes and the
//! bootstrap keys.
//!
//! Format: `sk_live_` or `sk_demo_`, 43 base62 characters (256 random bits),
//! `_`, and a 6-character base62 checksum of the rest. A value that looks like
//! our format but fails the checksum is rejected without touching the
//! database. Keys are stored as SHA-256 hex plus a short display prefix; other
//! values (upstream's demo key, a bootstrap or imported key) are looked up by
//! hash.

use crate::error::ApiError;
pub use crate::keycache::AuthKey;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use patientgen_storage::{ApiKeyRecord, KeyLimits, NewApiKey, StorageError, Store};
use rand::TryRng;
use sha2::{Digest, Sha256};
use std::sync::Arc;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;

/// Kinds of generated keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `sk_live_…`.
    Live,
    /// `sk_demo_…`.
    Demo,
}

impl KeyKind {
    fn prefix(self) -> &'static str {
        match self {
            KeyKind::Live => "sk_live_",
            KeyKind::Demo => "sk_demo_",
        }
    }
}

/// Writes `bytes` as a big number in base 62 into `out` (fixed width).
fn base62_into(bytes: &[u8], out: &mut [u8]) {
    let mut digits = [0u8; 32];
    let digits = &mut digits[..bytes.len().min(32)];
    digits.copy_from_slice(&bytes[..digits.len()]);
    for slot in out.iter_mut().rev() {
        let mut rem = 0u32;
        for d in digits.iter_mut() {
            let acc = (rem << 8) | u32::from(*d);
            *d = (acc / 62) as u8;
            rem = acc % 62;
        }
        *slot = BASE62[rem as usize];
    }
}

fn base62(bytes: &[u8], len: usize) -> String {
    let mut out = vec![b'0'; len];
    base62_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The checksum of a key body, without allocating.
fn checksum(text: &str) -> [u8; CHECK_LEN] {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; CHECK_LEN];
    base62_into(&digest[..5], &mut out);
    out
}

/// A new random key of `kind`.
pub fn generate_key(kind: KeyKind) -> Result<String, ApiError> {
    let mut random = [0u8; 32];
    rand::rngs::SysRng.try_fill_bytes(&mut random).map_err(|_| ApiError::internal())?;
    let body = format!("{}{}", kind.prefix(), base62(&random, BODY_LEN));
    let check = checksum(&body);
    Ok(format!("{body}_{}", String::from_utf8_lossy(&check)))
}

/// Whether a value claims our format (then its checksum must hold).
pub fn looks_generated(key: &str) -> bool {
    key.starts_with("sk_live_") || key.starts_with("sk_demo_")
}

/// Whether a value in our format has a valid checksum.
pub fn checksum_valid(key: &str) -> bool {
    let Some((body, check)) = key.rsplit_once('_') else { return false };
    body.len() == 8 + BODY_LEN
        && check.len() == CHECK_LEN
        && body[8..].bytes().all(|b| b.is_ascii_alphanumeric())
        && checksum(body) == check.as_bytes()
}

/// SHA-256 hex of a key (what the database stores).
pub fn hash_key(key: &str) -> String {
    hex::encode(key_digest(key))
}

/// SHA-256 of a key (what the key cache is keyed by).
pub fn key_digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Upstream's display form: first 8 characters, `...`, last 4.
pub fn display_prefix(key: &str) -> String {
    if key.chars().count() <= 12 {
        format!("{}...", key.chars().take(8).collect::<String>())
    } else {
        let last: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{}...{last}", key.chars().take(8).collect::<String>())
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key.
    pub key: Arc<AuthKey>,
}

impl Caller {
    /// Whether the key has the `admin` scope.
    pub fn is_admin(&self) -> bool {
        self.key.has_scope("admin")
    }

    /// Owner filter for tenant-scoped queries: `None` for admins (see all).
    pub fn owner_filter(&self) -> Option<&str> {
        if self.is_admin() { None } else { Some(&self.key.id) }
    }

    /// Fails with 403 unless the key has `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.key.has_scope(scope) {
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
) -> Result<Arc<AuthKey>, ApiError> {
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
            let found = state.store.find_key_by_hash(&hex::encode(digest)).await.map_err(|e| {
                tracing::error!(error = %e, "API key lookup failed");
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "Database lookup failed. Service temporarily unavailable.",
                )
                .with_header(axum::http::header::RETRY_AFTER, "5")
            })?;
            let found = found.map(|record| Arc::new(AuthKey::new(record)));
            state.keys.insert(digest, generation, found.clone());
            found
        }
    };
    let Some(record) = record else { return Err(invalid()) };
    if !record.is_active {
        return Err(ApiError::unauthorized("API key is inactive", "inactive"));
    }
    if record.is_expired(now) {
        return Err(ApiError::unauthorized("API key has expired", "expired"));
    }
    Ok(record)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The gate has authenticated (and counted) the request already.
        if let Some(Authenticated(outcome)) = parts.extensions.get::<Authenticated>() {
            return outcome.clone();
        }
        let value = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
        let key = authenticate(state, value, state.clock.now()).await;
        crate::metrics::auth_outcome(key.as_ref().map_or_else(|e| e.status.as_u16(), |_| 200));
        Ok(Caller { key: key? })
    }
}

/// The gate's verdict on a request's key, kept in the request's extensions.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<Caller, ApiError>);

/// Makes sure a key with this plaintext exists (hashed), with the given
/// settings; used for the bootstrap admin key and the demo key.
pub async fn ensure_key(
    store: &Store,
    plaintext: &str,
    name: &str,
    scopes: &str,
    limits: KeyLimits,
    is_demo: bool,
    metadata: serde_json::Value,
) -> Result<ApiKeyRecord, StorageError> {
    let hash = hash_key(plaintext);
    if let Some(existing) = store.find_key_by_hash(&hash).await? {
        return Ok(existing);
    }
    let key = NewApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        key_hash: hash.clone(),
        key_prefix: display_prefix(plaintext),
        name: name.to_string(),
        email: None,
        is_demo,
        scopes: scopes.to_string(),
        limits,
        expires_at: None,
        metadata,
    };
    match store.insert_key(&key, Utc::now()).await {
        Ok(k) => Ok(k),
        // Another instance inserted it at the same moment.
        Err(StorageError::Conflict(_)) => {
            store.find_key_by_hash(&hash).await?.ok_or_else(|| StorageError::NotFound("API key".into()))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_a_valid_checksum() {
        for kind in [KeyKind::Live, KeyKind::Demo] {
            let key = generate_key(kind).expect("random");
            assert!(key.starts_with(kind.prefix()));
            assert_eq!(key.len(), 8 + BODY_LEN + 1 + CHECK_LEN);
            assert!(checksum_valid(&key), "{key}");
            // One changed character breaks it.
            let mut broken: Vec<char> = key.chars().collect();
            broken[12] = if broken[12] == 'a' { 'b' } else { 'a' };
            assert!(!checksum_valid(&broken.iter().collect::<String>()));
        }
        assert_ne!(generate_key(KeyKind::Live).ok(), generate_key(KeyKind::Live).ok());
        assert!(!checksum_valid("sk_live_short_abcdef"));
        assert_eq!(display_prefix("sk_live_abcdefghijklmnop"), "sk_live_...mnop");
        assert_eq!(display_prefix("short"), "short...");
    }

    #[test]
    fn base62_is_fixed_width() {
        assert_eq!(base62(&[0], 3), "000");
        assert_eq!(base62(&[61], 2), "0z");
        assert_eq!(base62(&[1, 0], 3), "048");
    }
}
