//! `sign/:name[/:hash]`, `verify/:name[/:hash]` and `hmac/:name[/:algorithm]`,
//! single or batched (OpenBao's `path_sign_verify.go` and `path_hmac.go`).
//! SM2 keys always sign SM3 digests with a signer ID (`signer_id`, default
//! the GB/T 32918 `1234567812345678`).

use super::crypt::missing_key_is_400;
use super::{Batch, BatchStyle, Ctx};
use crate::wire::{ApiError, ApiResult, Params, Reply};
use serde_json::{Value, json};
use yaoshi_core::KmsError;
use yaoshi_core::auth::KeyOp;
use yaoshi_core::kms::signing::{SignRequest, parse_padding};
use yaoshi_crypto::hash::HashAlgorithm;

const SIGN_FIELDS: &[&str] = &[
    "input",
    "context",
    "key_version",
    "hash_algorithm",
    "algorithm",
    "prehashed",
    "signature_algorithm",
    "marshaling_algorithm",
    "salt_length",
    "signer_id",
];
const VERIFY_EXTRA: &[&str] = &["signature", "hmac"];
const HMAC_FIELDS: &[&str] = &["input", "key_version", "algorithm"];

/// A hash algorithm name from the path or the body.
fn hash_param(name: &str) -> ApiResult<HashAlgorithm> {
    HashAlgorithm::from_name(name).map_err(|_| {
        ApiError::bad_request(format!(
            "unsupported hash algorithm {name:?} (valid: sha2-256, sha2-384, sha2-512, sm3)"
        ))
    })
}

/// The hash named in the path, else `hash_algorithm`, else `algorithm`.
fn requested_hash(p: &Params, from_path: Option<&str>) -> ApiResult<Option<HashAlgorithm>> {
    let name = match from_path {
        Some(n) => Some(n.to_string()),
        None => match p.str("hash_algorithm")? {
            Some(n) => Some(n),
            None => p.str("algorithm")?,
        },
    };
    name.filter(|n| !n.is_empty())
        .map(|n| hash_param(&n))
        .transpose()
}

/// Reads the signing options shared by sign and verify; a hash the
/// compliance profile does not allow is refused.
fn sign_options(
    ctx: &Ctx<'_>,
    p: &Params,
    from_path: Option<&str>,
) -> ApiResult<(SignRequest<'static>, Option<Vec<u8>>)> {
    match p.str("marshaling_algorithm")?.as_deref() {
        None | Some("") | Some("asn1") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported marshaling_algorithm {other:?}: yaoshi signs in asn1 form"
            )));
        }
    }
    match p.str("salt_length")?.as_deref() {
        None | Some("") | Some("auto") | Some("hash") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported salt_length {other:?}: yaoshi uses the hash length (auto and hash)"
            )));
        }
    }
    let padding = match p.str("signature_algorithm")? {
        Some(s) if !s.is_empty() => Some(parse_padding(&s)?),
        _ => None,
    };
    let signer_id = p.str("signer_id")?.map(String::into_bytes);
    let hash = requested_hash(p, from_path)?;
    if let Some(h) = hash {
        ctx.check_hash(h)?;
    }
    let request = SignRequest {
        hash,
        prehashed: p.flag("prehashed")?,
        padding,
        key_version: p.int("key_version")?.unwrap_or(0),
        signer_id: None,
    };
    Ok((request, signer_id))
}

/// Base64 `input`, required.
fn input(p: &Params) -> ApiResult<Vec<u8>> {
    p.base64("input")?
        .ok_or_else(|| ApiError::bad_request("missing input to process"))
}

/// `POST sign/:name[/:hash]`.
pub async fn sign(ctx: &Ctx<'_>, name: &str, hash: Option<&str>) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_use(name, KeyOp::Sign)?;
    let batch = Batch::read(ctx)?;
    let mut results = Vec::new();
    for p in batch.items(ctx) {
        results.push(sign_one(ctx, name, hash, p).await);
    }
    let style = BatchStyle {
        fail_request: false,
        error_fields: &[("key_version", || json!(0))],
    };
    batch.finish(ctx, SIGN_FIELDS, style, results)
}

