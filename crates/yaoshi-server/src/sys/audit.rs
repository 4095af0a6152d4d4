//! `sys/audit/*`: the audit log for auditors: public key, latest signed
//! checkpoint, export (JSON Lines), online verification, the latest
//! records, inclusion and consistency proofs; and pruning under the
//! retention rule.

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use serde_json::{Value, json};
use yaoshi_core::auth::Action;

/// Which `sys/audit/*` endpoint.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint<'a> {
    /// `GET sys/audit/public-key`.
    PublicKey,
    /// `GET sys/audit/checkpoint`.
    Checkpoint,
    /// `GET sys/audit/export`.
    Export,
    /// `POST sys/audit/verify`.
    Verify,
    /// `GET sys/audit/records`.
    Records,
    /// `GET sys/audit/proof/:seq`.
    Proof(&'a str),
    /// `GET sys/audit/consistency`.
    Consistency,
}

/// Serves one `sys/audit/*` endpoint (roles: root, audit-admin, auditor).
pub async fn serve(state: &AppState, call: &Call, endpoint: Endpoint<'_>) -> ApiResult<Reply> {
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Audit { write: false })?;
    let kms = &state.kms;
    let read = || {
        if call.op == Op::Read {
            Ok(())
        } else {
            Err(ApiError::unsupported_operation())
        }
    };
    match endpoint {
        Endpoint::PublicKey => {
            read()?;
            let key = kms.audit_public_key().await?;
            Ok(Reply::data(json!({
                "public_key": key.to_pem().map_err(|e| ApiError::new(500, e.to_string()))?,
                "algorithm": key.algorithm().name(),
                "key_id": key.key_id(),
            })))
        }
        Endpoint::Checkpoint => {
            read()?;
            // The latest, signing one first if records arrived since.
            let cp = kms.checkpoint_now().await?;
            Ok(Reply::data(json!({ "checkpoint": cp })))
        }
        Endpoint::Export => {
            read()?;
            let from = call.params.int("from")?;
            if from.is_some_and(|f| f < 1) {
                return Err(ApiError::bad_request("from must be at least 1"));
            }
            // Checkpoint first so the export ends with a signed tree head.
            kms.checkpoint_now().await?;
            let text = kms.audit_export(from).await?;
            Ok(Reply::text("application/jsonl", text))
        }
        Endpoint::Verify => {
            if call.op != Op::Write {
                return Err(ApiError::unsupported_operation());
            }
            kms.checkpoint_now().await?;
            let outcome = kms.verify_stored_audit().await?;
            Ok(Reply::data(match outcome {
                Ok(report) => json!({ "verified": true, "report": report }),
                Err(failure) => json!({
                    "verified": false,
                    "first_bad_seq": failure.seq,
                    "reason": failure.reason,
                    "message": failure.to_string(),
                }),
            }))
        }
        Endpoint::Records => {
            read()?;
            let limit = call.params.int("limit")?.unwrap_or(20).clamp(1, 5000);
            let from = match call.params.int("from")? {
                Some(f) if f >= 1 => f,
                Some(_) => return Err(ApiError::bad_request("from must be at least 1")),
                None => {
                    let head = kms
                        .store()
                        .audit_head()
                        .await
                        .map_err(yaoshi_core::KmsError::from)?;
                    (head.last_seq - limit + 1).max(1)
                }
            };
            let records = kms.audit_records(from, limit).await?;
            Ok(Reply::data(json!({ "records": records })))
        }
        Endpoint::Proof(seq) => {
            read()?;
            let seq: u64 = seq
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid sequence number {seq:?}")))?;
            let proof = kms.audit_inclusion_proof(seq).await?;
            Ok(Reply::data(
                serde_json::to_value(proof).unwrap_or(Value::Null),
            ))
        }
        Endpoint::Consistency => {
            read()?;
            let size = |name: &str| -> ApiResult<u64> {
                call.params
                    .int(name)?
                    .filter(|n| *n >= 0)
                    .map(|n| n as u64)
                    .ok_or_else(|| ApiError::bad_request(format!("{name} is required")))
            };
            let proof = kms
                .audit_consistency_proof(size("old_size")?, size("new_size")?)
                .await?;
            Ok(Reply::data(
                serde_json::to_value(proof).unwrap_or(Value::Null),
            ))
        }
    }
}

/// `POST sys/audit/prune` (roles: root, audit-admin): removes the records
/// the retention rule lets go, up to a signed checkpoint (`before_seq`
/// limits it), after writing and verifying an archive of them on the
/// backup target `destination` (which must lie inside the allowed
/// locations and have a directory). Parked for approval when the profile
/// lists `prune-audit`.
pub async fn prune(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Audit { write: true })?;
    let kms = &state.kms;
    let params = &call.params;
    let destination = params.str("destination")?;
    if destination.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(
            "destination is required: the backup target (with a directory) that receives the archive of the pruned records",
        ));
    }
    let target = kms
        .options()
        .residency
        .check_destination(&kms.profile(), "audit archive", destination.as_deref())
        .map_err(yaoshi_core::KmsError::from)?
        .cloned()
        .ok_or_else(|| ApiError::bad_request("destination is required"))?;
    let before_seq = params.int("before_seq")?;
    // Refuse what cannot be done before asking anyone to approve it.
    yaoshi_core::kms::audit_prune::archive_dir(&target)?;
    let plan = kms.plan_audit_prune(before_seq, 0).await?;
    if let Some(parked) = crate::dual_control::park_if_required(
        state,
        call,
        &who,
        yaoshi_core::profile::DualOp::PruneAudit,
    )
    .await?
    {
        return Ok(parked);
    }
    let outcome = kms.prune_audit(plan, &target).await?;
    Ok(
        Reply::data(serde_json::to_value(&outcome).unwrap_or(Value::Null))
            .warn_unknown(params.unknown(&["destination", "before_seq"])),
    )
}
