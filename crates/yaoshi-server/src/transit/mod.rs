//! The Vault/OpenBao Transit engine under a mount: one file per endpoint
//! family, like OpenBao's `builtin/logical/transit/path_*.go`.

pub mod crypt;
pub mod datakey;
pub mod export;
pub mod import;
pub mod keys;
pub mod sign;
pub mod utility;

use crate::app::AppState;
use crate::wire::{ApiError, ApiResult, Call, Op, Params, Reply};
use serde_json::{Value, json};
use yaoshi_core::Kms;
use yaoshi_core::auth::{Action, Authenticated, KeyOp};
use yaoshi_core::key::KeyType;
use yaoshi_core::kms::mounts::Mount;
use yaoshi_crypto::hash::HashAlgorithm;

/// What every Transit handler works with.
pub struct Ctx<'a> {
    /// Shared server state.
    pub state: &'a AppState,
    /// The request.
    pub call: &'a Call,
    /// The mount the path is under.
    pub mount: &'a Mount,
    /// Who is asking.
    pub who: &'a Authenticated,
}

impl Ctx<'_> {
    /// The service.
    pub fn kms(&self) -> &Kms {
        &self.state.kms
    }

    /// The keystore namespace of the mount.
    pub fn namespace(&self) -> &str {
        self.mount.namespace()
    }

    /// The mount path (`transit/`).
    pub fn mount_path(&self) -> &str {
        &self.mount.path
    }

    /// Checks the caller may perform `action`.
    pub fn authorize(&self, action: &Action<'_>) -> ApiResult<()> {
        self.who.principal.authorize(action).map_err(ApiError::from)
    }

    /// Checks the caller may manage (create, configure, delete...) key `key`.
    pub fn authorize_manage(&self, key: &str) -> ApiResult<()> {
        self.authorize(&Action::ManageKey {
            mount: self.mount_path(),
            key,
        })
    }

    /// Checks the caller may perform `op` with key `key`.
    pub fn authorize_use(&self, key: &str, op: KeyOp) -> ApiResult<()> {
        self.authorize(&Action::UseKey {
            mount: self.mount_path(),
            key,
            op,
        })
    }

    /// Checks the caller may take key material of `key` out (export, backup).
    pub fn authorize_material(&self, key: &str) -> ApiResult<()> {
        self.authorize(&Action::KeyMaterial {
            mount: self.mount_path(),
            key,
        })
    }

    /// Refuses a hash algorithm the compliance profile does not allow.
    pub fn check_hash(&self, algorithm: HashAlgorithm) -> ApiResult<()> {
        let name = match algorithm {
            HashAlgorithm::Sm3 => "sm3",
            HashAlgorithm::Sha256 => "sha2-256",
            HashAlgorithm::Sha384 => "sha2-384",
            HashAlgorithm::Sha512 => "sha2-512",
        };
        self.check_hash_name(name)
    }

    /// Refuses a hash algorithm name the compliance profile does not allow.
    pub fn check_hash_name(&self, name: &str) -> ApiResult<()> {
        self.kms()
            .profile()
            .check_hash_algorithm(name)
            .map_err(|v| ApiError::from(yaoshi_core::KmsError::from(v)))
    }

    /// The hash used when a request names none: Vault's SHA-256, or SM3
    /// when the profile does not allow SHA-256.
    pub fn default_hash(&self) -> HashAlgorithm {
        if self.check_hash_name("sha2-256").is_ok() {
            HashAlgorithm::Sha256
        } else {
            HashAlgorithm::Sm3
        }
    }

    /// Refuses anything but PUT/POST.
    pub fn require_write(&self) -> ApiResult<()> {
        if self.call.op == Op::Write {
            Ok(())
        } else {
            Err(ApiError::unsupported_operation())
        }
    }

    /// Refuses anything but GET.
    pub fn require_read(&self) -> ApiResult<()> {
        if self.call.op == Op::Read {
            Ok(())
        } else {
            Err(ApiError::unsupported_operation())
        }
    }
}

