//! SM2 curve points (`y^2 = x^3 - 3x + b` over GF(p)) in Jacobian coordinates.
//!
//! * [`Jacobian::double`] is `dbl-2001-b` for `a = -3`; it maps the identity
//!   (`Z = 0`) to itself, so it is exception-free.
//! * [`Jacobian::add_mixed`] is `madd-2007-bl` with no special cases; the
//!   constant-time fixed-base multiplication ([`mul_base`]) only calls it where
//!   the exceptional inputs cannot occur or are patched up by masked selects.
//! * The `_vartime` functions branch on their inputs and serve verification,
//!   where every value is public.
//!
//! [`mul_base`] computes `k·G` in constant time from the signed-window table
//! of [`super::table`]; [`double_mul_vartime`] computes `a·G + b·P` with
//! interleaved wNAF (Shamir's trick) for verification.

use super::field::Fe;
use super::table::{BaseTable, G_WNAF, WINDOW, base_table, g_odd_multiples};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// An affine point, never the identity.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Affine {
    pub(super) x: Fe,
    pub(super) y: Fe,
}

impl Affine {
    /// Parses `x || y` (big-endian, canonical) and checks the curve equation.
    pub(super) fn from_xy_bytes(x: &[u8; 32], y: &[u8; 32]) -> Option<Affine> {
        let point = Affine {
            x: Fe::from_bytes(x)?,
            y: Fe::from_bytes(y)?,
        };
        point.is_on_curve().then_some(point)
    }

    /// `y^2 == x^3 - 3x + b`.
    pub(super) fn is_on_curve(&self) -> bool {
        let b = Fe::from_bytes(&super::sign::CURVE_B).unwrap_or_default();
        let x3 = self.x.square().mul(&self.x);
        let three_x = self.x.double().add(&self.x);
        let rhs = x3.sub(&three_x).add(&b);
        bool::from(self.y.square().ct_eq(&rhs))
    }

    pub(super) fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

impl ConditionallySelectable for Affine {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Affine {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
        }
    }
}

/// A point `(X : Y : Z)` standing for `(X/Z^2, Y/Z^3)`; `Z = 0` is the identity.
#[derive(Clone, Copy, Debug)]
pub(super) struct Jacobian {
    pub(super) x: Fe,
    pub(super) y: Fe,
    pub(super) z: Fe,
}

