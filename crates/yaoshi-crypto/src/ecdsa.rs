//! ECDSA over NIST P-256, P-384 and P-521 with DER (ASN.1) signatures.
//!
//! aws-lc-rs signs when the hash is the curve's natural one (P-256/SHA-256,
//! P-384/SHA-384, P-521 with any SHA-2); for the other pairings Vault allows
//! (e.g. P-384 with SHA-256, Vault's default hash) the RustCrypto `p256`/`p384`
//! crates sign the prehashed digest. Verification is aws-lc-rs throughout.

use crate::error::{CryptoError, Result};
use crate::hash::{self, HashAlgorithm};
use crate::pem;
use crate::secret::SecretBytes;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair};
use zeroize::Zeroizing;

/// A NIST prime curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdsaCurve {
    /// P-256 (secp256r1).
    P256,
    /// P-384 (secp384r1).
    P384,
    /// P-521 (secp521r1).
    P521,
}

impl EcdsaCurve {
    /// Every supported curve.
    pub const ALL: [EcdsaCurve; 3] = [Self::P256, Self::P384, Self::P521];

    /// The hash that pairs naturally with the curve.
    pub const fn native_hash(self) -> HashAlgorithm {
        match self {
            Self::P256 => HashAlgorithm::Sha256,
            Self::P384 => HashAlgorithm::Sha384,
            Self::P521 => HashAlgorithm::Sha512,
        }
    }

    /// Length of an uncompressed SEC1 point.
    pub const fn point_len(self) -> usize {
        match self {
            Self::P256 => 65,
            Self::P384 => 97,
            Self::P521 => 133,
        }
    }

