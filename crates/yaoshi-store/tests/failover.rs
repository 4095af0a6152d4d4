//! Database failover: a store opened on a multi-host URL follows a
//! promotion of the streaming replica. Operations during the switch fail as
//! "unavailable" within a bounded time, later ones succeed on the new
//! primary, and everything acknowledged before the switch (and replicated)
//! is still there, the audit chain continuing without a gap.

use std::time::{Duration, Instant};

use sqlx::Row;
use yaoshi_core::audit::chain::{ChainAlgorithm, GENESIS, entry_hash};
use yaoshi_core::store::{AuditAppend, Store, StoreError};
use yaoshi_store::SqlStore;
use yaoshi_store::conformance::{create, key};
use yaoshi_store::testing::{PgCluster, free_port};

/// Longest wait for any one store operation (a hang is a failure).
const OP_BOUND: Duration = Duration::from_secs(15);
/// Longest wait for the store to accept writes after the promotion.
const RECOVERY_BOUND: Duration = Duration::from_secs(30);

fn record(i: usize) -> AuditAppend {
    AuditAppend {
        time: 1_700_000_000 + i as i64,
        body: format!("{{\"n\":{i}}}").into_bytes(),
    }
}

/// The port of the server the store's pool is on.
async fn server_port(store: &SqlStore) -> u16 {
    let row = sqlx::query("SELECT CAST(inet_server_port() AS BIGINT)")
        .fetch_one(&store.pool())
        .await
        .unwrap();
    u16::try_from(row.get::<i64, _>(0)).unwrap()
}

