//! Data commands on Transit keys: encrypt, decrypt, sign, verify, datakey and
//! hmac. Plaintexts and inputs are base64-encoded before sending, as the
//! Transit API expects.

use super::{Ctx, required_str};
use crate::cli::{
    ContextArg, DatakeyArgs, DecryptArgs, EncryptArgs, HmacArgs, SignArgs, SignatureOptions,
    VerifyArgs,
};
use crate::client::{mount_path, segment};
use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::{input, output};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// `{mount}/{op}/{key}`.
fn op_path(mount: &str, op: &str, key: &str) -> String {
    format!("{}/{op}/{}", mount_path(mount), segment(key))
}

/// Adds `context` when given.
fn add_context(body: &mut Map<String, Value>, context: &ContextArg) {
    if let Some(c) = &context.context {
        body.insert("context".into(), json!(c));
    }
}

/// Adds `associated_data` (base64 of the text) when given.
fn add_associated_data(body: &mut Map<String, Value>, aad: Option<&str>) {
    if let Some(a) = aad {
        body.insert("associated_data".into(), json!(STANDARD.encode(a)));
    }
}

/// Adds `key_version` when given.
fn add_key_version(body: &mut Map<String, Value>, version: Option<u64>) {
    if let Some(v) = version {
        body.insert("key_version".into(), json!(v));
    }
}

/// Adds the signature options that were given.
fn add_signature_options(body: &mut Map<String, Value>, options: &SignatureOptions) {
    if let Some(h) = &options.hash_algorithm {
        body.insert("hash_algorithm".into(), json!(h));
    }
    if options.prehashed {
        body.insert("prehashed".into(), json!(true));
    }
    if let Some(s) = &options.signature_algorithm {
        body.insert("signature_algorithm".into(), json!(s));
    }
}

/// Prints one field of the answer in text mode, or the data in JSON mode.
fn print_field(ctx: &Ctx, data: &Value, field: &str) -> Result<u8, CliError> {
    if !ctx.json_done(data)? {
        output::line(required_str(data, field)?)?;
    }
    Ok(EXIT_OK)
}

/// Body of `encrypt` for the given plaintext.
pub fn encrypt_body(args: &EncryptArgs, plaintext: &[u8]) -> Value {
    let mut body = Map::new();
    body.insert("plaintext".into(), json!(STANDARD.encode(plaintext)));
    add_context(&mut body, &args.context);
    add_associated_data(&mut body, args.associated_data.as_deref());
    add_key_version(&mut body, args.key_version);
    Value::Object(body)
}

/// POST /v1/{mount}/encrypt/KEY; prints the ciphertext.
pub fn encrypt(ctx: &Ctx, args: EncryptArgs) -> Result<u8, CliError> {
    let plaintext = input::read_bytes(args.data.as_deref(), args.file.as_deref())?;
    let body = encrypt_body(&args, &plaintext);
    let data = ctx
        .client
        .post(&op_path(&args.mount.mount, "encrypt", &args.key), &body)?
        .data();
    print_field(ctx, &data, "ciphertext")
}

/// POST /v1/{mount}/decrypt/KEY; writes the plaintext bytes.
pub fn decrypt(ctx: &Ctx, args: DecryptArgs) -> Result<u8, CliError> {
    let ciphertext = input::read_token(args.ciphertext.as_deref(), args.file.as_deref())?;
    let mut body = Map::new();
    body.insert("ciphertext".into(), json!(ciphertext));
    add_context(&mut body, &args.context);
    add_associated_data(&mut body, args.associated_data.as_deref());
    let data = ctx
        .client
        .post(
            &op_path(&args.mount.mount, "decrypt", &args.key),
            &Value::Object(body),
        )?
        .data();
    if ctx.json_done(&data)? {
        return Ok(EXIT_OK);
    }
    let encoded = required_str(&data, "plaintext")?;
    let plaintext = STANDARD
        .decode(encoded)
        .map_err(|_| CliError::Other("the server's plaintext is not valid base64".into()))?;
    output::write_stdout(&plaintext)?;
    Ok(EXIT_OK)
}

