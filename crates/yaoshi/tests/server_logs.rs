//! Logs never carry secrets: a dev server with JSON logs at debug level is
//! driven through principal creation, token creation, data operations and
//! refused requests; its whole output is then searched for every token and
//! plaintext it saw. Each log line must be a JSON object.

#[path = "compat/server.rs"]
mod server;

use server::{Server, http_json};

fn data_field(body: &str, pointer: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v.pointer(pointer)
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("{pointer} missing in {body}"))
        .to_string()
}

#[test]
fn tokens_and_plaintexts_never_reach_the_logs() {
    let srv = Server::start_yaoshi_with(&["--log-json"], &[("YAOSHI_LOG", "debug")]);
    let (a, root) = (srv.addr.as_str(), srv.token.as_str());
    let plaintext_b64 = "c2VjcmV0LXBsYWludGV4dC1tYXJrZXI="; // "secret-plaintext-marker"

    let (s, _) = http_json(a, root, "POST", "/v1/transit/keys/app-k", "{}");
    assert_eq!(s, 200);
    let (s, made) = http_json(
        a,
        root,
        "POST",
        "/v1/sys/principals/logged",
        r#"{"roles":["app"],"grants":["app-*:encrypt,decrypt"]}"#,
    );
    assert_eq!(s, 200, "{made}");
    let app = data_field(&made, "/data/token");
    let (s, child) = http_json(a, &app, "POST", "/v1/auth/token/create", "{}");
    assert_eq!(s, 200, "{child}");
    let child = data_field(&child, "/auth/client_token");
    let body = format!(r#"{{"plaintext":"{plaintext_b64}"}}"#);
    let (s, ct) = http_json(a, &child, "POST", "/v1/transit/encrypt/app-k", &body);
    assert_eq!(s, 200, "{ct}");
    let ciphertext = data_field(&ct, "/data/ciphertext");
    let (s, _) = http_json(
        a,
        &app,
        "POST",
        "/v1/transit/decrypt/app-k",
        &format!(r#"{{"ciphertext":"{ciphertext}"}}"#),
    );
    assert_eq!(s, 200);
    let wrong_token = "ys.this-token-does-not-exist-but-must-not-be-logged";
    let (s, _) = http_json(a, wrong_token, "POST", "/v1/transit/encrypt/app-k", &body);
    assert_eq!(s, 403);
    let (s, _) = http_json(a, &app, "GET", "/v1/sys/mounts", "");
    assert_eq!(s, 403);
    let (s, _) = http_json(a, &child, "POST", "/v1/auth/token/revoke-self", "{}");
    assert_eq!(s, 204);

    let log = srv.log();
    let mut records = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        if line.trim_start().starts_with("Root Token:") {
            // The dev banner prints the root token on purpose, as Vault does.
            continue;
        }
        for secret in [
            root,
            app.as_str(),
            child.as_str(),
            wrong_token,
            plaintext_b64,
            "secret-plaintext-marker",
        ] {
            assert!(
                !line.contains(secret),
                "a secret reached the output: {line}"
            );
        }
        if let Ok(serde_json::Value::Object(record)) = serde_json::from_str(line) {
            records += 1;
            assert!(
                record.contains_key("level") && record.contains_key("fields"),
                "{line}"
            );
        }
    }
    // One record per request at least (the requests above plus health polls).
    assert!(
        records >= 9,
        "expected JSON log records, got {records}:\n{log}"
    );
    assert!(log.contains("\"operation\":\"transit.encrypt\""), "{log}");
}
