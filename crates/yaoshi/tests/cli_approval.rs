//! `yaoshi approval` against a dev server running an operator's own profile
//! that puts key destruction under dual control: the DELETE is parked, the
//! requester cannot approve it, a second admin's approval runs it.

#[path = "compat/server.rs"]
mod server;

use serde_json::Value;
use server::{Server, http_json};
use std::process::Output;

fn yaoshi(server: &Server, token: &str, args: &[&str]) -> Output {
    server::yaoshi_cli(&server.addr, token, args)
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
fn destroy_waits_for_a_second_admin() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("dual.toml");
    let shipped = include_str!("../../yaoshi-core/profiles/default.toml");
    let text = shipped
        .replace("name = \"default\"", "name = \"dual-test\"")
        .replace(
            "operations = []\napprovals = 0",
            "operations = [\"destroy-key\"]\napprovals = 1",
        );
    assert_ne!(text, shipped);
    std::fs::write(&profile, text).unwrap();
    let srv = Server::start_yaoshi_with(&["--profile", &profile.display().to_string()], &[]);
    let call = |token: &str, method: &str, path: &str, body: &str| {
        http_json(&srv.addr, token, method, &format!("/v1/{path}"), body)
    };
    assert_eq!(
        call(
            &srv.token,
            "POST",
            "transit/keys/k",
            r#"{"type":"sm4-gcm96"}"#
        )
        .0,
        200
    );
    // A destroy that could not run is refused at once, not parked.
    let (status, body) = call(&srv.token, "DELETE", "transit/keys/k", "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("deletion is not allowed"), "{body}");
    let (status, body) = call(&srv.token, "DELETE", "transit/keys/missing", "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not found"), "{body}");
    assert_eq!(
        call(
            &srv.token,
            "POST",
            "transit/keys/k/config",
            r#"{"deletion_allowed":true}"#
        )
        .0,
        200
    );
    let (status, body) = call(
        &srv.token,
        "POST",
        "sys/principals/sec2",
        r#"{"roles":["sec-admin"]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let sec2: Value = serde_json::from_str(&body).unwrap();
    let sec2 = sec2["data"]["token"].as_str().unwrap().to_string();

    let (status, body) = call(&srv.token, "DELETE", "transit/keys/k", "");
    assert_eq!(status, 202, "{body}");
    let parked: Value = serde_json::from_str(&body).unwrap();
    let id = parked["data"]["approval_id"].as_str().unwrap().to_string();

    let listed = json(&yaoshi(&srv, &srv.token, &["approval", "list", "--json"]));
    assert_eq!(listed["key_info"][&id]["status"], "pending");
    assert_eq!(listed["key_info"][&id]["operation"], "destroy-key");
    let text = String::from_utf8(yaoshi(&srv, &sec2, &["approval", "list"]).stdout).unwrap();
    assert!(
        text.contains(&format!(
            "{id} pending destroy-key transit/keys/k requested by root"
        )),
        "{text}"
    );

    let own = yaoshi(&srv, &srv.token, &["approval", "approve", &id]);
    assert_eq!(own.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&own.stderr).contains("requester"));
    assert_eq!(
        call(&srv.token, "GET", "transit/keys/k", "").0,
        200,
        "still there"
    );

    let done = yaoshi(&srv, &sec2, &["approval", "approve", &id]);
    let text = String::from_utf8(done.stdout).unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        text.contains("executed") && text.contains("approved by [sec2] result 204"),
        "{text}"
    );
    assert_eq!(
        call(&srv.token, "GET", "transit/keys/k", "").0,
        404,
        "destroyed"
    );
    let shown = json(&yaoshi(
        &srv,
        &srv.token,
        &["approval", "show", &id, "--json"],
    ));
    assert_eq!(shown["status"], "executed");
    assert_eq!(
        yaoshi(&srv, &sec2, &["approval", "reject", &id])
            .status
            .code(),
        Some(2)
    );
}
