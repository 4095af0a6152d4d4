//! The one error type of `yaoshi-crypto`.
//!
//! Variants say what kind of input was wrong without ever carrying key
//! material, plaintext or anything derived from a secret.

/// Every failure a `yaoshi-crypto` operation can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key has the wrong length for its algorithm.
    #[error("invalid key length for {algorithm}: expected {expected} bytes, got {actual}")]
    InvalidKeyLength {
        /// Algorithm the key was meant for.
        algorithm: &'static str,
        /// Accepted length (or the smallest accepted one).
        expected: usize,
        /// Length that was supplied.
        actual: usize,
    },
    /// A nonce or IV has the wrong length.
    #[error("invalid nonce length for {algorithm}: expected {expected} bytes, got {actual}")]
    InvalidNonceLength {
        /// Algorithm the nonce was meant for.
        algorithm: &'static str,
        /// Accepted length.
        expected: usize,
        /// Length that was supplied.
        actual: usize,
    },
    /// Key bytes or an encoded key could not be parsed or are not a valid key.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Authenticated decryption failed: wrong key, wrong associated data, or tampered data.
    #[error("message authentication failed")]
    AuthenticationFailed,
    /// A ciphertext is malformed (too short, bad encoding, bad padding).
    #[error("invalid ciphertext: {0}")]
    InvalidCiphertext(&'static str),
    /// A nonce-prefixed AEAD payload is shorter than its nonce and tag
    /// (worded as Vault words it).
    #[error("invalid ciphertext length")]
    CiphertextLength,
    /// A signature or MAC did not verify, or could not be parsed.
    #[error("signature verification failed")]
    InvalidSignature,
    /// An encoding (PEM, DER, share) could not be parsed.
    #[error("invalid encoding: {0}")]
    InvalidEncoding(&'static str),
    /// A parameter combination the algorithm does not support.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// Input is outside the algorithm's limits (empty, too long, out of range).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// Shamir shares could not be combined into the original secret.
    #[error("invalid shares: {0}")]
    InvalidShares(&'static str),
    /// The operating system's random number generator failed.
    #[error("system random number generator failed")]
    RandomFailure,
    /// The underlying library failed in a way that does not depend on input.
    #[error("internal cryptographic failure in {0}")]
    Internal(&'static str),
}

/// Result alias for `yaoshi-crypto`.
pub type Result<T> = core::result::Result<T, CryptoError>;
