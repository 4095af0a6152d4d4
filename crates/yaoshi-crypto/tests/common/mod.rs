//! Helpers shared by the interop test files: random data and bit flips.

use yaoshi_crypto::random;

/// `len` bytes from the system CSPRNG.
pub fn rand_bytes(len: usize) -> Vec<u8> {
    random::bytes(len).expect("CSPRNG").to_vec()
}

/// A random length in `1..=max`.
pub fn rand_len(max: usize) -> usize {
    let b: [u8; 4] = random::array().expect("CSPRNG");
    (u32::from_le_bytes(b) as usize % max) + 1
}

/// Flips the lowest bit of byte `index` (counted from the end when negative).
pub fn flip(data: &[u8], index: isize) -> Vec<u8> {
    let mut out = data.to_vec();
    let i = if index < 0 {
        out.len() - index.unsigned_abs()
    } else {
        index as usize
    };
    out[i] ^= 1;
    out
}