    /// The DER of a SubjectPublicKeyInfo up to the point: `SEQUENCE { SEQUENCE {
    /// id-ecPublicKey, namedCurve }, BIT STRING (0 unused bits) }`.
    const fn spki_prefix(self) -> &'static [u8] {
        match self {
            Self::P256 => &[
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
            ],
            Self::P384 => &[
                0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
            ],
            Self::P521 => &[
                0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00,
            ],
        }
    }

    fn native_signing(self) -> &'static sig::EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384 => &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
            Self::P521 => &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    fn verification(self, hash: HashAlgorithm) -> Result<&'static sig::EcdsaVerificationAlgorithm> {
        use HashAlgorithm::*;
        Ok(match (self, hash) {
            (Self::P256, Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
            (Self::P256, Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
            (Self::P256, Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
            (Self::P384, Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
            (Self::P384, Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
            (Self::P384, Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
            (Self::P521, Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
            (Self::P521, Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
            (Self::P521, Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
            (_, Sm3) => return Err(CryptoError::Unsupported("ECDSA with SM3 (use an sm2 key)")),
        })
    }

    fn p521_signing(hash: HashAlgorithm) -> Result<&'static sig::EcdsaSigningAlgorithm> {
        match hash {
            HashAlgorithm::Sha256 => Ok(&sig::ECDSA_P521_SHA256_ASN1_SIGNING),
            HashAlgorithm::Sha384 => Ok(&sig::ECDSA_P521_SHA384_ASN1_SIGNING),
            HashAlgorithm::Sha512 => Ok(&sig::ECDSA_P521_SHA512_ASN1_SIGNING),
            HashAlgorithm::Sm3 => Err(CryptoError::Unsupported("ECDSA with SM3 (use an sm2 key)")),
        }
    }
}

/// An ECDSA private key (kept as PKCS#8, wiped on drop) with its aws-lc-rs signer.
pub struct EcdsaPrivateKey {
    curve: EcdsaCurve,
    pair: EcdsaKeyPair,
    pkcs8: SecretBytes,
}

impl core::fmt::Debug for EcdsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdsaPrivateKey")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

/// An ECDSA public key as an uncompressed SEC1 point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdsaPublicKey {
    curve: EcdsaCurve,
    point: Vec<u8>,
}

impl EcdsaPrivateKey {
    /// Generates a new key on `curve`.
    pub fn generate(curve: EcdsaCurve) -> Result<Self> {
        let pair = EcdsaKeyPair::generate(curve.native_signing())
            .map_err(|_| CryptoError::Internal("ECDSA key generation"))?;
        let pkcs8 = pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::Internal("ECDSA PKCS#8 encoding"))?;
        Self::from_pkcs8_der(curve, pkcs8.as_ref())
    }

    /// Parses PKCS#8 DER for `curve`.
    pub fn from_pkcs8_der(curve: EcdsaCurve, der: &[u8]) -> Result<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(curve.native_signing(), der)
            .map_err(|_| CryptoError::InvalidKey("not a PKCS#8 key on this curve"))?;
        let pkcs8 = pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::Internal("ECDSA PKCS#8 encoding"))?;
        Ok(Self {
            curve,
            pair,
            pkcs8: SecretBytes::from_slice(pkcs8.as_ref()),
        })
    }

    /// Parses a PEM private key (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`).
    pub fn from_pem(curve: EcdsaCurve, pem_text: &str) -> Result<Self> {
        let (label, der) = pem::decode(pem_text)?;
        match label.as_str() {
            pem::PRIVATE_KEY => Self::from_pkcs8_der(curve, der.expose()),
            pem::EC_PRIVATE_KEY => {
                let pair = EcdsaKeyPair::from_private_key_der(curve.native_signing(), der.expose())
                    .map_err(|_| CryptoError::InvalidKey("not an EC private key on this curve"))?;
                let pkcs8 = pair
                    .to_pkcs8v1()
                    .map_err(|_| CryptoError::Internal("ECDSA PKCS#8 encoding"))?;
                Self::from_pkcs8_der(curve, pkcs8.as_ref())
            }
            _ => Err(CryptoError::InvalidEncoding("unexpected PEM label")),
        }
    }

    /// The curve.
    pub fn curve(&self) -> EcdsaCurve {
        self.curve
    }

    /// PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> SecretBytes {
        self.pkcs8.clone()
    }

    /// PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        pem::encode_secret(pem::PRIVATE_KEY, &self.pkcs8)
    }

    /// SEC1 / RFC 5915 `EC PRIVATE KEY` PEM, the form Vault exports.
    pub fn to_sec1_pem(&self) -> Result<Zeroizing<String>> {
        let der = self
            .pair
            .private_key()
            .as_der()
            .map_err(|_| CryptoError::Internal("ECDSA SEC1 encoding"))?;
        pem::encode_secret(pem::EC_PRIVATE_KEY, &SecretBytes::from_slice(der.as_ref()))
    }

    /// The public key.
    pub fn public_key(&self) -> EcdsaPublicKey {
        EcdsaPublicKey {
            curve: self.curve,
            point: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// Signs `message` hashed with `hash`; returns a DER signature.
    pub fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        if hash == self.curve.native_hash() {
            let signature = self
                .pair
                .sign(&SystemRandom::new(), message)
                .map_err(|_| CryptoError::Internal("ECDSA signing"))?;
            return Ok(signature.as_ref().to_vec());
        }
        self.sign_prehashed(hash, &hash::digest(hash, message))
    }

    /// Signs an already computed `digest` of the message under `hash`.
    pub fn sign_prehashed(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>> {
        if digest.len() != hash.output_len() {
            return Err(CryptoError::InvalidInput(
                "digest length does not match the hash algorithm",
            ));
        }
        match self.curve {
            EcdsaCurve::P256 => {
                self.curve.verification(hash)?;
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(self.pkcs8.expose())
                    .map_err(|_| CryptoError::Internal("P-256 key conversion"))?;
                sign_prehash_rustcrypto::<p256::ecdsa::Signature, _>(&key, digest)
            }
            EcdsaCurve::P384 => {
                self.curve.verification(hash)?;
                let key = p384::ecdsa::SigningKey::from_pkcs8_der(self.pkcs8.expose())
                    .map_err(|_| CryptoError::Internal("P-384 key conversion"))?;
                sign_prehash_rustcrypto::<p384::ecdsa::Signature, _>(&key, digest)
            }
            EcdsaCurve::P521 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(EcdsaCurve::p521_signing(hash)?, self.pkcs8.expose())
                        .map_err(|_| CryptoError::Internal("P-521 key conversion"))?;
                let digest = hash::aws_lc_digest(hash, digest)?;
                pair.sign_digest(&digest)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|_| CryptoError::Internal("ECDSA signing"))
            }
        }
    }
}

