//! Encrypt, decrypt, rewrap and data keys.
//!
//! Payloads: AEAD types `nonce(12) || ciphertext || tag(16)` with the caller's
//! associated data; RSA types RSA-OAEP (SHA-256, MGF1-SHA-256, empty label);
//! `sm2` GM/T 0009 DER (C1C3C2). Derived keys (`derived: true`) use a key
//! derived per request: HKDF(ikm = version key, salt = empty, info =
//! context), SHA-256 for AES/ChaCha20 (as Vault) and SM3 for SM4.

use super::{KeyHandle, Kms, unsupported};
use crate::error::{KmsError, KmsResult};
use crate::key::{KeyPolicy, KeyType, LoadedKey, LoadedVersion, versioned};
use crate::kms::lifecycle::CreateKeyRequest;
use yaoshi_crypto::aead::AeadKey;
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::{SecretBytes, kdf, random};

/// An encrypt request.
#[derive(Debug, Clone, Copy, Default)]
pub struct EncryptRequest<'a> {
    /// Associated data (AEAD types only).
    pub associated_data: Option<&'a [u8]>,
    /// Derivation context (required for derived keys).
    pub context: Option<&'a [u8]>,
    /// Version to encrypt with; 0 = latest.
    pub key_version: i64,
    /// Create the key when it does not exist (Vault's upsert).
    pub upsert: bool,
    /// Type of an upserted key; the deployment default when `None`.
    pub upsert_type: Option<KeyType>,
}

/// A decrypt request.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecryptRequest<'a> {
    /// Associated data given at encryption.
    pub associated_data: Option<&'a [u8]>,
    /// Derivation context given at encryption.
    pub context: Option<&'a [u8]>,
}

/// A generated data key.
#[derive(Debug)]
pub struct DataKey {
    /// The plaintext key, unless only the wrapped form was asked for.
    pub plaintext: Option<SecretBytes>,
    /// The key encrypted under the named key.
    pub ciphertext: String,
    /// Version that encrypted it.
    pub key_version: i64,
}

/// Data key sizes accepted, in bits.
pub const DATAKEY_BITS: [usize; 3] = [128, 256, 512];

fn derived_aead(
    policy: &KeyPolicy,
    loaded: &LoadedVersion,
    context: Option<&[u8]>,
) -> KmsResult<AeadKey> {
    let context = match context {
        Some(c) if !c.is_empty() => c,
        _ => {
            return Err(KmsError::invalid(
                "missing 'context' for key derivation; the key was created using a derived key, \
                 which means additional, per-request information must be included in order to \
                 perform operations with the key",
            ));
        }
    };
    let algorithm = policy.key_type.aead().expect("derived keys are AEAD keys");
    let hash = if policy.key_type == KeyType::Sm4Gcm96 {
        HashAlgorithm::Sm3
    } else {
        HashAlgorithm::Sha256
    };
    let key = kdf::hkdf(
        hash,
        loaded.material.key.expose(),
        &[],
        context,
        algorithm.key_len(),
    )?;
    Ok(AeadKey::new(algorithm, &key)?)
}

fn check_associated_data(key_type: KeyType, associated_data: Option<&[u8]>) -> KmsResult<()> {
    if associated_data.is_some_and(|a| !a.is_empty()) && !key_type.supports_associated_data() {
        return Err(KmsError::invalid(format!(
            "associated_data is not supported for key type {key_type}"
        )));
    }
    Ok(())
}

/// Encrypts `plaintext` with one loaded version.
fn seal_payload(
    policy: &KeyPolicy,
    loaded: &LoadedVersion,
    context: Option<&[u8]>,
    associated_data: Option<&[u8]>,
    plaintext: &[u8],
) -> KmsResult<Vec<u8>> {
    check_associated_data(policy.key_type, associated_data)?;
    let aad = associated_data.unwrap_or_default();
    Ok(match &loaded.key {
        LoadedKey::Aead(k) => k.encrypt(aad, plaintext)?,
        LoadedKey::Raw if policy.derived => {
            derived_aead(policy, loaded, context)?.encrypt(aad, plaintext)?
        }
        LoadedKey::Rsa(k) => k.public_key()?.encrypt_oaep_sha256(plaintext)?,
        LoadedKey::Sm2(k) => k.public_key().encrypt(plaintext)?,
        _ => return Err(unsupported("encryption", policy.key_type)),
    })
}

/// Decrypts a payload with one loaded version.
fn open_payload(
    policy: &KeyPolicy,
    loaded: &LoadedVersion,
    context: Option<&[u8]>,
    associated_data: Option<&[u8]>,
    payload: &[u8],
) -> KmsResult<SecretBytes> {
    check_associated_data(policy.key_type, associated_data)?;
    let aad = associated_data.unwrap_or_default();
    Ok(match &loaded.key {
        LoadedKey::Aead(k) => k.decrypt(aad, payload)?,
        LoadedKey::Raw if policy.derived => {
            derived_aead(policy, loaded, context)?.decrypt(aad, payload)?
        }
        LoadedKey::Rsa(k) => k.decrypt_oaep_sha256(payload)?,
        LoadedKey::Sm2(k) => k.decrypt(payload)?,
        _ => return Err(unsupported("decryption", policy.key_type)),
    })
}

