//! `datakey/plaintext/:name` and `datakey/wrapped/:name` (OpenBao's
//! `path_datakey.go`).

use super::Ctx;
use super::crypt::Inputs;
use crate::wire::{ApiError, ApiResult, Reply};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use yaoshi_core::auth::KeyOp;
use yaoshi_core::kms::encryption::EncryptRequest;

const FIELDS: &[&str] = &["context", "nonce", "bits", "key_version", "associated_data"];

/// `POST datakey/:kind/:name`.
pub async fn datakey(ctx: &Ctx<'_>, kind: &str, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    let include_plaintext = match kind {
        "plaintext" => true,
        "wrapped" => false,
        _ => {
            return Err(ApiError::bad_request(
                "Invalid path, must be 'plaintext' or 'wrapped'",
            ));
        }
    };
    ctx.authorize_use(name, KeyOp::Datakey)?;
    let p = &ctx.call.params;
    let inputs = Inputs::read(p)?;
    let bits = p.int("bits")?.unwrap_or(256);
    let bits = usize::try_from(bits)
        .ok()
        .filter(|b| [128, 256, 512].contains(b))
        .ok_or_else(|| ApiError::bad_request("invalid bit length"))?;
    let request = EncryptRequest {
        associated_data: inputs.associated_data.as_deref(),
        context: inputs.context.as_deref(),
        key_version: p.int("key_version")?.unwrap_or(0),
        upsert: false,
        upsert_type: None,
    };
    let key = ctx
        .kms()
        .datakey(ctx.namespace(), name, bits, include_plaintext, request)
        .await
        .map_err(super::crypt::missing_key_is_400)?;
    let mut data = json!({
        "ciphertext": key.ciphertext,
        "key_version": key.key_version,
    });
    if let Some(plaintext) = &key.plaintext {
        data["plaintext"] = json!(STANDARD.encode(plaintext.expose()));
    }
    Ok(Reply::data(data).warn_unknown(p.unknown(FIELDS)))
}
