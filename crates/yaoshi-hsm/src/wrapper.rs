//! [`Pkcs11Wrapper`]: the root key wrapped with AES-256-GCM inside a PKCS#11 token.
//!
//! Connecting finds the token by label, logs in as the user and finds the
//! wrapping key by `CKA_LABEL`, checking that it is a sensitive,
//! non-extractable AES-256 key allowed to encrypt and decrypt.
//! [`Pkcs11Wrapper::connect_or_create_key`] generates the key inside the
//! token when it does not exist yet.
//!
//! Each wrapper holds one logged-in read-only session behind a mutex, so it
//! can be shared between threads; wrapping and unwrapping are rare (init and
//! unseal), so serialising them costs nothing. When the device reports that
//! the session, login or key handle is gone (HSM restart, network HSM
//! reconnect), the wrapper opens a new session, logs in again, finds the key
//! again and retries the call once.

use crate::blob;
use crate::config::Pkcs11Config;
use crate::error::{DEVICE, Pkcs11Error};
use crate::module::ModuleHandle;
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::Ulong;
use std::sync::{Mutex, PoisonError};
use yaoshi_core::seal::{RootKeyWrapper, WrapperError};
use yaoshi_crypto::SecretBytes;

/// Length of the wrapping key: AES-256.
const KEY_BYTES: usize = 32;

/// Wraps the root key with an AES-256 key that never leaves a PKCS#11 token.
///
/// Implements [`RootKeyWrapper`] (`kind() == "pkcs11"`). Dropping the wrapper
/// closes its session; the last wrapper of a module finalises the module
/// (use [`Pkcs11Wrapper::close`] to see errors from doing so).
pub struct Pkcs11Wrapper {
    config: Pkcs11Config,
    /// The session and key handle; `None` after a lost session until reopened.
    state: Mutex<Option<Open>>,
    created_key: bool,
    /// Declared last: released after the session is closed.
    module: ModuleHandle,
}

/// A logged-in session and the checked key handle it uses.
struct Open {
    session: Session,
    key: ObjectHandle,
}

impl Pkcs11Wrapper {
    /// Connects to an existing wrapping key.
    ///
    /// Loads and initialises the module (once per process), finds the slot
    /// whose token is labelled `config.token_label`, logs in as the user
    /// with `config.pin`, and finds the AES secret key labelled
    /// `config.key_label`. Fails if the key is missing, not unique,
    /// extractable, not sensitive, not AES-256, or not allowed to encrypt and
    /// decrypt.
    pub fn connect(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        Self::connect_inner(config, false)
    }

    /// Like [`Pkcs11Wrapper::connect`], but generates the wrapping key in the
    /// token when no key has the label: AES-256 by `CKM_AES_KEY_GEN`, a token
    /// object that is private, sensitive, non-extractable, not modifiable,
    /// and usable only to encrypt and decrypt.
    ///
    /// Run it from one place (`yaoshi operator init`): two nodes creating the
    /// key at once would leave two keys with one label, which later connects
    /// refuse as ambiguous.
    pub fn connect_or_create_key(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        Self::connect_inner(config, true)
    }

    fn connect_inner(config: Pkcs11Config, create: bool) -> Result<Self, Pkcs11Error> {
        config.validate()?;
        let module = ModuleHandle::acquire(&config.module_path)?;
        let (open, created_key) = open(module.context(), &config, create)?;
        Ok(Self {
            config,
            state: Mutex::new(Some(open)),
            created_key,
            module,
        })
    }

    /// Whether this connection generated the wrapping key (so the caller can
    /// audit it).
    pub fn created_key(&self) -> bool {
        self.created_key
    }

    /// Wraps `root_key` (see [`blob`] for the result's format).
    pub fn wrap_root_key(&self, root_key: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        if root_key.is_empty() {
            return Err(Pkcs11Error::EmptyRootKey);
        }
        let mut iv: [u8; blob::IV_LEN] =
            yaoshi_crypto::random::array().map_err(|_| Pkcs11Error::Random)?;
        let sealed = self
            .with_session(|session, key| {
                // A device that insists on making its own IV writes it into
                // `iv`, which is read back below, so the blob stays correct.
                let params = GcmParams::new(&mut iv, blob::AAD, tag_bits())?;
                session.encrypt(&Mechanism::AesGcm(params), key, root_key)
            })?
            .map_err(|e| Pkcs11Error::device("C_Encrypt", &e))?;
        if sealed.len() != root_key.len() + blob::TAG_LEN {
            return Err(Pkcs11Error::Device {
                step: "C_Encrypt",
                reason: "returned an unexpected length for AES-GCM".into(),
            });
        }
        Ok(blob::encode(&iv, &sealed))
    }

