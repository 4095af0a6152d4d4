//! The edge of the audit trail: every request that reaches authentication
//! or authorisation gets one record, written before its response leaves
//! (DESIGN §6). A request whose record cannot be written is answered 503
//! instead: nothing is served unaudited.
//!
//! Parameters are split in two: a short list of harmless ones (types,
//! versions, flags, algorithm names) is recorded as given; every other
//! value, including anything unknown, is recorded only as a keyed HMAC.

use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use serde_json::Value;
use yaoshi_core::Kms;
use yaoshi_core::audit::{AuditRecord, Outcome, RequestAudit};

/// Parameters recorded in clear: none of them can carry a secret.
const PLAIN_PARAMS: &[&str] = &[
    "algorithm",
    "allow_plaintext_backup",
    "auto_rotate_period",
    "bits",
    "convergent_encryption",
    "deletion_allowed",
    "destination",
    "derived",
    "display_name",
    "exportable",
    "force",
    "format",
    "grants",
    "hash_algorithm",
    "key_size",
    "key_type",
    "key_version",
    "latest_version",
    "list",
    "marshaling_algorithm",
    "min_available_version",
    "min_decryption_version",
    "min_encryption_version",
    "month",
    "name",
    "no_parent",
    "output_format",
    "partial_failure_response_code",
    "prehashed",
    "profile",
    "reason",
    "reset",
    "roles",
    "salt_length",
    "secret_shares",
    "secret_threshold",
    "signature_algorithm",
    "signer_id",
    "source",
    "ttl",
    "type",
    "from",
    "limit",
    "before_seq",
];

/// Paths that are not recorded: status probes and the API description
/// (answered without authentication), and metrics, which must keep working
/// while the audit log is down so that monitoring sees it. None of them
/// touches keys.
fn is_recorded(call: &Call) -> bool {
    !matches!(
        call.path.as_str(),
        "sys/health" | "sys/seal-status" | "sys/leader" | "sys/openapi" | "sys/metrics"
    )
}

/// The start of a request's record.
pub fn begin(
    kms: &Kms,
    call: &Call,
    client: Option<String>,
) -> Option<std::sync::Arc<RequestAudit>> {
    if !is_recorded(call) {
        return None;
    }
    let mut record = AuditRecord {
        time_ms: now_ms(),
        node: kms.node_name().to_string(),
        request_id: call.request_id.clone(),
        client,
        method: match call.op {
            Op::Read => "read",
            Op::Write => "write",
            Op::List => "list",
            Op::Delete => "delete",
        }
        .to_string(),
        path: call.path.clone(),
        ..AuditRecord::default()
    };
    for (name, value) in call.params.fields() {
        if PLAIN_PARAMS.contains(&name.as_str()) {
            record.params.insert(name.clone(), value.clone());
        } else {
            if let Value::Array(items) = value {
                record
                    .params
                    .insert(format!("{name}.items"), Value::from(items.len()));
            }
            let bytes = match value {
                Value::String(s) => s.clone().into_bytes(),
                other => other.to_string().into_bytes(),
            };
            let hmac = kms
                .audit_input_hmac(&bytes)
                .unwrap_or_else(|| "redacted:sealed".to_string());
            record.inputs.insert(name.clone(), hmac);
        }
    }
    Some(RequestAudit::new(record))
}

/// Completes the record with how the request ended and writes it, unless a
/// key change already committed it. Returns the response to send: the
/// request's own, or a 503 when the record could not be written.
pub async fn finish(
    kms: &Kms,
    audit: &RequestAudit,
    operation: &str,
    key_type: Option<&str>,
    result: ApiResult<Reply>,
) -> ApiResult<Reply> {
    if audit.committed() {
        return result;
    }
    audit.update(|r| {
        r.operation = operation.to_string();
        if r.key_type.is_none() {
            r.key_type = key_type.map(str::to_string);
        }
        match &result {
            Ok(reply) => {
                let status = reply.status().as_u16();
                r.status = Some(status);
                r.outcome = if status == 202 {
                    Outcome::Parked
                } else if status >= 400 {
                    Outcome::Failed
                } else {
                    Outcome::Ok
                };
                if let Some(v) = reply.data.as_ref().and_then(version_of) {
                    r.version.get_or_insert(v);
                }
            }
            Err(e) => {
                r.status = Some(e.status);
                r.outcome = match e.status {
                    403 => Outcome::Denied,
                    _ if e.profile_rule.is_some() => Outcome::Refused,
                    _ => Outcome::Failed,
                };
                r.error = e.errors.first().cloned();
            }
        }
    });
    match kms.record_audit(&audit.snapshot()).await {
        Ok(_) => result,
        Err(e) => {
            tracing::error!(error = %e, "audit record not written; request refused");
            Err(ApiError::from(e))
        }
    }
}

/// The key version a reply reports, if any.
fn version_of(data: &Value) -> Option<i64> {
    data.get("key_version")
        .or_else(|| data.get("latest_version"))
        .and_then(Value::as_i64)
}

/// Notes the mount and key an engine request names.
pub fn note_target(mount: &str, key: Option<&str>) {
    if let Some(audit) = RequestAudit::current() {
        audit.update(|r| {
            r.mount = Some(mount.to_string());
            if let Some(k) = key {
                r.key = Some(k.to_string());
            }
        });
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_plain_parameters() {
        for secret in [
            "plaintext",
            "ciphertext",
            "input",
            "context",
            "nonce",
            "signature",
            "hmac",
            "key",
            "root_token",
            "backup",
            "batch_input",
            "public_key",
            "token",
        ] {
            assert!(!PLAIN_PARAMS.contains(&secret), "{secret} must be hashed");
        }
    }
}
