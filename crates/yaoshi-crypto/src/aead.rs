//! Authenticated encryption with associated data: SM4-GCM, AES-GCM and
//! ChaCha20-Poly1305, all with 96-bit nonces and 128-bit tags.
//!
//! SM4-GCM runs on yaoshi's timing-safe SIMD fast path (AES-NI S-box,
//! PCLMULQDQ GHASH) where the CPU has it, else on RustCrypto's generic GCM over
//! the `sm4` block cipher (the reference implementation); AES-GCM and
//! ChaCha20-Poly1305 run on aws-lc-rs.

use crate::error::{CryptoError, Result};
use crate::random;
use crate::secret::SecretBytes;
use aws_lc_rs::aead as awslc;

/// Nonce length of every AEAD here.
pub const NONCE_LEN: usize = 12;
/// Tag length of every AEAD here.
pub const TAG_LEN: usize = 16;

/// An AEAD algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    /// SM4 in GCM mode (RFC 8998), 128-bit key.
    Sm4Gcm,
    /// AES-128 in GCM mode.
    Aes128Gcm,
    /// AES-256 in GCM mode.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439).
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [AeadAlgorithm; 4] = [
        Self::Sm4Gcm,
        Self::Aes128Gcm,
        Self::Aes256Gcm,
        Self::ChaCha20Poly1305,
    ];

    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Sm4Gcm | Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// Short algorithm name used in errors and benchmarks.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sm4Gcm => "sm4-gcm",
            Self::Aes128Gcm => "aes128-gcm",
            Self::Aes256Gcm => "aes256-gcm",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    /// Generates a fresh random key for this algorithm.
    pub fn generate_key(self) -> Result<SecretBytes> {
        Ok(SecretBytes::from_slice(&random::bytes(self.key_len())?))
    }
}

enum Engine {
    Sm4(Box<crate::sm4_fast::Sm4Gcm>),
    AwsLc(awslc::LessSafeKey),
}

/// A keyed AEAD instance, ready to seal and open.
pub struct AeadKey {
    algorithm: AeadAlgorithm,
    engine: Engine,
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AeadKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl AeadKey {
    /// Builds a key from raw bytes, which must be exactly `algorithm.key_len()` long.
    pub fn new(algorithm: AeadAlgorithm, key: &[u8]) -> Result<Self> {
        if key.len() != algorithm.key_len() {
            return Err(CryptoError::InvalidKeyLength {
                algorithm: algorithm.name(),
                expected: algorithm.key_len(),
                actual: key.len(),
            });
        }
        let engine = match algorithm {
            AeadAlgorithm::Sm4Gcm => {
                let key: &[u8; 16] = key
                    .try_into()
                    .map_err(|_| CryptoError::InvalidKey("sm4 key"))?;
                Engine::Sm4(Box::new(crate::sm4_fast::Sm4Gcm::new(key)))
            }
            AeadAlgorithm::Aes128Gcm => aws_engine(&awslc::AES_128_GCM, key)?,
            AeadAlgorithm::Aes256Gcm => aws_engine(&awslc::AES_256_GCM, key)?,
            AeadAlgorithm::ChaCha20Poly1305 => aws_engine(&awslc::CHACHA20_POLY1305, key)?,
        };
        Ok(Self { algorithm, engine })
    }

    /// The algorithm of this key.
    pub fn algorithm(&self) -> AeadAlgorithm {
        self.algorithm
    }

    /// Encrypts `plaintext` under `nonce`, authenticating `aad`; returns `ciphertext || tag`.
    ///
    /// The caller must never reuse a nonce with the same key; prefer [`AeadKey::encrypt`].
    pub fn seal(&self, nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce = self.check_nonce(nonce)?;
        match &self.engine {
            Engine::Sm4(cipher) => cipher.seal(&nonce, aad, plaintext),
            Engine::AwsLc(key) => {
                let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
                buffer.extend_from_slice(plaintext);
                key.seal_in_place_append_tag(
                    awslc::Nonce::assume_unique_for_key(nonce),
                    awslc::Aad::from(aad),
                    &mut buffer,
                )
                .map_err(|_| CryptoError::InvalidInput("plaintext too long for AEAD"))?;
                Ok(buffer)
            }
        }
    }

    /// Decrypts `ciphertext || tag` produced by [`AeadKey::seal`] with the same nonce and `aad`.
    pub fn open(&self, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<SecretBytes> {
        let nonce = self.check_nonce(nonce)?;
        if sealed.len() < TAG_LEN {
            return Err(CryptoError::InvalidCiphertext("shorter than the tag"));
        }
        match &self.engine {
            Engine::Sm4(cipher) => cipher.open(&nonce, aad, sealed).map(SecretBytes::new),
            Engine::AwsLc(key) => {
                let mut buffer = sealed.to_vec();
                let result = key
                    .open_in_place(
                        awslc::Nonce::assume_unique_for_key(nonce),
                        awslc::Aad::from(aad),
                        &mut buffer,
                    )
                    .map(|plain| plain.len());
                match result {
                    Ok(len) => {
                        buffer.truncate(len);
                        Ok(SecretBytes::new(buffer))
                    }
                    Err(_) => Err(CryptoError::AuthenticationFailed),
                }
            }
        }
    }

    /// Encrypts with a fresh random nonce; returns `nonce(12) || ciphertext || tag(16)`,
    /// the payload layout of yaoshi (and Vault) ciphertexts.
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = random::array()?;
        let sealed = self.seal(&nonce, aad, plaintext)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts `nonce || ciphertext || tag` as produced by [`AeadKey::encrypt`].
    pub fn decrypt(&self, aad: &[u8], payload: &[u8]) -> Result<SecretBytes> {
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::CiphertextLength);
        }
        let (nonce, sealed) = payload.split_at(NONCE_LEN);
        self.open(nonce, aad, sealed)
    }

    fn check_nonce(&self, nonce: &[u8]) -> Result<[u8; NONCE_LEN]> {
        nonce
            .try_into()
            .map_err(|_| CryptoError::InvalidNonceLength {
                algorithm: self.algorithm.name(),
                expected: NONCE_LEN,
                actual: nonce.len(),
            })
    }
}

fn aws_engine(algorithm: &'static awslc::Algorithm, key: &[u8]) -> Result<Engine> {
    let unbound =
        awslc::UnboundKey::new(algorithm, key).map_err(|_| CryptoError::InvalidKey("AEAD key"))?;
    Ok(Engine::AwsLc(awslc::LessSafeKey::new(unbound)))
}
