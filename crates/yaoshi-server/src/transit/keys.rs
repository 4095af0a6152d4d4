//! `keys/:name` (create, read, delete, list), `keys/:name/config`, `/rotate`
//! and `/trim`, like OpenBao's `path_keys.go` and `path_config_keys.go`.

use super::{Ctx, key_type_param, time_rfc3339};
use crate::wire::{ApiError, ApiResult, Op, Reply};
use serde_json::{Map, Value, json};
use yaoshi_core::auth::{Action, KeyOp};
use yaoshi_core::key::{KeyState, KeyType};
use yaoshi_core::kms::lifecycle::{CreateKeyRequest, KeyConfigUpdate, KeyInfo};
use yaoshi_core::profile::DualOp;

/// Fields of `POST keys/:name`.
const CREATE_FIELDS: &[&str] = &[
    "type",
    "derived",
    "convergent_encryption",
    "exportable",
    "allow_plaintext_backup",
    "auto_rotate_period",
    "key_size",
    "context",
];

/// Fields of `POST keys/:name/config`.
const CONFIG_FIELDS: &[&str] = &[
    "min_decryption_version",
    "min_encryption_version",
    "deletion_allowed",
    "exportable",
    "allow_plaintext_backup",
    "auto_rotate_period",
];

/// `LIST keys`.
pub async fn list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    ctx.authorize(&Action::ListKeys {
        mount: ctx.mount_path(),
    })?;
    let names = ctx.kms().list_keys(ctx.namespace()).await?;
    if names.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Reply::data(json!({ "keys": names })))
}

/// `keys/:name` with any method.
pub async fn key(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    match ctx.call.op {
        Op::Read => read(ctx, name).await,
        Op::Write => create(ctx, name).await,
        Op::Delete => delete(ctx, name).await,
        Op::List => Err(ApiError::unsupported_operation()),
    }
}

async fn read(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.authorize_use(name, KeyOp::Read)?;
    let info = ctx.kms().read_key(ctx.namespace(), name).await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::data(key_json(&info)))
}

async fn create(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.authorize_manage(name)?;
    let p = &ctx.call.params;
    let request = create_request(p)?;
    let (info, _created) = ctx.kms().create_key(ctx.namespace(), name, request).await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::data(key_json(&info)).warn_unknown(p.unknown(CREATE_FIELDS)))
}

/// The key-creation parameters shared by create and import.
pub fn create_request(p: &crate::wire::Params) -> ApiResult<CreateKeyRequest> {
    let key_type = match p.str("type")? {
        Some(t) => Some(key_type_param(&t)?),
        None => None,
    };
    let key_size = match p.int("key_size")? {
        None | Some(0) => None,
        Some(n) if n > 0 => Some(n as usize),
        Some(_) => return Err(ApiError::bad_request("key_size must be positive")),
    };
    if key_size.is_some() && key_type != Some(KeyType::Hmac) {
        return Err(ApiError::bad_request(
            "key_size is not valid for algorithm other than hmac",
        ));
    }
    Ok(CreateKeyRequest {
        key_type,
        exportable: p.flag("exportable")?,
        allow_plaintext_backup: p.flag("allow_plaintext_backup")?,
        derived: p.flag("derived")?,
        convergent_encryption: p.flag("convergent_encryption")?,
        auto_rotate_period_secs: p.duration_secs("auto_rotate_period")?.unwrap_or(0),
        key_size,
        labels: Default::default(),
    })
}

async fn delete(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.authorize_manage(name)?;
    let not_found = |e| match e {
        yaoshi_core::KmsError::KeyNotFound(_) => ApiError::bad_request(format!(
            "error deleting policy {name}: could not delete key; not found"
        )),
        other => other.into(),
    };
    if crate::dual_control::will_park(ctx.state, ctx.call, DualOp::DestroyKey) {
        // Nobody should approve a destroy that cannot run.
        ctx.kms()
            .check_key_deletable(ctx.namespace(), name)
            .await
            .map_err(not_found)?;
    }
    if let Some(parked) =
        crate::dual_control::park_if_required(ctx.state, ctx.call, ctx.who, DualOp::DestroyKey)
            .await?
    {
        return Ok(parked);
    }
    ctx.kms()
        .delete_key(ctx.namespace(), name)
        .await
        .map_err(not_found)?;
    Ok(Reply::empty())
}