/// Routes `rest` (the path after the mount) to its handler, and labels
/// data operations with their key's type for metrics.
pub async fn dispatch(ctx: &Ctx<'_>, rest: &[String]) -> ApiResult<Reply> {
    crate::audit_trail::note_target(ctx.mount_path(), key_named(rest));
    let result = route(ctx, rest).await;
    if ctx.call.key_type.get().is_none() {
        let key = match rest {
            [op, name, ..] if DATA_OPS.contains(&op.as_str()) => Some(name),
            [op, _, name] if op == "datakey" => Some(name),
            _ => None,
        };
        // The operation has just read the key; no second storage read.
        if let Some(t) = key.and_then(|name| ctx.kms().recent_key_type(ctx.namespace(), name)) {
            ctx.call.note_key_type(t.name());
        }
    }
    result
}

/// The key a Transit path names, if any.
fn key_named(rest: &[String]) -> Option<&str> {
    match rest {
        [op, name, ..] if op == "keys" || op == "backup" || op == "restore" => Some(name),
        [op, name, ..] if DATA_OPS.contains(&op.as_str()) => Some(name),
        [op, _, name, ..] if op == "datakey" || op == "export" => Some(name),
        _ => None,
    }
}

/// Operations whose second path segment is the key name.
const DATA_OPS: [&str; 6] = ["encrypt", "decrypt", "rewrap", "sign", "verify", "hmac"];

async fn route(ctx: &Ctx<'_>, rest: &[String]) -> ApiResult<Reply> {
    let segments: Vec<&str> = rest.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["keys"] if matches!(ctx.call.op, Op::List) => keys::list(ctx).await,
        ["keys"] => Err(ApiError::unsupported_operation()),
        ["keys", name] => keys::key(ctx, name).await,
        ["keys", name, "config"] => keys::config(ctx, name).await,
        ["keys", name, "rotate"] => keys::rotate(ctx, name).await,
        ["keys", name, "trim"] => keys::trim(ctx, name).await,
        ["keys", name, "import"] => import::import(ctx, name).await,
        ["keys", name, "import_version"] => import::import_version(ctx, name).await,
        ["wrapping_key"] => import::wrapping_key(ctx).await,
        ["export", kind, name] => export::export(ctx, kind, name, None).await,
        ["export", kind, name, version] => export::export(ctx, kind, name, Some(version)).await,
        ["backup", name] => export::backup(ctx, name).await,
        ["restore"] => export::restore(ctx, None).await,
        ["restore", name] => export::restore(ctx, Some(name)).await,
        ["encrypt", name] => crypt::encrypt(ctx, name).await,
        ["decrypt", name] => crypt::decrypt(ctx, name).await,
        ["rewrap", name] => crypt::rewrap(ctx, name).await,
        ["datakey", kind, name] => datakey::datakey(ctx, kind, name).await,
        ["random", more @ ..] if more.len() <= 2 => utility::random(ctx, more).await,
        ["hash"] => utility::hash(ctx, None).await,
        ["hash", algorithm] => utility::hash(ctx, Some(algorithm)).await,
        ["hmac", name] => sign::hmac(ctx, name, None).await,
        ["hmac", name, algorithm] => sign::hmac(ctx, name, Some(algorithm)).await,
        ["sign", name] => sign::sign(ctx, name, None).await,
        ["sign", name, algorithm] => sign::sign(ctx, name, Some(algorithm)).await,
        ["verify", name] => sign::verify(ctx, name, None).await,
        ["verify", name, algorithm] => sign::verify(ctx, name, Some(algorithm)).await,
        _ => Err(ApiError::new(404, "unsupported path")),
    }
}

/// Parses a key type name, with the list of valid names in the error.
pub fn key_type_param(name: &str) -> ApiResult<KeyType> {
    KeyType::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = KeyType::ALL.iter().map(|t| t.name()).collect();
        ApiError::bad_request(format!(
            "unknown key type: {name:?} (valid types: {})",
            names.join(", ")
        ))
    })
}

