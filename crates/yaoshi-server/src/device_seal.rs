//! The node's device seal (`[seal.pkcs11]`): the root key wrapped by an
//! AES key in a PKCS#11 token, so the node unseals itself.
//!
//! * At start ([`DeviceSeal::unseal_at_start`]): on a store initialised with
//!   this device the node connects and unseals, and any failure stops the
//!   start; on an uninitialised store it checks that the module, token and
//!   PIN work (a missing wrapping key is fine: `PUT sys/init` creates it).
//!   A store sealed another way is refused, and so is a device-sealed store
//!   on a node without a device ([`refuse_device_store`]).
//! * `PUT sys/init` ([`DeviceSeal::wrapper_for_init`]) initialises with the
//!   device, generating the wrapping key in the token if it is missing.
//! * Once a second while sealed ([`DeviceSeal::try_auto_unseal`]): when
//!   another node initialised the shared store, this node unseals itself.
//!   After `PUT sys/seal` ([`DeviceSeal::sealed_by_operator`]) it does not:
//!   an operator's seal holds until the process restarts.
//!
//! Errors name the module, token and key label, never the PIN.

use crate::settings::SealSettings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use yaoshi_core::Kms;
use yaoshi_core::error::KmsError;
use yaoshi_core::seal::{RootKeyWrapper, SealType};
use yaoshi_hsm::{Pkcs11Config, Pkcs11Error, Pkcs11Wrapper};

/// Why the device seal could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum DeviceSealError {
    /// The HSM, token, login or wrapping key could not be reached.
    #[error("cannot use the PKCS#11 seal ({device}): {source}")]
    Connect {
        /// Module, token and key label.
        device: String,
        /// What the device said.
        source: Pkcs11Error,
    },
    /// The device was reached but the root key did not come out.
    #[error("unsealing with the PKCS#11 seal ({device}) failed: {source}")]
    Unseal {
        /// Module, token and key label.
        device: String,
        /// What the service said.
        source: KmsError,
    },
    /// The store is protected by another seal than the configured one.
    #[error(
        "this storage is initialised with a {stored} seal, but this node is configured with the \
         PKCS#11 seal ({device}); remove [seal.pkcs11] or use storage initialised with it"
    )]
    Mismatch {
        /// The stored seal's type.
        stored: String,
        /// Module, token and key label.
        device: String,
    },
    /// The store is device-sealed but this node has no device configured.
    #[error(
        "this storage is sealed by a {stored} device, but this node has no device seal \
         configured; add [seal.{stored}] to the settings file"
    )]
    NotConfigured {
        /// The stored device kind.
        stored: String,
    },
    /// Reading the seal state from storage failed.
    #[error("cannot read the seal configuration: {0}")]
    Status(KmsError),
}

/// A configured PKCS#11 seal and its connection (opened once, kept).
pub struct DeviceSeal {
    config: Pkcs11Config,
    wrapper: Mutex<Option<Arc<Pkcs11Wrapper>>>,
    operator_sealed: AtomicBool,
    /// Held by `PUT sys/init` on this node, so that the periodic attempt
    /// does not try to unseal a deployment halfway through its init.
    initialising: tokio::sync::Mutex<()>,
    /// Set after the token refused the PIN: tokens lock a PIN after a few
    /// failures, so a refused PIN is never tried again by this process.
    pin_refused: AtomicBool,
}

impl DeviceSeal {
    /// The device seal the settings ask for, with the PIN from
    /// `YAOSHI_PKCS11_PIN` taking precedence over the file; `None` for Shamir.
    pub fn from_settings(settings: &SealSettings) -> Option<Self> {
        settings.pkcs11.as_ref().map(|config| Self {
            config: config.clone().with_env_pin(),
            wrapper: Mutex::new(None),
            operator_sealed: AtomicBool::new(false),
            initialising: tokio::sync::Mutex::new(()),
            pin_refused: AtomicBool::new(false),
        })
    }