/// `POST keys/:name/config`.
pub async fn config(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_manage(name)?;
    let p = &ctx.call.params;
    let update = KeyConfigUpdate {
        min_decryption_version: p.int("min_decryption_version")?,
        min_encryption_version: p.int("min_encryption_version")?,
        deletion_allowed: p.bool("deletion_allowed")?,
        exportable: p.bool("exportable")?,
        allow_plaintext_backup: p.bool("allow_plaintext_backup")?,
        auto_rotate_period_secs: p.duration_secs("auto_rotate_period")?,
        labels: None,
    };
    let info = ctx
        .kms()
        .configure_key(ctx.namespace(), name, update)
        .await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::data(key_json(&info)).warn_unknown(p.unknown(CONFIG_FIELDS)))
}

/// `POST keys/:name/rotate`.
pub async fn rotate(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_manage(name)?;
    let info = ctx.kms().rotate_key(ctx.namespace(), name).await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::data(key_json(&info)).warn_unknown(ctx.call.params.unknown(&["managed_key_name"])))
}

/// `POST keys/:name/trim`.
pub async fn trim(ctx: &Ctx<'_>, name: &str) -> ApiResult<Reply> {
    ctx.require_write()?;
    ctx.authorize_manage(name)?;
    let p = &ctx.call.params;
    let min = p
        .int("min_available_version")?
        .ok_or_else(|| ApiError::bad_request("missing min_available_version"))?;
    let info = ctx.kms().trim_key(ctx.namespace(), name, min).await?;
    ctx.call.note_key_type(info.policy.key_type.name());
    Ok(Reply::data(key_json(&info)).warn_unknown(p.unknown(&["min_available_version"])))
}

/// A key as Vault's key read shows it.
pub fn key_json(info: &KeyInfo) -> Value {
    let p = &info.policy;
    let t = p.key_type;
    let mut versions = Map::new();
    // Like Vault, versions below min_decryption_version are not listed.
    for (version, v) in p.versions.range(p.min_decryption_version..) {
        let entry = if t.is_asymmetric() {
            json!({
                "certificate_chain": "",
                "creation_time": time_rfc3339(v.created_at),
                "name": public_key_name(t),
                "public_key": v.public_key.clone().unwrap_or_default(),
            })
        } else {
            json!(v.created_at)
        };
        versions.insert(version.to_string(), entry);
    }
    let mut data = json!({
        "name": info.name,
        "type": t.name(),
        "keys": versions,
        "latest_version": p.latest_version,
        "min_available_version": p.min_available_version,
        "min_decryption_version": p.min_decryption_version,
        "min_encryption_version": p.min_encryption_version,
        "deletion_allowed": p.deletion_allowed,
        "derived": p.derived,
        "exportable": p.exportable,
        "allow_plaintext_backup": p.allow_plaintext_backup,
        "auto_rotate_period": p.auto_rotate_period_secs,
        "imported_key": p.imported,
        "soft_deleted": info.state == KeyState::SoftDeleted,
        "supports_encryption": t.supports_encryption(),
        "supports_decryption": t.supports_encryption(),
        "supports_derivation": t.supports_derivation(),
        "supports_signing": t.supports_signing(),
    });
    if p.derived {
        data["kdf"] = json!(if t == KeyType::Sm4Gcm96 {
            "hkdf_sm3"
        } else {
            "hkdf_sha256"
        });
        data["convergent_encryption"] = json!(false);
    }
    if p.imported {
        data["imported_key_allow_rotation"] = json!(p.allow_rotation);
    }
    data
}

/// Vault's `name` of an asymmetric version (the curve or algorithm).
fn public_key_name(t: KeyType) -> &'static str {
    match t {
        KeyType::EcdsaP256 => "P-256",
        KeyType::EcdsaP384 => "P-384",
        KeyType::EcdsaP521 => "P-521",
        KeyType::Ed25519 => "ed25519",
        KeyType::Sm2 => "SM2",
        other => other.name(),
    }
}
