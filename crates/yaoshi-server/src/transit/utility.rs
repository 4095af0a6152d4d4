//! `random[/:source][/:bytes]` and `hash[/:algorithm]`: key-less utilities
//! (OpenBao's `path_random.go` and `path_hash.go`), with `sm3` among the
//! hash algorithms.

use super::Ctx;
use crate::wire::{ApiError, ApiResult, Reply};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use yaoshi_core::auth::Action;
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::hash::digest_named;
use yaoshi_crypto::random;

/// Largest `random` request, as in Vault.
pub const MAX_RANDOM_BYTES: i64 = 128 * 1024;

/// Output encodings of `random` and `hash`.
fn encode(format: &str, bytes: &[u8]) -> ApiResult<String> {
    match format {
        "base64" => Ok(STANDARD.encode(bytes)),
        "hex" => Ok(hex::encode(bytes)),
        other => Err(ApiError::bad_request(format!(
            "unsupported encoding format {other}; must be \"hex\" or \"base64\""
        ))),
    }
}

/// `POST random[/:source][/:bytes]`.
pub async fn random(ctx: &Ctx<'_>, path: &[&str]) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize(&Action::Random)?;
    let p = &ctx.call.params;
    let (source, bytes_text) = match path {
        [] => (None, None),
        [one] if one.chars().all(|c| c.is_ascii_digit()) => (None, Some(*one)),
        [one] => (Some(*one), None),
        [source, bytes] => (Some(*source), Some(*bytes)),
        _ => return Err(ApiError::new(404, "unsupported path")),
    };
    let source = match source {
        Some(s) => s.to_string(),
        None => p.str_or("source", "platform")?,
    };
    if !matches!(source.as_str(), "platform" | "seal" | "all") {
        return Err(ApiError::bad_request(format!(
            "unsupported entropy source {source:?}; must be \"platform\", \"seal\" or \"all\""
        )));
    }
    let bytes = match bytes_text {
        Some(text) => text.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("error parsing url-set byte count: {text:?}"))
        })?,
        None => p.int("bytes")?.unwrap_or(32),
    };
    if bytes < 1 {
        return Err(ApiError::bad_request("'bytes' cannot be less than 1"));
    }
    if bytes > MAX_RANDOM_BYTES {
        return Err(ApiError::bad_request(format!(
            "'bytes' should be less than {MAX_RANDOM_BYTES}"
        )));
    }
    let format = p.str_or("format", "base64")?;
    let data = random::bytes(bytes as usize).map_err(|e| ApiError::new(500, e.to_string()))?;
    Ok(
        Reply::data(json!({ "random_bytes": encode(&format, &data)? }))
            .warn_unknown(p.unknown(&["bytes", "format", "source", "urlbytes"])),
    )
}

/// `POST hash[/:algorithm]`.
pub async fn hash(ctx: &Ctx<'_>, algorithm: Option<&str>) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize(&Action::Hash)?;
    let p = &ctx.call.params;
    let default = match ctx.default_hash() {
        HashAlgorithm::Sm3 => "sm3",
        _ => "sha2-256",
    };
    let name = match algorithm {
        Some(a) => a.to_string(),
        None => p.str_or("algorithm", default)?,
    };
    ctx.check_hash_name(&name.to_ascii_lowercase())?;
    let input = p
        .base64("input")?
        .ok_or_else(|| ApiError::bad_request("missing input to process"))?;
    let format = p.str_or("format", "hex")?;
    let sum = digest_named(&name, &input).map_err(|_| {
        ApiError::bad_request(format!(
            "unsupported algorithm {name} (valid: sm3, sha2-224, sha2-256, sha2-384, sha2-512, \
             sha2-512/256, sha3-256, sha3-384, sha3-512)"
        ))
    })?;
    let sum = encode(&format, &sum)?;
    Ok(Reply::data(json!({ "sum": sum })).warn_unknown(p.unknown(&[
        "input",
        "algorithm",
        "format",
    ])))
}
