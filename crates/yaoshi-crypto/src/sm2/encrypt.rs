//! SM2 public-key encryption (GB/T 32918.4) with SM3, in GM/T 0009 DER form.

use super::ciphertext::{RawOrder, der_to_raw, raw_to_der};
use super::keys::{Sm2PrivateKey, Sm2PublicKey, with_random_nonce};
use super::point::mul_base;
use super::scalar::Sc;
use super::sign::point_xy;
use crate::error::{CryptoError, Result};
use crate::hash::{HashAlgorithm, Hasher};
use crate::secret::{SecretBytes, ct_eq};
use sm2::elliptic_curve::{Group, PrimeField};
use sm2::{ProjectivePoint, Scalar};
use zeroize::{Zeroize, Zeroizing};

/// Largest plaintext accepted (the KDF counter allows far more; this bounds memory).
pub const MAX_PLAINTEXT_LEN: usize = 64 * 1024 * 1024;

/// KDF of GB/T 32918.4 §5.4.3: `SM3(Z || ct)` for a 32-bit big-endian counter from 1.
fn kdf(z: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 32));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut hasher = Hasher::new(HashAlgorithm::Sm3);
        hasher.update(z);
        hasher.update(&counter.to_be_bytes());
        out.extend_from_slice(&hasher.finish());
        counter += 1;
    }
    out.truncate(len);
    out
}

impl Sm2PublicKey {
    /// Encrypts `plaintext` to this key; returns GM/T 0009 DER (`C1`, `C3`, `C2`).
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        check_plaintext(plaintext)?;
        with_random_nonce(|k| self.encrypt_with_nonce(plaintext, k))
    }

    /// Steps A2–A8 of GB/T 32918.4 §6.1 with a given `k`; `Ok(None)` when the
    /// derived key stream is all zero and a new `k` is needed.
    pub(super) fn encrypt_with_nonce(
        &self,
        plaintext: &[u8],
        k: &Scalar,
    ) -> Result<Option<Vec<u8>>> {
        // C1 = k·G on the constant-time fast path (`super::point::mul_base`).
        let mut k_bytes: [u8; 32] = k.to_repr().into();
        let mut k_plain = Sc::reduce_bytes(&k_bytes);
        k_bytes.zeroize();
        let c1 = mul_base(&k_plain.0).to_affine();
        k_plain.zeroize();
        let c1 = c1.ok_or(CryptoError::Internal("SM2 nonce k·G is the identity"))?;
        let shared = ProjectivePoint::from(self.point.as_affine()) * k;
        let Some(secret) = SharedSecret::derive(&shared, plaintext.len()) else {
            return Ok(None);
        };
        let c2 = secret.apply(plaintext);
        let c3 = secret.c3(plaintext);
        let (x1, y1) = (c1.x.to_bytes(), c1.y.to_bytes());
        let mut raw = Vec::with_capacity(65 + 32 + c2.len());
        raw.push(0x04);
        raw.extend_from_slice(&x1);
        raw.extend_from_slice(&y1);
        raw.extend_from_slice(&c3);
        raw.extend_from_slice(&c2);
        raw_to_der(&raw, RawOrder::C1C3C2).map(Some)
    }
}

impl Sm2PrivateKey {
    /// Decrypts a GM/T 0009 DER ciphertext made for this key.
    pub fn decrypt(&self, ciphertext_der: &[u8]) -> Result<SecretBytes> {
        let raw = der_to_raw(ciphertext_der, RawOrder::C1C3C2)?;
        self.decrypt_raw(&raw)
    }

