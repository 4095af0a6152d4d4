//! `yaoshi bench audit`: what the fail-closed audit log costs. Runs an
//! in-process server on a fresh SQLite file (WAL, `synchronous=FULL`) on
//! loopback, `concurrency` clients encrypting 64-byte messages for the given
//! time (the `bench_load` driver), once with group commit and once with one
//! audit transaction per request, and reports both side by side.

use serde_json::json;
use yaoshi_server::{DevSettings, ServerSettings};

/// Token of the benchmark's dev servers.
const TOKEN: &str = "bench-root";

/// The result of one mode.
pub struct AuditRun {
    /// `group-commit` or `per-request-commit`.
    pub mode: &'static str,
    /// Encrypt requests answered 200 per second.
    pub encrypts_per_sec: f64,
    /// Audit records written.
    pub records: u64,
    /// Transactions that wrote them.
    pub commits: u64,
    /// Requests that failed (should be 0).
    pub errors: u64,
}

/// Runs both modes.
pub async fn run(seconds: f64, concurrency: usize) -> Result<Vec<AuditRun>, String> {
    let mut runs = Vec::new();
    for (mode, group_commit) in [("group-commit", true), ("per-request-commit", false)] {
        runs.push(run_mode(mode, group_commit, seconds, concurrency).await?);
    }
    Ok(runs)
}

async fn run_mode(
    mode: &'static str,
    group_commit: bool,
    seconds: f64,
    concurrency: usize,
) -> Result<AuditRun, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut settings = ServerSettings {
        listen: "127.0.0.1:0".parse().map_err(|_| "bad address")?,
        storage: Some(format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        )),
        dev: Some(DevSettings {
            root_token: Some(TOKEN.into()),
        }),
        ..ServerSettings::default()
    };
    settings.audit.group_commit = group_commit;
    let server = yaoshi_server::start(settings)
        .await
        .map_err(|e| e.to_string())?;
    let base = server.url();
    let http = reqwest::Client::new();
    let create = http
        .post(format!("{base}/v1/transit/keys/bench"))
        .header("X-Vault-Token", TOKEN)
        .json(&json!({"type": "sm4-gcm96"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !create.status().is_success() {
        return Err(format!("creating the key failed: {}", create.status()));
    }
    let before = server.kms.audit_health();
    let load =
        crate::bench_load::encrypt_load(&[base], TOKEN, "bench", seconds, concurrency).await?;
    let after = server.kms.audit_health();
    server.shutdown().await.map_err(|e| e.to_string())?;
    Ok(AuditRun {
        mode,
        encrypts_per_sec: load.per_sec(),
        records: after.records - before.records,
        commits: after.commits - before.commits,
        errors: load.errors,
    })
}

/// A table for people.
pub fn to_table(runs: &[AuditRun], concurrency: usize) -> String {
    let mut out = format!(
        "encrypt over HTTP, {concurrency} clients, SQLite synchronous=FULL, audit on\n{:<20} {:>12} {:>10} {:>10} {:>15} {:>7}\n",
        "audit mode", "encrypts/s", "records", "commits", "records/commit", "errors"
    );
    for r in runs {
        out.push_str(&format!(
            "{:<20} {:>12.0} {:>10} {:>10} {:>15.1} {:>7}\n",
            r.mode,
            r.encrypts_per_sec,
            r.records,
            r.commits,
            r.records as f64 / r.commits.max(1) as f64,
            r.errors
        ));
    }
    if let [group, single] = runs {
        out.push_str(&format!(
            "group commit / per-request commit: {:.2}x\n",
            group.encrypts_per_sec / single.encrypts_per_sec.max(f64::MIN_POSITIVE)
        ));
    }
    out
}

/// One JSON object for scripts.
pub fn to_json(runs: &[AuditRun]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for r in runs {
        out.insert(
            r.mode.to_string(),
            json!({
                "encrypts_per_sec": r.encrypts_per_sec,
                "records": r.records,
                "commits": r.commits,
                "errors": r.errors,
            }),
        );
    }
    serde_json::Value::Object(out)
}
