//! SM4 on 128-bit vectors (SSSE3 + AES-NI): the key schedule and a kernel that
//! encrypts 16 blocks as four groups of four, each group word-sliced (register
//! `j` holds word `j` of four blocks).
//!
//! The S-box is computed as `POST(AESENCLAST(PRE(x), 0))` (see [`super::tables`]):
//! the affine maps are PSHUFB lookups into constant tables held in registers,
//! indexed by the nibbles of the data, and the AES S-box is the AESENCLAST
//! instruction, so no memory address and no branch depends on a key or on data.

#![allow(unsafe_code)]

use super::tables::{
    BSWAP32, CK, FK, NIBBLE, POST_HI, POST_LO, PRE_HI, PRE_LO, ROL0, ROL8, ROL16, ROL24,
};
use core::arch::x86_64::*;

/// Loads a 16-byte constant.
#[inline]
#[target_feature(enable = "sse2")]
fn load(bytes: &[u8; 16]) -> __m128i {
    // SAFETY: `bytes` is a valid, readable 16-byte array; `_mm_loadu_si128`
    // accepts any alignment, and SSE2 is enabled on this function.
    unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
}

/// The constant registers of the round function.
struct Consts {
    nibble: __m128i,
    pre_lo: __m128i,
    pre_hi: __m128i,
    post_lo: __m128i,
    post_hi: __m128i,
    rol0: __m128i,
    rol8: __m128i,
    rol16: __m128i,
    rol24: __m128i,
    bswap: __m128i,
}

impl Consts {
    #[inline]
    #[target_feature(enable = "sse2")]
    fn new() -> Self {
        Self {
            nibble: load(&NIBBLE),
            pre_lo: load(&PRE_LO),
            pre_hi: load(&PRE_HI),
            post_lo: load(&POST_LO),
            post_hi: load(&POST_HI),
            rol0: load(&ROL0),
            rol8: load(&ROL8),
            rol16: load(&ROL16),
            rol24: load(&ROL24),
            bswap: load(&BSWAP32),
        }
    }
}

/// Applies an affine byte map given as low/high nibble tables.
#[inline]
#[target_feature(enable = "sse2,ssse3")]
fn affine(x: __m128i, lo: __m128i, hi: __m128i, nibble: __m128i) -> __m128i {
    let l = _mm_and_si128(x, nibble);
    let h = _mm_and_si128(_mm_srli_epi32::<4>(x), nibble);
    _mm_xor_si128(_mm_shuffle_epi8(lo, l), _mm_shuffle_epi8(hi, h))
}

/// SM4 S-box on all 16 bytes, result still permuted by ShiftRows.
#[inline]
#[target_feature(enable = "sse2,ssse3,aes")]
fn sbox_sr(x: __m128i, c: &Consts) -> __m128i {
    let t = affine(x, c.pre_lo, c.pre_hi, c.nibble);
    let t = _mm_aesenclast_si128(t, _mm_setzero_si128());
    affine(t, c.post_lo, c.post_hi, c.nibble)
}

/// One round on a word-sliced group: `x0 ^ L(τ(x1 ^ x2 ^ x3 ^ rk))`.
#[inline]
#[target_feature(enable = "sse2,ssse3,aes")]
fn round(x0: __m128i, x1: __m128i, x2: __m128i, x3: __m128i, rk: __m128i, c: &Consts) -> __m128i {
    let x = _mm_xor_si128(_mm_xor_si128(x1, x2), _mm_xor_si128(x3, rk));
    let y = sbox_sr(x, c);
    let a = _mm_shuffle_epi8(y, c.rol0);
    let t = _mm_xor_si128(
        _mm_xor_si128(a, _mm_shuffle_epi8(y, c.rol8)),
        _mm_shuffle_epi8(y, c.rol16),
    );
    let t = _mm_or_si128(_mm_slli_epi32::<2>(t), _mm_srli_epi32::<30>(t));
    let l = _mm_xor_si128(_mm_xor_si128(a, _mm_shuffle_epi8(y, c.rol24)), t);
    _mm_xor_si128(x0, l)
}

/// 4x4 transpose of 32-bit lanes (its own inverse).
#[inline]
#[target_feature(enable = "sse2")]
fn transpose(
    x0: __m128i,
    x1: __m128i,
    x2: __m128i,
    x3: __m128i,
) -> (__m128i, __m128i, __m128i, __m128i) {
    let t0 = _mm_unpacklo_epi32(x0, x1);
    let t1 = _mm_unpacklo_epi32(x2, x3);
    let t2 = _mm_unpackhi_epi32(x0, x1);
    let t3 = _mm_unpackhi_epi32(x2, x3);
    (
        _mm_unpacklo_epi64(t0, t1),
        _mm_unpackhi_epi64(t0, t1),
        _mm_unpacklo_epi64(t2, t3),
        _mm_unpackhi_epi64(t2, t3),
    )
}

/// Loads block `i` of `data` with its words byte-swapped to native order.
#[inline]
#[target_feature(enable = "sse2,ssse3")]
fn load_block(data: &[u8; 128], i: usize, c: &Consts) -> __m128i {
    let block: &[u8; 16] = data[16 * i..16 * i + 16].try_into().expect("16-byte block");
    _mm_shuffle_epi8(load(block), c.bswap)
}