    /// Decrypts a raw `C1 || C3 || C2` ciphertext (uncompressed `C1`).
    fn decrypt_raw(&self, raw: &[u8]) -> Result<SecretBytes> {
        if raw.len() < 65 + 32 + 1 {
            return Err(CryptoError::InvalidCiphertext("SM2 ciphertext too short"));
        }
        let (c1, rest) = raw.split_at(65);
        let (c3, c2) = rest.split_at(32);
        // B1: C1 must be a valid point; the cofactor is 1, so S = h·C1 is C1 itself.
        let c1 = Sm2PublicKey::from_sec1_bytes(c1)
            .map_err(|_| CryptoError::InvalidCiphertext("C1 is not a point on the SM2 curve"))?;
        let shared = ProjectivePoint::from(c1.point.as_affine()) * *self.secret.to_nonzero_scalar();
        if bool::from(shared.is_identity()) {
            return Err(CryptoError::InvalidCiphertext(
                "C1 is the point at infinity",
            ));
        }
        let secret =
            SharedSecret::derive(&shared, c2.len()).ok_or(CryptoError::AuthenticationFailed)?;
        let plaintext = SecretBytes::new(secret.apply(c2));
        let u = secret.c3(plaintext.expose());
        if !ct_eq(&u, c3) {
            return Err(CryptoError::AuthenticationFailed);
        }
        Ok(plaintext)
    }
}

/// The shared point `(x2, y2)` and the key stream `t = KDF(x2 || y2, len)`,
/// all wiped on drop.
struct SharedSecret {
    xy: Zeroizing<[u8; 64]>,
    stream: Zeroizing<Vec<u8>>,
}

impl SharedSecret {
    /// `None` when the key stream is all zero (steps A5/B4: pick a new `k`, or reject).
    fn derive(shared: &ProjectivePoint, len: usize) -> Option<Self> {
        let (mut x2, mut y2) = point_xy(shared);
        let mut xy = Zeroizing::new([0u8; 64]);
        xy[..32].copy_from_slice(&x2);
        xy[32..].copy_from_slice(&y2);
        x2.zeroize();
        y2.zeroize();
        let stream = kdf(&xy[..], len);
        if stream.iter().all(|&b| b == 0) {
            return None;
        }
        Some(Self { xy, stream })
    }

    /// `data XOR t` (C2 from M, or M from C2).
    fn apply(&self, data: &[u8]) -> Vec<u8> {
        data.iter()
            .zip(self.stream.iter())
            .map(|(d, t)| d ^ t)
            .collect()
    }

    /// `C3 = SM3(x2 || M || y2)`.
    fn c3(&self, message: &[u8]) -> Vec<u8> {
        let mut hasher = Hasher::new(HashAlgorithm::Sm3);
        hasher.update(&self.xy[..32]);
        hasher.update(message);
        hasher.update(&self.xy[32..]);
        hasher.finish()
    }
}

fn check_plaintext(plaintext: &[u8]) -> Result<()> {
    if plaintext.is_empty() {
        return Err(CryptoError::InvalidInput(
            "SM2 cannot encrypt an empty message",
        ));
    }
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(CryptoError::InvalidInput(
            "SM2 plaintext longer than 64 MiB",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex C: encryption on the recommended
    /// curve, serialised as GM/T 0009 DER (as in OpenSSL's `test/sm2_internal_test.c`).
    #[test]
    fn gbt32918_annex_c_encryption_example() {
        let key = Sm2PrivateKey::from_bytes(
            &hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
                .unwrap(),
        )
        .unwrap();
        let k_bytes: [u8; 32] =
            hex::decode("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21")
                .unwrap()
                .try_into()
                .unwrap();
        let k = Option::<Scalar>::from(Scalar::from_repr(k_bytes.into())).unwrap();
        let expected = concat!(
            "307C",
            "0220",
            "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73",
            "0221",
            "00E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0",
            "0420",
            "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766",
            "0413",
            "21886CA989CA9C7D58087307CA93092D651EFA",
        );
        let der = key
            .public_key()
            .encrypt_with_nonce(b"encryption standard", &k)
            .unwrap()
            .unwrap();
        assert_eq!(hex::encode_upper(&der), expected);
        let plaintext = key.decrypt(&hex::decode(expected).unwrap()).unwrap();
        assert_eq!(plaintext.expose(), b"encryption standard");
    }

    #[test]
    fn kdf_output_is_prefix_consistent() {
        let z = [7u8; 64];
        let long = kdf(&z, 100);
        let short = kdf(&z, 33);
        assert_eq!(&long[..33], &short[..]);
        assert_eq!(long.len(), 100);
    }

    #[test]
    fn empty_plaintext_is_refused() {
        let key = Sm2PrivateKey::generate().unwrap();
        assert!(matches!(
            key.public_key().encrypt(b""),
            Err(CryptoError::InvalidInput(_))
        ));
    }
}
