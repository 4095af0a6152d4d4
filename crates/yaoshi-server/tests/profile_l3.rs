//! A real deployment under `gb39786-l3`: TLS, Shamir init, the bootstrap
//! token that only creates the first admins and then stops working, SM-only
//! key types and hashes with refusals naming the rule, an `app` principal
//! limited to its grants, an `audit-admin` that cannot use keys, and a key
//! destruction parked (202) until a second `sec-admin` approves, every step
//! audited.

mod http;

use http::{Api, https_client, make_pki};
use serde_json::{Value, json};
use yaoshi_server::{ServerSettings, TlsSettings};

#[tokio::test(flavor = "multi_thread")]
async fn level_3_deployment_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
    let tls = Some(TlsSettings {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: None,
    });
    // The profile refuses plain HTTP and the dev seal.
    let mut plain = ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: Some("sqlite::memory:".into()),
        profile: Some("gb39786-l3".into()),
        ..Default::default()
    };
    let refused = yaoshi_server::start(plain.clone())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        refused.contains("gb39786-l3") && refused.contains("tls_required"),
        "{refused}"
    );
    plain.tls = tls.clone();
    plain.dev = Some(Default::default());
    let refused = yaoshi_server::start(plain).await.err().unwrap().to_string();
    assert!(refused.contains("dev_seal_allowed"), "{refused}");

    let server = yaoshi_server::start(ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: Some(format!("sqlite://{}", dir.path().join("l3.db").display())),
        profile: Some("gb39786-l3".into()),
        tls,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = https_client(dir.path(), false);
    let anon = Api::with_client(server.url(), None, client.clone());
    let init = anon
        .post(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.text);
    let share = init.body["keys_base64"][0].as_str().unwrap().to_string();
    let bootstrap = anon.as_token(init.body["root_token"].as_str().unwrap());
    let unsealed = anon.post("sys/unseal", json!({"key": share})).await;
    assert_eq!(unsealed.body["sealed"], json!(false), "{}", unsealed.text);

    // The bootstrap token creates admins, one role each, and nothing else.
    let create = |api: &Api, name: &str, body: Value| {
        let api = api.clone();
        let path = format!("sys/principals/{name}");
        async move { api.post(&path, body).await }
    };
    let token_of = |a: &http::Answer| a.data()["token"].as_str().unwrap().to_string();
    assert_eq!(
        create(
            &bootstrap,
            "x",
            json!({"roles": ["app"], "grants": ["*:encrypt"]})
        )
        .await
        .status,
        403
    );
    let two = create(
        &bootstrap,
        "x",
        json!({"roles": ["sec-admin", "audit-admin"]}),
    )
    .await;
    assert_eq!(two.status, 400, "two admin roles");
    assert!(two.error().contains("role_separation"), "{}", two.text);
    assert_eq!(
        bootstrap.post("transit/keys/k", json!({})).await.status,
        403
    );
    let sec1 = anon.as_token(&token_of(
        &create(&bootstrap, "sec1", json!({"roles": ["sec-admin"]})).await,
    ));
    let sec2 = anon.as_token(&token_of(
        &create(&bootstrap, "sec2", json!({"roles": ["sec-admin"]})).await,
    ));
    let auditor = anon.as_token(&token_of(
        &create(&bootstrap, "audit1", json!({"roles": ["audit-admin"]})).await,
    ));
    // Still works until the third admin role exists ...
    let sys = create(&bootstrap, "sys1", json!({"roles": ["sys-admin"]})).await;
    assert_eq!(sys.status, 200, "{}", sys.text);
    // ... and never again after.
    let gone = create(&bootstrap, "late", json!({"roles": ["sec-admin"]})).await;
    assert_eq!(gone.status, 403, "the bootstrap token expired");
    assert_eq!(bootstrap.get("auth/token/lookup-self").await.status, 403);

    // Only SM key types; refusals name the profile and the rule.
    for kind in [
        "aes256-gcm96",
        "rsa-2048",
        "ecdsa-p256",
        "chacha20-poly1305",
    ] {
        let r = sec1
            .post(&format!("transit/keys/bad-{kind}"), json!({"type": kind}))
            .await;
        assert_eq!(r.status, 400, "{kind}");
        assert!(
            r.error().contains("gb39786-l3") && r.error().contains("allowed_key_types"),
            "{}",
            r.text
        );
    }
    for kind in ["sm4-gcm96", "sm2", "hmac"] {
        let r = sec1
            .post(&format!("transit/keys/ok-{kind}"), json!({"type": kind}))
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
    }
    let untyped = sec1.post("transit/keys/data-1", json!({})).await;
    assert_eq!(
        untyped.data()["type"],
        json!("sm4-gcm96"),
        "the default type follows the profile"
    );
    let config = sec1
        .post(
            "transit/keys/data-1/config",
            json!({"deletion_allowed": true}),
        )
        .await;
    assert_eq!(config.status, 200, "{}", config.text);
    let slow = sec1
        .post(
            "transit/keys/data-1/config",
            json!({"auto_rotate_period": "9000h"}),
        )
        .await;
    assert_eq!(slow.status, 400, "375 days is beyond max_rotation_days");
    assert!(slow.error().contains("max_rotation_days"), "{}", slow.text);
    let monthly = sec1
        .post(
            "transit/keys/data-1/config",
            json!({"auto_rotate_period": "720h"}),
        )
        .await;
    assert_eq!(monthly.status, 200, "{}", monthly.text);
    let hash = sec1
        .post("transit/hash/sha2-256", json!({"input": "aGk="}))
        .await;
    assert_eq!(hash.status, 400);
    assert!(
        hash.error().contains("allowed_hash_algorithms"),
        "{}",
        hash.text
    );
    assert_eq!(
        sec1.post("transit/hash", json!({"input": "aGk="}))
            .await
            .status,
        200,
        "SM3 by default"
    );

    // An app principal is limited to its grants; the audit admin uses no key.
    let app = anon.as_token(&token_of(
        &create(
            &sec1,
            "billing",
            json!({"roles": ["app"], "grants": ["data-*:encrypt"]}),
        )
        .await,
    ));
    let ct = app
        .post("transit/encrypt/data-1", json!({"plaintext": "aGk="}))
        .await;
    assert_eq!(ct.status, 200, "{}", ct.text);
    let ciphertext = ct.data()["ciphertext"].as_str().unwrap().to_string();
    assert_eq!(
        app.post("transit/decrypt/data-1", json!({"ciphertext": ciphertext}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("transit/encrypt/ok-sm4-gcm96", json!({"plaintext": "aGk="}))
            .await
            .status,
        403
    );
    assert_eq!(
        auditor
            .post("transit/encrypt/data-1", json!({"plaintext": "aGk="}))
            .await
            .status,
        403
    );
    assert_eq!(
        auditor
            .post("transit/decrypt/data-1", json!({"ciphertext": ciphertext}))
            .await
            .status,
        403
    );
    assert_eq!(auditor.get("sys/audit/checkpoint").await.status, 200);

    // Destroying a key is parked until a second sec-admin approves.
    let parked = sec1.call("DELETE", "transit/keys/data-1", None).await;
    assert_eq!(parked.status, 202, "{}", parked.text);
    let id = parked.data()["approval_id"].as_str().unwrap().to_string();
    assert_eq!(
        sec1.get("transit/keys/data-1").await.status,
        200,
        "not destroyed yet"
    );
    let own = sec1
        .post(&format!("sys/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(own.status, 400, "{}", own.text);
    assert!(own.error().contains("requester"), "{}", own.text);
    assert_eq!(
        auditor
            .post(&format!("sys/approvals/{id}/approve"), json!({}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post(&format!("sys/approvals/{id}/approve"), json!({}))
            .await
            .status,
        403
    );
    let approved = sec2
        .post(&format!("sys/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.data()["status"], json!("executed"));
    assert_eq!(
        approved.data()["result_status"],
        json!(204),
        "{}",
        approved.text
    );
    let shown = sec1.get(&format!("sys/approvals/{id}")).await;
    assert_eq!(shown.data()["approvals"][0]["principal"], json!("sec2"));
    assert_eq!(
        sec1.get("transit/keys/data-1").await.status,
        404,
        "destroyed"
    );
    let again = sec2
        .post(&format!("sys/approvals/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        again.status, 400,
        "an executed request is not approved twice"
    );

    // Every step is in the audit log.
    let rows = server.kms.store().read_audit(0, i64::MAX).await.unwrap();
    let records: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let with_id: Vec<&Value> = records
        .iter()
        .filter(|r| {
            r["approval_id"] == json!(id) || r["path"].as_str().is_some_and(|p| p.contains(&id))
        })
        .collect();
    let summary: Vec<(String, String, String)> = with_id
        .iter()
        .map(|r| {
            (
                r["principal"].as_str().unwrap_or("").to_string(),
                r["path"].as_str().unwrap_or("").to_string(),
                r["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want = [
        ("sec1", "transit/keys/data-1".to_string(), "parked"),
        ("sec1", format!("sys/approvals/{id}/approve"), "failed"),
        ("audit1", format!("sys/approvals/{id}/approve"), "denied"),
        ("billing", format!("sys/approvals/{id}/approve"), "denied"),
        ("sec1", "transit/keys/data-1".to_string(), "ok"),
        ("sec2", format!("sys/approvals/{id}/approve"), "ok"),
        ("sec1", format!("sys/approvals/{id}"), "ok"),
        ("sec2", format!("sys/approvals/{id}/approve"), "failed"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.clone(), c.to_string()))
        .collect();
    assert_eq!(summary, want);
    let refused: Vec<String> = records
        .iter()
        .filter(|r| r["outcome"] == json!("refused"))
        .map(|r| r["path"].to_string())
        .collect();
    assert!(
        refused.contains(&json!("transit/keys/data-1/config").to_string()),
        "{refused:?}"
    );
    let refusals = refused.len();
    assert_eq!(
        refusals, 7,
        "4 key types, 1 hash, 1 two-admin principal and 1 rotation period refused by the profile"
    );
    let config = server.kms.audit_config().await.unwrap().unwrap();
    assert_eq!(config.signature_algorithm, "sm2");
    assert_eq!(config.hash_algorithm.name(), "sm3");
    server.shutdown().await.unwrap();
}
