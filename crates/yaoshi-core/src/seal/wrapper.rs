//! The interface an external root-of-trust device implements so that the
//! root key can be stored wrapped by it and unsealed automatically at start
//! (PKCS#11 HSMs in `yaoshi-hsm`; GM/T 0018 SDF devices later).

use yaoshi_crypto::SecretBytes;

/// Failure of a wrapping device. Messages name the device step, never data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("root key wrapper ({device}): {message}")]
pub struct WrapperError {
    /// Which device or module failed (e.g. `pkcs11`).
    pub device: &'static str,
    /// What failed, without secret data.
    pub message: String,
}

/// A device that wraps and unwraps the root key with a key it never reveals.
pub trait RootKeyWrapper: Send + Sync {
    /// Stable name of the wrapper kind, stored in the seal configuration (e.g. `pkcs11`).
    fn kind(&self) -> &'static str;
    /// Wraps `root_key`; the result is stored in the seal configuration.
    fn wrap(&self, root_key: &[u8]) -> Result<Vec<u8>, WrapperError>;
    /// Recovers the root key from a blob produced by [`RootKeyWrapper::wrap`].
    fn unwrap(&self, wrapped: &[u8]) -> Result<SecretBytes, WrapperError>;
}
