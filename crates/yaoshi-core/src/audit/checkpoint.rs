//! Signed checkpoints (tree heads) and the audit signing key.
//!
//! A checkpoint commits to the Merkle root over records `1..=tree_size` and
//! to the entry hash of record `tree_size`; it is signed over the exact text
//! of [`Checkpoint::signed_text`]:
//!
//! ```text
//! yaoshi audit checkpoint v1\n
//! {tree_size}\n{root_hash}\n{head_hash}\n{time}\n
//! {hash_algorithm}\n{signature_algorithm}\n{key_id}\n
//! ```
//!
//! Signature algorithms: `sm2` (SM2 with SM3 over `Z || text`, signer id
//! `1234567812345678`, DER signature) and `ecdsa-p256-sha256` (ECDSA P-256
//! over SHA-256 of the text, DER signature). The key id is the hex of the
//! first 8 bytes of SM3 (`sm2`) or SHA-256 (`ecdsa-p256-sha256`) of the
//! public key's SubjectPublicKeyInfo DER.

use super::AuditError;
use super::chain::{ChainAlgorithm, Digest, digest_from_hex, digest_to_hex};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use yaoshi_crypto::SecretBytes;
use yaoshi_crypto::ecdsa::{EcdsaCurve, EcdsaPrivateKey, EcdsaPublicKey};
use yaoshi_crypto::hash::{HashAlgorithm, digest, sm3};
use yaoshi_crypto::pem;
use yaoshi_crypto::sm2::{Sm2PrivateKey, Sm2PublicKey};
use zeroize::Zeroizing;

/// The SM2 signer id used for checkpoints (the GM/T 0009 default).
pub const SM2_SIGNER_ID: &[u8] = b"1234567812345678";

/// First line of [`Checkpoint::signed_text`].
pub const CHECKPOINT_HEADER: &str = "yaoshi audit checkpoint v1";

/// Longest base64 signature accepted (a DER ECDSA/SM2 signature is ≤ 72 bytes).
const MAX_SIGNATURE_B64: usize = 256;

/// How checkpoints are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// SM2 with SM3, signer id `1234567812345678`, DER signature (`sm2`).
    Sm2,
    /// ECDSA over P-256 with SHA-256, DER signature (`ecdsa-p256-sha256`).
    EcdsaP256,
}

