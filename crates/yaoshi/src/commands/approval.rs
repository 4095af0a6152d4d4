//! `yaoshi approval`: parked dual-control requests under `/v1/sys/approvals`.

use super::Ctx;
use crate::cli::ApprovalCommand;
use crate::client::segment;
use crate::error::{CliError, EXIT_OK};
use crate::output;
use serde_json::{Value, json};

/// Runs one approval action.
pub fn run(ctx: &Ctx, command: ApprovalCommand) -> Result<u8, CliError> {
    let data = match &command {
        ApprovalCommand::List => ctx.client.list("sys/approvals")?.data(),
        ApprovalCommand::Show { id } => ctx
            .client
            .get(&format!("sys/approvals/{}", segment(id)))?
            .data(),
        ApprovalCommand::Approve { id } => ctx
            .client
            .post(
                &format!("sys/approvals/{}/approve", segment(id)),
                &json!({}),
            )?
            .data(),
        ApprovalCommand::Reject { id } => ctx
            .client
            .post(&format!("sys/approvals/{}/reject", segment(id)), &json!({}))?
            .data(),
    };
    if ctx.json_done(&data)? {
        return Ok(EXIT_OK);
    }
    match command {
        ApprovalCommand::List => {
            let info = &data["key_info"];
            for id in data["keys"].as_array().into_iter().flatten() {
                let a = &info[id.as_str().unwrap_or_default()];
                output::line(&summary(a))?;
            }
        }
        _ => output::line(&summary(&data))?,
    }
    Ok(EXIT_OK)
}

/// One line: id, status, operation, path, requester and approvers.
fn summary(a: &Value) -> String {
    let approvers: Vec<&str> = a["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["principal"].as_str())
        .collect();
    format!(
        "{} {} {} {} requested by {} approved by [{}]{}",
        a["id"].as_str().unwrap_or("?"),
        a["status"].as_str().unwrap_or("?"),
        a["operation"].as_str().unwrap_or("?"),
        a["path"].as_str().unwrap_or("?"),
        a["requester"].as_str().unwrap_or("?"),
        approvers.join(", "),
        a["result_status"]
            .as_u64()
            .map(|s| format!(" result {s}"))
            .unwrap_or_default()
    )
}
