//! Key lifecycle: create, read, list, configure, rotate, trim, enable/disable,
//! soft-delete and restore, destroy, and scheduled auto-rotation.

use super::{CAS_ATTEMPTS, KeyHandle, Kms, conflict, generate_material, new_id, now};
use crate::error::{KmsError, KmsResult};
use crate::key::material::HMAC_KEY_SIZES;
use crate::key::policy::MIN_AUTO_ROTATE_PERIOD_SECS;
use crate::key::{KeyPolicy, KeyState, KeyType, LoadedVersion, VersionInfo, VersionMaterial};
use crate::store::{KeyChange, KeyRecord, VersionRecord};
use std::collections::BTreeMap;

/// Longest accepted key name.
pub const MAX_NAME_LEN: usize = 256;

/// Parameters of a new key (Vault's `POST keys/:name`).
#[derive(Debug, Clone, Default)]
pub struct CreateKeyRequest {
    /// Type; the deployment's default when `None`.
    pub key_type: Option<KeyType>,
    /// Allow export of the material.
    pub exportable: bool,
    /// Allow plaintext backups.
    pub allow_plaintext_backup: bool,
    /// Derive a per-request key from a `context`.
    pub derived: bool,
    /// Vault's convergent encryption (not supported; refused when set).
    pub convergent_encryption: bool,
    /// Seconds between automatic rotations (0 or at least 3600).
    pub auto_rotate_period_secs: u64,
    /// Size of an `hmac` key in bytes (32 to 512).
    pub key_size: Option<usize>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// A key as shown by reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Name.
    pub name: String,
    /// Immutable id.
    pub id: String,
    /// Lifecycle state.
    pub state: KeyState,
    /// Policy and per-version public data.
    pub policy: KeyPolicy,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Last change (Unix seconds).
    pub updated_at: i64,
}

impl From<&KeyHandle> for KeyInfo {
    fn from(k: &KeyHandle) -> Self {
        Self {
            name: k.record.name.clone(),
            id: k.record.id.clone(),
            state: k.state,
            policy: k.policy.clone(),
            created_at: k.record.created_at,
            updated_at: k.record.updated_at,
        }
    }
}

/// Changes to a key's configuration (Vault's `keys/:name/config`); `None`
/// leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct KeyConfigUpdate {
    /// Oldest version allowed to decrypt/verify.
    pub min_decryption_version: Option<i64>,
    /// Oldest version allowed to encrypt/sign (0 = latest).
    pub min_encryption_version: Option<i64>,
    /// Allow deletion.
    pub deletion_allowed: Option<bool>,
    /// Allow export (cannot be turned off again).
    pub exportable: Option<bool>,
    /// Allow plaintext backup (cannot be turned off again).
    pub allow_plaintext_backup: Option<bool>,
    /// Auto-rotation period in seconds.
    pub auto_rotate_period_secs: Option<u64>,
    /// Replace the labels.
    pub labels: Option<BTreeMap<String, String>>,
}

/// The planned result of one compare-and-set attempt.
pub(crate) struct Planned {
    pub policy: KeyPolicy,
    pub state: KeyState,
    pub put_versions: Vec<VersionRecord>,
    pub delete_versions_below: Option<i64>,
    pub erase_all_material: bool,
}

impl Planned {
    pub(crate) fn policy(policy: KeyPolicy, state: KeyState) -> Self {
        Self {
            policy,
            state,
            put_versions: Vec::new(),
            delete_versions_below: None,
            erase_all_material: false,
        }
    }
}

/// Checks a key name: 1 to 256 characters, no `/`, no control characters.
pub fn validate_name(name: &str) -> KmsResult<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(KmsError::invalid("key name must be 1 to 256 characters"));
    }
    if name.contains('/') || name.chars().any(char::is_control) {
        return Err(KmsError::invalid(
            "key name must not contain '/' or control characters",
        ));
    }
    Ok(())
}

pub(crate) fn validate_rotate_period(secs: u64) -> KmsResult<()> {
    if secs != 0 && secs < MIN_AUTO_ROTATE_PERIOD_SECS {
        return Err(KmsError::invalid(
            "auto rotate period must be 0 to disable or at least an hour",
        ));
    }
    Ok(())
}