/// Polls a write of entry `name` until it succeeds, at most
/// [`RECOVERY_BOUND`]; only "unavailable" is acceptable meanwhile. Returns
/// when polling started.
async fn write_within(store: &SqlStore, name: &str) -> Instant {
    let started = Instant::now();
    loop {
        let attempt = tokio::time::timeout(OP_BOUND, store.put_entry(name, b"y"))
            .await
            .expect("no hang");
        match attempt {
            Ok(()) => return started,
            Err(StoreError::Unavailable(_)) => {
                assert!(
                    started.elapsed() < RECOVERY_BOUND,
                    "store never moved to the new primary"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(other) => panic!("unexpected error during failover: {other}"),
        }
    }
}

/// Checks the whole audit chain: sequence 1..=n without a gap, each record
/// linked to the previous one and hashed correctly, the head at the end.
async fn assert_chain(store: &dyn Store, n: i64) {
    let rows = store.read_audit(1, 10_000).await.unwrap();
    assert_eq!(rows.len() as i64, n, "audit records");
    let mut prev = GENESIS.to_vec();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as i64 + 1, "no gap");
        assert_eq!(row.prev_hash, prev, "linked to the previous record");
        let want = entry_hash(
            ChainAlgorithm::Sha256,
            row.seq as u64,
            &row.prev_hash.clone().try_into().unwrap(),
            &row.body,
        );
        assert_eq!(row.hash, want.to_vec(), "record {} hash", row.seq);
        prev = row.hash.clone();
    }
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.last_seq, n);
    assert_eq!(head.last_hash, rows.last().map(|r| r.hash.clone()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_follows_promotion_of_the_replica() {
    let primary = PgCluster::start().unwrap();
    let replica = primary.start_replica().unwrap();
    let (p1, p2) = (primary.port(), replica.port());

    // The standby listed first is passed over for the writable primary.
    let reversed = format!(
        "postgres://postgres@127.0.0.1:{p2},127.0.0.1:{p1}/postgres?target_session_attrs=read-write"
    );
    let other_node = SqlStore::connect(&reversed).await.unwrap();
    assert_eq!(server_port(&other_node).await, p1);
    other_node.close().await;

    let url = format!(
        "postgres://postgres@127.0.0.1:{p1},127.0.0.1:{p2}/postgres?target_session_attrs=read-write"
    );
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(server_port(&store).await, p1, "starts on the primary");

    // Acknowledged writes before the failover.
    store.put_entry("seal", b"\x00config\xff").await.unwrap();
    let k = key("k1", "ns", "orders", 1);
    let mut change = create(&k, &[1]);
    change.audit = Some((ChainAlgorithm::Sha256, record(1)));
    store.apply(&change).await.unwrap();
    let before: Vec<AuditAppend> = (2..=5).map(record).collect();
    store
        .append_audit(ChainAlgorithm::Sha256, &before)
        .await
        .unwrap();
    assert_chain(&store, 5).await;
    primary.wait_replayed_by(&replica, RECOVERY_BOUND).unwrap();

    primary.stop().unwrap();

    // No writable server: operations fail as unavailable, within a bound.
    let started = Instant::now();
    let during = tokio::time::timeout(OP_BOUND, store.put_entry("during", b"x"))
        .await
        .expect("an operation during the switch must not hang");
    assert!(
        matches!(during, Err(StoreError::Unavailable(_))),
        "{during:?}"
    );
    let during_audit = tokio::time::timeout(
        OP_BOUND,
        store.append_audit(ChainAlgorithm::Sha256, &[record(99)]),
    )
    .await
    .expect("no hang");
    assert!(matches!(during_audit, Err(StoreError::Unavailable(_))));
    eprintln!("failed cleanly while down in {:?}", started.elapsed());

    replica.promote().unwrap();

    // Writes succeed on the new primary within a bounded time.
    let promoted = write_within(&store, "after").await;
    eprintln!("writable again {:?} after promotion", promoted.elapsed());
    assert_eq!(server_port(&store).await, p2, "now on the promoted replica");

    // Everything acknowledged before the stop is there.
    assert_eq!(
        store.get_entry("seal").await.unwrap().as_deref(),
        Some(&b"\x00config\xff"[..])
    );
    assert_eq!(
        store.get_key("ns", "orders").await.unwrap(),
        Some(k.clone())
    );
    assert_eq!(store.list_versions("k1").await.unwrap().len(), 1);
    assert_eq!(store.get_entry("during").await.unwrap(), None);

    // The audit chain continues from where it was, without a gap.
    let after: Vec<AuditAppend> = (6..=8).map(record).collect();
    let rows = store
        .append_audit(ChainAlgorithm::Sha256, &after)
        .await
        .unwrap();
    assert_eq!(rows.first().map(|r| r.seq), Some(6));
    assert_chain(&store, 8).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_leaves_a_primary_that_turns_read_only() {
    let primary = PgCluster::start().unwrap();
    let replica = primary.start_replica().unwrap();
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres",
        primary.port(),
        replica.port()
    );
    let store = SqlStore::connect(&url).await.unwrap();
    store.put_entry("a", b"1").await.unwrap();
    primary.wait_replayed_by(&replica, RECOVERY_BOUND).unwrap();

    primary
        .psql("ALTER SYSTEM SET default_transaction_read_only = on")
        .unwrap();
    assert_eq!(primary.psql("SELECT pg_reload_conf()").unwrap(), "t");

    // Writes are refused as unavailable (SQLSTATE 25006); reads still work.
    let started = Instant::now();
    loop {
        match store.put_entry("refused", b"x").await {
            Err(StoreError::Unavailable(msg)) => {
                assert!(msg.contains("25006"), "{msg}");
                break;
            }
            other => {
                assert!(other.is_ok(), "{other:?}");
                assert!(
                    started.elapsed() < OP_BOUND,
                    "primary never turned read-only"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    assert_eq!(
        store.get_entry("a").await.unwrap().as_deref(),
        Some(&b"1"[..])
    );

    // Another server becomes writable: the store moves there.
    replica.promote().unwrap();
    let promoted = write_within(&store, "b").await;
    eprintln!(
        "moved off the read-only primary in {:?}",
        promoted.elapsed()
    );
    assert_eq!(server_port(&store).await, replica.port());
    assert_eq!(
        store.get_entry("a").await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    store.close().await;
}

#[tokio::test]
async fn no_reachable_host_fails_cleanly_without_the_password() {
    let (a, b) = (free_port().unwrap(), free_port().unwrap());
    let url = format!("postgres://postgres:hunter2@127.0.0.1:{a},127.0.0.1:{b}/postgres");
    let started = Instant::now();
    let err = tokio::time::timeout(OP_BOUND, SqlStore::connect(&url))
        .await
        .expect("bounded")
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Unavailable(_)), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{a}")), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{b}")), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(started.elapsed() < OP_BOUND);
}
