//! The seal: how the root key is protected at rest and recovered into memory
//! (Shamir shares, an external wrapping device, or memory only in dev mode).
//! The state machine itself lives in [`crate::kms`]; this module holds the
//! stored configuration and the device interface.

pub mod config;
pub mod wrapper;

pub use config::{SEAL_CONFIG_ENTRY, SealConfig, SealType};
pub use wrapper::{RootKeyWrapper, WrapperError};
