//! The `Store` trait: the narrow, async persistence interface every storage
//! back end (SQLite, PostgreSQL) implements, and the records it moves.
//!
//! Records are opaque to the store: key material arrives already sealed by the
//! barrier, metadata as serialised bytes. The store's job is durability,
//! uniqueness of live key names per namespace, and atomic compare-and-set
//! changes so that many nodes can share one database without lost updates.

use crate::audit::chain::ChainAlgorithm;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Lifecycle state of a key as stored (see [`crate::key::KeyState`]).
pub type StateName = String;

/// A namespace and its key-encryption key, sealed under the root key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRecord {
    /// Namespace name (unique).
    pub name: String,
    /// The namespace KEK, sealed by the barrier under the root key.
    #[serde(with = "crate::serde_b64")]
    pub sealed_kek: Vec<u8>,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
}

/// One key's row: identity, lifecycle state and serialised metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Immutable random identifier; bound into every version's sealed material.
    pub id: String,
    /// Namespace the key belongs to.
    pub namespace: String,
    /// Name, unique among the namespace's keys that are not destroyed.
    pub name: String,
    /// `active`, `disabled`, `soft-deleted` or `destroyed`.
    pub state: StateName,
    /// Incremented by every change; the compare-and-set token.
    pub generation: i64,
    /// Serialised key policy (JSON), public data only.
    #[serde(with = "crate::serde_b64")]
    pub metadata: Vec<u8>,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
    /// Unix time (seconds) of the last change.
    pub updated_at: i64,
}

/// One key version's material, sealed by the barrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The owning key's [`KeyRecord::id`].
    pub key_id: String,
    /// Version number, starting at 1.
    pub version: i64,
    /// Barrier-sealed material; `None` once the version has been erased.
    #[serde(with = "crate::serde_b64::option")]
    pub sealed_material: Option<Vec<u8>>,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
}

/// An atomic change to one key: its new row plus version inserts/erasures.
///
/// Applied in one transaction. With `expected_generation: None` the key is
/// created and the change fails with [`StoreError::AlreadyExists`] if a key
/// that is not destroyed already has the name. Otherwise the row is updated
/// only if its stored generation equals `expected_generation`, else
/// [`StoreError::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// The key row as it must be after the change (with its new generation).
    pub key: KeyRecord,
    /// `None` to create; `Some(g)` to update a row whose generation is `g`.
    pub expected_generation: Option<i64>,
    /// Versions to insert; an existing (key id, version) is a conflict.
    pub put_versions: Vec<VersionRecord>,
    /// Delete every version row with `version < n` (trim).
    pub delete_versions_below: Option<i64>,
    /// Set `sealed_material` to NULL on every version (destroy).
    pub erase_all_material: bool,
    /// The audit record of the request making the change, appended to the
    /// audit chain in the same transaction (so neither exists without the
    /// other).
    pub audit: Option<(ChainAlgorithm, AuditAppend)>,
}

/// An audit record to append: its time and serialised body (a compact JSON
/// object, see [`crate::audit::record`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAppend {
    /// Unix time (seconds) of the request.
    pub time: i64,
    /// The record's exact bytes; the chain hash covers them.
    pub body: Vec<u8>,
}

/// One stored audit record with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Sequence number, 1, 2, 3, ... with no gaps.
    pub seq: i64,
    /// Unix time (seconds) of the request.
    pub time: i64,
    /// Hash of record `seq - 1` (zeros for the first).
    #[serde(with = "crate::serde_b64")]
    pub prev_hash: Vec<u8>,
    /// [`crate::audit::chain::entry_hash`] of this record.
    #[serde(with = "crate::serde_b64")]
    pub hash: Vec<u8>,
    /// The record's exact bytes.
    #[serde(with = "crate::serde_b64")]
    pub body: Vec<u8>,
}

