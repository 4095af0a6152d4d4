//! Signatures and HMACs.
//!
//! Defaults follow Vault: SHA-256 and, for RSA, PSS (salt length = hash
//! length). `sm2` always signs with SM3 over `Z || message` with the signer ID
//! (default `1234567812345678`); `ed25519` signs the message itself. SM3 is
//! accepted for `sm2` and HMACs, not for ECDSA or RSA. Signatures are DER for
//! ECDSA and SM2, raw for Ed25519 and RSA, in `vault:v<N>:` form.

use super::{KeyHandle, Kms, unsupported};
use crate::error::{KmsError, KmsResult};
use crate::key::{KeyType, LoadedKey, LoadedVersion, versioned};
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::mac;
use yaoshi_crypto::rsa::RsaPadding;
use yaoshi_crypto::sm2::DEFAULT_SIGNER_ID;

/// Options of a sign or verify request.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignRequest<'a> {
    /// Hash (`None` = the type's default: SM3 for sm2, SHA-256 otherwise).
    pub hash: Option<HashAlgorithm>,
    /// The input is already a digest of the hash's length.
    pub prehashed: bool,
    /// RSA padding (`None` = PSS).
    pub padding: Option<RsaPadding>,
    /// Version to sign with; 0 = latest (ignored by verify).
    pub key_version: i64,
    /// SM2 signer ID (`None` = `1234567812345678`).
    pub signer_id: Option<&'a [u8]>,
}

/// Parses Vault's `signature_algorithm` (`pss`, `pkcs1v15`).
pub fn parse_padding(name: &str) -> KmsResult<RsaPadding> {
    match name {
        "pss" => Ok(RsaPadding::Pss),
        "pkcs1v15" => Ok(RsaPadding::Pkcs1v15),
        other => Err(KmsError::invalid(format!(
            "unsupported signature_algorithm {other:?}: use pss or pkcs1v15"
        ))),
    }
}

/// The hash a request resolves to for `key_type`.
fn signing_hash(key_type: KeyType, requested: Option<HashAlgorithm>) -> KmsResult<HashAlgorithm> {
    match (key_type, requested) {
        (KeyType::Sm2, None | Some(HashAlgorithm::Sm3)) => Ok(HashAlgorithm::Sm3),
        (KeyType::Sm2, Some(_)) => Err(KmsError::invalid(
            "sm2 signatures always use sm3; omit hash_algorithm or pass sm3",
        )),
        (_, Some(HashAlgorithm::Sm3)) => Err(KmsError::invalid(format!(
            "hash algorithm sm3 is not supported for key type {key_type}; use an sm2 key"
        ))),
        (_, requested) => Ok(requested.unwrap_or(HashAlgorithm::Sha256)),
    }
}

fn check_digest_len(hash: HashAlgorithm, digest: &[u8]) -> KmsResult<()> {
    if digest.len() != hash.output_len() {
        return Err(KmsError::invalid(format!(
            "prehashed input must be a {}-byte {} digest",
            hash.output_len(),
            hash.vault_name()
        )));
    }
    Ok(())
}

/// Refuses `prehashed` for Ed25519 and RSA keys and checks the digest length
/// for the others (SM2's digest is `e = SM3(Z || M)`, 32 bytes).
fn check_prehashed(
    key_type: KeyType,
    hash: HashAlgorithm,
    req: &SignRequest<'_>,
    input: &[u8],
) -> KmsResult<()> {
    if !req.prehashed {
        return Ok(());
    }
    if key_type == KeyType::Ed25519 || key_type.rsa_bits().is_some() {
        return Err(KmsError::invalid(format!(
            "prehashed is not supported for {key_type} keys"
        )));
    }
    check_digest_len(hash, input)
}

/// An SM2 prehashed input, already length-checked by [`check_prehashed`].
fn sm2_digest(input: &[u8]) -> KmsResult<&[u8; 32]> {
    input
        .try_into()
        .map_err(|_| KmsError::invalid("prehashed input must be a 32-byte sm3 digest"))
}

fn sign_with(loaded: &LoadedVersion, input: &[u8], req: &SignRequest<'_>) -> KmsResult<Vec<u8>> {
    let hash = signing_hash(loaded.key_type, req.hash)?;
    check_prehashed(loaded.key_type, hash, req, input)?;
    Ok(match &loaded.key {
        LoadedKey::Ed25519(k) => k.sign(input),
        LoadedKey::Ecdsa(k) if req.prehashed => k.sign_prehashed(hash, input)?,
        LoadedKey::Ecdsa(k) => k.sign(hash, input)?,
        LoadedKey::Rsa(k) => k.sign(req.padding.unwrap_or(RsaPadding::Pss), hash, input)?,
        LoadedKey::Sm2(k) if req.prehashed => k.sign_digest(sm2_digest(input)?)?,
        LoadedKey::Sm2(k) => k.sign(req.signer_id.unwrap_or(DEFAULT_SIGNER_ID), input)?,
        _ => return Err(unsupported("signing", loaded.key_type)),
    })
}