impl SignatureAlgorithm {
    /// `sm2` or `ecdsa-p256-sha256`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sm2 => "sm2",
            Self::EcdsaP256 => "ecdsa-p256-sha256",
        }
    }

    /// Parses [`name`](Self::name) exactly.
    pub fn from_name(name: &str) -> Result<Self, AuditError> {
        match name {
            "sm2" => Ok(Self::Sm2),
            "ecdsa-p256-sha256" => Ok(Self::EcdsaP256),
            other => Err(AuditError::UnknownAlgorithm(
                other.chars().take(64).collect(),
            )),
        }
    }

    const fn tag(self) -> u8 {
        match self {
            Self::Sm2 => 1,
            Self::EcdsaP256 => 2,
        }
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A signed tree head over the records `1..=tree_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Number of records covered (the last one's sequence number).
    pub tree_size: u64,
    /// Hex of the Merkle root over leaves `1..=tree_size`.
    pub root_hash: String,
    /// Hex of the entry hash of record `tree_size` (GENESIS when 0).
    pub head_hash: String,
    /// Unix seconds when it was signed.
    pub time: i64,
    /// `sm3` or `sha256`.
    pub hash_algorithm: String,
    /// `sm2` or `ecdsa-p256-sha256`.
    pub signature_algorithm: String,
    /// Hex of the first 8 bytes of the key's SPKI hash.
    pub key_id: String,
    /// Standard base64 of the DER signature over [`signed_text`](Self::signed_text).
    pub signature: String,
}

impl Checkpoint {
    /// The exact text that is signed.
    pub fn signed_text(&self) -> String {
        format!(
            "{CHECKPOINT_HEADER}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.tree_size,
            self.root_hash,
            self.head_hash,
            self.time,
            self.hash_algorithm,
            self.signature_algorithm,
            self.key_id
        )
    }

    /// The Merkle root.
    pub fn root(&self) -> Result<Digest, AuditError> {
        digest_from_hex(&self.root_hash)
    }

    /// The entry hash of record `tree_size`.
    pub fn head(&self) -> Result<Digest, AuditError> {
        digest_from_hex(&self.head_hash)
    }

    /// The chain's hash algorithm.
    pub fn chain_algorithm(&self) -> Result<ChainAlgorithm, AuditError> {
        ChainAlgorithm::from_name(&self.hash_algorithm)
    }

    /// Checks every field's syntax, that the checkpoint names `key`'s
    /// algorithm and key id, and the signature over
    /// [`signed_text`](Self::signed_text).
    pub fn verify(&self, key: &AuditPublicKey) -> Result<(), AuditError> {
        self.chain_algorithm()?;
        self.root()?;
        self.head()?;
        let algorithm = SignatureAlgorithm::from_name(&self.signature_algorithm)?;
        if algorithm != key.algorithm() {
            return Err(AuditError::KeyMismatch(format!(
                "checkpoint is signed with {}, the key is {}",
                algorithm,
                key.algorithm()
            )));
        }
        if self.key_id != key.key_id() {
            return Err(AuditError::KeyMismatch(format!(
                "checkpoint names key id {:?}, the key's id is {}",
                self.key_id.chars().take(32).collect::<String>(),
                key.key_id()
            )));
        }
        if self.signature.len() > MAX_SIGNATURE_B64 {
            return Err(AuditError::Signature);
        }
        let signature = STANDARD
            .decode(&self.signature)
            .map_err(|_| AuditError::Malformed("checkpoint signature is not base64".into()))?;
        key.verify(self.signed_text().as_bytes(), &signature)
    }
}

enum SigningInner {
    Sm2(Sm2PrivateKey),
    P256(EcdsaPrivateKey),
}

/// The private key that signs checkpoints: SM2 or ECDSA P-256. Its `Debug`
/// shows only the algorithm and key id.
pub struct AuditSigningKey {
    inner: SigningInner,
    public: AuditPublicKey,
    /// Tag byte + PKCS#8 DER, computed once so `to_bytes` cannot fail.
    encoded: SecretBytes,
}

impl std::fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigningKey")
            .field("algorithm", &self.public.algorithm())
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl AuditSigningKey {
    fn from_inner(inner: SigningInner) -> Result<Self, AuditError> {
        let (public, pkcs8) = match &inner {
            SigningInner::Sm2(k) => (
                AuditPublicKey::from_sm2(k.public_key().clone())?,
                k.to_pkcs8_der()?,
            ),
            SigningInner::P256(k) => (AuditPublicKey::from_p256(k.public_key()), k.to_pkcs8_der()),
        };
        let mut encoded = Zeroizing::new(Vec::with_capacity(1 + pkcs8.len()));
        encoded.push(public.algorithm().tag());
        encoded.extend_from_slice(pkcs8.expose());
        Ok(Self {
            inner,
            public,
            encoded: SecretBytes::from_slice(&encoded),
        })
    }

    /// Generates a new key with the system CSPRNG.
    pub fn generate(alg: SignatureAlgorithm) -> Result<Self, AuditError> {
        Self::from_inner(match alg {
            SignatureAlgorithm::Sm2 => SigningInner::Sm2(Sm2PrivateKey::generate()?),
            SignatureAlgorithm::EcdsaP256 => {
                SigningInner::P256(EcdsaPrivateKey::generate(EcdsaCurve::P256)?)
            }
        })
    }

    /// A self-describing encoding to be sealed by the caller: one tag byte
    /// (1 = SM2, 2 = ECDSA P-256) followed by the PKCS#8 DER private key.
    pub fn to_bytes(&self) -> SecretBytes {
        self.encoded.clone()
    }

    /// Parses [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AuditError> {
        let (tag, der) = bytes
            .split_first()
            .ok_or_else(|| AuditError::Malformed("empty audit signing key".into()))?;
        let inner = if *tag == SignatureAlgorithm::Sm2.tag() {
            SigningInner::Sm2(Sm2PrivateKey::from_pkcs8_der(der)?)
        } else if *tag == SignatureAlgorithm::EcdsaP256.tag() {
            SigningInner::P256(EcdsaPrivateKey::from_pkcs8_der(EcdsaCurve::P256, der)?)
        } else {
            return Err(AuditError::Malformed(
                "unknown audit signing key type tag".into(),
            ));
        };
        Self::from_inner(inner)
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.public.algorithm()
    }

    /// The public key, for verifiers.
    pub fn public_key(&self) -> AuditPublicKey {
        self.public.clone()
    }

    /// Signs `message` (DER signature).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuditError> {
        Ok(match &self.inner {
            SigningInner::Sm2(k) => k.sign(SM2_SIGNER_ID, message)?,
            SigningInner::P256(k) => k.sign(HashAlgorithm::Sha256, message)?,
        })
    }

    /// Builds and signs the checkpoint for `tree_size` records with Merkle
    /// root `root` and last entry hash `head`.
    pub fn sign_checkpoint(
        &self,
        hash_algorithm: ChainAlgorithm,
        tree_size: u64,
        root: &Digest,
        head: &Digest,
        time: i64,
    ) -> Result<Checkpoint, AuditError> {
        let mut cp = Checkpoint {
            tree_size,
            root_hash: digest_to_hex(root),
            head_hash: digest_to_hex(head),
            time,
            hash_algorithm: hash_algorithm.name().to_owned(),
            signature_algorithm: self.algorithm().name().to_owned(),
            key_id: self.public.key_id(),
            signature: String::new(),
        };
        cp.signature = STANDARD.encode(self.sign(cp.signed_text().as_bytes())?);
        Ok(cp)
    }
}

#[derive(Clone, Debug)]
enum PublicInner {
    Sm2(Sm2PublicKey),
    P256(EcdsaPublicKey),
}

/// The public half of the audit signing key, all a verifier needs.
#[derive(Clone, Debug)]
pub struct AuditPublicKey {
    inner: PublicInner,
    spki_der: Vec<u8>,
    key_id: String,
}

impl PartialEq for AuditPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for AuditPublicKey {}

impl AuditPublicKey {
    fn from_sm2(key: Sm2PublicKey) -> Result<Self, AuditError> {
        let spki_der = key.to_spki_der()?;
        let key_id = hex::encode(&sm3(&spki_der)[..8]);
        Ok(Self {
            inner: PublicInner::Sm2(key),
            spki_der,
            key_id,
        })
    }

    fn from_p256(key: EcdsaPublicKey) -> Self {
        let spki_der = key.to_spki_der();
        let key_id = hex::encode(&digest(HashAlgorithm::Sha256, &spki_der)[..8]);
        Self {
            inner: PublicInner::P256(key),
            spki_der,
            key_id,
        }
    }

    /// Parses SubjectPublicKeyInfo DER: an SM2 key (id-ecPublicKey on the SM2
    /// curve) or an ECDSA P-256 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, AuditError> {
        if let Ok(key) = Sm2PublicKey::from_spki_der(der) {
            return Self::from_sm2(key);
        }
        match EcdsaPublicKey::from_spki_der(EcdsaCurve::P256, der) {
            Ok(key) => Ok(Self::from_p256(key)),
            Err(_) => Err(AuditError::Malformed(
                "not an SM2 or ECDSA P-256 public key".into(),
            )),
        }
    }

    /// Parses a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`),
    /// detecting SM2 or P-256.
    pub fn from_pem(pem_text: &str) -> Result<Self, AuditError> {
        let der = pem::decode_labelled(pem_text.trim(), pem::PUBLIC_KEY)
            .map_err(|_| AuditError::Malformed("not a PUBLIC KEY PEM".into()))?;
        Self::from_spki_der(der.expose())
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn to_pem(&self) -> Result<String, AuditError> {
        Ok(pem::encode(pem::PUBLIC_KEY, &self.spki_der)?)
    }

    /// SubjectPublicKeyInfo DER (what the key id hashes).
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The signature algorithm this key verifies.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self.inner {
            PublicInner::Sm2(_) => SignatureAlgorithm::Sm2,
            PublicInner::P256(_) => SignatureAlgorithm::EcdsaP256,
        }
    }

    /// Hex of the first 8 bytes of SM3 (SM2 keys) or SHA-256 (P-256 keys) of
    /// the SPKI DER.
    pub fn key_id(&self) -> String {
        self.key_id.clone()
    }

    /// Verifies a DER signature over `message`.
    pub fn verify(&self, message: &[u8], signature_der: &[u8]) -> Result<(), AuditError> {
        let ok = match &self.inner {
            PublicInner::Sm2(k) => k.verify(SM2_SIGNER_ID, message, signature_der),
            PublicInner::P256(k) => k.verify(HashAlgorithm::Sha256, message, signature_der),
        };
        ok.map_err(|_| AuditError::Signature)
    }
}
