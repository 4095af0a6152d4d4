//! `sys/compliance/*`: the live deployment judged against the profile in
//! force (`check`) and the monthly report (`report?month=YYYY-MM`), both as
//! JSON in the envelope's `data`. Roles: root, audit-admin, auditor (the
//! audit-reading right); the CLI renders the report's HTML.

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use serde::Serialize;
use yaoshi_core::auth::Action;

/// `GET sys/compliance/check`: every finding, in a stable order.
pub async fn check(state: &AppState, call: &Call) -> ApiResult<Reply> {
    authorise(state, call).await?;
    let result = state.kms.compliance_check().await?;
    Ok(data(&result)?.warn_unknown(call.params.unknown(&[])))
}

/// `GET sys/compliance/report?month=YYYY-MM`: the monthly report.
pub async fn report(state: &AppState, call: &Call) -> ApiResult<Reply> {
    authorise(state, call).await?;
    let month = call.params.str("month")?.ok_or_else(|| {
        ApiError::bad_request("month is required: month=YYYY-MM (UTC), e.g. 2026-11")
    })?;
    let report = state.kms.compliance_report(&month).await?;
    Ok(data(&report)?.warn_unknown(call.params.unknown(&["month"])))
}

/// Reads only, by principals that may read the audit log.
async fn authorise(state: &AppState, call: &Call) -> ApiResult<()> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Audit { write: false })?;
    Ok(())
}

fn data(value: &impl Serialize) -> ApiResult<Reply> {
    serde_json::to_value(value)
        .map(Reply::data)
        .map_err(|e| ApiError::new(500, format!("the answer did not serialise: {e}")))
}
