//! `yaoshi operator`: init, unseal, seal, status, backup and restore against
//! `/v1/sys/*`, and offline verification of a backup file.

use super::{Ctx, success};
use crate::cli::OperatorCommand;
use crate::error::{CliError, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::{input, output};
use serde_json::{Value, json};
use std::path::Path;
use yaoshi_core::backup::BackupFile;

/// Runs one operator action.
pub fn run(ctx: &Ctx, command: OperatorCommand) -> Result<u8, CliError> {
    match command {
        OperatorCommand::Init { shares, threshold } => init(ctx, shares, threshold),
        OperatorCommand::Unseal { key, reset } => unseal(ctx, key.as_deref(), reset),
        OperatorCommand::Seal => {
            let reply = ctx.client.put("sys/seal", None)?;
            success(ctx, &reply.data(), "Success! The server is sealed.")
        }
        OperatorCommand::Status => status(ctx),
        OperatorCommand::Backup { out, destination } => backup(ctx, &out, destination.as_deref()),
        OperatorCommand::Restore { file } => restore(ctx, &file),
        OperatorCommand::VerifyBackup { file, public_key } => {
            verify_backup(ctx, &file, &public_key)
        }
    }
}

/// GET /v1/sys/backup, written to `out` (mode 0600, temp file + rename).
fn backup(ctx: &Ctx, out: &Path, destination: Option<&str>) -> Result<u8, CliError> {
    let query = destination
        .map(|d| format!("?destination={}", crate::client::segment(d)))
        .unwrap_or_default();
    let bytes = ctx.client.get_bytes("sys/backup", &query)?;
    let file = BackupFile::parse(&bytes)
        .map_err(|e| CliError::Other(format!("the server's backup is unreadable: {e}")))?;
    write_private(out, &bytes)?;
    let header = serde_json::to_value(&file.header).unwrap_or(Value::Null);
    if !ctx.json_done(&json!({ "file": out.display().to_string(), "backup": header }))? {
        let c = &file.header.contents;
        output::line(&format!(
            "wrote backup {} to {}: {} keys, {} versions, {} audit records (to sequence {}), {} checkpoints; \
             restoring it needs {} of the {} unseal keys ({} seal)",
            file.header.backup_id,
            out.display(),
            c.keys,
            c.versions,
            c.audit_records,
            c.audit_last_seq,
            c.checkpoints,
            file.header.seal.threshold,
            file.header.seal.shares,
            file.header.seal.seal_type.name(),
        ))?;
    }
    Ok(EXIT_OK)
}

/// Writes `bytes` to `path` readable by the owner only, replacing it whole.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let fail = |e: std::io::Error| CliError::Other(format!("cannot write {}: {e}", path.display()));
    let mut temp = path.as_os_str().to_owned();
    temp.push(".partial");
    let temp = std::path::PathBuf::from(temp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut handle = options.open(&temp).map_err(fail)?;
    handle.write_all(bytes).map_err(fail)?;
    handle.sync_all().map_err(fail)?;
    std::fs::rename(&temp, path).map_err(fail)
}

/// POST /v1/sys/restore with the file's text.
fn restore(ctx: &Ctx, file: &Path) -> Result<u8, CliError> {
    let bytes = super::audit::read(file)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| CliError::Usage(format!("{} is not a backup file", file.display())))?;
    let data = ctx
        .client
        .post("sys/restore", &json!({ "backup": text }))?
        .data();
    if !ctx.json_done(&data)? {
        let b = &data["backup"];
        output::line(&format!(
            "staged backup {} (taken {} on {}: {} keys, {} audit records). The server is sealed: \
             unseal it with {} of the backup's {} unseal keys to bring the deployment back.",
            output::cell(&b["backup_id"]),
            output::cell(&b["created_at"]),
            output::cell(&b["node"]),
            output::cell(&b["contents"]["keys"]),
            output::cell(&b["contents"]["audit_records"]),
            output::cell(&data["t"]),
            output::cell(&data["n"]),
        ))?;
    }
    Ok(EXIT_OK)
}

/// Checks a backup's signature offline; exit 0 valid, 3 not.
fn verify_backup(ctx: &Ctx, file: &Path, public_key: &Path) -> Result<u8, CliError> {
    let key = super::audit::read_public_key(public_key)?;
    let parsed = BackupFile::parse(&super::audit::read(file)?)
        .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    let verdict = parsed.verify_signature(&key);
    let header = serde_json::to_value(&parsed.header).unwrap_or(Value::Null);
    let ok = verdict.is_ok();
    if !ctx.json_done(&json!({ "verified": ok, "backup": header }))? {
        match verdict {
            Ok(()) => output::line(&format!(
                "backup {} signature valid: taken {} on {} under profile {}, {} keys, {} audit records",
                parsed.header.backup_id,
                parsed.header.created_at,
                parsed.header.node,
                parsed.header.profile,
                parsed.header.contents.keys,
                parsed.header.contents.audit_records
            ))?,
            Err(e) => eprintln!("backup verification FAILED: {e}"),
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_INVALID })
}

