//! The seal configuration stored with the deployment: how the root key is
//! protected and the check value that proves a recovered root key is right.

use crate::barrier::BarrierAlgorithm;
use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};

/// Name of the store entry holding the [`SealConfig`].
pub const SEAL_CONFIG_ENTRY: &str = "core/seal-config";

/// How the root key is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealType {
    /// Shamir shares held by operators; `threshold` of them unseal.
    Shamir,
    /// Wrapped by an external device (PKCS#11 HSM); unseals automatically.
    Device,
    /// Held in memory only (`--dev`); lost at restart.
    Dev,
}

impl SealType {
    /// The name shown in seal status (`shamir`, `pkcs11`-style device kinds, `dev`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Shamir => "shamir",
            Self::Device => "device",
            Self::Dev => "dev",
        }
    }
}

/// The stored seal configuration. Holds no secret: the check value and the
/// wrapped root key are useless without the shares or the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealConfig {
    /// How the root key is protected.
    pub seal_type: SealType,
    /// Number of Shamir shares (1 for other seals).
    pub shares: u8,
    /// Shares needed to unseal (1 for other seals).
    pub threshold: u8,
    /// Barrier algorithm for new sealed data.
    pub barrier: BarrierAlgorithm,
    /// A known value sealed under the root key (base64 of the sealed blob).
    pub root_check: String,
    /// For device seals: the device's kind (e.g. `pkcs11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_kind: Option<String>,
    /// For device seals: the root key as wrapped by the device (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapped_root_key: Option<String>,
    /// Unix time of initialisation.
    pub created_at: i64,
}

impl SealConfig {
    /// Serialises for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a seal config always serialises")
    }

    /// Parses the stored entry.
    pub fn from_bytes(bytes: &[u8]) -> KmsResult<Self> {
        serde_json::from_slice(bytes).map_err(|e| {
            KmsError::Internal(format!("stored seal configuration is unreadable: {e}"))
        })
    }
}
