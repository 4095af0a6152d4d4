//! The `Kms` service: the one entry point every front end calls.
//!
//! Submodules hold one operation family each, like OpenBao's
//! `path_*.go` files: [`seal_ops`] (init, unseal, seal, status),
//! [`lifecycle`] (create, read, list, configure, rotate, trim, delete,
//! restore), [`encryption`] (encrypt, decrypt, rewrap, datakey),
//! [`signing`] (sign, verify, hmac), [`export`] (export, backup, restore of a
//! single key), [`import`] (wrapping keys and BYOK import), [`auth_ops`]
//! (tokens and principals), [`mounts`] (the mount table),
//! [`profile_ops`] (the stored profile and its changes), [`audit_prune`]
//! (retention) and
//! [`compliance_ops`] (`compliance check` and the monthly report).
//!
//! Consistency across nodes: a key's row (policy, state, generation) is read
//! from the store on every request, so a rotation, trim, disable or delete on
//! one node is seen by the next request on every other node. Only immutable
//! data is cached here: unsealed versions (by key id and version) and
//! namespace KEKs. (A store one process holds alone, an SQLite file, may
//! answer those reads from its own memory; see `yaoshi-store`.)

pub mod approvals;
pub mod audit_log;
pub mod audit_ops;
pub mod audit_prune;
pub mod auth_ops;
pub mod backup_ops;
pub mod compliance_ops;
pub mod encryption;
pub mod export;
pub mod import;
pub mod lifecycle;
pub mod mounts;
pub mod profile_ops;
pub mod scheduled;
pub mod seal_ops;
pub mod signing;

