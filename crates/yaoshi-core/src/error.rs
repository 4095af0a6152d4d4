//! The one error type of the `Kms` service.
//!
//! Variants carry what a front end needs to answer (HTTP status family and a
//! human message) and never carry key material, plaintext or tokens. Messages
//! that Vault clients match on are kept word for word.

use crate::seal::WrapperError;
use crate::store::StoreError;
use yaoshi_crypto::CryptoError;

/// Every failure a `Kms` operation can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsError {
    /// The node is sealed (or not initialised); no key operation is possible.
    #[error("Vault is sealed")]
    Sealed,
    /// `init` was called on an initialised deployment.
    #[error("Vault is already initialized")]
    AlreadyInitialized,
    /// The deployment has not been initialised yet.
    #[error("Vault is not initialized")]
    NotInitialized,
    /// The caller's token is missing, unknown or expired, or its principal
    /// may not perform the operation (403, Vault wording).
    #[error("permission denied")]
    PermissionDenied,
    /// The named key does not exist (404 with an empty error list in Vault).
    #[error("key {0:?} not found")]
    KeyNotFound(String),
    /// The request is malformed or names impossible parameters (400).
    #[error("{0}")]
    InvalidRequest(String),
    /// The key's policy or state forbids the operation (400, Vault wording).
    #[error("{0}")]
    Refused(String),
    /// A ciphertext, signature or envelope failed to decrypt or parse (400).
    #[error("{0}")]
    InvalidCiphertext(String),
    /// Another writer changed the key at the same moment; retrying succeeds.
    #[error("concurrent modification of key {0:?}; retry the request")]
    Conflict(String),
    /// Storage failed (503 when unavailable, 500 when corrupt).
    #[error("storage: {0}")]
    Store(StoreError),
    /// The root-key wrapping device failed.
    #[error("{0}")]
    Wrapper(WrapperError),
    /// The compliance profile forbids the operation (400 naming the rule).
    #[error("{0}")]
    ProfileViolation(crate::profile::ProfileViolation),
    /// The audit log cannot be written, so the request is not served (503).
    #[error("audit log unavailable, request not served: {0}")]
    AuditUnavailable(String),
    /// A cryptographic failure that does not depend on the request.
    #[error("internal error: {0}")]
    Internal(String),
}

impl KmsError {
    /// A 400 for a bad request parameter.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }

    /// A 400 for an operation the key's policy or state forbids.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::Refused(message.into())
    }

    /// True when the caller, not the server, is at fault (a 4xx status).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Self::AlreadyInitialized
                | Self::NotInitialized
                | Self::PermissionDenied
                | Self::KeyNotFound(_)
                | Self::InvalidRequest(_)
                | Self::Refused(_)
                | Self::InvalidCiphertext(_)
                | Self::Conflict(_)
                | Self::ProfileViolation(_)
        )
    }
}

impl From<crate::profile::ProfileViolation> for KmsError {
    fn from(value: crate::profile::ProfileViolation) -> Self {
        Self::ProfileViolation(value)
    }
}

impl From<StoreError> for KmsError {
    fn from(value: StoreError) -> Self {
        Self::Store(value)
    }
}

impl From<WrapperError> for KmsError {
    fn from(value: WrapperError) -> Self {
        Self::Wrapper(value)
    }
}

impl From<CryptoError> for KmsError {
    /// Crypto errors reached from request data are client errors; the few
    /// that cannot depend on input are internal.
    fn from(value: CryptoError) -> Self {
        match value {
            CryptoError::RandomFailure | CryptoError::Internal(_) => {
                Self::Internal(value.to_string())
            }
            CryptoError::AuthenticationFailed => {
                Self::InvalidCiphertext("cipher: message authentication failed".into())
            }
            CryptoError::InvalidSignature => {
                Self::InvalidCiphertext("signature verification failed".into())
            }
            CryptoError::InvalidCiphertext(_) | CryptoError::CiphertextLength => {
                Self::InvalidCiphertext(value.to_string())
            }
            _ => Self::InvalidRequest(value.to_string()),
        }
    }
}

/// Result alias for `Kms` operations.
pub type KmsResult<T> = Result<T, KmsError>;
