//! `yaoshi audit`: the audit log for auditors. `verify FILE` works offline
//! with only the public key; everything else asks the server
//! (`/v1/sys/audit/*`).

use super::Ctx;
use crate::cli::AuditCommand;
use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::output;
use serde_json::{Value, json};
use std::io::BufReader;
use std::path::Path;
use yaoshi_core::audit::chain::digest_from_hex;
use yaoshi_core::audit::merkle::verify_inclusion;
use yaoshi_core::audit::{AuditPublicKey, Checkpoint, leaf_hash, verify_export};

/// Runs one audit action.
pub fn run(global: &crate::cli::GlobalArgs, command: AuditCommand) -> Result<u8, CliError> {
    match command {
        AuditCommand::Verify {
            file: Some(file),
            public_key: Some(key),
            checkpoint,
            online: false,
        } => verify_file(&file, &key, checkpoint.as_deref(), global.json),
        AuditCommand::Verify { online: true, .. } => verify_online(&Ctx::new(global)?),
        AuditCommand::Verify { .. } => Err(CliError::Usage(
            "audit verify needs FILE and --public-key PEM, or --online".into(),
        )),
        AuditCommand::PublicKey => {
            let ctx = Ctx::new(global)?;
            let data = ctx.client.get("sys/audit/public-key")?.data();
            if !ctx.json_done(&data)? {
                output::write_stdout(text(&data, "public_key")?.as_bytes())?;
            }
            Ok(EXIT_OK)
        }
        AuditCommand::Checkpoint => {
            let ctx = Ctx::new(global)?;
            let data = ctx.client.get("sys/audit/checkpoint")?.data();
            output::json(&data["checkpoint"])?;
            Ok(EXIT_OK)
        }
        AuditCommand::Export { out, from } => {
            let ctx = Ctx::new(global)?;
            let query = from.map(|f| format!("?from={f}")).unwrap_or_default();
            let bytes = ctx.client.get_bytes("sys/audit/export", &query)?;
            std::fs::write(&out, &bytes)
                .map_err(|e| CliError::Other(format!("cannot write {}: {e}", out.display())))?;
            let lines = bytes.iter().filter(|b| **b == b'\n').count();
            eprintln!("wrote {lines} lines to {}", out.display());
            Ok(EXIT_OK)
        }
        AuditCommand::Tail { lines } => {
            let ctx = Ctx::new(global)?;
            let data = ctx
                .client
                .request(
                    reqwest::Method::GET,
                    "sys/audit/records",
                    &format!("?limit={lines}"),
                    None,
                )?
                .data();
            if !ctx.json_done(&data)? {
                for r in data["records"].as_array().into_iter().flatten() {
                    output::line(&format!("{} {}", r["seq"], r["record"]))?;
                }
            }
            Ok(EXIT_OK)
        }
        AuditCommand::Proof { seq } => proof(&Ctx::new(global)?, seq),
        AuditCommand::Prune {
            destination,
            before_seq,
        } => {
            let ctx = Ctx::new(global)?;
            let mut body = json!({ "destination": destination });
            if let Some(b) = before_seq {
                body["before_seq"] = json!(b);
            }
            let data = ctx.client.post("sys/audit/prune", &body)?.data();
            if !ctx.json_done(&data)? {
                output::line(&match data["approval_id"].as_str() {
                    Some(id) => format!("parked for approval: {id} (yaoshi approval approve {id})"),
                    None => format!(
                        "pruned {} records ({} to {}); archive {} ({} {})",
                        data["records"],
                        data["plan"]["from"],
                        data["plan"]["to"],
                        data["archive"].as_str().unwrap_or("?"),
                        data["checkpoint"]["hash_algorithm"]
                            .as_str()
                            .unwrap_or("hash"),
                        data["archive_hash"].as_str().unwrap_or("?"),
                    ),
                })?;
            }
            Ok(EXIT_OK)
        }
    }
}

fn text(data: &Value, field: &str) -> Result<String, CliError> {
    data.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| CliError::Other(format!("the server's answer has no {field}")))
}

/// Reads an audit public key (PEM file).
pub(super) fn read_public_key(path: &Path) -> Result<AuditPublicKey, CliError> {
    let pem = String::from_utf8(read(path)?)
        .map_err(|_| CliError::Usage(format!("{} is not a PEM file", path.display())))?;
    AuditPublicKey::from_pem(&pem).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))
}

