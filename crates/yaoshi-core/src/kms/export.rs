//! Export of key material and single-key plaintext backup/restore.
//!
//! Export forms: symmetric keys and HMAC keys base64; ECDSA private keys SEC1
//! `EC PRIVATE KEY` PEM (as Vault); SM2 and RSA private keys PKCS#8
//! `PRIVATE KEY` PEM; Ed25519 base64 of `seed || public key` (as Vault);
//! public keys SPKI PEM (Ed25519: base64 of the 32-byte key).
//!
//! A backup is base64 of a JSON document (`yaoshi-key-backup/1`) with the
//! policy and every available version's key and HMAC key in base64. It is
//! plaintext by design (Vault's semantics) and needs both `exportable` and
//! `allow_plaintext_backup`.

use super::lifecycle::{KeyInfo, validate_name};
use super::{Kms, now};
use crate::error::{KmsError, KmsResult};
use crate::key::{KeyPolicy, KeyState, KeyType, LoadedKey, VersionMaterial};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use yaoshi_crypto::SecretBytes;
use zeroize::Zeroizing;

const BACKUP_FORMAT: &str = "yaoshi-key-backup/1";

/// What to export (Vault's `export/:type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Keys that encrypt (symmetric, RSA, SM2).
    EncryptionKey,
    /// Keys that sign (Ed25519, ECDSA, RSA, SM2).
    SigningKey,
    /// The per-version HMAC key.
    HmacKey,
    /// Public keys of asymmetric types (no `exportable` needed).
    PublicKey,
}