use p256::pkcs8::DecodePrivateKey as _;

fn sign_prehash_rustcrypto<S, K>(key: &K, digest: &[u8]) -> Result<Vec<u8>>
where
    K: p256::ecdsa::signature::hazmat::PrehashSigner<S>,
    S: DerEncodable,
{
    let signature: S = key
        .sign_prehash(digest)
        .map_err(|_| CryptoError::Internal("ECDSA signing"))?;
    Ok(signature.der_bytes())
}

/// DER encoding of a RustCrypto fixed-size ECDSA signature.
trait DerEncodable {
    fn der_bytes(&self) -> Vec<u8>;
}

impl DerEncodable for p256::ecdsa::Signature {
    fn der_bytes(&self) -> Vec<u8> {
        self.to_der().as_bytes().to_vec()
    }
}

impl DerEncodable for p384::ecdsa::Signature {
    fn der_bytes(&self) -> Vec<u8> {
        self.to_der().as_bytes().to_vec()
    }
}

impl EcdsaPublicKey {
    /// Builds a public key from a SEC1 point (uncompressed) on `curve`.
    pub fn from_sec1(curve: EcdsaCurve, point: &[u8]) -> Result<Self> {
        if point.len() != curve.point_len() || point.first() != Some(&0x04) {
            return Err(CryptoError::InvalidKey(
                "not an uncompressed point on this curve",
            ));
        }
        // Parsing through aws-lc-rs validates that the point is on the curve.
        sig::ParsedPublicKey::new(curve.verification(curve.native_hash())?, point)
            .map_err(|_| CryptoError::InvalidKey("not a point on this curve"))?;
        Ok(Self {
            curve,
            point: point.to_vec(),
        })
    }

    /// Parses SubjectPublicKeyInfo DER for `curve` (uncompressed point, the form
    /// OpenSSL and every KMS write).
    pub fn from_spki_der(curve: EcdsaCurve, der: &[u8]) -> Result<Self> {
        let point = der
            .strip_prefix(curve.spki_prefix())
            .ok_or(CryptoError::InvalidKey(
                "not an uncompressed public key on this curve",
            ))?;
        Self::from_sec1(curve, point)
    }

    /// Parses SubjectPublicKeyInfo PEM for `curve`.
    pub fn from_spki_pem(curve: EcdsaCurve, pem_text: &str) -> Result<Self> {
        Self::from_spki_der(
            curve,
            pem::decode_labelled(pem_text, pem::PUBLIC_KEY)?.expose(),
        )
    }

    /// The curve.
    pub fn curve(&self) -> EcdsaCurve {
        self.curve
    }

    /// Uncompressed SEC1 point.
    pub fn to_sec1(&self) -> &[u8] {
        &self.point
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let prefix = self.curve.spki_prefix();
        let mut der = Vec::with_capacity(prefix.len() + self.point.len());
        der.extend_from_slice(prefix);
        der.extend_from_slice(&self.point);
        der
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn to_spki_pem(&self) -> Result<String> {
        pem::encode(pem::PUBLIC_KEY, &self.to_spki_der())
    }

    /// Verifies a DER signature over `message` hashed with `hash`.
    pub fn verify(&self, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> Result<()> {
        sig::UnparsedPublicKey::new(self.curve.verification(hash)?, &self.point)
            .verify(message, signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }

    /// Verifies a DER signature over an already computed `digest` under `hash`.
    pub fn verify_prehashed(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let algorithm = self.curve.verification(hash)?;
        let digest = hash::aws_lc_digest(hash, digest)?;
        sig::UnparsedPublicKey::new(algorithm, &self.point)
            .verify_digest(&digest, signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}
