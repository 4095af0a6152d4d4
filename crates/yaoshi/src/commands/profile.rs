//! `yaoshi profile`: the compliance profile the deployment runs under
//! (`/v1/sys/profile`).

use super::Ctx;
use crate::cli::ProfileCommand;
use crate::error::{CliError, EXIT_OK};
use crate::output;
use serde_json::json;

/// Runs one profile action.
pub fn run(ctx: &Ctx, command: ProfileCommand) -> Result<u8, CliError> {
    match command {
        ProfileCommand::Show => {
            let data = ctx.client.get("sys/profile")?.data();
            if !ctx.json_done(&data)? {
                output::write_stdout(data["toml"].as_str().unwrap_or_default().as_bytes())?;
            }
        }
        ProfileCommand::Set { name, file } => {
            let body = match (name, file) {
                (Some(name), None) => json!({ "name": name }),
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        CliError::Usage(format!("cannot read {}: {e}", path.display()))
                    })?;
                    json!({ "toml": text })
                }
                _ => return Err(CliError::Usage("give NAME or --file FILE".into())),
            };
            let data = ctx.client.post("sys/profile", &body)?.data();
            if !ctx.json_done(&data)? {
                output::line(&match data["approval_id"].as_str() {
                    Some(id) => format!("parked for approval: {id} (yaoshi approval approve {id})"),
                    None => format!(
                        "profile changed from {} to {}",
                        data["previous"].as_str().unwrap_or("?"),
                        data["name"].as_str().unwrap_or("?")
                    ),
                })?;
            }
        }
    }
    Ok(EXIT_OK)
}