impl ExportKind {
    /// Parses `encryption-key`, `signing-key`, `hmac-key` or `public-key`.
    pub fn from_name(name: &str) -> KmsResult<Self> {
        Ok(match name {
            "encryption-key" => Self::EncryptionKey,
            "signing-key" => Self::SigningKey,
            "hmac-key" => Self::HmacKey,
            "public-key" => Self::PublicKey,
            other => return Err(KmsError::invalid(format!("invalid export type {other:?}"))),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct BackupVersion {
    version: i64,
    key: String,
    hmac_key: String,
}

impl Drop for BackupVersion {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.key.zeroize();
        self.hmac_key.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
struct Backup {
    format: String,
    name: String,
    policy: KeyPolicy,
    versions: Vec<BackupVersion>,
    backed_up_at: i64,
}

fn private_key_text(key_type: KeyType, loaded: &LoadedKey, raw: &SecretBytes) -> KmsResult<String> {
    Ok(match loaded {
        LoadedKey::Ecdsa(k) => k.to_sec1_pem()?.to_string(),
        LoadedKey::Rsa(k) => k.to_pkcs8_pem()?.to_string(),
        LoadedKey::Sm2(k) => k.to_pkcs8_pem()?.to_string(),
        LoadedKey::Ed25519(k) => {
            let mut both = Zeroizing::new(raw.expose().to_vec());
            both.extend_from_slice(k.public_key().as_bytes());
            STANDARD.encode(&*both)
        }
        LoadedKey::Aead(_) | LoadedKey::Raw => {
            debug_assert!(key_type.is_symmetric() || key_type == KeyType::Hmac);
            STANDARD.encode(raw.expose())
        }
    })
}

impl Kms {
    /// Exports `kind` for one version (`Some`) or every available version.
    pub async fn export(
        &self,
        namespace: &str,
        name: &str,
        kind: ExportKind,
        version: Option<i64>,
    ) -> KmsResult<BTreeMap<i64, Zeroizing<String>>> {
        let key = self.active_key(namespace, name).await?;
        let key_type = key.policy.key_type;
        let allowed = match kind {
            ExportKind::EncryptionKey => key_type.supports_encryption(),
            ExportKind::SigningKey => key_type.supports_signing(),
            ExportKind::HmacKey => true,
            ExportKind::PublicKey => key_type.is_asymmetric(),
        };
        if !allowed {
            return Err(KmsError::invalid(format!(
                "{kind:?} export is not supported for key type {key_type}"
            )));
        }
        if kind != ExportKind::PublicKey && !key.policy.exportable {
            return Err(KmsError::refused("private key material is not exportable"));
        }
        let versions: Vec<i64> = match version {
            Some(v) => {
                key.policy.check_decryption_version(v)?;
                vec![v]
            }
            None => key.policy.versions.keys().copied().collect(),
        };
        let mut out = BTreeMap::new();
        for v in versions {
            let text = match kind {
                ExportKind::PublicKey => key
                    .policy
                    .versions
                    .get(&v)
                    .and_then(|i| i.public_key.clone())
                    .ok_or_else(|| {
                        KmsError::refused(format!("key version {v} is not available"))
                    })?,
                _ => {
                    let loaded = self.version(&key, v).await?;
                    match kind {
                        ExportKind::HmacKey => STANDARD.encode(loaded.material.hmac_key.expose()),
                        _ => private_key_text(key_type, &loaded.key, &loaded.material.key)?,
                    }
                }
            };
            out.insert(v, Zeroizing::new(text));
        }
        Ok(out)
    }

    /// A plaintext backup of one key (base64 JSON).
    pub async fn backup_key(&self, namespace: &str, name: &str) -> KmsResult<Zeroizing<String>> {
        let key = self.key(namespace, name).await?;
        if !key.policy.allow_plaintext_backup {
            return Err(KmsError::refused(
                "plaintext backup is disallowed on the policy",
            ));
        }
        if !key.policy.exportable {
            return Err(KmsError::refused("exporting is disallowed on the policy"));
        }
        let mut versions = Vec::with_capacity(key.policy.versions.len());
        for v in key.policy.versions.keys().copied() {
            let loaded = self.version(&key, v).await?;
            versions.push(BackupVersion {
                version: v,
                key: STANDARD.encode(loaded.material.key.expose()),
                hmac_key: STANDARD.encode(loaded.material.hmac_key.expose()),
            });
        }
        let backup = Backup {
            format: BACKUP_FORMAT.into(),
            name: key.record.name.clone(),
            policy: key.policy.clone(),
            versions,
            backed_up_at: now(),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&backup).map_err(|e| KmsError::Internal(e.to_string()))?,
        );
        Ok(Zeroizing::new(STANDARD.encode(&*json)))
    }

    /// Restores a backup as `name` (or the name in the backup). Refuses an
    /// existing key unless `force`, which destroys the existing key first.
    pub async fn restore_key(
        &self,
        namespace: &str,
        name: Option<&str>,
        backup: &str,
        force: bool,
    ) -> KmsResult<KeyInfo> {
        self.unsealed()?;
        let bad = |why: &str| KmsError::invalid(format!("invalid backup: {why}"));
        let json = Zeroizing::new(
            STANDARD
                .decode(backup.trim())
                .map_err(|_| bad("not base64"))?,
        );
        let parsed: Backup =
            serde_json::from_slice(&json).map_err(|_| bad("not a yaoshi key backup"))?;
        if parsed.format != BACKUP_FORMAT {
            return Err(bad("unknown backup format"));
        }
        let name = name.unwrap_or(&parsed.name).to_string();
        validate_name(&name)?;
        let mut policy = parsed.policy.clone();
        let mut materials = Vec::with_capacity(parsed.versions.len());
        for v in &parsed.versions {
            let material = VersionMaterial {
                key: SecretBytes::new(STANDARD.decode(&v.key).map_err(|_| bad("key not base64"))?),
                hmac_key: SecretBytes::new(
                    STANDARD
                        .decode(&v.hmac_key)
                        .map_err(|_| bad("hmac_key not base64"))?,
                ),
            };
            // Refuse material that does not parse as the policy's type.
            crate::key::LoadedVersion::load(policy.key_type, material.clone(), policy.derived)
                .map_err(|_| bad("key material does not match the key type"))?;
            materials.push((v.version, material));
        }
        let listed: Vec<i64> = policy.versions.keys().copied().collect();
        let present: Vec<i64> = materials.iter().map(|(v, _)| *v).collect();
        if listed != present || listed.last() != Some(&policy.latest_version) {
            return Err(bad("versions do not match the policy"));
        }
        policy.profile = self.profile().name.clone();
        // `get_key` never returns destroyed keys: an existing one is live.
        if self.store.get_key(namespace, &name).await?.is_some() {
            if !force {
                return Err(KmsError::refused(format!("key {name:?} already exists")));
            }
            self.destroy_unchecked(namespace, &name).await?;
        }
        self.insert_new_key(namespace, &name, policy, materials)
            .await
    }

    /// Destroys a key regardless of `deletion_allowed` (forced restore).
    async fn destroy_unchecked(&self, namespace: &str, name: &str) -> KmsResult<()> {
        self.change_key(namespace, name, |key| {
            Ok(super::lifecycle::Planned {
                erase_all_material: true,
                ..super::lifecycle::Planned::policy(key.policy.clone(), KeyState::Destroyed)
            })
        })
        .await
        .map(|_| ())
    }
}
