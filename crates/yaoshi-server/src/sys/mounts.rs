//! `sys/mounts` (list) and `sys/mounts/:path` (read, enable, disable).
//! Vault answers the list and reads with the mount map both at the top level
//! and inside the envelope's `data`; yaoshi does the same.

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use yaoshi_core::auth::Action;
use yaoshi_core::kms::mounts::Mount;

fn mount_json(m: &Mount) -> Value {
    json!({
        "accessor": m.accessor,
        "config": { "default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0 },
        "description": m.description,
        "external_entropy_access": false,
        "local": false,
        "options": null,
        "plugin_version": "",
        "running_plugin_version": "",
        "running_sha256": "",
        "seal_wrap": false,
        "type": m.kind,
        "uuid": m.uuid,
    })
}

/// Vault's shape: the object at the top level plus the envelope around it.
fn flattened(request_id: &str, data: Map<String, Value>) -> Reply {
    let mut body = data.clone();
    body.insert("request_id".into(), json!(request_id));
    body.insert("lease_id".into(), json!(""));
    body.insert("renewable".into(), json!(false));
    body.insert("lease_duration".into(), json!(0));
    body.insert("data".into(), Value::Object(data));
    body.insert("wrap_info".into(), Value::Null);
    body.insert("warnings".into(), Value::Null);
    body.insert("auth".into(), Value::Null);
    Reply::raw(StatusCode::OK, Value::Object(body))
}

/// `GET sys/mounts`.
pub async fn list(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Mounts { write: false })?;
    let mut data = Map::new();
    for m in state.kms.list_mounts().await? {
        data.insert(m.path.clone(), mount_json(&m));
    }
    Ok(flattened(&call.request_id, data))
}

/// `sys/mounts/:path` with GET, POST/PUT or DELETE.
pub async fn mount(state: &AppState, call: &Call, path: &str) -> ApiResult<Reply> {
    let who = authenticate(state, call).await?;
    let p = &call.params;
    match call.op {
        Op::Read => {
            who.principal.authorize(&Action::Mounts { write: false })?;
            let normalised = format!("{}/", path.trim_end_matches('/'));
            let found = state
                .kms
                .list_mounts()
                .await?
                .into_iter()
                .find(|m| m.path == normalised)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("No secret engine mount at {normalised}"))
                })?;
            match mount_json(&found) {
                Value::Object(m) => Ok(flattened(&call.request_id, m)),
                _ => unreachable!("mount_json builds an object"),
            }
        }
        Op::Write => {
            who.principal.authorize(&Action::Mounts { write: true })?;
            let kind = p.str("type")?.filter(|t| !t.is_empty()).ok_or_else(|| {
                ApiError::bad_request("backend type must be specified as a string")
            })?;
            if kind != "transit" {
                return Err(ApiError::bad_request(format!(
                    "plugin not found in the catalog: {kind} (yaoshi mounts only transit)"
                )));
            }
            let description = p.str_or("description", "")?;
            state.kms.enable_mount(path, &kind, &description).await?;
            Ok(Reply::empty().warn_unknown(p.unknown(&[
                "type",
                "description",
                "config",
                "options",
                "local",
                "seal_wrap",
                "external_entropy_access",
                "plugin_version",
                "path",
            ])))
        }
        Op::Delete => {
            who.principal.authorize(&Action::Mounts { write: true })?;
            state.kms.disable_mount(path).await?;
            Ok(Reply::empty())
        }
        Op::List => Err(ApiError::unsupported_operation()),
    }
}
