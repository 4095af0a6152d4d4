//! Arithmetic in GF(p) for the SM2 prime `p = 2^256 - 2^224 - 2^96 + 2^64 - 1`.
//!
//! Elements are four little-endian 64-bit limbs in Montgomery form
//! (`a·R mod p`, `R = 2^256`), always fully reduced (`< p`). Because
//! `p ≡ -1 (mod 2^64)`, the Montgomery factor `-p^-1 mod 2^64` is 1, so each
//! reduction round multiplies by the low limb itself, and the special form of
//! `p` turns that product into shifts and subtractions (`mont_reduce_p`). Every operation is
//! constant time: no branches or memory indices depend on the values; the
//! final conditional subtraction selects with masks. Inversion is Fermat's
//! `a^(p-2)` with a fixed addition chain.
//!
//! The low-level helpers (`adc`, `sbb`, `mac`, `mont_reduce`) are shared with
//! [`super::scalar`].

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// The SM2 prime, little-endian limbs.
pub(super) const P: [u64; 4] = [
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];
/// `R^2 mod p`, to enter Montgomery form.
const R2: [u64; 4] = [
    0x0000_0002_0000_0003,
    0x0000_0002_ffff_ffff,
    0x0000_0001_0000_0001,
    0x0000_0004_0000_0002,
];
/// `R mod p`, the Montgomery form of 1.
const R1: [u64; 4] = [
    0x0000_0000_0000_0001,
    0x0000_0000_ffff_ffff,
    0x0000_0000_0000_0000,
    0x0000_0001_0000_0000,
];

/// `a + b + carry`, returning (sum, carry out); `carry` is 0 or 1.
#[inline(always)]
pub(super) const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// `a - b - borrow`, returning (difference, borrow out as 0 or 1).
#[inline(always)]
pub(super) const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128).wrapping_sub((b as u128) + (borrow as u128));
    (t as u64, ((t >> 64) as u64) & 1)
}