/// A signed checkpoint of the audit log, with the compact Merkle range
/// needed to extend it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRow {
    /// Number of records the checkpoint covers (1..=tree_size).
    pub tree_size: i64,
    /// Unix time (seconds) it was signed.
    pub time: i64,
    /// The signed checkpoint (JSON).
    #[serde(with = "crate::serde_b64")]
    pub body: Vec<u8>,
    /// The Merkle frontier at `tree_size` (JSON).
    #[serde(with = "crate::serde_b64")]
    pub frontier: Vec<u8>,
}

/// One system entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// Entry name.
    pub name: String,
    /// Its value (opaque bytes).
    #[serde(with = "crate::serde_b64")]
    pub value: Vec<u8>,
}

/// Every row of a deployment as of one instant: what [`Store::snapshot`]
/// reads and [`Store::restore_snapshot`] writes back. Leases are left out:
/// they belong to the running nodes, not to the deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSnapshot {
    /// Every system entry, sorted by name.
    pub entries: Vec<EntryRecord>,
    /// Every namespace.
    pub namespaces: Vec<NamespaceRecord>,
    /// Every key row, destroyed ones included.
    pub keys: Vec<KeyRecord>,
    /// Every version row of every key.
    pub versions: Vec<VersionRecord>,
    /// The audit chain head: last sequence number and its hash.
    pub audit_last_seq: i64,
    /// Hash of record `audit_last_seq` (`None` when nothing was appended).
    #[serde(with = "crate::serde_b64::option")]
    pub audit_last_hash: Option<Vec<u8>>,
    /// Every stored audit record, ascending.
    pub audit_records: Vec<AuditRow>,
    /// Every checkpoint, ascending.
    pub checkpoints: Vec<CheckpointRow>,
}

