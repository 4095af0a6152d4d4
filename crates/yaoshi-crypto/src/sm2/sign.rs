//! SM2 digital signatures (GB/T 32918.2) with SM3 and a signer ID.
//!
//! Signatures are DER `SEQUENCE { r INTEGER, s INTEGER }`, as OpenSSL and
//! GM/T 0009 encode them.

use super::field::{Fe, P, adc, lt};
use super::keys::{Sm2PrivateKey, Sm2PublicKey, split_xy, with_random_nonce};
use super::point::{Affine, double_mul_tables_vartime, double_mul_vartime, mul_base};
use super::scalar::{N, Sc};
use super::table::BaseTable;
use crate::error::{CryptoError, Result};
use crate::hash::sm3;
use sm2::elliptic_curve::PrimeField;
use sm2::{ProjectivePoint, Scalar};
use zeroize::Zeroize;

/// Curve coefficient `a` of the SM2 recommended curve (GB/T 32918.5).
pub(super) const CURVE_A: [u8; 32] =
    hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
/// Curve coefficient `b`.
pub(super) const CURVE_B: [u8; 32] =
    hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
/// Base point x coordinate.
pub(super) const GX: [u8; 32] =
    hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
/// Base point y coordinate.
pub(super) const GY: [u8; 32] =
    hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

/// Longest signer ID: ENTL is a 16-bit count of ID bits.
pub const MAX_SIGNER_ID_LEN: usize = 8191;

const fn hex32(s: &str) -> [u8; 32] {
    let s = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(s[2 * i]) << 4) | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("upper-case hex only"),
    }
}

impl Sm2PublicKey {
    /// `Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)` (GB/T 32918.2 §5.5).
    ///
    /// `Z` for [`super::DEFAULT_SIGNER_ID`] is computed once per key object.
    pub fn z_value(&self, signer_id: &[u8]) -> Result<[u8; 32]> {
        if signer_id == super::DEFAULT_SIGNER_ID {
            return Ok(self.cache().z_default);
        }
        self.compute_z(signer_id)
    }

    /// `Z` computed from scratch.
    pub(super) fn compute_z(&self, signer_id: &[u8]) -> Result<[u8; 32]> {
        if signer_id.len() > MAX_SIGNER_ID_LEN {
            return Err(CryptoError::InvalidInput(
                "SM2 signer ID longer than 8191 bytes",
            ));
        }
        let (xa, ya) = self.coordinates();
        let entl = ((signer_id.len() * 8) as u16).to_be_bytes();
        let mut buf = Vec::with_capacity(2 + signer_id.len() + 32 * 6);
        buf.extend_from_slice(&entl);
        buf.extend_from_slice(signer_id);
        for part in [&CURVE_A, &CURVE_B, &GX, &GY, &xa, &ya] {
            buf.extend_from_slice(part);
        }
        Ok(sm3(&buf))
    }

    /// `e = SM3(Z || M)`, the value that is signed.
    pub fn message_digest(&self, signer_id: &[u8], message: &[u8]) -> Result<[u8; 32]> {
        let z = self.z_value(signer_id)?;
        let mut hasher = crate::hash::Hasher::new(crate::hash::HashAlgorithm::Sm3);
        hasher.update(&z);
        hasher.update(message);
        let mut e = [0u8; 32];
        e.copy_from_slice(&hasher.finish());
        Ok(e)
    }

    /// Verifies a DER signature over `message` by the signer `signer_id`.
    pub fn verify(&self, signer_id: &[u8], message: &[u8], signature_der: &[u8]) -> Result<()> {
        let e = self.message_digest(signer_id, message)?;
        self.verify_digest(&e, signature_der)
    }

