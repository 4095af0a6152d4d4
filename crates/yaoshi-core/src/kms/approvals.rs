//! Dual control (DESIGN §7): operations the profile lists are parked as an
//! approval request; distinct eligible principals other than the requester
//! approve or reject it; with enough approvals it is executed once.
//!
//! Stored as system entries `approval/<id>` (JSON [`Approval`]). The
//! request's parameters are kept to execute it later; the operations under
//! dual control (destroy, export, backup, profile change, admin grants,
//! audit pruning) carry no secrets in their parameters. Whoever records the
//! deciding approval claims execution with an insert-if-absent entry
//! `approval-run/<id>`, so two simultaneous approvals never execute twice.

use super::{Kms, new_id, now};
use crate::auth::Principal;
use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};

/// Prefix of approval entries.
pub const APPROVAL_ENTRY_PREFIX: &str = "approval/";
/// Prefix of the execution claims.
const RUN_ENTRY_PREFIX: &str = "approval-run/";

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    /// Waiting for approvals.
    Pending,
    /// Enough approvals; being executed.
    Approved,
    /// Refused by an eligible principal.
    Rejected,
    /// Executed; see `result_status`.
    Executed,
}

/// One principal's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Who decided.
    pub principal: String,
    /// Unix time (seconds).
    pub time: i64,
}

/// A parked request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Random identifier.
    pub id: String,
    /// The dual-control operation (`destroy-key`, `export-key`, ...).
    pub operation: String,
    /// Principal that made the request (it will run as this principal).
    pub requester: String,
    /// `read`, `write`, `list` or `delete`.
    pub method: String,
    /// Request path after `/v1/`.
    pub path: String,
    /// Request parameters.
    pub params: serde_json::Value,
    /// Approvals needed from principals other than the requester.
    pub required: u32,
    /// Approvals so far.
    pub approvals: Vec<Decision>,
    /// A rejection ends the request.
    pub rejected_by: Option<Decision>,
    /// State.
    pub status: ApprovalStatus,
    /// Unix time (seconds) of the request.
    pub created_at: i64,
    /// Unix time (seconds) of the decision that ended it.
    pub decided_at: Option<i64>,
    /// HTTP status of the execution.
    pub result_status: Option<u16>,
    /// The execution's reply (`data`), sealed by the barrier when it may
    /// carry key material; only the requester may read it.
    pub sealed_result: Option<String>,
}

/// What the request to park looks like.
#[derive(Debug, Clone)]
pub struct ParkRequest {
    /// Dual-control operation name.
    pub operation: String,
    /// `read`, `write`, `list` or `delete`.
    pub method: String,
    /// Path after `/v1/`.
    pub path: String,
    /// Parameters.
    pub params: serde_json::Value,
    /// Approvals needed.
    pub required: u32,
}

impl Kms {
    /// Parks a request by `requester`.
    pub async fn park(&self, requester: &Principal, request: ParkRequest) -> KmsResult<Approval> {
        self.unsealed()?;
        let approval = Approval {
            id: new_id()?,
            operation: request.operation,
            requester: requester.name.clone(),
            method: request.method,
            path: request.path,
            params: request.params,
            required: request.required.max(1),
            approvals: Vec::new(),
            rejected_by: None,
            status: ApprovalStatus::Pending,
            created_at: now(),
            decided_at: None,
            result_status: None,
            sealed_result: None,
        };
        self.save_approval(&approval).await?;
        Ok(approval)
    }

