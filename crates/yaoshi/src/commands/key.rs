//! `yaoshi key`: Transit key management under `/v1/{mount}/keys`.

use super::{Ctx, success};
use crate::cli::{KeyCommand, KeyConfigArgs, KeyCreateArgs};
use crate::client::{mount_path, segment};
use crate::error::{CliError, EXIT_OK};
use crate::output;
use serde_json::{Map, Value, json};

/// `{mount}/keys/{name}`.
fn key_path(mount: &str, name: &str) -> String {
    format!("{}/keys/{}", mount_path(mount), segment(name))
}

/// Runs one key action.
pub fn run(ctx: &Ctx, command: KeyCommand) -> Result<u8, CliError> {
    match command {
        KeyCommand::Create(args) => create(ctx, args),
        KeyCommand::List(m) => list(ctx, &m.mount),
        KeyCommand::Show(k) => {
            let data = ctx.client.get(&key_path(&k.mount.mount, &k.name))?.data();
            if !ctx.json_done(&data)? {
                let map = data.as_object().cloned().unwrap_or_default();
                output::object_table(&map)?;
            }
            Ok(EXIT_OK)
        }
        KeyCommand::Rotate(k) => {
            let path = format!("{}/rotate", key_path(&k.mount.mount, &k.name));
            let data = ctx.client.post(&path, &json!({}))?.data();
            let message = match data.get("latest_version") {
                Some(v) => format!(
                    "Success! Rotated key {} (latest version {})",
                    k.name,
                    output::cell(v)
                ),
                None => format!("Success! Rotated key {}", k.name),
            };
            success(ctx, &data, &message)
        }
        KeyCommand::Config(args) => config(ctx, args),
        KeyCommand::Delete(k) => {
            let data = ctx
                .client
                .delete(&key_path(&k.mount.mount, &k.name))?
                .data();
            success(ctx, &data, &format!("Success! Deleted key {}", k.name))
        }
    }
}

/// Body of `key create`.
pub fn create_body(args: &KeyCreateArgs) -> Value {
    let mut body = Map::new();
    body.insert("type".into(), json!(args.key_type));
    body.insert("exportable".into(), json!(args.exportable));
    body.insert("derived".into(), json!(args.derived));
    if let Some(p) = &args.auto_rotate_period {
        body.insert("auto_rotate_period".into(), json!(p));
    }
    Value::Object(body)
}

/// POST /v1/{mount}/keys/NAME.
fn create(ctx: &Ctx, args: KeyCreateArgs) -> Result<u8, CliError> {
    let data = ctx
        .client
        .post(
            &key_path(&args.mount.mount, &args.name),
            &create_body(&args),
        )?
        .data();
    success(
        ctx,
        &data,
        &format!("Success! Created key {} ({})", args.name, args.key_type),
    )
}

/// LIST /v1/{mount}/keys.
fn list(ctx: &Ctx, mount: &str) -> Result<u8, CliError> {
    let data = ctx
        .client
        .list(&format!("{}/keys", mount_path(mount)))?
        .data();
    if !ctx.json_done(&data)? {
        let mut text = String::new();
        for name in data
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            text.push_str(&output::cell(name));
            text.push('\n');
        }
        output::write_stdout(text.as_bytes())?;
    }
    Ok(EXIT_OK)
}

/// Body of `key config`: only the settings given.
pub fn config_body(args: &KeyConfigArgs) -> Value {
    let mut body = Map::new();
    if let Some(v) = args.min_decryption_version {
        body.insert("min_decryption_version".into(), json!(v));
    }
    if let Some(v) = args.min_encryption_version {
        body.insert("min_encryption_version".into(), json!(v));
    }
    if let Some(v) = args.deletion_allowed {
        body.insert("deletion_allowed".into(), json!(v));
    }
    if args.exportable {
        body.insert("exportable".into(), json!(true));
    }
    if let Some(p) = &args.auto_rotate_period {
        body.insert("auto_rotate_period".into(), json!(p));
    }
    Value::Object(body)
}

/// POST /v1/{mount}/keys/NAME/config.
fn config(ctx: &Ctx, args: KeyConfigArgs) -> Result<u8, CliError> {
    let path = format!("{}/config", key_path(&args.mount.mount, &args.name));
    let data = ctx.client.post(&path, &config_body(&args))?.data();
    success(ctx, &data, &format!("Success! Updated key {}", args.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn key_command(args: &[&str]) -> KeyCommand {
        match Cli::try_parse_from(args)
            .unwrap_or_else(|e| panic!("{e}"))
            .command
        {
            Command::Key { command } => command,
            _ => panic!("not key"),
        }
    }

    #[test]
    fn create_body_fields() {
        let KeyCommand::Create(a) = key_command(&[
            "yaoshi",
            "key",
            "create",
            "k",
            "--type",
            "sm4-gcm96",
            "--derived",
            "--auto-rotate-period",
            "24h",
        ]) else {
            panic!("not create")
        };
        assert_eq!(
            create_body(&a),
            json!({"type": "sm4-gcm96", "exportable": false, "derived": true, "auto_rotate_period": "24h"})
        );
        assert_eq!(key_path(&a.mount.mount, &a.name), "transit/keys/k");
    }

    #[test]
    fn config_body_only_given_fields() {
        let KeyCommand::Config(a) = key_command(&[
            "yaoshi",
            "key",
            "config",
            "k",
            "--deletion-allowed",
            "true",
            "--min-decryption-version",
            "2",
        ]) else {
            panic!("not config")
        };
        assert_eq!(
            config_body(&a),
            json!({"deletion_allowed": true, "min_decryption_version": 2})
        );
        // Nothing to change is a usage error.
        assert!(Cli::try_parse_from(["yaoshi", "key", "config", "k"]).is_err());
    }
}
