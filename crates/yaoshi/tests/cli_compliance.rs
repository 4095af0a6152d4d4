//! `yaoshi compliance check` and `yaoshi compliance report` against real
//! servers:
//!
//! * a dev server under the default profile with declared residency: keys
//!   (SM4, AES, SM2), encryptions, signatures and denied requests; the
//!   check passes (one warning: the dev seal), the report counts what was
//!   done, lists the refusals and verifies the audit log; an app principal
//!   gets 403, a bad month a clear 400; an edit made in the database fails
//!   `audit.chain` naming the sequence number.
//! * a Shamir deployment created under the default profile, two of its keys
//!   aged in the database, restarted under an operator's own level-3 profile
//!   file: key types, barrier, audit algorithms, rotation, role separation,
//!   dual-control quorum, data centres and locations fail (exit 1); the
//!   report carries the rotation status and a parked destruction.
//! * that deployment's report.html rendered by headless Chromium.

#[path = "compat/server.rs"]
mod server;

#[path = "../../yaoshi-core/tests/chromium/mod.rs"]
mod chromium;

use serde_json::{Value, json};
use server::{Server, http_json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use yaoshi_core::compliance::html::SECTIONS;
use yaoshi_core::compliance::report::{MonthlyReport, format_utc};

/// Runs the CLI against `addr` with `token` (empty: none).
fn yaoshi(addr: &str, token: &str, args: &[&str]) -> Output {
    server::yaoshi_cli(addr, token, args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON a command printed; it must have exited `code`.
fn json_out(out: &Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// An HTTP call that must answer `status`; returns the body.
fn call(srv: &Server, token: &str, method: &str, path: &str, body: Value, status: u16) -> Value {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (got, answer) = http_json(&srv.addr, token, method, &format!("/v1/{path}"), &text);
    assert_eq!(got, status, "{method} {path}: {answer}");
    serde_json::from_str(&answer).unwrap_or(Value::Null)
}

/// Creates a principal and returns its token.
fn principal(srv: &Server, token: &str, name: &str, body: Value) -> String {
    let created = call(
        srv,
        token,
        "POST",
        &format!("sys/principals/{name}"),
        body,
        200,
    );
    created["data"]["token"].as_str().unwrap().to_string()
}

fn encrypt(srv: &Server, token: &str, key: &str, times: usize, status: u16) {
    for _ in 0..times {
        call(
            srv,
            token,
            "POST",
            &format!("transit/encrypt/{key}"),
            json!({"plaintext": "aGVsbG8="}),
            status,
        );
    }
}

fn current_month() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    format_utc(now)[..7].to_string()
}

fn finding<'a>(check: &'a Value, id: &str) -> &'a Value {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("finding {id} in {check}"))
}

/// Asserts a finding's status and that its evidence contains every needle.
fn assert_finding(check: &Value, id: &str, status: &str, needles: &[&str]) {
    let f = finding(check, id);
    assert_eq!(f["status"], status, "{id}: {f}");
    let evidence = f["evidence"].as_str().unwrap();
    for n in needles {
        assert!(evidence.contains(n), "{id}: {n:?} not in {evidence:?}");
    }
}

/// Runs python3 on the SQLite file (edits a test makes behind the server).
fn sqlite(db: &Path, script: &str, args: &[&str]) {
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(db)
        .args(args)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "python3 {script}");
}

