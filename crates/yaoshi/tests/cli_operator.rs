//! `yaoshi operator` against a stored server: init prints the shares and the
//! root token, unseal takes the threshold, and after a restart the same
//! storage needs only unsealing; `status` exit codes follow the seal.

#[path = "compat/server.rs"]
mod server;

use serde_json::Value;
use server::Server;
use std::process::Output;

fn yaoshi(server: &Server, token: Option<&str>, args: &[&str]) -> Output {
    server::yaoshi_cli(&server.addr, token.unwrap_or(""), args)
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn init_unseal_restart_unseal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("y.db").display());
    let srv = Server::start_yaoshi_stored(&url);
    assert_eq!(
        yaoshi(&srv, None, &["operator", "status"]).status.code(),
        Some(2)
    );

    let init = json(&yaoshi(
        &srv,
        None,
        &[
            "operator",
            "init",
            "--shares",
            "3",
            "--threshold",
            "2",
            "--json",
        ],
    ));
    let shares: Vec<String> = serde_json::from_value(init["keys_base64"].clone()).unwrap();
    let root = init["root_token"].as_str().unwrap().to_string();
    assert_eq!(shares.len(), 3);
    let again = yaoshi(&srv, None, &["operator", "init"]);
    assert_eq!(again.status.code(), Some(2), "second init is a 400");

    let first = json(&yaoshi(
        &srv,
        None,
        &["operator", "unseal", &shares[0], "--json"],
    ));
    assert_eq!(
        (first["sealed"].clone(), first["progress"].clone()),
        (Value::Bool(true), 1.into())
    );
    let second = json(&yaoshi(
        &srv,
        None,
        &["operator", "unseal", &shares[2], "--json"],
    ));
    assert_eq!(second["sealed"], Value::Bool(false));
    assert_eq!(
        yaoshi(&srv, None, &["operator", "status"]).status.code(),
        Some(0)
    );

    let created = yaoshi(
        &srv,
        Some(&root),
        &["key", "create", "kept", "--type", "sm4-gcm96"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let ct = yaoshi(&srv, Some(&root), &["encrypt", "kept", "still here"]);
    let ct = String::from_utf8(ct.stdout).unwrap().trim().to_string();
    drop(srv);

    let srv = Server::start_yaoshi_stored(&url);
    assert_eq!(
        yaoshi(&srv, None, &["operator", "status"]).status.code(),
        Some(2)
    );
    let sealed = yaoshi(&srv, Some(&root), &["decrypt", "kept", &ct]);
    assert_eq!(sealed.status.code(), Some(1), "503 while sealed");
    for share in &shares[1..] {
        yaoshi(&srv, None, &["operator", "unseal", share]);
    }
    let pt = yaoshi(&srv, Some(&root), &["decrypt", "kept", &ct]);
    assert_eq!(String::from_utf8_lossy(&pt.stdout), "still here");
    let sealed = yaoshi(&srv, Some(&root), &["operator", "seal"]);
    assert!(sealed.status.success());
    assert_eq!(
        yaoshi(&srv, None, &["operator", "status"]).status.code(),
        Some(2)
    );
}