    /// Recovers the root key from a blob made by [`Pkcs11Wrapper::wrap_root_key`].
    ///
    /// A blob that was altered, or wrapped by another key, fails with
    /// [`Pkcs11Error::Unauthentic`].
    pub fn unwrap_root_key(&self, wrapped: &[u8]) -> Result<SecretBytes, Pkcs11Error> {
        let parts = blob::parse(wrapped)?;
        let plain = self.decrypt(&parts)?.map_err(|e| match e {
            Error::Pkcs11(RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange, _) => {
                Pkcs11Error::Unauthentic
            }
            // Some modules report a failed tag check as a generic failure
            // (SoftHSM2 up to 2.6.1 returns CKR_GENERAL_ERROR). If the key
            // still decrypts a fresh test blob, the device is fine and this
            // blob is what failed.
            Error::Pkcs11(RvError::GeneralError | RvError::FunctionFailed, _)
                if self.round_trips() =>
            {
                Pkcs11Error::Unauthentic
            }
            other => Pkcs11Error::device("C_Decrypt", &other),
        })?;
        // Straight into a wiped buffer (which also wipes `plain`).
        let root_key = SecretBytes::new(plain);
        if root_key.len() + blob::TAG_LEN != parts.sealed.len() {
            return Err(Pkcs11Error::Device {
                step: "C_Decrypt",
                reason: "returned an unexpected length for AES-GCM".into(),
            });
        }
        Ok(root_key)
    }

    /// AES-GCM decryption of a parsed blob in the token.
    fn decrypt(
        &self,
        parts: &blob::Parts<'_>,
    ) -> Result<cryptoki::error::Result<Vec<u8>>, Pkcs11Error> {
        let mut iv = parts.iv;
        self.with_session(|session, key| {
            let params = GcmParams::new(&mut iv, blob::AAD, tag_bits())?;
            session.decrypt(&Mechanism::AesGcm(params), key, parts.sealed)
        })
    }

    /// Whether the key wraps and unwraps a fresh random test value, i.e. the
    /// device and key work.
    fn round_trips(&self) -> bool {
        let Ok(probe) = yaoshi_crypto::random::array::<KEY_BYTES>() else {
            return false;
        };
        let Ok(wrapped) = self.wrap_root_key(&probe) else {
            return false;
        };
        let Ok(parts) = blob::parse(&wrapped) else {
            return false;
        };
        matches!(self.decrypt(&parts), Ok(Ok(plain)) if plain == probe)
    }

    /// Closes the session and gives up the module (finalising it if this was
    /// its last user), reporting any failure. Dropping does the same silently.
    pub fn close(mut self) -> Result<(), Pkcs11Error> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), Pkcs11Error> {
        let open = self
            .state
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let closed = match open {
            Some(open) => open
                .session
                .close()
                .map_err(|e| Pkcs11Error::device("C_CloseSession", &e)),
            None => Ok(()),
        };
        let released = self.module.release();
        closed.and(released)
    }

    /// Runs `op` with the session and key, reopening them once if the device
    /// says they are gone. The outer error is a failure to (re)open; the inner
    /// result is `op`'s own.
    fn with_session<T>(
        &self,
        mut op: impl FnMut(&Session, ObjectHandle) -> cryptoki::error::Result<T>,
    ) -> Result<cryptoki::error::Result<T>, Pkcs11Error> {
        // A panic cannot leave the session half-updated: it is replaced whole.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let current = match &mut *state {
            Some(open) => open,
            empty @ None => empty.insert(self.reopen()?),
        };
        match op(&current.session, current.key) {
            Err(e) if session_lost(&e) => {
                // Drop the dead session before opening its replacement.
                *state = None;
                let fresh = state.insert(self.reopen()?);
                Ok(op(&fresh.session, fresh.key))
            }
            result => Ok(result),
        }
    }

    fn reopen(&self) -> Result<Open, Pkcs11Error> {
        open(self.module.context(), &self.config, false).map(|(open, _)| open)
    }
}

