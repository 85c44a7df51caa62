//! A cache of API keys by hash, so a known key costs no database query. It is
//! kept honest by the key revision (bumped by database triggers on every change
//! that matters): each instance polls it and, when it moves, forgets every
//! cached key. Entries carry the generation they were read in and are ignored
//! once it is over, so a lookup that raced with a change is never kept.
//! Unknown keys are cached too (as absent), so guessing costs no query either.

use crate::limits::headers::KeyHeaders;
use moka::sync::Cache;
use patientgen_storage::ApiKeyRecord;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// A key as the cache holds it and requests see it: its row and the response
/// headers that depend only on its settings (computed once per lookup).
#[derive(Debug)]
pub struct CachedKey {
    /// The database row.
    pub record: ApiKeyRecord,
    /// Its limit headers.
    pub headers: KeyHeaders,
}

impl CachedKey {
    /// The key of a row, with its headers.
    pub fn new(record: ApiKeyRecord) -> Self {
        let headers = KeyHeaders::for_key(&record);
        Self { record, headers }
    }
}

/// A cached lookup: the key, or `None` for "no such key".
pub type Lookup = Option<Arc<CachedKey>>;

#[derive(Clone)]
struct Entry {
    generation: u64,
    key: Lookup,
}

/// Keys by hash, bounded in size.
pub struct KeyCache {
    entries: Cache<[u8; 32], Entry>,
    generation: AtomicU64,
    revision: AtomicI64,
}

impl KeyCache {
    /// A cache of at most `capacity` lookups, each kept at most `ttl`.
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            entries: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            generation: AtomicU64::new(0),
            revision: AtomicI64::new(i64::MIN),
        }
    }

    /// The current generation; pass it to [`insert`](Self::insert) for a
    /// lookup started now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A cached lookup of the current generation.
    pub fn get(&self, hash: &[u8; 32]) -> Option<Lookup> {
        let entry = self.entries.get(hash)?;
        (entry.generation == self.generation()).then_some(entry.key)
    }

    /// Keeps a lookup made during `generation`.
    pub fn insert(&self, hash: [u8; 32], generation: u64, key: Lookup) {
        if generation == self.generation() {
            self.entries.insert(hash, Entry { generation, key });
        }
    }

    /// Records the database's key revision; a change forgets every entry.
    /// Returns whether it changed.
    pub fn observe_revision(&self, revision: i64) -> bool {
        let before = self.revision.swap(revision, Ordering::AcqRel);
        if before == revision {
            return false;
        }
        let _span = tracing::info_span!("keys.refresh", from = before, to = revision).entered();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_change_forgets_even_lookups_that_were_in_flight() {
        let cache = KeyCache::new(100, Duration::from_secs(60));
        cache.observe_revision(1);
        let started = cache.generation();
        cache.insert([1; 32], started, None);
        assert!(matches!(cache.get(&[1; 32]), Some(None)));
        // A lookup starts, the keys change, then the lookup finishes.
        let in_flight = cache.generation();
        assert!(cache.observe_revision(2));
        cache.insert([2; 32], in_flight, None);
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[2; 32]).is_none(), "a lookup older than the change is not kept");
        assert!(!cache.observe_revision(2));
    }
}
