//! Dual control at the edge (DESIGN §7): a request for an operation the
//! profile lists is parked (202 with an approval id) instead of executed;
//! once enough eligible principals approve, it is executed as the
//! requester, with its own audit record naming the approval.

use crate::app::{AppState, Route, dispatch};
use crate::audit_trail;
use crate::wire::{ApiResult, Call, Op, Params, Reply};
use serde_json::{Value, json};
use std::sync::OnceLock;
use yaoshi_core::auth::Authenticated;
use yaoshi_core::kms::approvals::{Approval, ParkRequest};
use yaoshi_core::profile::DualOp;

/// Whether [`park_if_required`] would park this request: `op` is under
/// dual control and this is not the approved execution. Handlers use it to
/// refuse, before parking, a request that could not run.
pub fn will_park(state: &AppState, call: &Call, op: DualOp) -> bool {
    call.approved.is_none() && state.kms.profile().approvals_required(op).is_some()
}

/// Parks the request when `op` is under dual control and this is not the
/// approved execution; `None` means go ahead.
pub async fn park_if_required(
    state: &AppState,
    call: &Call,
    who: &Authenticated,
    op: DualOp,
) -> ApiResult<Option<Reply>> {
    if !will_park(state, call, op) {
        return Ok(None);
    }
    let Some(required) = state.kms.profile().approvals_required(op) else {
        return Ok(None);
    };
    let approval = state
        .kms
        .park(
            &who.principal,
            ParkRequest {
                operation: op.name().to_string(),
                method: method_name(call.op).to_string(),
                path: call.path.clone(),
                params: Value::Object(call.params.fields().clone()),
                required,
            },
        )
        .await?;
    if let Some(audit) = yaoshi_core::audit::RequestAudit::current() {
        audit.update(|r| r.approval_id = Some(approval.id.clone()));
    }
    Ok(Some(Reply {
        data: Some(json!({
            "approval_id": approval.id,
            "status": "pending",
            "operation": approval.operation,
            "required_approvals": required,
        })),
        status_override: Some(202),
        ..Reply::default()
    }))
}

/// [`dispatch`] behind a box: executing an approval is itself reached
/// through `dispatch` (the approve request).
fn boxed_dispatch<'a>(
    state: &'a AppState,
    call: &'a Call,
    route: &'a mut Route,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<Reply>> + Send + 'a>> {
    Box::pin(dispatch(state, call, route))
}

fn method_name(op: Op) -> &'static str {
    match op {
        Op::Read => "read",
        Op::Write => "write",
        Op::List => "list",
        Op::Delete => "delete",
    }
}

/// Executes an approved request as its requester; records the outcome on
/// the approval. Audited as its own request (principal: the requester,
/// `approval_id` set).
pub async fn execute(state: &AppState, approval: &Approval) -> ApiResult<Approval> {
    let requester = state
        .kms
        .get_principal(&approval.requester)
        .await?
        .ok_or_else(|| {
            crate::wire::ApiError::bad_request(format!(
                "the requester {:?} no longer exists; the request cannot run",
                approval.requester
            ))
        })?;
    let op = match approval.method.as_str() {
        "read" => Op::Read,
        "list" => Op::List,
        "delete" => Op::Delete,
        _ => Op::Write,
    };
    let params = match &approval.params {
        Value::Object(map) => Params::new(map.clone()),
        _ => Params::new(serde_json::Map::new()),
    };
    let who = Authenticated {
        principal: requester,
        token: yaoshi_core::auth::TokenRecordInfo {
            accessor: format!("approval:{}", approval.id),
            display_name: approval.requester.clone(),
            created_at: approval.created_at,
            expires_at: None,
        },
    };
    let call = Call {
        op,
        path: approval.path.clone(),
        params,
        token: None,
        request_id: crate::app::uuid_v4(),
        key_type: OnceLock::new(),
        approved: Some((who.clone(), approval.id.clone())),
    };
    let mut route = Route::default();
    let result = match audit_trail::begin(&state.kms, &call, None) {
        Some(audit) => {
            audit.update(|r| {
                r.principal = Some(who.principal.name.clone());
                r.roles = who
                    .principal
                    .roles
                    .iter()
                    .map(|x| x.name().to_string())
                    .collect();
                r.approval_id = Some(approval.id.clone());
            });
            let result = audit.scope(boxed_dispatch(state, &call, &mut route)).await;
            let key_type = call.key_type.get().copied();
            audit_trail::finish(&state.kms, &audit, &route.operation, key_type, result).await
        }
        None => boxed_dispatch(state, &call, &mut route).await,
    };
    let (status, data) = match &result {
        Ok(reply) => (reply.status().as_u16(), reply.data.clone()),
        Err(e) => (e.status, Some(json!({ "errors": e.errors }))),
    };
    Ok(state
        .kms
        .finish_approval(&approval.id, status, data.as_ref())
        .await?)
}