/// Makes a key's versions (and the key) `days` older.
const AGE_KEY: &str = "\
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
name, shift = sys.argv[2], int(sys.argv[3]) * 86400
(meta,) = c.execute(\"SELECT metadata FROM keys WHERE name = ? AND state <> 'destroyed'\", (name,)).fetchone()
m = json.loads(bytes(meta))
for v in m['versions'].values():
    v['created_at'] -= shift
m['last_rotated_at'] -= shift
c.execute(\"UPDATE keys SET metadata = ?, created_at = created_at - ? WHERE name = ? AND state <> 'destroyed'\",
          (json.dumps(m).encode(), shift, name))
c.commit()
assert c.total_changes == 1
";

/// Removes the profile stored with the deployment.
const FORGET_PROFILE: &str = "\
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute(\"DELETE FROM entries WHERE name = 'core/profile'\")
c.commit()
assert c.total_changes == 1
";

/// Changes one character of audit record 4's stored body.
const EDIT_AUDIT_RECORD: &str = "\
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute(\"UPDATE audit_records SET body = CAST(replace(CAST(body AS TEXT), '\\\"method\\\":\\\"', '\\\"method\\\":\\\"x') AS BLOB) WHERE seq = 4\")
c.commit()
assert c.total_changes == 1
";

/// Runs `compliance report` into `out` and returns the parsed report.json
/// (checked to be a `MonthlyReport`) and the HTML path.
fn report(addr: &str, token: &str, month: &str, out: &Path) -> (Value, PathBuf) {
    let run = yaoshi(
        addr,
        token,
        &[
            "compliance",
            "report",
            "--month",
            month,
            "--out",
            &out.display().to_string(),
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let printed: Vec<String> = stdout(&run).lines().map(str::to_string).collect();
    let (json_path, html_path) = (out.join("report.json"), out.join("report.html"));
    assert_eq!(
        printed,
        [
            json_path.display().to_string(),
            html_path.display().to_string()
        ]
    );
    let text = std::fs::read_to_string(&json_path).unwrap();
    let typed: MonthlyReport = serde_json::from_str(&text).expect("report.json is a MonthlyReport");
    assert_eq!(typed.month, month);
    (serde_json::from_str(&text).unwrap(), html_path)
}

#[test]
fn default_profile_passes_and_the_report_counts_what_was_done() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("yaoshi.db");
    let url = format!("sqlite://{}", db.display());
    let srv = Server::start_yaoshi_with(
        &[
            "--storage",
            &url,
            "--jurisdiction",
            "CN",
            "--storage-location",
            "cn-shanghai-a",
            "--storage-location",
            "cn-beijing-b",
            "--backup-target",
            &format!("nas=cn-shanghai-a:{}", dir.path().join("nas").display()),
        ],
        &[],
    );
    let root = srv.token.clone();
    for (name, key_type) in [
        ("orders", "sm4-gcm96"),
        ("legacy", "aes256-gcm96"),
        ("seal", "sm2"),
    ] {
        call(
            &srv,
            &root,
            "POST",
            &format!("transit/keys/{name}"),
            json!({"type": key_type}),
            200,
        );
    }
    encrypt(&srv, &root, "orders", 3, 200);
    encrypt(&srv, &root, "legacy", 2, 200);
    call(
        &srv,
        &root,
        "POST",
        "transit/sign/seal",
        json!({"input": "aGVsbG8="}),
        200,
    );
    let app = principal(
        &srv,
        &root,
        "app1",
        json!({"roles": ["app"], "grants": ["orders:encrypt"]}),
    );
    let auditor = principal(&srv, &root, "watcher", json!({"roles": ["auditor"]}));
    encrypt(&srv, &app, "orders", 2, 200);
    encrypt(&srv, &app, "legacy", 1, 403);
    call(
        &srv,
        "ys.unknown",
        "GET",
        "transit/keys?list=true",
        Value::Null,
        403,
    );

    // An app principal may not see findings or reports.
    let denied = yaoshi(&srv.addr, &app, &["compliance", "check"]);
    assert_eq!(denied.status.code(), Some(2), "{}", stderr(&denied));
    assert!(
        stderr(&denied).contains("403: permission denied"),
        "{}",
        stderr(&denied)
    );

    // The check: nothing fails; the dev seal warns.
    let check = json_out(
        &yaoshi(&srv.addr, &auditor, &["compliance", "check", "--json"]),
        0,
    );
    assert_eq!(check["profile"], "default");
    let ids: Vec<&str> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, yaoshi_core::compliance::checks::ids::ALL);
    assert_finding(
        &check,
        "algorithms.key-types",
        "pass",
        &[
            "3 keys",
            "aes256-gcm96 ×1",
            "sm2 ×1",
            "sm4-gcm96 ×1",
            "every key type",
        ],
    );
    assert_finding(&check, "algorithms.barrier", "pass", &["aes256-gcm"]);
    assert_finding(
        &check,
        "seal.type",
        "warn",
        &["dev seal", "lost at restart"],
    );
    assert_finding(
        &check,
        "audit.algorithms",
        "pass",
        &["sha256", "ecdsa-p256-sha256"],
    );
    assert_finding(
        &check,
        "rotation.max-age",
        "pass",
        &["not required", "3 keys"],
    );
    assert_finding(
        &check,
        "audit.chain",
        "pass",
        &["chained intact", "sequence 1 to"],
    );
    assert_finding(
        &check,
        "audit.retention",
        "pass",
        &["not required", "sequence 1"],
    );
    assert_finding(
        &check,
        "roles.separation",
        "pass",
        &["not required", "root: root"],
    );
    assert_finding(&check, "dual-control.quorum", "pass", &["not required"]);
    assert_finding(
        &check,
        "residency.data-centres",
        "pass",
        &["2 data centres (cn-beijing-b, cn-shanghai-a)"],
    );
    assert_finding(
        &check,
        "residency.locations",
        "pass",
        &[
            "storage storage-2 at cn-beijing-b",
            "backup target nas at cn-shanghai-a",
        ],
    );
    assert_finding(&check, "residency.jurisdiction", "pass", &["declares CN"]);
    assert_finding(&check, "tls.required", "pass", &["plain HTTP"]);
    let text = yaoshi(&srv.addr, &auditor, &["compliance", "check"]);
    assert_eq!(text.status.code(), Some(0));
    let text = stdout(&text);
    assert!(
        text.starts_with("profile default: 13 findings, 12 pass, 1 warn, 0 fail"),
        "{text}"
    );
    assert!(text.contains("\nWARN    seal.type"), "{text}");

    // The report of this month.
    let month = current_month();
    let (r, _) = report(&srv.addr, &auditor, &month, &dir.path().join("report"));
    assert_eq!(r["profile"], "default");
    assert_eq!(r["format"], MonthlyReport::FORMAT);
    assert_eq!(r["deployment"]["storage_backend"], "sqlite");
    assert_eq!(r["deployment"]["jurisdiction"], "CN");
    let outcomes = |v: &Value| -> Vec<(String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["id"].to_string(), f["status"].to_string()))
            .collect()
    };
    assert_eq!(
        outcomes(&r),
        outcomes(&check),
        "the report carries the check"
    );
    let keys: Vec<(String, String)> = r["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(k["mount"], "transit");
            assert_eq!(k["rotation_status"], "not-required");
            (
                k["name"].as_str().unwrap().into(),
                k["key_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("legacy".into(), "aes256-gcm96".into()),
            ("orders".into(), "sm4-gcm96".into()),
            ("seal".into(), "sm2".into())
        ]
    );
    let ops = &r["operations"];
    println!("operations: {ops:#}");
    // Root: 3 keys, 5 encryptions, 1 signature, 2 principals. The app: 2
    // encryptions, 1 denied (on the AES key, whose type it still names) and
    // the refused check. The auditor: two checks (this report is recorded
    // after it is answered). The unknown token's list: before any route.
    assert_eq!(
        ops["by_operation"],
        json!({
            "transit.keys": 3, "transit.encrypt": 8, "transit.sign": 1,
            "sys.principals": 2, "sys.compliance": 3, "unknown": 1,
        })
    );
    // Each key's creation counts under its type.
    assert_eq!(
        ops["by_algorithm"],
        json!({"sm4-gcm96": 1 + 3 + 2, "aes256-gcm96": 1 + 2 + 1, "sm2": 1 + 1})
    );
    assert_eq!(
        ops["by_principal"],
        json!({"root": 11, "app1": 4, "watcher": 2, "(unauthenticated)": 1})
    );
    let total = ops["total"].as_u64().unwrap();
    assert_eq!(
        total,
        ops["allowed"].as_u64().unwrap()
            + ops["denied"].as_u64().unwrap()
            + ops["failed"].as_u64().unwrap()
    );
    assert_eq!(ops["denied"], 3);
    let refusals = r["refusals"].as_array().unwrap();
    let refused = |principal: Value, path: &str| {
        refusals
            .iter()
            .any(|x| x["principal"] == principal && x["path"] == path && x["status"] == 403)
    };
    assert!(
        refused(json!("app1"), "transit/encrypt/legacy"),
        "{refusals:?}"
    );
    assert!(refused(Value::Null, "transit/keys"), "{refusals:?}");
    assert!(
        refused(json!("app1"), "sys/compliance/check"),
        "{refusals:?}"
    );
    assert!(refusals.iter().all(|x| x["reason"] == "permission denied"));
    let audit = &r["audit"];
    assert_eq!(audit["verified"], true, "{audit}");
    assert!(audit["detail"].as_str().unwrap().contains("chained intact"));
    assert_eq!(audit["first_seq"], 1);
    assert_eq!(audit["records_in_period"], total);
    let tree_size = audit["checkpoint"]["tree_size"].as_u64().unwrap();
    assert!(
        tree_size >= total,
        "the checkpoint covers the month: {tree_size} < {total}"
    );
    assert_eq!(
        audit["checkpoint"]["signature_algorithm"],
        "ecdsa-p256-sha256"
    );
    assert!(
        audit["public_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let residency = &r["residency"];
    assert_eq!(residency["jurisdiction"], "CN");
    assert_eq!(residency["distinct_data_centres"], 2);
    let endpoints: Vec<String> = residency["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["allowed"], true);
            format!(
                "{} {} {}",
                e["kind"].as_str().unwrap(),
                e["name"].as_str().unwrap(),
                e["location"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        endpoints,
        [
            "storage storage-1 cn-shanghai-a",
            "storage storage-2 cn-beijing-b",
            "audit sink audit-1 cn-shanghai-a",
            "audit sink audit-2 cn-beijing-b",
            "backup target nas cn-shanghai-a",
        ]
    );

    // A month long past has no activity; a malformed month is refused.
    let (old, _) = report(&srv.addr, &auditor, "2001-01", &dir.path().join("old"));
    assert_eq!(old["operations"]["total"], 0);
    assert_eq!(old["refusals"], json!([]));
    assert_eq!(old["audit"]["records_in_period"], 0);
    assert_eq!(
        old["keys"].as_array().unwrap().len(),
        3,
        "the inventory is as of now"
    );
    let bad_dir = dir.path().join("bad");
    let bad = yaoshi(
        &srv.addr,
        &auditor,
        &[
            "compliance",
            "report",
            "--month",
            "2026-13",
            "--out",
            &bad_dir.display().to_string(),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("400: invalid month \"2026-13\": expected YYYY-MM"),
        "{}",
        stderr(&bad)
    );
    assert!(!bad_dir.exists(), "nothing is written for a refused month");
    let app_report = yaoshi(
        &srv.addr,
        &app,
        &[
            "compliance",
            "report",
            "--month",
            &month,
            "--out",
            &bad_dir.display().to_string(),
        ],
    );
    assert_eq!(app_report.status.code(), Some(2));
    assert!(
        stderr(&app_report).contains("403"),
        "{}",
        stderr(&app_report)
    );

    // An edit made directly in the database fails the chain, naming it.
    sqlite(&db, EDIT_AUDIT_RECORD, &[]);
    let broken = json_out(
        &yaoshi(&srv.addr, &auditor, &["compliance", "check", "--json"]),
        1,
    );
    assert_finding(
        &broken,
        "audit.chain",
        "fail",
        &["does not verify", "sequence 4"],
    );
    let text = yaoshi(&srv.addr, &auditor, &["compliance", "check"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        stdout(&text).contains("\nFAIL    audit.chain"),
        "{}",
        stdout(&text)
    );
}

/// A deployment initialised under the default profile (AES barrier, SHA-256
/// and ECDSA audit, a root principal, an AES key, two aged keys), its stored
/// profile removed (as for a deployment from before profiles were stored),
/// restarted under an operator's level-3 profile file (`l3-lab`: level 3 with two
/// approvals and no TLS requirement) with one data centre and a backup
/// target abroad.
struct Lab {
    srv: Server,
    /// Tokens of `root` and of the sys-admin, sec-admin and audit-admin.
    root: String,
    sys_admin: String,
    sec_admin: String,
    auditor: String,
    _dir: tempfile::TempDir,
}

fn lab_deployment() -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("yaoshi.db");
    let url = format!("sqlite://{}", db.display());
    let first = Server::start_yaoshi_stored(&url);
    let init = json_out(
        &yaoshi(
            &first.addr,
            "",
            &[
                "operator",
                "init",
                "--shares",
                "1",
                "--threshold",
                "1",
                "--json",
            ],
        ),
        0,
    );
    let share = init["keys_base64"][0].as_str().unwrap().to_string();
    let root = init["root_token"].as_str().unwrap().to_string();
    let unseal = |addr: &str| {
        let out = yaoshi(addr, "", &["operator", "unseal", &share]);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    unseal(&first.addr);
    for (name, key_type) in [
        ("orders", "sm4-gcm96"),
        ("legacy", "aes256-gcm96"),
        ("stale", "sm4-gcm96"),
        ("soon", "sm4-gcm96"),
    ] {
        call(
            &first,
            &root,
            "POST",
            &format!("transit/keys/{name}"),
            json!({"type": key_type}),
            200,
        );
    }
    encrypt(&first, &root, "orders", 2, 200);
    encrypt(&first, &root, "legacy", 1, 200);
    let sys_admin = principal(&first, &root, "ops1", json!({"roles": ["sys-admin"]}));
    let sec_admin = principal(&first, &root, "sec1", json!({"roles": ["sec-admin"]}));
    let auditor = principal(&first, &root, "aud1", json!({"roles": ["audit-admin"]}));
    drop(first);

    sqlite(&db, AGE_KEY, &["stale", "400"]);
    sqlite(&db, AGE_KEY, &["soon", "350"]);
    // A node refuses to start under a profile other than the one stored at
    // init; forgetting it makes this a deployment from before profiles were
    // stored, which takes the profile of its next start.
    sqlite(&db, FORGET_PROFILE, &[]);
    let shipped = include_str!("../../yaoshi-core/profiles/gb39786-l3.toml");
    let lab = shipped
        .replace("name = \"gb39786-l3\"", "name = \"l3-lab\"")
        .replace("tls_required = true", "tls_required = false")
        .replace("approvals = 1", "approvals = 2");
    assert_eq!(lab.matches("l3-lab").count(), 1);
    assert!(lab.contains("tls_required = false") && lab.contains("approvals = 2"));
    let profile = dir.path().join("l3-lab.toml");
    std::fs::write(&profile, lab).unwrap();
    let srv = Server::start_yaoshi_stored_with(
        &url,
        &[
            "--profile",
            &profile.display().to_string(),
            "--jurisdiction",
            "CN",
            "--storage-location",
            "cn-shanghai-a",
            "--backup-target",
            "offsite=us-east-1",
        ],
    );
    unseal(&srv.addr);
    // Destruction is under dual control (two approvals): parked, approved once.
    call(
        &srv,
        &sec_admin,
        "POST",
        "transit/keys/legacy/config",
        json!({"deletion_allowed": true}),
        200,
    );
    let parked = call(
        &srv,
        &sec_admin,
        "DELETE",
        "transit/keys/legacy",
        Value::Null,
        202,
    );
    let id = parked["data"]["approval_id"].as_str().unwrap();
    let approved = call(
        &srv,
        &root,
        "POST",
        &format!("sys/approvals/{id}/approve"),
        json!({}),
        200,
    );
    assert_eq!(approved["data"]["status"], "pending");
    Lab {
        srv,
        root,
        sys_admin,
        sec_admin,
        auditor,
        _dir: dir,
    }
}

#[test]
fn an_operators_level_3_profile_fails_a_default_deployment() {
    let lab = lab_deployment();
    let (addr, auditor) = (&lab.srv.addr, lab.auditor.as_str());
    // Root and the audit roles may look; the other admins may not.
    let month = current_month();
    for path in [
        "sys/compliance/check".to_string(),
        format!("sys/compliance/report?month={month}"),
    ] {
        call(&lab.srv, &lab.root, "GET", &path, Value::Null, 200);
        call(&lab.srv, auditor, "GET", &path, Value::Null, 200);
        for token in [&lab.sys_admin, &lab.sec_admin] {
            let denied = call(&lab.srv, token, "GET", &path, Value::Null, 403);
            assert_eq!(denied, json!({"errors": ["permission denied"]}));
        }
    }
    call(
        &lab.srv,
        auditor,
        "POST",
        "sys/compliance/check",
        json!({}),
        405,
    );
    let missing = call(
        &lab.srv,
        auditor,
        "GET",
        "sys/compliance/report",
        Value::Null,
        400,
    );
    assert!(
        missing["errors"][0]
            .as_str()
            .unwrap()
            .contains("month is required"),
        "{missing}"
    );
    let check = json_out(
        &yaoshi(addr, auditor, &["compliance", "check", "--json"]),
        1,
    );
    assert_eq!(check["profile"], "l3-lab");
    assert_finding(
        &check,
        "algorithms.key-types",
        "fail",
        &[
            "1 of 4 keys",
            "transit/legacy (aes256-gcm96)",
            "allows sm4-gcm96, sm2, hmac",
        ],
    );
    assert_finding(
        &check,
        "algorithms.barrier",
        "fail",
        &["sealed with aes256-gcm", "requires sm4-gcm"],
    );
    assert_finding(&check, "seal.type", "pass", &["Shamir seal: 1 of 1"]);
    assert_finding(
        &check,
        "audit.algorithms",
        "fail",
        &[
            "chain hash sha256 (profile requires sm3)",
            "checkpoint signature ecdsa-p256-sha256 (profile requires sm2)",
        ],
    );
    assert_finding(
        &check,
        "rotation.max-age",
        "fail",
        &[
            "1 of 4 keys",
            "transit/stale (400 days)",
            "transit/soon (350 days old, due in 15 days)",
        ],
    );
    assert_finding(&check, "audit.chain", "pass", &["chained intact"]);
    assert_finding(
        &check,
        "audit.retention",
        "pass",
        &["nothing pruned", "younger than the 184-day retention"],
    );
    assert_finding(
        &check,
        "roles.separation",
        "fail",
        &[
            "root holds root",
            "sys-admin: ops1",
            "sec-admin: sec1",
            "audit-admin: aud1",
        ],
    );
    assert_finding(
        &check,
        "dual-control.quorum",
        "fail",
        &[
            "2 approvals besides the requester, so at least 3",
            "destroy-key, export-key, backup-key, change-profile, grant-admin-role: 2 eligible (root, sec1) — too few",
            "prune-audit: 2 eligible (aud1, root) — too few",
        ],
    );
    assert_finding(
        &check,
        "residency.data-centres",
        "fail",
        &["1 declared data centre (cn-shanghai-a)", "at least 2"],
    );
    assert_finding(
        &check,
        "residency.locations",
        "fail",
        &["backup target offsite at us-east-1", "cn-*"],
    );
    assert_finding(
        &check,
        "residency.jurisdiction",
        "pass",
        &["declares CN, as profile l3-lab requires"],
    );
    assert_finding(
        &check,
        "tls.required",
        "pass",
        &["not required by profile l3-lab"],
    );

    let text = yaoshi(addr, auditor, &["compliance", "check"]);
    assert_eq!(text.status.code(), Some(1));
    let text = stdout(&text);
    assert!(
        text.starts_with("profile l3-lab: 13 findings, 5 pass, 0 warn, 8 fail"),
        "{text}"
    );
    assert!(text.contains("\nFAIL    algorithms.key-types"), "{text}");
    assert!(text.contains("\n        1 of 4 keys have a type"), "{text}");

    // The inventory carries each key's rotation status.
    let out = lab._dir.path().join("report");
    let (r, _) = report(addr, auditor, &month, &out);
    let status: Vec<(String, String)> = r["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(k["max_rotation_days"], 365);
            (
                k["name"].as_str().unwrap().into(),
                k["rotation_status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("legacy", "ok"),
        ("orders", "ok"),
        ("soon", "due-soon"),
        ("stale", "overdue"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .to_vec();
    assert_eq!(status, want);
    assert_eq!(r["residency"]["min_data_centres"], 2);
    assert_eq!(r["residency"]["allowed_locations"], json!(["cn-*"]));
    let abroad: Vec<&Value> = r["residency"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["allowed"] == false)
        .collect();
    assert_eq!(abroad.len(), 1);
    assert_eq!(abroad[0]["name"], "offsite");
    let approvals = r["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    let a = &approvals[0];
    assert_eq!(a["operation"], "destroy-key transit/keys/legacy");
    assert_eq!(a["requester"], "sec1");
    assert_eq!(a["status"], "pending");
    assert_eq!(a["approvers"], json!(["root"]));
    assert_eq!(a["rejected_by"], json!([]));
    assert_eq!(a["decided_at"], Value::Null);
    assert_eq!(r["operations"]["by_operation"]["sys.approvals"], 1);
}

/// Checks a PNG's signature and IHDR size; returns (width, height).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR"
    );
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn the_live_report_renders_in_chromium() {
    let lab = lab_deployment();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_compliance");
    let _ = std::fs::remove_dir_all(&out);
    let (r, html) = report(&lab.srv.addr, &lab.auditor, &current_month(), &out);
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    println!("{}", chromium::chromium_version());
    println!("report: {}", html.display());

    let dom = chromium::run_chromium(&out, &["--dump-dom"], &url, &out.join("dom.html"));
    assert!(
        dom.contains("<title>yaoshi compliance report — l3-lab — "),
        "title"
    );
    for (id, heading) in SECTIONS {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "section {id}"
        );
        assert!(
            dom.contains(&format!("<h2>{heading}</h2>")),
            "heading {heading}"
        );
    }
    let tree_size = r["audit"]["checkpoint"]["tree_size"].as_u64().unwrap();
    assert!(tree_size < 1000, "shown without separators");
    for value in [
        "profile l3-lab".to_string(),
        "transit/legacy (aes256-gcm96)".to_string(),
        "<td class=\"wrap\">stale</td>".to_string(),
        "<span class=\"badge b-fail\">overdue</span>".to_string(),
        "<span class=\"badge b-warn\">due-soon</span>".to_string(),
        "<code>algorithms.key-types</code>".to_string(),
        "<span class=\"badge b-pass\">VERIFIED</span>".to_string(),
        format!("<tr><th>Tree size</th><td class=\"wrap mono\">{tree_size}</td></tr>"),
        "offsite".to_string(),
        "destroy-key transit/keys/legacy".to_string(),
        "<span class=\"badge b-warn\">pending</span>".to_string(),
        "<span class=\"badge b-fail\">not allowed</span>".to_string(),
        "-----BEGIN PUBLIC KEY-----".to_string(),
    ] {
        assert!(
            dom.contains(&value),
            "{value:?} missing from the rendered DOM"
        );
    }
    assert!(!dom.contains("<script") && !dom.contains("<img"));

    let png = out.join("report.png");
    chromium::run_chromium(
        &out,
        &[
            "--hide-scrollbars",
            "--window-size=1280,3000",
            &format!("--screenshot={}", png.display()),
        ],
        &url,
        &out.join("screenshot.stdout.txt"),
    );
    println!("screenshot: {}", png.display());
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert_eq!(png_size(&bytes), (1280, 3000));
    // A blank 1280x3000 page compresses to a few kilobytes.
    assert!(
        bytes.len() > 100_000,
        "screenshot only {} bytes",
        bytes.len()
    );
}
