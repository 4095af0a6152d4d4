//! `compliance check` and `compliance report` over the live deployment
//! (DESIGN §8).
//!
//! [`Kms::compliance_check`] gathers the evidence the rules of
//! [`crate::compliance::checks`] judge: every key of every mount, the
//! barrier and seal, the deployment's audit configuration, the stored audit
//! log verified as an outside auditor verifies an export, the principals,
//! the declared residency and TLS. [`Kms::compliance_report`] adds a month
//! of audit records ([`crate::compliance::activity`]), the dual-control
//! requests of the month, the latest signed checkpoint and the audit public
//! key. Both judge against [`Kms::profile`], the profile in force.
//!
//! Both sign a checkpoint first (as `sys/audit/verify` does), so the
//! verification and the report's signed tree head cover every record so
//! far; nothing else is written. Callers authorise
//! (`Action::Audit { write: false }`).

use std::collections::HashMap;

use super::approvals::Approval;
use super::{KeyHandle, Kms, now};
use crate::audit::Checkpoint;
use crate::compliance::activity::{MAX_REFUSALS, tally};
use crate::compliance::checks::{self, AuditFacts, Evidence, SealFacts, ids, rotation_status};
use crate::compliance::report::{
    ApprovalSummary, AuditSection, DeploymentInfo, KeyInventoryItem, MonthlyReport,
    ResidencySection,
};
use crate::compliance::{CheckResult, Finding};
use crate::error::{KmsError, KmsResult};
use crate::profile::Profile;

/// Seconds in a day.
const DAY: u64 = 86_400;

impl Kms {
    /// Evaluates the live deployment against the profile in force: one
    /// finding per rule of [`crate::compliance::checks`], in a stable order.
    pub async fn compliance_check(&self) -> KmsResult<CheckResult> {
        let evidence = self.compliance_evidence().await?;
        Ok(CheckResult {
            profile: evidence.profile.name.clone(),
            generated_at: evidence.now,
            findings: checks::evaluate(&evidence),
        })
    }

    /// The monthly report for `month` (`YYYY-MM`, UTC): inventory with
    /// rotation status, the month's operations and refusals from the audit
    /// log, its dual-control requests, audit verification with the latest
    /// signed checkpoint, residency, and the findings of
    /// [`Kms::compliance_check`]. A malformed month is
    /// [`KmsError::InvalidRequest`].
    pub async fn compliance_report(&self, month: &str) -> KmsResult<MonthlyReport> {
        let (start, end) =
            MonthlyReport::month_bounds(month).map_err(|e| KmsError::invalid(e.to_string()))?;
        let evidence = self.compliance_evidence().await?;
        let findings = checks::evaluate(&evidence);
        let types: HashMap<(&str, &str), &str> = evidence
            .keys
            .iter()
            .map(|k| ((k.mount.as_str(), k.name.as_str()), k.key_type.as_str()))
            .collect();
        let rows = self.audit_rows_between(start, end).await?;
        let activity = tally(&rows, &|mount, key| {
            types
                .get(&(mount.trim_end_matches('/'), key))
                .map(|t| t.to_string())
        });
        let approvals = self
            .list_approvals()
            .await?
            .iter()
            .filter(|a| {
                let within = |t: i64| (start..end).contains(&t);
                within(a.created_at) || a.decided_at.is_some_and(within)
            })
            .map(approval_summary)
            .collect();
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let checkpoint = self
            .latest_checkpoint()
            .await?
            .map(|cp| checkpoint_value(&cp))
            .transpose()?;
        let mut detail = finding_evidence(&findings, ids::AUDIT_CHAIN);
        if activity.unreadable > 0 {
            detail.push_str(&format!(
                "; {} records of the period are not readable audit records",
                activity.unreadable
            ));
        }
        if activity.stats.denied > activity.refusals.len() as u64 {
            detail.push_str(&format!(
                "; the first {MAX_REFUSALS} of {} refusals are listed",
                activity.stats.denied
            ));
        }
        let profile = &evidence.profile;
        let residency = &evidence.residency;
        Ok(MonthlyReport {
            format: MonthlyReport::FORMAT.to_string(),
            profile: profile.name.clone(),
            month: month.to_string(),
            period_start: start,
            period_end: end,
            generated_at: evidence.now,
            deployment: DeploymentInfo {
                jurisdiction: residency.jurisdiction.clone(),
                storage_backend: self.store.backend().to_string(),
                node: self.node_name().to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                tls_enabled: evidence.tls_enabled,
            },
            keys: evidence.keys.clone(),
            operations: activity.stats,
            refusals: activity.refusals,
            approvals,
            audit: AuditSection {
                verified: evidence.audit.verification.is_ok(),
                detail,
                records_in_period: activity.records,
                first_seq: activity.first_seq,
                last_seq: activity.last_seq,
                checkpoint,
                public_key_pem: config.public_key_pem,
            },
            residency: ResidencySection {
                jurisdiction: residency.jurisdiction.clone(),
                allowed_locations: profile.allowed_locations.clone(),
                min_data_centres: profile.min_data_centres,
                distinct_data_centres: residency.distinct_data_centres(),
                endpoints: residency.endpoints(profile),
            },
            findings,
        })
    }

