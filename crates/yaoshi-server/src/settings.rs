//! Server settings: what `yaoshi server` flags and `--config FILE` (TOML) set.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default listen address (Vault's port, loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8200";

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// TLS listener settings (PEM files).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// When set, clients must present a certificate issued by one of these CAs.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// Development mode: initialised with an in-memory root key, unsealed,
/// `transit/` mounted, root token printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevSettings {
    /// The root token to issue (random when unset).
    #[serde(default)]
    pub root_token: Option<String>,
}

/// How the node writes its audit log (`[audit]` in the settings file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLogSettings {
    /// This node's name in audit records (default: the host name).
    #[serde(default)]
    pub node: Option<String>,
    /// Batch concurrent requests' records into one transaction (default
    /// on; off means one transaction per request).
    #[serde(default = "default_true")]
    pub group_commit: bool,
    /// Sign a checkpoint after this many new records.
    #[serde(default = "default_checkpoint_records")]
    pub checkpoint_every_records: u64,
    /// ... or after this many seconds with new records.
    #[serde(default = "default_checkpoint_secs")]
    pub checkpoint_interval_secs: u64,
    /// Scheduled retention: the backup target (declared with a directory,
    /// inside the allowed locations) that receives the archive of records
    /// old enough to go. `None` (the default): records are only pruned on
    /// request (`sys/audit/prune`).
    #[serde(default)]
    pub prune_destination: Option<String>,
    /// Scheduled retention keeps records at least this many days (the
    /// profile's `audit_retention_days` when that is longer).
    #[serde(default)]
    pub prune_keep_days: u64,
    /// Seconds between the leader's retention passes.
    #[serde(default = "default_prune_check_secs")]
    pub prune_check_secs: u64,
}

fn default_prune_check_secs() -> u64 {
    3600
}

fn default_true() -> bool {
    true
}
fn default_checkpoint_records() -> u64 {
    1000
}
fn default_checkpoint_secs() -> u64 {
    60
}

impl Default for AuditLogSettings {
    fn default() -> Self {
        Self {
            node: None,
            group_commit: true,
            checkpoint_every_records: default_checkpoint_records(),
            checkpoint_interval_secs: default_checkpoint_secs(),
            prune_destination: None,
            prune_keep_days: 0,
            prune_check_secs: default_prune_check_secs(),
        }
    }
}

/// Several nodes on one store (`[ha]` in the settings file): the lease that
/// picks the one node running scheduled work.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaSettings {
    /// Seconds the scheduler lease lasts unless renewed (renewed every
    /// second); another node takes over at most this long after the
    /// holder stops.
    #[serde(default = "default_lease_ttl")]
    pub lease_ttl_secs: u64,
    /// Seconds between the lease holder's auto-rotation passes.
    #[serde(default = "default_rotation_check")]
    pub rotation_check_secs: u64,
}

fn default_lease_ttl() -> u64 {
    10
}
fn default_rotation_check() -> u64 {
    60
}

impl Default for HaSettings {
    fn default() -> Self {
        Self {
            lease_ttl_secs: default_lease_ttl(),
            rotation_check_secs: default_rotation_check(),
        }
    }
}

/// How the root key is sealed (`[seal]` in the settings file): Shamir
/// shares held by operators unless a device is configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealSettings {
    /// `[seal.pkcs11]`: the root key wrapped by an AES key in a PKCS#11
    /// token (`module_path`, `token_label`, `key_label`, optional `pin`;
    /// `YAOSHI_PKCS11_PIN` wins over `pin`). The node unseals itself at
    /// start, and `PUT sys/init` initialises with the device.
    #[serde(default)]
    pub pkcs11: Option<yaoshi_hsm::Pkcs11Config>,
}

/// Everything a server needs to start.
///
/// Not comparable: the seal settings may hold a PIN.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Storage URL: `sqlite://PATH`, `sqlite::memory:` or `postgres://...`.
    /// `None` in dev mode means a fresh temporary SQLite file.
    #[serde(default)]
    pub storage: Option<String>,
    /// TLS; plain HTTP when unset.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// Development mode.
    #[serde(default)]
    pub dev: Option<DevSettings>,
    /// Log format.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Seconds a client may take to send a request body; 408 after that
    /// (Vault's default read timeout is 30 s too).
    #[serde(default = "default_body_timeout")]
    pub body_timeout_secs: u64,
    /// Audit log writing.
    #[serde(default)]
    pub audit: AuditLogSettings,
    /// Compliance profile: a shipped name or a TOML file (default:
    /// `default`).
    #[serde(default)]
    pub profile: Option<String>,
    /// Where the deployment's data lives (`[residency]`: jurisdiction,
    /// storage and audit-sink locations, `[[residency.backup_targets]]`).
    #[serde(default)]
    pub residency: yaoshi_core::residency::Residency,
    /// The scheduler lease (`[ha]`).
    #[serde(default)]
    pub ha: HaSettings,
    /// The root key's seal (`[seal]`; Shamir when empty).
    #[serde(default)]
    pub seal: SealSettings,
}

fn default_body_timeout() -> u64 {
    DEFAULT_BODY_TIMEOUT_SECS
}

