//! GHASH (the GCM universal hash) with PCLMULQDQ, eight blocks per reduction.
//!
//! Computed as POLYVAL (RFC 8452 Appendix A): with `H' = mulX(ByteReverse(H))`
//! and every block byte-reversed, `GHASH = ByteReverse(POLYVAL)`, and POLYVAL's
//! `dot(a, b) = a·b·x⁻¹²⁸ mod x¹²⁸+x¹²⁷+x¹²⁶+x¹²¹+1` maps directly onto
//! carry-less multiplication of little-endian registers plus a two-step
//! Montgomery reduction. Eight blocks are multiplied by `H'⁸ … H'¹`, their
//! 256-bit products summed, and reduced once.
//!
//! With VPCLMULQDQ (AVX2 CPUs with VAES), [`Key::update_wide`] does the same
//! eight-block step with 256-bit carry-less multiplies, two blocks per register.
//!
//! Carry-less multiplication runs in constant time; nothing here branches on,
//! or indexes memory with, the hash key or the data.

#![allow(unsafe_code)]

use super::tables::BSWAP128;
use core::arch::x86_64::*;

/// The hash key: `H'¹ … H'⁸` (POLYVAL domain), `powers[i] = H'^(i+1)`.
pub(super) struct Key {
    powers: [u128; 8],
}

impl Drop for Key {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.powers);
    }
}

#[inline]
#[target_feature(enable = "sse2")]
fn to_reg(v: u128) -> __m128i {
    _mm_set_epi64x((v >> 64) as i64, v as i64)
}

#[inline]
#[target_feature(enable = "sse2")]
fn from_reg(x: __m128i) -> u128 {
    let lo = _mm_cvtsi128_si64(x) as u64;
    let hi = _mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x)) as u64;
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Unreduced 256-bit product accumulator.
#[derive(Clone, Copy)]
struct Wide {
    lo: __m128i,
    mid: __m128i,
    hi: __m128i,
}

impl Wide {
    #[inline]
    #[target_feature(enable = "sse2,pclmulqdq")]
    fn mul(a: __m128i, b: __m128i) -> Self {
        Self {
            lo: _mm_clmulepi64_si128::<0x00>(a, b),
            mid: _mm_xor_si128(
                _mm_clmulepi64_si128::<0x01>(a, b),
                _mm_clmulepi64_si128::<0x10>(a, b),
            ),
            hi: _mm_clmulepi64_si128::<0x11>(a, b),
        }
    }

    #[inline]
    #[target_feature(enable = "sse2,pclmulqdq")]
    fn add_mul(&mut self, a: __m128i, b: __m128i) {
        let p = Self::mul(a, b);
        self.lo = _mm_xor_si128(self.lo, p.lo);
        self.mid = _mm_xor_si128(self.mid, p.mid);
        self.hi = _mm_xor_si128(self.hi, p.hi);
    }

    /// Montgomery reduction: returns `self · x⁻¹²⁸` mod the POLYVAL polynomial.
    #[inline]
    #[target_feature(enable = "sse2,pclmulqdq")]
    fn reduce(self) -> __m128i {
        let lo = _mm_xor_si128(self.lo, _mm_slli_si128::<8>(self.mid));
        let hi = _mm_xor_si128(self.hi, _mm_srli_si128::<8>(self.mid));
        let poly = _mm_set_epi64x(0xc200_0000_0000_0000_u64 as i64, 1);
        let t = _mm_clmulepi64_si128::<0x10>(lo, poly);
        let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        let t = _mm_clmulepi64_si128::<0x10>(lo, poly);
        let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        _mm_xor_si128(hi, lo)
    }
}

#[inline]
#[target_feature(enable = "sse2,pclmulqdq")]
fn dot(a: __m128i, b: __m128i) -> __m128i {
    Wide::mul(a, b).reduce()
}

impl Key {
    /// Builds the key from `H = E_K(0¹²⁸)`.
    #[target_feature(enable = "sse2,pclmulqdq")]
    pub(super) fn new(h: &[u8; 16]) -> Self {
        // mulX_POLYVAL(ByteReverse(H)), in constant time.
        let v = u128::from_be_bytes(*h);
        let carry = v >> 127;
        let h1 = (v << 1) ^ (0u128.wrapping_sub(carry) & 0xc200_0000_0000_0000_0000_0000_0000_0001);
        let h1r = to_reg(h1);
        let mut powers = [0u128; 8];
        let mut p = h1r;
        for slot in powers.iter_mut() {
            *slot = from_reg(p);
            p = dot(p, h1r);
        }
        Self { powers }
    }

