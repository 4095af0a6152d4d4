//! SM2 key pairs and their encodings (raw, SEC1 points, PKCS#8 and SPKI in DER and PEM).
//!
//! PKCS#8 and SPKI use `id-ecPublicKey` with the SM2 curve OID
//! 1.2.156.10197.1.301, the form OpenSSL 3 reads and writes.

use super::point::Affine;
use super::scalar::Sc;
use super::table::{BaseTable, build_table};
use crate::error::{CryptoError, Result};
use crate::pem;
use crate::secret::SecretBytes;
use elliptic_curve::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use elliptic_curve::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use elliptic_curve::sec1::ToSec1Point;
use sm2::elliptic_curve;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use zeroize::{Zeroize, Zeroizing};

/// Maximum attempts to draw a valid scalar before giving up (the chance that
/// a uniformly random 256-bit string is invalid is about 2^-32).
const MAX_SCALAR_DRAWS: usize = 64;

/// An SM2 public key (a point on the SM2 curve, never the identity).
#[derive(Clone)]
pub struct Sm2PublicKey {
    pub(super) point: sm2::PublicKey,
    /// The fast-path form of the point and `Z` for the default signer ID,
    /// computed on first use (not part of equality).
    cache: OnceLock<Arc<PublicCache>>,
}

/// Values derived once per public key for the SM2 fast path (shared by clones).
#[derive(Debug)]
pub(super) struct PublicCache {
    /// The point in the fast path's field representation.
    pub(super) affine: Affine,
    /// `Z` for [`super::DEFAULT_SIGNER_ID`].
    pub(super) z_default: [u8; 32],
    /// How many verifications this key object has started (saturating).
    verifications: AtomicU32,
    /// The fixed-base table of the point (≈ 53 KB), built on the second
    /// verification: it costs about five verifications to build and makes
    /// each later one about twice as fast.
    table: OnceLock<Box<BaseTable>>,
}

impl PublicCache {
    /// The point's table if this key object has verified before (building
    /// it on the second call), `None` on the first.
    pub(super) fn verification_table(&self) -> Option<&BaseTable> {
        if let Some(table) = self.table.get() {
            return Some(table);
        }
        if self.verifications.fetch_add(1, Ordering::Relaxed) == 0 {
            return None;
        }
        Some(self.table.get_or_init(|| build_table(&self.affine)))
    }
}

impl PartialEq for Sm2PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.point == other.point
    }
}

impl Eq for Sm2PublicKey {}

impl core::fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm2PublicKey")
            .field("point", &self.point)
            .finish()
    }
}

/// An SM2 private key with its public key. The scalar is wiped on drop.
#[derive(Clone)]
pub struct Sm2PrivateKey {
    pub(super) secret: sm2::SecretKey,
    pub(super) public: Sm2PublicKey,
    /// `d` and `(1+d)^-1` for the fast signing path, wiped on drop.
    pub(super) scalars: SecretScalars,
}

/// The private scalar in the forms the signing equation needs, both in
/// Montgomery form mod `n` (`x·2^256 mod n`). Wiped on drop.
#[derive(Clone)]
pub(super) struct SecretScalars {
    /// `d·R mod n`.
    pub(super) d_mont: Sc,
    /// `(1+d)^-1·R mod n`.
    pub(super) one_plus_d_inv_mont: Sc,
}

impl Drop for SecretScalars {
    fn drop(&mut self) {
        self.d_mont.zeroize();
        self.one_plus_d_inv_mont.zeroize();
    }
}

impl SecretScalars {
    /// From the big-endian scalar `d` in `[1, n-2]`. Constant time.
    fn new(d_bytes: &[u8; 32]) -> Self {
        let mut d = Sc::reduce_bytes(d_bytes);
        let mut one_plus_d = d.add(&Sc::ONE).to_mont();
        let scalars = Self {
            d_mont: d.to_mont(),
            one_plus_d_inv_mont: one_plus_d.mont_invert(),
        };
        d.zeroize();
        one_plus_d.zeroize();
        scalars
    }
}

impl core::fmt::Debug for Sm2PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm2PrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Sm2PublicKey {
    pub(super) fn new(point: sm2::PublicKey) -> Self {
        Self {
            point,
            cache: OnceLock::new(),
        }
    }

    /// The per-key fast-path values, computed on first use.
    pub(super) fn cache(&self) -> &PublicCache {
        self.cache.get_or_init(|| {
            let (x, y) = self.coordinates();
            let affine =
                Affine::from_xy_bytes(&x, &y).expect("an sm2::PublicKey is a valid curve point");
            let z_default = self
                .compute_z(super::DEFAULT_SIGNER_ID)
                .expect("the default signer ID is short");
            Arc::new(PublicCache {
                affine,
                z_default,
                verifications: AtomicU32::new(0),
                table: OnceLock::new(),
            })
        })
    }

    /// Parses a SEC1 point (`04 || x || y`, or compressed `02/03 || x`).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self> {
        sm2::PublicKey::from_sec1_bytes(bytes)
            .map(Self::new)
            .map_err(|_| CryptoError::InvalidKey("not a point on the SM2 curve"))
    }

    /// The uncompressed SEC1 encoding, `04 || x || y` (65 bytes).
    pub fn to_sec1_uncompressed(&self) -> [u8; 65] {
        let point = self.point.to_sec1_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The affine coordinates `(x, y)`, 32 bytes each, big-endian.
    pub fn coordinates(&self) -> ([u8; 32], [u8; 32]) {
        split_xy(&self.to_sec1_uncompressed())
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        self.point
            .to_public_key_der()
            .map(|doc| doc.as_bytes().to_vec())
            .map_err(|_| CryptoError::Internal("SM2 SPKI encoding"))
    }

    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_spki_pem(&self) -> Result<String> {
        self.point
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| CryptoError::Internal("SM2 SPKI encoding"))
    }

    /// Parses SubjectPublicKeyInfo DER with the SM2 curve OID.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        sm2::PublicKey::from_public_key_der(der)
            .map(Self::new)
            .map_err(|_| CryptoError::InvalidKey("not an SM2 SubjectPublicKeyInfo"))
    }

    /// Parses SubjectPublicKeyInfo PEM with the SM2 curve OID.
    pub fn from_spki_pem(pem: &str) -> Result<Self> {
        sm2::PublicKey::from_public_key_pem(pem.trim())
            .map(Self::new)
            .map_err(|_| CryptoError::InvalidKey("not an SM2 public key PEM"))
    }
}

