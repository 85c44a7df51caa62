//! API keys without HTTP: the key format and its checksum ([`format`]), what a
//! key may do ([`Scope`]), the stored rows ([`ApiKeyRecord`], [`NewApiKey`]),
//! the `api_keys` table, and how keys are made — generated, imported,
//! bootstrapped or rotated. The service authenticates with these, the `keys`
//! CLI manages them; neither builds a key row itself.

mod format;
mod lifecycle;
mod record;
mod scope;
mod table;

pub use format::{
    KeyKind, checksum_valid, display_prefix, generate_key, hash_key, key_digest, looks_generated,
};
pub use lifecycle::{KeySettings, check_importable};
pub use record::{ApiKeyRecord, DailyUsage, KeyFilter, KeyLimits, KeyStats, NewApiKey};
pub use scope::{Scope, Scopes, UnknownScope};

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The operating system's random source failed.
    #[error("no secure random numbers")]
    NoRandomness,
    /// An imported key is too short, too long or contains spaces.
    #[error("the key must be 8-256 characters without spaces")]
    BadLength,
    /// An imported key claims our format but its checksum is wrong.
    #[error("this looks like a patientgen key but its checksum is wrong")]
    BadChecksum,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] crate::StorageError),
}