    /// Absorbs `data` (whole 16-byte blocks) into the state `acc` (POLYVAL
    /// domain; start from 0, finish with [`Key::finish`]).
    #[target_feature(enable = "sse2,ssse3,pclmulqdq")]
    pub(super) fn update(&self, acc: &mut u128, data: &[u8]) {
        debug_assert!(data.len().is_multiple_of(16));
        let bswap = load(&BSWAP128);
        let mut h = [_mm_setzero_si128(); 8];
        for (r, p) in h.iter_mut().zip(self.powers) {
            *r = to_reg(p);
        }
        let mut y = to_reg(*acc);
        let mut chunks = data.chunks_exact(128);
        for chunk in &mut chunks {
            let chunk: &[u8; 128] = chunk.try_into().expect("128 bytes");
            let x0 = _mm_xor_si128(y, block(chunk, 0, bswap));
            let mut w = Wide::mul(x0, h[7]);
            for i in 1..8 {
                w.add_mul(block(chunk, i, bswap), h[7 - i]);
            }
            y = w.reduce();
        }
        for b in chunks.remainder().chunks_exact(16) {
            let b: &[u8; 16] = b.try_into().expect("16 bytes");
            y = dot(_mm_xor_si128(y, _mm_shuffle_epi8(load(b), bswap)), h[0]);
        }
        *acc = from_reg(y);
    }

    /// [`Key::update`] with 256-bit VPCLMULQDQ for the eight-block steps.
    #[target_feature(enable = "avx2,pclmulqdq,vpclmulqdq")]
    pub(super) fn update_wide(&self, acc: &mut u128, data: &[u8]) {
        debug_assert!(data.len().is_multiple_of(16));
        let mut chunks = data.chunks_exact(128);
        if data.len() >= 128 {
            let bswap = _mm256_broadcastsi128_si256(load(&BSWAP128));
            // hp[k] = [H'^(8-2k) | H'^(7-2k)]: lane 0 multiplies the earlier block.
            let mut hp = [_mm256_setzero_si256(); 4];
            for (k, r) in hp.iter_mut().enumerate() {
                *r = _mm256_set_m128i(
                    to_reg(self.powers[6 - 2 * k]),
                    to_reg(self.powers[7 - 2 * k]),
                );
            }
            let mut y = to_reg(*acc);
            for chunk in &mut chunks {
                let chunk: &[u8; 128] = chunk.try_into().expect("128 bytes");
                let mut lo = _mm256_setzero_si256();
                let mut mid = _mm256_setzero_si256();
                let mut hi = _mm256_setzero_si256();
                for (k, h) in hp.iter().enumerate() {
                    let pair = &chunk[32 * k..32 * k + 32];
                    // SAFETY: `pair` is a valid, readable 32-byte slice
                    // (bounds-checked above); unaligned load; AVX implied by AVX2.
                    let x = unsafe { _mm256_loadu_si256(pair.as_ptr().cast()) };
                    let mut x = _mm256_shuffle_epi8(x, bswap);
                    if k == 0 {
                        x = _mm256_xor_si256(x, _mm256_zextsi128_si256(y));
                    }
                    lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128::<0x00>(x, *h));
                    hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128::<0x11>(x, *h));
                    mid = _mm256_xor_si256(
                        mid,
                        _mm256_xor_si256(
                            _mm256_clmulepi64_epi128::<0x01>(x, *h),
                            _mm256_clmulepi64_epi128::<0x10>(x, *h),
                        ),
                    );
                }
                let fold = |v: __m256i| {
                    _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v))
                };
                y = Wide {
                    lo: fold(lo),
                    mid: fold(mid),
                    hi: fold(hi),
                }
                .reduce();
            }
            *acc = from_reg(y);
        }
        // SSSE3 is implied by the AVX2 enabled here, so `update` is safe to call.
        self.update(acc, chunks.remainder());
    }
}

/// The GHASH value (big-endian bytes) of a POLYVAL-domain state.
pub(super) fn finish(acc: u128) -> [u8; 16] {
    acc.to_be_bytes()
}

#[inline]
#[target_feature(enable = "sse2")]
fn load(bytes: &[u8; 16]) -> __m128i {
    // SAFETY: `bytes` is a valid, readable 16-byte array; `_mm_loadu_si128`
    // accepts any alignment; SSE2 is enabled on this function.
    unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
}

/// Block `i` of `chunk`, byte-reversed.
#[inline]
#[target_feature(enable = "sse2,ssse3")]
fn block(chunk: &[u8; 128], i: usize, bswap: __m128i) -> __m128i {
    let b: &[u8; 16] = chunk[16 * i..16 * i + 16].try_into().expect("16 bytes");
    _mm_shuffle_epi8(load(b), bswap)
}
