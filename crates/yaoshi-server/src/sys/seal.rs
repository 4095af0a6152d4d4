//! `sys/init`, `sys/unseal`, `sys/seal`, `sys/seal-status`, `sys/health` and
//! `sys/leader`, with Vault's bodies and status codes.

use crate::app::{AppState, authenticate};
use crate::scheduler::Role;
use crate::wire::params::decode_base64;
use crate::wire::{ApiError, ApiResult, Call, Op, Params, Reply, unix_now};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use yaoshi_core::KmsError;
use yaoshi_core::auth::Action;
use yaoshi_core::kms::{InitRequest, InitSeal, SealStatus};

/// The version string reported by health and seal status.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET sys/init` (status) and `PUT sys/init` (initialise with Shamir, or
/// with the node's device seal: then `keys` and `keys_base64` are empty, as
/// in Vault with auto-unseal, and the node comes up unsealed).
pub async fn init(state: &AppState, call: &Call) -> ApiResult<Reply> {
    match call.op {
        Op::Read => {
            let status = state.kms.seal_status().await?;
            Ok(Reply::raw(
                StatusCode::OK,
                json!({ "initialized": status.initialized }),
            ))
        }
        Op::Write => {
            let p = &call.params;
            for unsupported in ["pgp_keys", "root_token_pgp_key", "recovery_shares"] {
                if p.has(unsupported) {
                    return Err(ApiError::bad_request(format!(
                        "{unsupported} is not supported by yaoshi"
                    )));
                }
            }
            // Held until init is done (the periodic auto-unseal waits).
            let _initialising = match &state.device_seal {
                Some(device) => Some(device.begin_init().await),
                None => None,
            };
            let seal = match &state.device_seal {
                // Vault ignores the share counts under auto-unseal too.
                Some(device) => {
                    // Checked before the device may generate a key.
                    if state.kms.seal_status().await?.initialized {
                        return Err(KmsError::AlreadyInitialized.into());
                    }
                    let wrapper = device
                        .wrapper_for_init()
                        .await
                        .map_err(|e| ApiError::new(500, e.to_string()))?;
                    InitSeal::Device(wrapper)
                }
                None => shamir_seal(p)?,
            };
            let result = state
                .kms
                .init(InitRequest {
                    seal,
                    root_token: None,
                })
                .await?;
            let hex: Vec<String> = result
                .shares
                .iter()
                .map(|s| hex::encode(s.expose()))
                .collect();
            let b64: Vec<String> = result
                .shares
                .iter()
                .map(|s| STANDARD.encode(s.expose()))
                .collect();
            Ok(Reply::raw(
                StatusCode::OK,
                json!({
                    "keys": hex,
                    "keys_base64": b64,
                    "root_token": result.root_token.expose_secret(),
                }),
            ))
        }
        _ => Err(ApiError::unsupported_operation()),
    }
}

/// The Shamir seal `secret_shares` and `secret_threshold` ask for.
fn shamir_seal(p: &Params) -> ApiResult<InitSeal> {
    let shares = p.int("secret_shares")?.unwrap_or(5);
    let threshold = p.int("secret_threshold")?.unwrap_or(3);
    let in_range = |n: i64| (1..=255).contains(&n);
    if !in_range(shares) || !in_range(threshold) || threshold > shares {
        return Err(ApiError::bad_request(
            "secret_shares must be 1 to 255 and secret_threshold 1 to secret_shares",
        ));
    }
    Ok(InitSeal::Shamir {
        shares: shares as u8,
        threshold: threshold as u8,
    })
}

/// `PUT sys/unseal`: one share (hex or base64), or `reset`.
pub async fn unseal(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    let p = &call.params;
    let status = if p.flag("reset")? {
        state.kms.unseal_reset().await?
    } else {
        let key = p.str("key")?.filter(|k| !k.is_empty()).ok_or_else(|| {
            ApiError::bad_request(
                "'key' must be specified in request body as JSON, or 'reset' set to true",
            )
        })?;
        let share = hex::decode(key.trim())
            .ok()
            .or_else(|| decode_base64(&key))
            .ok_or_else(|| ApiError::bad_request("'key' must be a valid hex or base64 string"))?;
        state.kms.unseal(&share).await?
    };
    Ok(Reply::raw(StatusCode::OK, status_json(state, &status)))
}