    /// Verifies a DER signature over a precomputed `e = SM3(Z || M)`.
    pub fn verify_digest(&self, e: &[u8; 32], signature_der: &[u8]) -> Result<()> {
        // Parsing rejects r or s outside [1, n-1] (steps B1, B2).
        let signature = sm2::dsa::Signature::from_der(signature_der)
            .map_err(|_| CryptoError::InvalidSignature)?;
        let r = Sc::from_canonical_bytes(&signature.r_bytes().into())
            .ok_or(CryptoError::InvalidSignature)?;
        let s = Sc::from_canonical_bytes(&signature.s_bytes().into())
            .ok_or(CryptoError::InvalidSignature)?;
        if bool::from(r.is_zero() | s.is_zero()) {
            return Err(CryptoError::InvalidSignature);
        }
        let cache = self.cache();
        verify_scalars(&cache.affine, cache.verification_table(), e, &r, &s)
    }
}

/// Steps B4–B7 of GB/T 32918.2 §7.1 for `r, s ∈ [1, n-1]`, in variable time
/// (every input is public): `t = r + s ≠ 0`, `(x1, y1) = s·G + t·P_A`,
/// accept iff `(e + x1) mod n = r`. With `q_table` (the key's fixed-base
/// table) the multiplication uses both tables, otherwise interleaved wNAF.
pub(super) fn verify_scalars(
    q: &Affine,
    q_table: Option<&BaseTable>,
    e: &[u8; 32],
    r: &Sc,
    s: &Sc,
) -> Result<()> {
    let e = Sc::reduce_bytes(e);
    let t = r.add(s);
    if bool::from(t.is_zero()) {
        return Err(CryptoError::InvalidSignature);
    }
    let point = match q_table {
        Some(table) => double_mul_tables_vartime(&s.0, table, &t.0),
        None => double_mul_vartime(&s.0, q, &t.0),
    };
    if bool::from(point.is_identity()) {
        return Err(CryptoError::InvalidSignature);
    }
    // (e + x1) mod n = r  <=>  x1 ∈ {c, c + n} with c = (r - e) mod n, x1 < p.
    // Compare X = x1·Z^2 projectively instead of inverting Z.
    let z2 = point.z.square();
    let c = r.sub(&e);
    if bool::from(Fe::from_canonical(c.0).mul(&z2).ct_eq(&point.x)) {
        return Ok(());
    }
    let (c_plus_n, carry) = add_limbs(&c.0, &N);
    if carry == 0
        && bool::from(lt(&c_plus_n, &P))
        && bool::from(Fe::from_canonical(c_plus_n).mul(&z2).ct_eq(&point.x))
    {
        return Ok(());
    }
    Err(CryptoError::InvalidSignature)
}

fn add_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], u64) {
    let (r0, c) = adc(a[0], b[0], 0);
    let (r1, c) = adc(a[1], b[1], c);
    let (r2, c) = adc(a[2], b[2], c);
    let (r3, c) = adc(a[3], b[3], c);
    ([r0, r1, r2, r3], c)
}

impl Sm2PrivateKey {
    /// Signs `message` as signer `signer_id`; returns a DER signature.
    pub fn sign(&self, signer_id: &[u8], message: &[u8]) -> Result<Vec<u8>> {
        let e = self.public.message_digest(signer_id, message)?;
        self.sign_digest(&e)
    }

    /// Signs a precomputed `e = SM3(Z || M)` with a fresh random nonce.
    pub fn sign_digest(&self, e: &[u8; 32]) -> Result<Vec<u8>> {
        // A nonce is rejected only when r = 0, r + k = n or s = 0.
        with_random_nonce(|k| Ok(self.sign_with_nonce(e, k)))
    }

    /// Steps A4–A7 of GB/T 32918.2 §6.1 with a given nonce `k`; `None` when
    /// this `k` must be rejected.
    pub(super) fn sign_with_nonce(&self, e: &[u8; 32], k: &Scalar) -> Option<Vec<u8>> {
        let mut k_bytes: [u8; 32] = k.to_repr().into();
        let mut k = Sc::reduce_bytes(&k_bytes);
        k_bytes.zeroize();
        let result = self.sign_with_scalar(e, &k);
        k.zeroize();
        let (r, s) = result?;
        let signature = sm2::dsa::Signature::from_scalars(r.to_bytes(), s.to_bytes()).ok()?;
        Some(signature.to_der().to_vec())
    }