async fn sign_one(ctx: &Ctx<'_>, name: &str, hash: Option<&str>, p: &Params) -> ApiResult<Value> {
    let data = input(p)?;
    let (request, signer_id) = sign_options(ctx, p, hash)?;
    let request = SignRequest {
        signer_id: signer_id.as_deref(),
        ..request
    };
    let signature = ctx
        .kms()
        .sign(ctx.namespace(), name, &data, request)
        .await
        .map_err(signing_key_missing)?;
    Ok(json!({
        "signature": signature,
        "key_version": super::crypt::version_of(&signature),
    }))
}

/// `POST verify/:name[/:hash]`: a `signature` or, for any key, an `hmac`.
pub async fn verify(ctx: &Ctx<'_>, name: &str, hash: Option<&str>) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_use(name, KeyOp::Verify)?;
    let batch = Batch::read(ctx)?;
    let mut results = Vec::new();
    for p in batch.items(ctx) {
        results.push(verify_one(ctx, name, hash, p).await);
    }
    let style = BatchStyle {
        fail_request: false,
        error_fields: &[("valid", || json!(false))],
    };
    batch.finish(ctx, &[SIGN_FIELDS, VERIFY_EXTRA].concat(), style, results)
}

async fn verify_one(ctx: &Ctx<'_>, name: &str, hash: Option<&str>, p: &Params) -> ApiResult<Value> {
    let data = input(p)?;
    let valid = match (p.str("signature")?, p.str("hmac")?) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "provide one of 'signature' or 'hmac', not both",
            ));
        }
        (None, Some(hmac)) => ctx
            .kms()
            .verify_hmac(
                ctx.namespace(),
                name,
                &data,
                &hmac,
                requested_hash(p, hash)?,
            )
            .await
            .map_err(missing_key_is_400)?,
        (Some(signature), None) => {
            let (request, signer_id) = sign_options(ctx, p, hash)?;
            let request = SignRequest {
                signer_id: signer_id.as_deref(),
                ..request
            };
            ctx.kms()
                .verify(ctx.namespace(), name, &data, &signature, request)
                .await
                .map_err(signing_key_missing)?
        }
        (None, None) => {
            return Err(ApiError::bad_request("missing signature or hmac to verify"));
        }
    };
    Ok(json!({ "valid": valid }))
}

/// `POST hmac/:name[/:algorithm]`.
pub async fn hmac(ctx: &Ctx<'_>, name: &str, algorithm: Option<&str>) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_use(name, KeyOp::Hmac)?;
    let batch = Batch::read(ctx)?;
    let mut results = Vec::new();
    for p in batch.items(ctx) {
        results.push(hmac_one(ctx, name, algorithm, p).await);
    }
    batch.finish(ctx, HMAC_FIELDS, BatchStyle::LENIENT, results)
}

async fn hmac_one(
    ctx: &Ctx<'_>,
    name: &str,
    algorithm: Option<&str>,
    p: &Params,
) -> ApiResult<Value> {
    let data = input(p)?;
    let hash = match algorithm {
        Some(a) => hash_param(a)?,
        None => match p.str("algorithm")?.filter(|a| !a.is_empty()) {
            Some(a) => hash_param(&a)?,
            None => ctx.default_hash(),
        },
    };
    ctx.check_hash(hash)?;
    let hash = Some(hash);
    let tag = ctx
        .kms()
        .hmac(
            ctx.namespace(),
            name,
            &data,
            hash,
            p.int("key_version")?.unwrap_or(0),
        )
        .await
        .map_err(missing_key_is_400)?;
    Ok(json!({ "hmac": tag }))
}

/// Vault's wording for a missing signing key.
fn signing_key_missing(e: KmsError) -> ApiError {
    match e {
        KmsError::KeyNotFound(_) => ApiError::bad_request("signing key not found"),
        other => other.into(),
    }
}