    /// Reads an approval request.
    pub async fn get_approval(&self, id: &str) -> KmsResult<Approval> {
        self.unsealed()?;
        let bytes = self
            .store
            .get_entry(&format!("{APPROVAL_ENTRY_PREFIX}{id}"))
            .await?
            .ok_or_else(|| KmsError::invalid(format!("no approval request {id:?}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| KmsError::Internal("stored approval is corrupt".into()))
    }

    /// Every approval request, oldest first.
    pub async fn list_approvals(&self) -> KmsResult<Vec<Approval>> {
        self.unsealed()?;
        let mut out = Vec::new();
        for entry in self.store.list_entries(APPROVAL_ENTRY_PREFIX).await? {
            let id = &entry[APPROVAL_ENTRY_PREFIX.len()..];
            out.push(self.get_approval(id).await?);
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    /// Records `by`'s decision. `eligible` says whether `by` may decide
    /// (the front end checks that `by` could perform the operation itself).
    /// Returns the approval and whether this call must execute it now.
    pub async fn decide_approval(
        &self,
        id: &str,
        by: &Principal,
        approve: bool,
        eligible: bool,
    ) -> KmsResult<(Approval, bool)> {
        let mut approval = self.get_approval(id).await?;
        if approval.status != ApprovalStatus::Pending {
            return Err(KmsError::refused(format!(
                "approval request {id} is {}, not pending",
                serde_json::to_value(approval.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )));
        }
        if by.name == approval.requester {
            return Err(KmsError::refused(
                "the requester cannot approve or reject its own request",
            ));
        }
        if !eligible {
            return Err(KmsError::PermissionDenied);
        }
        if approval.approvals.iter().any(|d| d.principal == by.name) {
            return Err(KmsError::refused(format!(
                "{} has already approved request {id}",
                by.name
            )));
        }
        let decision = Decision {
            principal: by.name.clone(),
            time: now(),
        };
        let mut execute = false;
        if approve {
            approval.approvals.push(decision);
            if approval.approvals.len() as u32 >= approval.required {
                // Only the caller that claims the run executes it.
                execute = self
                    .store
                    .insert_entry(&format!("{RUN_ENTRY_PREFIX}{id}"), by.name.as_bytes())
                    .await?;
                if execute {
                    approval.status = ApprovalStatus::Approved;
                    approval.decided_at = Some(now());
                }
            }
        } else {
            approval.rejected_by = Some(decision);
            approval.status = ApprovalStatus::Rejected;
            approval.decided_at = Some(now());
        }
        self.save_approval(&approval).await?;
        Ok((approval, execute))
    }

    /// Records the execution's outcome; `result` (the reply's data) is
    /// sealed under the barrier.
    pub async fn finish_approval(
        &self,
        id: &str,
        status: u16,
        result: Option<&serde_json::Value>,
    ) -> KmsResult<Approval> {
        let unsealed = self.unsealed()?;
        let mut approval = self.get_approval(id).await?;
        approval.status = ApprovalStatus::Executed;
        approval.result_status = Some(status);
        if let Some(data) = result {
            let name = format!("{APPROVAL_ENTRY_PREFIX}{id}");
            let sealed = unsealed.root.seal(
                unsealed.barrier,
                crate::barrier::Binding::Entry {
                    namespace: "approval",
                    name: &name,
                },
                data.to_string().as_bytes(),
            )?;
            approval.sealed_result = Some(hex::encode(sealed));
        }
        self.save_approval(&approval).await?;
        Ok(approval)
    }

    /// The execution's reply, for the requester only.
    pub async fn approval_result(
        &self,
        id: &str,
        by: &Principal,
    ) -> KmsResult<Option<serde_json::Value>> {
        let unsealed = self.unsealed()?;
        let approval = self.get_approval(id).await?;
        if approval.requester != by.name {
            return Err(KmsError::PermissionDenied);
        }
        let Some(sealed) = &approval.sealed_result else {
            return Ok(None);
        };
        let sealed = hex::decode(sealed)
            .map_err(|_| KmsError::Internal("stored approval result is corrupt".into()))?;
        let name = format!("{APPROVAL_ENTRY_PREFIX}{id}");
        let plain = unsealed.root.open(
            crate::barrier::Binding::Entry {
                namespace: "approval",
                name: &name,
            },
            &sealed,
        )?;
        serde_json::from_slice(plain.expose())
            .map(Some)
            .map_err(|_| KmsError::Internal("stored approval result is corrupt".into()))
    }

    async fn save_approval(&self, approval: &Approval) -> KmsResult<()> {
        let bytes = serde_json::to_vec(approval)
            .map_err(|_| KmsError::Internal("approval did not serialise".into()))?;
        self.store
            .put_entry(&format!("{APPROVAL_ENTRY_PREFIX}{}", approval.id), &bytes)
            .await?;
        Ok(())
    }
}
