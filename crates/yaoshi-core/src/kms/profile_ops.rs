//! The profile a deployment runs under: stored with the deployment at init
//! so that a node cannot be restarted under a weaker one, changed only
//! through `sys/profile` (under dual control when the profile in force says
//! so), and picked up by every node from the store.

use super::Kms;
use super::audit_ops::AuditConfig;
use crate::error::{KmsError, KmsResult};
use crate::profile::{Profile, ProfileViolation};
use crate::seal::config::SealType;

/// Entry holding the profile in force (its TOML).
pub(crate) const PROFILE_ENTRY: &str = "core/profile";

impl Kms {
    /// The profile stored with the deployment (`None` before init, or for a
    /// deployment initialised before profiles were stored).
    pub async fn stored_profile(&self) -> KmsResult<Option<Profile>> {
        let Some(bytes) = self.store.get_entry(PROFILE_ENTRY).await? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| KmsError::Internal("stored profile is not UTF-8".into()))?;
        Profile::from_toml(text)
            .map(Some)
            .map_err(|e| KmsError::Internal(format!("stored profile: {e}")))
    }

    /// Records the profile in force with the deployment (at init).
    pub(crate) async fn store_profile(&self) -> KmsResult<()> {
        self.store
            .put_entry(PROFILE_ENTRY, self.profile().to_toml().as_bytes())
            .await?;
        Ok(())
    }

    /// At start: refuses a node whose profile differs from the one stored
    /// with the deployment (a restart must not weaken the rules; changes go
    /// through `sys/profile`), and stores the profile of an initialised
    /// deployment that has none yet.
    pub async fn reconcile_profile(&self) -> KmsResult<()> {
        let current = self.profile();
        match self.stored_profile().await? {
            Some(stored) if stored != *current => Err(KmsError::refused(format!(
                "this deployment runs under profile {:?} (stored with it; changed only through \
                 sys/profile); start the node with that profile, not {:?}",
                stored.name, current.name
            ))),
            Some(_) => Ok(()),
            None if self.seal_config().await?.is_some() => {
                self.store
                    .insert_entry(PROFILE_ENTRY, current.to_toml().as_bytes())
                    .await?;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Reads the stored profile and makes it the one in force when another
    /// node changed it; `true` when it changed.
    pub async fn refresh_profile(&self) -> KmsResult<bool> {
        match self.stored_profile().await? {
            Some(stored) if stored != *self.profile() => {
                self.set_profile(stored);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Refuses a profile this deployment cannot switch to: the barrier and
    /// audit algorithms were fixed at init, the node must already serve TLS
    /// when the new profile requires it, and a dev-sealed deployment cannot
    /// move to a profile that forbids the dev seal. Checked before the
    /// change is parked for approval and again when it executes.
    pub async fn check_profile_change(&self, new: &Profile) -> KmsResult<()> {
        let refuse = |rule: &'static str, message: String| {
            KmsError::ProfileViolation(ProfileViolation {
                profile: new.name.clone(),
                rule,
                message,
            })
        };
        let seal = self.seal_config().await?.ok_or(KmsError::NotInitialized)?;
        if seal.barrier != new.barrier_algorithm() {
            return Err(refuse(
                "barrier",
                format!(
                    "the deployment's barrier is {} (fixed at init); the profile needs {}",
                    seal.barrier.name(),
                    new.barrier
                ),
            ));
        }
        if let Some(AuditConfig {
            hash_algorithm,
            signature_algorithm,
            ..
        }) = self.audit_config().await?
        {
            if hash_algorithm != new.audit_chain() {
                return Err(refuse(
                    "audit_hash",
                    format!(
                        "the audit log is chained with {} (fixed at init); the profile needs {}",
                        hash_algorithm.name(),
                        new.audit_hash
                    ),
                ));
            }
            if signature_algorithm != new.audit_signature_algorithm().name() {
                return Err(refuse(
                    "audit_signature",
                    format!(
                        "checkpoints are signed with {signature_algorithm} (fixed at init); the profile needs {}",
                        new.audit_signature
                    ),
                ));
            }
        }
        new.check_tls(self.options.tls_enabled)?;
        if seal.seal_type == SealType::Dev {
            new.check_dev_seal()?;
        }
        self.options
            .residency
            .check_at_start(new)
            .map_err(KmsError::ProfileViolation)?;
        Ok(())
    }

    /// Makes `new` the deployment's profile (stored, in force on this node
    /// at once and on the others within their refresh interval).
    pub async fn change_profile(&self, new: Profile) -> KmsResult<()> {
        self.unsealed()?;
        self.check_profile_change(&new).await?;
        self.store
            .put_entry(PROFILE_ENTRY, new.to_toml().as_bytes())
            .await?;
        self.set_profile(new);
        Ok(())
    }
}
