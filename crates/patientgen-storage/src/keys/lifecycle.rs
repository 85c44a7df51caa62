//! Making keys: generated, imported from a plaintext, bootstrapped at start,
//! rotated. Every new key row is put together here.

use super::{ApiKeyRecord, KeyError, KeyKind, KeyLimits, NewApiKey, Scopes};
use super::{display_prefix, generate_key, hash_key, looks_generated};
use crate::{StorageError, Store};
use chrono::{DateTime, Utc};

/// Everything about a new key except its value.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// Shown in listings.
    pub name: String,
    /// Who to contact about the key.
    pub email: Option<String>,
    /// A demo key: `sk_demo_` when generated.
    pub is_demo: bool,
    /// What it may do.
    pub scopes: Scopes,
    /// Its request and patient limits.
    pub limits: KeyLimits,
    /// When it stops working (never when `None`).
    pub expires_at: Option<DateTime<Utc>>,
    /// Free-form metadata stored with it.
    pub metadata: serde_json::Value,
}

impl NewApiKey {
    /// The row for a key with this plaintext (stored only as its hash and
    /// display prefix), without checking the plaintext.
    pub fn with_plaintext(plaintext: &str, settings: KeySettings) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            key_hash: hash_key(plaintext),
            key_prefix: display_prefix(plaintext),
            settings,
        }
    }

    /// A new random key (`sk_demo_` for demo keys): the row to insert and the
    /// plaintext, which is shown once and never stored.
    pub fn generate(settings: KeySettings) -> Result<(Self, String), KeyError> {
        let plaintext = generate_key(KeyKind::of(settings.is_demo))?;
        Ok((Self::with_plaintext(&plaintext, settings), plaintext))
    }

    /// An existing plaintext key (e.g. from upstream's table), marked as
    /// imported, if it passes [`check_importable`].
    pub fn import(plaintext: &str, settings: KeySettings) -> Result<Self, KeyError> {
        check_importable(plaintext)?;
        let metadata = serde_json::json!({ "imported": true });
        Ok(Self::with_plaintext(plaintext, KeySettings { metadata, ..settings }))
    }
}

/// Whether a plaintext may be imported as a key: 8–256 characters without
/// spaces, and a valid checksum if it claims our format.
pub fn check_importable(plaintext: &str) -> Result<(), KeyError> {
    if plaintext.len() < 8 || plaintext.len() > 256 || plaintext.chars().any(char::is_whitespace) {
        return Err(KeyError::BadLength);
    }
    if looks_generated(plaintext) && !super::checksum_valid(plaintext) {
        return Err(KeyError::BadChecksum);
    }
    Ok(())
}

impl Store {
    /// Makes sure a key with this plaintext exists (stored hashed): the
    /// service's bootstrap admin key and the public demo key. An existing key
    /// is returned as it is, and a key inserted at the same moment by another
    /// instance counts as existing.
    pub async fn ensure_key(
        &self,
        plaintext: &str,
        settings: KeySettings,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyRecord, StorageError> {
        let key = NewApiKey::with_plaintext(plaintext, settings);
        if let Some(existing) = self.find_key_by_hash(&key.key_hash).await? {
            return Ok(existing);
        }
        match self.insert_key(&key, now).await {
            Ok(k) => Ok(k),
            Err(StorageError::Conflict(_)) => self
                .find_key_by_hash(&key.key_hash)
                .await?
                .ok_or_else(|| StorageError::NotFound("API key".into())),
            Err(e) => Err(e),
        }
    }

    /// Issues a new key with `old`'s settings, named `name` (default
    /// "<old name> (Rotated)"), and ends `old` at `until` (its grace period).
    /// Returns the new key's row and plaintext.
    pub async fn rotate_key(
        &self,
        old: &ApiKeyRecord,
        name: Option<String>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(ApiKeyRecord, String), KeyError> {
        let (key, plaintext) = NewApiKey::generate(KeySettings {
            name: name.unwrap_or_else(|| format!("{} (Rotated)", old.name)),
            email: old.email.clone(),
            is_demo: old.is_demo,
            scopes: old.scopes.clone(),
            limits: old.limits(),
            expires_at: old.expires_at,
            metadata: serde_json::json!({ "rotated_from": old.id }),
        })?;
        let new = self.insert_key(&key, now).await?;
        self.mark_key_rotated(&old.id, &new.id, until, now).await?;
        Ok((new, plaintext))
    }
}
