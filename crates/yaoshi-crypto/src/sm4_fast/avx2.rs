//! SM4 on 256-bit vectors (AVX2): 16 blocks as two interleaved groups of
//! eight, each group word-sliced (register `j` holds word `j` of four blocks
//! in each 128-bit lane).
//!
//! Two builds of the same kernel: [`vaes`] uses the 256-bit VAES AESENCLAST,
//! [`aesni`] splits each register into two 128-bit AESENCLASTs for AVX2 CPUs
//! without VAES. As in [`super::aesni`], the S-box is
//! `POST(AESENCLAST(PRE(x), 0))` with the affine maps done by VPSHUFB into
//! constant tables held in registers: no key- or data-dependent address or
//! branch.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

/// AESENCLAST with a zero round key on both lanes, with VAES.
#[inline]
#[target_feature(enable = "avx2,aes,vaes")]
fn enclast_vaes(x: __m256i) -> __m256i {
    _mm256_aesenclast_epi128(x, _mm256_setzero_si256())
}

/// AESENCLAST with a zero round key on both lanes, as two 128-bit AESENCLASTs.
#[inline]
#[target_feature(enable = "avx2,aes")]
fn enclast_split(x: __m256i) -> __m256i {
    let zero = _mm_setzero_si128();
    let lo = _mm_aesenclast_si128(_mm256_castsi256_si128(x), zero);
    let hi = _mm_aesenclast_si128(_mm256_extracti128_si256::<1>(x), zero);
    _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi)
}

