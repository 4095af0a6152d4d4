//! Loading and initialising a PKCS#11 module once per process.
//!
//! `C_Initialize` and `C_Finalize` act on the whole process: a second
//! `C_Initialize` of the same library fails with
//! `CKR_CRYPTOKI_ALREADY_INITIALIZED`, and one `C_Finalize` closes every
//! session of every user. So all wrappers share one context per module path,
//! counted here: the first user initialises the module, the last one to
//! leave finalises it. A loaded library stays mapped for the life of the
//! process (unloading and reloading modules such as SoftHSM2 is a known
//! source of crashes), and a later user initialises it again.
//!
//! If something else in the process initialised the module before us, we use
//! it as it is and leave finalising to its owner.

use crate::error::{Pkcs11Error, describe};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One loaded module and who uses it.
struct Entry {
    context: Pkcs11,
    users: usize,
    /// Whether our `C_Initialize` succeeded, so that `C_Finalize` is ours to call.
    initialised_by_us: bool,
}

/// Loaded modules by canonical path.
static MODULES: Mutex<BTreeMap<PathBuf, Entry>> = Mutex::new(BTreeMap::new());

fn modules() -> MutexGuard<'static, BTreeMap<PathBuf, Entry>> {
    // The map stays consistent across a panic: every update is one statement.
    MODULES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One user's share of an initialised module; released on drop.
pub(crate) struct ModuleHandle {
    path: PathBuf,
    context: Pkcs11,
    released: bool,
}

impl ModuleHandle {
    /// Loads (once per process) and initialises (when nobody uses it) the module at `path`.
    pub(crate) fn acquire(path: &Path) -> Result<Self, Pkcs11Error> {
        let load_error = |reason: String| Pkcs11Error::ModuleLoad {
            path: path.to_owned(),
            reason,
        };
        // One key per library file, however it is spelled.
        let canonical = std::fs::canonicalize(path).map_err(|e| load_error(e.to_string()))?;
        let mut modules = modules();
        if !modules.contains_key(&canonical) {
            let context = Pkcs11::new(&canonical).map_err(|e| load_error(describe(&e)))?;
            modules.insert(
                canonical.clone(),
                Entry {
                    context,
                    users: 0,
                    initialised_by_us: false,
                },
            );
        }
        let entry = modules
            .get_mut(&canonical)
            .ok_or(Pkcs11Error::Config("module registry lost an entry"))?;
        if entry.users == 0 {
            let args = CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK);
            match entry.context.initialize(args) {
                Ok(()) => entry.initialised_by_us = true,
                Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {
                    entry.initialised_by_us = false;
                }
                Err(e) => return Err(Pkcs11Error::device("C_Initialize", &e)),
            }
        }
        entry.users += 1;
        Ok(Self {
            path: canonical,
            context: entry.context.clone(),
            released: false,
        })
    }

    /// The module's context.
    pub(crate) fn context(&self) -> &Pkcs11 {
        &self.context
    }

    /// Gives up this share; the last user finalises the module. Idempotent.
    ///
    /// Close this user's sessions first: finalising closes every session.
    pub(crate) fn release(&mut self) -> Result<(), Pkcs11Error> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        let mut modules = modules();
        let Some(entry) = modules.get_mut(&self.path) else {
            return Ok(());
        };
        entry.users = entry.users.saturating_sub(1);
        if entry.users == 0 && entry.initialised_by_us {
            entry.initialised_by_us = false;
            entry
                .context
                .clone()
                .finalize()
                .map_err(|e| Pkcs11Error::device("C_Finalize", &e))?;
        }
        Ok(())
    }
}

impl Drop for ModuleHandle {
    fn drop(&mut self) {
        // Nothing to report to from a destructor; `Pkcs11Wrapper::close` reports.
        let _ = self.release();
    }
}