/// Default [`ServerSettings::body_timeout_secs`].
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN.parse().expect("constant address parses")
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            storage: None,
            tls: None,
            dev: None,
            log_format: LogFormat::Text,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            audit: AuditLogSettings::default(),
            profile: None,
            residency: yaoshi_core::residency::Residency::default(),
            ha: HaSettings::default(),
            seal: SealSettings::default(),
        }
    }
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("invalid settings in {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The settings contradict each other.
    #[error("{0}")]
    Invalid(String),
}

impl ServerSettings {
    /// The compliance profile these settings name.
    pub fn load_profile(&self) -> Result<yaoshi_core::profile::Profile, SettingsError> {
        use yaoshi_core::profile::Profile;
        let name = self.profile.as_deref().unwrap_or("default");
        if Profile::builtin_names().contains(&name) {
            return Profile::builtin(name).map_err(|e| SettingsError::Invalid(e.to_string()));
        }
        let path = Path::new(name);
        if !path.exists() {
            return Err(SettingsError::Invalid(format!(
                "unknown profile {name:?}: not a shipped profile ({}) nor a file",
                Profile::builtin_names().join(", ")
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Profile::from_toml(&text).map_err(|e| SettingsError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Reads settings from a TOML file (same names as the flags).
    pub fn from_file(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let settings: Self = toml::from_str(&text).map_err(|e| SettingsError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks settings that flags or a file may combine wrongly.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=3600).contains(&self.body_timeout_secs) {
            return Err(SettingsError::Invalid(
                "body_timeout_secs must be between 1 and 3600".into(),
            ));
        }
        if self.audit.checkpoint_every_records == 0 || self.audit.checkpoint_interval_secs == 0 {
            return Err(SettingsError::Invalid(
                "audit checkpoint_every_records and checkpoint_interval_secs must be at least 1"
                    .into(),
            ));
        }
        if !(2..=3600).contains(&self.ha.lease_ttl_secs) {
            return Err(SettingsError::Invalid(
                "ha lease_ttl_secs must be between 2 and 3600 (it is renewed every second)".into(),
            ));
        }
        if !(1..=86_400).contains(&self.ha.rotation_check_secs) {
            return Err(SettingsError::Invalid(
                "ha rotation_check_secs must be between 1 and 86400".into(),
            ));
        }
        if self.dev.is_some() && self.seal.pkcs11.is_some() {
            return Err(SettingsError::Invalid(
                "dev mode keeps the root key in memory and cannot use a device seal: \
                 remove [seal.pkcs11] or dev mode"
                    .into(),
            ));
        }
        let profile = self.load_profile()?;
        if self.dev.is_some() {
            profile
                .check_dev_seal()
                .map_err(|v| SettingsError::Invalid(v.to_string()))?;
        }
        profile
            .check_tls(self.tls.is_some())
            .map_err(|v| SettingsError::Invalid(v.to_string()))?;
        self.residency
            .validate()
            .map_err(|m| SettingsError::Invalid(format!("residency: {m}")))?;
        self.residency
            .check_at_start(&profile)
            .map_err(|v| SettingsError::Invalid(v.to_string()))?;
        self.scheduled_prune_target(&profile)?;
        if self.dev.is_none() && self.storage.is_none() {
            return Err(SettingsError::Invalid(
                "a storage URL is required outside dev mode (--storage sqlite://PATH or postgres://...)"
                    .into(),
            ));
        }
        Ok(())
    }
}

impl ServerSettings {
    /// The backup target of scheduled audit retention, checked against the
    /// profile: declared, with a directory, inside the allowed locations, a
    /// retention period of at least one day, and `prune-audit` not under
    /// dual control (scheduled work cannot ask for approval).
    pub fn scheduled_prune_target(
        &self,
        profile: &yaoshi_core::profile::Profile,
    ) -> Result<Option<yaoshi_core::residency::BackupTarget>, SettingsError> {
        let Some(name) = &self.audit.prune_destination else {
            return Ok(None);
        };
        let invalid = |m: String| SettingsError::Invalid(format!("audit prune_destination: {m}"));
        if profile
            .approvals_required(yaoshi_core::profile::DualOp::PruneAudit)
            .is_some()
        {
            return Err(invalid(format!(
                "profile {:?} puts prune-audit under dual control, which scheduled pruning would bypass; prune through sys/audit/prune instead",
                profile.name
            )));
        }
        if profile.audit_retention_days.max(self.audit.prune_keep_days) == 0 {
            return Err(invalid(
                "scheduled pruning needs prune_keep_days (or the profile's audit_retention_days) of at least 1".into(),
            ));
        }
        if !(1..=86_400 * 7).contains(&self.audit.prune_check_secs) {
            return Err(invalid(
                "prune_check_secs must be between 1 and 604800".into(),
            ));
        }
        let target = self
            .residency
            .check_destination(profile, "audit archive", Some(name))
            .map_err(|v| invalid(v.to_string()))?
            .cloned()
            .ok_or_else(|| invalid("not a declared backup target".into()))?;
        yaoshi_core::kms::audit_prune::archive_dir(&target).map_err(|e| invalid(e.to_string()))?;
        Ok(Some(target))
    }
}
