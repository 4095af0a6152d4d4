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