/// POST /v1/{mount}/sign/KEY; prints the signature.
pub fn sign(ctx: &Ctx, args: SignArgs) -> Result<u8, CliError> {
    let input = input::read_bytes(args.data.as_deref(), args.file.as_deref())?;
    let mut body = Map::new();
    body.insert("input".into(), json!(STANDARD.encode(&input)));
    add_signature_options(&mut body, &args.options);
    add_context(&mut body, &args.context);
    add_key_version(&mut body, args.key_version);
    let data = ctx
        .client
        .post(
            &op_path(&args.mount.mount, "sign", &args.key),
            &Value::Object(body),
        )?
        .data();
    print_field(ctx, &data, "signature")
}

/// POST /v1/{mount}/verify/KEY; prints true/false, exit 0 valid, 3 invalid.
pub fn verify(ctx: &Ctx, args: VerifyArgs) -> Result<u8, CliError> {
    let input = input::read_bytes(args.data.as_deref(), args.file.as_deref())?;
    let signature = match args.signature.strip_prefix('@') {
        Some(path) => input::read_token(None, Some(std::path::Path::new(path)))?,
        None => input::text_token(args.signature.clone().into_bytes())?,
    };
    let mut body = Map::new();
    body.insert("input".into(), json!(STANDARD.encode(&input)));
    body.insert("signature".into(), json!(signature));
    add_signature_options(&mut body, &args.options);
    add_context(&mut body, &args.context);
    let data = ctx
        .client
        .post(
            &op_path(&args.mount.mount, "verify", &args.key),
            &Value::Object(body),
        )?
        .data();
    let valid = data
        .get("valid")
        .and_then(Value::as_bool)
        .ok_or_else(|| CliError::Other("the server's answer lacks `valid`".into()))?;
    if !ctx.json_done(&data)? {
        output::line(if valid { "true" } else { "false" })?;
    }
    Ok(if valid { EXIT_OK } else { EXIT_INVALID })
}

/// POST /v1/{mount}/datakey/{plaintext|wrapped}/KEY.
pub fn datakey(ctx: &Ctx, args: DatakeyArgs) -> Result<u8, CliError> {
    let kind = if args.plaintext {
        "plaintext"
    } else {
        "wrapped"
    };
    let mut body = Map::new();
    body.insert("bits".into(), json!(args.bits));
    add_context(&mut body, &args.context);
    let path = format!(
        "{}/datakey/{kind}/{}",
        mount_path(&args.mount.mount),
        segment(&args.key)
    );
    let data = ctx.client.post(&path, &Value::Object(body))?.data();
    if !ctx.json_done(&data)? {
        let mut rows = vec![(
            "ciphertext".to_string(),
            required_str(&data, "ciphertext")?.to_string(),
        )];
        if args.plaintext {
            rows.push((
                "plaintext".to_string(),
                required_str(&data, "plaintext")?.to_string(),
            ));
        }
        if let Some(v) = data.get("key_version") {
            rows.push(("key_version".to_string(), output::cell(v)));
        }
        output::write_stdout(output::table(&rows).as_bytes())?;
    }
    Ok(EXIT_OK)
}

/// POST /v1/{mount}/hmac/KEY/ALG; prints the HMAC.
pub fn hmac(ctx: &Ctx, args: HmacArgs) -> Result<u8, CliError> {
    let input = input::read_bytes(args.data.as_deref(), args.file.as_deref())?;
    let mut body = Map::new();
    body.insert("input".into(), json!(STANDARD.encode(&input)));
    add_key_version(&mut body, args.key_version);
    let path = format!(
        "{}/{}",
        op_path(&args.mount.mount, "hmac", &args.key),
        segment(&args.algorithm)
    );
    let data = ctx.client.post(&path, &Value::Object(body))?.data();
    print_field(ctx, &data, "hmac")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn encrypt_body_is_base64() {
        let cli = Cli::try_parse_from([
            "yaoshi",
            "encrypt",
            "k",
            "hello",
            "--associated-data",
            "hdr",
            "--context",
            "Y3R4",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Command::Encrypt(a) = cli.command else {
            panic!("not encrypt")
        };
        assert_eq!(
            encrypt_body(&a, b"hello"),
            json!({"plaintext": "aGVsbG8=", "associated_data": "aGRy", "context": "Y3R4"})
        );
        assert_eq!(op_path("transit", "encrypt", "k"), "transit/encrypt/k");
    }

    #[test]
    fn datakey_bits_are_checked() {
        assert!(Cli::try_parse_from(["yaoshi", "datakey", "k", "--bits", "100"]).is_err());
        assert!(Cli::try_parse_from(["yaoshi", "datakey", "k", "--bits", "512"]).is_ok());
    }
}
