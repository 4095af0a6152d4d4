//! The SM4 round loop, S-box, linear transform and transposes, written once
//! for any vector width ([`Lanes`]).
//!
//! [`super::aesni`] implements [`Lanes`] on 128-bit SSE registers and
//! [`super::avx2`] on 256-bit AVX2 registers. Their `#[target_feature]`
//! entry points call [`encrypt16`]; everything here and every [`Lanes`]
//! operation is `#[inline(always)]`, so it is all compiled inside the entry
//! point, with that entry point's CPU features, and each intrinsic inlines.
//!
//! The kernel encrypts 16 blocks in passes of two interleaved groups of four
//! registers, each group word-sliced: after [`transpose`], register `j` holds
//! word `j` of four blocks in each 128-bit lane. The S-box is computed as
//! `POST(AESENCLAST(PRE(x), 0))` (see [`super::tables`]): the affine maps are
//! byte shuffles into constant tables held in registers, indexed by the
//! nibbles of the data, and the AES S-box is the AESENCLAST instruction, so no
//! memory address and no branch depends on a key or on data.

use super::tables::{BSWAP32, NIBBLE, POST_HI, POST_LO, PRE_HI, PRE_LO, ROL0, ROL8, ROL16, ROL24};

/// A vector width: its register type and the operations the kernel uses.
///
/// A value of an implementing type is a token that the CPU has every feature
/// its operations use: implementors are constructed only by a safe
/// `#[target_feature]` function, which safe code can call only where those
/// features are enabled (and unsafe code only after detecting them). The
/// operations are therefore safe, and all `#[inline(always)]`.
pub(super) trait Lanes: Copy {
    /// The register type.
    type V: Copy;
    /// Bytes per register: 16 per 128-bit lane, one block per lane.
    const BYTES: usize;

    /// The 16 bytes `bytes` in every 128-bit lane.
    fn splat16(self, bytes: &[u8; 16]) -> Self::V;
    /// `w` in every 32-bit lane.
    fn splat32(self, w: u32) -> Self::V;
    /// Loads a register from `src`, which must be [`Self::BYTES`] long
    /// (panics otherwise).
    fn load(self, src: &[u8]) -> Self::V;
    /// Stores `x` to `dst`, which must be [`Self::BYTES`] long (panics
    /// otherwise).
    fn store(self, dst: &mut [u8], x: Self::V);
    /// Bitwise XOR.
    fn xor(self, a: Self::V, b: Self::V) -> Self::V;
    /// Bitwise AND.
    fn and(self, a: Self::V, b: Self::V) -> Self::V;
    /// Bitwise OR.
    fn or(self, a: Self::V, b: Self::V) -> Self::V;
    /// Byte `i` of each 128-bit lane becomes `table[idx[i] & 15]` of that
    /// lane, or 0 where bit 7 of `idx[i]` is set (PSHUFB).
    fn shuffle_bytes(self, table: Self::V, idx: Self::V) -> Self::V;
    /// Each 32-bit lane shifted left by `N`.
    fn shl32<const N: i32>(self, x: Self::V) -> Self::V;
    /// Each 32-bit lane shifted right (logically) by `N`.
    fn shr32<const N: i32>(self, x: Self::V) -> Self::V;
    /// AESENCLAST with a zero round key on each 128-bit lane: ShiftRows, then
    /// the AES S-box on every byte.
    fn aes_enclast(self, x: Self::V) -> Self::V;
    /// Interleaves the low 32-bit lanes of `a` and `b` in each 128-bit lane.
    fn unpacklo32(self, a: Self::V, b: Self::V) -> Self::V;
    /// Interleaves the high 32-bit lanes of `a` and `b` in each 128-bit lane.
    fn unpackhi32(self, a: Self::V, b: Self::V) -> Self::V;
    /// Interleaves the low 64-bit lanes of `a` and `b` in each 128-bit lane.
    fn unpacklo64(self, a: Self::V, b: Self::V) -> Self::V;
    /// Interleaves the high 64-bit lanes of `a` and `b` in each 128-bit lane.
    fn unpackhi64(self, a: Self::V, b: Self::V) -> Self::V;
}

