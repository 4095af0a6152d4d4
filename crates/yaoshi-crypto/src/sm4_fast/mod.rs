//! Timing-safe SIMD fast path for SM4-CTR and SM4-GCM on x86-64.
//!
//! The SM4 S-box is computed with AES-NI through the affine isomorphism
//! between the SM4 and AES S-boxes ([`tables`]); blocks are processed 16 at a
//! time, word-sliced, by one kernel written over the vector width
//! ([`kernel`]) and built for 256-bit (AVX2, with VAES or two 128-bit
//! AESENCLASTs, [`avx2`]) and 128-bit (SSSE3 + AES-NI, [`aesni`]) vectors.
//! GCM hashes with PCLMULQDQ (VPCLMULQDQ with VAES), eight blocks per
//! reduction ([`ghash`]). The implementation is chosen once per process from
//! the CPU features ([`detected`]); without AES-NI and PCLMULQDQ (or off
//! x86-64) the RustCrypto reference (`sm4`, `ctr`, `aes-gcm`) is used.
//!
//! Partial batches (fewer than 16 blocks left) still go through the SIMD
//! kernel on a zero-padded batch, so message length only changes how many
//! batches run, never which code runs. The reference fallback uses the `sm4`
//! crate's table S-box, whose memory accesses depend on key and data (see
//! docs/crypto.md, "SM4 fast path").

use crate::error::{CryptoError, Result};
use aes_gcm::aead::{Aead, KeyInit, Payload, consts::U12};
use cipher::{KeyIvInit, StreamCipher};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

#[cfg(target_arch = "x86_64")]
mod aesni;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod ghash;
#[cfg(target_arch = "x86_64")]
mod kernel;
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod tables;
#[cfg(test)]
mod tests;

/// Blocks per kernel call.
const BATCH_BLOCKS: usize = 16;
/// Bytes per kernel call.
const BATCH: usize = 16 * BATCH_BLOCKS;
/// Longest GCM plaintext (NIST SP 800-38D: 2³⁹ − 256 bits).
const GCM_P_MAX: u64 = (1 << 36) - 32;
/// Longest GCM associated data accepted (as the RustCrypto reference).
const GCM_A_MAX: u64 = 1 << 36;

/// An SM4 implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Impl {
    /// RustCrypto `sm4` / `ctr` / `aes-gcm` (table S-box, not timing-safe).
    Reference,
    /// 128-bit SSSE3 + AES-NI, PCLMULQDQ GHASH.
    #[cfg(target_arch = "x86_64")]
    Aesni,
    /// 256-bit AVX2 with two 128-bit AESENCLASTs per register.
    #[cfg(target_arch = "x86_64")]
    Avx2Aesni,
    /// 256-bit AVX2 with VAES, VPCLMULQDQ GHASH.
    #[cfg(target_arch = "x86_64")]
    Avx2Vaes,
}

impl Impl {
    /// Every implementation, best last.
    const ALL: &[Impl] = &[
        Impl::Reference,
        #[cfg(target_arch = "x86_64")]
        Impl::Aesni,
        #[cfg(target_arch = "x86_64")]
        Impl::Avx2Aesni,
        #[cfg(target_arch = "x86_64")]
        Impl::Avx2Vaes,
    ];

    /// Whether this CPU has every feature the implementation uses.
    fn supported(self) -> bool {
        match self {
            Impl::Reference => true,
            #[cfg(target_arch = "x86_64")]
            Impl::Aesni => {
                std::is_x86_feature_detected!("sse2")
                    && std::is_x86_feature_detected!("ssse3")
                    && std::is_x86_feature_detected!("aes")
                    && std::is_x86_feature_detected!("pclmulqdq")
            }
            #[cfg(target_arch = "x86_64")]
            Impl::Avx2Aesni => Impl::Aesni.supported() && std::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Impl::Avx2Vaes => Impl::Avx2Aesni.supported() && std::is_x86_feature_detected!("vaes"),
        }
    }

    /// Every implementation this CPU can run, best last.
    pub(crate) fn available() -> Vec<Impl> {
        Self::ALL
            .iter()
            .copied()
            .filter(|imp| imp.supported())
            .collect()
    }
}

/// The implementation used by default: the best one this CPU supports,
/// detected once per process.
pub(crate) fn detected() -> Impl {
    static DETECTED: std::sync::OnceLock<Impl> = std::sync::OnceLock::new();
    *DETECTED.get_or_init(|| {
        *Impl::available()
            .last()
            .expect("reference is always available")
    })
}

/// Expanded SM4 encryption key of a SIMD implementation (wiped on drop).
#[cfg(target_arch = "x86_64")]
struct RoundKeys {
    imp: Impl,
    rk: [u32; 32],
}

#[cfg(target_arch = "x86_64")]
impl Drop for RoundKeys {
    fn drop(&mut self) {
        self.rk.zeroize();
    }
}

