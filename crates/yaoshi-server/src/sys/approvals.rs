//! `sys/approvals/*`: parked dual-control requests. Anyone who may see
//! approvals lists and reads them; a principal that could perform the
//! parked operation itself, other than the requester, approves or rejects;
//! the approval that completes the quorum executes the request.

use crate::app::{AppState, authenticate, segments};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use serde_json::{Value, json};
use yaoshi_core::auth::{Action, Authenticated};
use yaoshi_core::kms::approvals::Approval;
use yaoshi_core::profile::DualOp;

fn view(approval: &Approval) -> Value {
    let mut v = serde_json::to_value(approval).unwrap_or(Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.remove("sealed_result");
        map.remove("params");
    }
    v
}

/// `LIST sys/approvals`.
pub async fn list(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if !matches!(call.op, Op::List) {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Approvals)?;
    let all = state.kms.list_approvals().await?;
    let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
    let info: serde_json::Map<String, Value> =
        all.iter().map(|a| (a.id.clone(), view(a))).collect();
    Ok(Reply::data(json!({ "keys": ids, "key_info": info })))
}

/// `GET sys/approvals/:id`; the requester also sees the execution's reply.
pub async fn show(state: &AppState, call: &Call, id: &str) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Approvals)?;
    let approval = state.kms.get_approval(id).await?;
    let mut out = view(&approval);
    if approval.requester == who.principal.name
        && let Some(result) = state.kms.approval_result(id, &who.principal).await?
    {
        out["result"] = result;
    }
    Ok(Reply::data(out))
}

/// `POST sys/approvals/:id/approve` and `.../reject`.
pub async fn decide(state: &AppState, call: &Call, id: &str, approve: bool) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Approvals)?;
    let approval = state.kms.get_approval(id).await?;
    let eligible = may_perform(state, &who, &approval).await?;
    let (decided, execute) = state
        .kms
        .decide_approval(id, &who.principal, approve, eligible)
        .await?;
    let done = if execute {
        crate::dual_control::execute(state, &decided).await?
    } else {
        decided
    };
    Ok(Reply::data(view(&done)))
}

/// Whether `who` could perform the parked operation itself.
async fn may_perform(
    state: &AppState,
    who: &Authenticated,
    approval: &Approval,
) -> ApiResult<bool> {
    let Some(op) = DualOp::from_name(&approval.operation) else {
        return Ok(false);
    };
    if !op.is_key_operation() {
        return Ok(who.principal.authorize(&op.approver_action("", "")).is_ok());
    }
    let Some((mount, rest)) = state.kms.find_mount(&approval.path).await? else {
        return Ok(false);
    };
    let segs = segments(&rest)?;
    let key = match (op, segs.as_slice()) {
        // export/:kind/:name[/:version]
        (DualOp::ExportKey, [_, _, name, _]) => name,
        (_, [.., last]) => last,
        (_, []) => return Ok(false),
    };
    Ok(who
        .principal
        .authorize(&op.approver_action(&mount.path, key))
        .is_ok())
}