impl RootKeyWrapper for Pkcs11Wrapper {
    fn kind(&self) -> &'static str {
        DEVICE
    }

    fn wrap(&self, root_key: &[u8]) -> Result<Vec<u8>, WrapperError> {
        Ok(self.wrap_root_key(root_key)?)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<SecretBytes, WrapperError> {
        Ok(self.unwrap_root_key(wrapped)?)
    }
}

impl std::fmt::Debug for Pkcs11Wrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Wrapper")
            .field("module_path", &self.config.module_path)
            .field("token_label", &self.config.token_label)
            .field("key_label", &self.config.key_label)
            .finish_non_exhaustive()
    }
}

impl Drop for Pkcs11Wrapper {
    fn drop(&mut self) {
        // Nobody to report to; `close` reports.
        let _ = self.shutdown();
    }
}

/// The GCM tag length in bits (128).
fn tag_bits() -> Ulong {
    // The literal takes the platform's CK_ULONG type.
    Ulong::from(128)
}

/// Whether an error means the session, login or handles must be re-established.
fn session_lost(err: &Error) -> bool {
    matches!(
        err,
        Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

/// Opens a logged-in session on the configured token and finds (or, with
/// `create`, generates) the checked wrapping key. Returns whether it generated.
fn open(
    context: &Pkcs11,
    config: &Pkcs11Config,
    create: bool,
) -> Result<(Open, bool), Pkcs11Error> {
    let slot = find_token(context, &config.token_label)?;
    let session = context
        .open_ro_session(slot)
        .map_err(|e| Pkcs11Error::device("C_OpenSession", &e))?;
    login(&session, config)?;
    let mut created = false;
    let key = match find_key(&session, &config.key_label)? {
        Some(key) => key,
        None if create => {
            generate_key(context, slot, &config.key_label)?;
            created = true;
            find_key(&session, &config.key_label)?.ok_or_else(|| Pkcs11Error::KeyNotFound {
                label: config.key_label.clone(),
            })?
        }
        None => {
            return Err(Pkcs11Error::KeyNotFound {
                label: config.key_label.clone(),
            });
        }
    };
    check_key(&session, key, &config.key_label)?;
    Ok((Open { session, key }, created))
}

/// The one slot whose initialised token carries `label`, ready for a user login.
fn find_token(context: &Pkcs11, label: &str) -> Result<Slot, Pkcs11Error> {
    let slots = context
        .get_slots_with_initialized_token()
        .map_err(|e| Pkcs11Error::device("C_GetSlotList", &e))?;
    let mut matching = Vec::new();
    let mut present = Vec::new();
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|e| Pkcs11Error::device("C_GetTokenInfo", &e))?;
        if info.label() == label {
            matching.push((slot, info));
        } else {
            present.push(info.label().to_owned());
        }
    }
    let (slot, info) = match matching.len() {
        0 => {
            return Err(Pkcs11Error::TokenNotFound {
                label: label.to_owned(),
                present,
            });
        }
        1 => matching.remove(0),
        count => {
            return Err(Pkcs11Error::AmbiguousToken {
                label: label.to_owned(),
                count,
            });
        }
    };
    if info.user_pin_locked() {
        return Err(Pkcs11Error::PinLocked {
            label: label.to_owned(),
        });
    }
    if !info.user_pin_initialized() {
        return Err(Pkcs11Error::PinNotInitialized {
            label: label.to_owned(),
        });
    }
    Ok(slot)
}

/// Logs the user in; an existing login of this process is fine (PKCS#11
/// login state is shared by all sessions of an application on a token).
fn login(session: &Session, config: &Pkcs11Config) -> Result<(), Pkcs11Error> {
    let label = || config.token_label.clone();
    match session.login(UserType::User, Some(&config.pin)) {
        Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(Error::Pkcs11(
            RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
            _,
        )) => Err(Pkcs11Error::WrongPin { label: label() }),
        Err(Error::Pkcs11(RvError::PinLocked, _)) => Err(Pkcs11Error::PinLocked { label: label() }),
        Err(e) => Err(Pkcs11Error::device("C_Login", &e)),
    }
}

