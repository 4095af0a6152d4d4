//! The seal: how the root key is protected at rest and recovered into memory.

pub mod wrapper;

pub use wrapper::{RootKeyWrapper, WrapperError};