/// `PUT sys/seal` (sys-admin). A device-sealed node then stays sealed until
/// its process restarts (it does not unseal itself again; shares do not
/// apply to it).
pub async fn seal(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Seal)?;
    if let Some(device) = &state.device_seal {
        device.sealed_by_operator();
    }
    state.kms.seal();
    Ok(Reply::empty())
}

/// `GET sys/seal-status`.
pub async fn seal_status(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let status = state.kms.seal_status().await?;
    Ok(Reply::raw(StatusCode::OK, status_json(state, &status)))
}

fn status_json(state: &AppState, s: &SealStatus) -> Value {
    let mut body = json!({
        // Before init: the seal this node would initialise with.
        "type": s.seal_type.clone().unwrap_or_else(|| {
            let kind = state.device_seal.as_ref().map(|d| d.kind());
            kind.unwrap_or("shamir").into()
        }),
        "initialized": s.initialized,
        "sealed": s.sealed,
        "t": s.threshold,
        "n": s.shares,
        "progress": s.progress,
        "nonce": s.nonce,
        "recovery_seal": false,
        "version": VERSION,
        "commit_date": "",
        "migration": false,
        "storage_type": state.storage_type,
    });
    if !s.sealed {
        body["cluster_name"] = json!("yaoshi");
        body["cluster_id"] = json!(state.cluster_id);
    }
    body
}

/// `GET sys/health`: 200 active, 503 sealed, 501 uninitialised, overridable
/// with `activecode`, `sealedcode`, `uninitcode` as in Vault.
pub async fn health(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let status = state.kms.seal_status().await?;
    let p = &call.params;
    let code = |name: &str, default: u16| -> ApiResult<u16> {
        match p.int(name)? {
            None => Ok(default),
            Some(c) if (100..600).contains(&c) => Ok(c as u16),
            Some(_) => Err(ApiError::bad_request(format!("invalid {name}"))),
        }
    };
    let audit = state.kms.audit_health();
    let status_code = if !status.initialized {
        code("uninitcode", 501)?
    } else if status.sealed {
        code("sealedcode", 503)?
    } else if !audit.healthy {
        // Fail-closed: a node that cannot write its audit log serves nothing.
        503
    } else {
        code("activecode", 200)?
    };
    let now = unix_now();
    let mut body = json!({
        "initialized": status.initialized,
        "sealed": status.sealed,
        "standby": status.sealed,
        "replication_performance_mode": if status.sealed { "unknown" } else { "disabled" },
        "replication_dr_mode": if status.sealed { "unknown" } else { "disabled" },
        "server_time_utc": now,
        "version": VERSION,
    });
    let (ha, store) = ha_json(state, now);
    body["ha"] = ha;
    body["store"] = store;
    if !audit.healthy {
        body["audit"] = json!({
            "healthy": false,
            "error": audit.error,
            "failed_records": audit.failures,
        });
    }
    if !status.sealed {
        body["cluster_name"] = json!("yaoshi");
        body["cluster_id"] = json!(state.cluster_id);
    }
    let status = StatusCode::from_u16(status_code).unwrap_or(StatusCode::OK);
    Ok(Reply::raw(status, body))
}

/// `GET sys/leader`: every yaoshi node serves requests itself (no standby
/// forwarding); `is_self` says whether this node holds the scheduler lease
/// and runs scheduled work, `leader_node` which node does.
pub fn leader(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let now = unix_now();
    let scheduler = &state.scheduler;
    Ok(Reply::raw(
        StatusCode::OK,
        json!({
            "ha_enabled": true,
            "is_self": scheduler.role(now) == Role::Leader,
            "leader_address": "",
            "leader_cluster_address": "",
            "performance_standby": false,
            "performance_standby_last_remote_wal": 0,
            "leader_node": scheduler.leader_node(now),
        }),
    ))
}

/// The `ha` and `store` objects of `sys/health`: this node's role under the
/// scheduler lease, and whether its last lease attempt reached the store.
fn ha_json(state: &AppState, now: i64) -> (Value, Value) {
    let scheduler = &state.scheduler;
    let view = scheduler.view();
    let ha = json!({
        "role": scheduler.role(now).name(),
        "leader_node": scheduler.leader_node(now),
    });
    let mut store = json!({
        "type": state.storage_type,
        "reachable": view.store_error.is_none(),
    });
    if let Some(e) = view.store_error {
        store["error"] = json!(e);
    }
    (ha, store)
}
