//! `yaoshi audit` end to end against a real server on an SQLite file:
//! export + offline verify (intact, edited, deleted, reordered, truncated
//! below a saved checkpoint), online verify, tail, proofs, and an edit made
//! directly in the database caught both online and in a fresh export.

#[path = "compat/server.rs"]
mod server;

use serde_json::Value;
use server::{Server, http_json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn yaoshi(server: &Server, args: &[&str]) -> Output {
    server::yaoshi_cli(&server.addr, &server.token, args)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Runs `audit verify` on `file`; returns (exit code, stderr).
fn verify(server: &Server, file: &Path, key: &Path, cp: Option<&Path>) -> (i32, String) {
    let mut args = vec![
        "audit".to_string(),
        "verify".into(),
        file.display().to_string(),
        "--public-key".into(),
        key.display().to_string(),
    ];
    if let Some(cp) = cp {
        args.extend(["--checkpoint".into(), cp.display().to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = yaoshi(server, &refs);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn traffic(server: &Server, tag: &str) {
    let (s, _) = http_json(
        &server.addr,
        &server.token,
        "POST",
        &format!("/v1/transit/keys/{tag}"),
        r#"{"type":"sm4-gcm96"}"#,
    );
    assert_eq!(s, 200);
    for _ in 0..5 {
        let (s, _) = http_json(
            &server.addr,
            &server.token,
            "POST",
            &format!("/v1/transit/encrypt/{tag}"),
            r#"{"plaintext":"aGVsbG8="}"#,
        );
        assert_eq!(s, 200);
    }
    let (s, _) = http_json(
        &server.addr,
        "ys.bad",
        "GET",
        "/v1/transit/keys?list=true",
        "",
    );
    assert_eq!(s, 403);
}

/// The export's lines, and the line index of record `seq`.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn record_index(lines: &[String], seq: u64) -> usize {
    lines
        .iter()
        .position(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["type"] == "record" && v["seq"] == seq
        })
        .unwrap_or_else(|| panic!("record {seq} in the export"))
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn export_verify_tamper_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("yaoshi.db");
    let url = format!("sqlite://{}", db.display());
    let srv = Server::start_yaoshi_with(&["--storage", &url], &[]);
    traffic(&srv, "first");

    let key = dir.path().join("audit.pem");
    let pem = ok(&yaoshi(&srv, &["audit", "public-key"]));
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    std::fs::write(&key, &pem).unwrap();
    let saved = dir.path().join("cp.json");
    let cp_text = ok(&yaoshi(&srv, &["audit", "checkpoint"]));
    let cp: Value = serde_json::from_str(&cp_text).unwrap();
    let saved_size = cp["tree_size"].as_u64().unwrap();
    assert!(saved_size >= 8, "{cp}");
    assert_eq!(cp["signature_algorithm"], "ecdsa-p256-sha256");
    std::fs::write(&saved, &cp_text).unwrap();

    traffic(&srv, "second");
    let export = dir.path().join("log.jsonl");
    ok(&yaoshi(
        &srv,
        &["audit", "export", "--out", &export.display().to_string()],
    ));
    let all = lines(&export);
    assert!(all.len() as u64 > saved_size + 8);

    // Intact, and it extends the saved checkpoint.
    let intact = yaoshi(
        &srv,
        &[
            "audit",
            "verify",
            &export.display().to_string(),
            "--public-key",
            &key.display().to_string(),
            "--checkpoint",
            &saved.display().to_string(),
        ],
    );
    let text = ok(&intact);
    assert!(text.contains("audit log intact"), "{text}");
    assert!(text.contains(&format!("extends the saved checkpoint at {saved_size}")));

    // Edited: one character of record 3's body.
    let mut edited = all.clone();
    let i = record_index(&edited, 3);
    edited[i] = edited[i].replacen("\"method\":\"", "\"method\":\"x", 1);
    let (code, err) = verify(&srv, &write(dir.path(), "edited", &edited), &key, None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("sequence 3"), "{err}");

    // Deleted: record 5 is missing.
    let mut deleted = all.clone();
    deleted.remove(record_index(&deleted, 5));
    let (code, err) = verify(&srv, &write(dir.path(), "deleted", &deleted), &key, None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("sequence 5"), "{err}");

    // Reordered: records 6 and 7 swapped.
    let mut swapped = all.clone();
    let (a, b) = (record_index(&swapped, 6), record_index(&swapped, 7));
    swapped.swap(a, b);
    let (code, err) = verify(&srv, &write(dir.path(), "swapped", &swapped), &key, None);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("sequence 6") || err.contains("sequence 7"),
        "{err}"
    );

    // Truncated below the saved checkpoint, checkpoint lines dropped too:
    // consistent on its own, caught against the saved checkpoint.
    let cut = record_index(&all, saved_size - 2);
    let truncated: Vec<String> = all[..=cut]
        .iter()
        .filter(|l| !l.contains("\"type\":\"checkpoint\""))
        .cloned()
        .collect();
    let short = write(dir.path(), "truncated", &truncated);
    let (code, err) = verify(&srv, &short, &key, None);
    assert_eq!(
        code, 0,
        "without the saved checkpoint a clean prefix verifies: {err}"
    );
    let (code, err) = verify(&srv, &short, &key, Some(&saved));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("truncated"), "{err}");
    assert!(
        err.contains(&format!("sequence {}", saved_size - 1)),
        "{err}"
    );

    // Online verification, tail and proofs.
    let online = ok(&yaoshi(&srv, &["audit", "verify", "--online"]));
    assert!(online.contains("intact"), "{online}");
    let tail: Value =
        serde_json::from_str(&ok(&yaoshi(&srv, &["audit", "tail", "-n", "3", "--json"]))).unwrap();
    assert_eq!(tail["records"].as_array().unwrap().len(), 3);
    let proof = ok(&yaoshi(&srv, &["audit", "proof", "2"]));
    assert!(proof.contains("is included in"), "{proof}");
    assert!(proof.contains("signature valid"), "{proof}");

    // An edit made directly in the database: caught online and in a fresh export.
    let status = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             c.execute(\"UPDATE audit_records SET body = CAST(replace(CAST(body AS TEXT), '\\\"method\\\":\\\"', '\\\"method\\\":\\\"x') AS BLOB) WHERE seq = 4\")\n\
             c.commit()\n\
             assert c.total_changes == 1",
        )
        .arg(&db)
        .status()
        .unwrap();
    assert!(status.success());
    let online = yaoshi(&srv, &["audit", "verify", "--online"]);
    assert_eq!(online.status.code(), Some(3));
    let err = String::from_utf8_lossy(&online.stderr);
    assert!(err.contains("sequence 4"), "{err}");
    let fresh = dir.path().join("fresh.jsonl");
    ok(&yaoshi(
        &srv,
        &["audit", "export", "--out", &fresh.display().to_string()],
    ));
    let (code, err) = verify(&srv, &fresh, &key, None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("sequence 4"), "{err}");
}
