//! A backup of a SQLite deployment restored into PostgreSQL behind two
//! nodes: the restore goes through one node, both nodes then stand
//! initialised and sealed, and both are unsealed with the same shares at
//! the same moment, so they race to apply the staged backup; exactly one
//! applies it (the claim entry is deleted in the applying transaction) and
//! both serve the restored keys. A rotation through one node is then used
//! by the other's next encrypt, and the audit log verifies. Needs the
//! PostgreSQL server binaries (see `yaoshi_store::testing`); only 127.0.0.1.

mod http;

use http::{Api, b64};
use serde_json::{Value, json};
use yaoshi_server::{RunningServer, ServerSettings};
use yaoshi_store::testing::PgCluster;

fn stored(url: &str) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: Some(url.to_string()),
        ..Default::default()
    }
}

async fn put(api: &Api, path: &str, body: Value) -> Value {
    let r = api.call("PUT", path, Some(body)).await;
    assert_eq!(r.status, 200, "PUT {path}: {}", r.text);
    r.body
}

async fn start(url: &str) -> RunningServer {
    yaoshi_server::start(stored(url))
        .await
        .expect("node starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_postgres_nodes_restore_once_and_serve_the_backup() {
    // The original deployment, on SQLite.
    let dir = tempfile::tempdir().unwrap();
    let source = start(&format!("sqlite://{}", dir.path().join("a.db").display())).await;
    let anon = Api::new(&source, None);
    let init = put(
        &anon,
        "sys/init",
        json!({"secret_shares": 3, "secret_threshold": 2}),
    )
    .await;
    let shares: Vec<String> = serde_json::from_value(init["keys_base64"].clone()).unwrap();
    let root = init["root_token"].as_str().unwrap().to_string();
    for s in &shares[..2] {
        put(&anon, "sys/unseal", json!({"key": s})).await;
    }
    let api = anon.as_token(&root);
    assert_eq!(
        api.post("transit/keys/k", json!({"type": "sm4-gcm96"}))
            .await
            .status,
        200
    );
    let plaintext = b64(b"restored across back ends");
    let old = api
        .post("transit/encrypt/k", json!({"plaintext": plaintext}))
        .await;
    let old = old.data()["ciphertext"].as_str().unwrap().to_string();
    let backup = api.get("sys/backup").await;
    assert_eq!(backup.status, 200, "{}", backup.text);
    source.shutdown().await.unwrap();

    // Two nodes on a fresh PostgreSQL database.
    let cluster = PgCluster::start().unwrap();
    let url = cluster.create_database("restored").unwrap();
    let (a, b) = (start(&url).await, start(&url).await);
    let (a_anon, b_anon) = (Api::new(&a, None), Api::new(&b, None));
    let staged = a_anon
        .post("sys/restore", json!({"backup": backup.text}))
        .await;
    assert_eq!(staged.status, 200, "{}", staged.text);
    assert_eq!(staged.body["sealed"], true);
    let b_status = b_anon.get("sys/seal-status").await;
    assert_eq!(
        (
            b_status.body["initialized"].clone(),
            b_status.body["sealed"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(
        b_anon
            .post("sys/restore", json!({"backup": backup.text}))
            .await
            .status,
        400
    );
    for node in [&a_anon, &b_anon] {
        put(node, "sys/unseal", json!({"key": shares[1]})).await;
    }
    // The threshold share on both nodes at once.
    let (ra, rb) = tokio::join!(
        a_anon.call("PUT", "sys/unseal", Some(json!({"key": shares[2]}))),
        b_anon.call("PUT", "sys/unseal", Some(json!({"key": shares[2]})))
    );
    assert_eq!(
        (ra.status.as_u16(), rb.status.as_u16()),
        (200, 200),
        "{} / {}",
        ra.text,
        rb.text
    );
    assert_eq!(
        (ra.body["sealed"].clone(), rb.body["sealed"].clone()),
        (json!(false), json!(false))
    );
    let store = yaoshi_store::open(&url).await.unwrap();
    assert_eq!(
        store
            .get_entry(yaoshi_core::backup::PENDING_RESTORE_ENTRY)
            .await
            .unwrap(),
        None,
        "the staged backup was applied and removed"
    );
    let (a_api, b_api) = (a_anon.as_token(&root), b_anon.as_token(&root));
    for node in [&a_api, &b_api] {
        let back = node
            .post("transit/decrypt/k", json!({"ciphertext": old}))
            .await;
        assert_eq!(
            back.data()["plaintext"],
            plaintext.as_str(),
            "{}",
            back.text
        );
    }
    assert_eq!(
        a_api.post("transit/keys/k/rotate", json!({})).await.status,
        200
    );
    let next = b_api
        .post("transit/encrypt/k", json!({"plaintext": plaintext}))
        .await;
    assert!(
        next.data()["ciphertext"]
            .as_str()
            .unwrap()
            .starts_with("vault:v2:"),
        "{}",
        next.text
    );
    let verified = b_api.post("sys/audit/verify", json!({})).await;
    assert_eq!(verified.data()["verified"], true, "{}", verified.text);
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