use crate::auth::token::TokenKey;
use crate::barrier::{BarrierAlgorithm, BarrierKey, Binding, SECRET_LEN};
use crate::cache::{DEFAULT_CAPACITY, MaterialCache};
use crate::error::{KmsError, KmsResult};
use crate::key::{KeyPolicy, KeyState, KeyType, LoadedVersion, VersionMaterial};
use crate::store::{KeyRecord, NamespaceRecord, Store, StoreError, VersionRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use yaoshi_crypto::{SecretBytes, random};

pub use mounts::Mount;
pub use scheduled::ScheduledRotation;
pub use seal_ops::{InitRequest, InitResult, InitSeal, SealStatus};

/// How many times a compare-and-set change is retried on a conflict.
const CAS_ATTEMPTS: usize = 16;

/// Settings of a `Kms` instance.
#[derive(Debug, Clone)]
pub struct KmsOptions {
    /// Barrier algorithm for a deployment initialised by this node.
    pub barrier: BarrierAlgorithm,
    /// Number of unsealed versions kept in memory.
    pub cache_capacity: usize,
    /// The compliance profile every operation is checked against; its name
    /// is recorded on new keys, and keys created without a type get its
    /// default type (Vault's upsert on encrypt).
    pub profile: crate::profile::Profile,
    /// How this node writes its audit log.
    pub audit: crate::audit::AuditSettings,
    /// Where the deployment's data lives (jurisdiction, locations, backup
    /// targets).
    pub residency: crate::residency::Residency,
    /// Whether the node's API listener serves TLS (compliance evidence).
    pub tls_enabled: bool,
}

impl Default for KmsOptions {
    fn default() -> Self {
        Self {
            barrier: BarrierAlgorithm::Aes256Gcm,
            cache_capacity: DEFAULT_CAPACITY,
            profile: crate::profile::Profile::builtin("default")
                .expect("the shipped default profile is valid"),
            audit: crate::audit::AuditSettings::default(),
            residency: crate::residency::Residency::default(),
            tls_enabled: false,
        }
    }
}

/// The unsealed state: root key, barrier algorithm, token-hashing key and
/// cached KEKs.
struct Unsealed {
    root: BarrierKey,
    barrier: BarrierAlgorithm,
    token_key: TokenKey,
    audit_signer: Arc<crate::audit::AuditSigningKey>,
    keks: Mutex<HashMap<String, Arc<BarrierKey>>>,
}

/// The seal state machine.
enum SealState {
    Sealed {
        progress: Vec<SecretBytes>,
        nonce: Option<String>,
    },
    Unsealed(Arc<Unsealed>),
}

/// A key as read for one request: its row, parsed policy and state.
#[derive(Debug, Clone)]
pub struct KeyHandle {
    /// The stored row.
    pub record: KeyRecord,
    /// The parsed policy.
    pub policy: KeyPolicy,
    /// The lifecycle state.
    pub state: KeyState,
}

impl KeyHandle {
    fn from_record(record: KeyRecord) -> KmsResult<Self> {
        let policy = KeyPolicy::from_bytes(&record.metadata)?;
        let state = KeyState::from_name(&record.state)
            .ok_or_else(|| KmsError::Internal("stored key state is unknown".into()))?;
        Ok(Self {
            record,
            policy,
            state,
        })
    }

    /// Refuses crypto operations on keys that are not active.
    fn require_active(&self) -> KmsResult<()> {
        match self.state {
            KeyState::Active => Ok(()),
            KeyState::Disabled => Err(KmsError::refused(format!(
                "key {:?} is disabled",
                self.record.name
            ))),
            KeyState::SoftDeleted => Err(KmsError::refused(format!(
                "key {:?} is soft-deleted; restore it to use it",
                self.record.name
            ))),
            KeyState::Destroyed => Err(KmsError::KeyNotFound(self.record.name.clone())),
        }
    }
}

/// The key management service.
pub struct Kms {
    store: Arc<dyn Store>,
    options: KmsOptions,
    state: RwLock<SealState>,
    cache: MaterialCache,
    wrapping_keys: Mutex<HashMap<(String, &'static str), Arc<import::WrappingKey>>>,
    /// Type of each recently read key, for front ends' metrics labels.
    key_types: Mutex<lru::LruCache<(String, String), KeyType>>,
    /// The node's audit writer.
    audit_log: crate::audit::log::AuditLog,
    /// The deployment's audit configuration, once read.
    audit_config: Mutex<Option<audit_ops::AuditConfig>>,
    /// The profile in force (starts as `options.profile`; replaced by an
    /// approved profile change).
    profile: RwLock<Arc<crate::profile::Profile>>,
}

/// How many key types [`Kms::recent_key_type`] remembers.
const KEY_TYPE_MEMORY: usize = 4096;

impl core::fmt::Debug for Kms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Kms")
            .field("store", &self.store.backend())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Current Unix time in seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh random identifier (128 bits, hex).
pub(crate) fn new_id() -> KmsResult<String> {
    Ok(hex::encode(random::array::<16>()?))
}

impl Kms {
    /// A sealed service over `store`.
    pub fn new(store: Arc<dyn Store>, options: KmsOptions) -> Self {
        let cache = MaterialCache::new(options.cache_capacity);
        let audit_log = crate::audit::log::AuditLog::new(store.clone(), options.audit.clone());
        Self {
            audit_log,
            audit_config: Mutex::new(None),
            profile: RwLock::new(Arc::new(options.profile.clone())),
            store,
            options,
            state: RwLock::new(SealState::Sealed {
                progress: Vec::new(),
                nonce: None,
            }),
            cache,
            wrapping_keys: Mutex::new(HashMap::new()),
            key_types: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(KEY_TYPE_MEMORY).expect("non-zero constant"),
            )),
        }
    }

    /// The options this instance runs with.
    pub fn options(&self) -> &KmsOptions {
        &self.options
    }

    /// The compliance profile in force.
    pub fn profile(&self) -> Arc<crate::profile::Profile> {
        self.profile
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the profile in force (after an approved change, or when
    /// another node's change is read from the store).
    pub(crate) fn set_profile(&self, profile: crate::profile::Profile) {
        *self.profile.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(profile);
    }

    /// The storage back end.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Number of unsealed versions held in memory.
    pub fn cached_versions(&self) -> usize {
        self.cache.len()
    }

    fn unsealed(&self) -> KmsResult<Arc<Unsealed>> {
        match &*self.state.read().unwrap_or_else(|p| p.into_inner()) {
            SealState::Unsealed(u) => Ok(u.clone()),
            SealState::Sealed { .. } => Err(KmsError::Sealed),
        }
    }

    /// The namespace's KEK, creating the namespace on first use when `create`.
    async fn kek(&self, namespace: &str, create: bool) -> KmsResult<Option<Arc<BarrierKey>>> {
        let unsealed = self.unsealed()?;
        if let Some(k) = lock(&unsealed.keks).get(namespace) {
            return Ok(Some(k.clone()));
        }
        let binding = Binding::NamespaceKek { namespace };
        let record = match self.store.get_namespace(namespace).await? {
            Some(r) => r,
            None if !create => return Ok(None),
            None => {
                let secret = SecretBytes::from_slice(&random::array::<SECRET_LEN>()?);
                let record = NamespaceRecord {
                    name: namespace.to_string(),
                    sealed_kek: unsealed
                        .root
                        .seal(unsealed.barrier, binding, secret.expose())?,
                    created_at: now(),
                };
                if self.store.insert_namespace(&record).await? {
                    record
                } else {
                    self.store
                        .get_namespace(namespace)
                        .await?
                        .ok_or_else(|| KmsError::Internal("namespace vanished".into()))?
                }
            }
        };
        let kek = Arc::new(BarrierKey::new(
            &unsealed.root.open(binding, &record.sealed_kek)?,
        )?);
        lock(&unsealed.keks).insert(namespace.to_string(), kek.clone());
        Ok(Some(kek))
    }

    async fn kek_required(&self, namespace: &str) -> KmsResult<Arc<BarrierKey>> {
        self.kek(namespace, true)
            .await?
            .ok_or_else(|| KmsError::Internal("namespace KEK missing".into()))
    }

    /// Reads a key that is not destroyed.
    async fn key(&self, namespace: &str, name: &str) -> KmsResult<KeyHandle> {
        self.unsealed()?;
        let record = self
            .store
            .get_key(namespace, name)
            .await?
            .ok_or_else(|| KmsError::KeyNotFound(name.to_string()))?;
        let key = KeyHandle::from_record(record)?;
        lock(&self.key_types).put(
            (namespace.to_string(), name.to_string()),
            key.policy.key_type,
        );
        Ok(key)
    }

    /// Brings the store's cached rows up to date with every change committed
    /// so far on any node ([`Store::sync_changes`]). Front ends call it at
    /// the start of every request, so a change acknowledged by one node is
    /// seen by the next request on every other.
    pub async fn sync_changes(&self) -> KmsResult<()> {
        Ok(self.store.sync_changes().await?)
    }

    /// The type of a key as last read by any operation on this node, without
    /// touching storage (front ends label metrics with it). `None` when the
    /// key has not been read recently.
    pub fn recent_key_type(&self, namespace: &str, name: &str) -> Option<KeyType> {
        lock(&self.key_types)
            .peek(&(namespace.to_string(), name.to_string()))
            .copied()
    }

    /// Reads an active key (crypto operations). Front ends read it once per
    /// request and pass it to the `*_with` operations for every batch item.
    pub async fn active_key(&self, namespace: &str, name: &str) -> KmsResult<KeyHandle> {
        let key = self.key(namespace, name).await?;
        key.require_active()?;
        Ok(key)
    }

    /// The unsealed, parsed version of a key (cached).
    async fn version(&self, key: &KeyHandle, version: i64) -> KmsResult<Arc<LoadedVersion>> {
        let id = &key.record.id;
        if let Some(v) = self.cache.get(id, version) {
            return Ok(v);
        }
        let kek = self.kek_required(&key.record.namespace).await?;
        let record =
            self.store.get_version(id, version).await?.ok_or_else(|| {
                KmsError::refused(format!("key version {version} does not exist"))
            })?;
        let sealed = record.sealed_material.ok_or_else(|| {
            KmsError::refused(format!("key version {version} has been destroyed"))
        })?;
        let plain = kek.open(
            Binding::KeyVersion {
                namespace: &key.record.namespace,
                key_id: id,
                version,
                key_type: key.policy.key_type.name(),
            },
            &sealed,
        )?;
        let material = VersionMaterial::decode(plain.expose())?;
        let loaded = Arc::new(LoadedVersion::load(
            key.policy.key_type,
            material,
            key.policy.derived,
        )?);
        self.cache.insert(id, version, loaded.clone());
        Ok(loaded)
    }

    /// A sealer for new versions of the namespace's keys.
    async fn version_sealer(&self, namespace: &str) -> KmsResult<VersionSealer> {
        let unsealed = self.unsealed()?;
        Ok(VersionSealer {
            barrier: unsealed.barrier,
            kek: self.kek_required(namespace).await?,
            namespace: namespace.to_string(),
        })
    }
}

/// Seals new version material under a namespace KEK, without awaiting
/// (so it can run inside a compare-and-set planning step).
pub(crate) struct VersionSealer {
    barrier: BarrierAlgorithm,
    kek: Arc<BarrierKey>,
    namespace: String,
}

impl VersionSealer {
    /// Seals `material` as version `version` of key `key_id`.
    fn seal(
        &self,
        key_id: &str,
        key_type: KeyType,
        version: i64,
        material: &VersionMaterial,
    ) -> KmsResult<VersionRecord> {
        let sealed = self.kek.seal(
            self.barrier,
            Binding::KeyVersion {
                namespace: &self.namespace,
                key_id,
                version,
                key_type: key_type.name(),
            },
            &material.encode(),
        )?;
        Ok(VersionRecord {
            key_id: key_id.to_string(),
            version,
            sealed_material: Some(sealed),
            created_at: now(),
        })
    }
}

/// Runs `generate` off the async executor (RSA key generation takes seconds).
pub(crate) async fn generate_material(
    key_type: KeyType,
    hmac_key_size: Option<usize>,
) -> KmsResult<VersionMaterial> {
    tokio::task::spawn_blocking(move || VersionMaterial::generate(key_type, hmac_key_size))
        .await
        .map_err(|_| KmsError::Internal("key generation task failed".into()))?
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The 400 for an operation `key_type` cannot do, in Vault's wording
/// ("key type X does not support signing", "message encryption not supported
/// for key type X").
pub(crate) fn unsupported(operation: &str, key_type: KeyType) -> KmsError {
    KmsError::invalid(match operation {
        "signing" | "verification" => format!("key type {key_type} does not support {operation}"),
        _ => format!("message {operation} not supported for key type {key_type}"),
    })
}

/// Maps a store conflict on `name` to the retryable error.
pub(crate) fn conflict(name: &str) -> impl Fn(StoreError) -> KmsError + '_ {
    move |e| match e {
        StoreError::Conflict => KmsError::Conflict(name.to_string()),
        StoreError::AlreadyExists => KmsError::refused(format!("key {name:?} already exists")),
        other => KmsError::Store(other),
    }
}
