//! `encrypt/:name`, `decrypt/:name` and `rewrap/:name`, single or batched
//! (OpenBao's `path_encrypt.go`, `path_decrypt.go`, `path_rewrap.go`).

use super::{Batch, BatchStyle, Ctx, key_type_param};
use crate::wire::{ApiError, ApiResult, Params, Reply};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use yaoshi_core::KmsError;
use yaoshi_core::auth::KeyOp;
use yaoshi_core::key::KeyType;
use yaoshi_core::kms::KeyHandle;
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};

const ENCRYPT_FIELDS: &[&str] = &[
    "plaintext",
    "context",
    "key_version",
    "nonce",
    "type",
    "convergent_encryption",
    "associated_data",
];
const DECRYPT_FIELDS: &[&str] = &["ciphertext", "context", "nonce", "associated_data"];
const REWRAP_FIELDS: &[&str] = &[
    "ciphertext",
    "context",
    "nonce",
    "key_version",
    "associated_data",
];

/// Optional base64 inputs of encrypt/decrypt/rewrap items.
pub struct Inputs {
    /// Derivation context.
    pub context: Option<Vec<u8>>,
    /// AEAD associated data.
    pub associated_data: Option<Vec<u8>>,
}

impl Inputs {
    /// Reads `context` and `associated_data`; refuses `nonce` (only
    /// meaningful for convergent encryption, which yaoshi does not offer).
    pub fn read(p: &Params) -> ApiResult<Self> {
        if p.str("nonce")?.is_some_and(|n| !n.is_empty()) {
            return Err(ApiError::bad_request(
                "nonce is only valid for convergent encryption, which yaoshi does not support",
            ));
        }
        Ok(Self {
            context: p.base64("context")?,
            associated_data: p.base64("associated_data")?,
        })
    }

    /// The decrypt-side request.
    pub fn decrypt(&self) -> DecryptRequest<'_> {
        DecryptRequest {
            associated_data: self.associated_data.as_deref(),
            context: self.context.as_deref(),
        }
    }
}

/// A required string field of a batch item or request.
pub fn required(p: &Params, name: &str) -> ApiResult<String> {
    p.str(name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("missing {name} to process")))
}

/// `ciphertext`, required (Vault's wording when missing).
fn ciphertext(p: &Params) -> ApiResult<String> {
    p.str("ciphertext")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing ciphertext to decrypt"))
}

/// Vault answers a missing key on decrypt-like calls with a 400.
pub fn missing_key_is_400(e: KmsError) -> ApiError {
    match e {
        KmsError::KeyNotFound(_) => ApiError::bad_request("encryption key not found"),
        other => other.into(),
    }
}

/// `POST encrypt/:name`.
pub async fn encrypt(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_use(name, KeyOp::Encrypt)?;
    // Upsert creates a missing key, which is key management.
    let may_create = ctx.authorize_manage(name).is_ok();
    let top = &ctx.call.params;
    let upsert_type = match top.str("type")? {
        Some(t) => Some(key_type_param(&t)?),
        None => None,
    };
    if top.flag("convergent_encryption")? {
        return Err(ApiError::bad_request(
            "convergent encryption is not supported by yaoshi",
        ));
    }
    let batch = Batch::read(ctx)?;
    let mut results = Vec::new();
    // The key is read once per request, not once per batch item.
    let mut key = None;
    for p in batch.items(ctx) {
        results.push(encrypt_one(ctx, name, p, may_create, upsert_type, &mut key).await);
    }
    let style = BatchStyle {
        fail_request: true,
        error_fields: &[],
    };
    batch.finish(ctx, ENCRYPT_FIELDS, style, results)
}

async fn encrypt_one(
    ctx: &Ctx<'_>,
    name: &str,
    p: &Params,
    may_create: bool,
    upsert_type: Option<KeyType>,
    key: &mut Option<KeyHandle>,
) -> ApiResult<Value> {
    let plaintext = p
        .base64("plaintext")?
        .ok_or_else(|| ApiError::bad_request("missing plaintext to encrypt"))?;
    let inputs = Inputs::read(p)?;
    let request = EncryptRequest {
        associated_data: inputs.associated_data.as_deref(),
        context: inputs.context.as_deref(),
        key_version: p.int("key_version")?.unwrap_or(0),
        upsert: may_create,
        upsert_type,
    };
    let handle = match key {
        Some(handle) => handle,
        None => key.insert(
            ctx.kms()
                .encryption_key(ctx.namespace(), name, &request)
                .await
                .map_err(missing_key_is_400)?,
        ),
    };
    let ciphertext = ctx
        .kms()
        .encrypt_with(handle, &plaintext, request)
        .await
        .map_err(missing_key_is_400)?;
    // Built directly: `json!` would copy the ciphertext.
    let key_version = Value::from(version_of(&ciphertext));
    Ok(Value::Object(serde_json::Map::from_iter([
        ("ciphertext".to_string(), Value::String(ciphertext)),
        ("key_version".to_string(), key_version),
    ])))
}

/// `POST decrypt/:name`.
pub async fn decrypt(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_use(name, KeyOp::Decrypt)?;
    let batch = Batch::read(ctx)?;
    let mut results = Vec::new();
    let mut key = None;
    for p in batch.items(ctx) {
        results.push(decrypt_one(ctx, name, p, &mut key).await);
    }
    let style = BatchStyle {
        fail_request: true,
        error_fields: &[("plaintext", || json!(""))],
    };
    batch.finish(ctx, DECRYPT_FIELDS, style, results)
}

async fn decrypt_one(
    ctx: &Ctx<'_>,
    name: &str,
    p: &Params,
    key: &mut Option<KeyHandle>,
) -> ApiResult<Value> {
    let ciphertext = ciphertext(p)?;
    let inputs = Inputs::read(p)?;
    let handle = match key {
        Some(handle) => handle,
        None => key.insert(
            ctx.kms()
                .active_key(ctx.namespace(), name)
                .await
                .map_err(missing_key_is_400)?,
        ),
    };
    let plaintext = ctx
        .kms()
        .decrypt_with(handle, &ciphertext, inputs.decrypt())
        .await
        .map_err(missing_key_is_400)?;
    Ok(json!({ "plaintext": STANDARD.encode(plaintext.expose()) }))
}

/// `POST rewrap/:name`.
pub async fn rewrap(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_use(name, KeyOp::Rewrap)?;
    let batch = Batch::read(ctx)?;
    let mut results = Vec::new();
    for p in batch.items(ctx) {
        results.push(rewrap_one(ctx, name, p).await);
    }
    batch.finish(ctx, REWRAP_FIELDS, BatchStyle::LENIENT, results)
}

async fn rewrap_one(ctx: &Ctx<'_>, name: &str, p: &Params) -> ApiResult<Value> {
    let ciphertext = ciphertext(p)?;
    let inputs = Inputs::read(p)?;
    let rewrapped = ctx
        .kms()
        .rewrap(
            ctx.namespace(),
            name,
            &ciphertext,
            inputs.decrypt(),
            p.int("key_version")?.unwrap_or(0),
        )
        .await
        .map_err(missing_key_is_400)?;
    Ok(json!({ "ciphertext": rewrapped, "key_version": version_of(&rewrapped) }))
}

/// The version number of a `vault:v<N>:` string we just produced.
pub fn version_of(versioned: &str) -> i64 {
    versioned
        .strip_prefix("vault:v")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
