//! # yaoshi-hsm
//!
//! Hardware seals for yaoshi (DESIGN §4): the root key is stored wrapped by a
//! key that never leaves a hardware security module, so a node can unseal
//! itself at start without operators entering Shamir shares.
//!
//! [`Pkcs11Wrapper`] implements [`yaoshi_core::seal::RootKeyWrapper`] with a
//! PKCS#11 module (SoftHSM2 in tests, any PKCS#11 v2.40+ HSM in production):
//! an AES-256 secret key on the token, generated inside the device as
//! sensitive and non-extractable, encrypts the root key with `CKM_AES_GCM`.
//! The blob format is described in [`blob`]; operators' documentation is in
//! `docs/hsm.md`.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | [`Pkcs11Config`]: module, token, PIN and key label |
//! | [`wrapper`] | [`Pkcs11Wrapper`]: connect, find or create the key, wrap and unwrap |
//! | [`blob`] | the wrapped-root-key format: `version ‖ iv ‖ ciphertext ‖ tag` |
//! | [`error`] | [`Pkcs11Error`], the typed failures (never carrying secrets) |
//! | `testing` | (feature `testing`) throwaway SoftHSM2 token directories for tests |
//!
//! GM/T 0018 SDF devices will get a sibling module here.
#![forbid(unsafe_code)]

pub mod blob;
pub mod config;
pub mod error;
mod module;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wrapper;

pub use config::{PIN_ENV_VAR, Pkcs11Config};
pub use error::Pkcs11Error;
pub use wrapper::Pkcs11Wrapper;
