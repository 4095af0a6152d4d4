//! Bring-your-own-key import through per-namespace wrapping keys.
//!
//! RSA (Vault/OpenBao's format, what `bao transit import` sends): the
//! namespace's RSA-4096 wrapping key; ciphertext = RSA-OAEP-SHA256(ephemeral
//! 256-bit AES key) || AES-KWP (RFC 5649)(target key).
//!
//! SM2 (yaoshi's addition, a GM/T 0010-style digital envelope): the
//! namespace's SM2 wrapping key; ciphertext = SM2 GM/T 0009 DER(ephemeral
//! 128-bit SM4 key) || SM4-GCM `nonce(12) || ciphertext || tag(16)` of the
//! target key with empty associated data. The DER SEQUENCE is self-delimiting.
//!
//! Target key bytes: raw for symmetric and `hmac` keys, PKCS#8 DER for
//! asymmetric keys.

use super::lifecycle::{CreateKeyRequest, KeyInfo, push_version};
use super::{Kms, lock};
use crate::barrier::Binding;
use crate::error::{KmsError, KmsResult};
use crate::key::{KeyType, VersionMaterial};
use std::sync::Arc;
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::rsa::{RsaBits, RsaPrivateKey};
use yaoshi_crypto::sm2::Sm2PrivateKey;
use yaoshi_crypto::{SecretBytes, keywrap};

/// Which wrapping key an import uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrappingAlgorithm {
    /// RSA-4096 with OAEP-SHA256 + AES-KWP (Vault/OpenBao).
    Rsa,
    /// SM2 + SM4-GCM envelope.
    Sm2,
}

impl WrappingAlgorithm {
    /// Parses `rsa` (also Vault's default when absent) or `sm2`.
    pub fn from_name(name: &str) -> KmsResult<Self> {
        match name {
            "rsa" | "rsa-4096" => Ok(Self::Rsa),
            "sm2" => Ok(Self::Sm2),
            other => Err(KmsError::invalid(format!(
                "unknown wrapping algorithm {other:?}: use rsa or sm2"
            ))),
        }
    }

    const fn entry_name(self) -> &'static str {
        match self {
            Self::Rsa => "wrapping-key/rsa-4096",
            Self::Sm2 => "wrapping-key/sm2",
        }
    }
}

/// A namespace's private wrapping key.
pub enum WrappingKey {
    /// RSA-4096.
    Rsa(RsaPrivateKey),
    /// SM2.
    Sm2(Box<Sm2PrivateKey>),
}

impl WrappingKey {
    fn public_pem(&self) -> KmsResult<String> {
        Ok(match self {
            Self::Rsa(k) => k.public_key()?.to_spki_pem()?,
            Self::Sm2(k) => k.public_key().to_spki_pem()?,
        })
    }

    fn unwrap_envelope(&self, envelope: &[u8]) -> KmsResult<SecretBytes> {
        let bad = || KmsError::InvalidCiphertext("failed to unwrap the imported key".into());
        match self {
            Self::Rsa(k) => keywrap::byok_unwrap(k, envelope).map_err(|_| bad()),
            Self::Sm2(k) => {
                let split = der_sequence_len(envelope).ok_or_else(bad)?;
                let (wrapped_key, payload) = envelope.split_at(split);
                let ephemeral = k.decrypt(wrapped_key).map_err(|_| bad())?;
                AeadKey::new(AeadAlgorithm::Sm4Gcm, ephemeral.expose())
                    .map_err(|_| bad())?
                    .decrypt(&[], payload)
                    .map_err(|_| bad())
            }
        }
    }
}

/// Length of the DER SEQUENCE at the start of `data`, header included.
fn der_sequence_len(data: &[u8]) -> Option<usize> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let total = header.checked_add(len)?;
    (total < data.len()).then_some(total)
}

/// Parameters of an import (Vault's `keys/:name/import`).
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// Settings of the new key (type defaults to `aes256-gcm96` as in Vault).
    pub key: CreateKeyRequest,
    /// Whether the imported key may later be rotated with generated material.
    pub allow_rotation: bool,
}

/// Checks Vault's `hash_function` (the OAEP hash); only SHA256 is supported.
pub fn check_hash_function(name: Option<&str>) -> KmsResult<()> {
    match name {
        None => Ok(()),
        Some(n) if n.eq_ignore_ascii_case("sha256") => Ok(()),
        Some(n) => Err(KmsError::invalid(format!(
            "unsupported hash_function {n:?}: yaoshi accepts SHA256"
        ))),
    }
}

