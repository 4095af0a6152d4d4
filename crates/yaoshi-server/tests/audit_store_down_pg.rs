//! Fail-closed audit on PostgreSQL: a dev server stores its keys and audit
//! log in a private PostgreSQL cluster, which is stopped mid-run
//! (`pg_ctl stop -m fast`). While it is down, an encrypt request is refused
//! within a bounded time (no hang) with a 503 naming the audit log (no
//! ciphertext leaves), `sys/health` is 503 and says why (the audit writer's
//! error, or the storage error when even the seal state cannot be read),
//! and `sys/metrics` shows the gauge at 0 or is refused too. Once the
//! cluster is started again
//! the same server, without a restart, serves again: encrypt works, a
//! ciphertext made before the outage decrypts, health is 200 and the
//! `yaoshi_audit_healthy` gauge is back at 1. No loss: every request
//! acknowledged (2xx) before and after the outage has exactly one audit
//! record (matched by request id), sequence numbers run 1..=n without a
//! gap, each record links to the one before, and `sys/audit/verify` says
//! the stored log verifies.
//!
//! The same scenario runs a second time as a database failover: the
//! server is given a multi-host URL (primary, then a streaming replica made
//! with `pg_basebackup -R`), the primary is stopped once the replica has
//! caught up, and instead of restarting it the replica is promoted; the
//! server moves to it by itself and everything above holds there.
//!
//! Needs the PostgreSQL server binaries (`initdb`, `pg_ctl`; see
//! `yaoshi_store::testing`); never touches a server already running.

mod http;

use http::{Answer, Api, ROOT, b64, dev_settings};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};
use yaoshi_store::testing::PgCluster;

/// Longest any single request may take, outage or not.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
/// How long a refusal during the outage may take: fail, not hang. (A
/// request waits for a database connection at most 5 s per store call;
/// an encrypt makes one for the key and one for its audit record.)
const REFUSAL_LIMIT: Duration = Duration::from_secs(20);
/// How long after PostgreSQL is back service must resume.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);

/// Runs one request, failing the test if it takes longer than `limit`.
async fn within(limit: Duration, what: &str, request: impl Future<Output = Answer>) -> Answer {
    tokio::time::timeout(limit, request)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {limit:?}"))
}

/// The request id of an acknowledged (2xx) data reply.
fn acknowledged(answer: &Answer, what: &str) -> String {
    assert!(
        answer.status.is_success(),
        "{what}: {} {}",
        answer.status,
        answer.text
    );
    answer.body["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no request id in {}", answer.text))
        .to_string()
}

