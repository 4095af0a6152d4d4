//! Running a stored server: init and unseal over HTTP, one server per SQLite
//! file, a restart that needs only unsealing, TLS with and without client certificates, and the
//! Prometheus metrics.

mod http;

use http::{Api, ROOT, b64, dev_server, dev_settings, https_client, make_pki};
use serde_json::json;
use std::path::Path;
use yaoshi_server::{ServerSettings, TlsSettings};

fn stored(path: &Path) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: Some(format!("sqlite://{}", path.display())),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn init_unseal_restart_needs_only_unsealing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("yaoshi.db");
    let server = yaoshi_server::start(stored(&db)).await.unwrap();
    let anon = Api::new(&server, None);
    let health = anon.get("sys/health").await;
    assert_eq!(
        (health.status.as_u16(), &health.body["initialized"]),
        (501, &json!(false))
    );

    let init = anon
        .call(
            "PUT",
            "sys/init",
            Some(json!({"secret_shares": 3, "secret_threshold": 2})),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.text);
    let shares: Vec<String> = serde_json::from_value(init.body["keys"].clone()).unwrap();
    let b64_shares: Vec<String> = serde_json::from_value(init.body["keys_base64"].clone()).unwrap();
    let root_token = init.body["root_token"].as_str().unwrap().to_string();
    assert_eq!((shares.len(), b64_shares.len()), (3, 3));
    assert_eq!(
        anon.call("PUT", "sys/init", Some(json!({}))).await.status,
        400,
        "init twice"
    );
    assert_eq!(
        anon.get("sys/health").await.status,
        503,
        "sealed after init"
    );
    let root = anon.as_token(&root_token);
    assert_eq!(root.get("transit/keys/x").await.status, 503);

    // Two shares unseal (hex and base64 both accepted); progress shows in between.
    let one = anon
        .call("PUT", "sys/unseal", Some(json!({"key": shares[0]})))
        .await;
    assert_eq!(
        (one.body["sealed"].clone(), one.body["progress"].clone()),
        (json!(true), json!(1))
    );
    let two = anon
        .call("PUT", "sys/unseal", Some(json!({"key": b64_shares[2]})))
        .await;
    assert_eq!(two.body["sealed"], json!(false), "{}", two.text);
    assert_eq!(anon.get("sys/health").await.status, 200);

    // transit/ is mounted at init; use it.
    assert_eq!(
        root.post("transit/keys/k", json!({"type": "sm4-gcm96"}))
            .await
            .status,
        200
    );
    let ct = root
        .post("transit/encrypt/k", json!({"plaintext": b64(b"kept")}))
        .await;
    let ciphertext = ct.data()["ciphertext"].as_str().unwrap().to_string();

    // The file belongs to this server: a second one on it is refused, and
    // says why (its rows are served from the first one's memory).
    let second = yaoshi_server::start(stored(&db)).await;
    let refused = second.err().expect("a second server on one SQLite file");
    assert!(
        refused
            .to_string()
            .contains("in use by another yaoshi server"),
        "{refused}"
    );
    server.shutdown().await.unwrap();

    // Restart on the same storage: initialised, sealed, needs only unsealing.
    let server = yaoshi_server::start(stored(&db)).await.unwrap();
    let anon = Api::new(&server, None);
    let status = anon.get("sys/seal-status").await;
    assert_eq!(
        (
            status.body["initialized"].clone(),
            status.body["sealed"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(
        (status.body["t"].clone(), status.body["n"].clone()),
        (json!(2), json!(3))
    );
    for share in &shares[1..3] {
        anon.call("PUT", "sys/unseal", Some(json!({"key": share})))
            .await;
    }
    let root = anon.as_token(&root_token);
    let pt = root
        .post("transit/decrypt/k", json!({"ciphertext": ciphertext}))
        .await;
    assert_eq!(pt.data()["plaintext"], json!(b64(b"kept")), "{}", pt.text);

    // Seal over the API (root may), then data paths answer 503.
    assert_eq!(
        root.call("PUT", "sys/seal", Some(json!({}))).await.status,
        204
    );
    let sealed = root
        .post("transit/decrypt/k", json!({"ciphertext": ciphertext}))
        .await;
    assert_eq!(
        (sealed.status.as_u16(), sealed.error()),
        (503, "Vault is sealed".into())
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_with_optional_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
    let tls = |client_ca: bool| {
        Some(TlsSettings {
            cert: dir.path().join("server.pem"),
            key: dir.path().join("server.key"),
            client_ca: client_ca.then(|| dir.path().join("ca.pem")),
        })
    };

    // Server TLS only.
    let server = yaoshi_server::start(ServerSettings {
        tls: tls(false),
        ..dev_settings()
    })
    .await
    .unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let api = Api::with_client(server.url(), Some(ROOT), https_client(dir.path(), false));
    assert_eq!(api.post("transit/keys/t", json!({})).await.status, 200);
    let plain = reqwest::Client::new()
        .get(format!("http://{}/v1/sys/health", server.addr))
        .send()
        .await;
    assert!(
        plain.map(|r| r.status() != 200).unwrap_or(true),
        "plain HTTP is not served on a TLS listener"
    );
    server.shutdown().await.unwrap();

    // Client certificates required.
    let server = yaoshi_server::start(ServerSettings {
        tls: tls(true),
        ..dev_settings()
    })
    .await
    .unwrap();
    let with = Api::with_client(server.url(), Some(ROOT), https_client(dir.path(), true));
    assert_eq!(with.get("sys/health").await.status, 200);
    let without = https_client(dir.path(), false)
        .get(format!("{}/v1/sys/health", server.url()))
        .send()
        .await;
    assert!(
        without.is_err(),
        "a client without a certificate is refused: {without:?}"
    );
    server.shutdown().await.unwrap();

    // Unusable TLS files fail start-up with a clear message.
    let err = yaoshi_server::start(ServerSettings {
        tls: Some(TlsSettings {
            cert: dir.path().join("missing.pem"),
            key: dir.path().join("server.key"),
            client_ca: None,
        }),
        ..dev_settings()
    })
    .await
    .err()
    .expect("missing certificate is refused");
    assert!(err.to_string().contains("missing.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_operation_key_type_and_outcome() {
    let server = dev_server().await;
    let root = Api::new(&server, Some(ROOT));
    root.post("transit/keys/m", json!({"type": "sm4-gcm96"}))
        .await;
    for _ in 0..3 {
        root.post("transit/encrypt/m", json!({"plaintext": b64(b"x")}))
            .await;
    }
    root.post("transit/decrypt/m", json!({"ciphertext": "vault:v1:AAAA"}))
        .await;
    let metrics = root.get("sys/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text;
    assert!(
        text.contains(r#"yaoshi_requests_total{operation="transit.encrypt",key_type="sm4-gcm96",outcome="ok"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"yaoshi_requests_total{operation="transit.decrypt",key_type="sm4-gcm96",outcome="client_error"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("yaoshi_request_duration_seconds_bucket{operation=\"transit.encrypt\""),
        "{text}"
    );
    assert!(text.contains("yaoshi_sealed 0"), "{text}");
    assert_eq!(root.get("sys/metrics?format=json").await.status, 400);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_never_arrives_is_answered_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = yaoshi_server::start(ServerSettings {
        body_timeout_secs: 1,
        ..dev_settings()
    })
    .await
    .unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /v1/transit/encrypt/k HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: {ROOT}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"plaintext\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    let text = String::from_utf8_lossy(&answer).to_string();
    assert!(read.is_ok(), "no answer within 10 s");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("request body not received within 1 s"),
        "{text}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    // The server still serves others.
    let api = Api::new(&server, Some(ROOT));
    assert_eq!(api.get("sys/health").await.status, 200);
    server.shutdown().await.unwrap();
}