impl ConditionallySelectable for Jacobian {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Jacobian {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
            z: Fe::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl From<&Affine> for Jacobian {
    fn from(p: &Affine) -> Self {
        Jacobian {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }
}

impl Jacobian {
    pub(super) const IDENTITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    pub(super) fn is_identity(&self) -> Choice {
        self.z.is_zero()
    }

    /// `2·self` (`dbl-2001-b`, 3M + 5S). Exception-free.
    #[inline]
    pub(super) fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2_8 = gamma.square().double().double().double();
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma2_8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` (`madd-2007-bl`, 7M + 4S). Wrong when `self` is the
    /// identity or `self = ±q`: callers exclude or patch those cases.
    #[inline]
    pub(super) fn add_mixed(&self, q: &Affine) -> Jacobian {
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let r = s2.sub(&self.y).double();
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` for any inputs, branching on them (public data only).
    pub(super) fn add_mixed_vartime(&self, q: &Affine) -> Jacobian {
        if bool::from(self.is_identity()) {
            return Jacobian::from(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        if bool::from(u2.ct_eq(&self.x)) {
            return if bool::from(s2.ct_eq(&self.y)) {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        self.add_mixed(q)
    }

    /// `self + q` for any inputs (`add-2007-bl`, 11M + 5S), branching on them.
    pub(super) fn add_vartime(&self, q: &Jacobian) -> Jacobian {
        if bool::from(self.is_identity()) {
            return *q;
        }
        if bool::from(q.is_identity()) {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if bool::from(h.is_zero()) {
            return if bool::from(r.is_zero()) {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&j).double());
        let z3 = self.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    pub(super) fn neg(&self) -> Jacobian {
        Jacobian {
            x: self.x,
            y: self.y.neg(),
            z: self.z,
        }
    }

    /// The affine point, constant time (one Fermat inversion); `None` for the
    /// identity (the only branch, on the public fact "is the result the identity").
    pub(super) fn to_affine(self) -> Option<Affine> {
        let zinv = self.z.invert();
        let zinv2 = zinv.square();
        let point = Affine {
            x: self.x.mul(&zinv2),
            y: self.y.mul(&zinv2).mul(&zinv),
        };
        (!bool::from(self.is_identity())).then_some(point)
    }

    /// The affine `x` only, constant time, as for [`Jacobian::to_affine`].
    pub(super) fn affine_x(&self) -> Option<Fe> {
        let zinv = self.z.invert();
        let x = self.x.mul(&zinv.square());
        (!bool::from(self.is_identity())).then_some(x)
    }
}

/// Affine forms of many non-identity points with one inversion (Montgomery's trick).
pub(super) fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = Fe::ONE;
    for p in points {
        prefix.push(acc);
        acc = acc.mul(&p.z);
    }
    let mut inv = acc.invert();
    let mut out = vec![Affine::default(); points.len()];
    for (i, p) in points.iter().enumerate().rev() {
        let zinv = inv.mul(&prefix[i]);
        inv = inv.mul(&p.z);
        let zinv2 = zinv.square();
        out[i] = Affine {
            x: p.x.mul(&zinv2),
            y: p.y.mul(&zinv2).mul(&zinv),
        };
    }
    out
}

/// `k·G` for a plain scalar `k` in `[0, n)`, in constant time.
///
/// `k` is recoded into 52 signed 5-bit digits `d_i ∈ [-16, 15]` with
/// `k = Σ d_i·2^(5i)` (branch-free carry arithmetic). Row `i` of the table
/// holds `j·2^(5i)·G` for `j = 1..=16`; each row is scanned in full and the
/// entry `|d_i|` picked with masks, then negated under a mask when `d_i < 0`.
/// No doublings are needed. The mixed addition is exceptional only when the
/// accumulator is the identity (no non-zero digit yet) or the digit is zero;
/// both are handled by masked selects. `acc = ±entry` cannot happen: the
/// accumulator after row `i` is `c·G` with `c ≡ k (mod 2^(5i+5))`,
/// `|c| < 2^(5i+4)`, and `|d_i|·2^(5i) ≥ 2^(5i)`, so `c ≠ ±d_i·2^(5i)` for
/// `k < n` (see the "SM2 fast path" section of docs/crypto.md).
pub(super) fn mul_base(k: &[u64; 4]) -> Jacobian {
    let table = base_table();
    let mut acc = Jacobian::IDENTITY;
    let mut acc_is_identity = Choice::from(1);
    let mut carry: u32 = 0;
    for (i, row) in table.iter().enumerate() {
        // Five bits at position 5i (positions are public).
        let bit = i * WINDOW;
        let limb = bit / 64;
        let off = bit % 64;
        let mut bits = k[limb] >> off;
        if off > 64 - WINDOW && limb + 1 < 4 {
            bits |= k[limb + 1] << (64 - off);
        }
        let v = (bits as u32 & 0x1f) + carry; // 0..=32
        carry = (v + 16) >> 5; // v >= 16
        let d = v as i32 - ((carry as i32) << 5); // -16..=15
        let sign = d >> 31; // 0 or -1
        let abs = ((d ^ sign) - sign) as u32; // 0..=16
        let negative = Choice::from((sign & 1) as u8);
        let digit_is_zero = abs.ct_eq(&0);

        let mut entry = Affine::default();
        for (j, candidate) in row.iter().enumerate() {
            entry.conditional_assign(candidate, (j as u32 + 1).ct_eq(&abs));
        }
        let negated = entry.y.neg();
        entry.y.conditional_assign(&negated, negative);

        let sum = acc.add_mixed(&entry);
        let sum = Jacobian::conditional_select(&sum, &Jacobian::from(&entry), acc_is_identity);
        acc = Jacobian::conditional_select(&sum, &acc, digit_is_zero);
        acc_is_identity &= digit_is_zero;
    }
    debug_assert_eq!(carry, 0, "k < 2^256 leaves no carry out of the top window");
    acc
}

/// Signed 5-bit digits of `k` as in [`mul_base`] (variable time).
fn signed_digits_vartime(k: &[u64; 4]) -> [i8; super::table::BASE_WINDOWS] {
    let mut digits = [0i8; super::table::BASE_WINDOWS];
    let mut carry = 0u32;
    for (i, digit) in digits.iter_mut().enumerate() {
        let bit = i * WINDOW;
        let (limb, off) = (bit / 64, bit % 64);
        let mut bits = k[limb] >> off;
        if off > 64 - WINDOW && limb + 1 < 4 {
            bits |= k[limb + 1] << (64 - off);
        }
        let v = (bits as u32 & 0x1f) + carry;
        carry = u32::from(v >= 16);
        *digit = (v as i32 - ((carry as i32) << 5)) as i8;
    }
    digits
}

/// `a·G + b·Q` from the fixed-base tables of `G` and `Q` (public data only):
/// at most 104 mixed additions and no doublings.
pub(super) fn double_mul_tables_vartime(
    a: &[u64; 4],
    q_table: &BaseTable,
    b: &[u64; 4],
) -> Jacobian {
    let g_table = base_table();
    let (da, db) = (signed_digits_vartime(a), signed_digits_vartime(b));
    let mut acc = Jacobian::IDENTITY;
    for (i, (&x, &y)) in da.iter().zip(db.iter()).enumerate() {
        for (digit, table) in [(x, g_table), (y, q_table)] {
            if digit > 0 {
                acc = acc.add_mixed_vartime(&table[i][digit as usize - 1]);
            } else if digit < 0 {
                acc = acc.add_mixed_vartime(&table[i][(-digit) as usize - 1].neg());
            }
        }
    }
    acc
}

/// Width-`w` non-adjacent form of `k` (little-endian digits, odd or zero,
/// `|d| < 2^(w-1)`). Variable time.
fn wnaf(k: &[u64; 4], w: u32) -> [i8; 258] {
    let mut naf = [0i8; 258];
    let mut x = [k[0], k[1], k[2], k[3], 0u64];
    let width = 1u64 << w;
    let mut i = 0;
    while x.iter().any(|&l| l != 0) {
        if x[0] & 1 == 1 {
            let m = (x[0] & (width - 1)) as i64;
            let d = if m >= (width / 2) as i64 {
                m - width as i64
            } else {
                m
            };
            naf[i] = d as i8;
            if d > 0 {
                sub_small(&mut x, d as u64);
            } else {
                add_small(&mut x, (-d) as u64);
            }
        }
        // x >>= 1
        let shifted = [
            (x[0] >> 1) | (x[1] << 63),
            (x[1] >> 1) | (x[2] << 63),
            (x[2] >> 1) | (x[3] << 63),
            (x[3] >> 1) | (x[4] << 63),
            x[4] >> 1,
        ];
        x = shifted;
        i += 1;
    }
    naf
}

fn add_small(x: &mut [u64; 5], v: u64) {
    let mut carry = v;
    for limb in x.iter_mut() {
        let (s, c) = limb.overflowing_add(carry);
        *limb = s;
        carry = c as u64;
        if carry == 0 {
            break;
        }
    }
}

fn sub_small(x: &mut [u64; 5], v: u64) {
    let mut borrow = v;
    for limb in x.iter_mut() {
        let (s, b) = limb.overflowing_sub(borrow);
        *limb = s;
        borrow = b as u64;
        if borrow == 0 {
            break;
        }
    }
}

/// wNAF width for the variable point in [`double_mul_vartime`].
const P_WNAF: u32 = 5;

/// `a·G + b·q` for plain scalars `a`, `b` (public data only): interleaved
/// wNAF with one shared doubling chain, width 7 for `G` (affine odd
/// multiples computed once) and width 5 for `q`.
pub(super) fn double_mul_vartime(a: &[u64; 4], q: &Affine, b: &[u64; 4]) -> Jacobian {
    let naf_a = wnaf(a, G_WNAF);
    let naf_b = wnaf(b, P_WNAF);
    let g_odd = g_odd_multiples();
    // q, 3q, 5q, ..., 15q.
    let q_jac = Jacobian::from(q);
    let q2 = q_jac.double();
    let mut q_odd = [q_jac; 1 << (P_WNAF - 2)];
    for i in 1..q_odd.len() {
        q_odd[i] = q_odd[i - 1].add_vartime(&q2);
    }
    let top = (0..naf_a.len())
        .rev()
        .find(|&i| naf_a[i] != 0 || naf_b[i] != 0);
    let Some(top) = top else {
        return Jacobian::IDENTITY;
    };
    let mut acc = Jacobian::IDENTITY;
    for i in (0..=top).rev() {
        acc = acc.double();
        let da = naf_a[i];
        if da > 0 {
            acc = acc.add_mixed_vartime(&g_odd[(da as usize) / 2]);
        } else if da < 0 {
            acc = acc.add_mixed_vartime(&g_odd[(-da as usize) / 2].neg());
        }
        let db = naf_b[i];
        if db > 0 {
            acc = acc.add_vartime(&q_odd[(db as usize) / 2]);
        } else if db < 0 {
            acc = acc.add_vartime(&q_odd[(-db as usize) / 2].neg());
        }
    }
    acc
}