/// Implements [`Lanes`] operations on registers by forwarding each to one
/// intrinsic: `fn name(args) => intrinsic;`.
macro_rules! forward {
    ($(fn $name:ident($($arg:ident),*) => $intrinsic:path;)*) => {$(
        #[inline(always)]
        fn $name(self, $($arg: Self::V),*) -> Self::V {
            // SAFETY: a value of `Self` exists only where the CPU has the
            // features of every intrinsic its operations use (see the trait
            // docs), and this intrinsic only computes on registers.
            unsafe { $intrinsic($($arg),*) }
        }
    )*};
}
pub(super) use forward;

/// The constant registers of the round function.
pub(super) struct Consts<V> {
    nibble: V,
    pre_lo: V,
    pre_hi: V,
    post_lo: V,
    post_hi: V,
    /// Undoes ShiftRows.
    pub(super) rol0: V,
    rol8: V,
    rol16: V,
    rol24: V,
    bswap: V,
}

impl<V: Copy> Consts<V> {
    /// Loads the constants into registers of width `L`.
    #[inline(always)]
    pub(super) fn new<L: Lanes<V = V>>(v: L) -> Self {
        Self {
            nibble: v.splat16(&NIBBLE),
            pre_lo: v.splat16(&PRE_LO),
            pre_hi: v.splat16(&PRE_HI),
            post_lo: v.splat16(&POST_LO),
            post_hi: v.splat16(&POST_HI),
            rol0: v.splat16(&ROL0),
            rol8: v.splat16(&ROL8),
            rol16: v.splat16(&ROL16),
            rol24: v.splat16(&ROL24),
            bswap: v.splat16(&BSWAP32),
        }
    }
}

/// Applies an affine byte map given as low/high nibble tables.
#[inline(always)]
fn affine<L: Lanes>(v: L, x: L::V, lo: L::V, hi: L::V, nibble: L::V) -> L::V {
    let l = v.and(x, nibble);
    let h = v.and(v.shr32::<4>(x), nibble);
    v.xor(v.shuffle_bytes(lo, l), v.shuffle_bytes(hi, h))
}

/// SM4 S-box on every byte, result still permuted by ShiftRows within each
/// 128-bit lane.
#[inline(always)]
pub(super) fn sbox_sr<L: Lanes>(v: L, x: L::V, c: &Consts<L::V>) -> L::V {
    let t = affine(v, x, c.pre_lo, c.pre_hi, c.nibble);
    affine(v, v.aes_enclast(t), c.post_lo, c.post_hi, c.nibble)
}

/// One round on a word-sliced group: `x0 ^ L(τ(x1 ^ x2 ^ x3 ^ rk))`.
///
/// The byte rotations of the linear transform `L` are shuffles that also
/// undo the ShiftRows left by [`sbox_sr`].
#[inline(always)]
fn round<L: Lanes>(
    v: L,
    x0: L::V,
    x1: L::V,
    x2: L::V,
    x3: L::V,
    rk: L::V,
    c: &Consts<L::V>,
) -> L::V {
    let x = v.xor(v.xor(x1, x2), v.xor(x3, rk));
    let y = sbox_sr(v, x, c);
    let a = v.shuffle_bytes(y, c.rol0);
    let t = v.xor(
        v.xor(a, v.shuffle_bytes(y, c.rol8)),
        v.shuffle_bytes(y, c.rol16),
    );
    let t = v.or(v.shl32::<2>(t), v.shr32::<30>(t));
    let l = v.xor(v.xor(a, v.shuffle_bytes(y, c.rol24)), t);
    v.xor(x0, l)
}

