//! SM2 (GB/T 32918): keys, signatures with a signer ID, and public-key
//! encryption in GM/T 0009 DER form.
//!
//! The algorithms are written out here on top of the RustCrypto `sm2` crate's
//! constant-time curve arithmetic, so that the standard's worked examples
//! (which fix the nonce `k`) can be reproduced exactly. The `sm2` crate's own
//! signer, verifier and PKE serve as the differential reference in tests.

mod ciphertext;
mod encrypt;
mod keys;
mod sign;

pub use ciphertext::{RawOrder, der_to_raw, raw_to_der};
pub use keys::{Sm2PrivateKey, Sm2PublicKey};

/// The default signer ID of GM/T 0009-2012 §10 (`1234567812345678`).
pub const DEFAULT_SIGNER_ID: &[u8] = b"1234567812345678";