/// `a + b·c + carry`, returning (low, high); never overflows.
#[inline(always)]
pub(super) const fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) * (c as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// Full 256×256 → 512-bit product.
#[inline(always)]
pub(super) fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0;
        for j in 0..4 {
            let (lo, hi) = mac(t[i + j], a[i], b[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        t[i + 4] = carry;
    }
    t
}

/// 256-bit square → 512 bits, computing each cross product once.
#[inline(always)]
fn sqr_wide(a: &[u64; 4]) -> [u64; 8] {
    // Cross products a[i]·a[j], i < j.
    let mut t = [0u64; 8];
    let (t1, c) = mac(0, a[0], a[1], 0);
    let (t2, c) = mac(0, a[0], a[2], c);
    let (t3, t4) = mac(0, a[0], a[3], c);
    let (t3, c) = mac(t3, a[1], a[2], 0);
    let (t4, t5) = mac(t4, a[1], a[3], c);
    let (t5, t6) = mac(t5, a[2], a[3], 0);
    // Double them.
    t[7] = t6 >> 63;
    t[6] = (t6 << 1) | (t5 >> 63);
    t[5] = (t5 << 1) | (t4 >> 63);
    t[4] = (t4 << 1) | (t3 >> 63);
    t[3] = (t3 << 1) | (t2 >> 63);
    t[2] = (t2 << 1) | (t1 >> 63);
    t[1] = t1 << 1;
    // Add the squares a[i]^2 on the diagonal.
    let (lo, hi) = mac(0, a[0], a[0], 0);
    t[0] = lo;
    let (x, c) = adc(t[1], hi, 0);
    t[1] = x;
    let (lo, hi) = mac(0, a[1], a[1], 0);
    let (x, c) = adc(t[2], lo, c);
    t[2] = x;
    let (x, c) = adc(t[3], hi, c);
    t[3] = x;
    let (lo, hi) = mac(0, a[2], a[2], 0);
    let (x, c) = adc(t[4], lo, c);
    t[4] = x;
    let (x, c) = adc(t[5], hi, c);
    t[5] = x;
    let (lo, hi) = mac(0, a[3], a[3], 0);
    let (x, c) = adc(t[6], lo, c);
    t[6] = x;
    let (x, _) = adc(t[7], hi, c);
    t[7] = x;
    t
}

/// Montgomery reduction `t·2^-256 mod m` for `t < m·2^256`, with
/// `n0 = -m^-1 mod 2^64`; the result is fully reduced (`< m`).
#[inline(always)]
pub(super) fn mont_reduce(mut t: [u64; 8], m: &[u64; 4], n0: u64) -> [u64; 4] {
    let mut top = 0u64;
    for i in 0..4 {
        let k = t[i].wrapping_mul(n0);
        let mut carry = 0;
        for j in 0..4 {
            let (lo, hi) = mac(t[i + j], k, m[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        let (x, c) = adc(t[i + 4], carry, top);
        t[i + 4] = x;
        top = c;
    }
    sub_if_ge([t[4], t[5], t[6], t[7]], top, m)
}

/// Montgomery reduction mod the SM2 prime without multiplications.
///
/// With `m = t[i]` (the Montgomery factor is 1), `t[i] + m·p = m·(p + 1)`
/// and `m·(p + 1)/2^64 = m·(2^192 - 2^160 - 2^32 + 1)`, a 4-limb value made
/// of `m`, `m << 32` and `m >> 32` by one subtraction chain; it is added to
/// the limbs above `i`. Same result as `mont_reduce(t, &P, 1)`.
#[inline(always)]
fn mont_reduce_p(t: [u64; 8]) -> [u64; 4] {
    let mut t = [t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], 0];
    for i in 0..4 {
        let m = t[i];
        let (lo, hi) = (m << 32, m >> 32);
        // [m, 0, 0, m] - [lo, hi, lo, hi] (never negative).
        let (v0, b) = sbb(m, lo, 0);
        let (v1, b) = sbb(0, hi, b);
        let (v2, b) = sbb(0, lo, b);
        let (v3, _) = sbb(m, hi, b);
        let (x, c) = adc(t[i + 1], v0, 0);
        t[i + 1] = x;
        let (x, c) = adc(t[i + 2], v1, c);
        t[i + 2] = x;
        let (x, c) = adc(t[i + 3], v2, c);
        t[i + 3] = x;
        let (x, mut c) = adc(t[i + 4], v3, c);
        t[i + 4] = x;
        for limb in t.iter_mut().skip(i + 5) {
            let (x, carry) = adc(*limb, 0, c);
            *limb = x;
            c = carry;
        }
    }
    sub_if_ge([t[4], t[5], t[6], t[7]], t[8], &P)
}

/// Given `(top·2^256 + a) < 2m`, returns it reduced mod `m` (masked subtraction).
#[inline(always)]
pub(super) fn sub_if_ge(a: [u64; 4], top: u64, m: &[u64; 4]) -> [u64; 4] {
    let (r0, b) = sbb(a[0], m[0], 0);
    let (r1, b) = sbb(a[1], m[1], b);
    let (r2, b) = sbb(a[2], m[2], b);
    let (r3, b) = sbb(a[3], m[3], b);
    let (_, b) = sbb(top, 0, b);
    // b = 1: a < m, keep a.
    let keep = 0u64.wrapping_sub(b);
    [
        (a[0] & keep) | (r0 & !keep),
        (a[1] & keep) | (r1 & !keep),
        (a[2] & keep) | (r2 & !keep),
        (a[3] & keep) | (r3 & !keep),
    ]
}

/// `a + b mod m` for `a, b < m`.
#[inline(always)]
pub(super) fn add_mod(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let (r0, c) = adc(a[0], b[0], 0);
    let (r1, c) = adc(a[1], b[1], c);
    let (r2, c) = adc(a[2], b[2], c);
    let (r3, c) = adc(a[3], b[3], c);
    sub_if_ge([r0, r1, r2, r3], c, m)
}

/// `a - b mod m` for `a, b < m`.
#[inline(always)]
pub(super) fn sub_mod(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let (r0, b0) = sbb(a[0], b[0], 0);
    let (r1, b0) = sbb(a[1], b[1], b0);
    let (r2, b0) = sbb(a[2], b[2], b0);
    let (r3, b0) = sbb(a[3], b[3], b0);
    let mask = 0u64.wrapping_sub(b0);
    let (r0, c) = adc(r0, m[0] & mask, 0);
    let (r1, c) = adc(r1, m[1] & mask, c);
    let (r2, c) = adc(r2, m[2] & mask, c);
    let (r3, _) = adc(r3, m[3] & mask, c);
    [r0, r1, r2, r3]
}

/// Big-endian 32 bytes to little-endian limbs (no reduction).
pub(super) fn limbs_from_be(bytes: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[32 - 8 * (i + 1)..32 - 8 * i]);
        *limb = u64::from_be_bytes(w);
    }
    out
}

/// Little-endian limbs to big-endian 32 bytes.
pub(super) fn limbs_to_be(limbs: &[u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in limbs.iter().enumerate() {
        out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// `a < m` as a constant-time choice (for parsing canonical encodings).
pub(super) fn lt(a: &[u64; 4], m: &[u64; 4]) -> Choice {
    let (_, b) = sbb(a[0], m[0], 0);
    let (_, b) = sbb(a[1], m[1], b);
    let (_, b) = sbb(a[2], m[2], b);
    let (_, b) = sbb(a[3], m[3], b);
    Choice::from(b as u8)
}

/// An element of GF(p) in Montgomery form.
#[cfg(test)]
pub(super) fn mont_reduce_p_for_test(t: [u64; 8]) -> [u64; 4] {
    mont_reduce_p(t)
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Fe(pub(super) [u64; 4]);

impl Fe {
    pub(super) const ZERO: Fe = Fe([0; 4]);
    pub(super) const ONE: Fe = Fe(R1);

    /// Parses a canonical big-endian encoding (`< p`).
    pub(super) fn from_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let limbs = limbs_from_be(bytes);
        if bool::from(lt(&limbs, &P)) {
            Some(Fe::from_canonical(limbs))
        } else {
            None
        }
    }

    /// Enters Montgomery form; `limbs` must be `< p`.
    pub(super) fn from_canonical(limbs: [u64; 4]) -> Fe {
        Fe(mont_reduce(mul_wide(&limbs, &R2), &P, 1))
    }

    /// The canonical value (leaves Montgomery form).
    pub(super) fn to_canonical(self) -> [u64; 4] {
        let mut t = [0u64; 8];
        t[..4].copy_from_slice(&self.0);
        mont_reduce(t, &P, 1)
    }

    /// Big-endian 32-byte encoding of the canonical value.
    pub(super) fn to_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.to_canonical())
    }

    #[inline(always)]
    pub(super) fn mul(&self, rhs: &Fe) -> Fe {
        Fe(mont_reduce_p(mul_wide(&self.0, &rhs.0)))
    }

    #[inline(always)]
    pub(super) fn square(&self) -> Fe {
        Fe(mont_reduce_p(sqr_wide(&self.0)))
    }

    /// `self^(2^n)`.
    #[inline]
    pub(super) fn square_n(&self, n: usize) -> Fe {
        let mut x = *self;
        for _ in 0..n {
            x = x.square();
        }
        x
    }

    #[inline(always)]
    pub(super) fn add(&self, rhs: &Fe) -> Fe {
        Fe(add_mod(&self.0, &rhs.0, &P))
    }

    #[inline(always)]
    pub(super) fn sub(&self, rhs: &Fe) -> Fe {
        Fe(sub_mod(&self.0, &rhs.0, &P))
    }

    #[inline(always)]
    pub(super) fn double(&self) -> Fe {
        self.add(self)
    }

    #[inline(always)]
    pub(super) fn neg(&self) -> Fe {
        Fe::ZERO.sub(self)
    }

    /// Constant-time zero test.
    pub(super) fn is_zero(&self) -> Choice {
        (self.0[0] | self.0[1] | self.0[2] | self.0[3]).ct_eq(&0)
    }

    /// `self^-1` by Fermat (`self^(p-2)`), 0 for 0. Constant time.
    ///
    /// `p - 2` in binary, from the top: 31 ones, a zero, 128 ones, 32 zeros,
    /// 62 ones, a zero, a one.
    pub(super) fn invert(&self) -> Fe {
        let x1 = *self;
        let x2 = x1.square().mul(&x1);
        let x3 = x2.square().mul(&x1);
        let x6 = x3.square_n(3).mul(&x3);
        let x12 = x6.square_n(6).mul(&x6);
        let x15 = x12.square_n(3).mul(&x3);
        let x30 = x15.square_n(15).mul(&x15);
        let x31 = x30.square().mul(&x1);
        let x32 = x31.square().mul(&x1);
        let mut t = x31.square(); // 31 ones, then a zero
        for _ in 0..4 {
            t = t.square_n(32).mul(&x32); // 128 ones
        }
        t = t.square_n(32); // 32 zeros
        t = t.square_n(32).mul(&x32); // 32 ones
        t = t.square_n(30).mul(&x30); // 30 ones
        t.square_n(2).mul(&x1) // "01"
    }

    /// Equality of the (canonical) values.
    pub(super) fn ct_eq(&self, rhs: &Fe) -> Choice {
        self.0.ct_eq(&rhs.0)
    }
}

impl ConditionallySelectable for Fe {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Fe([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}
