//! The typed failures of the PKCS#11 seal.
//!
//! Messages name the step, the token or key label and the PKCS#11 return
//! code; they never carry the PIN, key material, plaintext or blob bytes.
//! [`Pkcs11Error`] converts into the device-neutral [`WrapperError`] at the
//! [`RootKeyWrapper`](yaoshi_core::seal::RootKeyWrapper) boundary.

use std::path::PathBuf;
use yaoshi_core::seal::WrapperError;

/// Name of this device kind in [`WrapperError::device`] and in the seal configuration.
pub const DEVICE: &str = "pkcs11";

/// Every failure the PKCS#11 seal reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The configuration is incomplete or invalid.
    #[error("invalid PKCS#11 configuration: {0}")]
    Config(&'static str),
    /// The PKCS#11 module could not be loaded.
    #[error("cannot load PKCS#11 module {}: {reason}", path.display())]
    ModuleLoad {
        /// Path that was configured.
        path: PathBuf,
        /// Why loading failed (from the dynamic loader).
        reason: String,
    },
    /// No slot holds an initialised token with the configured label.
    #[error("no PKCS#11 token labelled {label:?} (tokens present: {present:?})")]
    TokenNotFound {
        /// Label that was looked for.
        label: String,
        /// Labels of the initialised tokens that were found.
        present: Vec<String>,
    },
    /// Several slots hold a token with the configured label.
    #[error("{count} PKCS#11 tokens are labelled {label:?}; token labels must be unique")]
    AmbiguousToken {
        /// The duplicated label.
        label: String,
        /// How many tokens carry it.
        count: usize,
    },
    /// The token has no user PIN yet (initialise it first).
    #[error("PKCS#11 token {label:?} has no user PIN set; initialise the user PIN first")]
    PinNotInitialized {
        /// Token label.
        label: String,
    },
    /// The token refused the user PIN.
    #[error("PKCS#11 login to token {label:?} failed: incorrect user PIN")]
    WrongPin {
        /// Token label.
        label: String,
    },
    /// The user PIN is locked after too many failed attempts.
    #[error("PKCS#11 user PIN of token {label:?} is locked; the security officer must reset it")]
    PinLocked {
        /// Token label.
        label: String,
    },
    /// No AES secret key with the configured label exists on the token.
    #[error(
        "no AES secret key labelled {label:?} on the PKCS#11 token (create it with `connect_or_create_key` / `yaoshi operator init`)"
    )]
    KeyNotFound {
        /// Key label that was looked for.
        label: String,
    },
    /// Several AES secret keys carry the configured label.
    #[error(
        "{count} AES secret keys are labelled {label:?} on the PKCS#11 token; the label must be unique"
    )]
    AmbiguousKey {
        /// The duplicated label.
        label: String,
        /// How many keys carry it.
        count: usize,
    },
    /// The key exists but its attributes make it unfit to protect the root key.
    #[error("refusing PKCS#11 key {label:?}: {reason}")]
    UnsafeKey {
        /// Key label.
        label: String,
        /// Which attribute is wrong.
        reason: &'static str,
    },
    /// A wrapped blob does not have the expected structure.
    #[error("malformed wrapped root key: {0}")]
    MalformedBlob(&'static str),
    /// The blob failed authentication: it was altered, or wrapped by another key.
    #[error(
        "wrapped root key failed authentication: the blob was altered or was not wrapped by this token's key"
    )]
    Unauthentic,
    /// The root key to wrap is empty.
    #[error("refusing to wrap an empty root key")]
    EmptyRootKey,
    /// The operating system's random generator failed.
    #[error("random generator failed while making the GCM IV")]
    Random,
    /// A PKCS#11 call failed for another reason.
    #[error("PKCS#11 {step} failed: {reason}")]
    Device {
        /// What yaoshi was doing (e.g. `C_Encrypt`, `opening a session`).
        step: &'static str,
        /// The PKCS#11 return code or library error.
        reason: String,
    },
}

impl Pkcs11Error {
    /// A [`Pkcs11Error::Device`] from a `cryptoki` error.
    pub(crate) fn device(step: &'static str, err: &cryptoki::error::Error) -> Self {
        Self::Device {
            step,
            reason: describe(err),
        }
    }
}

/// Short description of a `cryptoki` error: the function and the `CKR_`
/// code name (as in vendors' manuals) rather than the specification's paragraph.
pub(crate) fn describe(err: &cryptoki::error::Error) -> String {
    match err {
        cryptoki::error::Error::Pkcs11(rv, function) => {
            format!("C_{function:?} returned {}", ckr_name(rv))
        }
        other => other.to_string(),
    }
}

/// `CKR_OBJECT_HANDLE_INVALID` for `RvError::ObjectHandleInvalid`; vendor and
/// unknown codes keep their number.
fn ckr_name(rv: &cryptoki::error::RvError) -> String {
    let variant = format!("{rv:?}");
    if !variant.chars().all(|c| c.is_ascii_alphanumeric()) {
        return variant;
    }
    let mut name = String::from("CKR");
    for c in variant.chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

impl From<Pkcs11Error> for WrapperError {
    fn from(err: Pkcs11Error) -> Self {
        WrapperError {
            device: DEVICE,
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptoki::context::Function;
    use cryptoki::error::{Error, RvError};

    #[test]
    fn pkcs11_errors_use_ckr_names() {
        let err = Error::Pkcs11(RvError::ObjectHandleInvalid, Function::DecryptInit);
        assert_eq!(
            describe(&err),
            "C_DecryptInit returned CKR_OBJECT_HANDLE_INVALID"
        );
        let err = Error::Pkcs11(RvError::GeneralError, Function::Decrypt);
        assert_eq!(describe(&err), "C_Decrypt returned CKR_GENERAL_ERROR");
        let vendor = Error::Pkcs11(RvError::VendorDefined(0x8000_0001), Function::Login);
        assert!(
            describe(&vendor).contains("VendorDefined"),
            "{}",
            describe(&vendor)
        );
    }

    #[test]
    fn converts_to_wrapper_error() {
        let err: WrapperError = Pkcs11Error::Unauthentic.into();
        assert_eq!(err.device, "pkcs11");
        assert!(
            err.to_string().starts_with("root key wrapper (pkcs11): "),
            "{err}"
        );
    }
}