fn verify_with(
    loaded: &LoadedVersion,
    input: &[u8],
    signature: &[u8],
    req: &SignRequest<'_>,
) -> KmsResult<bool> {
    let hash = signing_hash(loaded.key_type, req.hash)?;
    check_prehashed(loaded.key_type, hash, req, input)?;
    let result = match &loaded.key {
        LoadedKey::Ed25519(k) => k.public_key().verify(input, signature),
        LoadedKey::Ecdsa(k) if req.prehashed => {
            k.public_key().verify_prehashed(hash, input, signature)
        }
        LoadedKey::Ecdsa(k) => k.public_key().verify(hash, input, signature),
        LoadedKey::Rsa(k) => k.public_key()?.verify(
            req.padding.unwrap_or(RsaPadding::Pss),
            hash,
            input,
            signature,
        ),
        LoadedKey::Sm2(k) if req.prehashed => {
            k.public_key().verify_digest(sm2_digest(input)?, signature)
        }
        LoadedKey::Sm2(k) => {
            k.public_key()
                .verify(req.signer_id.unwrap_or(DEFAULT_SIGNER_ID), input, signature)
        }
        _ => return Err(unsupported("verification", loaded.key_type)),
    };
    Ok(result.is_ok())
}

impl Kms {
    async fn signing_key(&self, namespace: &str, name: &str) -> KmsResult<KeyHandle> {
        let key = self.active_key(namespace, name).await?;
        if !key.policy.key_type.supports_signing() {
            return Err(unsupported("signing", key.policy.key_type));
        }
        Ok(key)
    }

    /// Signs `input`; returns `vault:v<N>:<base64 signature>`.
    pub async fn sign(
        &self,
        namespace: &str,
        name: &str,
        input: &[u8],
        request: SignRequest<'_>,
    ) -> KmsResult<String> {
        let key = self.signing_key(namespace, name).await?;
        let version = key.policy.resolve_encryption_version(request.key_version)?;
        let loaded = self.version(&key, version).await?;
        Ok(versioned::format(
            version,
            &sign_with(&loaded, input, &request)?,
        ))
    }

    /// Verifies a `vault:v<N>:` signature over `input`. `Ok(false)` when the
    /// signature does not verify; errors for malformed requests.
    pub async fn verify(
        &self,
        namespace: &str,
        name: &str,
        input: &[u8],
        signature: &str,
        request: SignRequest<'_>,
    ) -> KmsResult<bool> {
        let key = self.signing_key(namespace, name).await?;
        let (version, signature) = versioned::parse(signature, "signature")?;
        key.policy.check_decryption_version(version)?;
        let loaded = self.version(&key, version).await?;
        verify_with(&loaded, input, &signature, &request)
    }

    /// HMAC of `input` with the version's HMAC key (every key type has one).
    pub async fn hmac(
        &self,
        namespace: &str,
        name: &str,
        input: &[u8],
        hash: Option<HashAlgorithm>,
        key_version: i64,
    ) -> KmsResult<String> {
        let key = self.active_key(namespace, name).await?;
        let version = key.policy.resolve_encryption_version(key_version)?;
        let loaded = self.version(&key, version).await?;
        let tag = mac::hmac(
            hash.unwrap_or(HashAlgorithm::Sha256),
            loaded.material.hmac_key.expose(),
            input,
        );
        Ok(versioned::format(version, &tag))
    }

    /// Verifies a `vault:v<N>:` HMAC in constant time.
    pub async fn verify_hmac(
        &self,
        namespace: &str,
        name: &str,
        input: &[u8],
        hmac: &str,
        hash: Option<HashAlgorithm>,
    ) -> KmsResult<bool> {
        let key = self.active_key(namespace, name).await?;
        let (version, tag) = versioned::parse(hmac, "hmac")?;
        key.policy.check_decryption_version(version)?;
        let loaded = self.version(&key, version).await?;
        Ok(mac::hmac_verify(
            hash.unwrap_or(HashAlgorithm::Sha256),
            loaded.material.hmac_key.expose(),
            input,
            &tag,
        )
        .is_ok())
    }
}
