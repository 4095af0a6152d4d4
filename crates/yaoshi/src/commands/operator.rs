//! `yaoshi operator`: init, unseal, seal and status against `/v1/sys/*`.

use super::{Ctx, success};
use crate::cli::OperatorCommand;
use crate::error::{CliError, EXIT_OK, EXIT_USAGE};
use crate::{input, output};
use serde_json::{Value, json};

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
    }
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
