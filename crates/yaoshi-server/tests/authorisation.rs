//! Principals over HTTP: an `app` principal can do exactly what its grants
//! allow and gets 403 otherwise; admin roles are separated; revoked tokens
//! and principals stop working on the next request.

mod http;

use http::{Api, ROOT, b64, dev_server};
use serde_json::json;

async fn principal(root: &Api, name: &str, roles: &[&str], grants: &[&str]) -> Api {
    let made = root
        .post(
            &format!("sys/principals/{name}"),
            json!({ "roles": roles, "grants": grants }),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let token = made.data()["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ys."), "token shape");
    root.as_token(&token)
}

#[tokio::test(flavor = "multi_thread")]
async fn app_principal_does_exactly_what_its_grants_allow() {
    let server = dev_server().await;
    let root = Api::new(&server, Some(ROOT));
    for (key, kind) in [
        ("app-data", "aes256-gcm96"),
        ("app-sign", "ecdsa-p256"),
        ("other", "sm4-gcm96"),
    ] {
        let r = root
            .post(&format!("transit/keys/{key}"), json!({"type": kind}))
            .await;
        assert_eq!(r.status, 200);
    }
    let app = principal(
        &root,
        "billing",
        &["app"],
        &["app-*:encrypt,decrypt", "app-sign:sign"],
    )
    .await;

    // Allowed: exactly the granted operations on matching keys.
    let ct = app
        .post("transit/encrypt/app-data", json!({"plaintext": b64(b"hi")}))
        .await;
    assert_eq!(ct.status, 200, "{}", ct.text);
    let ciphertext = ct.data()["ciphertext"].as_str().unwrap().to_string();
    let pt = app
        .post(
            "transit/decrypt/app-data",
            json!({"ciphertext": ciphertext}),
        )
        .await;
    assert_eq!(
        (pt.status.as_u16(), pt.data()["plaintext"].clone()),
        (200, json!(b64(b"hi")))
    );
    assert_eq!(
        app.post("transit/sign/app-sign", json!({"input": b64(b"x")}))
            .await
            .status,
        200
    );
    assert_eq!(app.post("transit/random/16", json!({})).await.status, 200);
    assert_eq!(
        app.post("transit/hash/sm3", json!({"input": b64(b"x")}))
            .await
            .status,
        200
    );
    assert_eq!(app.get("auth/token/lookup-self").await.status, 200);

    // Everything else: 403 "permission denied".
    let denied = [
        (
            "POST",
            "transit/encrypt/other",
            json!({"plaintext": b64(b"hi")}),
        ),
        (
            "POST",
            "transit/rewrap/app-data",
            json!({"ciphertext": ciphertext}),
        ),
        ("POST", "transit/sign/app-data", json!({"input": b64(b"x")})),
        (
            "POST",
            "transit/verify/app-sign",
            json!({"input": b64(b"x"), "signature": "vault:v1:AA=="}),
        ),
        ("POST", "transit/hmac/app-data", json!({"input": b64(b"x")})),
        ("POST", "transit/datakey/plaintext/app-data", json!({})),
        ("GET", "transit/keys/app-data", json!(null)),
        ("LIST", "transit/keys", json!(null)),
        ("POST", "transit/keys/app-new", json!({})),
        ("POST", "transit/keys/app-data/rotate", json!({})),
        (
            "POST",
            "transit/keys/app-data/config",
            json!({"deletion_allowed": true}),
        ),
        ("DELETE", "transit/keys/app-data", json!(null)),
        ("GET", "transit/export/encryption-key/app-data", json!(null)),
        ("GET", "transit/backup/app-data", json!(null)),
        ("GET", "transit/wrapping_key", json!(null)),
        ("GET", "sys/mounts", json!(null)),
        ("POST", "sys/mounts/t2", json!({"type": "transit"})),
        ("POST", "sys/seal", json!({})),
        ("GET", "sys/metrics", json!(null)),
        ("LIST", "sys/principals", json!(null)),
        (
            "POST",
            "sys/principals/evil",
            json!({"roles": ["app"], "grants": ["*:*"]}),
        ),
        (
            "POST",
            "sys/principals/evil2",
            json!({"roles": ["no-such-role"]}),
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body) in denied {
        let body = (!body.is_null()).then_some(body);
        let r = app.call(method, path, body).await;
        if r.status != 403 || r.error() != "permission denied" {
            wrong.push(format!("{method} {path}: {} {}", r.status, r.text));
        }
    }
    assert!(wrong.is_empty(), "not refused with 403: {wrong:#?}");
    // Encrypt on a missing granted key does not upsert it: creating keys is
    // key management, which an app principal may not do.
    let r = app
        .post(
            "transit/encrypt/app-new",
            json!({"plaintext": b64(b"upsert")}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.error()),
        (400, "encryption key not found".into())
    );
    assert_eq!(root.get("transit/keys/app-new").await.status, 404);
    // Batches are authorised once for the key: a batch on a non-granted key is refused whole.
    let r = app
        .post(
            "transit/encrypt/other",
            json!({"batch_input": [{"plaintext": b64(b"a")}]}),
        )
        .await;
    assert_eq!(r.status, 403);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_roles_are_separated() {
    let server = dev_server().await;
    let root = Api::new(&server, Some(ROOT));
    let sec = principal(&root, "sec", &["sec-admin"], &[]).await;
    let sys = principal(&root, "ops", &["sys-admin"], &[]).await;
    let auditor = principal(&root, "outside", &["auditor"], &[]).await;

    // sec-admin manages keys and app principals but does not use keys.
    assert_eq!(
        sec.post("transit/keys/k1", json!({"type": "sm2"}))
            .await
            .status,
        200
    );
    assert_eq!(
        sec.post("transit/keys/k1/rotate", json!({})).await.status,
        200
    );
    assert_eq!(
        sec.post("transit/encrypt/k1", json!({"plaintext": b64(b"x")}))
            .await
            .status,
        403
    );
    assert_eq!(
        sec.post("transit/sign/k1", json!({"input": b64(b"x")}))
            .await
            .status,
        403
    );
    assert_eq!(
        sec.post("sys/mounts/t2", json!({"type": "transit"}))
            .await
            .status,
        403
    );
    let app = principal(&sec, "app1", &["app"], &["k1:sign"]).await;
    assert_eq!(
        app.post("transit/sign/k1", json!({"input": b64(b"x")}))
            .await
            .status,
        200
    );
    let r = sec
        .post("sys/principals/admin2", json!({"roles": ["sys-admin"]}))
        .await;
    assert_eq!(r.status, 403, "a sec-admin cannot mint admins: {}", r.text);

    // sys-admin runs mounts and metrics but cannot touch keys.
    assert_eq!(
        sys.post("sys/mounts/t2", json!({"type": "transit"}))
            .await
            .status,
        204
    );
    assert_eq!(sys.get("sys/metrics").await.status, 200);
    assert_eq!(sys.post("t2/keys/k", json!({})).await.status, 403);
    assert_eq!(
        sys.post("transit/encrypt/k1", json!({"plaintext": b64(b"x")}))
            .await
            .status,
        403
    );

    // The auditor reads key metadata (public keys included) and nothing else.
    let read = auditor.get("transit/keys/k1").await;
    assert_eq!(read.status, 200);
    assert!(
        read.data()["keys"]["2"]["public_key"]
            .as_str()
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );
    assert_eq!(
        auditor.get("transit/export/signing-key/k1").await.status,
        403
    );
    assert_eq!(
        auditor
            .post("transit/sign/k1", json!({"input": b64(b"x")}))
            .await
            .status,
        403
    );
    assert_eq!(
        auditor.call("DELETE", "transit/keys/k1", None).await.status,
        403
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_tokens_and_principals_stop_working_at_once() {
    let server = dev_server().await;
    let root = Api::new(&server, Some(ROOT));
    assert_eq!(root.post("transit/keys/app-k", json!({})).await.status, 200);
    let app = principal(&root, "app2", &["app"], &["app-*:encrypt"]).await;
    let encrypt = json!({"plaintext": b64(b"x")});
    assert_eq!(
        app.post("transit/encrypt/app-k", encrypt.clone())
            .await
            .status,
        200
    );

    // A second token for the same principal, then revoke-self on it.
    let child = app.post("auth/token/create", json!({"ttl": "1h"})).await;
    assert_eq!(child.status, 200, "{}", child.text);
    let child = app.as_token(child.body["auth"]["client_token"].as_str().unwrap());
    assert_eq!(
        child
            .post("transit/encrypt/app-k", encrypt.clone())
            .await
            .status,
        200
    );
    assert_eq!(
        child.post("auth/token/revoke-self", json!({})).await.status,
        204
    );
    assert_eq!(
        child
            .post("transit/encrypt/app-k", encrypt.clone())
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("transit/encrypt/app-k", encrypt.clone())
            .await
            .status,
        200
    );

    // Revoking the principal ends every token it has, on the next request.
    assert_eq!(
        root.call("DELETE", "sys/principals/app2", None)
            .await
            .status,
        204
    );
    let again = root.call("DELETE", "sys/principals/app2", None).await;
    assert_eq!(
        (again.status.as_u16(), again.text.as_str()),
        (404, r#"{"errors":[]}"#)
    );
    let r = app.post("transit/encrypt/app-k", encrypt.clone()).await;
    assert_eq!(
        (r.status.as_u16(), r.error()),
        (403, "permission denied".into())
    );
    assert_eq!(app.get("auth/token/lookup-self").await.status, 403);

    // Unknown, empty and bearer-form tokens.
    assert_eq!(
        root.as_token("ys.not-a-real-token")
            .get("transit/keys/app-k")
            .await
            .status,
        403
    );
    assert_eq!(
        Api::new(&server, None)
            .get("transit/keys/app-k")
            .await
            .status,
        403
    );
    let bearer = reqwest::Client::new()
        .get(format!("{}/v1/transit/keys/app-k", server.url()))
        .header("Authorization", format!("Bearer {ROOT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    server.shutdown().await.unwrap();
}
