//! SM4 on 256-bit vectors (AVX2): the [`Lanes`] operations on `__m256i` and
//! the kernel entry points (16 blocks as one pass of two interleaved groups of
//! eight, four blocks per group in each 128-bit lane, see [`super::kernel`]).
//!
//! Two builds of the same kernel: [`encrypt16_vaes`] uses the 256-bit VAES
//! AESENCLAST, [`encrypt16_aesni`] splits each register into two 128-bit
//! AESENCLASTs for AVX2 CPUs without VAES.

#![allow(unsafe_code)]

use super::kernel::{self, Lanes, forward};
use core::arch::x86_64::*;

/// 256-bit AVX2 registers; a value proves AVX2 and AES-NI are present, and
/// VAES too when `VAES` (which then selects the 256-bit AESENCLAST).
#[derive(Clone, Copy)]
pub(super) struct Avx2<const VAES: bool>(());

impl Avx2<true> {
    /// The token, callable only where AVX2, AES-NI and VAES are enabled.
    #[inline]
    #[target_feature(enable = "avx2,aes,vaes")]
    fn new() -> Self {
        Self(())
    }
}

impl Avx2<false> {
    /// The token, callable only where AVX2 and AES-NI are enabled.
    #[inline]
    #[target_feature(enable = "avx2,aes")]
    fn new() -> Self {
        Self(())
    }
}

impl<const VAES: bool> Lanes for Avx2<VAES> {
    type V = __m256i;
    const BYTES: usize = 32;

    #[inline(always)]
    fn splat16(self, bytes: &[u8; 16]) -> __m256i {
        // SAFETY: `bytes` is a valid, readable 16-byte array;
        // `_mm_loadu_si128` accepts any alignment; an `Avx2` exists only where
        // AVX2 (and so SSE2) is present.
        unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(bytes.as_ptr().cast())) }
    }

    #[inline(always)]
    fn splat32(self, w: u32) -> __m256i {
        // SAFETY: an `Avx2` exists only where AVX2 is present.
        unsafe { _mm256_set1_epi32(w as i32) }
    }

    #[inline(always)]
    fn load(self, src: &[u8]) -> __m256i {
        let src: &[u8; 32] = src.try_into().expect("32 bytes");
        // SAFETY: `src` is a valid, readable 32-byte array; unaligned load;
        // an `Avx2` exists only where AVX2 (and so AVX) is present.
        unsafe { _mm256_loadu_si256(src.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, dst: &mut [u8], x: __m256i) {
        let dst: &mut [u8; 32] = dst.try_into().expect("32 bytes");
        // SAFETY: `dst` is a valid, writable 32-byte array; unaligned store;
        // an `Avx2` exists only where AVX2 (and so AVX) is present.
        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), x) }
    }

    #[inline(always)]
    fn shl32<const N: i32>(self, x: __m256i) -> __m256i {
        // SAFETY: an `Avx2` exists only where AVX2 is present.
        unsafe { _mm256_slli_epi32::<N>(x) }
    }

    #[inline(always)]
    fn shr32<const N: i32>(self, x: __m256i) -> __m256i {
        // SAFETY: an `Avx2` exists only where AVX2 is present.
        unsafe { _mm256_srli_epi32::<N>(x) }
    }

    #[inline(always)]
    fn aes_enclast(self, x: __m256i) -> __m256i {
        // SAFETY: an `Avx2<VAES>` exists only where AVX2 and AES-NI are
        // present, and VAES as well when `VAES`, the only case using it.
        unsafe {
            if VAES {
                _mm256_aesenclast_epi128(x, _mm256_setzero_si256())
            } else {
                let zero = _mm_setzero_si128();
                let lo = _mm_aesenclast_si128(_mm256_castsi256_si128(x), zero);
                let hi = _mm_aesenclast_si128(_mm256_extracti128_si256::<1>(x), zero);
                _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi)
            }
        }
    }

    forward! {
        fn xor(a, b) => _mm256_xor_si256;
        fn and(a, b) => _mm256_and_si256;
        fn or(a, b) => _mm256_or_si256;
        fn shuffle_bytes(table, idx) => _mm256_shuffle_epi8;
        fn unpacklo32(a, b) => _mm256_unpacklo_epi32;
        fn unpackhi32(a, b) => _mm256_unpackhi_epi32;
        fn unpacklo64(a, b) => _mm256_unpacklo_epi64;
        fn unpackhi64(a, b) => _mm256_unpackhi_epi64;
    }
}

/// Encrypts 16 blocks (256 bytes) in place with the expanded key `rk`, using
/// the 256-bit VAES AESENCLAST.
#[target_feature(enable = "avx2,aes,vaes")]
pub(super) fn encrypt16_vaes(rk: &[u32; 32], data: &mut [u8; 256]) {
    kernel::encrypt16(Avx2::<true>::new(), rk, data);
}

/// Encrypts 16 blocks (256 bytes) in place with the expanded key `rk`, using
/// two 128-bit AESENCLASTs per register (AVX2 without VAES).
#[target_feature(enable = "avx2,aes")]
pub(super) fn encrypt16_aesni(rk: &[u32; 32], data: &mut [u8; 256]) {
    kernel::encrypt16(Avx2::<false>::new(), rk, data);
}
