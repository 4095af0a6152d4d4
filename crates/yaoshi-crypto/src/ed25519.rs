//! Ed25519 (RFC 8032) signatures on aws-lc-rs.

use crate::error::{CryptoError, Result};
use crate::pem;
use crate::secret::SecretBytes;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::signature::{self as sig, Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

/// Fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32-byte key.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// An Ed25519 private key.
pub struct Ed25519PrivateKey {
    pair: Ed25519KeyPair,
}

impl core::fmt::Debug for Ed25519PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ed25519PrivateKey").finish_non_exhaustive()
    }
}

/// An Ed25519 public key (32 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519PublicKey([u8; 32]);

impl Ed25519PrivateKey {
    /// Generates a new key.
    pub fn generate() -> Result<Self> {
        Ed25519KeyPair::generate()
            .map(|pair| Self { pair })
            .map_err(|_| CryptoError::Internal("Ed25519 key generation"))
    }

    /// Builds a key from its 32-byte seed (the RFC 8032 private key).
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        if seed.len() != 32 {
            return Err(CryptoError::InvalidKeyLength {
                algorithm: "ed25519",
                expected: 32,
                actual: seed.len(),
            });
        }
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|pair| Self { pair })
            .map_err(|_| CryptoError::InvalidKey("Ed25519 seed"))
    }

    /// Parses PKCS#8 DER (v1 or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map(|pair| Self { pair })
            .map_err(|_| CryptoError::InvalidKey("not an Ed25519 PKCS#8 key"))
    }

    /// Parses PKCS#8 PEM.
    pub fn from_pem(pem_text: &str) -> Result<Self> {
        Self::from_pkcs8_der(pem::decode_labelled(pem_text, pem::PRIVATE_KEY)?.expose())
    }

    /// The 32-byte seed (the RFC 8032 private key), read from the PKCS#8 v1
    /// encoding, whose last 32 bytes it is.
    pub fn seed(&self) -> Result<SecretBytes> {
        let der = self.to_pkcs8_der()?;
        let bytes = der.expose();
        if bytes.len() != 48 {
            return Err(CryptoError::Internal("Ed25519 PKCS#8 v1 layout"));
        }
        Ok(SecretBytes::from_slice(&bytes[16..]))
    }

    /// PKCS#8 v1 DER (RFC 8410), which every OpenSSL version reads.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        let der: Pkcs8V1Der<'static> = self
            .pair
            .as_der()
            .map_err(|_| CryptoError::Internal("Ed25519 PKCS#8 encoding"))?;
        Ok(SecretBytes::from_slice(der.as_ref()))
    }

    /// PKCS#8 v1 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        pem::encode_secret(pem::PRIVATE_KEY, &self.to_pkcs8_der()?)
    }

    /// The public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        let mut key = [0u8; 32];
        key.copy_from_slice(self.pair.public_key().as_ref());
        Ed25519PublicKey(key)
    }

    /// Signs `message` (pure Ed25519, no prehash); returns the 64-byte signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

impl Ed25519PublicKey {
    /// Builds a public key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| CryptoError::InvalidKeyLength {
                algorithm: "ed25519",
                expected: 32,
                actual: bytes.len(),
            })
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Vec<u8> {
        [&SPKI_PREFIX[..], &self.0[..]].concat()
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn to_spki_pem(&self) -> Result<String> {
        pem::encode(pem::PUBLIC_KEY, &self.to_spki_der())
    }

    /// Parses SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let raw = der
            .strip_prefix(&SPKI_PREFIX[..])
            .ok_or(CryptoError::InvalidKey(
                "not an Ed25519 SubjectPublicKeyInfo",
            ))?;
        Self::from_bytes(raw)
    }

    /// Parses SubjectPublicKeyInfo PEM.
    pub fn from_spki_pem(pem_text: &str) -> Result<Self> {
        Self::from_spki_der(pem::decode_labelled(pem_text, pem::PUBLIC_KEY)?.expose())
    }

    /// Verifies a 64-byte signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        sig::UnparsedPublicKey::new(&sig::ED25519, &self.0)
            .verify(message, signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}