impl Kms {
    /// Checks an auto-rotation period: 0 or at least an hour, and no longer
    /// than the profile's `max_rotation_days`.
    fn check_rotate_period(&self, secs: u64) -> KmsResult<()> {
        validate_rotate_period(secs)?;
        self.profile().check_rotation_period(secs)?;
        Ok(())
    }

    /// Applies `plan` to the key with compare-and-set, re-reading and
    /// re-planning on conflicts.
    pub(crate) async fn change_key(
        &self,
        namespace: &str,
        name: &str,
        mut plan: impl FnMut(&KeyHandle) -> KmsResult<Planned>,
    ) -> KmsResult<KeyHandle> {
        for _ in 0..CAS_ATTEMPTS {
            let current = self.key(namespace, name).await?;
            let planned = plan(&current)?;
            let record = KeyRecord {
                state: planned.state.name().to_string(),
                generation: current.record.generation + 1,
                metadata: planned.policy.to_bytes(),
                updated_at: now(),
                ..current.record.clone()
            };
            let mut change = KeyChange {
                key: record,
                expected_generation: Some(current.record.generation),
                put_versions: planned.put_versions,
                delete_versions_below: planned.delete_versions_below,
                erase_all_material: planned.erase_all_material,
                audit: None,
            };
            self.attach_audit(&mut change).await?;
            let applied = self.store.apply(&change).await;
            self.after_audited_change(&change, &applied);
            match applied.map_err(conflict(name)) {
                Ok(()) => {
                    if planned.erase_all_material {
                        self.cache.remove_key(&change.key.id, None);
                    } else if let Some(below) = planned.delete_versions_below {
                        self.cache.remove_key(&change.key.id, Some(below));
                    }
                    return KeyHandle::from_record(change.key);
                }
                Err(KmsError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(KmsError::Conflict(name.to_string()))
    }

    /// Creates a key. An existing key is returned unchanged with `false`
    /// (Vault treats a repeated create as a no-op).
    pub async fn create_key(
        &self,
        namespace: &str,
        name: &str,
        request: CreateKeyRequest,
    ) -> KmsResult<(KeyInfo, bool)> {
        validate_name(name)?;
        if let Some(existing) = self.store.get_key(namespace, name).await? {
            self.unsealed()?;
            return Ok((KeyInfo::from(&KeyHandle::from_record(existing)?), false));
        }
        let key_type = request
            .key_type
            .unwrap_or_else(|| self.profile().default_type());
        let mut policy = self.new_policy(key_type, &request)?;
        let material = generate_material(key_type, policy.hmac_key_size).await?;
        let version = push_version(&mut policy, &material, false)?;
        match self
            .insert_new_key(namespace, name, policy, vec![(version, material)])
            .await
        {
            Ok(info) => Ok((info, true)),
            Err(KmsError::Refused(_)) => {
                // Lost a race with another creator: theirs is the key.
                let existing = self.key(namespace, name).await?;
                Ok((KeyInfo::from(&existing), false))
            }
            Err(e) => Err(e),
        }
    }

    /// Validates a create request into a version-less policy.
    pub(crate) fn new_policy(
        &self,
        key_type: KeyType,
        request: &CreateKeyRequest,
    ) -> KmsResult<KeyPolicy> {
        if request.convergent_encryption {
            return Err(KmsError::invalid(
                "convergent encryption is not supported by yaoshi",
            ));
        }
        if request.derived && !key_type.supports_derivation() {
            return Err(KmsError::invalid(format!(
                "key derivation is not supported for key type {key_type}"
            )));
        }
        self.check_rotate_period(request.auto_rotate_period_secs)?;
        let hmac_key_size = match (key_type, request.key_size) {
            (KeyType::Hmac, size) => {
                let size = size.unwrap_or(crate::key::material::HMAC_KEY_LEN);
                if !HMAC_KEY_SIZES.contains(&size) {
                    return Err(KmsError::invalid(
                        "key_size must be between 32 and 512 bytes for hmac keys",
                    ));
                }
                Some(size)
            }
            (_, Some(s)) if s != 0 => {
                return Err(KmsError::invalid("key_size is only valid for hmac keys"));
            }
            _ => None,
        };
        Ok(KeyPolicy {
            key_type,
            latest_version: 0,
            min_decryption_version: 1,
            min_encryption_version: 0,
            min_available_version: 0,
            exportable: request.exportable,
            allow_plaintext_backup: request.allow_plaintext_backup,
            deletion_allowed: false,
            derived: request.derived,
            auto_rotate_period_secs: request.auto_rotate_period_secs,
            imported: false,
            allow_rotation: true,
            hmac_key_size,
            profile: self.profile().name.clone(),
            labels: request.labels.clone(),
            last_rotated_at: now(),
            versions: BTreeMap::new(),
        })
    }

    /// Stores a new key whose `policy` already lists `materials`' versions.
    pub(crate) async fn insert_new_key(
        &self,
        namespace: &str,
        name: &str,
        policy: KeyPolicy,
        materials: Vec<(i64, VersionMaterial)>,
    ) -> KmsResult<KeyInfo> {
        validate_name(name)?;
        self.profile().check_key_type(policy.key_type)?;
        let sealer = self.version_sealer(namespace).await?;
        let id = new_id()?;
        let mut versions = Vec::with_capacity(materials.len());
        for (version, material) in materials {
            versions.push(sealer.seal(&id, policy.key_type, version, &material)?);
        }
        let created_at = now();
        let record = KeyRecord {
            id,
            namespace: namespace.to_string(),
            name: name.to_string(),
            state: KeyState::Active.name().to_string(),
            generation: 1,
            metadata: policy.to_bytes(),
            created_at,
            updated_at: created_at,
        };
        let mut change = KeyChange {
            key: record,
            expected_generation: None,
            put_versions: versions,
            delete_versions_below: None,
            erase_all_material: false,
            audit: None,
        };
        self.attach_audit(&mut change).await?;
        let applied = self.store.apply(&change).await;
        self.after_audited_change(&change, &applied);
        applied.map_err(conflict(name))?;
        Ok(KeyInfo::from(&KeyHandle::from_record(change.key)?))
    }

    /// Reads a key (any state but destroyed).
    pub async fn read_key(&self, namespace: &str, name: &str) -> KmsResult<KeyInfo> {
        Ok(KeyInfo::from(&self.key(namespace, name).await?))
    }

    /// Names of the namespace's keys (any state but destroyed), sorted.
    pub async fn list_keys(&self, namespace: &str) -> KmsResult<Vec<String>> {
        self.unsealed()?;
        Ok(self.store.list_keys(namespace).await?)
    }

    /// Updates a key's configuration.
    pub async fn configure_key(
        &self,
        namespace: &str,
        name: &str,
        update: KeyConfigUpdate,
    ) -> KmsResult<KeyInfo> {
        if let Some(secs) = update.auto_rotate_period_secs {
            self.check_rotate_period(secs)?;
        }
        let key = self
            .change_key(namespace, name, |key| {
                let mut p = key.policy.clone();
                if let Some(v) = update.min_decryption_version {
                    if v < 1 {
                        return Err(KmsError::invalid(
                            "min_decryption_version must be at least 1",
                        ));
                    }
                    if v > p.latest_version {
                        return Err(KmsError::invalid(
                            "cannot set min_decryption_version greater than latest version",
                        ));
                    }
                    if v < p.min_available_version {
                        return Err(KmsError::invalid(
                            "cannot set min_decryption_version below min_available_version",
                        ));
                    }
                    p.min_decryption_version = v;
                }
                if let Some(v) = update.min_encryption_version {
                    if v < 0 || v > p.latest_version {
                        return Err(KmsError::invalid(
                            "cannot set min_encryption_version greater than latest version",
                        ));
                    }
                    p.min_encryption_version = v;
                }
                if p.min_encryption_version != 0
                    && p.min_encryption_version < p.min_decryption_version
                {
                    return Err(KmsError::invalid(
                        "min encryption version should not be less than min decryption version",
                    ));
                }
                if let Some(v) = update.deletion_allowed {
                    p.deletion_allowed = v;
                }
                if let Some(v) = update.exportable {
                    if p.exportable && !v {
                        return Err(KmsError::invalid(
                            "cannot disable exportability after it has been enabled",
                        ));
                    }
                    p.exportable = v;
                }
                if let Some(v) = update.allow_plaintext_backup {
                    if p.allow_plaintext_backup && !v {
                        return Err(KmsError::invalid(
                            "cannot disable plaintext backup after it has been enabled",
                        ));
                    }
                    p.allow_plaintext_backup = v;
                }
                if let Some(v) = update.auto_rotate_period_secs {
                    p.auto_rotate_period_secs = v;
                }
                if let Some(labels) = &update.labels {
                    p.labels = labels.clone();
                }
                Ok(Planned::policy(p, key.state))
            })
            .await?;
        Ok(KeyInfo::from(&key))
    }

    /// Adds a new version with fresh material.
    pub async fn rotate_key(&self, namespace: &str, name: &str) -> KmsResult<KeyInfo> {
        let first = self.key(namespace, name).await?;
        check_rotatable(&first)?;
        let material = generate_material(first.policy.key_type, first.policy.hmac_key_size).await?;
        let key = self
            .add_version(namespace, name, &first.record.id, material, false)
            .await?;
        Ok(KeyInfo::from(&key))
    }

    /// Adds `material` as the key's next version (rotation or import_version).
    pub(crate) async fn add_version(
        &self,
        namespace: &str,
        name: &str,
        key_id: &str,
        material: VersionMaterial,
        imported: bool,
    ) -> KmsResult<KeyHandle> {
        let sealer = self.version_sealer(namespace).await?;
        self.change_key(namespace, name, |key| {
            if key.record.id != key_id {
                return Err(KmsError::Conflict(name.to_string()));
            }
            if !imported {
                check_rotatable(key)?;
            }
            key.require_active()?;
            let mut p = key.policy.clone();
            let version = push_version(&mut p, &material, imported)?;
            let record = sealer.seal(key_id, p.key_type, version, &material)?;
            Ok(Planned {
                put_versions: vec![record],
                ..Planned::policy(p, key.state)
            })
        })
        .await
    }

    /// Erases every version below `min_available_version`.
    pub async fn trim_key(
        &self,
        namespace: &str,
        name: &str,
        min_available_version: i64,
    ) -> KmsResult<KeyInfo> {
        let key = self
            .change_key(namespace, name, |key| {
                let mut p = key.policy.clone();
                let v = min_available_version;
                if v <= 0 {
                    return Err(KmsError::invalid("minimum available version should be positive"));
                }
                if v < p.min_available_version {
                    return Err(KmsError::invalid(
                        "minimum available version cannot be decremented",
                    ));
                }
                if v > p.min_decryption_version {
                    return Err(KmsError::invalid(
                        "cannot set minimum available version greater than minimum decryption version",
                    ));
                }
                if p.min_encryption_version == 0 {
                    // Vault's rule: with min_encryption_version 0 ("latest"),
                    // trimming could remove the version encrypt would use next.
                    return Err(KmsError::invalid(
                        "minimum available version cannot be set when minimum encryption version is not set",
                    ));
                }
                if v > p.min_encryption_version {
                    return Err(KmsError::invalid(
                        "cannot set minimum available version greater than minimum encryption version",
                    ));
                }
                p.min_available_version = v;
                p.versions.retain(|version, _| *version >= v);
                Ok(Planned {
                    delete_versions_below: Some(v),
                    ..Planned::policy(p, key.state)
                })
            })
            .await?;
        Ok(KeyInfo::from(&key))
    }

    /// Enables or disables crypto operations on a key.
    pub async fn set_key_enabled(
        &self,
        namespace: &str,
        name: &str,
        enabled: bool,
    ) -> KmsResult<KeyInfo> {
        let key = self
            .change_key(namespace, name, |key| {
                let state = match (key.state, enabled) {
                    (KeyState::Active | KeyState::Disabled, true) => KeyState::Active,
                    (KeyState::Active | KeyState::Disabled, false) => KeyState::Disabled,
                    _ => {
                        return Err(KmsError::refused(format!(
                            "key {name:?} is soft-deleted; restore it first"
                        )));
                    }
                };
                Ok(Planned::policy(key.policy.clone(), state))
            })
            .await?;
        Ok(KeyInfo::from(&key))
    }

    /// Soft-deletes a key: it keeps its name and material but refuses every
    /// operation until restored. Needs `deletion_allowed`.
    pub async fn soft_delete_key(&self, namespace: &str, name: &str) -> KmsResult<KeyInfo> {
        let key = self
            .change_key(namespace, name, |key| {
                check_deletable(key)?;
                Ok(Planned::policy(key.policy.clone(), KeyState::SoftDeleted))
            })
            .await?;
        Ok(KeyInfo::from(&key))
    }

    /// Brings a soft-deleted key back to active.
    pub async fn restore_deleted_key(&self, namespace: &str, name: &str) -> KmsResult<KeyInfo> {
        let key = self
            .change_key(namespace, name, |key| {
                if key.state != KeyState::SoftDeleted {
                    return Err(KmsError::invalid(format!(
                        "key {name:?} is not soft-deleted"
                    )));
                }
                Ok(Planned::policy(key.policy.clone(), KeyState::Active))
            })
            .await?;
        Ok(KeyInfo::from(&key))
    }

    /// Destroys a key (Vault's `DELETE keys/:name`): all material is erased,
    /// the metadata row is kept as destroyed and the name becomes free.
    /// Needs `deletion_allowed`.
    pub async fn delete_key(&self, namespace: &str, name: &str) -> KmsResult<()> {
        self.change_key(namespace, name, |key| {
            check_deletable(key)?;
            Ok(Planned {
                erase_all_material: true,
                ..Planned::policy(key.policy.clone(), KeyState::Destroyed)
            })
        })
        .await?;
        Ok(())
    }

    /// Refuses, as [`Kms::delete_key`] would, a key that is missing or does
    /// not allow deletion (checked before a destroy is parked for approval).
    pub async fn check_key_deletable(&self, namespace: &str, name: &str) -> KmsResult<()> {
        check_deletable(&self.key(namespace, name).await?)
    }

    /// Rotates every active key of `namespace` whose auto-rotation period has
    /// elapsed at `at` (Unix seconds). Returns the rotated names.
    pub async fn auto_rotate_due(&self, namespace: &str, at: i64) -> KmsResult<Vec<String>> {
        let due = self.keys_due_for_rotation(namespace, at).await?;
        for name in &due {
            self.rotate_key(namespace, name).await?;
        }
        Ok(due)
    }

    /// Names of the keys of `namespace` whose auto-rotation is due at `at`
    /// (see [`rotation_due`]); a key destroyed since it was listed is
    /// skipped.
    pub(crate) async fn keys_due_for_rotation(
        &self,
        namespace: &str,
        at: i64,
    ) -> KmsResult<Vec<String>> {
        let mut due = Vec::new();
        for name in self.list_keys(namespace).await? {
            match self.key(namespace, &name).await {
                Ok(key) if rotation_due(&key, at) => due.push(name),
                Ok(_) | Err(KmsError::KeyNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(due)
    }
}

/// Whether `key` is active, rotatable, and its auto-rotation period has
/// elapsed at `at` (Unix seconds).
pub(crate) fn rotation_due(key: &KeyHandle, at: i64) -> bool {
    let period = i64::try_from(key.policy.auto_rotate_period_secs).unwrap_or(i64::MAX);
    period > 0
        && at.saturating_sub(key.policy.last_rotated_at) >= period
        && key.state == KeyState::Active
        && check_rotatable(key).is_ok()
}

fn check_rotatable(key: &KeyHandle) -> KmsResult<()> {
    if key.policy.imported && !key.policy.allow_rotation {
        return Err(KmsError::refused(format!(
            "key {:?} was imported and does not allow rotation",
            key.record.name
        )));
    }
    Ok(())
}

fn check_deletable(key: &KeyHandle) -> KmsResult<()> {
    if !key.policy.deletion_allowed {
        return Err(KmsError::refused("deletion is not allowed for this key"));
    }
    Ok(())
}

/// Records `material` as the policy's next version (public key included for
/// asymmetric types) and returns its number.
pub(crate) fn push_version(
    policy: &mut KeyPolicy,
    material: &VersionMaterial,
    imported: bool,
) -> KmsResult<i64> {
    let public_key = if policy.key_type.is_asymmetric() {
        LoadedVersion::load(policy.key_type, material.clone(), false)?.public_key_text()?
    } else {
        None
    };
    let version = policy.latest_version + 1;
    let created_at = now();
    policy.versions.insert(
        version,
        VersionInfo {
            created_at,
            public_key,
            imported,
        },
    );
    policy.latest_version = version;
    policy.last_rotated_at = created_at;
    Ok(version)
}
