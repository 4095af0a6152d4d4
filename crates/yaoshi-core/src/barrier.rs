//! The barrier: everything secret at rest is sealed here.
//!
//! Hierarchy: the 256-bit root key (memory only) seals each namespace's
//! 256-bit key-encryption key (KEK); a namespace KEK seals each key version's
//! material and the namespace's internal entries (wrapping keys). The AEAD key
//! actually used is derived from the 256-bit secret per algorithm:
//! HKDF-SM3 → 16-byte SM4-GCM key, or HKDF-SHA-256 → 32-byte AES-256-GCM key
//! (salt `yaoshi barrier v1`, info = algorithm name).
//!
//! Sealed blob: `1 (format) || algorithm id || nonce(12) || ciphertext || tag(16)`.
//! The AEAD's associated data is the two header bytes followed by a
//! length-prefixed list of the fields the blob belongs to (namespace, key id,
//! version, type), so a blob copied to another row fails to open.

use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::{CryptoError, SecretBytes, kdf};

const FORMAT: u8 = 1;
const HKDF_SALT: &[u8] = b"yaoshi barrier v1";
/// Length of the root key and of namespace KEKs.
pub const SECRET_LEN: usize = 32;

/// The AEAD the barrier seals with; chosen by the compliance profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BarrierAlgorithm {
    /// AES-256-GCM (the default profile).
    Aes256Gcm,
    /// SM4-GCM (Chinese profiles).
    Sm4Gcm,
}

impl BarrierAlgorithm {
    /// The name used in configuration and in the HKDF info.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "aes256-gcm",
            Self::Sm4Gcm => "sm4-gcm",
        }
    }

    /// Parses a configuration name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Aes256Gcm, Self::Sm4Gcm]
            .into_iter()
            .find(|a| a.name() == name)
    }

    const fn id(self) -> u8 {
        match self {
            Self::Aes256Gcm => 1,
            Self::Sm4Gcm => 2,
        }
    }

    fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Self::Aes256Gcm),
            2 => Some(Self::Sm4Gcm),
            _ => None,
        }
    }

    const fn aead(self) -> AeadAlgorithm {
        match self {
            Self::Aes256Gcm => AeadAlgorithm::Aes256Gcm,
            Self::Sm4Gcm => AeadAlgorithm::Sm4Gcm,
        }
    }

    const fn hkdf_hash(self) -> HashAlgorithm {
        match self {
            Self::Aes256Gcm => HashAlgorithm::Sha256,
            Self::Sm4Gcm => HashAlgorithm::Sm3,
        }
    }
}

/// What a sealed blob belongs to; becomes its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding<'a> {
    /// The check value that proves a recovered root key is the right one.
    RootCheck,
    /// A namespace KEK.
    NamespaceKek {
        /// Namespace name.
        namespace: &'a str,
    },
    /// One key version's material.
    KeyVersion {
        /// Namespace name.
        namespace: &'a str,
        /// Key id.
        key_id: &'a str,
        /// Version number.
        version: i64,
        /// Key type name.
        key_type: &'a str,
    },
    /// A namespace's internal entry (e.g. a wrapping key).
    Entry {
        /// Namespace name.
        namespace: &'a str,
        /// Entry name.
        name: &'a str,
    },
}

impl Binding<'_> {
    fn encode(&self, header: [u8; 2]) -> Vec<u8> {
        let version_text;
        let fields: Vec<&[u8]> = match self {
            Binding::RootCheck => vec![b"root-check"],
            Binding::NamespaceKek { namespace } => vec![b"namespace-kek", namespace.as_bytes()],
            Binding::KeyVersion {
                namespace,
                key_id,
                version,
                key_type,
            } => {
                version_text = version.to_string();
                vec![
                    b"key-version",
                    namespace.as_bytes(),
                    key_id.as_bytes(),
                    version_text.as_bytes(),
                    key_type.as_bytes(),
                ]
            }
            Binding::Entry { namespace, name } => {
                vec![b"entry", namespace.as_bytes(), name.as_bytes()]
            }
        };
        let mut aad = header.to_vec();
        for field in fields {
            aad.extend_from_slice(&(field.len() as u32).to_be_bytes());
            aad.extend_from_slice(field);
        }
        aad
    }
}

/// A 256-bit barrier secret (the root key or a namespace KEK) with the AEAD
/// keys derived from it.
pub struct BarrierKey {
    aes: AeadKey,
    sm4: AeadKey,
}

impl core::fmt::Debug for BarrierKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BarrierKey(..)")
    }
}