    /// The device kind, as seal status shows it (`pkcs11`).
    pub fn kind(&self) -> &'static str {
        yaoshi_hsm::error::DEVICE
    }

    /// `module …, token "…", key "…"` for messages.
    fn describe(&self) -> String {
        format!(
            "module {}, token {:?}, key {:?}",
            self.config.module_path.display(),
            self.config.token_label,
            self.config.key_label
        )
    }

    /// The open connection, connecting (and with `create`, generating a
    /// missing wrapping key) first if there is none.
    async fn connect(&self, create: bool) -> Result<Arc<Pkcs11Wrapper>, DeviceSealError> {
        if let Some(wrapper) = self.connected() {
            return Ok(wrapper);
        }
        let connect_error = |source| DeviceSealError::Connect {
            device: self.describe(),
            source,
        };
        if self.pin_refused.load(Ordering::Relaxed) {
            return Err(connect_error(Pkcs11Error::WrongPin {
                label: self.config.token_label.clone(),
            }));
        }
        let config = self.config.clone();
        // PKCS#11 calls block (a network HSM may take a while).
        let connected = tokio::task::spawn_blocking(move || {
            if create {
                Pkcs11Wrapper::connect_or_create_key(config)
            } else {
                Pkcs11Wrapper::connect(config)
            }
        })
        .await
        .map_err(|e| {
            connect_error(Pkcs11Error::Device {
                step: "connecting",
                reason: e.to_string(),
            })
        })?;
        let wrapper = match connected {
            Ok(wrapper) => Arc::new(wrapper),
            Err(e) => {
                if matches!(
                    e,
                    Pkcs11Error::WrongPin { .. } | Pkcs11Error::PinLocked { .. }
                ) {
                    self.pin_refused.store(true, Ordering::Relaxed);
                }
                return Err(connect_error(e));
            }
        };
        if wrapper.created_key() {
            tracing::info!(
                module = %self.config.module_path.display(),
                token = %self.config.token_label,
                key = %self.config.key_label,
                "generated the root-key wrapping key in the PKCS#11 token"
            );
        }
        let mut slot = self.wrapper.lock().unwrap_or_else(PoisonError::into_inner);
        // Two callers may have connected at once; keep the first.
        Ok(slot.get_or_insert(wrapper).clone())
    }

    fn connected(&self) -> Option<Arc<Pkcs11Wrapper>> {
        self.wrapper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// At start: unseals a store initialised with this device, checks the
    /// device on an uninitialised store, refuses a store sealed otherwise.
    pub async fn unseal_at_start(&self, kms: &Kms) -> Result<(), DeviceSealError> {
        let status = kms.seal_status().await.map_err(DeviceSealError::Status)?;
        if !status.initialized {
            return match self.connect(false).await {
                Ok(_) => Ok(()),
                // Logged in fine; `PUT sys/init` generates the key.
                Err(DeviceSealError::Connect {
                    source: Pkcs11Error::KeyNotFound { .. },
                    ..
                }) => {
                    tracing::info!(
                        key = %self.config.key_label,
                        "storage not initialised and no wrapping key in the PKCS#11 token yet; \
                         `PUT sys/init` (yaoshi operator init) creates it"
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            };
        }
        self.unseal(kms, status.seal_type).await?;
        Ok(())
    }

    /// Marks an init in progress on this node until the guard drops; the
    /// periodic auto-unseal waits for it.
    pub async fn begin_init(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.initialising.lock().await
    }

    /// The wrapper `PUT sys/init` initialises with; generates the wrapping
    /// key in the token when it does not exist yet.
    pub async fn wrapper_for_init(&self) -> Result<Arc<dyn RootKeyWrapper>, DeviceSealError> {
        Ok(self.connect(true).await?)
    }

    /// Records `PUT sys/seal`: the node no longer unseals itself until restart.
    pub fn sealed_by_operator(&self) {
        self.operator_sealed.store(true, Ordering::Relaxed);
    }

    /// Unseals a sealed node whose store has been initialised with this
    /// device (by another node) since start. `Ok(true)` when it unsealed;
    /// `Ok(false)` when there was nothing to do (unsealed, uninitialised, or
    /// sealed by an operator).
    pub async fn try_auto_unseal(&self, kms: &Kms) -> Result<bool, DeviceSealError> {
        if !kms.is_sealed() || self.operator_sealed.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let Ok(_not_initialising) = self.initialising.try_lock() else {
            return Ok(false);
        };
        let status = kms.seal_status().await.map_err(DeviceSealError::Status)?;
        if !status.initialized || !status.sealed {
            return Ok(false);
        }
        self.unseal(kms, status.seal_type).await?;
        Ok(true)
    }

    /// Unseals with the device after checking the stored seal is this device.
    async fn unseal(&self, kms: &Kms, stored: Option<String>) -> Result<(), DeviceSealError> {
        let stored = stored.unwrap_or_default();
        if stored != self.kind() {
            return Err(DeviceSealError::Mismatch {
                stored,
                device: self.describe(),
            });
        }
        let wrapper = self.connect(false).await?;
        kms.unseal_with_device(wrapper.as_ref())
            .await
            .map_err(|source| DeviceSealError::Unseal {
                device: self.describe(),
                source,
            })?;
        tracing::info!(
            token = %self.config.token_label,
            key = %self.config.key_label,
            "unsealed with the PKCS#11 seal"
        );
        Ok(())
    }
}

/// At start on a node without a device seal: refuses a store that a device
/// seals (it could never be unsealed here: shares do not apply).
pub async fn refuse_device_store(kms: &Kms) -> Result<(), DeviceSealError> {
    let status = kms.seal_status().await.map_err(DeviceSealError::Status)?;
    match status.seal_type {
        Some(stored) if stored != SealType::Shamir.name() && stored != SealType::Dev.name() => {
            Err(DeviceSealError::NotConfigured { stored })
        }
        _ => Ok(()),
    }
}
