//! BYOK: `wrapping_key`, `keys/:name/import` and `keys/:name/import_version`
//! (OpenBao's `path_wrapping_key.go` and `path_import.go`). `algorithm=sm2`
//! on `wrapping_key` and `wrapping_algorithm=sm2` on imports select yaoshi's
//! SM2 + SM4-GCM envelope instead of RSA-OAEP + AES-KWP.

use super::Ctx;
use super::crypt::required;
use super::keys::create_request;
use crate::wire::{ApiError, ApiResult, Params, Reply};
use serde_json::json;
use yaoshi_core::kms::import::{ImportRequest, WrappingAlgorithm, check_hash_function};

const IMPORT_FIELDS: &[&str] = &[
    "ciphertext",
    "hash_function",
    "type",
    "allow_rotation",
    "derived",
    "context",
    "exportable",
    "allow_plaintext_backup",
    "auto_rotate_period",
    "wrapping_algorithm",
    "key_size",
    "convergent_encryption",
];

fn wrapping_algorithm(p: &Params, field: &str) -> ApiResult<WrappingAlgorithm> {
    Ok(WrappingAlgorithm::from_name(&p.str_or(field, "rsa")?)?)
}

/// The wrapped key envelope (`ciphertext`, base64).
fn envelope(p: &Params) -> ApiResult<Vec<u8>> {
    if p.has("public_key") {
        return Err(ApiError::bad_request(
            "importing only a public key is not supported by yaoshi",
        ));
    }
    required(p, "ciphertext")?;
    let bytes = p
        .base64("ciphertext")?
        .ok_or_else(|| ApiError::bad_request("missing ciphertext to import"))?;
    check_hash_function(p.str("hash_function")?.as_deref())?;
    Ok(bytes)
}

/// `GET wrapping_key`.
pub async fn wrapping_key(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    ctx.require_read()?;
    ctx.authorize_material("*")?;
    let algorithm = wrapping_algorithm(&ctx.call.params, "algorithm")?;
    let pem = ctx.kms().wrapping_key(ctx.namespace(), algorithm).await?;
    Ok(Reply::data(json!({ "public_key": pem })))
}

/// `POST keys/:name/import`.
pub async fn import(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_manage(name)?;
    let p = &ctx.call.params;
    let envelope = envelope(p)?;
    let request = ImportRequest {
        key: create_request(p)?,
        allow_rotation: p.flag("allow_rotation")?,
    };
    let info = ctx
        .kms()
        .import_key(
            ctx.namespace(),
            name,
            &envelope,
            wrapping_algorithm(p, "wrapping_algorithm")?,
            request,
        )
        .await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::empty().warn_unknown(p.unknown(IMPORT_FIELDS)))
}

/// `POST keys/:name/import_version`.
pub async fn import_version(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_manage(name)?;
    let p = &ctx.call.params;
    let envelope = envelope(p)?;
    let info = ctx
        .kms()
        .import_version(
            ctx.namespace(),
            name,
            &envelope,
            wrapping_algorithm(p, "wrapping_algorithm")?,
        )
        .await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::empty().warn_unknown(p.unknown(&[
        "ciphertext",
        "hash_function",
        "public_key",
        "version",
        "wrapping_algorithm",
    ])))
}
