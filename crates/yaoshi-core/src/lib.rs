//! # yaoshi-core
//!
//! The domain of yaoshi (DESIGN §2–§8): keys, versions and their lifecycle,
//! the barrier (root key → namespace key-encryption keys → key material), the
//! seal, and the [`Store`](store::Store) trait that storage back ends
//! implement. Every front end calls one service type, [`Kms`](kms::Kms).
//!
//! | module | what |
//! |---|---|
//! | [`store`] | the `Store` trait and its records |
//! | [`audit`] | audit records, hash chain, Merkle checkpoints, proofs, offline verification |
//! | [`profile`] | compliance profiles and their rules |
//! | [`compliance`] | compliance findings and monthly reports |
//! | [`residency`] | jurisdiction and locations of storage, audit sinks and backup targets |
//! | [`auth`] | roles, grants, principals, tokens and the authorisation table |
//! | [`key`] | key types, policies (metadata), lifecycle states, version material |
//! | [`barrier`] | sealing of KEKs and key material with bound associated data |
//! | [`seal`] | the root key's protection: Shamir, device-wrapped (PKCS#11), dev |
//! | [`cache`] | the bounded cache of unsealed versions |
//! | [`kms`] | the service: seal state, mounts, authentication, lifecycle and crypto operations |
//! | [`error`] | the typed errors every operation returns |
//!
//! It depends only on `yaoshi-crypto`; storage and HTTP live in
//! `yaoshi-store` and `yaoshi-server`.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod backup;
pub mod barrier;
pub mod cache;
pub mod compliance;
pub mod error;
pub mod key;
pub mod kms;
pub mod profile;
pub mod residency;
pub mod seal;
mod serde_b64;
pub mod store;

pub use error::{KmsError, KmsResult};
pub use kms::{Kms, KmsOptions};
/// The `secrecy` crate, whose `SecretString` carries tokens in this API.
pub use secrecy;
