//! Governance end to end against real servers started from the binary:
//! residency (export and backup only to declared backup targets inside the
//! profile's locations; storage outside them stops the server), audit
//! pruning under retention and dual control (archive written and verified
//! offline, the remaining log still verifies), admin roles granted only
//! with a second admin's approval, profile changes under dual control, and
//! a node refusing to start under a profile other than the stored one.

#[path = "compat/server.rs"]
mod server;

use serde_json::Value;
use server::{Server, http_json, run_bounded, yaoshi_cli};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// The shipped default profile, renamed and with `edits` applied (each
/// edit must change the text).
fn profile_file(dir: &Path, name: &str, edits: &[(&str, &str)]) -> String {
    let mut text = include_str!("../../yaoshi-core/profiles/default.toml")
        .replace("name = \"default\"", &format!("name = \"{name}\""));
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, to);
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn call(srv: &Server, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (status, text) = http_json(&srv.addr, token, method, &format!("/v1/{path}"), body);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn error_text(v: &Value) -> String {
    v["errors"].to_string()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Creates principal `name` with `role` as `token`; returns its token.
fn principal(srv: &Server, token: &str, name: &str, role: &str) -> String {
    let (status, body) = call(
        srv,
        token,
        "POST",
        &format!("sys/principals/{name}"),
        &format!(r#"{{"roles":["{role}"]}}"#),
    );
    assert_eq!(status, 200, "{body}");
    body["data"]["token"].as_str().unwrap().to_string()
}

/// Approves `id` as `token` through the CLI; returns the approval as JSON.
fn approve(srv: &Server, token: &str, id: &str) -> Value {
    stdout_json(&yaoshi_cli(
        &srv.addr,
        token,
        &["approval", "approve", id, "--json"],
    ))
}

fn parked_id(status: u16, body: &Value) -> String {
    assert_eq!(status, 202, "{body}");
    body["data"]["approval_id"].as_str().unwrap().to_string()
}

#[test]
fn export_and_backup_go_only_to_allowed_backup_targets() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_file(
        dir.path(),
        "cn-only",
        &[
            (
                "allowed_locations = [\"*\"]",
                "allowed_locations = [\"cn-*\"]",
            ),
            ("description = ", "jurisdiction = \"CN\"\ndescription = "),
        ],
    );
    let srv = Server::start_yaoshi_with(
        &[
            "--profile",
            &profile,
            "--jurisdiction",
            "CN",
            "--storage-location",
            "cn-shanghai-a",
            "--backup-target",
            "nas-sh=cn-shanghai-a",
            "--backup-target",
            "s3-us=us-east-1",
        ],
        &[],
    );
    let root = srv.token.clone();
    let (s, b) = call(
        &srv,
        &root,
        "POST",
        "transit/keys/k",
        r#"{"type":"aes256-gcm96","exportable":true,"allow_plaintext_backup":true}"#,
    );
    assert_eq!(s, 200, "{b}");
    for path in ["transit/export/encryption-key/k", "transit/backup/k"] {
        let (s, b) = call(&srv, &root, "GET", path, "");
        assert_eq!(s, 400, "{path}: {b}");
        let e = error_text(&b);
        assert!(
            e.contains("cn-only") && e.contains("allowed_locations") && e.contains("destination"),
            "{e}"
        );
        let (s, b) = call(&srv, &root, "GET", &format!("{path}?destination=s3-us"), "");
        assert_eq!(s, 400, "{path}: {b}");
        assert!(error_text(&b).contains("us-east-1"), "{b}");
        let (s, b) = call(
            &srv,
            &root,
            "GET",
            &format!("{path}?destination=nowhere"),
            "",
        );
        assert_eq!(s, 400, "{path}: {b}");
        assert!(
            error_text(&b).contains("not a declared backup target"),
            "{b}"
        );
        let (s, b) = call(
            &srv,
            &root,
            "GET",
            &format!("{path}?destination=nas-sh"),
            "",
        );
        assert_eq!(s, 200, "{path}: {b}");
    }
    let (_, b) = call(
        &srv,
        &root,
        "GET",
        "transit/export/encryption-key/k?destination=nas-sh",
        "",
    );
    assert!(b["data"]["keys"]["1"].is_string(), "{b}");

    // The refusals are audited as refused, the destinations in clear.
    let (_, records) = call(&srv, &root, "GET", "sys/audit/records?limit=30", "");
    let refused: Vec<&Value> = records["data"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["record"])
        .filter(|r| r["outcome"] == "refused")
        .collect();
    assert_eq!(refused.len(), 6, "{records}");
    assert!(
        refused.iter().any(|r| r.to_string().contains("s3-us")),
        "{refused:?}"
    );

    // Storage outside the allowed locations stops the server at start.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    cmd.args(["server", "--dev", "--listen", "127.0.0.1:1"])
        .args(["--profile", &profile])
        .args(["--storage-location", "us-west-2"]);
    let (ok, text) = run_bounded(cmd, Duration::from_secs(20));
    assert!(!ok, "{text}");
    assert!(
        text.contains("allowed_locations") && text.contains("us-west-2"),
        "{text}"
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    cmd.args(["server", "--dev", "--listen", "127.0.0.1:1"])
        .args(["--profile", &profile])
        .args(["--jurisdiction", "US"]);
    let (ok, text) = run_bounded(cmd, Duration::from_secs(20));
    assert!(!ok && text.contains("rule jurisdiction"), "{text}");
}

#[test]
fn pruning_archives_verifies_and_needs_a_second_audit_admin() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    std::fs::create_dir(&archives).unwrap();
    let profile = profile_file(
        dir.path(),
        "prune-dual",
        &[(
            "operations = []\napprovals = 0",
            "operations = [\"prune-audit\"]\napprovals = 1",
        )],
    );
    let srv = Server::start_yaoshi_with(
        &[
            "--profile",
            &profile,
            "--backup-target",
            &format!("vault-room=cn-shanghai-a:{}", archives.display()),
            "--backup-target",
            "no-dir=cn-shanghai-a",
        ],
        &[],
    );
    let root = srv.token.clone();
    let aud1 = principal(&srv, &root, "aud1", "audit-admin");
    let aud2 = principal(&srv, &root, "aud2", "audit-admin");
    let app = principal(&srv, &root, "app1", "app");
    for i in 0..5 {
        let (s, _) = call(&srv, &root, "POST", &format!("transit/keys/k{i}"), "{}");
        assert_eq!(s, 200);
    }
    // A checkpoint to cut at, then more records after it.
    let cp = stdout_json(&yaoshi_cli(&srv.addr, &aud1, &["audit", "checkpoint"]));
    let cut = cp["tree_size"].as_i64().unwrap();
    assert!(cut >= 8, "{cp}");
    let (s, _) = call(&srv, &root, "POST", "transit/keys/after", "{}");
    assert_eq!(s, 200);

    // Who may ask, and to where.
    let (s, _) = call(
        &srv,
        &app,
        "POST",
        "sys/audit/prune",
        r#"{"destination":"vault-room"}"#,
    );
    assert_eq!(s, 403);
    let (s, b) = call(&srv, &aud1, "POST", "sys/audit/prune", "{}");
    assert_eq!(s, 400, "{b}");
    assert!(error_text(&b).contains("destination is required"), "{b}");
    let (s, b) = call(
        &srv,
        &aud1,
        "POST",
        "sys/audit/prune",
        r#"{"destination":"no-dir"}"#,
    );
    assert_eq!(s, 400, "refused before anyone is asked to approve: {b}");
    assert!(error_text(&b).contains("no directory"), "{b}");

    let out = yaoshi_cli(
        &srv.addr,
        &aud1,
        &["audit", "prune", "--destination", "vault-room", "--json"],
    );
    let parked = stdout_json(&out);
    let id = parked["approval_id"].as_str().unwrap().to_string();
    assert_eq!(parked["operation"], "prune-audit");
    let own = yaoshi_cli(&srv.addr, &aud1, &["approval", "approve", &id]);
    assert_eq!(own.status.code(), Some(2), "the requester cannot approve");
    assert_eq!(
        std::fs::read_dir(&archives).unwrap().count(),
        0,
        "nothing written before approval"
    );
    let (_, before) = call(&srv, &aud1, "GET", "sys/audit/records?from=1&limit=1", "");
    assert_eq!(before["data"]["records"][0]["seq"], 1, "nothing pruned yet");

    let done = approve(&srv, &aud2, &id);
    assert_eq!(done["status"], "executed", "{done}");
    assert_eq!(done["result_status"], 200, "{done}");
    let (_, shown) = call(&srv, &aud1, "GET", &format!("sys/approvals/{id}"), "");
    let result = &shown["data"]["result"];
    assert_eq!(result["plan"]["from"], 1, "{shown}");
    let to = result["plan"]["to"].as_i64().unwrap();
    assert!(to >= cut, "cut at the latest checkpoint: {result}");
    assert_eq!(result["records"], to, "{result}");
    let archive = result["archive"].as_str().unwrap().to_string();
    assert!(
        archive.starts_with(&archives.display().to_string()),
        "{archive}"
    );

    // The archive verifies offline with only the public key and ends at the cut.
    let pem = dir.path().join("audit.pem");
    let key = yaoshi_cli(&srv.addr, &aud1, &["audit", "public-key"]);
    std::fs::write(&pem, &key.stdout).unwrap();
    let pem = pem.display().to_string();
    let verified = stdout_json(&yaoshi_cli(
        &srv.addr,
        &aud1,
        &["audit", "verify", &archive, "--public-key", &pem, "--json"],
    ));
    assert_eq!(verified["report"]["first_seq"], 1, "{verified}");
    assert_eq!(verified["report"]["last_seq"], to, "{verified}");
    // An edited archive does not.
    let text = std::fs::read_to_string(&archive).unwrap();
    let edited = dir.path().join("edited.jsonl");
    std::fs::write(
        &edited,
        text.replacen("transit/keys/k1", "transit/keys/kX", 1),
    )
    .unwrap();
    let bad = yaoshi_cli(
        &srv.addr,
        &aud1,
        &[
            "audit",
            "verify",
            &edited.display().to_string(),
            "--public-key",
            &pem,
        ],
    );
    assert_eq!(bad.status.code(), Some(3));

    // The store keeps only what came after; the rest still verifies,
    // offline from a fresh export and online.
    let (_, after) = call(&srv, &aud1, "GET", "sys/audit/records?from=1&limit=1", "");
    assert_eq!(after["data"]["records"][0]["seq"], to + 1, "{after}");
    let export = dir.path().join("rest.jsonl");
    let out = yaoshi_cli(
        &srv.addr,
        &aud1,
        &["audit", "export", "--out", &export.display().to_string()],
    );
    assert!(out.status.success());
    let rest = stdout_json(&yaoshi_cli(
        &srv.addr,
        &aud1,
        &[
            "audit",
            "verify",
            &export.display().to_string(),
            "--public-key",
            &pem,
            "--json",
        ],
    ));
    assert_eq!(rest["report"]["first_seq"], to + 1, "{rest}");
    let online = yaoshi_cli(&srv.addr, &aud1, &["audit", "verify", "--online"]);
    assert!(
        online.status.success(),
        "{}",
        String::from_utf8_lossy(&online.stderr)
    );
    // Proofs still work for what is stored (the pruned part enters through
    // the cut checkpoint's frontier), and are refused for what is not.
    let latest = stdout_json(&yaoshi_cli(&srv.addr, &aud1, &["audit", "checkpoint"]));
    let size = latest["tree_size"].as_i64().unwrap();
    assert!(size > to + 1, "{latest}");
    for seq in [to + 1, size] {
        let proof = stdout_json(&yaoshi_cli(
            &srv.addr,
            &aud1,
            &["audit", "proof", &seq.to_string(), "--json"],
        ));
        assert_eq!(proof["included"], true, "{proof}");
        assert_eq!(proof["checkpoint_signature_valid"], true, "{proof}");
    }
    let (s, b) = call(&srv, &aud1, "GET", "sys/audit/proof/1", "");
    assert_eq!(s, 400, "{b}");
    assert!(error_text(&b).contains("pruned"), "{b}");
    let (s, b) = call(
        &srv,
        &aud1,
        "GET",
        &format!("sys/audit/consistency?old_size={to}&new_size={size}"),
        "",
    );
    assert_eq!(s, 200, "from the cut checkpoint: {b}");
    assert!(
        b["data"]["proof"].as_array().is_some_and(|p| !p.is_empty()),
        "{b}"
    );
    // The compliance check sees a pruned log that verifies and respected
    // the retention rule.
    let check = stdout_json(&yaoshi_cli(
        &srv.addr,
        &aud1,
        &["compliance", "check", "--json"],
    ));
    for id in ["audit.chain", "audit.retention"] {
        let finding = check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {check}"));
        assert_eq!(finding["status"], "pass", "{finding}");
    }
    // The prune and its approval are themselves in the remaining log.
    let (_, tail) = call(&srv, &aud1, "GET", "sys/audit/records?limit=50", "");
    let approved_run =
        tail["data"]["records"].as_array().unwrap().iter().any(|r| {
            r["record"]["approval_id"] == id.as_str() && r["record"]["principal"] == "aud1"
        });
    assert!(approved_run, "{tail}");
}

#[test]
fn retention_keeps_young_records() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("a");
    std::fs::create_dir(&archives).unwrap();
    let profile = profile_file(
        dir.path(),
        "keep-a-day",
        &[("audit_retention_days = 0", "audit_retention_days = 1")],
    );
    let srv = Server::start_yaoshi_with(
        &[
            "--profile",
            &profile,
            "--backup-target",
            &format!("t=x-1:{}", archives.display()),
        ],
        &[],
    );
    let (s, _) = call(&srv, &srv.token, "POST", "transit/keys/k", "{}");
    assert_eq!(s, 200);
    yaoshi_cli(&srv.addr, &srv.token, &["audit", "checkpoint"]);
    let out = yaoshi_cli(
        &srv.addr,
        &srv.token,
        &["audit", "prune", "--destination", "t"],
    );
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("keep-a-day") && e.contains("audit_retention_days") && e.contains("1 days"),
        "{e}"
    );
    let (_, r) = call(
        &srv,
        &srv.token,
        "GET",
        "sys/audit/records?from=1&limit=1",
        "",
    );
    assert_eq!(r["data"]["records"][0]["seq"], 1);
    assert_eq!(std::fs::read_dir(&archives).unwrap().count(), 0);
}

