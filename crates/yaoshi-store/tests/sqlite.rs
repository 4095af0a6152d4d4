//! SQLite specifics: pragmas on every pooled connection, durability across
//! reopen, idempotent migrations, several stores on one file, and private
//! in-memory databases.

use std::sync::Arc;

use futures_util::future::join_all;
use sqlx::{Connection, Executor, Row};
use yaoshi_core::store::Store;
use yaoshi_store::conformance::{concurrent_audit, concurrent_cas, concurrent_lease, create, key};
use yaoshi_store::{MIGRATIONS, SqlStore};

fn file_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("yaoshi.db").display())
}

async fn pragma(conn: &mut sqlx::AnyConnection, name: &str) -> String {
    let row = conn
        .fetch_one(format!("PRAGMA {name}").as_str())
        .await
        .unwrap();
    // journal_mode is text; the others are integers.
    row.try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|i| i.to_string()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_store_is_wal_with_full_sync_on_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&file_url(&dir)).await.unwrap();
    store.put_entry("probe", b"x").await.unwrap();
    // Hold several connections at once so the pool has to open new ones.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(store.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        assert_eq!(pragma(conn, "journal_mode").await, "wal");
        assert_eq!(pragma(conn, "synchronous").await, "2", "2 is FULL");
        assert_eq!(pragma(conn, "foreign_keys").await, "1");
        assert_eq!(pragma(conn, "busy_timeout").await, "10000");
    }
    drop(conns);
    assert!(dir.path().join("yaoshi.db-wal").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reopen_keeps_data_and_migrations_are_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let k = key("reopen-1", "ns", "kept", 1);
    let applied_at: Vec<(i64, i64)> = {
        let store = SqlStore::connect(&url).await.unwrap();
        assert_eq!(
            store.migrate().await.unwrap(),
            0,
            "connect already migrated"
        );
        store.put_entry("seal", b"config").await.unwrap();
        store.apply(&create(&k, &[1])).await.unwrap();
        let rows = sqlx::query("SELECT version, applied_at FROM schema_migrations")
            .fetch_all(&store.pool())
            .await
            .unwrap();
        store.close().await;
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    };
    assert_eq!(applied_at.len(), MIGRATIONS.len());

    for _ in 0..2 {
        let store = SqlStore::connect(&url).await.unwrap();
        assert_eq!(store.migrate().await.unwrap(), 0);
        assert_eq!(
            store.get_entry("seal").await.unwrap().as_deref(),
            Some(&b"config"[..])
        );
        assert_eq!(store.get_key("ns", "kept").await.unwrap(), Some(k.clone()));
        assert_eq!(store.list_versions("reopen-1").await.unwrap().len(), 1);
        let rows = sqlx::query("SELECT version, applied_at FROM schema_migrations")
            .fetch_all(&store.pool())
            .await
            .unwrap();
        let again: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(again, applied_at);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_stores_open_one_new_file_at_once_and_share_cas() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let opened = join_all((0..4).map(|_| SqlStore::connect(&url))).await;
    let stores: Vec<Arc<dyn Store>> = opened
        .into_iter()
        .map(|s| Arc::new(s.unwrap()) as Arc<dyn Store>)
        .collect();
    let refs: Vec<&dyn Store> = stores.iter().map(|s| &**s).collect();
    concurrent_cas(&refs, "shared-file", 8, 20).await;
    concurrent_audit(&refs, 8, 10).await;
    concurrent_lease(&refs, "shared-file", 8).await;
}

#[tokio::test]
async fn memory_stores_are_private() {
    let a = yaoshi_store::open("sqlite::memory:").await.unwrap();
    let b = yaoshi_store::open("sqlite::memory:").await.unwrap();
    a.put_entry("only-in-a", b"1").await.unwrap();
    assert_eq!(b.get_entry("only-in-a").await.unwrap(), None);
    assert!(a.get_entry("only-in-a").await.unwrap().is_some());
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in ["mysql://root:pw@localhost/db", "sqlite://", "/tmp/x.db"] {
        assert!(yaoshi_store::open(url).await.is_err(), "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exclusive_store_holds_its_file_until_closed_and_sees_its_own_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let first = SqlStore::connect_cached(&url).await.unwrap();
    let err = SqlStore::connect_cached(&url).await.unwrap_err();
    assert!(
        err.to_string().contains("in use by another yaoshi server"),
        "{err}"
    );

    // Reads are served from memory and every change is seen at once.
    assert_eq!(first.get_entry("e").await.unwrap(), None);
    first.put_entry("e", b"one").await.unwrap();
    assert_eq!(first.get_entry("e").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(
        first.list_entries("e").await.unwrap(),
        vec!["e".to_string()]
    );
    first.put_entry("e", b"two").await.unwrap();
    assert_eq!(first.get_entry("e").await.unwrap(), Some(b"two".to_vec()));

    // Served from memory: a write behind the store's back (which the lock
    // exists to prevent) is not read until the store's own next change.
    let mut behind = sqlx::AnyConnection::connect(&url).await.unwrap();
    behind
        .execute("UPDATE entries SET value = X'6f746865' WHERE name = 'e'")
        .await
        .unwrap();
    assert_eq!(first.get_entry("e").await.unwrap(), Some(b"two".to_vec()));
    first.put_entry("other", b"x").await.unwrap();
    assert_eq!(first.get_entry("e").await.unwrap(), Some(b"othe".to_vec()));
    assert!(first.delete_entry("e").await.unwrap());
    assert_eq!(first.get_entry("e").await.unwrap(), None);
    assert!(first.list_entries("e").await.unwrap().is_empty());
    assert_eq!(first.get_key("ns", "k").await.unwrap(), None);
    let row = key("id-k", "ns", "k", 1);
    first.apply(&create(&row, &[1])).await.unwrap();
    assert_eq!(first.get_key("ns", "k").await.unwrap(), Some(row));

    first.close().await;
    drop(first);
    let again = SqlStore::connect_cached(&url).await.unwrap();
    assert!(again.get_key("ns", "k").await.unwrap().is_some());
}
