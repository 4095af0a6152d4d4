//! `yaoshi principal`: application identities under `/v1/sys/principals`.

use super::{Ctx, required_str, success};
use crate::cli::PrincipalCommand;
use crate::client::segment;
use crate::error::{CliError, EXIT_OK};
use crate::output;
use serde_json::{Value, json};

/// Runs one principal action.
pub fn run(ctx: &Ctx, command: PrincipalCommand) -> Result<u8, CliError> {
    match command {
        PrincipalCommand::Create {
            name,
            roles,
            grants,
        } => {
            let body = json!({"roles": roles, "grants": grants});
            let data = ctx
                .client
                .post(&format!("sys/principals/{}", segment(&name)), &body)?
                .data();
            let summary = created_summary(&data)?;
            if !ctx.json_done(&summary)? {
                let mut rows: Vec<(String, String)> = ["name", "roles", "grants", "token"]
                    .iter()
                    .map(|k| (k.to_string(), output::cell(&summary[*k])))
                    .collect();
                if let Some(a) = data.get("accessor") {
                    rows.push(("accessor".into(), output::cell(a)));
                }
                output::write_stdout(output::table(&rows).as_bytes())?;
            }
            Ok(EXIT_OK)
        }
        PrincipalCommand::List => {
            let data = ctx.client.list("sys/principals")?.data();
            if !ctx.json_done(&data)? {
                output::write_stdout(list_text(&data).as_bytes())?;
            }
            Ok(EXIT_OK)
        }
        PrincipalCommand::Revoke { name } => {
            let data = ctx
                .client
                .delete(&format!("sys/principals/{}", segment(&name)))?
                .data();
            success(ctx, &data, &format!("Success! Revoked principal {name}"))
        }
    }
}

/// The `--json` object of `principal create`: name, token, roles, grants.
pub fn created_summary(data: &Value) -> Result<Value, CliError> {
    let name = required_str(data, "name")?;
    let token = required_str(data, "token")?;
    let list = |field: &str| data.get(field).cloned().unwrap_or_else(|| json!([]));
    Ok(json!({
        "name": name,
        "token": token,
        "roles": list("roles"),
        "grants": list("grants"),
    }))
}

/// Text of `principal list`: one line per name, with roles, grants and
/// creation time when the server gives them.
pub fn list_text(data: &Value) -> String {
    let names: Vec<&str> = data
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let info = data.get("key_info");
    if info.is_none() {
        return names.iter().map(|n| format!("{n}\n")).collect();
    }
    let mut rows = vec![[
        "NAME".to_string(),
        "ROLES".to_string(),
        "GRANTS".to_string(),
        "CREATED".to_string(),
    ]];
    for name in names {
        let i = info.and_then(|i| i.get(name));
        let field = |f: &str| {
            i.and_then(|i| i.get(f))
                .map(output::cell)
                .unwrap_or_default()
        };
        rows.push([
            name.to_string(),
            field("roles"),
            field("grants"),
            field("created_at"),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let line = format!(
                "{:w0$}  {:w1$}  {:w2$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
            format!("{}\n", line.trim_end())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_needs_name_and_token() {
        let data = json!({
            "name": "app", "roles": ["app"], "grants": ["app-*:encrypt"],
            "token": "ys.x", "accessor": "acc"
        });
        assert_eq!(
            created_summary(&data).unwrap(),
            json!({"name": "app", "token": "ys.x", "roles": ["app"], "grants": ["app-*:encrypt"]})
        );
        assert!(created_summary(&json!({"name": "app"})).is_err());
    }

    #[test]
    fn list_with_and_without_info() {
        assert_eq!(list_text(&json!({"keys": ["a", "b"]})), "a\nb\n");
        let text = list_text(&json!({
            "keys": ["app"],
            "key_info": {"app": {"roles": ["app"], "grants": ["k:encrypt"], "created_at": "t0"}}
        }));
        assert_eq!(
            text,
            "NAME  ROLES  GRANTS     CREATED\napp   app    k:encrypt  t0\n"
        );
    }
}
