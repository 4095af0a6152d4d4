//! Work that runs outside any request, on the one node that holds the
//! scheduler lease: auto-rotation of the keys of every mount.
//!
//! Each rotation is audited like a request: its record (principal
//! `scheduler`, operation [`AUTO_ROTATE_OPERATION`]) commits in the same
//! transaction as the new version, and a rotation that fails leaves a
//! `failed` record instead. Two nodes racing on one key cannot both rotate
//! it: the key change is a compare-and-set on the key's generation.

use super::Kms;
use super::new_id;
use crate::audit::{AuditRecord, Outcome, RequestAudit};
use crate::error::KmsResult;

/// The principal named in the records of scheduled work.
pub const SCHEDULER_PRINCIPAL: &str = "scheduler";

/// The operation named in the record of a scheduled rotation.
pub const AUTO_ROTATE_OPERATION: &str = "scheduler.auto_rotate";

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
            time_ms: super::now().saturating_mul(1000),
            node: self.node_name().to_string(),
            request_id: new_id().map_err(|e| e.to_string())?,
            principal: Some(SCHEDULER_PRINCIPAL.to_string()),
            operation: AUTO_ROTATE_OPERATION.to_string(),
            method: "write".to_string(),
            path: format!("{mount}keys/{name}/rotate"),
            mount: Some(mount.to_string()),
            key: Some(name.to_string()),
            ..AuditRecord::default()
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
}
