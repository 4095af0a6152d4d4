//! The system CSPRNG, the only randomness source `yaoshi-crypto` uses.
//!
//! Small requests (nonces, request ids, 32-byte keys) are served from a
//! per-thread buffer of bytes read from the operating system's CSPRNG in
//! one `getrandom` call, so a batch of 100 encryptions costs one system
//! call instead of 100. Every byte still comes from the OS generator and is
//! handed out once: the buffer is wiped as it is consumed and on thread
//! exit. Larger requests read the OS generator directly.

use crate::error::{CryptoError, Result};
use std::cell::RefCell;
use zeroize::{Zeroize, Zeroizing};

/// Bytes fetched from the OS per refill of a thread's buffer.
const POOL_BYTES: usize = 4096;
/// Requests up to this size are served from the buffer.
const POOLED_MAX: usize = 64;

/// OS random bytes not yet handed out: `bytes[used..]`.
struct Pool {
    bytes: Zeroizing<Vec<u8>>,
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        bytes: Zeroizing::new(vec![0u8; POOL_BYTES]),
        used: POOL_BYTES,
    });
}

fn os_fill(out: &mut [u8]) -> Result<()> {
    getrandom::fill(out).map_err(|_| CryptoError::RandomFailure)
}

/// Fills `out` with bytes from the operating system's CSPRNG (`getrandom`).
pub fn fill(out: &mut [u8]) -> Result<()> {
    if out.len() > POOLED_MAX {
        return os_fill(out);
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if POOL_BYTES - pool.used < out.len() {
            os_fill(&mut pool.bytes)?;
            pool.used = 0;
        }
        let start = pool.used;
        let taken = &mut pool.bytes[start..start + out.len()];
        out.copy_from_slice(taken);
        taken.zeroize();
        pool.used += out.len();
        Ok(())
    })
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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn pooled_requests_never_repeat_bytes_across_refills() {
        // 3 refills' worth of 24-byte nonces: all distinct, none all-zero
        // (a wiped or unfilled buffer would show as zeros).
        let mut seen = HashSet::new();
        for _ in 0..(3 * POOL_BYTES / 24) {
            let nonce = array::<24>().unwrap();
            assert_ne!(nonce, [0u8; 24]);
            assert!(seen.insert(nonce), "a nonce repeated");
        }
        // Sizes that straddle a refill boundary and the direct path.
        for len in [1, 7, 63, 64, 65, 4097] {
            let a = bytes(len).unwrap();
            let b = bytes(len).unwrap();
            assert_eq!(a.len(), len);
            if len >= 7 {
                assert_ne!(*a, *b, "{len}");
            }
        }
    }

    #[test]
    fn uuids_are_version_4_in_hyphenated_form() {
        let id = uuid_v4().unwrap();
        assert_eq!(id.len(), 36);
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(id, uuid_v4().unwrap());
    }
}