#[test]
fn admin_roles_and_profile_changes_need_a_second_admin() {
    let dir = tempfile::tempdir().unwrap();
    let separated = profile_file(
        dir.path(),
        "separated",
        &[
            ("role_separation = false", "role_separation = true"),
            (
                "operations = []\napprovals = 0",
                "operations = [\"grant-admin-role\", \"change-profile\"]\napprovals = 1",
            ),
        ],
    );
    let srv = Server::start_yaoshi_with(&["--profile", &separated], &[]);
    // Under role separation the dev token is the bootstrap token: it makes
    // the first admins directly.
    let boot = srv.token.clone();
    let sec1 = principal(&srv, &boot, "sec1", "sec-admin");
    let sec2 = principal(&srv, &boot, "sec2", "sec-admin");
    principal(&srv, &boot, "aud1", "audit-admin");
    principal(&srv, &boot, "sys1", "sys-admin");
    let (s, _) = call(&srv, &boot, "GET", "sys/profile", "");
    assert_eq!(s, 403, "the bootstrap token has retired");

    // An app principal is created at once; another admin only with approval.
    principal(&srv, &sec1, "billing", "app");
    let (s, b) = call(
        &srv,
        &sec1,
        "POST",
        "sys/principals/sec3",
        r#"{"roles":["sec-admin"]}"#,
    );
    let id = parked_id(s, &b);
    let (s, _) = call(&srv, &sec1, "GET", "sys/principals/sec3", "");
    assert_eq!(s, 404, "not created before approval");
    let (s, b) = call(
        &srv,
        &sec1,
        "POST",
        "sys/principals/two",
        r#"{"roles":["sec-admin","audit-admin"]}"#,
    );
    assert_eq!(s, 400, "two admin roles are refused before parking: {b}");
    assert!(error_text(&b).contains("role_separation"), "{b}");
    let own = yaoshi_cli(&srv.addr, &sec1, &["approval", "approve", &id]);
    assert_eq!(own.status.code(), Some(2));
    let done = approve(&srv, &sec2, &id);
    assert_eq!(done["result_status"], 200, "{done}");
    let (_, shown) = call(&srv, &sec1, "GET", &format!("sys/approvals/{id}"), "");
    let sec3 = shown["data"]["result"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("the requester sees the new token: {shown}"))
        .to_string();
    let (s, b) = call(&srv, &sec3, "POST", "transit/keys/by-sec3", "{}");
    assert_eq!(s, 200, "sec3 works as a sec-admin: {b}");

    // Profile changes: refused when impossible, parked when possible.
    let shown = stdout_json(&yaoshi_cli(
        &srv.addr,
        &sec1,
        &["profile", "show", "--json"],
    ));
    assert_eq!(shown["name"], "separated");
    let (s, b) = call(
        &srv,
        &sec1,
        "POST",
        "sys/profile",
        r#"{"name":"gb39786-l3"}"#,
    );
    assert_eq!(s, 400, "{b}");
    assert!(error_text(&b).contains("rule barrier"), "{b}");
    let (s, b) = call(&srv, &sec1, "POST", "sys/profile", r#"{"name":"no-such"}"#);
    assert_eq!(s, 400, "{b}");
    let stricter = profile_file(
        dir.path(),
        "stricter",
        &[
            ("role_separation = false", "role_separation = true"),
            (
                "allowed_key_types = [\"*\"]",
                "allowed_key_types = [\"sm4-gcm96\", \"sm2\", \"hmac\"]",
            ),
            (
                "default_key_type = \"aes256-gcm96\"",
                "default_key_type = \"sm4-gcm96\"",
            ),
            (
                "operations = []\napprovals = 0",
                "operations = [\"grant-admin-role\", \"change-profile\"]\napprovals = 1",
            ),
        ],
    );
    let out = yaoshi_cli(
        &srv.addr,
        &sec1,
        &["profile", "set", "--file", &stricter, "--json"],
    );
    let parked = stdout_json(&out);
    let id = parked["approval_id"].as_str().unwrap().to_string();
    let (s, _) = call(
        &srv,
        &sec1,
        "POST",
        "transit/keys/aes-before",
        r#"{"type":"aes256-gcm96"}"#,
    );
    assert_eq!(s, 200, "the old profile is in force until approval");
    let done = approve(&srv, &sec2, &id);
    assert_eq!(done["result_status"], 200, "{done}");
    let text =
        String::from_utf8(yaoshi_cli(&srv.addr, &sec1, &["profile", "show"]).stdout).unwrap();
    assert!(text.contains("name = \"stricter\""), "{text}");
    let (s, b) = call(
        &srv,
        &sec1,
        "POST",
        "transit/keys/aes-after",
        r#"{"type":"aes256-gcm96"}"#,
    );
    assert_eq!(s, 400, "{b}");
    assert!(
        error_text(&b).contains("profile stricter rule allowed_key_types"),
        "{b}"
    );
    let (s, b) = call(&srv, &sec1, "POST", "transit/keys/untyped", "{}");
    assert_eq!(s, 200, "{b}");
    let (_, b) = call(&srv, &sec1, "GET", "transit/keys/untyped", "");
    assert_eq!(b["data"]["type"], "sm4-gcm96");
}

#[test]
fn a_node_starts_only_under_the_stored_profile() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    let storage = format!("sqlite://{}", db.display());
    let other = profile_file(dir.path(), "other", &[]);
    {
        let srv = Server::start_yaoshi_stored(&storage);
        let (s, b) = http_json(
            &srv.addr,
            "",
            "PUT",
            "/v1/sys/init",
            r#"{"secret_shares":1,"secret_threshold":1}"#,
        );
        assert_eq!(s, 200, "{b}");
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    cmd.args(["server", "--listen", "127.0.0.1:1"])
        .args(["--storage", &storage])
        .args(["--profile", &other]);
    let (ok, text) = run_bounded(cmd, Duration::from_secs(20));
    assert!(!ok, "{text}");
    assert!(
        text.contains("runs under profile \"default\"") && text.contains("\"other\""),
        "{text}"
    );
    // The stored profile starts.
    let srv = Server::start_yaoshi_stored(&storage);
    let (s, _) = http_json(&srv.addr, "", "GET", "/v1/sys/seal-status", "");
    assert_eq!(s, 200);
}
