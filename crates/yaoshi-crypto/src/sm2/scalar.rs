//! Constant-time arithmetic modulo the SM2 group order `n`.
//!
//! Scalars are four little-endian 64-bit limbs, fully reduced. Addition and
//! subtraction work on plain values; multiplication is Montgomery
//! (`R = 2^256`), used so that `mont_mul(a, b·R) = a·b` needs no conversion:
//! the private key caches `d·R` and `(1+d)^-1·R`, and the signing equation
//! `s = (1+d)^-1 (k - r·d)` becomes two Montgomery products on plain values.
//! Inversion (done once per key) is Fermat's `x^(n-2)` by square-and-multiply
//! over the bits of the public exponent, so its operation sequence is fixed.

use super::field::{
    add_mod, limbs_from_be, limbs_to_be, lt, mont_reduce, mul_wide, sub_if_ge, sub_mod,
};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

/// The SM2 group order, little-endian limbs.
pub(super) const N: [u64; 4] = [
    0x53bb_f409_39d5_4123,
    0x7203_df6b_21c6_052b,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];
/// `R^2 mod n`.
const R2: [u64; 4] = [
    0x9011_92af_7c11_4f20,
    0x3464_504a_de6f_a2fa,
    0x620f_c84c_3aff_e0d4,
    0x1eb5_e412_a22b_3d3b,
];
/// `-n^-1 mod 2^64`.
const N0: u64 = 0x327f_9e88_7235_0975;

/// A value modulo `n` (plain or Montgomery form, as the caller tracks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Sc(pub(super) [u64; 4]);

impl Zeroize for Sc {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Sc {
    pub(super) const ONE: Sc = Sc([1, 0, 0, 0]);

    /// A 256-bit big-endian integer reduced mod `n` (one masked subtraction
    /// suffices since `2^256 < 2n`).
    pub(super) fn reduce_bytes(bytes: &[u8; 32]) -> Sc {
        Sc(sub_if_ge(limbs_from_be(bytes), 0, &N))
    }

    /// A canonical big-endian encoding (`< n`), or `None`.
    pub(super) fn from_canonical_bytes(bytes: &[u8; 32]) -> Option<Sc> {
        let limbs = limbs_from_be(bytes);
        bool::from(lt(&limbs, &N)).then_some(Sc(limbs))
    }

    /// Reduces limbs `< 2^256` mod `n`.
    pub(super) fn reduce_limbs(limbs: [u64; 4]) -> Sc {
        Sc(sub_if_ge(limbs, 0, &N))
    }

    pub(super) fn to_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.0)
    }

    pub(super) fn add(&self, rhs: &Sc) -> Sc {
        Sc(add_mod(&self.0, &rhs.0, &N))
    }

    pub(super) fn sub(&self, rhs: &Sc) -> Sc {
        Sc(sub_mod(&self.0, &rhs.0, &N))
    }

    /// `self · rhs · R^-1 mod n`.
    pub(super) fn mont_mul(&self, rhs: &Sc) -> Sc {
        Sc(mont_reduce(mul_wide(&self.0, &rhs.0), &N, N0))
    }

    /// `self · R mod n` (plain to Montgomery form).
    pub(super) fn to_mont(self) -> Sc {
        self.mont_mul(&Sc(R2))
    }

    /// For `self = x·R`, returns `x^-1·R` (0 for 0).
    pub(super) fn mont_invert(&self) -> Sc {
        // Exponent n - 2 (public): bits scanned from the top.
        const E: [u64; 4] = [N[0] - 2, N[1], N[2], N[3]];
        let mut acc = Sc::ONE.to_mont();
        for i in (0..256).rev() {
            acc = acc.mont_mul(&acc);
            if (E[i / 64] >> (i % 64)) & 1 == 1 {
                acc = acc.mont_mul(self);
            }
        }
        acc
    }

    pub(super) fn is_zero(&self) -> Choice {
        (self.0[0] | self.0[1] | self.0[2] | self.0[3]).ct_eq(&0)
    }
}
