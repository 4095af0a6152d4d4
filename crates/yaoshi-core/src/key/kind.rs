//! Key types: the Vault/OpenBao names plus `sm4-gcm96` and `sm2`, and what
//! each type can do.

use serde::{Deserialize, Serialize};
use yaoshi_crypto::aead::AeadAlgorithm;
use yaoshi_crypto::ecdsa::EcdsaCurve;
use yaoshi_crypto::rsa::RsaBits;

/// A key type, serialised with its Vault name (`aes256-gcm96`, `sm2`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeyType {
    /// AES-128-GCM with 96-bit nonces.
    Aes128Gcm96,
    /// AES-256-GCM with 96-bit nonces.
    Aes256Gcm96,
    /// ChaCha20-Poly1305.
    Chacha20Poly1305,
    /// SM4-GCM with 96-bit nonces (RFC 8998).
    Sm4Gcm96,
    /// Ed25519 signatures.
    Ed25519,
    /// ECDSA on P-256.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// ECDSA on P-521.
    EcdsaP521,
    /// RSA-2048.
    Rsa2048,
    /// RSA-3072.
    Rsa3072,
    /// RSA-4096.
    Rsa4096,
    /// SM2 signatures (SM3 with a signer ID) and GM/T 0009 encryption.
    Sm2,
    /// A bare HMAC key.
    Hmac,
}

impl KeyType {
    /// Every key type.
    pub const ALL: [KeyType; 13] = [
        Self::Aes128Gcm96,
        Self::Aes256Gcm96,
        Self::Chacha20Poly1305,
        Self::Sm4Gcm96,
        Self::Ed25519,
        Self::EcdsaP256,
        Self::EcdsaP384,
        Self::EcdsaP521,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::Sm2,
        Self::Hmac,
    ];

    /// The Vault/OpenBao name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm96 => "aes128-gcm96",
            Self::Aes256Gcm96 => "aes256-gcm96",
            Self::Chacha20Poly1305 => "chacha20-poly1305",
            Self::Sm4Gcm96 => "sm4-gcm96",
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::EcdsaP521 => "ecdsa-p521",
            Self::Rsa2048 => "rsa-2048",
            Self::Rsa3072 => "rsa-3072",
            Self::Rsa4096 => "rsa-4096",
            Self::Sm2 => "sm2",
            Self::Hmac => "hmac",
        }
    }

    /// Parses a Vault/OpenBao type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The AEAD of a symmetric encryption type.
    pub const fn aead(self) -> Option<AeadAlgorithm> {
        match self {
            Self::Aes128Gcm96 => Some(AeadAlgorithm::Aes128Gcm),
            Self::Aes256Gcm96 => Some(AeadAlgorithm::Aes256Gcm),
            Self::Chacha20Poly1305 => Some(AeadAlgorithm::ChaCha20Poly1305),
            Self::Sm4Gcm96 => Some(AeadAlgorithm::Sm4Gcm),
            _ => None,
        }
    }

    /// The curve of an ECDSA type.
    pub const fn ecdsa_curve(self) -> Option<EcdsaCurve> {
        match self {
            Self::EcdsaP256 => Some(EcdsaCurve::P256),
            Self::EcdsaP384 => Some(EcdsaCurve::P384),
            Self::EcdsaP521 => Some(EcdsaCurve::P521),
            _ => None,
        }
    }

    /// The modulus size of an RSA type.
    pub const fn rsa_bits(self) -> Option<RsaBits> {
        match self {
            Self::Rsa2048 => Some(RsaBits::Rsa2048),
            Self::Rsa3072 => Some(RsaBits::Rsa3072),
            Self::Rsa4096 => Some(RsaBits::Rsa4096),
            _ => None,
        }
    }

    /// Symmetric encryption (AEAD) types.
    pub const fn is_symmetric(self) -> bool {
        self.aead().is_some()
    }

    /// Types whose keys are public/private pairs.
    pub const fn is_asymmetric(self) -> bool {
        matches!(
            self,
            Self::Ed25519
                | Self::EcdsaP256
                | Self::EcdsaP384
                | Self::EcdsaP521
                | Self::Rsa2048
                | Self::Rsa3072
                | Self::Rsa4096
                | Self::Sm2
        )
    }

    /// Types that encrypt and decrypt (AEADs, RSA-OAEP, SM2).
    pub const fn supports_encryption(self) -> bool {
        self.is_symmetric() || self.rsa_bits().is_some() || matches!(self, Self::Sm2)
    }

    /// Types that sign and verify.
    pub const fn supports_signing(self) -> bool {
        self.is_asymmetric()
    }

    /// Types whose keys may be derived per request from a `context`.
    pub const fn supports_derivation(self) -> bool {
        self.is_symmetric()
    }

    /// Types that accept `associated_data` on encrypt/decrypt.
    pub const fn supports_associated_data(self) -> bool {
        self.is_symmetric()
    }
}

impl core::fmt::Display for KeyType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for KeyType {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::from_name(&value).ok_or_else(|| format!("unknown key type {value:?}"))
    }
}

impl From<KeyType> for String {
    fn from(value: KeyType) -> String {
        value.name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_capabilities_are_consistent() {
        for t in KeyType::ALL {
            assert_eq!(KeyType::from_name(t.name()), Some(t));
            assert!(!(t.is_symmetric() && t.is_asymmetric()), "{t}");
            if t.supports_signing() {
                assert!(t.is_asymmetric(), "{t}");
            }
        }
        assert_eq!(KeyType::from_name("aes256-gcm"), None);
        assert!(KeyType::Sm2.supports_encryption() && KeyType::Sm2.supports_signing());
        assert!(!KeyType::Ed25519.supports_encryption());
        assert!(!KeyType::Hmac.supports_encryption() && !KeyType::Hmac.supports_signing());
    }
}
