//! SM2 (GB/T 32918): keys, signatures with a signer ID, and public-key
//! encryption in GM/T 0009 DER form.
//!
//! The algorithms are written out here, so that the standard's worked
//! examples (which fix the nonce `k`) can be reproduced exactly. Signing and
//! verification run on a fast path specialised for the SM2 curve
//! ([`field`], [`scalar`], [`point`], [`table`]; constant-time signing,
//! see docs/crypto.md "SM2 fast path"); key encodings and encryption use the
//! RustCrypto `sm2` crate's constant-time arithmetic. The `sm2` crate's own
//! signer, verifier and PKE serve as the differential reference in tests.

mod ciphertext;
mod encrypt;
mod field;
mod keys;
mod point;
mod scalar;
mod sign;
mod table;
#[cfg(test)]
mod tests;

pub use ciphertext::{RawOrder, der_to_raw, raw_to_der};
pub use keys::{Sm2PrivateKey, Sm2PublicKey};

/// The default signer ID of GM/T 0009-2012 §10 (`1234567812345678`).
pub const DEFAULT_SIGNER_ID: &[u8] = b"1234567812345678";
