//! yaoshi's own principal management (not part of Vault's API):
//! `LIST sys/principals`, `POST sys/principals/:name` (create, returns the
//! first token once), `GET` (read) and `DELETE` (revoke it and its tokens).
//! Creating a principal with an admin role is parked for approval when the
//! profile lists `grant-admin-role`.

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use yaoshi_core::auth::{Action, Grant, Principal, Role};
use yaoshi_core::profile::DualOp;

fn principal_json(p: &Principal) -> Value {
    json!({
        "name": p.name,
        "roles": p.roles.iter().map(|r| r.name()).collect::<Vec<_>>(),
        "grants": p.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "created_at": p.created_at,
        "created_by": p.created_by,
    })
}

/// `LIST sys/principals`.
pub async fn list(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::List {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal
        .authorize(&Action::Principals { write: false })?;
    let principals = state.kms.list_principals().await?;
    let keys: Vec<&str> = principals.iter().map(|p| p.name.as_str()).collect();
    let info: Map<String, Value> = principals
        .iter()
        .map(|p| (p.name.clone(), principal_json(p)))
        .collect();
    Ok(Reply::data(json!({ "keys": keys, "key_info": info })))
}

/// `sys/principals/:name`.
pub async fn principal(state: &AppState, call: &Call, name: &str) -> ApiResult<Reply> {
    let who = authenticate(state, call).await?;
    match call.op {
        Op::Read => {
            who.principal
                .authorize(&Action::Principals { write: false })?;
            let p = state
                .kms
                .get_principal(name)
                .await?
                .ok_or_else(ApiError::not_found)?;
            Ok(Reply::data(principal_json(&p)))
        }
        Op::Write => {
            // Refuse callers who may not create principals before looking
            // at what they asked for (403, not a 400 about a bad role).
            who.principal
                .authorize(&Action::Principals { write: true })?;
            let params = &call.params;
            let roles = params
                .str_list("roles")?
                .unwrap_or_default()
                .iter()
                .map(|r| Role::from_name(r))
                .collect::<Result<Vec<_>, _>>()?;
            let grants = params
                .str_list("grants")?
                .unwrap_or_default()
                .iter()
                .map(|g| Grant::parse(g))
                .collect::<Result<Vec<_>, _>>()?;
            // Handing out an admin role is under dual control when the
            // profile says so (the bootstrap principal, which creates the
            // first admins, is not parked).
            let grants_admin = roles.iter().any(|r| Role::ADMINS.contains(r));
            if grants_admin
                && !who.principal.has_role(Role::Bootstrap)
                && crate::dual_control::will_park(state, call, DualOp::GrantAdminRole)
            {
                state
                    .kms
                    .check_new_principal(name, roles.clone(), &grants)?;
                if state.kms.get_principal(name).await?.is_some() {
                    return Err(ApiError::bad_request(format!(
                        "principal {name:?} already exists"
                    )));
                }
                if let Some(parked) =
                    crate::dual_control::park_if_required(state, call, &who, DualOp::GrantAdminRole)
                        .await?
                {
                    return Ok(parked);
                }
            }
            let issued = state
                .kms
                .create_principal_as(
                    &who.principal,
                    name,
                    roles,
                    grants,
                    grants_admin && call.approved.is_some(),
                )
                .await?;
            let mut data = principal_json(&issued.principal);
            data["token"] = json!(issued.token.expose_secret());
            data["accessor"] = json!(issued.accessor);
            Ok(Reply::data(data).warn_unknown(params.unknown(&["roles", "grants"])))
        }
        Op::Delete => {
            who.principal
                .authorize(&Action::Principals { write: true })?;
            if state.kms.get_principal(name).await?.is_none() {
                return Err(ApiError::not_found());
            }
            state.kms.revoke_principal(&who.principal, name).await?;
            Ok(Reply::empty())
        }
        Op::List => Err(ApiError::unsupported_operation()),
    }
}
