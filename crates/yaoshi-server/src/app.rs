//! The HTTP application: turns every `/v1/...` request into a [`Call`],
//! routes it to `sys/*`, `auth/token/*` or the Transit engine under a mount,
//! and renders Vault's envelope. Records metrics and one log line per
//! request: at debug, or warn for a 5xx (never tokens, bodies or key
//! material).

use crate::metrics::Metrics;
use crate::wire::params::decode_path_segment;
use crate::wire::{ApiError, ApiResult, Call, Op, Params, Reply};
use crate::{audit_trail, auth_token, sys, transit};
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use yaoshi_core::Kms;
use yaoshi_core::auth::Authenticated;

/// Largest request body accepted (Vault's default), answered with 413 beyond.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// State shared by all requests.
pub struct AppState {
    /// The service.
    pub kms: Arc<Kms>,
    /// Request metrics.
    pub metrics: Metrics,
    /// Storage back end name (`sqlite`, `postgres`).
    pub storage_type: &'static str,
    /// Random cluster identity shown by health and seal status.
    pub cluster_id: String,
    /// How long a client may take to send a request body (408 after).
    pub body_timeout: std::time::Duration,
    /// The scheduler lease, as this node sees it.
    pub scheduler: Arc<crate::scheduler::Scheduler>,
    /// The device seal (`[seal.pkcs11]`); `None` for Shamir.
    pub device_seal: Option<Arc<crate::device_seal::DeviceSeal>>,
}

/// The axum router: everything goes through [`handle`].
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Where a request went, for metrics and logs.
#[derive(Default)]
pub(crate) struct Route {
    pub(crate) operation: String,
}

