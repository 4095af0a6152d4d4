//! The in-memory read cache of a serving node's store.
//!
//! It keeps the rows every request reads (token records, principals, the
//! mount table: entries and their listings; key rows) so that a request for
//! a cached key reads them from memory.
//!
//! Correctness rests on three rules:
//! - every change this process makes to a cached table calls
//!   [`ReadCache::invalidate`] after the change (committed or not);
//! - changes by other processes are found through the store's change
//!   counter, which grows in the same transaction as every change: when a
//!   [sync](ReadCache::observe) reads a value other than the last one seen,
//!   everything is forgotten. An SQLite file has no other writer (this
//!   process holds its lock), so it never needs the counter; PostgreSQL
//!   reads it once per request;
//! - a reader takes the [generation](ReadCache::generation) before it reads
//!   the database and its result is kept only if nothing was forgotten in
//!   between ([`ReadCache::keep`]), so a value read before a concurrent
//!   commit can never outlive it.
//!
//! Any change clears the whole cache: changes (rotations, new tokens,
//! approvals) are rare next to the reads, and one rule is easy to get right.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use yaoshi_core::store::KeyRecord;

/// Most rows of one kind kept; beyond it that kind is cleared and refilled
/// (tokens that do not exist are cached as absent, so this bounds what a
/// stream of invalid tokens can occupy).
const MAX_ROWS: usize = 16_384;

/// What one read asks for, and what it found.
pub(crate) enum Cached {
    /// An entry by name (`None` if absent).
    Entry(String, Option<Vec<u8>>),
    /// The sorted entry names under a prefix.
    Listing(String, Vec<String>),
    /// A key row by (namespace, name), not destroyed (`None` if absent).
    Key((String, String), Option<KeyRecord>),
}

#[derive(Default)]
struct Rows {
    generation: u64,
    /// The change counter as last read, and when.
    observed: Option<(i64, Instant)>,
    entries: HashMap<String, Option<Vec<u8>>>,
    listings: HashMap<String, Vec<String>>,
    /// Key rows by namespace, then name (looked up without building an
    /// owned pair), and how many there are.
    keys: HashMap<String, HashMap<String, Option<KeyRecord>>>,
    key_rows: usize,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct ReadCache {
    rows: Mutex<Rows>,
}

impl ReadCache {
    fn rows(&self) -> std::sync::MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The generation a reader notes before it reads the database.
    pub(crate) fn generation(&self) -> u64 {
        self.rows().generation
    }

    /// A cached entry (`Some(None)`: known to be absent).
    pub(crate) fn entry(&self, name: &str) -> Option<Option<Vec<u8>>> {
        self.rows().entries.get(name).cloned()
    }

    /// A cached listing of the entries under `prefix`.
    pub(crate) fn listing(&self, prefix: &str) -> Option<Vec<String>> {
        self.rows().listings.get(prefix).cloned()
    }

    /// A cached key row (`Some(None)`: known to be absent).
    pub(crate) fn key(&self, namespace: &str, name: &str) -> Option<Option<KeyRecord>> {
        self.rows().keys.get(namespace)?.get(name).cloned()
    }

    /// Keeps what a read found, unless a change happened since `generation`.
    pub(crate) fn keep(&self, generation: u64, found: Cached) {
        let mut rows = self.rows();
        if rows.generation != generation {
            return;
        }
        match found {
            Cached::Entry(name, value) => bounded_insert(&mut rows.entries, name, value),
            Cached::Listing(prefix, names) => bounded_insert(&mut rows.listings, prefix, names),
            Cached::Key((namespace, name), record) => {
                if rows.key_rows >= MAX_ROWS {
                    rows.keys.clear();
                    rows.key_rows = 0;
                }
                let by_name = rows.keys.entry(namespace).or_default();
                if by_name.insert(name, record).is_none() {
                    rows.key_rows += 1;
                }
            }
        }
    }

    /// Forgets everything; called after every change to a cached table.
    pub(crate) fn invalidate(&self) {
        forget(&mut self.rows());
    }

