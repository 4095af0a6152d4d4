//! The audit trail over HTTP: exactly one record per request that reaches
//! authentication, allowed or denied, written before the answer; no secret
//! in any record; key changes commit their record with them; and when the
//! log cannot be written, requests are refused (503), health and metrics
//! say why, and service resumes without a gap once it can.

mod http;

use http::{Api, ROOT, b64, dev_server, dev_settings};
use serde_json::{Value, json};
use sqlx::Connection;
use yaoshi_core::audit::chain::{ChainAlgorithm, GENESIS, entry_hash};
use yaoshi_core::store::AuditRow;
use yaoshi_server::RunningServer;

async fn log(server: &RunningServer) -> Vec<AuditRow> {
    server.kms.store().read_audit(0, i64::MAX).await.unwrap()
}

fn body(row: &AuditRow) -> Value {
    serde_json::from_slice(&row.body).unwrap()
}

/// Checks the stored chain link by link with the deployment's algorithm.
async fn assert_chain_intact(server: &RunningServer) -> usize {
    let algorithm = server
        .kms
        .audit_config()
        .await
        .unwrap()
        .unwrap()
        .hash_algorithm;
    assert_eq!(algorithm, ChainAlgorithm::Sha256, "default profile");
    let rows = log(server).await;
    let mut prev = GENESIS;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as i64 + 1, "no gaps");
        assert_eq!(row.prev_hash, prev.to_vec(), "record {} links", row.seq);
        let hash = entry_hash(algorithm, row.seq as u64, &prev, &row.body);
        assert_eq!(row.hash, hash.to_vec(), "record {} hash", row.seq);
        prev = hash;
    }
    rows.len()
}