/// PUT /v1/sys/init.
fn init(ctx: &Ctx, shares: u32, threshold: u32) -> Result<u8, CliError> {
    if threshold > shares {
        return Err(CliError::Usage(format!(
            "--threshold ({threshold}) cannot exceed --shares ({shares})"
        )));
    }
    let body = json!({"secret_shares": shares, "secret_threshold": threshold});
    let data = ctx.client.put("sys/init", Some(&body))?.data();
    if ctx.json_done(&data)? {
        return Ok(EXIT_OK);
    }
    let keys = data
        .get("keys_base64")
        .or_else(|| data.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(|| CliError::Other("the server's answer lacks `keys`".into()))?;
    let mut text = String::new();
    for (i, key) in keys.iter().enumerate() {
        text.push_str(&format!("Unseal Key {}: {}\n", i + 1, output::cell(key)));
    }
    let root = super::required_str(&data, "root_token")?;
    text.push_str(&format!("\nInitial Root Token: {root}\n\n"));
    if keys.is_empty() {
        // A device seal (Vault's auto-unseal): no shares exist.
        text.push_str(
            "The server is initialised with its device seal and unsealed itself; there are no\n\
             unseal keys. It unseals itself again at every start.\n",
        );
    } else {
        text.push_str(&format!(
            "The server is initialised with {shares} key shares and a threshold of {threshold}.\n\
             Store the unseal keys apart from each other; {threshold} of them unseal the server.\n"
        ));
    }
    output::write_stdout(text.as_bytes())?;
    Ok(EXIT_OK)
}

/// PUT /v1/sys/unseal.
fn unseal(ctx: &Ctx, key: Option<&str>, reset: bool) -> Result<u8, CliError> {
    let body = if reset {
        json!({"reset": true})
    } else {
        json!({"key": input::read_token(key, None)?})
    };
    let data = ctx.client.put("sys/unseal", Some(&body))?.data();
    if !ctx.json_done(&data)? {
        print_seal_status(&data)?;
    }
    Ok(EXIT_OK)
}

/// GET /v1/sys/seal-status; exit 2 when sealed.
fn status(ctx: &Ctx) -> Result<u8, CliError> {
    let data = ctx.client.get("sys/seal-status")?.data();
    let sealed = data
        .get("sealed")
        .and_then(Value::as_bool)
        .ok_or_else(|| CliError::Other("the server's answer lacks `sealed`".into()))?;
    if !ctx.json_done(&data)? {
        print_seal_status(&data)?;
    }
    Ok(if sealed { EXIT_USAGE } else { EXIT_OK })
}

/// Labels of the seal-status fields, in display order.
const SEAL_FIELDS: [(&str, &str); 8] = [
    ("type", "Seal Type"),
    ("initialized", "Initialized"),
    ("sealed", "Sealed"),
    ("n", "Total Shares"),
    ("t", "Threshold"),
    ("progress", "Unseal Progress"),
    ("version", "Version"),
    ("storage_type", "Storage Type"),
];

/// Rows of a seal status: known fields labelled, the rest by name.
pub fn seal_status_rows(data: &Value) -> Vec<(String, String)> {
    let Some(map) = data.as_object() else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (field, label) in SEAL_FIELDS {
        if field == "progress" {
            if let (Some(p), Some(t)) = (map.get("progress"), map.get("t")) {
                rows.push((
                    label.to_string(),
                    format!("{}/{}", output::cell(p), output::cell(t)),
                ));
            }
            continue;
        }
        if let Some(v) = map.get(field) {
            rows.push((label.to_string(), output::cell(v)));
        }
    }
    let mut rest: Vec<(String, String)> = map
        .iter()
        .filter(|(k, _)| !SEAL_FIELDS.iter().any(|(f, _)| f == k) && k.as_str() != "nonce")
        .map(|(k, v)| (k.clone(), output::cell(v)))
        .collect();
    rest.sort();
    rows.extend(rest);
    rows
}

/// Prints a seal status as a table.
fn print_seal_status(data: &Value) -> Result<(), CliError> {
    output::write_stdout(output::table(&seal_status_rows(data)).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_status_table() {
        let rows = seal_status_rows(&json!({
            "sealed": true, "t": 3, "n": 5, "progress": 1, "initialized": true, "build": "x"
        }));
        let labels: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Initialized",
                "Sealed",
                "Total Shares",
                "Threshold",
                "Unseal Progress",
                "build"
            ]
        );
        assert_eq!(rows[4].1, "1/3");
    }
}