    /// What the rules look at, read from the store now.
    async fn compliance_evidence(&self) -> KmsResult<Evidence> {
        let unsealed = self.unsealed()?;
        let profile = (*self.profile()).clone();
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        // A log that cannot be proven (records pruned without a covering
        // checkpoint) is a failed finding, not a failed request.
        let checkpoint = match self.checkpoint_now().await {
            Ok(cp) => cp,
            Err(e) if e.is_client_error() => self.latest_checkpoint().await?,
            Err(e) => return Err(e),
        };
        let verification = match self.verify_stored_audit().await {
            Ok(result) => result.map_err(|failure| failure.to_string()),
            Err(e) if e.is_client_error() => Err(e.to_string()),
            Err(e) => return Err(e),
        };
        let head = self.store.audit_head().await?;
        let mut oldest_time = None;
        let mut last_pruned_signed_at = None;
        if let Some(first) = head.first_stored {
            oldest_time = self
                .store
                .read_audit(first, 1)
                .await?
                .first()
                .map(|r| r.time);
            if first > 1 {
                last_pruned_signed_at = self
                    .store
                    .list_checkpoints(first - 1, 1)
                    .await?
                    .first()
                    .map(|c| c.time);
            }
        }
        let seal = self.seal_status().await?;
        let at = now();
        Ok(Evidence {
            keys: self.key_inventory(&profile, at).await?,
            profile,
            now: at,
            barrier: unsealed.barrier,
            seal: SealFacts {
                seal_type: seal.seal_type.unwrap_or_default(),
                shares: seal.shares,
                threshold: seal.threshold,
            },
            audit: AuditFacts {
                hash_algorithm: config.hash_algorithm.name().to_string(),
                signature_algorithm: config.signature_algorithm,
                verification,
                checkpoint_size: checkpoint.map(|c| c.tree_size),
                last_seq: head.last_seq,
                first_stored: head.first_stored,
                oldest_time,
                last_pruned_signed_at,
            },
            principals: self.list_principals().await?,
            residency: self.options.residency.clone(),
            tls_enabled: self.options.tls_enabled,
        })
    }

    /// Every key (not destroyed) of every mount, sorted by mount and name.
    async fn key_inventory(&self, profile: &Profile, at: i64) -> KmsResult<Vec<KeyInventoryItem>> {
        let mut out = Vec::new();
        for mount in self.list_mounts().await? {
            let namespace = mount.namespace();
            for name in self.store.list_keys(namespace).await? {
                // A key destroyed between the listing and the read is skipped.
                if let Some(record) = self.store.get_key(namespace, &name).await? {
                    let key = KeyHandle::from_record(record)?;
                    out.push(inventory_item(namespace, &key, profile, at));
                }
            }
        }
        Ok(out)
    }
}

/// One key's inventory line.
fn inventory_item(mount: &str, key: &KeyHandle, profile: &Profile, at: i64) -> KeyInventoryItem {
    let p = &key.policy;
    let latest_created = p
        .versions
        .get(&p.latest_version)
        .map_or(p.last_rotated_at, |v| v.created_at);
    KeyInventoryItem {
        mount: mount.to_string(),
        name: key.record.name.clone(),
        key_type: p.key_type.name().to_string(),
        state: key.state.name().to_string(),
        versions: p.versions.len() as u64,
        latest_version: p.latest_version,
        created_at: key.record.created_at,
        latest_version_created_at: latest_created,
        // Rounded up: a key rotating every 12 hours shows 1 day.
        rotation_period_days: (p.auto_rotate_period_secs > 0)
            .then(|| p.auto_rotate_period_secs.div_ceil(DAY)),
        max_rotation_days: profile.max_rotation_days,
        rotation_status: rotation_status(latest_created, at, profile.max_rotation_days).to_string(),
    }
}

fn approval_summary(a: &Approval) -> ApprovalSummary {
    ApprovalSummary {
        id: a.id.clone(),
        operation: format!("{} {}", a.operation, a.path),
        requester: a.requester.clone(),
        status: serde_json::to_value(a.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        approvers: a.approvals.iter().map(|d| d.principal.clone()).collect(),
        rejected_by: a.rejected_by.iter().map(|d| d.principal.clone()).collect(),
        created_at: a.created_at,
        decided_at: a.decided_at,
    }
}

fn checkpoint_value(cp: &Checkpoint) -> KmsResult<serde_json::Value> {
    serde_json::to_value(cp).map_err(|_| KmsError::Internal("checkpoint did not serialise".into()))
}

fn finding_evidence(findings: &[Finding], id: &str) -> String {
    findings
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.evidence.clone())
        .unwrap_or_default()
}