/// A request and how it must end: client, method, path, body, status, outcome.
type Step<'a> = (&'a Api, &'a str, &'a str, Option<Value>, u16, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn every_request_has_exactly_one_record_and_no_secret() {
    let server = dev_server().await;
    let root = Api::new(&server, Some(ROOT));
    let plaintext = b"attack at dawn, the secret is 42";
    let secret_b64 = b64(plaintext);

    let made = root
        .post(
            "sys/principals/billing",
            json!({"roles": ["app"], "grants": ["pay-*:encrypt"]}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let app_token = made.data()["token"].as_str().unwrap().to_string();
    let app = root.as_token(&app_token);
    let stranger = root.as_token("ys.not-a-token");

    // (client, method, path, body, expected status, expected outcome)
    let steps: Vec<Step> = vec![
        (
            &root,
            "POST",
            "transit/keys/pay-1",
            Some(json!({"type": "aes256-gcm96", "exportable": true})),
            200,
            "ok",
        ),
        (&root, "GET", "transit/keys/pay-1", None, 200, "ok"),
        (
            &app,
            "POST",
            "transit/encrypt/pay-1",
            Some(json!({"plaintext": secret_b64, "context": b64(b"ctx-secret")})),
            200,
            "ok",
        ),
        (
            &app,
            "POST",
            "transit/decrypt/pay-1",
            Some(json!({"ciphertext": "vault:v1:AAAA"})),
            403,
            "denied",
        ),
        (
            &app,
            "GET",
            "transit/export/encryption-key/pay-1",
            None,
            403,
            "denied",
        ),
        (
            &stranger,
            "POST",
            "transit/encrypt/pay-1",
            Some(json!({"plaintext": secret_b64})),
            403,
            "denied",
        ),
        (
            &root,
            "POST",
            "transit/encrypt/missing-key-x",
            Some(json!({"plaintext": "%%%"})),
            400,
            "failed",
        ),
        (
            &root,
            "GET",
            "transit/export/encryption-key/pay-1",
            None,
            200,
            "ok",
        ),
        (&root, "POST", "transit/keys/pay-1/rotate", None, 200, "ok"),
        (
            &root,
            "POST",
            "transit/hash/sha2-256",
            Some(json!({"input": secret_b64})),
            200,
            "ok",
        ),
        (
            &root,
            "POST",
            "auth/token/create",
            Some(json!({"ttl": "1h"})),
            200,
            "ok",
        ),
    ];
    let mut exported = Vec::new();
    let mut issued = Vec::new();
    for (api, method, path, body_in, status, outcome) in &steps {
        let before = log(&server).await.len();
        let answer = api.call(method, path, body_in.clone()).await;
        assert_eq!(
            answer.status.as_u16(),
            *status,
            "{method} {path}: {}",
            answer.text
        );
        if path.starts_with("transit/export") && *status == 200 {
            for (_, k) in answer.data()["keys"].as_object().unwrap() {
                exported.push(k.as_str().unwrap().to_string());
            }
        }
        if let Some(t) = answer.body["auth"]["client_token"].as_str() {
            issued.push(t.to_string());
        }
        let rows = log(&server).await;
        assert_eq!(
            rows.len(),
            before + 1,
            "{method} {path}: exactly one record"
        );
        let record = body(rows.last().unwrap());
        assert_eq!(record["path"], json!(path), "{record}");
        assert_eq!(
            record["outcome"],
            json!(outcome),
            "{method} {path}: {record}"
        );
        assert!(record["client"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(record["request_id"].as_str().is_some_and(|s| s.len() == 36));
    }
    // Health, seal status and metrics are not recorded.
    let before = log(&server).await.len();
    assert_eq!(root.get("sys/health").await.status, 200);
    assert_eq!(root.get("sys/seal-status").await.status, 200);
    assert_eq!(log(&server).await.len(), before);

    let rows = log(&server).await;
    let records: Vec<Value> = rows.iter().map(body).collect();
    let find = |path: &str| {
        records
            .iter()
            .filter(|r| r["path"] == json!(path))
            .cloned()
            .collect::<Vec<_>>()
    };
    // Who: principal and roles of authenticated requests; none for a bad token.
    let enc = &find("transit/encrypt/pay-1");
    assert_eq!(enc[0]["principal"], json!("billing"));
    assert_eq!(enc[0]["roles"], json!(["app"]));
    assert_eq!(enc[0]["mount"], json!("transit/"));
    assert_eq!(enc[0]["key"], json!("pay-1"));
    assert_eq!(enc[0]["key_type"], json!("aes256-gcm96"));
    assert_eq!(enc[0]["version"], json!(1));
    assert!(
        enc[0]["inputs"]["plaintext"]
            .as_str()
            .unwrap()
            .starts_with("hmac-sha256:")
    );
    assert!(
        enc[0]["inputs"]["context"]
            .as_str()
            .unwrap()
            .starts_with("hmac-sha256:")
    );
    assert_eq!(
        enc[1]["principal"],
        Value::Null,
        "unknown token: no principal"
    );
    assert_eq!(enc[1]["status"], json!(403));
    // The same input under the same key hashes the same (correlatable).
    assert_eq!(enc[0]["inputs"]["plaintext"], enc[1]["inputs"]["plaintext"]);
    // Key creation and rotation committed with the change: no status.
    let created = &find("transit/keys/pay-1")[0];
    assert_eq!(created["status"], Value::Null, "{created}");
    assert_eq!(created["outcome"], json!("ok"));
    assert_eq!(created["params"]["type"], json!("aes256-gcm96"));
    let rotated = &find("transit/keys/pay-1/rotate")[0];
    assert_eq!(rotated["version"], json!(2));
    assert_eq!(rotated["principal"], json!("root"));

    // No secret anywhere: plaintext (raw and base64), context, tokens,
    // exported key material.
    assert!(!exported.is_empty() && !issued.is_empty());
    let all: String = rows
        .iter()
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let mut secrets = vec![
        String::from_utf8(plaintext.to_vec()).unwrap(),
        secret_b64.clone(),
        b64(b"ctx-secret"),
        ROOT.to_string(),
        app_token.clone(),
    ];
    secrets.extend(exported);
    secrets.extend(issued);
    for s in &secrets {
        assert!(!all.contains(s.as_str()), "a secret is in the audit log");
    }
    assert_chain_intact(&server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unwritable_log_refuses_requests_then_recovers_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("yaoshi.db");
    let mut settings = dev_settings();
    settings.storage = Some(format!("sqlite://{}", file.display()));
    let server = yaoshi_server::start(settings).await.unwrap();
    let root = Api::new(&server, Some(ROOT));
    assert_eq!(
        root.post("transit/keys/k", json!({"type": "sm4-gcm96"}))
            .await
            .status,
        200
    );
    let ok = root
        .post("transit/encrypt/k", json!({"plaintext": b64(b"x")}))
        .await;
    assert_eq!(ok.status, 200);
    let acknowledged = log(&server).await.len();

    // Another connection takes the database's write lock: reads still work
    // (WAL), but no audit record can be committed.
    let mut blocker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();

    let refused = root
        .post("transit/encrypt/k", json!({"plaintext": b64(b"y")}))
        .await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert!(
        refused.error().contains("audit log unavailable"),
        "{}",
        refused.text
    );
    assert!(
        refused.body["data"].is_null(),
        "no ciphertext leaves unaudited"
    );
    let health = root.get("sys/health").await;
    assert_eq!(health.status, 503, "{}", health.text);
    assert_eq!(health.body["audit"]["healthy"], json!(false));
    assert!(
        health.body["audit"]["error"]
            .as_str()
            .unwrap()
            .contains("locked"),
        "{}",
        health.text
    );
    let metrics = root.get("sys/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text.contains("yaoshi_audit_healthy 0"),
        "{}",
        metrics.text
    );

    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    drop(blocker);

    let again = root
        .post("transit/encrypt/k", json!({"plaintext": b64(b"z")}))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(root.get("sys/health").await.status, 200);
    let metrics = root.get("sys/metrics").await;
    assert!(
        metrics.text.contains("yaoshi_audit_healthy 1"),
        "{}",
        metrics.text
    );
    // Every acknowledged request is in the chain, the refused one is not,
    // and the chain has no gap.
    let rows = log(&server).await;
    assert_eq!(rows.len(), acknowledged + 1);
    let last = body(rows.last().unwrap());
    assert_eq!(last["status"], json!(200));
    assert_eq!(assert_chain_intact(&server).await, acknowledged + 1);
}
