//! The scheduler lease with two nodes on one PostgreSQL database: while a
//! dead node's lease runs nobody leads, then within the ttl exactly one node
//! leads (`sys/leader` `is_self`, `sys/health` `ha.role`), a due
//! auto-rotation happens exactly once (one new version, one `scheduler`
//! audit record) although both nodes tick every second, and when the leader
//! shuts down the other takes over within the lease ttl and keeps signing
//! checkpoints over the records written after; once sealed, it gives the
//! lease up.
//!
//! "Due" is made by moving the key's `last_rotated_at` two hours back in
//! the store (the minimum period is one hour). Needs the PostgreSQL server
//! binaries (see `yaoshi_store::testing`); only 127.0.0.1; every wait is
//! bounded.

mod http;

use http::{Api, b64};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use yaoshi_core::store::Store;
use yaoshi_server::{AuditLogSettings, HaSettings, RunningServer, ServerSettings};
use yaoshi_store::testing::PgCluster;

/// Lease ttl of both nodes (short, so the test is quick).
const TTL_SECS: u64 = 3;
/// Longest wait for anything the once-a-second loop does.
const WAIT: Duration = Duration::from_secs(20);

fn node_settings(url: &str, node: &str) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: Some(url.to_string()),
        audit: AuditLogSettings {
            node: Some(node.to_string()),
            checkpoint_interval_secs: 1,
            ..AuditLogSettings::default()
        },
        ha: HaSettings {
            lease_ttl_secs: TTL_SECS,
            rotation_check_secs: 1,
        },
        ..Default::default()
    }
}

/// Polls `probe` every 200 ms until it yields a value, failing after `WAIT`.
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn leader_view(api: &Api) -> (bool, Value) {
    let leader = api.get("sys/leader").await;
    assert_eq!(leader.status, 200, "{}", leader.text);
    assert_eq!(leader.body["ha_enabled"], json!(true), "{}", leader.text);
    (
        leader.body["is_self"]
            .as_bool()
            .expect("is_self is a boolean"),
        leader.body["leader_node"].clone(),
    )
}

/// The index (0 or 1) of the node both agree leads, once they do.
async fn agreed_leader(apis: &[Api; 2], names: [&str; 2]) -> usize {
    eventually("one leader both nodes agree on", || async {
        let (a_self, a_leader) = leader_view(&apis[0]).await;
        let (b_self, b_leader) = leader_view(&apis[1]).await;
        if a_self == b_self || a_leader != b_leader {
            return None;
        }
        let index = usize::from(b_self);
        (a_leader == json!(names[index])).then_some(index)
    })
    .await
}

/// Records with operation `scheduler.auto_rotate` naming `key`.
async fn scheduler_records(store: &dyn Store, key: &str) -> Vec<Value> {
    let rows = store.read_audit(1, 100_000).await.unwrap();
    rows.iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .filter(|r| r["operation"] == json!("scheduler.auto_rotate") && r["key"] == json!(key))
        .collect()
}