#[cfg(target_arch = "x86_64")]
impl RoundKeys {
    /// Expands `key` for `imp`, which must not be [`Impl::Reference`].
    #[allow(unsafe_code)]
    fn new(imp: Impl, key: &[u8; 16]) -> Self {
        assert!(imp != Impl::Reference && imp.supported());
        // SAFETY: every SIMD implementation is only `supported` when SSE2,
        // SSSE3 and AES-NI are detected (asserted just above), which is all
        // `expand_key` enables.
        let rk = unsafe { aesni::expand_key(key) };
        Self { imp, rk }
    }

    /// Encrypts 16 blocks in place.
    #[inline]
    #[allow(unsafe_code)]
    fn encrypt16(&self, data: &mut [u8; BATCH]) {
        // SAFETY: `self.imp` was checked against the detected CPU features in
        // `RoundKeys::new`: `Avx2Vaes` needs AVX2+AES+VAES, `Avx2Aesni`
        // AVX2+AES, `Aesni` SSSE3+AES, exactly the features each kernel enables.
        unsafe {
            match self.imp {
                Impl::Avx2Vaes => avx2::encrypt16_vaes(&self.rk, data),
                Impl::Avx2Aesni => avx2::encrypt16_aesni(&self.rk, data),
                Impl::Aesni => aesni::encrypt16(&self.rk, data),
                Impl::Reference => unreachable!("no round keys for the reference"),
            }
        }
    }
}

fn xor_into(dst: &mut [u8], ks: &[u8]) {
    for (d, k) in dst.iter_mut().zip(ks) {
        *d ^= k;
    }
}

/// SM4-CTR with a 128-bit big-endian counter starting at `iv`.
pub(crate) fn ctr_apply(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    ctr_apply_with(detected(), key, iv, data)
}

/// [`ctr_apply`] with a chosen implementation.
pub(crate) fn ctr_apply_with(imp: Impl, key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    match imp {
        Impl::Reference => {
            let mut out = data.to_vec();
            let mut ctr = ctr::Ctr128BE::<sm4::Sm4>::new(key.into(), iv.into());
            ctr.apply_keystream(&mut out);
            out
        }
        #[cfg(target_arch = "x86_64")]
        _ => {
            let rk = RoundKeys::new(imp, key);
            let mut out = Vec::with_capacity(data.len());
            let mut counter = u128::from_be_bytes(*iv);
            let mut ks = [0u8; BATCH];
            for chunk in data.chunks(BATCH) {
                for block in ks.chunks_exact_mut(16) {
                    block.copy_from_slice(&counter.to_be_bytes());
                    counter = counter.wrapping_add(1);
                }
                rk.encrypt16(&mut ks);
                xor_into(&mut ks, chunk);
                out.extend_from_slice(&ks[..chunk.len()]);
            }
            ks.zeroize();
            out
        }
    }
}

type ReferenceGcm = aes_gcm::AesGcm<sm4::Sm4, U12>;

enum GcmEngine {
    Reference(ReferenceGcm),
    #[cfg(target_arch = "x86_64")]
    Fast {
        rk: RoundKeys,
        h: ghash::Key,
    },
}

/// An SM4-GCM key (96-bit nonce, 128-bit tag).
pub(crate) struct Sm4Gcm {
    engine: GcmEngine,
}

impl Sm4Gcm {
    /// A key on the detected implementation.
    pub(crate) fn new(key: &[u8; 16]) -> Self {
        Self::new_with(detected(), key)
    }

    /// A key on a chosen implementation.
    #[allow(unsafe_code)]
    pub(crate) fn new_with(imp: Impl, key: &[u8; 16]) -> Self {
        let engine = match imp {
            Impl::Reference => GcmEngine::Reference(ReferenceGcm::new(key.into())),
            #[cfg(target_arch = "x86_64")]
            _ => {
                let rk = RoundKeys::new(imp, key);
                let mut batch = [0u8; BATCH];
                rk.encrypt16(&mut batch);
                let h_block: [u8; 16] = batch[..16].try_into().expect("16 bytes");
                // SAFETY: `RoundKeys::new` asserted that `imp` is available,
                // and every SIMD implementation requires SSE2 and PCLMULQDQ.
                let h = unsafe { ghash::Key::new(&h_block) };
                batch.zeroize();
                GcmEngine::Fast { rk, h }
            }
        };
        Self { engine }
    }