impl BarrierKey {
    /// Derives the AEAD keys from a 256-bit secret.
    pub fn new(secret: &SecretBytes) -> KmsResult<Self> {
        if secret.len() != SECRET_LEN {
            return Err(KmsError::Internal("barrier secret must be 32 bytes".into()));
        }
        let derive = |algorithm: BarrierAlgorithm| -> KmsResult<AeadKey> {
            let key = kdf::hkdf(
                algorithm.hkdf_hash(),
                secret.expose(),
                HKDF_SALT,
                algorithm.name().as_bytes(),
                algorithm.aead().key_len(),
            )?;
            Ok(AeadKey::new(algorithm.aead(), &key)?)
        };
        Ok(Self {
            aes: derive(BarrierAlgorithm::Aes256Gcm)?,
            sm4: derive(BarrierAlgorithm::Sm4Gcm)?,
        })
    }

    fn aead(&self, algorithm: BarrierAlgorithm) -> &AeadKey {
        match algorithm {
            BarrierAlgorithm::Aes256Gcm => &self.aes,
            BarrierAlgorithm::Sm4Gcm => &self.sm4,
        }
    }

    /// Seals `plaintext` for `binding` with `algorithm`.
    pub fn seal(
        &self,
        algorithm: BarrierAlgorithm,
        binding: Binding<'_>,
        plaintext: &[u8],
    ) -> KmsResult<Vec<u8>> {
        let header = [FORMAT, algorithm.id()];
        let payload = self
            .aead(algorithm)
            .encrypt(&binding.encode(header), plaintext)?;
        let mut blob = Vec::with_capacity(2 + payload.len());
        blob.extend_from_slice(&header);
        blob.extend_from_slice(&payload);
        Ok(blob)
    }

    /// Opens a blob sealed for `binding` (whatever algorithm sealed it).
    ///
    /// Fails with [`KmsError::Internal`] when the blob was tampered with,
    /// sealed under another key, or belongs to another binding.
    pub fn open(&self, binding: Binding<'_>, blob: &[u8]) -> KmsResult<SecretBytes> {
        let unreadable = || KmsError::Internal("sealed data failed to open at the barrier".into());
        let (header, payload) = blob.split_first_chunk::<2>().ok_or_else(unreadable)?;
        if header[0] != FORMAT {
            return Err(unreadable());
        }
        let algorithm = BarrierAlgorithm::from_id(header[1]).ok_or_else(unreadable)?;
        self.aead(algorithm)
            .decrypt(&binding.encode(*header), payload)
            .map_err(|e| match e {
                CryptoError::RandomFailure => KmsError::Internal(e.to_string()),
                _ => unreadable(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaoshi_crypto::random;

    fn key() -> BarrierKey {
        BarrierKey::new(&SecretBytes::from_slice(&random::array::<32>().unwrap())).unwrap()
    }

    #[test]
    fn seals_and_opens_with_both_algorithms_and_binds_the_row() {
        let k = key();
        let bind = Binding::KeyVersion {
            namespace: "transit",
            key_id: "k1",
            version: 1,
            key_type: "sm4-gcm96",
        };
        for alg in [BarrierAlgorithm::Aes256Gcm, BarrierAlgorithm::Sm4Gcm] {
            let blob = k.seal(alg, bind, b"material").unwrap();
            assert_eq!(blob[1], alg.id());
            assert_eq!(k.open(bind, &blob).unwrap().expose(), b"material");
            let other_version = Binding::KeyVersion {
                namespace: "transit",
                key_id: "k1",
                version: 2,
                key_type: "sm4-gcm96",
            };
            assert!(k.open(other_version, &blob).is_err());
            let mut downgraded = blob.clone();
            downgraded[1] = if alg == BarrierAlgorithm::Sm4Gcm {
                1
            } else {
                2
            };
            assert!(k.open(bind, &downgraded).is_err());
            let mut flipped = blob.clone();
            *flipped.last_mut().unwrap() ^= 1;
            assert!(k.open(bind, &flipped).is_err());
            assert!(
                key().open(bind, &blob).is_err(),
                "another secret must not open it"
            );
        }
        assert!(k.open(bind, &[1]).is_err());
        assert!(k.open(bind, &[9, 1, 0, 0]).is_err());
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let k = key();
        let a = Binding::Entry {
            namespace: "ab",
            name: "c",
        };
        let b = Binding::Entry {
            namespace: "a",
            name: "bc",
        };
        let blob = k.seal(BarrierAlgorithm::Aes256Gcm, a, b"x").unwrap();
        assert!(k.open(b, &blob).is_err());
    }
}