/// What a store can fail with. Messages never contain stored values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A live key with that name, or a namespace/entry, already exists.
    #[error("already exists")]
    AlreadyExists,
    /// A compare-and-set failed: another writer changed the row first.
    #[error("concurrent modification")]
    Conflict,
    /// The database could not be reached or refused the operation.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data is not in the expected shape.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Persistence for one yaoshi deployment. Every method is atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Short name of the back end (`sqlite`, `postgres`), for health and logs.
    fn backend(&self) -> &'static str;

    /// Reads a system entry (seal configuration, wrapping keys, ...).
    async fn get_entry(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Writes a system entry, replacing any previous value.
    async fn put_entry(&self, name: &str, value: &[u8]) -> StoreResult<()>;
    /// Writes a system entry only if absent; `false` if it already existed.
    async fn insert_entry(&self, name: &str, value: &[u8]) -> StoreResult<bool>;
    /// Removes a system entry; `false` if there was none.
    async fn delete_entry(&self, name: &str) -> StoreResult<bool>;
    /// Names of the entries that start with `prefix`, sorted bytewise.
    ///
    /// The prefix is compared literally: no character in it (`%`, `_`, `*`,
    /// ...) is a wildcard, and the comparison is case-sensitive.
    async fn list_entries(&self, prefix: &str) -> StoreResult<Vec<String>>;

    /// Reads a namespace.
    async fn get_namespace(&self, name: &str) -> StoreResult<Option<NamespaceRecord>>;
    /// Creates a namespace only if absent; `false` if it already existed.
    async fn insert_namespace(&self, namespace: &NamespaceRecord) -> StoreResult<bool>;

    /// Reads the key with this name that is not destroyed.
    async fn get_key(&self, namespace: &str, name: &str) -> StoreResult<Option<KeyRecord>>;
    /// Reads a key by id, whatever its state (destroyed keys included).
    async fn get_key_by_id(&self, id: &str) -> StoreResult<Option<KeyRecord>>;
    /// Names of the namespace's keys that are not destroyed, sorted.
    async fn list_keys(&self, namespace: &str) -> StoreResult<Vec<String>>;
    /// Reads one version of a key.
    async fn get_version(&self, key_id: &str, version: i64) -> StoreResult<Option<VersionRecord>>;
    /// Every stored version of a key, ascending.
    async fn list_versions(&self, key_id: &str) -> StoreResult<Vec<VersionRecord>>;
    /// Applies a [`KeyChange`] atomically (with its audit record, if any).
    async fn apply(&self, change: &KeyChange) -> StoreResult<()>;

    /// Appends records to the audit chain in one transaction: assigns the
    /// next sequence numbers and chains each record to the previous one with
    /// `algorithm`. Several nodes may append at once; the chain stays one
    /// line. Returns the stored rows, in order.
    async fn append_audit(
        &self,
        algorithm: ChainAlgorithm,
        records: &[AuditAppend],
    ) -> StoreResult<Vec<AuditRow>>;
    /// Up to `limit` records with `seq >= from`, ascending.
    async fn read_audit(&self, from: i64, limit: i64) -> StoreResult<Vec<AuditRow>>;
    /// Up to `limit` records with `after < seq` and `start <= time < end`,
    /// ascending.
    async fn read_audit_between(
        &self,
        start: i64,
        end: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRow>>;
    /// The chain head: last sequence number and its hash (`(0, None)` when
    /// nothing was ever appended), and the first stored sequence number.
    async fn audit_head(&self) -> StoreResult<AuditHead>;
    /// Stores a checkpoint unless one of that size exists; `false` then.
    async fn insert_checkpoint(&self, checkpoint: &CheckpointRow) -> StoreResult<bool>;
    /// The checkpoint with the largest tree size.
    async fn latest_checkpoint(&self) -> StoreResult<Option<CheckpointRow>>;
    /// Up to `limit` checkpoints with `tree_size >= from`, ascending.
    async fn list_checkpoints(&self, from: i64, limit: i64) -> StoreResult<Vec<CheckpointRow>>;
    /// Deletes every record with `seq < below`; returns how many.
    async fn prune_audit(&self, below: i64) -> StoreResult<u64>;

    /// Reads every row except leases in one read-only transaction that sees
    /// a single point in time (PostgreSQL: `REPEATABLE READ`; SQLite: one
    /// read transaction), so a backup taken under load is consistent.
    async fn snapshot(&self) -> StoreResult<StoreSnapshot>;
    /// Writes `snapshot` into this store in one transaction, provided the
    /// entry `claim` exists (it is deleted in the same transaction) and the
    /// store holds no namespace, key or audit record yet; the store's
    /// entries are replaced by the snapshot's. `Ok(false)` when `claim` is
    /// gone (another node restored first); [`StoreError::AlreadyExists`]
    /// when the store is not empty.
    async fn restore_snapshot(&self, snapshot: &StoreSnapshot, claim: &str) -> StoreResult<bool>;

    /// Takes the lease `name` for `holder` until `now + ttl_secs` when it is
    /// free or expired (`expires_at <= now`), or renews it when `holder`
    /// already holds it; otherwise leaves it alone. Atomic across nodes: of
    /// concurrent acquirers of a free lease exactly one wins. Returns who
    /// holds the lease afterwards. Times are Unix seconds from the callers'
    /// clocks, which must agree to well within the ttl.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_secs: i64,
        now: i64,
    ) -> StoreResult<LeaseState>;
    /// Gives the lease up if `holder` holds it; `false` if it did not.
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool>;

    /// Brings rows the store keeps in memory up to date with every change
    /// committed so far, by any node. Front ends call it (through
    /// `Kms::sync_changes`) at the start of every request, so a change
    /// acknowledged by one node is seen by the next request on every other. A store that keeps nothing,
    /// or that no other process writes, has nothing to do.
    async fn sync_changes(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Who holds a lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// The holder's identity, as passed to [`Store::acquire_lease`].
    pub holder: String,
    /// Unix time (seconds) at which the lease lapses unless renewed.
    pub expires_at: i64,
}

impl LeaseState {
    /// Whether `holder` holds the lease at `now`.
    pub fn held_by(&self, holder: &str, now: i64) -> bool {
        self.holder == holder && self.expires_at > now
    }
}

/// Where the audit chain stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Last assigned sequence number (0 when none).
    pub last_seq: i64,
    /// Hash of the last record (`None` when none).
    pub last_hash: Option<Vec<u8>>,
    /// Smallest stored sequence number (`None` when no record is stored).
    pub first_stored: Option<i64>,
}
