//! Keys: types, policies and lifecycle states, version material, and the
//! `vault:v<N>:` string form of ciphertexts, signatures and HMACs.

pub mod kind;
pub mod material;
pub mod policy;
pub mod versioned;

pub use kind::KeyType;
pub use material::{LoadedKey, LoadedVersion, VersionMaterial};
pub use policy::{KeyPolicy, KeyState, VersionInfo};