/// How an endpoint reports failed batch items (Vault differs per endpoint).
#[derive(Debug, Clone, Copy)]
pub struct BatchStyle {
    /// Whether any failed item turns the response into a 400 (encrypt and
    /// decrypt) rather than a 200 (rewrap, sign, verify, hmac).
    pub fail_request: bool,
    /// Fields a failed item carries beside `error` (`"plaintext": ""`, ...).
    pub error_fields: &'static [ErrorField],
}

/// A field added to failed batch items, and how to make its value.
pub type ErrorField = (&'static str, fn() -> Value);

impl BatchStyle {
    /// Failed items answer 200, with only `error` and `reference`.
    pub const LENIENT: Self = Self {
        fail_request: false,
        error_fields: &[],
    };
}

/// A request's items: the request itself, or each `batch_input` entry.
///
/// Vault's rules: batch items carry their `reference` back (empty string
/// when none was given) and an `error` instead of results when they fail.
/// With [`BatchStyle::fail_request`], a batch with any failed item is
/// answered with 400 (500 if a failure was the server's), unless
/// `partial_failure_response_code` asks for another status when some items
/// succeeded.
pub struct Batch {
    items: Option<Vec<Params>>,
}

impl Batch {
    /// Reads `batch_input` from the request.
    pub fn read(ctx: &Ctx<'_>) -> ApiResult<Self> {
        Ok(Self {
            items: ctx.call.params.batch("batch_input")?,
        })
    }

    /// The parameter sets to process, in order.
    pub fn items<'a>(&'a self, ctx: &'a Ctx<'_>) -> &'a [Params] {
        match &self.items {
            Some(items) => items,
            None => std::slice::from_ref(&ctx.call.params),
        }
    }

    /// Builds the reply from one result per item.
    pub fn finish(
        self,
        ctx: &Ctx<'_>,
        known: &[&str],
        style: BatchStyle,
        results: Vec<ApiResult<Value>>,
    ) -> ApiResult<Reply> {
        let params = &ctx.call.params;
        let Some(items) = self.items else {
            let data = results
                .into_iter()
                .next()
                .unwrap_or_else(|| Err(ApiError::new(500, "no result")))?;
            return Ok(Reply::data(data).warn_unknown(params.unknown(known)));
        };
        let mut out = Vec::with_capacity(items.len());
        let (mut ok, mut user_errors, mut server_errors) = (0usize, 0usize, 0usize);
        for (item, result) in items.iter().zip(results) {
            let reference = item.raw("reference").cloned().unwrap_or(json!(""));
            let mut value = match result {
                Ok(v) => {
                    ok += 1;
                    v
                }
                Err(e) => {
                    if e.is_client_error() {
                        user_errors += 1;
                    } else {
                        server_errors += 1;
                    }
                    let message = if e.errors.is_empty() {
                        "key not found".to_string()
                    } else {
                        e.errors.join("; ")
                    };
                    let mut failed = json!({ "error": message });
                    for (field, value) in style.error_fields {
                        failed[*field] = value();
                    }
                    failed
                }
            };
            value["reference"] = reference;
            out.push(value);
        }
        let batch_known = [known, &["batch_input", "partial_failure_response_code"]].concat();
        // Moved in, not through `json!`, which would copy every item.
        let results =
            serde_json::Map::from_iter([("batch_results".to_string(), Value::Array(out))]);
        let mut reply =
            Reply::data(Value::Object(results)).warn_unknown(params.unknown(&batch_known));
        if style.fail_request && user_errors + server_errors > 0 {
            let status = if server_errors > 0 { 500 } else { 400 };
            let status = match params.int("partial_failure_response_code")? {
                Some(code) if ok > 0 && (200..600).contains(&code) => code as u16,
                _ => status,
            };
            reply.status_override = Some(status);
        }
        Ok(reply)
    }
}

/// Unix seconds as RFC 3339 UTC (`2024-01-02T03:04:05Z`).
pub fn time_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::time_rfc3339;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(time_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(time_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(time_rfc3339(1_795_466_109), "2026-11-23T20:35:09Z");
    }
}
