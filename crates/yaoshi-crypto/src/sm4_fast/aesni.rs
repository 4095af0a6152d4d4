//! SM4 on 128-bit vectors (SSSE3 + AES-NI): the [`Lanes`] operations on
//! `__m128i`, the kernel entry point (16 blocks as two passes of two
//! interleaved groups of four, see [`super::kernel`]), and the key schedule.

#![allow(unsafe_code)]

use super::kernel::{self, Consts, Lanes, forward};
use super::tables::{CK, FK};
use core::arch::x86_64::*;

/// 128-bit SSE registers; a value proves SSE2, SSSE3 and AES-NI are present.
#[derive(Clone, Copy)]
pub(super) struct Sse(());

impl Sse {
    /// The token, callable only where SSE2, SSSE3 and AES-NI are enabled.
    #[inline]
    #[target_feature(enable = "sse2,ssse3,aes")]
    fn new() -> Self {
        Self(())
    }
}

impl Lanes for Sse {
    type V = __m128i;
    const BYTES: usize = 16;

    #[inline(always)]
    fn splat16(self, bytes: &[u8; 16]) -> __m128i {
        self.load(bytes)
    }

    #[inline(always)]
    fn splat32(self, w: u32) -> __m128i {
        // SAFETY: a `Sse` exists only where SSE2 is present.
        unsafe { _mm_set1_epi32(w as i32) }
    }

    #[inline(always)]
    fn load(self, src: &[u8]) -> __m128i {
        let src: &[u8; 16] = src.try_into().expect("16 bytes");
        // SAFETY: `src` is a valid, readable 16-byte array; `_mm_loadu_si128`
        // accepts any alignment; a `Sse` exists only where SSE2 is present.
        unsafe { _mm_loadu_si128(src.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, dst: &mut [u8], x: __m128i) {
        let dst: &mut [u8; 16] = dst.try_into().expect("16 bytes");
        // SAFETY: `dst` is a valid, writable 16-byte array; `_mm_storeu_si128`
        // accepts any alignment; a `Sse` exists only where SSE2 is present.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), x) }
    }

    #[inline(always)]
    fn shl32<const N: i32>(self, x: __m128i) -> __m128i {
        // SAFETY: a `Sse` exists only where SSE2 is present.
        unsafe { _mm_slli_epi32::<N>(x) }
    }

    #[inline(always)]
    fn shr32<const N: i32>(self, x: __m128i) -> __m128i {
        // SAFETY: a `Sse` exists only where SSE2 is present.
        unsafe { _mm_srli_epi32::<N>(x) }
    }

    #[inline(always)]
    fn aes_enclast(self, x: __m128i) -> __m128i {
        // SAFETY: a `Sse` exists only where SSE2 and AES-NI are present.
        unsafe { _mm_aesenclast_si128(x, _mm_setzero_si128()) }
    }

    forward! {
        fn xor(a, b) => _mm_xor_si128;
        fn and(a, b) => _mm_and_si128;
        fn or(a, b) => _mm_or_si128;
        fn shuffle_bytes(table, idx) => _mm_shuffle_epi8;
        fn unpacklo32(a, b) => _mm_unpacklo_epi32;
        fn unpackhi32(a, b) => _mm_unpackhi_epi32;
        fn unpacklo64(a, b) => _mm_unpacklo_epi64;
        fn unpackhi64(a, b) => _mm_unpackhi_epi64;
    }
}

/// Encrypts 16 blocks (256 bytes) in place with the expanded key `rk`.
#[target_feature(enable = "sse2,ssse3,aes")]
pub(super) fn encrypt16(rk: &[u32; 32], data: &mut [u8; 256]) {
    kernel::encrypt16(Sse::new(), rk, data);
}

/// τ (the S-box on each byte) of one word. The word is broadcast to all four
/// columns, so the ShiftRows inside AESENCLAST leaves column 0 in order.
#[inline]
#[target_feature(enable = "sse2,ssse3,aes")]
fn tau(w: u32, c: &Consts<__m128i>) -> u32 {
    let v = Sse::new();
    let y = kernel::sbox_sr(v, v.splat32(w), c);
    _mm_cvtsi128_si32(y) as u32
}

/// The SM4 key schedule (GB/T 32907 §7.3), with the S-box computed as in the
/// kernel (no table lookups indexed by the key).
#[target_feature(enable = "sse2,ssse3,aes")]
pub(super) fn expand_key(key: &[u8; 16]) -> [u32; 32] {
    let c = Consts::new(Sse::new());
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
    let v = Sse::new();
    let c = Consts::new(v);
    let y = v.shuffle_bytes(kernel::sbox_sr(v, v.load(&x), &c), c.rol0);
    let mut out = [0u8; 16];
    v.store(&mut out, y);
    out
}