impl Kms {
    /// The key for an encrypt, created first when `upsert` allows.
    /// The key to encrypt with: the active key, created first when it is
    /// missing and `request.upsert` allows it (Vault's upsert).
    pub async fn encryption_key(
        &self,
        namespace: &str,
        name: &str,
        request: &EncryptRequest<'_>,
    ) -> KmsResult<KeyHandle> {
        match self.active_key(namespace, name).await {
            Err(KmsError::KeyNotFound(_)) if request.upsert => {
                let create = CreateKeyRequest {
                    key_type: request.upsert_type,
                    derived: request.context.is_some(),
                    ..CreateKeyRequest::default()
                };
                self.create_key(namespace, name, create).await?;
                self.active_key(namespace, name).await
            }
            other => other,
        }
    }

    /// Encrypts `plaintext`; returns `vault:v<N>:<base64>`.
    pub async fn encrypt(
        &self,
        namespace: &str,
        name: &str,
        plaintext: &[u8],
        request: EncryptRequest<'_>,
    ) -> KmsResult<String> {
        Ok(self
            .encrypt_versioned(namespace, name, plaintext, request)
            .await?
            .1)
    }

    /// Encrypts and returns the version used with the `vault:v<N>:` string.
    async fn encrypt_versioned(
        &self,
        namespace: &str,
        name: &str,
        plaintext: &[u8],
        request: EncryptRequest<'_>,
    ) -> KmsResult<(i64, String)> {
        let key = self.encryption_key(namespace, name, &request).await?;
        self.encrypt_versioned_with(&key, plaintext, request).await
    }

    /// Encrypts `plaintext` with `key` as read for this request (see
    /// [`Kms::encryption_key`]); returns `vault:v<N>:<base64>`.
    pub async fn encrypt_with(
        &self,
        key: &KeyHandle,
        plaintext: &[u8],
        request: EncryptRequest<'_>,
    ) -> KmsResult<String> {
        Ok(self
            .encrypt_versioned_with(key, plaintext, request)
            .await?
            .1)
    }

    async fn encrypt_versioned_with(
        &self,
        key: &KeyHandle,
        plaintext: &[u8],
        request: EncryptRequest<'_>,
    ) -> KmsResult<(i64, String)> {
        if !key.policy.key_type.supports_encryption() {
            return Err(unsupported("encryption", key.policy.key_type));
        }
        let version = key.policy.resolve_encryption_version(request.key_version)?;
        let loaded = self.version(key, version).await?;
        let payload = seal_payload(
            &key.policy,
            &loaded,
            request.context,
            request.associated_data,
            plaintext,
        )?;
        Ok((version, versioned::format(version, &payload)))
    }

    /// Decrypts a `vault:v<N>:` ciphertext.
    pub async fn decrypt(
        &self,
        namespace: &str,
        name: &str,
        ciphertext: &str,
        request: DecryptRequest<'_>,
    ) -> KmsResult<SecretBytes> {
        let key = self.active_key(namespace, name).await?;
        self.decrypt_with(&key, ciphertext, request).await
    }

    /// Decrypts with `key` as read for this request (see
    /// [`Kms::active_key`]).
    pub async fn decrypt_with(
        &self,
        key: &KeyHandle,
        ciphertext: &str,
        request: DecryptRequest<'_>,
    ) -> KmsResult<SecretBytes> {
        if !key.policy.key_type.supports_encryption() {
            return Err(unsupported("decryption", key.policy.key_type));
        }
        let (version, payload) = versioned::parse(ciphertext, "ciphertext")?;
        key.policy.check_decryption_version(version)?;
        let loaded = self.version(key, version).await?;
        open_payload(
            &key.policy,
            &loaded,
            request.context,
            request.associated_data,
            &payload,
        )
    }

    /// Decrypts and re-encrypts with the latest (or `key_version`) version,
    /// without the plaintext leaving the service.
    pub async fn rewrap(
        &self,
        namespace: &str,
        name: &str,
        ciphertext: &str,
        request: DecryptRequest<'_>,
        key_version: i64,
    ) -> KmsResult<String> {
        let key = self.active_key(namespace, name).await?;
        let plaintext = self.decrypt_with(&key, ciphertext, request).await?;
        let version = key.policy.resolve_encryption_version(key_version)?;
        let loaded = self.version(&key, version).await?;
        let payload = seal_payload(
            &key.policy,
            &loaded,
            request.context,
            request.associated_data,
            plaintext.expose(),
        )?;
        Ok(versioned::format(version, &payload))
    }

    /// Generates a random data key of `bits` and returns it encrypted (and in
    /// plaintext when `include_plaintext`).
    pub async fn datakey(
        &self,
        namespace: &str,
        name: &str,
        bits: usize,
        include_plaintext: bool,
        request: EncryptRequest<'_>,
    ) -> KmsResult<DataKey> {
        if !DATAKEY_BITS.contains(&bits) {
            return Err(KmsError::invalid("invalid bits: must be 128, 256 or 512"));
        }
        let plaintext = SecretBytes::from_slice(&random::bytes(bits / 8)?);
        let request = EncryptRequest {
            upsert: false,
            ..request
        };
        let (key_version, ciphertext) = self
            .encrypt_versioned(namespace, name, plaintext.expose(), request)
            .await?;
        Ok(DataKey {
            plaintext: include_plaintext.then_some(plaintext),
            ciphertext,
            key_version,
        })
    }
}
