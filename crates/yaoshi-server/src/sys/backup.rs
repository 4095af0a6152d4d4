//! `GET sys/backup` (whole-deployment backup, sealed under the root key and
//! signed) and `POST sys/restore` (stage a backup into an empty store; the
//! next unseal with the original quorum applies it). See
//! `yaoshi_core::kms::backup_ops` and docs/operations.md.

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use axum::http::StatusCode;
use serde_json::json;
use yaoshi_core::auth::Action;

/// Content type of a backup file.
const BACKUP_CONTENT_TYPE: &str = "application/x-yaoshi-backup";

/// `GET sys/backup?destination=T` (roles: root, sys-admin): the backup file.
/// `destination` names the backup target it is taken for and follows the
/// profile's residency rules (required when the profile restricts
/// locations).
pub async fn backup(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Backup)?;
    let kms = &state.kms;
    let destination = call.params.str("destination")?;
    let target = kms
        .options()
        .residency
        .check_destination(&kms.profile(), "backup", destination.as_deref())
        .map_err(yaoshi_core::KmsError::from)?;
    let file = kms.backup(target.map(|t| t.name.as_str())).await?;
    let text = String::from_utf8(file.to_bytes())
        .map_err(|_| ApiError::new(500, "backup file is not text"))?;
    Ok(Reply::text(BACKUP_CONTENT_TYPE, text))
}

/// `POST sys/restore` with `{"backup": "<file text>"}`: only on a store that
/// was never initialised (no token exists there yet, as for `sys/init`).
/// Answers the seal status to expect and the backup's header; the node
/// stays sealed until unsealed with the backup's quorum.
pub async fn restore(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    let file = call
        .params
        .str("backup")?
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad_request("backup is required: the backup file's text"))?;
    let header = state.kms.stage_restore(file.as_bytes()).await?;
    let status = state.kms.seal_status().await?;
    Ok(Reply::raw(
        StatusCode::OK,
        json!({
            "initialized": status.initialized,
            "sealed": status.sealed,
            "type": status.seal_type,
            "t": status.threshold,
            "n": status.shares,
            "backup": header,
        }),
    ))
}
