//! A key's policy: the public metadata stored beside its sealed versions
//! (type, version bounds, flags, per-version public keys), and its lifecycle
//! state.

use super::KeyType;
use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Smallest non-zero `auto_rotate_period` (one hour), as in Vault.
pub const MIN_AUTO_ROTATE_PERIOD_SECS: u64 = 3600;

/// Lifecycle state of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyState {
    /// Usable for every operation its type supports.
    Active,
    /// Readable and configurable; crypto operations refused until enabled.
    Disabled,
    /// Hidden from use, restorable.
    SoftDeleted,
    /// Material erased for good; metadata kept for the audit trail.
    Destroyed,
}

impl KeyState {
    /// The stored name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::SoftDeleted => "soft-deleted",
            Self::Destroyed => "destroyed",
        }
    }

    /// Parses a stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Active,
            Self::Disabled,
            Self::SoftDeleted,
            Self::Destroyed,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// Public facts about one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Unix time (seconds) the version was created or imported.
    pub created_at: i64,
    /// Public key (PEM; base64 for Ed25519) of asymmetric versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// True when the material was imported rather than generated.
    #[serde(default)]
    pub imported: bool,
}

/// A key's policy and metadata. Contains no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPolicy {
    /// The key type.
    #[serde(rename = "type")]
    pub key_type: KeyType,
    /// Newest version.
    pub latest_version: i64,
    /// Oldest version that may decrypt, verify or unwrap.
    pub min_decryption_version: i64,
    /// Oldest version that may encrypt or sign; 0 means the latest.
    pub min_encryption_version: i64,
    /// Versions below this have been trimmed (erased); 0 when none were.
    pub min_available_version: i64,
    /// Whether key material may be exported.
    pub exportable: bool,
    /// Whether a plaintext backup may be taken.
    pub allow_plaintext_backup: bool,
    /// Whether the key may be deleted (destroyed).
    pub deletion_allowed: bool,
    /// Whether per-request keys are derived from a `context`.
    pub derived: bool,
    /// Seconds between automatic rotations; 0 disables.
    pub auto_rotate_period_secs: u64,
    /// Whether the key's material was imported (BYOK).
    pub imported: bool,
    /// Whether an imported key may be rotated (generating new material).
    pub allow_rotation: bool,
    /// Size in bytes of an `hmac` type key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_key_size: Option<usize>,
    /// Compliance profile in force when the key was created.
    pub profile: String,
    /// Free-form labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Unix time of the last rotation (or creation).
    pub last_rotated_at: i64,
    /// Public information per version that still exists.
    pub versions: BTreeMap<i64, VersionInfo>,
}

impl KeyPolicy {
    /// Serialises for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a key policy always serialises")
    }

    /// Parses a stored policy.
    pub fn from_bytes(bytes: &[u8]) -> KmsResult<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| KmsError::Internal(format!("stored key policy is unreadable: {e}")))
    }

    /// The version encrypt/sign use when the caller names none (0).
    pub fn resolve_encryption_version(&self, requested: i64) -> KmsResult<i64> {
        let version = if requested == 0 {
            self.latest_version
        } else {
            requested
        };
        if version < 0 || version > self.latest_version {
            return Err(KmsError::invalid(
                "requested version for encryption is out of range",
            ));
        }
        if version < self.min_encryption_version {
            return Err(KmsError::invalid(
                "requested version for encryption is less than the minimum encryption key version",
            ));
        }
        self.check_available(version)?;
        Ok(version)
    }

    /// Checks that `version` may decrypt or verify.
    pub fn check_decryption_version(&self, version: i64) -> KmsResult<()> {
        if version < self.min_decryption_version {
            return Err(KmsError::refused(
                "ciphertext or signature version is disallowed by policy (too old)",
            ));
        }
        if version > self.latest_version {
            return Err(KmsError::InvalidCiphertext(
                "invalid ciphertext: version is too new".into(),
            ));
        }
        self.check_available(version)
    }

    fn check_available(&self, version: i64) -> KmsResult<()> {
        if version < 1 || version < self.min_available_version {
            return Err(KmsError::refused(format!(
                "key version {version} has been trimmed and is no longer available"
            )));
        }
        Ok(())
    }
}