async fn latest_version(api: &Api, key: &str) -> i64 {
    let read = api.get(&format!("transit/keys/{key}")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    read.data()["latest_version"].as_i64().unwrap()
}

/// Moves the key's last rotation two hours back, as if that time had passed.
async fn backdate_rotation(store: &dyn Store, key: &str) {
    let mut record = store.get_key("transit", key).await.unwrap().unwrap();
    let mut policy: Value = serde_json::from_slice(&record.metadata).unwrap();
    let last = policy["last_rotated_at"].as_i64().expect("last_rotated_at");
    policy["last_rotated_at"] = json!(last - 7200);
    record.metadata = serde_json::to_vec(&policy).unwrap();
    let expected = record.generation;
    record.generation += 1;
    store
        .apply(&yaoshi_store::conformance::update(&record, expected))
        .await
        .unwrap();
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_rotates_once_and_the_other_takes_over() {
    let cluster = blocking(PgCluster::start).expect("a private PostgreSQL cluster starts");
    let url = blocking(|| cluster.create_database("yaoshi_leader")).unwrap();
    let names = ["node-a", "node-b"];
    let a = yaoshi_server::start(node_settings(&url, names[0]))
        .await
        .unwrap();
    let anon = Api::new(&a, None);
    let init = anon
        .call(
            "PUT",
            "sys/init",
            Some(json!({"secret_shares": 1, "secret_threshold": 1})),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.text);
    let share = init.body["keys"][0].as_str().unwrap().to_string();
    let root = init.body["root_token"].as_str().unwrap().to_string();
    let b = yaoshi_server::start(node_settings(&url, names[1]))
        .await
        .unwrap();
    let mut servers: Vec<Option<RunningServer>> = vec![Some(a), Some(b)];
    let apis: [Api; 2] = [0, 1].map(|i| Api::new(servers[i].as_ref().unwrap(), Some(&root)));
    // `transit/` is mounted at init.
    let store: Arc<dyn Store> = yaoshi_store::open(&url).await.unwrap();

    // A node that died holding the lease (it never renews nor releases).
    let crashed_at = Instant::now();
    let ghost = store
        .acquire_lease("scheduler", "crashed-node#0", TTL_SECS as i64, unix_now())
        .await
        .unwrap();
    assert_eq!(ghost.holder, "crashed-node#0");
    for api in &apis {
        let unsealed = api.post("sys/unseal", json!({"key": share})).await;
        assert_eq!(unsealed.body["sealed"], json!(false), "{}", unsealed.text);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    if crashed_at.elapsed() < Duration::from_secs(TTL_SECS - 1) {
        for api in &apis {
            let (is_self, node) = leader_view(api).await;
            assert!(!is_self, "nobody leads while the dead node's lease runs");
            assert_eq!(node, json!("crashed-node"));
        }
    }

    // Then exactly one leader, within the ttl; health names the roles.
    let leader = agreed_leader(&apis, names).await;
    let took = crashed_at.elapsed();
    assert!(
        took <= Duration::from_secs(TTL_SECS + 2),
        "takeover from a dead holder took {took:?}"
    );
    let standby = 1 - leader;
    for (i, role) in [(leader, "leader"), (standby, "standby")] {
        let health = apis[i].get("sys/health").await;
        assert_eq!(health.status, 200, "{}", health.text);
        assert_eq!(health.body["ha"]["role"], json!(role), "{}", health.text);
        assert_eq!(health.body["ha"]["leader_node"], json!(names[leader]));
        assert_eq!(health.body["store"]["type"], json!("postgres"));
        assert_eq!(health.body["store"]["reachable"], json!(true));
        assert_eq!(
            health.body["standby"],
            json!(false),
            "Vault's field unchanged"
        );
    }

    // A due auto-rotation happens once, with one audit record.
    let made = apis[standby]
        .post(
            "transit/keys/auto",
            json!({"type": "aes256-gcm96", "auto_rotate_period": "1h"}),
        )
        .await;
    assert!(made.status.is_success(), "{}", made.text);
    assert_eq!(latest_version(&apis[0], "auto").await, 1);
    backdate_rotation(&*store, "auto").await;
    eventually("the leader auto-rotates the key", || async {
        (latest_version(&apis[standby], "auto").await >= 2).then_some(())
    })
    .await;
    // Both nodes tick several more times: still one rotation.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(latest_version(&apis[0], "auto").await, 2);
    assert_eq!(latest_version(&apis[1], "auto").await, 2);
    let records = scheduler_records(&*store, "auto").await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["principal"], json!("scheduler"));
    assert_eq!(records[0]["outcome"], json!("ok"));
    assert_eq!(records[0]["node"], json!(names[leader]));
    assert_eq!(records[0]["version"], json!(2));

    // The leader leaves; the other takes over within the ttl.
    let stopped = Instant::now();
    servers[leader].take().unwrap().shutdown().await.unwrap();
    let survivor = &apis[standby];
    eventually("the other node takes the lease", || async {
        let (is_self, node) = leader_view(survivor).await;
        (is_self && node == json!(names[standby])).then_some(())
    })
    .await;
    let took = stopped.elapsed();
    assert!(
        took <= Duration::from_secs(TTL_SECS + 2),
        "takeover took {took:?}"
    );
    let health = survivor.get("sys/health").await;
    assert_eq!(
        health.body["ha"]["role"],
        json!("leader"),
        "{}",
        health.text
    );

    // ... and signs checkpoints over what is written after.
    for i in 0..3 {
        let ok = survivor
            .post(
                "transit/encrypt/auto",
                json!({"plaintext": b64(format!("after {i}").as_bytes())}),
            )
            .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    let head = store.audit_head().await.unwrap().last_seq;
    eventually("a checkpoint covering the new records", || async {
        let latest = store.latest_checkpoint().await.unwrap()?;
        (latest.tree_size >= head).then_some(())
    })
    .await;
    let verify = survivor.post("sys/audit/verify", json!({})).await;
    assert_eq!(verify.status, 200, "{}", verify.text);

    // A sealed node cannot do the work: it gives the lease up.
    let sealed = survivor.call("PUT", "sys/seal", None).await;
    assert_eq!(sealed.status, 204, "{}", sealed.text);
    eventually("the sealed node gives the lease up", || async {
        let now = unix_now();
        let probe = store
            .acquire_lease("scheduler", "probe", 1, now)
            .await
            .unwrap();
        probe.held_by("probe", now).then_some(())
    })
    .await;
    assert!(store.release_lease("scheduler", "probe").await.unwrap());
    let (is_self, _) = leader_view(survivor).await;
    assert!(!is_self, "a sealed node does not lead");
    servers[standby].take().unwrap().shutdown().await.unwrap();
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
