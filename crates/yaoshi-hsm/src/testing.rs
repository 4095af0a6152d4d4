//! Test support (feature `testing`): a throwaway SoftHSM2 token directory.
//!
//! [`SoftHsm::create`] makes a temporary directory with its own
//! `softhsm2.conf` and `tokens/`, so a test never touches the machine's
//! tokens; [`SoftHsm::init_token`] initialises a token there with
//! `softhsm2-util`. SoftHSM2 reads its configuration from the
//! `SOFTHSM2_CONF` environment variable at `C_Initialize`, so whatever loads
//! the module (a child process: a `yaoshi server`, or a test re-run) must get
//! [`SoftHsm::conf`] in that variable; see [`SoftHsm::env`].
//!
//! The module is looked up in `$YAOSHI_SOFTHSM_MODULE`, then in the usual
//! install locations. SoftHSM2 missing is an error with installation
//! instructions ([`INSTALL_HINT`]), so tests fail instead of skipping.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// Environment variable that overrides where `libsofthsm2.so` is.
pub const MODULE_VAR: &str = "YAOSHI_SOFTHSM_MODULE";

/// Where distributions install `libsofthsm2.so`.
const MODULE_CANDIDATES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

/// How to get SoftHSM2, appended to every "not found" error.
pub const INSTALL_HINT: &str = "SoftHSM2 is required for the PKCS#11 seal tests: install it \
     (Debian/Ubuntu: `apt-get install softhsm2`, Fedora: `dnf install softhsm`, \
     macOS: `brew install softhsm`) or point YAOSHI_SOFTHSM_MODULE at libsofthsm2.so";

/// The path of `libsofthsm2.so`: `$YAOSHI_SOFTHSM_MODULE` or the first
/// install location that exists.
pub fn find_module() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os(MODULE_VAR) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(io::Error::other(format!(
                "{MODULE_VAR}={} does not exist. {INSTALL_HINT}",
                path.display()
            )));
        }
        return Ok(path);
    }
    MODULE_CANDIDATES
        .iter()
        .map(Path::new)
        .find(|path| path.is_file())
        .map(Path::to_owned)
        .ok_or_else(|| {
            io::Error::other(format!(
                "libsofthsm2.so not found in {MODULE_CANDIDATES:?}. {INSTALL_HINT}"
            ))
        })
}

/// A SoftHSM2 token directory with its configuration file.
#[derive(Debug)]
pub struct SoftHsm {
    dir: PathBuf,
    module: PathBuf,
    /// Deleted on drop when this value created the directory.
    _temp: Option<TempDir>,
}

impl SoftHsm {
    /// A fresh temporary token directory (deleted on drop), after checking
    /// that the module and `softhsm2-util` are there.
    pub fn create() -> io::Result<Self> {
        let module = find_module()?;
        let util = Command::new("softhsm2-util").arg("--version").output();
        if !util.is_ok_and(|out| out.status.success()) {
            return Err(io::Error::other(format!(
                "softhsm2-util is not on PATH. {INSTALL_HINT}"
            )));
        }
        let temp = tempfile::tempdir()?;
        let tokens = temp.path().join("tokens");
        std::fs::create_dir(&tokens)?;
        std::fs::write(
            temp.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )?;
        Ok(Self {
            dir: temp.path().to_owned(),
            module,
            _temp: Some(temp),
        })
    }

    /// A directory made by [`SoftHsm::create`] elsewhere (e.g. in a parent
    /// process), not deleted on drop.
    pub fn existing(dir: impl Into<PathBuf>, module: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            module: module.into(),
            _temp: None,
        }
    }

    /// The directory (holding `softhsm2.conf` and `tokens/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The SoftHSM2 module, for `Pkcs11Config::module_path`.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The configuration file, for `SOFTHSM2_CONF`.
    pub fn conf(&self) -> PathBuf {
        self.dir.join("softhsm2.conf")
    }

    /// The environment a process loading the module needs.
    pub fn env(&self) -> [(&'static str, PathBuf); 1] {
        [("SOFTHSM2_CONF", self.conf())]
    }

    /// Initialises a token labelled `label` in a free slot, with its
    /// security-officer and user PINs.
    pub fn init_token(&self, label: &str, user_pin: &str, so_pin: &str) -> io::Result<()> {
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--pin", user_pin, "--so-pin", so_pin])
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .map_err(|e| {
                io::Error::other(format!("cannot run softhsm2-util: {e}. {INSTALL_HINT}"))
            })?;
        if !out.status.success() {
            // softhsm2-util does not echo PINs; its output names the failure.
            return Err(io::Error::other(format!(
                "softhsm2-util --init-token {label} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }
}
