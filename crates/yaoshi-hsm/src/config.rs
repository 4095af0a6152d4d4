//! Where the PKCS#11 seal finds its key: module, token, PIN and key label.
//!
//! The configuration is plain data so that a server configuration file can
//! carry it (`[seal.pkcs11]` in TOML). The user PIN may be left out of the
//! file and supplied through the environment variable [`PIN_ENV_VAR`] at
//! start; see [`Pkcs11Config::with_env_pin`].

use crate::error::Pkcs11Error;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;

/// Environment variable that carries the token user PIN (`YAOSHI_PKCS11_PIN`).
pub const PIN_ENV_VAR: &str = "YAOSHI_PKCS11_PIN";

/// Longest token label PKCS#11 can express (`CK_TOKEN_INFO.label` is 32 bytes).
const MAX_TOKEN_LABEL_BYTES: usize = 32;

/// How to reach the root-key wrapping key in a PKCS#11 token.
///
/// `Debug` never shows the PIN (it prints `[REDACTED]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (shared library), e.g.
    /// `/usr/lib/softhsm/libsofthsm2.so`.
    pub module_path: PathBuf,
    /// Label of the token (`CKA_LABEL` of the token, set at initialisation).
    pub token_label: String,
    /// The token's user PIN. May be omitted in a file and given through
    /// [`PIN_ENV_VAR`] instead.
    #[serde(default = "empty_pin")]
    pub pin: SecretString,
    /// `CKA_LABEL` of the AES-256 secret key that wraps the root key.
    pub key_label: String,
}

fn empty_pin() -> SecretString {
    SecretString::from(String::new())
}

impl Pkcs11Config {
    /// A configuration from its four parts.
    pub fn new(
        module_path: impl Into<PathBuf>,
        token_label: impl Into<String>,
        pin: SecretString,
        key_label: impl Into<String>,
    ) -> Self {
        Self {
            module_path: module_path.into(),
            token_label: token_label.into(),
            pin,
            key_label: key_label.into(),
        }
    }

    /// Takes the PIN from [`PIN_ENV_VAR`] when that variable is set and not
    /// empty; otherwise keeps the PIN already configured. The environment
    /// wins so that a PIN never has to be written into a file.
    pub fn with_env_pin(mut self) -> Self {
        if let Ok(pin) = std::env::var(PIN_ENV_VAR)
            && !pin.is_empty()
        {
            self.pin = SecretString::from(pin);
        }
        self
    }

    /// Checks the parts that can be checked without the device.
    pub(crate) fn validate(&self) -> Result<(), Pkcs11Error> {
        if self.token_label.is_empty() {
            return Err(Pkcs11Error::Config("token_label is empty"));
        }
        if self.token_label.len() > MAX_TOKEN_LABEL_BYTES {
            return Err(Pkcs11Error::Config(
                "token_label is longer than the 32 bytes PKCS#11 allows",
            ));
        }
        if self.key_label.is_empty() {
            return Err(Pkcs11Error::Config("key_label is empty"));
        }
        if self.pin.expose_secret().is_empty() {
            return Err(Pkcs11Error::Config(
                "no user PIN: set `pin` in the configuration or the YAOSHI_PKCS11_PIN environment variable",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pin: &str) -> Pkcs11Config {
        Pkcs11Config::new(
            "/usr/lib/softhsm/libsofthsm2.so",
            "yaoshi",
            SecretString::from(pin.to_owned()),
            "root-wrap",
        )
    }

    #[test]
    fn debug_redacts_the_pin() {
        let shown = format!("{:?}", config("s3cret-pin-4711"));
        assert!(!shown.contains("s3cret-pin-4711"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(shown.contains("root-wrap"), "{shown}");
    }

    #[test]
    fn validation_names_the_missing_part() {
        assert!(config("1234").validate().is_ok());
        let err = config("").validate().unwrap_err().to_string();
        assert!(err.contains("YAOSHI_PKCS11_PIN"), "{err}");
        let mut long = config("1234");
        long.token_label = "x".repeat(33);
        assert!(long.validate().is_err());
        let mut no_key = config("1234");
        no_key.key_label.clear();
        assert!(no_key.validate().is_err());
    }
}