/// The token's one AES secret key labelled `label`, if any.
fn find_key(session: &Session, label: &str) -> Result<Option<ObjectHandle>, Pkcs11Error> {
    let template = [
        Attribute::Token(true),
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let found = session
        .find_objects(&template)
        .map_err(|e| Pkcs11Error::device("C_FindObjects", &e))?;
    match found.as_slice() {
        [] => Ok(None),
        [key] => Ok(Some(*key)),
        many => Err(Pkcs11Error::AmbiguousKey {
            label: label.to_owned(),
            count: many.len(),
        }),
    }
}

/// Generates the wrapping key in the token.
fn generate_key(context: &Pkcs11, slot: Slot, label: &str) -> Result<(), Pkcs11Error> {
    // Token objects need a read-write session; the login is shared with it.
    let session = context
        .open_rw_session(slot)
        .map_err(|e| Pkcs11Error::device("C_OpenSession (read-write)", &e))?;
    session
        .generate_key(&Mechanism::AesKeyGen, &key_template(label))
        .map_err(|e| Pkcs11Error::device("C_GenerateKey", &e))?;
    session
        .close()
        .map_err(|e| Pkcs11Error::device("C_CloseSession", &e))
}

/// Attributes of a generated wrapping key: it lives on the token, is
/// visible only after login, can never be read or exported, and can do
/// nothing but encrypt and decrypt.
fn key_template(label: &str) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        // KEY_BYTES; the literal takes the platform's CK_ULONG type.
        Attribute::ValueLen(Ulong::from(32)),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Modifiable(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Sign(false),
        Attribute::Verify(false),
        Attribute::Derive(false),
    ]
}

/// Refuses a key whose attributes would let its value leave the token, or
/// that cannot do the job.
fn check_key(session: &Session, key: ObjectHandle, label: &str) -> Result<(), Pkcs11Error> {
    let wanted = [
        AttributeType::Sensitive,
        AttributeType::Extractable,
        AttributeType::Encrypt,
        AttributeType::Decrypt,
        AttributeType::ValueLen,
    ];
    let attributes = session
        .get_attributes(key, &wanted)
        .map_err(|e| Pkcs11Error::device("C_GetAttributeValue", &e))?;
    let (mut sensitive, mut extractable, mut encrypt, mut decrypt, mut value_len) =
        (None, None, None, None, None);
    for attribute in attributes {
        match attribute {
            Attribute::Sensitive(v) => sensitive = Some(v),
            Attribute::Extractable(v) => extractable = Some(v),
            Attribute::Encrypt(v) => encrypt = Some(v),
            Attribute::Decrypt(v) => decrypt = Some(v),
            Attribute::ValueLen(v) => value_len = Some(usize::from(v)),
            _ => {}
        }
    }
    let refuse = |reason| {
        Err(Pkcs11Error::UnsafeKey {
            label: label.to_owned(),
            reason,
        })
    };
    if sensitive != Some(true) {
        return refuse("CKA_SENSITIVE is not true, so its value could be read from the token");
    }
    if extractable != Some(false) {
        return refuse("CKA_EXTRACTABLE is not false, so it could be exported from the token");
    }
    if encrypt != Some(true) || decrypt != Some(true) {
        return refuse("CKA_ENCRYPT and CKA_DECRYPT must both be true");
    }
    if value_len.is_some_and(|len| len != KEY_BYTES) {
        return refuse("not an AES-256 key (CKA_VALUE_LEN is not 32)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_cannot_leave_the_token() {
        let template = key_template("root-wrap");
        for required in [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(false),
        ] {
            assert!(template.contains(&required), "missing {required:?}");
        }
        assert!(template.contains(&Attribute::ValueLen(Ulong::from(32))));
        assert_eq!(KEY_BYTES, 32);
        assert_eq!(usize::from(tag_bits()), blob::TAG_LEN * 8);
    }

    #[test]
    fn lost_sessions_are_recognised() {
        let lost = Error::Pkcs11(
            RvError::SessionHandleInvalid,
            cryptoki::context::Function::Encrypt,
        );
        assert!(session_lost(&lost));
        let tampered = Error::Pkcs11(
            RvError::EncryptedDataInvalid,
            cryptoki::context::Function::Decrypt,
        );
        assert!(!session_lost(&tampered));
    }

    #[test]
    fn wrapper_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Pkcs11Wrapper>();
    }
}