/// Stores `x` (words byte-swapped back) as block `i` of `data`.
#[inline]
#[target_feature(enable = "sse2,ssse3")]
fn store_block(data: &mut [u8; 128], i: usize, x: __m128i, c: &Consts) {
    let block = &mut data[16 * i..16 * i + 16];
    // SAFETY: `block` is a valid, writable 16-byte slice (the indexing above is
    // bounds-checked); `_mm_storeu_si128` accepts any alignment; SSE2 is enabled.
    unsafe { _mm_storeu_si128(block.as_mut_ptr().cast(), _mm_shuffle_epi8(x, c.bswap)) }
}

/// Encrypts 8 blocks in place (two interleaved groups of four).
#[inline]
#[target_feature(enable = "sse2,ssse3,aes")]
fn encrypt8(rk: &[u32; 32], data: &mut [u8; 128], c: &Consts) {
    let (mut a0, mut a1, mut a2, mut a3) = transpose(
        load_block(data, 0, c),
        load_block(data, 1, c),
        load_block(data, 2, c),
        load_block(data, 3, c),
    );
    let (mut b0, mut b1, mut b2, mut b3) = transpose(
        load_block(data, 4, c),
        load_block(data, 5, c),
        load_block(data, 6, c),
        load_block(data, 7, c),
    );
    for k in rk.chunks_exact(4) {
        let k0 = _mm_set1_epi32(k[0] as i32);
        a0 = round(a0, a1, a2, a3, k0, c);
        b0 = round(b0, b1, b2, b3, k0, c);
        let k1 = _mm_set1_epi32(k[1] as i32);
        a1 = round(a1, a2, a3, a0, k1, c);
        b1 = round(b1, b2, b3, b0, k1, c);
        let k2 = _mm_set1_epi32(k[2] as i32);
        a2 = round(a2, a3, a0, a1, k2, c);
        b2 = round(b2, b3, b0, b1, k2, c);
        let k3 = _mm_set1_epi32(k[3] as i32);
        a3 = round(a3, a0, a1, a2, k3, c);
        b3 = round(b3, b0, b1, b2, k3, c);
    }
    let (o0, o1, o2, o3) = transpose(a3, a2, a1, a0);
    store_block(data, 0, o0, c);
    store_block(data, 1, o1, c);
    store_block(data, 2, o2, c);
    store_block(data, 3, o3, c);
    let (o4, o5, o6, o7) = transpose(b3, b2, b1, b0);
    store_block(data, 4, o4, c);
    store_block(data, 5, o5, c);
    store_block(data, 6, o6, c);
    store_block(data, 7, o7, c);
}

/// Encrypts 16 blocks (256 bytes) in place with the expanded key `rk`.
#[target_feature(enable = "sse2,ssse3,aes")]
pub(super) fn encrypt16(rk: &[u32; 32], data: &mut [u8; 256]) {
    let c = Consts::new();
    let (first, second) = data.split_at_mut(128);
    encrypt8(rk, first.try_into().expect("128 bytes"), &c);
    encrypt8(rk, second.try_into().expect("128 bytes"), &c);
}

/// τ (the S-box on each byte) of one word. The word is broadcast to all four
/// columns, so the ShiftRows inside AESENCLAST leaves column 0 in order.
#[inline]
#[target_feature(enable = "sse2,ssse3,aes")]
fn tau(w: u32, c: &Consts) -> u32 {
    let y = sbox_sr(_mm_set1_epi32(w as i32), c);
    _mm_cvtsi128_si32(y) as u32
}

/// The SM4 key schedule (GB/T 32907 §7.3), with the S-box computed as in the
/// kernel (no table lookups indexed by the key).
#[target_feature(enable = "sse2,ssse3,aes")]
pub(super) fn expand_key(key: &[u8; 16]) -> [u32; 32] {
    let c = Consts::new();
    let mut k = [0u32; 4];
    for (i, w) in k.iter_mut().enumerate() {
        *w = u32::from_be_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]])
            ^ FK[i];
    }
    let mut rk = [0u32; 32];
    for (r, ck) in rk.iter_mut().zip(CK) {
        let b = tau(k[1] ^ k[2] ^ k[3] ^ ck, &c);
        *r = k[0] ^ b ^ b.rotate_left(13) ^ b.rotate_left(23);
        k = [k[1], k[2], k[3], *r];
    }
    zeroize::Zeroize::zeroize(&mut k);
    rk
}

/// The SM4 S-box of every byte of `x`, for the table test.
#[cfg(test)]
#[target_feature(enable = "sse2,ssse3,aes")]
pub(super) fn sbox_bytes(x: [u8; 16]) -> [u8; 16] {
    let c = Consts::new();
    let y = _mm_shuffle_epi8(sbox_sr(load(&x), &c), c.rol0);
    let mut out = [0u8; 16];
    // SAFETY: `out` is a writable 16-byte array; unaligned store; SSE2 enabled.
    unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), y) };
    out
}
