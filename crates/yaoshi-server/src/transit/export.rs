//! `export/:type/:name[/:version]`, `backup/:name` and `restore[/:name]`
//! (OpenBao's `path_export.go`, `path_backup.go`, `path_restore.go`).

use super::Ctx;
use super::crypt::required;
use crate::wire::{ApiError, ApiResult, Reply};
use serde_json::{Map, json};
use yaoshi_core::kms::export::ExportKind;
use yaoshi_core::profile::DualOp;

/// Refuses an export or backup whose `destination` (a declared backup
/// target) lies outside the profile's allowed locations, or that names no
/// destination when the profile restricts locations (checked before the
/// request can be parked for approval).
fn check_destination(ctx: &Ctx<'_>, what: &str) -> ApiResult<()> {
    let destination = ctx.call.params.str("destination")?;
    ctx.kms()
        .options()
        .residency
        .check_destination(&ctx.kms().profile(), what, destination.as_deref())
        .map(|_| ())
        .map_err(|v| ApiError::from(yaoshi_core::KmsError::from(v)))
}

/// `GET export/:type/:name[/:version]`.
pub async fn export(
    ctx: &Ctx<'_>,
    kind: &str,
    name: &str,
    version: Option<&str>,
) -> ApiResult<Reply> {
    ctx.require_read()?;
    let kind_parsed = ExportKind::from_name(kind)?;
    if kind_parsed == ExportKind::PublicKey {
        ctx.authorize_use(name, yaoshi_core::auth::KeyOp::Read)?;
    } else {
        ctx.authorize_material(name)?;
        check_destination(ctx, "export")?;
        if let Some(parked) =
            crate::dual_control::park_if_required(ctx.state, ctx.call, ctx.who, DualOp::ExportKey)
                .await?
        {
            return Ok(parked);
        }
    }
    let version = match version {
        None | Some("") => None,
        Some("latest") => Some(
            ctx.kms()
                .read_key(ctx.namespace(), name)
                .await?
                .policy
                .latest_version,
        ),
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ApiError::bad_request("could not parse version"))?,
        ),
    };
    let info = ctx.kms().read_key(ctx.namespace(), name).await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    let exported = ctx
        .kms()
        .export(ctx.namespace(), name, kind_parsed, version)
        .await?;
    let keys: Map<String, serde_json::Value> = exported
        .iter()
        .map(|(v, text)| (v.to_string(), json!(text.as_str())))
        .collect();
    Ok(Reply::data(json!({
        "name": name,
        "type": info.policy.key_type.name(),
        "keys": keys,
    })))
}

/// `GET backup/:name`.
pub async fn backup(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_read()?;
    ctx.authorize_material(name)?;
    check_destination(ctx, "backup")?;
    if let Some(parked) =
        crate::dual_control::park_if_required(ctx.state, ctx.call, ctx.who, DualOp::BackupKey)
            .await?
    {
        return Ok(parked);
    }
    let backup = ctx.kms().backup_key(ctx.namespace(), name).await?;
    Ok(Reply::data(json!({ "backup": backup.as_str() })))
}

/// `POST restore[/:name]`.
pub async fn restore(ctx: &Ctx<'_>, name: Option<&str>) -> ApiResult<Reply> {
    ctx.require_write()?;
    let p = &ctx.call.params;
    let target = match name {
        Some(n) => Some(n.to_string()),
        None => p.str("name")?.filter(|n| !n.is_empty()),
    };
    ctx.authorize_manage(target.as_deref().unwrap_or("*"))?;
    let backup = required(p, "backup")?;
    let info = ctx
        .kms()
        .restore_key(
            ctx.namespace(),
            target.as_deref(),
            &backup,
            p.flag("force")?,
        )
        .await?;
    // A restore without a name takes the backup's; check the caller may
    // manage that key too (a pattern-scoped principal must not escape it).
    if target.is_none() {
        ctx.authorize_manage(&info.name)?;
    }
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::empty().warn_unknown(p.unknown(&["backup", "name", "force"])))
}
