//! The system CSPRNG, the only randomness source `yaoshi-crypto` uses.

use crate::error::{CryptoError, Result};
use zeroize::Zeroizing;

/// Fills `out` with bytes from the operating system's CSPRNG (`getrandom`).
pub fn fill(out: &mut [u8]) -> Result<()> {
    getrandom::fill(out).map_err(|_| CryptoError::RandomFailure)
}

/// Returns `len` fresh random bytes in a buffer that is wiped on drop.
pub fn bytes(len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    fill(&mut out)?;
    Ok(out)
}

/// Returns a fresh random array, e.g. a nonce.
pub fn array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// A random (version 4, RFC 9562) UUID in its hyphenated text form.
pub fn uuid_v4() -> Result<String> {
    let mut b = array::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}