    /// The constant-time core of signing: `(r, s)` for the nonce `k ∈ [1, n-1]`,
    /// `None` when `r = 0`, `r + k = n` or `s = 0` (the only branches, taken on
    /// the outcome of those public rejection tests).
    pub(super) fn sign_with_scalar(&self, e: &[u8; 32], k: &Sc) -> Option<(Sc, Sc)> {
        let e = Sc::reduce_bytes(e);
        // (x1, y1) = k·G; k ≠ 0 and G has prime order, so it is not the identity.
        let mut x1 = mul_base(&k.0).affine_x()?.to_canonical();
        // x1 < p < 2n: one masked subtraction reduces it.
        let x1_mod_n = Sc::reduce_limbs(x1);
        x1.zeroize();
        let r = e.add(&x1_mod_n);
        if bool::from(r.is_zero() | r.add(k).is_zero()) {
            return None;
        }
        // s = (1+d)^-1 (k - r·d): Montgomery products of plain values with
        // the cached Montgomery forms give plain results.
        let mut rd = r.mont_mul(&self.scalars.d_mont);
        let mut k_minus_rd = k.sub(&rd);
        let s = k_minus_rd.mont_mul(&self.scalars.one_plus_d_inv_mont);
        rd.zeroize();
        k_minus_rd.zeroize();
        if bool::from(s.is_zero()) {
            return None;
        }
        Some((r, s))
    }
}

/// Affine `(x, y)` of `k·P`, 32 bytes each.
pub(super) fn point_xy(point: &ProjectivePoint) -> ([u8; 32], [u8; 32]) {
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let encoded = point.to_affine().to_sec1_point(false);
    let mut sec1 = [0u8; 65];
    sec1.copy_from_slice(encoded.as_bytes());
    split_xy(&sec1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(hex_str: &str) -> Scalar {
        let bytes: [u8; 32] = hex::decode(hex_str).unwrap().try_into().unwrap();
        Option::from(Scalar::from_repr(bytes.into())).unwrap()
    }

    /// GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex A: signature on the recommended curve
    /// (the same example OpenSSL's `test/sm2_internal_test.c` carries).
    #[test]
    fn gbt32918_annex_a_signature_example() {
        let key = Sm2PrivateKey::from_bytes(
            &hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
                .unwrap(),
        )
        .unwrap();
        let (x, y) = key.public_key().coordinates();
        assert_eq!(
            hex::encode_upper(x),
            "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
        );
        assert_eq!(
            hex::encode_upper(y),
            "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
        );
        let e = key
            .public_key()
            .message_digest(super::super::DEFAULT_SIGNER_ID, b"message digest")
            .unwrap();
        let k = scalar("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21");
        let der = key.sign_with_nonce(&e, &k).expect("valid nonce");
        let signature = sm2::dsa::Signature::from_der(&der).unwrap();
        assert_eq!(
            hex::encode_upper(signature.r_bytes()),
            "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
        );
        assert_eq!(
            hex::encode_upper(signature.s_bytes()),
            "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
        );
        key.public_key()
            .verify(super::super::DEFAULT_SIGNER_ID, b"message digest", &der)
            .unwrap();
        assert_eq!(
            key.public_key()
                .verify(super::super::DEFAULT_SIGNER_ID, b"message digesT", &der),
            Err(CryptoError::InvalidSignature)
        );
    }

    #[test]
    fn signer_id_longer_than_entl_allows_is_rejected() {
        let key = Sm2PrivateKey::generate().unwrap();
        let id = vec![b'a'; MAX_SIGNER_ID_LEN + 1];
        assert!(matches!(
            key.sign(&id, b"m"),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(key.sign(&id[..MAX_SIGNER_ID_LEN], b"m").is_ok());
    }
}