impl Kms {
    /// The namespace's wrapping key, generated and stored on first use.
    async fn wrapping_key_for(
        &self,
        namespace: &str,
        algorithm: WrappingAlgorithm,
    ) -> KmsResult<Arc<WrappingKey>> {
        let unsealed = self.unsealed()?;
        let cache_key = (namespace.to_string(), algorithm.entry_name());
        if let Some(k) = lock(&self.wrapping_keys).get(&cache_key) {
            return Ok(k.clone());
        }
        let kek = self.kek_required(namespace).await?;
        let entry = format!("ns/{namespace}/{}", algorithm.entry_name());
        let binding = Binding::Entry {
            namespace,
            name: algorithm.entry_name(),
        };
        let sealed = match self.store.get_entry(&entry).await? {
            Some(sealed) => sealed,
            None => {
                let der = tokio::task::spawn_blocking(move || -> KmsResult<SecretBytes> {
                    Ok(match algorithm {
                        WrappingAlgorithm::Rsa => {
                            RsaPrivateKey::generate(RsaBits::Rsa4096)?.to_pkcs8_der()
                        }
                        WrappingAlgorithm::Sm2 => Sm2PrivateKey::generate()?.to_pkcs8_der()?,
                    })
                })
                .await
                .map_err(|_| KmsError::Internal("wrapping key generation failed".into()))??;
                let sealed = kek.seal(unsealed.barrier, binding, der.expose())?;
                if self.store.insert_entry(&entry, &sealed).await? {
                    sealed
                } else {
                    self.store
                        .get_entry(&entry)
                        .await?
                        .ok_or_else(|| KmsError::Internal("wrapping key vanished".into()))?
                }
            }
        };
        let der = kek.open(binding, &sealed)?;
        let key = Arc::new(match algorithm {
            WrappingAlgorithm::Rsa => {
                WrappingKey::Rsa(RsaPrivateKey::from_pkcs8_der(der.expose())?)
            }
            WrappingAlgorithm::Sm2 => {
                WrappingKey::Sm2(Box::new(Sm2PrivateKey::from_pkcs8_der(der.expose())?))
            }
        });
        lock(&self.wrapping_keys).insert(cache_key, key.clone());
        Ok(key)
    }

    /// The namespace's public wrapping key as SPKI PEM.
    pub async fn wrapping_key(
        &self,
        namespace: &str,
        algorithm: WrappingAlgorithm,
    ) -> KmsResult<String> {
        self.wrapping_key_for(namespace, algorithm)
            .await?
            .public_pem()
    }

    async fn unwrap_import(
        &self,
        namespace: &str,
        key_type: KeyType,
        envelope: &[u8],
        algorithm: WrappingAlgorithm,
    ) -> KmsResult<VersionMaterial> {
        let wrapping = self.wrapping_key_for(namespace, algorithm).await?;
        let target = wrapping.unwrap_envelope(envelope)?;
        VersionMaterial::from_import(key_type, target.expose())
    }

    /// Imports a new key from a wrapped envelope.
    pub async fn import_key(
        &self,
        namespace: &str,
        name: &str,
        envelope: &[u8],
        algorithm: WrappingAlgorithm,
        request: ImportRequest,
    ) -> KmsResult<KeyInfo> {
        super::lifecycle::validate_name(name)?;
        if self.store.get_key(namespace, name).await?.is_some() {
            return Err(KmsError::refused(format!(
                "key {name:?} already exists; use import_version to add a version to an imported key"
            )));
        }
        let key_type = request.key.key_type.unwrap_or(KeyType::Aes256Gcm96);
        let mut policy = self.new_policy(key_type, &request.key)?;
        policy.imported = true;
        policy.allow_rotation = request.allow_rotation;
        let material = self
            .unwrap_import(namespace, key_type, envelope, algorithm)
            .await?;
        let version = push_version(&mut policy, &material, true)?;
        self.insert_new_key(namespace, name, policy, vec![(version, material)])
            .await
    }

    /// Imports a new version of an imported key.
    pub async fn import_version(
        &self,
        namespace: &str,
        name: &str,
        envelope: &[u8],
        algorithm: WrappingAlgorithm,
    ) -> KmsResult<KeyInfo> {
        let key = self.key(namespace, name).await?;
        if !key.policy.imported {
            return Err(KmsError::refused(format!(
                "key {name:?} was not imported; new versions of generated keys come from rotate"
            )));
        }
        let material = self
            .unwrap_import(namespace, key.policy.key_type, envelope, algorithm)
            .await?;
        let key = self
            .add_version(namespace, name, &key.record.id, material, true)
            .await?;
        Ok(KeyInfo::from(&key))
    }
}

#[cfg(test)]
mod tests {
    use super::der_sequence_len;

    #[test]
    fn der_sequence_length_is_read_from_the_header() {
        assert_eq!(der_sequence_len(&[0x30, 0x02, 1, 2, 9]), Some(4));
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend_from_slice(&[0; 0x80]);
        long.push(7);
        assert_eq!(der_sequence_len(&long), Some(3 + 0x80));
        assert_eq!(
            der_sequence_len(&[0x30, 0x02, 1, 2]),
            None,
            "nothing after it"
        );
        assert_eq!(der_sequence_len(&[0x31, 0x01, 1, 2]), None);
        assert_eq!(der_sequence_len(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(der_sequence_len(&[0x30]), None);
        assert_eq!(der_sequence_len(&[]), None);
    }
}