macro_rules! avx2_kernel {
    ($(#[$doc:meta])* $name:ident, $features:literal, $enclast:path) => {
        $(#[$doc])*
        pub(super) mod $name {
            use super::super::tables::{
                BSWAP32, NIBBLE, POST_HI, POST_LO, PRE_HI, PRE_LO, ROL0, ROL8, ROL16, ROL24,
            };
            use core::arch::x86_64::*;

            /// Loads a 16-byte constant into both lanes.
            #[inline]
            #[target_feature(enable = $features)]
            fn load(bytes: &[u8; 16]) -> __m256i {
                // SAFETY: `bytes` is a valid, readable 16-byte array;
                // `_mm_loadu_si128` accepts any alignment; SSE2 is implied by
                // the AVX2 enabled on this function.
                _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) })
            }

            /// The constant registers of the round function.
            struct Consts {
                nibble: __m256i,
                pre_lo: __m256i,
                pre_hi: __m256i,
                post_lo: __m256i,
                post_hi: __m256i,
                rol0: __m256i,
                rol8: __m256i,
                rol16: __m256i,
                rol24: __m256i,
                bswap: __m256i,
            }

            impl Consts {
                #[inline]
                #[target_feature(enable = $features)]
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
            #[target_feature(enable = $features)]
            fn affine(x: __m256i, lo: __m256i, hi: __m256i, nibble: __m256i) -> __m256i {
                let l = _mm256_and_si256(x, nibble);
                let h = _mm256_and_si256(_mm256_srli_epi32::<4>(x), nibble);
                _mm256_xor_si256(_mm256_shuffle_epi8(lo, l), _mm256_shuffle_epi8(hi, h))
            }

            /// One round on a word-sliced group: `x0 ^ L(τ(x1 ^ x2 ^ x3 ^ rk))`.
            #[inline]
            #[target_feature(enable = $features)]
            fn round(
                x0: __m256i,
                x1: __m256i,
                x2: __m256i,
                x3: __m256i,
                rk: __m256i,
                c: &Consts,
            ) -> __m256i {
                let x = _mm256_xor_si256(_mm256_xor_si256(x1, x2), _mm256_xor_si256(x3, rk));
                let t = affine(x, c.pre_lo, c.pre_hi, c.nibble);
                let y = affine($enclast(t), c.post_lo, c.post_hi, c.nibble);
                let a = _mm256_shuffle_epi8(y, c.rol0);
                let t = _mm256_xor_si256(
                    _mm256_xor_si256(a, _mm256_shuffle_epi8(y, c.rol8)),
                    _mm256_shuffle_epi8(y, c.rol16),
                );
                let t = _mm256_or_si256(_mm256_slli_epi32::<2>(t), _mm256_srli_epi32::<30>(t));
                let l = _mm256_xor_si256(_mm256_xor_si256(a, _mm256_shuffle_epi8(y, c.rol24)), t);
                _mm256_xor_si256(x0, l)
            }

            /// 4x4 transpose of 32-bit lanes within each 128-bit lane.
            #[inline]
            #[target_feature(enable = $features)]
            fn transpose(
                x0: __m256i,
                x1: __m256i,
                x2: __m256i,
                x3: __m256i,
            ) -> (__m256i, __m256i, __m256i, __m256i) {
                let t0 = _mm256_unpacklo_epi32(x0, x1);
                let t1 = _mm256_unpacklo_epi32(x2, x3);
                let t2 = _mm256_unpackhi_epi32(x0, x1);
                let t3 = _mm256_unpackhi_epi32(x2, x3);
                (
                    _mm256_unpacklo_epi64(t0, t1),
                    _mm256_unpackhi_epi64(t0, t1),
                    _mm256_unpacklo_epi64(t2, t3),
                    _mm256_unpackhi_epi64(t2, t3),
                )
            }

            /// Loads blocks `2i` and `2i + 1`, words byte-swapped to native order.
            #[inline]
            #[target_feature(enable = $features)]
            fn load_pair(data: &[u8; 256], i: usize, c: &Consts) -> __m256i {
                let pair = &data[32 * i..32 * i + 32];
                // SAFETY: `pair` is a valid, readable 32-byte slice (the
                // indexing above is bounds-checked); unaligned load; AVX
                // is implied by the AVX2 enabled on this function.
                let x = unsafe { _mm256_loadu_si256(pair.as_ptr().cast()) };
                _mm256_shuffle_epi8(x, c.bswap)
            }

            /// Stores `x` (words byte-swapped back) as blocks `2i`, `2i + 1`.
            #[inline]
            #[target_feature(enable = $features)]
            fn store_pair(data: &mut [u8; 256], i: usize, x: __m256i, c: &Consts) {
                let pair = &mut data[32 * i..32 * i + 32];
                // SAFETY: `pair` is a valid, writable 32-byte slice
                // (bounds-checked above); unaligned store; AVX implied by AVX2.
                unsafe {
                    _mm256_storeu_si256(pair.as_mut_ptr().cast(), _mm256_shuffle_epi8(x, c.bswap))
                }
            }

            /// Encrypts 16 blocks (256 bytes) in place with the expanded key `rk`.
            #[target_feature(enable = $features)]
            pub(in super::super) fn encrypt16(rk: &[u32; 32], data: &mut [u8; 256]) {
                let c = Consts::new();
                let c = &c;
                let (mut a0, mut a1, mut a2, mut a3) = transpose(
                    load_pair(data, 0, c),
                    load_pair(data, 1, c),
                    load_pair(data, 2, c),
                    load_pair(data, 3, c),
                );
                let (mut b0, mut b1, mut b2, mut b3) = transpose(
                    load_pair(data, 4, c),
                    load_pair(data, 5, c),
                    load_pair(data, 6, c),
                    load_pair(data, 7, c),
                );
                for k in rk.chunks_exact(4) {
                    let k0 = _mm256_set1_epi32(k[0] as i32);
                    a0 = round(a0, a1, a2, a3, k0, c);
                    b0 = round(b0, b1, b2, b3, k0, c);
                    let k1 = _mm256_set1_epi32(k[1] as i32);
                    a1 = round(a1, a2, a3, a0, k1, c);
                    b1 = round(b1, b2, b3, b0, k1, c);
                    let k2 = _mm256_set1_epi32(k[2] as i32);
                    a2 = round(a2, a3, a0, a1, k2, c);
                    b2 = round(b2, b3, b0, b1, k2, c);
                    let k3 = _mm256_set1_epi32(k[3] as i32);
                    a3 = round(a3, a0, a1, a2, k3, c);
                    b3 = round(b3, b0, b1, b2, k3, c);
                }
                let (o0, o1, o2, o3) = transpose(a3, a2, a1, a0);
                store_pair(data, 0, o0, c);
                store_pair(data, 1, o1, c);
                store_pair(data, 2, o2, c);
                store_pair(data, 3, o3, c);
                let (o4, o5, o6, o7) = transpose(b3, b2, b1, b0);
                store_pair(data, 4, o4, c);
                store_pair(data, 5, o5, c);
                store_pair(data, 6, o6, c);
                store_pair(data, 7, o7, c);
            }
        }
    };
}

avx2_kernel!(
    /// The kernel with 256-bit VAES AESENCLAST.
    vaes,
    "avx2,aes,vaes",
    super::enclast_vaes
);
avx2_kernel!(
    /// The kernel with two 128-bit AESENCLASTs per register (AVX2 without VAES).
    aesni,
    "avx2,aes",
    super::enclast_split
);