/// Runs a PostgreSQL server tool off the async worker threads.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// How service comes back after the primary is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recovery {
    /// The same server is started again.
    Restart,
    /// The streaming replica is promoted (the old primary stays down).
    Promote,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_postgres_refuses_requests_then_recovers_without_loss() {
    outage_then_recovery(Recovery::Restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoted_replica_takes_over_without_loss() {
    outage_then_recovery(Recovery::Promote).await;
}

async fn outage_then_recovery(recovery: Recovery) {
    // Declared first, so dropped last: stops the cluster and removes its
    // directory however the test ends.
    let cluster = blocking(PgCluster::start).expect("a private PostgreSQL cluster starts");
    let url = blocking(|| cluster.create_database("yaoshi_pgdown")).unwrap();
    let replica = match recovery {
        Recovery::Restart => None,
        Recovery::Promote => Some(blocking(|| cluster.start_replica()).expect("replica starts")),
    };
    let url = match &replica {
        None => url,
        Some(r) => format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/yaoshi_pgdown\
             ?target_session_attrs=read-write",
            cluster.port(),
            r.port()
        ),
    };
    let mut settings = dev_settings();
    settings.storage = Some(url);
    let server = yaoshi_server::start(settings)
        .await
        .expect("dev server starts on a fresh PostgreSQL database");
    let http = reqwest::Client::builder()
        .timeout(REQUEST_LIMIT)
        .build()
        .unwrap();
    let root = Api::with_client(server.url(), Some(ROOT), http);
    // Request id -> what it was, for every acknowledged request.
    let mut acked: HashMap<String, String> = HashMap::new();

    // Before the outage: a key, two ciphertexts, healthy.
    let made = within(
        REQUEST_LIMIT,
        "create key",
        root.post("transit/keys/k", json!({"type": "aes256-gcm96"})),
    )
    .await;
    acked.insert(acknowledged(&made, "create key"), "create key".into());
    let mut before = Vec::new();
    for (i, secret) in [b"before the outage".as_slice(), b"also before"]
        .iter()
        .enumerate()
    {
        let what = format!("encrypt before #{i}");
        let ok = within(
            REQUEST_LIMIT,
            &what,
            root.post("transit/encrypt/k", json!({"plaintext": b64(secret)})),
        )
        .await;
        acked.insert(acknowledged(&ok, &what), what);
        let ct = ok.data()["ciphertext"].as_str().unwrap().to_string();
        assert!(ct.starts_with("vault:v1:"), "{ct}");
        before.push((ct, b64(secret)));
    }
    let health = within(REQUEST_LIMIT, "health", root.get("sys/health")).await;
    assert_eq!(health.status, 200, "{}", health.text);

    // The outage (after the replica has everything acknowledged so far).
    if let Some(r) = &replica {
        blocking(|| cluster.wait_replayed_by(r, RECOVERY_LIMIT)).expect("replica catches up");
    }
    blocking(|| cluster.stop()).expect("pg_ctl stop -m fast");

    let started = Instant::now();
    let refused = within(
        REFUSAL_LIMIT,
        "encrypt during the outage",
        root.post("transit/encrypt/k", json!({"plaintext": b64(b"during")})),
    )
    .await;
    let refusal_took = started.elapsed();
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert!(
        refused.error().contains("audit log unavailable"),
        "{}",
        refused.text
    );
    assert!(
        refused.body["data"].is_null() && !refused.text.contains("vault:v"),
        "no ciphertext leaves unaudited: {}",
        refused.text
    );

    let started = Instant::now();
    let health = within(
        REFUSAL_LIMIT,
        "health during the outage",
        root.get("sys/health"),
    )
    .await;
    let health_took = started.elapsed();
    assert_eq!(health.status, 503, "{}", health.text);
    // Why: either the audit section (writer unhealthy, with its error) or,
    // when health cannot even read the seal state, the storage error.
    let audit_says = health.body["audit"]["healthy"] == json!(false)
        && health.body["audit"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty());
    let storage_says = health.error().contains("storage unavailable");
    assert!(
        audit_says || storage_says,
        "health says why: {}",
        health.text
    );
    let outage_health = health;

    // Metrics need an audited, authenticated request: either served with
    // the gauge at 0, or refused like any other request.
    let metrics = within(REFUSAL_LIMIT, "metrics", root.get("sys/metrics")).await;
    if metrics.status == 200 {
        assert!(
            metrics.text.contains("yaoshi_audit_healthy 0"),
            "{}",
            metrics.text
        );
    } else {
        assert_eq!(metrics.status, 503, "{}", metrics.text);
        assert!(
            !metrics.text.contains("yaoshi_audit_healthy"),
            "{}",
            metrics.text
        );
    }
    let outage_metrics = format!("{} {}", metrics.status, metrics.error());

    // PostgreSQL returns (restarted, or the replica promoted); the same
    // yaoshi server resumes on its own.
    match &replica {
        None => blocking(|| cluster.restart()).expect("pg_ctl start"),
        Some(r) => blocking(|| r.promote()).expect("pg_ctl promote"),
    }
    let back = Instant::now();
    let resumed = loop {
        let attempt = within(
            REQUEST_LIMIT,
            "encrypt after the outage",
            root.post("transit/encrypt/k", json!({"plaintext": b64(b"after")})),
        )
        .await;
        if attempt.status == 200 {
            break attempt;
        }
        assert!(
            back.elapsed() < RECOVERY_LIMIT,
            "service did not resume within {RECOVERY_LIMIT:?}: {} {}",
            attempt.status,
            attempt.text
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let recovery_took = back.elapsed();
    acked.insert(
        acknowledged(&resumed, "encrypt after"),
        "encrypt after".into(),
    );
    for (i, (ct, plaintext)) in before.iter().enumerate() {
        let what = format!("decrypt of pre-outage ciphertext #{i}");
        let opened = within(
            REQUEST_LIMIT,
            &what,
            root.post("transit/decrypt/k", json!({"ciphertext": ct})),
        )
        .await;
        acked.insert(acknowledged(&opened, &what), what);
        assert_eq!(opened.data()["plaintext"], json!(plaintext));
    }
    let health = within(REQUEST_LIMIT, "health after", root.get("sys/health")).await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert!(health.body.get("audit").is_none(), "{}", health.text);
    let metrics = within(REQUEST_LIMIT, "metrics after", root.get("sys/metrics")).await;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    assert!(
        metrics.text.contains("yaoshi_audit_healthy 1"),
        "{}",
        metrics.text
    );

    // No loss: exactly one record per acknowledged request, no gap, linked.
    let listed = within(
        REQUEST_LIMIT,
        "audit records",
        root.get("sys/audit/records?from=1&limit=1000"),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let records = listed.data()["records"].as_array().unwrap().clone();
    let mut prev: Option<&Value> = None;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], json!(i as i64 + 1), "no gap: {r}");
        if let Some(p) = prev {
            assert_eq!(r["prev"], p["hash"], "record {} links", r["seq"]);
        }
        prev = Some(r);
    }
    for (id, what) in &acked {
        let n = records
            .iter()
            .filter(|r| r["record"]["request_id"] == json!(id))
            .count();
        assert_eq!(n, 1, "{what} ({id}): exactly one audit record");
    }
    // Nothing was recorded as served that was not acknowledged.
    for r in &records {
        let path = r["record"]["path"].as_str().unwrap_or_default();
        if path.starts_with("transit/") && r["record"]["outcome"] == json!("ok") {
            let id = r["record"]["request_id"].as_str().unwrap_or_default();
            assert!(acked.contains_key(id), "unacknowledged success: {r}");
        }
    }
    let verified = within(
        REQUEST_LIMIT,
        "audit verify",
        root.post("sys/audit/verify", json!({})),
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(
        verified.data()["verified"],
        json!(true),
        "{}",
        verified.text
    );

    eprintln!(
        "{recovery:?} outage: encrypt refused in {refusal_took:?} ({}), health {} in {health_took:?} ({}), \
         metrics {}; resumed {recovery_took:?} after PostgreSQL was back; \
         {} acknowledged requests, {} records",
        refused.error(),
        outage_health.status,
        outage_health.text,
        outage_metrics,
        acked.len(),
        records.len()
    );
    tokio::time::timeout(REQUEST_LIMIT, server.shutdown())
        .await
        .expect("server shuts down in time")
        .expect("server shuts down cleanly");
    drop(replica);
    drop(cluster);
}
