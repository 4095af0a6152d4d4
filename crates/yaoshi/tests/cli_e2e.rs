//! End to end: starts `yaoshi server --dev` on a free loopback port and drives
//! every CLI command against it, checking output and exit codes.

#[path = "compat/server.rs"]
mod server;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use server::Server;
use std::io::Write;

use std::process::{Command, Output, Stdio};

/// One CLI invocation's result.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_string()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.text()))
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs the CLI against the server with `token`, feeding `stdin`.
fn cli(server: &Server, token: Option<&str>, args: &[&str], stdin: &[u8]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    for v in server::CLI_ENV_VARS {
        cmd.env_remove(v);
    }
    cmd.env("YAOSHI_ADDR", &server.addr);
    if let Some(t) = token {
        cmd.env("YAOSHI_TOKEN", t);
    }
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn yaoshi");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait yaoshi").into()
}

/// Runs as root and expects exit code `code`.
#[track_caller]
fn root(server: &Server, args: &[&str], code: i32) -> Run {
    let run = cli(server, Some(server.token.as_str()), args, b"");
    assert_eq!(
        run.code,
        code,
        "yaoshi {args:?}: stdout {:?}, stderr {:?}",
        run.text(),
        run.stderr
    );
    run
}

#[test]
fn every_command_against_a_dev_server() {
    let server = Server::start_yaoshi();
    let s = &server;

    // operator status: unsealed → exit 0, no token needed.
    let run = cli(s, None, &["operator", "status"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.text().contains("Sealed"));
    let run = cli(s, None, &["operator", "status", "--json"], b"");
    assert_eq!(run.json()["sealed"], Value::Bool(false));
    // Already initialised: a 4xx.
    let run = root(
        s,
        &["operator", "init", "--shares", "1", "--threshold", "1"],
        2,
    );
    assert!(run.stderr.starts_with("error: 4"), "{}", run.stderr);

    // key create / list / show.
    root(s, &["key", "create", "app-aes"], 0);
    root(s, &["key", "create", "app-sm4", "--type", "sm4-gcm96"], 0);
    root(s, &["key", "create", "app-sm2", "--type", "sm2"], 0);
    root(s, &["key", "create", "app-p256", "--type", "ecdsa-p256"], 0);
    root(
        s,
        &[
            "key",
            "create",
            "other",
            "--type",
            "aes256-gcm96",
            "--exportable",
            "--auto-rotate-period",
            "24h",
        ],
        0,
    );
    let run = root(s, &["key", "create", "bad", "--type", "nope"], 2);
    assert!(run.stderr.starts_with("error: 400: "), "{}", run.stderr);
    let names = root(s, &["key", "list"], 0).text();
    for name in ["app-aes", "app-sm4", "app-sm2", "app-p256", "other"] {
        assert!(
            names.lines().any(|l| l == name),
            "{name} not listed: {names}"
        );
    }
    let keys = root(s, &["key", "list", "--json"], 0).json();
    assert!(keys["keys"].as_array().expect("keys").len() >= 5);
    let shown = root(s, &["key", "show", "app-sm4", "--json"], 0).json();
    assert_eq!(shown["name"], "app-sm4");
    assert_eq!(shown["type"], "sm4-gcm96");
    assert_eq!(shown["latest_version"], 1);
    assert!(
        root(s, &["key", "show", "app-aes"], 0)
            .text()
            .contains("latest_version")
    );
    root(s, &["key", "show", "missing-key"], 2);

    // encrypt / decrypt: argument, stdin, @file, binary data, associated data.
    let ct1 = root(s, &["encrypt", "app-aes", "hello world"], 0).text();
    assert!(ct1.starts_with("vault:v1:"), "{ct1}");
    assert_eq!(
        root(s, &["decrypt", "app-aes", &ct1], 0).stdout,
        b"hello world"
    );
    let binary: Vec<u8> = (0..=255u8).collect();
    let run = cli(
        s,
        Some(server.token.as_str()),
        &["encrypt", "app-sm4", "-", "--associated-data", "hdr"],
        &binary,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sm4_ct = run.text();
    let dir = std::env::temp_dir().join(format!("yaoshi-cli-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ct_file = dir.join("ct.txt");
    std::fs::write(&ct_file, format!("{sm4_ct}\n")).expect("write ct");
    let at = format!("@{}", ct_file.display());
    let run = root(
        s,
        &["decrypt", "app-sm4", &at, "--associated-data", "hdr"],
        0,
    );
    assert_eq!(run.stdout, binary);
    root(
        s,
        &["decrypt", "app-sm4", &at, "--associated-data", "other"],
        2,
    );
    let run = cli(
        s,
        Some(server.token.as_str()),
        &["decrypt", "app-aes"],
        format!("{ct1}\n").as_bytes(),
    );
    assert_eq!(run.stdout, b"hello world");
    let dec = root(s, &["decrypt", "app-aes", &ct1, "--json"], 0).json();
    assert_eq!(dec["plaintext"], STANDARD.encode("hello world"));
    let enc = root(s, &["encrypt", "app-aes", "x", "--json"], 0).json();
    assert_eq!(enc["key_version"], 1);

    // rotate, then config: old ciphertexts refused after min_decryption_version.
    let rotated = root(s, &["key", "rotate", "app-aes", "--json"], 0).json();
    assert_eq!(rotated["latest_version"], 2);
    let ct2 = root(s, &["encrypt", "app-aes", "after rotation"], 0).text();
    assert!(ct2.starts_with("vault:v2:"), "{ct2}");
    assert_eq!(
        root(s, &["decrypt", "app-aes", &ct1], 0).stdout,
        b"hello world"
    );
    root(
        s,
        &["key", "config", "app-aes", "--min-decryption-version", "2"],
        0,
    );
    root(s, &["decrypt", "app-aes", &ct1], 2);
    assert_eq!(
        root(s, &["decrypt", "app-aes", &ct2], 0).stdout,
        b"after rotation"
    );

    // sign / verify: SM2 (sm3) and ECDSA P-256.
    let sig = root(s, &["sign", "app-sm2", "message"], 0).text();
    assert!(sig.starts_with("vault:v1:"), "{sig}");
    assert_eq!(
        root(s, &["verify", "app-sm2", "message", "--signature", &sig], 0).text(),
        "true"
    );
    assert_eq!(
        root(
            s,
            &["verify", "app-sm2", "tampered", "--signature", &sig],
            3
        )
        .text(),
        "false"
    );
    let verdict = root(
        s,
        &[
            "verify",
            "app-sm2",
            "tampered",
            "--signature",
            &sig,
            "--json",
        ],
        3,
    )
    .json();
    assert_eq!(verdict["valid"], Value::Bool(false));
    let sig = root(
        s,
        &[
            "sign",
            "app-p256",
            "message",
            "--hash-algorithm",
            "sha2-256",
        ],
        0,
    )
    .text();
    let sig_file = dir.join("sig.txt");
    std::fs::write(&sig_file, &sig).expect("write sig");
    let at_sig = format!("@{}", sig_file.display());
    root(
        s,
        &[
            "verify",
            "app-p256",
            "message",
            "--hash-algorithm",
            "sha2-256",
            "--signature",
            &at_sig,
        ],
        0,
    );
    root(s, &["sign", "app-aes", "message"], 2);

    // datakey, plaintext and wrapped.
    let dk = root(
        s,
        &[
            "datakey",
            "app-sm4",
            "--plaintext",
            "--bits",
            "128",
            "--json",
        ],
        0,
    )
    .json();
    let dk_plain = STANDARD
        .decode(dk["plaintext"].as_str().expect("plaintext"))
        .expect("b64");
    assert_eq!(dk_plain.len(), 16);
    let dk_ct = dk["ciphertext"].as_str().expect("ciphertext");
    assert_eq!(root(s, &["decrypt", "app-sm4", dk_ct], 0).stdout, dk_plain);
    let wrapped = root(s, &["datakey", "app-aes", "--json"], 0).json();
    assert!(wrapped.get("plaintext").is_none());
    assert!(
        wrapped["ciphertext"]
            .as_str()
            .expect("ciphertext")
            .starts_with("vault:v2:")
    );
    let text = root(s, &["datakey", "app-aes", "--plaintext"], 0).text();
    assert!(text.contains("plaintext") && text.contains("ciphertext"));

    // hmac.
    let mac = root(s, &["hmac", "app-aes", "data"], 0).text();
    assert!(mac.starts_with("vault:v2:"), "{mac}");
    assert_eq!(root(s, &["hmac", "app-aes", "data"], 0).text(), mac);
    assert_ne!(
        root(
            s,
            &["hmac", "app-aes", "data", "--algorithm", "sha2-512"],
            0
        )
        .text(),
        mac
    );
    let sm3 = root(
        s,
        &["hmac", "app-sm4", "data", "--algorithm", "sm3", "--json"],
        0,
    )
    .json();
    assert!(sm3["hmac"].as_str().expect("hmac").starts_with("vault:v1:"));

    // key delete: refused until deletion is allowed.
    let run = root(s, &["key", "delete", "other"], 2);
    assert!(run.stderr.starts_with("error: 400: "), "{}", run.stderr);
    root(
        s,
        &["key", "config", "other", "--deletion-allowed", "true"],
        0,
    );
    let deleted = root(s, &["key", "delete", "other", "--json"], 0).json();
    assert_eq!(deleted, serde_json::json!({}));
    root(s, &["key", "show", "other"], 2);

    // principals: a grant on app-* only.
    let created = root(
        s,
        &[
            "principal",
            "create",
            "app",
            "--role",
            "app",
            "--grant",
            "app-*:encrypt,decrypt",
            "--json",
        ],
        0,
    )
    .json();
    let obj = created.as_object().expect("object");
    let mut fields: Vec<&str> = obj.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["grants", "name", "roles", "token"]);
    assert_eq!(created["name"], "app");
    assert_eq!(created["roles"], serde_json::json!(["app"]));
    assert_eq!(
        created["grants"],
        serde_json::json!(["app-*:encrypt,decrypt"])
    );
    let app_token = created["token"].as_str().expect("token").to_string();
    assert!(!app_token.is_empty());
    let listed = root(s, &["principal", "list"], 0).text();
    assert!(listed.contains("app"), "{listed}");
    let listed = root(s, &["principal", "list", "--json"], 0).json();
    assert!(
        listed["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k == "app")
    );

    // The app token: granted key works, anything else is 403 → exit 2.
    let run = cli(
        s,
        Some(&app_token),
        &["encrypt", "app-aes", "from app"],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let app_ct = run.text();
    let run = cli(s, Some(&app_token), &["decrypt", "app-aes", &app_ct], b"");
    assert_eq!(run.stdout, b"from app");
    let run = cli(s, Some(&app_token), &["sign", "app-sm2", "m"], b"");
    assert_eq!(run.code, 2, "sign not granted: {}", run.stderr);
    root(s, &["key", "create", "secret-key"], 0);
    let run = cli(s, Some(&app_token), &["encrypt", "secret-key", "x"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: 403: "), "{}", run.stderr);
    assert!(!run.stderr.contains(&app_token));
    let run = cli(s, Some(&app_token), &["key", "delete", "app-aes"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = cli(s, Some(&app_token), &["principal", "list"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    // No token and a wrong token: 403.
    assert_eq!(cli(s, None, &["encrypt", "app-aes", "x"], b"").code, 2);
    assert_eq!(cli(s, Some("not-a-token"), &["key", "list"], b"").code, 2);

    // Revocation ends the token.
    let revoked = root(s, &["principal", "revoke", "app", "--json"], 0).json();
    assert_eq!(revoked, serde_json::json!({}));
    let run = cli(s, Some(&app_token), &["encrypt", "app-aes", "x"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);

    // seal: status then exits 2; data commands fail; unseal --reset reports progress.
    root(s, &["operator", "seal"], 0);
    let run = cli(s, None, &["operator", "status"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = cli(s, None, &["operator", "status", "--json"], b"");
    assert_eq!(run.json()["sealed"], Value::Bool(true));
    let run = root(s, &["encrypt", "app-aes", "x"], 1);
    assert!(run.stderr.starts_with("error: 503: "), "{}", run.stderr);
    let progress = root(s, &["operator", "unseal", "--reset", "--json"], 0).json();
    assert_eq!(progress["sealed"], Value::Bool(true));
    assert_eq!(progress["progress"], 0);

    std::fs::remove_dir_all(&dir).expect("cleanup");
}
