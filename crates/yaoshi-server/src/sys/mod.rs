//! `sys/*`: seal lifecycle and health (unauthenticated, as in Vault), mounts,
//! metrics, yaoshi's own principal management, and the OpenAPI document of
//! these endpoints (unauthenticated).

pub mod approvals;
pub mod audit;
pub mod backup;
pub mod compliance;
pub mod mounts;
pub mod principals;
pub mod profile;
pub mod seal;

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use audit::Endpoint;
use axum::http::StatusCode;
use yaoshi_core::auth::Action;

/// Routes `sys/<segments>`.
pub async fn dispatch(state: &AppState, call: &Call, segments: &[String]) -> ApiResult<Reply> {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["init"] => seal::init(state, call).await,
        ["unseal"] => seal::unseal(state, call).await,
        ["seal"] => seal::seal(state, call).await,
        ["seal-status"] => seal::seal_status(state, call).await,
        ["health"] => seal::health(state, call).await,
        ["leader"] => seal::leader(state, call),
        ["mounts"] => mounts::list(state, call).await,
        ["mounts", path @ ..] => mounts::mount(state, call, &path.join("/")).await,
        ["metrics"] => metrics(state, call).await,
        ["principals"] => principals::list(state, call).await,
        ["principals", name] => principals::principal(state, call, name).await,
        ["openapi"] => openapi(call),
        ["profile"] => profile::serve(state, call).await,
        ["approvals"] => approvals::list(state, call).await,
        ["approvals", id] => approvals::show(state, call, id).await,
        ["approvals", id, "approve"] => approvals::decide(state, call, id, true).await,
        ["approvals", id, "reject"] => approvals::decide(state, call, id, false).await,
        ["audit", "public-key"] => audit::serve(state, call, Endpoint::PublicKey).await,
        ["audit", "checkpoint"] => audit::serve(state, call, Endpoint::Checkpoint).await,
        ["audit", "export"] => audit::serve(state, call, Endpoint::Export).await,
        ["audit", "verify"] => audit::serve(state, call, Endpoint::Verify).await,
        ["audit", "records"] => audit::serve(state, call, Endpoint::Records).await,
        ["audit", "proof", seq] => audit::serve(state, call, Endpoint::Proof(seq)).await,
        ["audit", "consistency"] => audit::serve(state, call, Endpoint::Consistency).await,
        ["audit", "prune"] => audit::prune(state, call).await,
        ["backup"] => backup::backup(state, call).await,
        ["restore"] => backup::restore(state, call).await,
        ["compliance", "check"] => compliance::check(state, call).await,
        ["compliance", "report"] => compliance::report(state, call).await,
        _ => Err(ApiError::new(404, "unsupported path")),
    }
}

/// `GET sys/metrics` in Prometheus text format.
async fn metrics(state: &AppState, call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    let who = authenticate(state, call).await?;
    who.principal.authorize(&Action::Metrics)?;
    match call.params.str("format")?.as_deref() {
        None | Some("") | Some("prometheus") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported metrics format {other:?}: yaoshi serves format=prometheus"
            )));
        }
    }
    state.metrics.set_sealed(state.kms.is_sealed());
    state.metrics.set_audit(&state.kms.audit_health());
    Ok(Reply::text(
        "text/plain; version=0.0.4",
        state.metrics.render(),
    ))
}

/// `GET sys/openapi`: the OpenAPI document of the native endpoints, bare
/// JSON, no token needed.
fn openapi(call: &Call) -> ApiResult<Reply> {
    if call.op != Op::Read {
        return Err(ApiError::unsupported_operation());
    }
    Ok(Reply::raw(StatusCode::OK, crate::openapi::document_json()))
}