    /// Notes the change counter just read from the store: a value other
    /// than the last one seen means another process changed something, and
    /// everything is forgotten.
    pub(crate) fn observe(&self, counter: i64) {
        let mut rows = self.rows();
        if rows.observed.map(|(seen, _)| seen) != Some(counter) {
            forget(&mut rows);
        }
        rows.observed = Some((counter, Instant::now()));
    }

    /// Whether the counter was read within `window`.
    pub(crate) fn synced_within(&self, window: Duration) -> bool {
        self.rows()
            .observed
            .is_some_and(|(_, at)| at.elapsed() <= window)
    }
}

fn forget(rows: &mut Rows) {
    rows.generation += 1;
    rows.entries.clear();
    rows.listings.clear();
    rows.keys.clear();
    rows.key_rows = 0;
}

fn bounded_insert<K: Eq + Hash, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= MAX_ROWS {
        map.clear();
    }
    map.insert(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let cache = ReadCache::default();
        let before = cache.generation();
        cache.invalidate(); // a change commits while the read is in flight
        cache.keep(before, Cached::Entry("a".into(), Some(b"old".to_vec())));
        assert_eq!(cache.entry("a"), None);

        let now = cache.generation();
        cache.keep(now, Cached::Entry("a".into(), Some(b"new".to_vec())));
        assert_eq!(cache.entry("a"), Some(Some(b"new".to_vec())));
        cache.keep(now, Cached::Entry("gone".into(), None));
        assert_eq!(cache.entry("gone"), Some(None));
    }

    #[test]
    fn a_change_forgets_every_kind() {
        let cache = ReadCache::default();
        let g = cache.generation();
        cache.keep(g, Cached::Entry("e".into(), None));
        cache.keep(g, Cached::Listing("p/".into(), vec!["p/x".into()]));
        cache.keep(g, Cached::Key(("ns".into(), "k".into()), None));
        assert!(cache.listing("p/").is_some() && cache.key("ns", "k").is_some());
        cache.invalidate();
        assert_eq!(cache.entry("e"), None);
        assert_eq!(cache.listing("p/"), None);
        assert_eq!(cache.key("ns", "k"), None);
    }

    #[test]
    fn another_writers_change_seen_through_the_counter_forgets_everything() {
        let cache = ReadCache::default();
        assert!(!cache.synced_within(Duration::from_secs(60)));
        cache.observe(7);
        let g = cache.generation();
        cache.keep(g, Cached::Entry("e".into(), Some(b"v".to_vec())));
        cache.observe(7); // nothing changed elsewhere
        assert_eq!(cache.entry("e"), Some(Some(b"v".to_vec())));
        assert!(cache.synced_within(Duration::from_secs(60)));
        cache.observe(8); // another node committed a change
        assert_eq!(cache.entry("e"), None);
        // A read that began before the change was seen is not kept.
        cache.keep(g, Cached::Entry("e".into(), Some(b"old".to_vec())));
        assert_eq!(cache.entry("e"), None);
    }

    #[test]
    fn the_row_count_is_bounded() {
        let cache = ReadCache::default();
        let g = cache.generation();
        for i in 0..MAX_ROWS + 10 {
            cache.keep(g, Cached::Entry(format!("token/{i}"), None));
        }
        assert!(cache.rows().entries.len() <= MAX_ROWS);
        assert_eq!(cache.entry(&format!("token/{}", MAX_ROWS + 9)), Some(None));
        for i in 0..MAX_ROWS + 10 {
            cache.keep(
                g,
                Cached::Key((format!("ns{}", i % 3), format!("k{i}")), None),
            );
        }
        let rows = cache.rows();
        let held: usize = rows.keys.values().map(HashMap::len).sum();
        assert!(held <= MAX_ROWS && held == rows.key_rows, "{held}");
        drop(rows);
        assert_eq!(cache.key("ns0", &format!("k{}", MAX_ROWS + 8)), Some(None));
    }
}