async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid_v4();
    let method = request.method().clone();
    let mut route = Route {
        operation: "unknown".into(),
    };
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string());
    let (call, result) = match decode(request, &request_id, state.body_timeout).await {
        Ok(call) => {
            let result = match audit_trail::begin(&state.kms, &call, client) {
                Some(audit) => {
                    let result = audit.scope(dispatch(&state, &call, &mut route)).await;
                    let key_type = call.key_type.get().copied();
                    audit_trail::finish(&state.kms, &audit, &route.operation, key_type, result)
                        .await
                }
                None => dispatch(&state, &call, &mut route).await,
            };
            (Some(call), result)
        }
        Err(e) => (None, Err(e)),
    };
    let key_type = call
        .as_ref()
        .and_then(|c| c.key_type.get().copied())
        .unwrap_or("");
    let (mut response, status) = match result {
        Ok(reply) => {
            let status = reply.status().as_u16();
            (reply.into_response(&request_id), status)
        }
        Err(e) => {
            let status = e.status;
            (e.into_response(), status)
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    let elapsed = started.elapsed();
    state
        .metrics
        .record(&route.operation, key_type, status, elapsed);
    // Failures at warn, every other request at debug: the audit trail
    // already records each request, and a line per request at info cost
    // about 5% of a single-item encrypt's CPU (docs/operations.md#logs).
    macro_rules! request_line {
        ($level:ident) => {
            tracing::$level!(
                request_id = %request_id,
                method = %method,
                operation = %route.operation,
                key_type,
                status,
                duration_us = elapsed.as_micros() as u64,
                "request"
            )
        };
    }
    if status >= 500 {
        request_line!(warn);
    } else {
        request_line!(debug);
    }
    response
}

/// Builds a [`Call`] from the HTTP request: method mapping, token, body.
async fn decode(
    request: Request,
    request_id: &str,
    body_timeout: std::time::Duration,
) -> ApiResult<Call> {
    let (parts, body) = request.into_parts();
    let query = parts.uri.query().unwrap_or("").to_string();
    let list_query = query.split('&').any(|p| p == "list=true" || p == "list=1");
    let op = match parts.method.as_str() {
        "GET" | "HEAD" if list_query => Op::List,
        "GET" | "HEAD" => Op::Read,
        "PUT" | "POST" => Op::Write,
        "DELETE" => Op::Delete,
        "LIST" => Op::List,
        _ => return Err(ApiError::new(405, "unsupported method")),
    };
    let path = parts
        .uri
        .path()
        .strip_prefix("/v1/")
        .ok_or_else(|| ApiError::new(404, "paths start with /v1/"))?
        .trim_matches('/')
        .to_string();
    let bytes = tokio::time::timeout(body_timeout, read_body(&parts.headers, body))
        .await
        .map_err(|_| {
            ApiError::new(
                408,
                format!(
                    "request body not received within {} s",
                    body_timeout.as_secs()
                ),
            )
        })??;
    let mut params = Params::from_body(&bytes)?;
    if matches!(op, Op::Read | Op::List) {
        params.merge_query(&query);
    }
    Ok(Call {
        op,
        path,
        params,
        token: token(&parts.headers),
        request_id: request_id.to_string(),
        key_type: OnceLock::new(),
        approved: None,
    })
}

/// Reads the whole body, up to [`MAX_BODY_BYTES`].
///
/// A declared `Content-Length` beyond the limit is refused (413) before a
/// byte is read, so a client cannot hold a request open by announcing a body
/// it never sends; a chunked body is refused as soon as it crosses the
/// limit. A body that ends early or is malformed (bad chunk framing) is the
/// client's fault too, but not a size problem: 400.
async fn read_body(headers: &HeaderMap, mut body: Body) -> ApiResult<Vec<u8>> {
    let too_large = || ApiError::new(413, "http: request body too large");
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    // Reserve at most 1 MiB up front: the declared length is only a claim.
    let reserve = declared.map_or(0, |n| n.min(1024 * 1024) as usize);
    let mut out = Vec::with_capacity(reserve);
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("failed to read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The token from `X-Vault-Token` or `Authorization: Bearer`.
fn token(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = headers.get("x-vault-token").and_then(|v| v.to_str().ok()) {
        return Some(t.trim().to_string()).filter(|t| !t.is_empty());
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Splits a raw path into decoded segments, refusing tricks: empty inner
/// segments, `.` and `..`, control characters and escapes that are not
/// UTF-8. `+` is a plus sign in paths.
pub fn segments(raw: &str) -> ApiResult<Vec<String>> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    raw.split('/')
        .map(|s| {
            let decoded = decode_path_segment(s).unwrap_or_default();
            if decoded.is_empty()
                || decoded == "."
                || decoded == ".."
                || decoded.chars().any(char::is_control)
            {
                Err(ApiError::bad_request(format!("invalid path {raw:?}")))
            } else {
                Ok(decoded)
            }
        })
        .collect()
}

/// Authenticates the call's token.
pub async fn authenticate(state: &AppState, call: &Call) -> ApiResult<Authenticated> {
    if let Some((who, _)) = &call.approved {
        return Ok(who.clone());
    }
    let token = call
        .token
        .as_deref()
        .ok_or_else(ApiError::permission_denied)?;
    Ok(state.kms.authenticate(token).await?)
}

pub(crate) async fn dispatch(state: &AppState, call: &Call, route: &mut Route) -> ApiResult<Reply> {
    // Every row this request reads reflects the changes committed before
    // it, on any node (one counter read on PostgreSQL; nothing on SQLite).
    state.kms.sync_changes().await?;
    let path = call.path.as_str();
    if let Some(rest) = path.strip_prefix("sys/").or((path == "sys").then_some("")) {
        let segs = segments(rest)?;
        route.operation = format!("sys.{}", segs.first().map_or("", String::as_str));
        return sys::dispatch(state, call, &segs).await;
    }
    if let Some(rest) = path.strip_prefix("auth/token/") {
        let segs = segments(rest)?;
        route.operation = format!("auth.token.{}", segs.first().map_or("", String::as_str));
        return auth_token::dispatch(state, call, &segs).await;
    }
    let who = authenticate(state, call).await?;
    let Some((mount, rest)) = state.kms.find_mount(path).await? else {
        return Err(ApiError::new(
            404,
            format!("no handler for route {path:?}. route entry not found."),
        ));
    };
    let segs = segments(&rest)?;
    route.operation = format!("transit.{}", segs.first().map_or("", String::as_str));
    let ctx = transit::Ctx {
        state,
        call,
        mount: &mount,
        who: &who,
    };
    transit::dispatch(&ctx, &segs).await
}

/// A random version-4 UUID (request ids, cluster ids); all zeros only if
/// the system's random source fails.
pub fn uuid_v4() -> String {
    yaoshi_crypto::random::uuid_v4()
        .unwrap_or_else(|_| "00000000-0000-4000-8000-000000000000".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_refuse_tricks() {
        assert_eq!(segments("keys/a%20b").unwrap(), vec!["keys", "a b"]);
        assert_eq!(segments("keys/a%2Fb").unwrap(), vec!["keys", "a/b"]);
        assert_eq!(segments("keys/a+b").unwrap(), vec!["keys", "a+b"]);
        assert_eq!(segments("keys/%E9%92%A5").unwrap(), vec!["keys", "钥"]);
        for bad in [
            "keys/../x",
            "keys//x",
            "keys/.",
            "keys/%2e%2e",
            "keys/a%00",
            "keys/%ff%fe",
        ] {
            assert_eq!(segments(bad).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn tokens_from_either_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(token(&h).as_deref(), Some("abc"));
        h.insert("x-vault-token", HeaderValue::from_static("xyz"));
        assert_eq!(token(&h).as_deref(), Some("xyz"));
        assert_eq!(token(&HeaderMap::new()), None);
    }

    #[test]
    fn uuids_look_like_uuids() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, uuid_v4());
    }
}
