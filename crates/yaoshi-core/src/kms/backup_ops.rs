//! Whole-deployment backups (`sys/backup`, `yaoshi operator backup`) and
//! restores into an empty store (`sys/restore`, `yaoshi operator restore`).
//!
//! A backup signs a checkpoint over everything written, snapshots every
//! row in one point-in-time transaction and seals it under the root key
//! ([`crate::backup`]). A restore needs no key: it checks the file, stages
//! it in [`PENDING_RESTORE_ENTRY`] and writes the backup's seal
//! configuration, which leaves the store initialised and sealed. The first
//! unseal with the original quorum (or device) recovers the root key,
//! opens the payload, checks its signature against the deployment's own
//! audit key, and writes every row in one transaction; only then does the
//! node unseal. Shares of another deployment fail the root check and leave
//! the staged backup in place.

use super::audit_ops::{AUDIT_CONFIG_ENTRY, AuditConfig};
use super::profile_ops::PROFILE_ENTRY;
use super::{Kms, new_id, now};
use crate::audit::AuditPublicKey;
use crate::backup::{BackupContents, BackupFile, BackupHeader, FORMAT, PENDING_RESTORE_ENTRY};
use crate::barrier::BarrierKey;
use crate::error::{KmsError, KmsResult};
use crate::profile::Profile;
use crate::seal::{SEAL_CONFIG_ENTRY, SealConfig, SealType};
use crate::store::{Store, StoreError, StoreSnapshot};

fn entry<'a>(snapshot: &'a StoreSnapshot, name: &str) -> Option<&'a [u8]> {
    snapshot
        .entries
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.value.as_slice())
}

impl Kms {
    /// Takes a backup of the whole deployment for the backup target
    /// `destination` (already checked against the residency rules by the
    /// caller). Refused for a dev seal, whose root key dies with the
    /// process, so its backup could never be opened.
    pub async fn backup(&self, destination: Option<&str>) -> KmsResult<BackupFile> {
        let unsealed = self.unsealed()?;
        let config = self.seal_config().await?.ok_or(KmsError::NotInitialized)?;
        if config.seal_type == SealType::Dev {
            return Err(KmsError::invalid(
                "a dev-sealed deployment cannot be backed up: its root key lives only in this \
                 process, so no backup of it could ever be restored",
            ));
        }
        let audit = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        self.checkpoint_now().await?;
        let snapshot = self.store.snapshot().await?;
        let seal = entry(&snapshot, SEAL_CONFIG_ENTRY)
            .map(SealConfig::from_bytes)
            .transpose()?
            .ok_or(KmsError::NotInitialized)?;
        let header = BackupHeader {
            format: FORMAT.to_string(),
            backup_id: new_id()?,
            created_at: now(),
            node: self.node_name().to_string(),
            destination: destination.map(str::to_string),
            profile: self.profile().name.clone(),
            seal,
            signature_algorithm: audit.signature_algorithm,
            public_key_pem: audit.public_key_pem,
            contents: BackupContents::of(&snapshot),
        };
        BackupFile::seal(
            header,
            &snapshot,
            &unsealed.root,
            unsealed.barrier,
            &unsealed.audit_signer,
        )
    }

    /// Stages a backup file for restore into this node's store, which must
    /// be empty (never initialised). Checks the file's shape and signature
    /// and that it was taken under the profile this node runs; the store
    /// is then initialised and sealed, and the first unseal with the
    /// backup's quorum applies it.
    pub async fn stage_restore(&self, bytes: &[u8]) -> KmsResult<BackupHeader> {
        let file = BackupFile::parse(bytes)?;
        file.verify_own_signature()?;
        let profile = self.profile();
        if file.header.profile != profile.name {
            return Err(KmsError::invalid(format!(
                "the backup was taken under profile {:?}; start this node with that profile, not {:?}",
                file.header.profile, profile.name
            )));
        }
        stage(&*self.store, bytes, &file.header).await?;
        Ok(file.header)
    }

    /// Applies a staged backup with the root key just recovered (called on
    /// every unseal path before the deployment is opened); nothing when
    /// none is staged or another node applied it first.
    pub(crate) async fn apply_pending_restore(&self, root: &BarrierKey) -> KmsResult<()> {
        let Some(bytes) = self.store.get_entry(PENDING_RESTORE_ENTRY).await? else {
            return Ok(());
        };
        let file = BackupFile::parse(&bytes)?;
        let snapshot = file.open(root)?;
        let audit: AuditConfig = entry(&snapshot, AUDIT_CONFIG_ENTRY)
            .and_then(|b| serde_json::from_slice(b).ok())
            .ok_or_else(|| KmsError::invalid("the backup holds no audit configuration"))?;
        if audit.public_key_pem != file.header.public_key_pem {
            return Err(KmsError::invalid(
                "the backup's header names another audit key than the deployment it holds",
            ));
        }
        let key = AuditPublicKey::from_pem(&audit.public_key_pem)
            .map_err(|_| KmsError::invalid("the backup's audit public key is unreadable"))?;
        file.verify_signature(&key)?;
        if let Some(text) = entry(&snapshot, PROFILE_ENTRY) {
            let stored = std::str::from_utf8(text)
                .ok()
                .and_then(|t| Profile::from_toml(t).ok())
                .ok_or_else(|| KmsError::invalid("the backup's profile is unreadable"))?;
            if stored != *self.profile() {
                return Err(KmsError::invalid(format!(
                    "the backup's deployment runs under another definition of profile {:?} \
                     than this node; start the node with the backup's profile",
                    stored.name
                )));
            }
        }
        match self
            .store
            .restore_snapshot(&snapshot, PENDING_RESTORE_ENTRY)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::AlreadyExists) => Err(KmsError::invalid(
                "the store already holds keys or audit records; a backup restores only into an empty store",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// Writes the staged file, then the backup's seal configuration (the
/// commit point: a crash before it leaves an uninitialised store whose
/// stale staged file the next restore replaces).
async fn stage(store: &dyn Store, bytes: &[u8], header: &BackupHeader) -> KmsResult<()> {
    let not_empty = || {
        KmsError::invalid(
            "this store is already initialised; a backup restores only into an empty store",
        )
    };
    if store.get_entry(SEAL_CONFIG_ENTRY).await?.is_some() {
        return Err(not_empty());
    }
    let others = store.list_entries("").await?;
    if others.iter().any(|n| n != PENDING_RESTORE_ENTRY) || store.audit_head().await?.last_seq != 0
    {
        return Err(not_empty());
    }
    store.put_entry(PENDING_RESTORE_ENTRY, bytes).await?;
    if !store
        .insert_entry(SEAL_CONFIG_ENTRY, &header.seal.to_bytes())
        .await?
    {
        return Err(not_empty());
    }
    Ok(())
}
