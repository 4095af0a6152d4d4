//! The conformance suite, unchanged, against every back end.

use yaoshi_store::conformance::{run_all, snapshot_round_trip};
use yaoshi_store::testing::PgCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
    let store = yaoshi_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    run_all(&*store).await;
    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    snapshot_round_trip(&*store, &*yaoshi_store::open(&restored).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_memory() {
    let store = yaoshi_store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    run_all(&*store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.create_database("conformance").unwrap();
    let store = yaoshi_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    run_all(&*store).await;
    let restored = cluster.create_database("restored").unwrap();
    snapshot_round_trip(&*store, &*yaoshi_store::open(&restored).await.unwrap()).await;
    // Across back ends: PostgreSQL's snapshot into SQLite.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("from-pg.db").display());
    snapshot_round_trip(&*store, &*yaoshi_store::open(&sqlite).await.unwrap()).await;
}

/// The same suite through a serving node's read cache: every read after a
/// change must see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_cached() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
    let store = yaoshi_store::open_cached(&url).await.unwrap();
    run_all(&*store).await;
    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let target = yaoshi_store::open_cached(&restored).await.unwrap();
    snapshot_round_trip(&*store, &*target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_memory_cached() {
    let store = yaoshi_store::open_cached("sqlite::memory:").await.unwrap();
    run_all(&*store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_cached() {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.create_database("cached").unwrap();
    let store = yaoshi_store::open_cached(&url).await.unwrap();
    run_all(&*store).await;
}
