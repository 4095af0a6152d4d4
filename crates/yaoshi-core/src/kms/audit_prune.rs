//! Pruning the audit log under the profile's retention rule (DESIGN §6):
//! only records older than `audit_retention_days` go, only up to a signed
//! checkpoint (so what stays still verifies from that checkpoint's Merkle
//! frontier), and only after they were written to an archive on a declared
//! backup target inside the allowed locations, verified there as an
//! auditor would verify it. The front end puts the request under dual
//! control when the profile lists `prune-audit`.

use super::Kms;
use crate::audit::Checkpoint;
use crate::error::{KmsError, KmsResult};
use crate::profile::ProfileViolation;
use crate::residency::BackupTarget;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a prune would remove.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrunePlan {
    /// First record removed (the oldest stored).
    pub from: i64,
    /// Last record removed: the tree size of a signed checkpoint.
    pub to: i64,
    /// Records older than this Unix time may be removed.
    pub cutoff: i64,
}

/// What a prune did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PruneOutcome {
    /// The records removed, `from..=to`.
    pub plan: PrunePlan,
    /// Number of records removed.
    pub records: u64,
    /// The backup target the archive went to.
    pub destination: String,
    /// The archive file (`yaoshi-audit-v1` JSON Lines ending with the
    /// signed checkpoint at `to`).
    pub archive: PathBuf,
    /// Hash of the archive file (hex, the log's hash algorithm).
    pub archive_hash: String,
    /// The checkpoint the archive ends with and the remaining log starts
    /// from.
    pub checkpoint: Checkpoint,
}

