//! Work that runs outside any request, on the one node that holds the
//! scheduler lease: auto-rotation of the keys of every mount, and the
//! retention of the audit log (archive, then prune, what is old enough).
//!
//! Each run is audited like a request, as principal `scheduler`. A
//! rotation's record (operation [`AUTO_ROTATE_OPERATION`]) commits in the
//! same transaction as the new version, and a rotation that fails leaves a
//! `failed` record instead; a prune (operation [`AUDIT_PRUNE_OPERATION`])
//! is recorded after it, with what it removed or why it failed. Two nodes racing on one key cannot both rotate
//! it: the key change is a compare-and-set on the key's generation.

use super::Kms;
use super::audit_prune::PruneOutcome;
use super::new_id;
use crate::audit::{AuditRecord, Outcome, RequestAudit};
use crate::error::{KmsError, KmsResult};
use crate::residency::BackupTarget;

/// The principal named in the records of scheduled work.
pub const SCHEDULER_PRINCIPAL: &str = "scheduler";

/// The operation named in the record of a scheduled rotation.
pub const AUTO_ROTATE_OPERATION: &str = "scheduler.auto_rotate";

/// The operation named in the record of a scheduled audit prune.
pub const AUDIT_PRUNE_OPERATION: &str = "scheduler.audit_prune";

/// One key the scheduler tried to rotate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledRotation {
    /// The mount path (`transit/`).
    pub mount: String,
    /// The key name.
    pub key: String,
    /// The new latest version, or why the rotation failed.
    pub result: Result<i64, String>,
}

impl Kms {
    /// Rotates, at `at` (Unix seconds), every active key of every mount whose
    /// auto-rotation period has elapsed, each under its own audit record.
    /// Fails only when the mounts or key lists cannot be read; a key that
    /// fails to rotate is reported in its [`ScheduledRotation`].
    pub async fn auto_rotate_mounts(&self, at: i64) -> KmsResult<Vec<ScheduledRotation>> {
        let mut done = Vec::new();
        for mount in self.list_mounts().await? {
            let namespace = mount.namespace();
            for name in self.keys_due_for_rotation(namespace, at).await? {
                let result = self.audited_rotation(&mount.path, namespace, &name).await;
                done.push(ScheduledRotation {
                    mount: mount.path.clone(),
                    key: name,
                    result,
                });
            }
        }
        Ok(done)
    }

    /// Rotates one key inside a scheduler audit record.
    async fn audited_rotation(
        &self,
        mount: &str,
        namespace: &str,
        name: &str,
    ) -> Result<i64, String> {
        let record = AuditRecord {
            mount: Some(mount.to_string()),
            key: Some(name.to_string()),
            ..self
                .scheduler_record(AUTO_ROTATE_OPERATION, format!("{mount}keys/{name}/rotate"))
                .map_err(|e| e.to_string())?
        };
        let audit = RequestAudit::new(record);
        let outcome = audit.scope(self.rotate_key(namespace, name)).await;
        if audit.committed() {
            // The record committed with the new version.
            return outcome
                .map(|info| info.policy.latest_version)
                .map_err(|e| e.to_string());
        }
        audit.update(|r| match &outcome {
            Ok(info) => {
                r.key_type = Some(info.policy.key_type.name().to_string());
                r.version = Some(info.policy.latest_version);
            }
            Err(e) => {
                r.outcome = Outcome::Failed;
                r.error = Some(e.to_string());
            }
        });
        let recorded = self.record_audit(&audit.snapshot()).await;
        match (outcome, recorded) {
            (Ok(info), Ok(_)) => Ok(info.policy.latest_version),
            (Ok(_), Err(e)) => Err(format!("rotated, but its audit record failed: {e}")),
            (Err(e), _) => Err(e.to_string()),
        }
    }

    /// The record of one piece of scheduled work.
    fn scheduler_record(&self, operation: &str, path: String) -> KmsResult<AuditRecord> {
        Ok(AuditRecord {
            time_ms: super::now().saturating_mul(1000),
            node: self.node_name().to_string(),
            request_id: new_id()?,
            principal: Some(SCHEDULER_PRINCIPAL.to_string()),
            operation: operation.to_string(),
            method: "write".to_string(),
            path,
            ..AuditRecord::default()
        })
    }

    /// Audit retention: archives to `target` and prunes the stored records
    /// older than `keep_days` (or the profile's `audit_retention_days`,
    /// whichever is longer), up to a signed checkpoint, as
    /// `sys/audit/prune` does. `Ok(None)` when nothing is old enough yet
    /// (no record written); otherwise the outcome, with its audit record
    /// written after it.
    pub async fn scheduled_audit_prune(
        &self,
        target: &BackupTarget,
        keep_days: u64,
    ) -> KmsResult<Option<PruneOutcome>> {
        let plan = match self.plan_audit_prune(None, keep_days).await {
            Ok(plan) => plan,
            Err(KmsError::InvalidRequest(_) | KmsError::ProfileViolation(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut record = self.scheduler_record(AUDIT_PRUNE_OPERATION, "sys/audit/prune".into())?;
        record
            .params
            .insert("destination".into(), target.name.clone().into());
        record.params.insert("from".into(), plan.from.into());
        record.params.insert("to".into(), plan.to.into());
        let outcome = self.prune_audit(plan, target).await;
        if let Err(e) = &outcome {
            record.outcome = Outcome::Failed;
            record.error = Some(e.to_string());
        }
        self.record_audit(&record).await?;
        outcome.map(Some)
    }
}
