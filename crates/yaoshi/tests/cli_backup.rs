//! `yaoshi operator backup` / `restore` / `verify-backup` against real
//! servers on SQLite files: a Shamir deployment with keys of several types,
//! a rotated version, a destroyed key, an app principal and an audit log is
//! backed up; the file is private, holds no plaintext, and verifies offline
//! with the audit public key (an edited copy does not). Restored into a
//! server on a fresh database it is initialised but sealed: encrypt is
//! refused, another deployment's shares and a single share do not unseal,
//! the original quorum does. Then every key is back (old ciphertexts
//! decrypt, the old signature verifies, the rotated key is at version 2,
//! the destroyed key stays gone, a key created after the backup does not
//! exist), the app's token works, and the audit log verifies online and
//! offline with the original public key and continues after the restore.
//! A dev-sealed deployment and an undeclared destination are refused.

#[path = "compat/server.rs"]
mod server;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use server::{Server, http_json, yaoshi_cli};
use std::process::Output;

/// One test at a time: each starts servers on ports `free_port` picks, and
/// two tests running at once could be handed the same one.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// A JSON API call that must answer `want`; returns the body.
fn call(srv: &Server, token: &str, method: &str, path: &str, body: Value, want: u16) -> Value {
    let (got, text) = http_json(
        &srv.addr,
        token,
        method,
        &format!("/v1/{path}"),
        &body.to_string(),
    );
    assert_eq!(got, want, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn cli_json(srv: &Server, token: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(&yaoshi_cli(&srv.addr, token, &all))).expect("JSON output")
}

/// Initialises a stored server with 3 shares, threshold 2; returns
/// (shares, root token), still sealed.
fn init(srv: &Server) -> (Vec<String>, String) {
    let init = cli_json(
        srv,
        "",
        &["operator", "init", "--shares", "3", "--threshold", "2"],
    );
    let shares = serde_json::from_value(init["keys_base64"].clone()).unwrap();
    (shares, init["root_token"].as_str().unwrap().to_string())
}

fn unseal(srv: &Server, share: &str) -> Output {
    yaoshi_cli(&srv.addr, "", &["operator", "unseal", share, "--json"])
}

fn stored(dir: &tempfile::TempDir, name: &str) -> Server {
    Server::start_yaoshi_stored(&format!("sqlite://{}", dir.path().join(name).display()))
}

#[test]
fn backup_restores_into_a_fresh_database_only_with_the_quorum() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let a = stored(&dir, "a.db");
    let (shares, root) = init(&a);
    for share in &shares[..2] {
        ok(&unseal(&a, share));
    }
    for (name, key_type) in [
        ("orders", "aes256-gcm96"),
        ("cn", "sm4-gcm96"),
        ("signer", "ecdsa-p256"),
        ("gone", "aes256-gcm96"),
    ] {
        call(
            &a,
            &root,
            "POST",
            &format!("transit/keys/{name}"),
            json!({"type": key_type}),
            200,
        );
    }
    let secret = "backup-plaintext-7f3a";
    let b64 = STANDARD.encode(secret);
    let encrypt = |srv: &Server, token: &str, key: &str| -> String {
        call(
            srv,
            token,
            "POST",
            &format!("transit/encrypt/{key}"),
            json!({"plaintext": b64}),
            200,
        )["data"]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let v1 = encrypt(&a, &root, "orders");
    call(
        &a,
        &root,
        "POST",
        "transit/keys/orders/rotate",
        json!({}),
        200,
    );
    let v2 = encrypt(&a, &root, "orders");
    assert!(v1.starts_with("vault:v1:") && v2.starts_with("vault:v2:"));
    let sm4 = encrypt(&a, &root, "cn");
    let signature = call(
        &a,
        &root,
        "POST",
        "transit/sign/signer",
        json!({"input": b64}),
        200,
    )["data"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &a,
        &root,
        "POST",
        "transit/keys/gone/config",
        json!({"deletion_allowed": true}),
        200,
    );
    call(&a, &root, "DELETE", "transit/keys/gone", json!({}), 204);
    let app = call(
        &a,
        &root,
        "POST",
        "sys/principals/billing",
        json!({"roles": ["app"], "grants": ["orders:encrypt,decrypt"]}),
        200,
    );
    let app_token = app["data"]["token"]
        .as_str()
        .expect("issued token")
        .to_string();
    let app_ct = encrypt(&a, &app_token, "orders");

    // The backup, and the offline check of its signature.
    let file = dir.path().join("deployment.backup");
    let file_s = file.to_str().unwrap();
    let taken = cli_json(&a, &root, &["operator", "backup", "--out", file_s]);
    assert_eq!(taken["backup"]["contents"]["keys"], 4, "{taken}");
    assert_eq!(taken["backup"]["seal"]["threshold"], 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup is private");
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 3);
    for needle in [secret, b64.as_str(), root.as_str(), app_token.as_str()] {
        assert!(
            !text.contains(needle),
            "the backup must not hold {needle:?} in clear"
        );
    }
    let pem = dir.path().join("audit.pem");
    std::fs::write(
        &pem,
        ok(&yaoshi_cli(&a.addr, &root, &["audit", "public-key"])),
    )
    .unwrap();
    let pem_s = pem.to_str().unwrap();
    let verified = cli_json(
        &a,
        "",
        &["operator", "verify-backup", file_s, "--public-key", pem_s],
    );
    assert_eq!(verified["verified"], true, "{verified}");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // One base64 digit in the middle of the payload, still valid base64.
    let middle = lines[1].len() / 2;
    let flipped = if &lines[1][middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    lines[1].replace_range(middle..=middle, flipped);
    let edited = dir.path().join("edited.backup");
    std::fs::write(&edited, lines.join("\n") + "\n").unwrap();
    let edited_s = edited.to_str().unwrap();
    let out = yaoshi_cli(
        &a.addr,
        "",
        &["operator", "verify-backup", edited_s, "--public-key", pem_s],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "an edited backup fails verification"
    );

    // Written after the backup: not part of it.
    call(&a, &root, "POST", "transit/keys/later", json!({}), 200);
    let audit_at_backup = taken["backup"]["contents"]["audit_last_seq"]
        .as_i64()
        .unwrap();
    assert!(audit_at_backup > 10, "{taken}");

    // Another deployment, for shares that are not this one's.
    let other = stored(&dir, "other.db");
    let (other_shares, _) = init(&other);

    // Restore into a fresh database.
    let b = stored(&dir, "b.db");
    let out = yaoshi_cli(&b.addr, "", &["operator", "restore", edited_s]);
    assert_eq!(out.status.code(), Some(2), "a damaged file is refused");
    assert_eq!(
        call(&b, "", "GET", "sys/init", json!({}), 200)["initialized"],
        false
    );
    let staged = cli_json(&b, "", &["operator", "restore", file_s]);
    assert_eq!(
        (staged["initialized"].clone(), staged["sealed"].clone()),
        (json!(true), json!(true))
    );
    let again = yaoshi_cli(&b.addr, "", &["operator", "restore", file_s]);
    assert_eq!(again.status.code(), Some(2), "only into an empty store");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already initialised"));
    let (status, _) = http_json(
        &b.addr,
        &root,
        "POST",
        "/v1/transit/encrypt/orders",
        &json!({"plaintext": b64}).to_string(),
    );
    assert_eq!(status, 503, "sealed until the quorum unseals it");
    ok(&unseal(&b, &other_shares[0]));
    let wrong = unseal(&b, &other_shares[1]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("does not match this deployment"),
        "{wrong:?}"
    );
    let still = yaoshi_cli(&b.addr, "", &["operator", "status", "--json"]);
    assert_eq!(
        still.status.code(),
        Some(2),
        "another deployment's shares do not unseal"
    );
    let still: Value = serde_json::from_slice(&still.stdout).unwrap();
    assert_eq!(
        (still["sealed"].clone(), still["initialized"].clone()),
        (json!(true), json!(true))
    );
    let one = serde_json::from_str::<Value>(&ok(&unseal(&b, &shares[2]))).unwrap();
    assert_eq!(
        (one["sealed"].clone(), one["progress"].clone()),
        (json!(true), json!(1))
    );
    let two = serde_json::from_str::<Value>(&ok(&unseal(&b, &shares[0]))).unwrap();
    assert_eq!(two["sealed"], false, "{two}");

    // Every key is back.
    for ct in [&v1, &v2, &sm4, &app_ct] {
        let key = if ct == &sm4 { "cn" } else { "orders" };
        let plain = call(
            &b,
            &root,
            "POST",
            &format!("transit/decrypt/{key}"),
            json!({"ciphertext": ct}),
            200,
        );
        assert_eq!(plain["data"]["plaintext"], b64.as_str());
    }
    let valid = call(
        &b,
        &root,
        "POST",
        "transit/verify/signer",
        json!({"input": b64, "signature": signature}),
        200,
    );
    assert_eq!(valid["data"]["valid"], true);
    let orders = call(&b, &root, "GET", "transit/keys/orders", json!({}), 200);
    assert_eq!(orders["data"]["latest_version"], 2);
    call(&b, &root, "GET", "transit/keys/gone", json!({}), 404);
    call(&b, &root, "GET", "transit/keys/later", json!({}), 404);
    assert!(
        encrypt(&b, &app_token, "orders").starts_with("vault:v2:"),
        "the app's token works"
    );
    call(
        &b,
        &app_token,
        "POST",
        "transit/encrypt/cn",
        json!({"plaintext": b64}),
        403,
    );

    // The audit log verifies, online and offline with the original key,
    // and goes on from where the backup left it.
    ok(&yaoshi_cli(
        &b.addr,
        &root,
        &["audit", "verify", "--online"],
    ));
    let export = dir.path().join("restored-audit.jsonl");
    ok(&yaoshi_cli(
        &b.addr,
        &root,
        &["audit", "export", "--out", export.to_str().unwrap()],
    ));
    let report = cli_json(
        &b,
        "",
        &[
            "audit",
            "verify",
            export.to_str().unwrap(),
            "--public-key",
            pem_s,
        ],
    );
    assert_eq!(report["verified"], true, "{report}");
    let last = report["report"]["last_seq"].as_i64().unwrap();
    assert!(
        last > audit_at_backup,
        "records after the restore extend the chain: {report}"
    );
    let restored_records = call(
        &b,
        &root,
        "GET",
        &format!("sys/audit/records?from=1&limit={audit_at_backup}"),
        json!({}),
        200,
    );
    let first = &restored_records["data"]["records"][0];
    assert_eq!(
        first["seq"], 1,
        "the log starts at the deployment's first record: {first}"
    );
}

#[test]
fn dev_seals_and_undeclared_destinations_are_refused() {
    let _serial = serial();
    let dev = Server::start_yaoshi();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("dev.backup");
    let out = yaoshi_cli(
        &dev.addr,
        &dev.token,
        &["operator", "backup", "--out", out_file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dev-sealed"),
        "{out:?}"
    );
    assert!(!out_file.exists());
    let out = yaoshi_cli(
        &dev.addr,
        &dev.token,
        &[
            "operator",
            "backup",
            "--out",
            out_file.to_str().unwrap(),
            "--destination",
            "nowhere",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a declared backup target"),
        "{out:?}"
    );
}