impl Kms {
    /// What pruning records below `before_seq` (default: as many as the
    /// retention rule allows) would remove. Refuses, naming
    /// `audit_retention_days`, records younger than the retention period
    /// (the profile's, or `keep_days` when that is longer).
    pub async fn plan_audit_prune(
        &self,
        before_seq: Option<i64>,
        keep_days: u64,
    ) -> KmsResult<PrunePlan> {
        let profile = self.profile();
        let days = profile.audit_retention_days.max(keep_days);
        // Without a retention period nothing is too young to go.
        let cutoff = match days {
            0 => i64::MAX,
            d => super::now() - (d as i64).saturating_mul(86_400),
        };
        let head = self.store.audit_head().await?;
        let Some(first) = head.first_stored else {
            return Err(KmsError::invalid("the audit log holds no records to prune"));
        };
        if before_seq.is_some_and(|b| b <= first) {
            return Err(KmsError::invalid(format!(
                "before_seq must be above the oldest stored record ({first})"
            )));
        }
        let limit = before_seq.map_or(head.last_seq, |b| (b - 1).min(head.last_seq));
        // The signed checkpoints a prune may cut at.
        let cuts: Vec<i64> = self
            .store
            .list_checkpoints(first, i64::MAX)
            .await?
            .iter()
            .map(|c| c.tree_size)
            .filter(|t| *t <= limit)
            .collect();
        let Some(&widest) = cuts.last() else {
            return Err(KmsError::invalid(format!(
                "no signed checkpoint covers records {first}..{limit} yet; pruning cuts at a checkpoint"
            )));
        };
        // The newest record time up to each cut (records may be slightly
        // out of time order across nodes).
        let mut newest = i64::MIN;
        let mut allowed = None;
        let mut cut = cuts.iter().peekable();
        let mut next = first;
        'scan: while next <= widest {
            let rows = self.store.read_audit(next, 5000).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows.iter().take_while(|r| r.seq <= widest) {
                newest = newest.max(row.time);
                if cut.peek() == Some(&&row.seq) {
                    cut.next();
                    if newest >= cutoff {
                        break 'scan;
                    }
                    allowed = Some(row.seq);
                }
                next = row.seq + 1;
            }
        }
        let retention = |upto: i64| {
            KmsError::ProfileViolation(ProfileViolation {
                profile: profile.name.clone(),
                rule: "audit_retention_days",
                message: format!(
                    "audit records up to {upto} include some younger than {days} days; they must be kept"
                ),
            })
        };
        match allowed {
            Some(to) if before_seq.is_none() || to == widest => Ok(PrunePlan {
                from: first,
                to,
                cutoff,
            }),
            _ => Err(retention(widest)),
        }
    }

    /// Carries out `plan` (from [`Kms::plan_audit_prune`] in the same
    /// request): writes the records (with their checkpoints, ending with the
    /// signed one at the cut) to an archive in `target`'s directory, reads
    /// it back and verifies it with the audit public key, and only then
    /// deletes them from the store.
    pub async fn prune_audit(
        &self,
        plan: PrunePlan,
        target: &BackupTarget,
    ) -> KmsResult<PruneOutcome> {
        self.unsealed()?;
        let dir = archive_dir(target)?.to_path_buf();
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let text = self.audit_export_range(Some(plan.from), plan.to).await?;
        let key = self.audit_public_key().await?;
        let report = crate::audit::verify_export(text.as_bytes(), &key, None).map_err(|f| {
            KmsError::Internal(format!("the archive does not verify, nothing pruned: {f}"))
        })?;
        let checkpoint = self
            .store
            .list_checkpoints(plan.to, 1)
            .await?
            .into_iter()
            .next()
            .filter(|c| c.tree_size == plan.to)
            .and_then(|c| serde_json::from_slice::<Checkpoint>(&c.body).ok())
            .ok_or_else(|| KmsError::Internal("the cut's checkpoint vanished".into()))?;
        if report.last_seq != Some(plan.to as u64) {
            return Err(KmsError::Internal(
                "the archive does not end at the cut, nothing pruned".into(),
            ));
        }
        let path = dir.join(format!("audit-{:012}-{:012}.jsonl", plan.from, plan.to));
        let written = path.clone();
        let bytes = text.into_bytes();
        let read_back = tokio::task::spawn_blocking(move || write_archive(&written, &bytes))
            .await
            .map_err(|_| KmsError::Internal("archive writer task failed".into()))??;
        crate::audit::verify_export(read_back.as_slice(), &key, None).map_err(|f| {
            KmsError::Internal(format!(
                "the archive read back from {} does not verify, nothing pruned: {f}",
                path.display()
            ))
        })?;
        let archive_hash = crate::audit::chain::digest_to_hex(
            &config.hash_algorithm.hash(&[read_back.as_slice()]),
        );
        let records = self.store.prune_audit(plan.to + 1).await?;
        Ok(PruneOutcome {
            plan,
            records,
            destination: target.name.clone(),
            archive: path,
            archive_hash,
            checkpoint,
        })
    }
}

/// The directory of `target` that receives audit archives; a 400 when the
/// target was declared without one.
pub fn archive_dir(target: &BackupTarget) -> KmsResult<&Path> {
    target.path.as_deref().ok_or_else(|| {
        KmsError::invalid(format!(
            "backup target {:?} has no directory for audit archives (declare it as NAME=LOCATION:DIR)",
            target.name
        ))
    })
}

/// Writes `bytes` to a new file at `path` durably (temporary file, fsync,
/// rename, fsync of the directory) and returns what reads back.
fn write_archive(path: &Path, bytes: &[u8]) -> KmsResult<Vec<u8>> {
    let io = |what: &str, e: std::io::Error| {
        KmsError::invalid(format!(
            "cannot {what} the audit archive {}: {e}; nothing pruned",
            path.display()
        ))
    };
    if path.exists() {
        return Err(KmsError::invalid(format!(
            "the audit archive {} already exists; nothing pruned",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .ok_or_else(|| KmsError::invalid("the archive path has no directory"))?;
    let tmp = path.with_extension("jsonl.partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io("create", e))?;
    file.write_all(bytes).map_err(|e| io("write", e))?;
    file.sync_all().map_err(|e| io("flush", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io("rename", e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("flush the directory of", e))?;
    std::fs::read(path).map_err(|e| io("read back", e))
}