/// 4x4 transpose of 32-bit lanes within each 128-bit lane (its own inverse).
#[inline(always)]
fn transpose<L: Lanes>(v: L, x0: L::V, x1: L::V, x2: L::V, x3: L::V) -> [L::V; 4] {
    let t0 = v.unpacklo32(x0, x1);
    let t1 = v.unpacklo32(x2, x3);
    let t2 = v.unpackhi32(x0, x1);
    let t3 = v.unpackhi32(x2, x3);
    [
        v.unpacklo64(t0, t1),
        v.unpackhi64(t0, t1),
        v.unpacklo64(t2, t3),
        v.unpackhi64(t2, t3),
    ]
}

/// Loads register `i` of `data`, words byte-swapped to native order.
#[inline(always)]
fn load_at<L: Lanes>(v: L, data: &[u8], i: usize, c: &Consts<L::V>) -> L::V {
    v.shuffle_bytes(v.load(&data[L::BYTES * i..L::BYTES * (i + 1)]), c.bswap)
}

/// Stores `x` (words byte-swapped back) as register `i` of `data`.
#[inline(always)]
fn store_at<L: Lanes>(v: L, data: &mut [u8], i: usize, x: L::V, c: &Consts<L::V>) {
    v.store(
        &mut data[L::BYTES * i..L::BYTES * (i + 1)],
        v.shuffle_bytes(x, c.bswap),
    );
}

/// Encrypts `8 * L::BYTES` bytes of `data` in place, as two interleaved
/// groups of four registers.
#[inline(always)]
fn encrypt_pass<L: Lanes>(v: L, rk: &[u32; 32], data: &mut [u8], c: &Consts<L::V>) {
    let [mut a0, mut a1, mut a2, mut a3] = transpose(
        v,
        load_at(v, data, 0, c),
        load_at(v, data, 1, c),
        load_at(v, data, 2, c),
        load_at(v, data, 3, c),
    );
    let [mut b0, mut b1, mut b2, mut b3] = transpose(
        v,
        load_at(v, data, 4, c),
        load_at(v, data, 5, c),
        load_at(v, data, 6, c),
        load_at(v, data, 7, c),
    );
    for k in rk.chunks_exact(4) {
        let k0 = v.splat32(k[0]);
        a0 = round(v, a0, a1, a2, a3, k0, c);
        b0 = round(v, b0, b1, b2, b3, k0, c);
        let k1 = v.splat32(k[1]);
        a1 = round(v, a1, a2, a3, a0, k1, c);
        b1 = round(v, b1, b2, b3, b0, k1, c);
        let k2 = v.splat32(k[2]);
        a2 = round(v, a2, a3, a0, a1, k2, c);
        b2 = round(v, b2, b3, b0, b1, k2, c);
        let k3 = v.splat32(k[3]);
        a3 = round(v, a3, a0, a1, a2, k3, c);
        b3 = round(v, b3, b0, b1, b2, k3, c);
    }
    let [o0, o1, o2, o3] = transpose(v, a3, a2, a1, a0);
    store_at(v, data, 0, o0, c);
    store_at(v, data, 1, o1, c);
    store_at(v, data, 2, o2, c);
    store_at(v, data, 3, o3, c);
    let [o4, o5, o6, o7] = transpose(v, b3, b2, b1, b0);
    store_at(v, data, 4, o4, c);
    store_at(v, data, 5, o5, c);
    store_at(v, data, 6, o6, c);
    store_at(v, data, 7, o7, c);
}

/// Encrypts 16 blocks (256 bytes) in place with the expanded key `rk`: two
/// passes on 128-bit registers, one on 256-bit registers.
#[inline(always)]
pub(super) fn encrypt16<L: Lanes>(v: L, rk: &[u32; 32], data: &mut [u8; 256]) {
    let c = Consts::new(v);
    for pass in data.chunks_exact_mut(8 * L::BYTES) {
        encrypt_pass(v, rk, pass, &c);
    }
}