/// Reads a checkpoint file: a bare checkpoint, or `{"checkpoint": {...}}`.
fn read_checkpoint(path: &Path) -> Result<Checkpoint, CliError> {
    let value: Value = serde_json::from_slice(&read(path)?)
        .map_err(|e| CliError::Usage(format!("{} is not JSON: {e}", path.display())))?;
    let inner = value.get("checkpoint").cloned().unwrap_or(value);
    serde_json::from_value(inner)
        .map_err(|e| CliError::Usage(format!("{} is not a checkpoint: {e}", path.display())))
}

/// `audit verify FILE --public-key PEM [--checkpoint CP]`: offline.
fn verify_file(
    file: &Path,
    key: &Path,
    checkpoint: Option<&Path>,
    json_out: bool,
) -> Result<u8, CliError> {
    let key = read_public_key(key)?;
    let earlier = checkpoint.map(read_checkpoint).transpose()?;
    let handle = std::fs::File::open(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    match verify_export(BufReader::new(handle), &key, earlier.as_ref()) {
        Ok(report) => {
            if json_out {
                output::json(&json!({ "verified": true, "report": report }))?;
            } else {
                output::line(&format!(
                    "audit log intact: {} records (sequence {} to {}), {} checkpoints verified{}",
                    report.records,
                    report.first_seq.map_or("-".into(), |s| s.to_string()),
                    report.last_seq.map_or("-".into(), |s| s.to_string()),
                    report.checkpoints,
                    report
                        .extends_checkpoint
                        .map(|s| format!(", extends the saved checkpoint at {s}"))
                        .unwrap_or_default()
                ))?;
            }
            Ok(EXIT_OK)
        }
        Err(failure) => {
            if json_out {
                output::json(&json!({
                    "verified": false,
                    "first_bad_seq": failure.seq,
                    "line": failure.line,
                    "reason": failure.reason,
                }))?;
            }
            eprintln!("audit log verification FAILED at {failure}");
            Ok(EXIT_INVALID)
        }
    }
}

/// `audit verify --online`: the server verifies its stored log.
fn verify_online(ctx: &Ctx) -> Result<u8, CliError> {
    let data = ctx.client.post("sys/audit/verify", &json!({}))?.data();
    let verified = data["verified"].as_bool() == Some(true);
    if !ctx.json_done(&data)? {
        if verified {
            let r = &data["report"];
            output::line(&format!(
                "stored audit log intact: {} records, {} checkpoints verified",
                r["records"], r["checkpoints"]
            ))?;
        } else {
            eprintln!(
                "stored audit log verification FAILED at {}",
                data["message"].as_str().unwrap_or("an unknown record")
            );
        }
    }
    Ok(if verified { EXIT_OK } else { EXIT_INVALID })
}

/// `audit proof SEQ`: fetches the inclusion proof and checks it locally
/// against the signed checkpoint and the server's public key.
fn proof(ctx: &Ctx, seq: u64) -> Result<u8, CliError> {
    let data = ctx.client.get(&format!("sys/audit/proof/{seq}"))?.data();
    let pem = text(
        &ctx.client.get("sys/audit/public-key")?.data(),
        "public_key",
    )?;
    let bad = |what: &str| CliError::Other(format!("the server's proof has a bad {what}"));
    let key = AuditPublicKey::from_pem(&pem).map_err(|_| bad("public key"))?;
    let cp: Checkpoint =
        serde_json::from_value(data["checkpoint"].clone()).map_err(|_| bad("checkpoint"))?;
    let signed = cp.verify(&key).is_ok();
    let alg = cp.chain_algorithm().map_err(|_| bad("checkpoint"))?;
    let hash =
        digest_from_hex(data["hash"].as_str().unwrap_or_default()).map_err(|_| bad("hash"))?;
    let path = data["proof"]
        .as_array()
        .ok_or_else(|| bad("proof"))?
        .iter()
        .map(|h| digest_from_hex(h.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("proof"))?;
    let root = cp.root().map_err(|_| bad("checkpoint"))?;
    let included = seq >= 1
        && verify_inclusion(
            alg,
            &leaf_hash(alg, &hash),
            seq - 1,
            cp.tree_size,
            &path,
            &root,
        );
    let verdict = json!({
        "seq": seq,
        "tree_size": cp.tree_size,
        "checkpoint_signature_valid": signed,
        "included": included,
        "proof": data,
    });
    if !ctx.json_done(&verdict)? {
        output::line(&format!(
            "record {seq} {} the signed checkpoint of size {} (signature {})",
            if included {
                "is included in"
            } else {
                "is NOT proven to be in"
            },
            cp.tree_size,
            if signed { "valid" } else { "INVALID" }
        ))?;
    }
    Ok(if signed && included {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}