impl Sm2PrivateKey {
    /// Generates a key pair with the system CSPRNG; `d` is uniform in `[1, n-2]`.
    pub fn generate() -> Result<Self> {
        for _ in 0..MAX_SCALAR_DRAWS {
            let candidate = crate::random::bytes(32)?;
            if let Ok(key) = Self::from_bytes(&candidate) {
                return Ok(key);
            }
        }
        Err(CryptoError::RandomFailure)
    }

    /// Builds a key from the 32-byte big-endian scalar `d`, which must lie in `[1, n-2]`
    /// (GB/T 32918.1 §6.1; `d = n-1` would make `1 + d` non-invertible).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(CryptoError::InvalidKeyLength {
                algorithm: "sm2",
                expected: 32,
                actual: bytes.len(),
            });
        }
        let secret = sm2::SecretKey::from_slice(bytes)
            .map_err(|_| CryptoError::InvalidKey("SM2 private scalar out of range"))?;
        Self::from_secret(secret)
    }

    fn from_secret(secret: sm2::SecretKey) -> Result<Self> {
        let scalar = *secret.to_nonzero_scalar();
        let one_plus_d = scalar + sm2::Scalar::ONE;
        if bool::from(one_plus_d.is_zero()) {
            return Err(CryptoError::InvalidKey("SM2 private scalar out of range"));
        }
        let public = Sm2PublicKey::new(secret.public_key());
        let mut d_bytes: [u8; 32] = secret.to_bytes().into();
        let scalars = SecretScalars::new(&d_bytes);
        d_bytes.zeroize();
        Ok(Self {
            secret,
            public,
            scalars,
        })
    }

    /// The 32-byte big-endian private scalar.
    pub fn to_bytes(&self) -> SecretBytes {
        SecretBytes::from_slice(&self.secret.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> &Sm2PublicKey {
        &self.public
    }

    /// PKCS#8 DER (with the public key included).
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        self.secret
            .to_pkcs8_der()
            .map(|doc| SecretBytes::from_slice(doc.as_bytes()))
            .map_err(|_| CryptoError::Internal("SM2 PKCS#8 encoding"))
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| CryptoError::Internal("SM2 PKCS#8 encoding"))
    }

    /// Parses PKCS#8 DER with the SM2 curve OID.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let secret = sm2::SecretKey::from_pkcs8_der(der)
            .map_err(|_| CryptoError::InvalidKey("not an SM2 PKCS#8 private key"))?;
        Self::from_secret(secret)
    }

    /// Parses a PEM private key: PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`, as
    /// `openssl ecparam -genkey` writes, or `SM2 PRIVATE KEY`, as `openssl ec` writes).
    pub fn from_pem(pem_text: &str) -> Result<Self> {
        let (label, der) = pem::decode(pem_text)?;
        let secret = match label.as_str() {
            pem::PRIVATE_KEY => sm2::SecretKey::from_pkcs8_der(der.expose())
                .map_err(|_| CryptoError::InvalidKey("not an SM2 PKCS#8 private key"))?,
            pem::EC_PRIVATE_KEY | SM2_PRIVATE_KEY_LABEL => {
                sm2::SecretKey::from_sec1_der(der.expose())
                    .map_err(|_| CryptoError::InvalidKey("not an SM2 SEC1 private key"))?
            }
            _ => return Err(CryptoError::InvalidEncoding("unexpected PEM label")),
        };
        Self::from_secret(secret)
    }
}

/// The PEM label OpenSSL's `openssl ec` uses for SEC1-encoded SM2 keys.
const SM2_PRIVATE_KEY_LABEL: &str = "SM2 PRIVATE KEY";

/// Draws nonces `k` uniformly from `[1, n-1]` with the system CSPRNG and hands
/// each to `attempt` until it accepts one (`Ok(Some(_))`). A rejection happens
/// only with negligible probability, so a bounded number of draws suffices.
pub(super) fn with_random_nonce<T>(
    mut attempt: impl FnMut(&sm2::Scalar) -> Result<Option<T>>,
) -> Result<T> {
    use sm2::elliptic_curve::PrimeField;
    for _ in 0..16 {
        let mut k_bytes = crate::random::array::<32>()?;
        let k = Option::<sm2::Scalar>::from(sm2::Scalar::from_repr(k_bytes.into()));
        k_bytes.zeroize();
        let Some(k) = k.filter(|k| !bool::from(k.is_zero())) else {
            continue;
        };
        if let Some(done) = attempt(&k)? {
            return Ok(done);
        }
    }
    Err(CryptoError::RandomFailure)
}

pub(super) fn split_xy(sec1: &[u8; 65]) -> ([u8; 32], [u8; 32]) {
    let mut x = [0u8; 32];
    let mut y = [0u8; 32];
    x.copy_from_slice(&sec1[1..33]);
    y.copy_from_slice(&sec1[33..65]);
    (x, y)
}
