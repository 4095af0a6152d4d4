//! `auth/token/create`, `lookup-self` and `revoke-self`: Vault's token
//! endpoints over yaoshi principals. A created token belongs to the caller's
//! principal and carries exactly its roles and grants; Vault `policies` are
//! reported as the principal's role names.

use crate::app::{AppState, authenticate};
use crate::transit::time_rfc3339;
use crate::wire::{ApiError, ApiResult, Call, Op, Reply, unix_now};
use secrecy::ExposeSecret;
use serde_json::json;

/// Routes `auth/token/<segments>`.
pub async fn dispatch(state: &AppState, call: &Call, segments: &[String]) -> ApiResult<Reply> {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["create"] | ["create-orphan"] => create(state, call).await,
        ["lookup-self"] => lookup_self(state, call).await,
        ["revoke-self"] => revoke_self(state, call).await,
        _ => Err(ApiError::new(404, "unsupported path")),
    }
}

async fn create(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    let p = &call.params;
    let ttl = p.duration_secs("ttl")?.filter(|t| *t > 0);
    let issued = state
        .kms
        .create_token(&who, ttl, p.str("display_name")?)
        .await?;
    let policies: Vec<&str> = issued.principal.roles.iter().map(|r| r.name()).collect();
    let mut reply = Reply::empty();
    reply.auth = Some(json!({
        "client_token": issued.token.expose_secret(),
        "accessor": issued.accessor,
        "policies": policies,
        "token_policies": policies,
        "metadata": { "principal": issued.principal.name },
        "lease_duration": ttl.unwrap_or(0),
        "renewable": false,
        "entity_id": "",
        "token_type": "service",
        "orphan": true,
        "mfa_requirement": null,
        "num_uses": 0,
    }));
    let mut warnings = p.unknown(&[
        "ttl",
        "display_name",
        "policies",
        "meta",
        "no_parent",
        "no_default_policy",
        "renewable",
        "explicit_max_ttl",
        "num_uses",
        "period",
        "type",
        "entity_alias",
        "id",
    ]);
    if p.has("policies") {
        warnings.push("policies (yaoshi tokens carry their principal's roles)".into());
    }
    Ok(reply.warn_unknown(warnings))
}

async fn lookup_self(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if !matches!(call.op, Op::Read | Op::Write) {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    let t = &who.token;
    let policies: Vec<&str> = who.principal.roles.iter().map(|r| r.name()).collect();
    let ttl = t.expires_at.map_or(0, |e| (e - unix_now()).max(0));
    Ok(Reply::data(json!({
        "accessor": t.accessor,
        "creation_time": t.created_at,
        "creation_ttl": t.expires_at.map_or(0, |e| e - t.created_at),
        "display_name": t.display_name,
        "entity_id": "",
        "expire_time": t.expires_at.map(time_rfc3339),
        "explicit_max_ttl": 0,
        "id": call.token.as_deref().unwrap_or_default(),
        "issue_time": time_rfc3339(t.created_at),
        "meta": { "principal": who.principal.name },
        "num_uses": 0,
        "orphan": true,
        "path": "auth/token/create",
        "policies": policies,
        "renewable": false,
        "ttl": ttl,
        "type": "service",
    })))
}

async fn revoke_self(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Write {
        return Err(ApiError::unsupported_operation());
    }
    authenticate(state, call).await?;
    let token = call
        .token
        .as_deref()
        .ok_or_else(ApiError::permission_denied)?;
    state.kms.revoke_token(token).await?;
    Ok(Reply::empty())
}
