//! RSA 2048/3072/4096 on aws-lc-rs: PKCS#1 v1.5 and PSS signatures, OAEP encryption.
//!
//! PSS uses MGF1 with the signing hash and a salt as long as the hash
//! (aws-lc-rs' fixed choice; Vault's `salt_length=hash`).

use crate::error::{CryptoError, Result};
use crate::hash::HashAlgorithm;
use crate::pem;
use crate::secret::SecretBytes;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{self as sig, KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

/// RSA modulus sizes yaoshi creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaBits {
    /// 2048-bit modulus.
    Rsa2048,
    /// 3072-bit modulus.
    Rsa3072,
    /// 4096-bit modulus.
    Rsa4096,
}

impl RsaBits {
    /// Modulus size in bits.
    pub const fn bits(self) -> usize {
        match self {
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            Self::Rsa4096 => 4096,
        }
    }
}

/// Signature padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15,
    /// RSASSA-PSS, MGF1 with the same hash, salt length = hash length.
    Pss,
}

fn signing_scheme(
    padding: RsaPadding,
    hash: HashAlgorithm,
) -> Result<&'static dyn sig::RsaEncoding> {
    Ok(match (padding, hash) {
        (RsaPadding::Pkcs1v15, HashAlgorithm::Sha256) => &sig::RSA_PKCS1_SHA256,
        (RsaPadding::Pkcs1v15, HashAlgorithm::Sha384) => &sig::RSA_PKCS1_SHA384,
        (RsaPadding::Pkcs1v15, HashAlgorithm::Sha512) => &sig::RSA_PKCS1_SHA512,
        (RsaPadding::Pss, HashAlgorithm::Sha256) => &sig::RSA_PSS_SHA256,
        (RsaPadding::Pss, HashAlgorithm::Sha384) => &sig::RSA_PSS_SHA384,
        (RsaPadding::Pss, HashAlgorithm::Sha512) => &sig::RSA_PSS_SHA512,
        (_, HashAlgorithm::Sm3) => return Err(CryptoError::Unsupported("RSA with SM3")),
    })
}

fn verification_scheme(
    padding: RsaPadding,
    hash: HashAlgorithm,
) -> Result<&'static sig::RsaParameters> {
    Ok(match (padding, hash) {
        (RsaPadding::Pkcs1v15, HashAlgorithm::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (RsaPadding::Pkcs1v15, HashAlgorithm::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (RsaPadding::Pkcs1v15, HashAlgorithm::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (RsaPadding::Pss, HashAlgorithm::Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
        (RsaPadding::Pss, HashAlgorithm::Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
        (RsaPadding::Pss, HashAlgorithm::Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
        (_, HashAlgorithm::Sm3) => return Err(CryptoError::Unsupported("RSA with SM3")),
    })
}

/// An RSA private key.
pub struct RsaPrivateKey {
    pair: RsaKeyPair,
    pkcs8: SecretBytes,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &(self.pair.public_modulus_len() * 8))
            .finish_non_exhaustive()
    }
}

/// An RSA public key (SubjectPublicKeyInfo DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    spki: Vec<u8>,
}

impl RsaPrivateKey {
    /// Generates a new key with public exponent 65537.
    pub fn generate(bits: RsaBits) -> Result<Self> {
        let size = match bits {
            RsaBits::Rsa2048 => KeySize::Rsa2048,
            RsaBits::Rsa3072 => KeySize::Rsa3072,
            RsaBits::Rsa4096 => KeySize::Rsa4096,
        };
        let pair =
            RsaKeyPair::generate(size).map_err(|_| CryptoError::Internal("RSA key generation"))?;
        let der: Pkcs8V1Der<'static> = pair
            .as_der()
            .map_err(|_| CryptoError::Internal("RSA PKCS#8 encoding"))?;
        Ok(Self {
            pkcs8: SecretBytes::from_slice(der.as_ref()),
            pair,
        })
    }

    /// Parses PKCS#8 DER; moduli from 2048 to 8192 bits are accepted.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|_| CryptoError::InvalidKey("not an RSA PKCS#8 key"))?;
        Ok(Self {
            pair,
            pkcs8: SecretBytes::from_slice(der),
        })
    }

    /// Parses PKCS#8 PEM.
    pub fn from_pem(pem_text: &str) -> Result<Self> {
        Self::from_pkcs8_der(pem::decode_labelled(pem_text, pem::PRIVATE_KEY)?.expose())
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.pair.public_modulus_len() * 8
    }

    /// PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> SecretBytes {
        self.pkcs8.clone()
    }

    /// PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        pem::encode_secret(pem::PRIVATE_KEY, &self.pkcs8)
    }

    /// The public key.
    pub fn public_key(&self) -> Result<RsaPublicKey> {
        let der: PublicKeyX509Der<'static> = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::Internal("RSA SPKI encoding"))?;
        Ok(RsaPublicKey {
            spki: der.as_ref().to_vec(),
        })
    }

    /// Signs `message` with `padding` and `hash`.
    pub fn sign(
        &self,
        padding: RsaPadding,
        hash: HashAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                signing_scheme(padding, hash)?,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| CryptoError::Internal("RSA signing"))?;
        Ok(signature)
    }

    /// Decrypts RSA-OAEP (SHA-256, MGF1-SHA-256, empty label).
    pub fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<SecretBytes> {
        let key = PrivateDecryptingKey::from_pkcs8(self.pkcs8.expose())
            .map_err(|_| CryptoError::Internal("RSA decryption key"))?;
        let key = OaepPrivateDecryptingKey::new(key)
            .map_err(|_| CryptoError::Internal("RSA decryption key"))?;
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let len = key
            .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, None)
            .map_err(|_| CryptoError::InvalidCiphertext("RSA-OAEP decryption failed"))?
            .len();
        Ok(SecretBytes::from_slice(&out[..len]))
    }
}

impl RsaPublicKey {
    /// Parses SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        PublicEncryptingKey::from_der(der)
            .map_err(|_| CryptoError::InvalidKey("not an RSA public key"))?;
        Ok(Self { spki: der.to_vec() })
    }

    /// Parses SubjectPublicKeyInfo PEM.
    pub fn from_spki_pem(pem_text: &str) -> Result<Self> {
        Self::from_spki_der(pem::decode_labelled(pem_text, pem::PUBLIC_KEY)?.expose())
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn to_spki_pem(&self) -> Result<String> {
        pem::encode(pem::PUBLIC_KEY, &self.spki)
    }

    /// Verifies a signature with `padding` and `hash`.
    pub fn verify(
        &self,
        padding: RsaPadding,
        hash: HashAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        sig::UnparsedPublicKey::new(verification_scheme(padding, hash)?, &self.spki)
            .verify(message, signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }

    /// Encrypts with RSA-OAEP (SHA-256, MGF1-SHA-256, empty label).
    pub fn encrypt_oaep_sha256(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = PublicEncryptingKey::from_der(&self.spki)
            .map_err(|_| CryptoError::InvalidKey("not an RSA public key"))?;
        let key = OaepPublicEncryptingKey::new(key)
            .map_err(|_| CryptoError::Internal("RSA encryption key"))?;
        if plaintext.len() > key.max_plaintext_size(&OAEP_SHA256_MGF1SHA256) {
            return Err(CryptoError::InvalidInput(
                "plaintext too long for RSA-OAEP with this key",
            ));
        }
        let mut out = vec![0u8; key.ciphertext_size()];
        let len = key
            .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, None)
            .map_err(|_| CryptoError::Internal("RSA-OAEP encryption"))?
            .len();
        out.truncate(len);
        Ok(out)
    }
}
