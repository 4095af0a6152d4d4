//! # yaoshi-crypto
//!
//! The algorithms yaoshi is built on, pure and synchronous: no I/O, no async,
//! no logging. One typed API per operation family:
//!
//! | module | what |
//! |---|---|
//! | [`aead`] | SM4-GCM, AES-128/256-GCM, ChaCha20-Poly1305 (96-bit nonce, 128-bit tag) |
//! | [`sm4`] | SM4 blocks, CBC, CTR and CCM as building blocks |
//! | [`hash`], [`mac`], [`kdf`] | SM3, SHA-2; HMAC; HKDF |
//! | [`sm2`] | SM2 keys, signatures with a signer ID, GM/T 0009 encryption |
//! | [`ecdsa`], [`ed25519`], [`rsa`] | the international signature and encryption schemes |
//! | [`keywrap`] | AES-KWP (RFC 5649) and the Vault/OpenBao BYOK envelope |
//! | [`shamir`] | Shamir secret sharing with an integrity check |
//! | [`random`], [`secret`] | the system CSPRNG; zeroizing secrets and constant-time compares |
//!
//! Secret outputs are [`SecretBytes`] (wiped on drop, redacted in `Debug`);
//! errors are [`CryptoError`] and never contain secret data.

pub mod aead;
pub mod ecdsa;
pub mod ed25519;
mod error;
pub mod hash;
pub mod kdf;
pub mod keywrap;
pub mod mac;
pub mod pem;
pub mod random;
pub mod rsa;
pub mod secret;
pub mod shamir;
pub mod sm2;
pub mod sm4;
mod sm4_fast;

pub use error::{CryptoError, Result};
pub use secret::SecretBytes;
