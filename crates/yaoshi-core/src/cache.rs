//! A bounded cache of unsealed, parsed key versions.
//!
//! Versions are immutable once written, so an entry keyed by (key id,
//! version) never goes stale; whether a version may still be used is decided
//! from the key's policy, which is read through the store on every request
//! (the store's own row cache is checked against its changes first).
//! Entries hold material in zeroizing buffers and are wiped when evicted, when
//! their key is trimmed or destroyed, and when the node seals.

use crate::key::LoadedVersion;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// Default number of cached versions.
pub const DEFAULT_CAPACITY: usize = 4096;

/// The material cache.
pub struct MaterialCache {
    entries: Mutex<LruCache<(String, i64), Arc<LoadedVersion>>>,
}

impl MaterialCache {
    /// A cache of at most `capacity` versions (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity.max(1)).expect("at least one");
        Self {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<(String, i64), Arc<LoadedVersion>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached version, if present.
    pub fn get(&self, key_id: &str, version: i64) -> Option<Arc<LoadedVersion>> {
        self.lock().get(&(key_id.to_string(), version)).cloned()
    }

    /// Caches a version.
    pub fn insert(&self, key_id: &str, version: i64, loaded: Arc<LoadedVersion>) {
        self.lock().put((key_id.to_string(), version), loaded);
    }

    /// Drops every version of `key_id` below `below` (all when `None`).
    pub fn remove_key(&self, key_id: &str, below: Option<i64>) {
        let mut entries = self.lock();
        let doomed: Vec<_> = entries
            .iter()
            .filter(|((id, v), _)| id == key_id && below.is_none_or(|b| *v < b))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            entries.pop(&k);
        }
    }

    /// Drops everything (on seal).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Number of cached versions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
