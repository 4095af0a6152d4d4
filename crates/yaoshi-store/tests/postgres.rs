//! PostgreSQL specifics: concurrent migrations by several nodes, CAS across
//! nodes, both URL schemes, and the throwaway cluster's own hygiene.

use std::sync::Arc;

use futures_util::future::join_all;
use sqlx::Row;
use yaoshi_core::store::Store;
use yaoshi_store::conformance::{concurrent_audit, concurrent_cas, concurrent_lease};
use yaoshi_store::testing::{PgCluster, free_port};
use yaoshi_store::{MIGRATIONS, SqlStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_at_once_migrate_once_and_share_cas() {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.create_database("nodes").unwrap();
    let opened = join_all((0..4).map(|_| SqlStore::connect(&url))).await;
    let stores: Vec<Arc<SqlStore>> = opened.into_iter().map(|s| Arc::new(s.unwrap())).collect();
    for s in &stores {
        assert_eq!(s.migrate().await.unwrap(), 0);
    }
    let rows = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&stores[0].pool())
        .await
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let want: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(versions, want);

    let refs: Vec<&dyn Store> = stores.iter().map(|s| &**s as &dyn Store).collect();
    concurrent_cas(&refs, "nodes", 8, 20).await;
    concurrent_audit(&refs, 8, 10).await;
    concurrent_lease(&refs, "nodes", 8).await;
}

#[tokio::test]
async fn postgresql_scheme_and_data_survive_reconnect() {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.create_database("schemes").unwrap();
    let alias = url.replacen("postgres://", "postgresql://", 1);
    {
        let store = yaoshi_store::open(&url).await.unwrap();
        store.put_entry("seal", b"\x00config\xff").await.unwrap();
    }
    let store = yaoshi_store::open(&alias).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    assert_eq!(
        store.get_entry("seal").await.unwrap().as_deref(),
        Some(&b"\x00config\xff"[..])
    );
}

#[tokio::test]
async fn cluster_is_private_and_removed_on_drop() {
    assert_ne!(free_port().unwrap(), 5432);
    let cluster = PgCluster::start().unwrap();
    assert_ne!(cluster.port(), 5432);
    let data = cluster.data_dir();
    assert!(data.join("PG_VERSION").exists());
    let url = cluster.create_database("hygiene").unwrap();
    assert!(url.contains(&format!("127.0.0.1:{}", cluster.port())));
    assert!(
        cluster
            .create_database("x; DROP DATABASE postgres")
            .is_err()
    );
    let store = yaoshi_store::open(&url).await.unwrap();
    store.put_entry("x", b"y").await.unwrap();
    drop(store);
    let port = cluster.port();
    drop(cluster);
    assert!(!data.exists(), "data directory removed");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server stopped"
    );
}

/// Two nodes' cached stores on one database: a change through one is seen
/// by the other at its next sync (the start of every request),
/// and by any read once the sync window has passed; concurrent
/// compare-and-set through both caches loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cached_nodes_see_each_others_changes_at_the_next_sync() {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.create_database("cached_nodes").unwrap();
    let a = SqlStore::connect_cached(&url).await.unwrap();
    let b = SqlStore::connect_cached(&url).await.unwrap();

    a.put_entry("mounts/transit", b"one").await.unwrap();
    b.sync_changes().await.unwrap();
    assert_eq!(
        b.get_entry("mounts/transit").await.unwrap(),
        Some(b"one".to_vec())
    );
    assert_eq!(b.list_entries("mounts/").await.unwrap(), ["mounts/transit"]);
    let row = yaoshi_store::conformance::key("id-k", "ns", "k", 1);
    assert_eq!(b.get_key("ns", "k").await.unwrap(), None);

    // Served from b's memory until b syncs ...
    a.put_entry("mounts/transit", b"two").await.unwrap();
    a.put_entry("mounts/other", b"x").await.unwrap();
    a.apply(&yaoshi_store::conformance::create(&row, &[1]))
        .await
        .unwrap();
    b.sync_changes().await.unwrap();
    assert_eq!(
        b.get_entry("mounts/transit").await.unwrap(),
        Some(b"two".to_vec())
    );
    assert_eq!(
        b.list_entries("mounts/").await.unwrap(),
        ["mounts/other", "mounts/transit"]
    );
    assert_eq!(b.get_key("ns", "k").await.unwrap(), Some(row));

    // ... and a read with no sync in the window syncs itself.
    assert!(a.delete_entry("mounts/transit").await.unwrap());
    tokio::time::sleep(yaoshi_store::SHARED_SYNC_WINDOW * 2).await;
    assert_eq!(b.get_entry("mounts/transit").await.unwrap(), None);

    let refs: [&dyn Store; 2] = [&a, &b];
    concurrent_cas(&refs, "cached", 8, 20).await;
}
