//! `yaoshi compliance`: the live deployment judged against its profile
//! (`check`, exit 1 when a finding fails) and the monthly report (`report
//! --month YYYY-MM --out DIR`: `report.json` as the server answers it and
//! `report.html` rendered here with `yaoshi_core::compliance::html`).

use super::Ctx;
use crate::cli::ComplianceCommand;
use crate::client::segment;
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::output;
use serde_json::json;
use std::path::Path;
use yaoshi_core::compliance::html::render_html;
use yaoshi_core::compliance::report::MonthlyReport;
use yaoshi_core::compliance::{CheckResult, Finding, FindingStatus};

/// Width the evidence column is wrapped at in text mode.
const EVIDENCE_WIDTH: usize = 96;

/// Runs one compliance action.
pub fn run(ctx: &Ctx, command: ComplianceCommand) -> Result<u8, CliError> {
    match command {
        ComplianceCommand::Check => check(ctx),
        ComplianceCommand::Report { month, out } => report(ctx, &month, &out),
    }
}

fn unexpected(what: &str, e: serde_json::Error) -> CliError {
    CliError::Other(format!(
        "the server's {what} is not in the expected form: {e}"
    ))
}

/// `compliance check`: the findings as a table (or JSON); exit 1 on a fail.
fn check(ctx: &Ctx) -> Result<u8, CliError> {
    let data = ctx.client.get("sys/compliance/check")?.data();
    let result: CheckResult =
        serde_json::from_value(data.clone()).map_err(|e| unexpected("check result", e))?;
    if !ctx.json_done(&data)? {
        output::write_stdout(table(&result).as_bytes())?;
    }
    Ok(if result.failed() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    })
}

fn status_name(s: FindingStatus) -> &'static str {
    match s {
        FindingStatus::Pass => "PASS",
        FindingStatus::Warn => "WARN",
        FindingStatus::Fail => "FAIL",
    }
}

/// A header line, then per finding `STATUS  id  title` and its evidence
/// wrapped and indented below.
fn table(result: &CheckResult) -> String {
    let n = |s| result.findings.iter().filter(|f| f.status == s).count();
    let mut out = format!(
        "profile {}: {} findings, {} pass, {} warn, {} fail\n\n",
        result.profile,
        result.findings.len(),
        n(FindingStatus::Pass),
        n(FindingStatus::Warn),
        n(FindingStatus::Fail)
    );
    let width = result
        .findings
        .iter()
        .map(|f| f.id.len())
        .chain(["FINDING".len()])
        .max()
        .unwrap_or(0);
    out.push_str(&format!("STATUS  {:width$}  TITLE\n", "FINDING"));
    for f in &result.findings {
        out.push_str(&row(f, width));
    }
    out
}

fn row(f: &Finding, width: usize) -> String {
    let mut out = format!(
        "{:6}  {:width$}  {}\n",
        status_name(f.status),
        f.id,
        f.title
    );
    for line in wrap(&f.evidence, EVIDENCE_WIDTH) {
        out.push_str(&format!("{:8}{line}\n", ""));
    }
    out
}

/// Splits `text` into lines of at most `width` characters at spaces (a
/// longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `compliance report`: fetches the month's report, writes DIR/report.json
/// and DIR/report.html, prints both paths.
fn report(ctx: &Ctx, month: &str, out: &Path) -> Result<u8, CliError> {
    let query = format!("?month={}", segment(month));
    let data = ctx
        .client
        .request(reqwest::Method::GET, "sys/compliance/report", &query, None)?
        .data();
    let report: MonthlyReport =
        serde_json::from_value(data).map_err(|e| unexpected("report", e))?;
    let write = |name: &str, bytes: &[u8]| -> Result<String, CliError> {
        let path = out.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
        Ok(path.display().to_string())
    };
    std::fs::create_dir_all(out)
        .map_err(|e| CliError::Other(format!("cannot create {}: {e}", out.display())))?;
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| CliError::Other(format!("cannot format the report: {e}")))?;
    let json_path = write("report.json", format!("{text}\n").as_bytes())?;
    let html_path = write("report.html", render_html(&report).as_bytes())?;
    if !ctx.json_done(&json!({ "json": json_path, "html": html_path }))? {
        output::line(&json_path)?;
        output::line(&html_path)?;
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_wraps_at_spaces() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("averyverylongword x", 4), ["averyverylongword", "x"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn table_lists_every_finding() {
        let result = CheckResult {
            profile: "gb39786-l3".into(),
            generated_at: 0,
            findings: vec![
                Finding {
                    id: "algorithms.key-types".into(),
                    title: "Key types".into(),
                    status: FindingStatus::Fail,
                    evidence: "1 of 2 keys: transit/legacy (aes256-gcm96)".into(),
                },
                Finding {
                    id: "tls.required".into(),
                    title: "TLS".into(),
                    status: FindingStatus::Pass,
                    evidence: "served over TLS".into(),
                },
            ],
        };
        let t = table(&result);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "profile gb39786-l3: 2 findings, 1 pass, 0 warn, 1 fail"
        );
        assert_eq!(lines[2], "STATUS  FINDING               TITLE");
        assert_eq!(lines[3], "FAIL    algorithms.key-types  Key types");
        assert_eq!(
            lines[4],
            "        1 of 2 keys: transit/legacy (aes256-gcm96)"
        );
        assert_eq!(lines[5], "PASS    tls.required          TLS");
    }
}