    /// Encrypts; returns `ciphertext || tag`.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        match &self.engine {
            GcmEngine::Reference(cipher) => cipher
                .encrypt(
                    nonce.into(),
                    Payload {
                        msg: plaintext,
                        aad,
                    },
                )
                .map_err(|_| CryptoError::InvalidInput("plaintext too long for GCM")),
            #[cfg(target_arch = "x86_64")]
            GcmEngine::Fast { rk, h } => {
                if plaintext.len() as u64 > GCM_P_MAX || aad.len() as u64 > GCM_A_MAX {
                    return Err(CryptoError::InvalidInput("plaintext too long for GCM"));
                }
                let mut out = Vec::with_capacity(plaintext.len() + 16);
                let tag = gcm_fast(rk, h, nonce, aad, plaintext, &mut out, Direction::Encrypt);
                out.extend_from_slice(&tag);
                Ok(out)
            }
        }
    }

    /// Decrypts `ciphertext || tag`; any failure is `AuthenticationFailed`.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        match &self.engine {
            GcmEngine::Reference(cipher) => cipher
                .decrypt(nonce.into(), Payload { msg: sealed, aad })
                .map_err(|_| CryptoError::AuthenticationFailed),
            #[cfg(target_arch = "x86_64")]
            GcmEngine::Fast { rk, h } => {
                let Some(body_len) = sealed.len().checked_sub(16) else {
                    return Err(CryptoError::AuthenticationFailed);
                };
                if body_len as u64 > GCM_P_MAX || aad.len() as u64 > GCM_A_MAX {
                    return Err(CryptoError::AuthenticationFailed);
                }
                let (body, tag) = sealed.split_at(body_len);
                let mut out = Vec::with_capacity(body.len());
                let expected = gcm_fast(rk, h, nonce, aad, body, &mut out, Direction::Decrypt);
                if bool::from(expected.ct_eq(tag)) {
                    Ok(out)
                } else {
                    out.zeroize();
                    Err(CryptoError::AuthenticationFailed)
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// Hashes `data` (any length; a partial last block is zero-padded).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn ghash_padded(imp: Impl, h: &ghash::Key, acc: &mut u128, data: &[u8]) {
    let full = data.len() - data.len() % 16;
    // SAFETY: a `ghash::Key` only exists for a SIMD implementation, which
    // requires SSE2, SSSE3 and PCLMULQDQ (checked in `RoundKeys::new`), and
    // `Avx2Vaes` additionally AVX2 and VPCLMULQDQ.
    unsafe {
        if imp == Impl::Avx2Vaes {
            h.update_wide(acc, &data[..full]);
        } else {
            h.update(acc, &data[..full]);
        }
        if full < data.len() {
            let mut last = [0u8; 16];
            last[..data.len() - full].copy_from_slice(&data[full..]);
            h.update(acc, &last);
            last.zeroize();
        }
    }
}

/// GCM of `input` (plaintext or ciphertext), appended to `out`; returns the tag.
#[cfg(target_arch = "x86_64")]
fn gcm_fast(
    rk: &RoundKeys,
    h: &ghash::Key,
    nonce: &[u8; 12],
    aad: &[u8],
    input: &[u8],
    out: &mut Vec<u8>,
    direction: Direction,
) -> [u8; 16] {
    let mut acc = 0u128;
    ghash_padded(rk.imp, h, &mut acc, aad);

    // Counter blocks nonce || be32(1), be32(2), ...: E(J0) masks the tag and
    // the rest is keystream. The first batch starts at J0. Each counter block
    // is written as one 16-byte value (no partial stores to reload).
    let mut nonce_block = [0u8; 16];
    nonce_block[..12].copy_from_slice(nonce);
    let base = u128::from_be_bytes(nonce_block);
    let mut counter: u32 = 1;
    let mut ks = [0u8; BATCH];
    let mut fill = |ks: &mut [u8; BATCH]| {
        for block in ks.chunks_exact_mut(16) {
            block.copy_from_slice(&(base | u128::from(counter)).to_be_bytes());
            counter = counter.wrapping_add(1);
        }
        rk.encrypt16(ks);
    };
    fill(&mut ks);
    let mut tag_mask = [0u8; 16];
    tag_mask.copy_from_slice(&ks[..16]);

    let mut offset = 16;
    let mut rest = input;
    while !rest.is_empty() {
        if offset == BATCH {
            fill(&mut ks);
            offset = 0;
        }
        let n = rest.len().min(BATCH - offset);
        let (chunk, tail) = rest.split_at(n);
        let ks = &mut ks[offset..offset + n];
        xor_into(ks, chunk);
        // `ks` now holds the output chunk; GHASH runs over the ciphertext.
        match direction {
            Direction::Encrypt => ghash_padded(rk.imp, h, &mut acc, ks),
            Direction::Decrypt => ghash_padded(rk.imp, h, &mut acc, chunk),
        }
        out.extend_from_slice(ks);
        offset += n;
        rest = tail;
    }
    ks.zeroize();

    let mut lengths = [0u8; 16];
    lengths[..8].copy_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
    lengths[8..].copy_from_slice(&((input.len() as u64) * 8).to_be_bytes());
    ghash_padded(rk.imp, h, &mut acc, &lengths);
    let mut tag = ghash::finish(acc);
    xor_into(&mut tag, &tag_mask);
    tag_mask.zeroize();
    tag
}
