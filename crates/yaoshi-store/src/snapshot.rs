//! Whole-store snapshots for `operator backup` and `operator restore`:
//! every row except leases, read in one point-in-time transaction, and
//! written back in one write transaction into an empty store.

use sqlx::{AnyConnection, AnyPool};
use yaoshi_core::store::{EntryRecord, StoreError, StoreResult, StoreSnapshot};

use crate::backend::Backend;
use crate::error::db;
use crate::sql::{
    KEY_COLUMNS, audit_from, checkpoint_from, col, insert_audit_rows, insert_key, insert_version,
    key_from, namespace_from, version_from,
};

/// Reads every row in one read-only transaction.
pub(crate) async fn read(pool: &AnyPool, backend: Backend) -> StoreResult<StoreSnapshot> {
    let mut tx = pool
        .begin_with(backend.begin_snapshot())
        .await
        .map_err(db)?;
    let snapshot = read_in(&mut tx).await;
    // Nothing was written: ending the transaction either way is the same.
    let _ = tx.rollback().await;
    snapshot
}

async fn read_in(conn: &mut AnyConnection) -> StoreResult<StoreSnapshot> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let mut entries = sqlx::query("SELECT name, value FROM entries")
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            Ok(EntryRecord {
                name: col(r, "name")?,
                value: col(r, "value")?,
            })
        })
        .collect::<StoreResult<Vec<EntryRecord>>>()?;
    let namespaces =
        sqlx::query("SELECT name, sealed_kek, created_at FROM namespaces ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(namespace_from)
            .collect::<StoreResult<_>>()?;
    let keys = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM keys ORDER BY id"))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
        .iter()
        .map(key_from)
        .collect::<StoreResult<_>>()?;
    let versions = sqlx::query(
        "SELECT key_id, version, sealed_material, created_at FROM key_versions \
         ORDER BY key_id, version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?
    .iter()
    .map(version_from)
    .collect::<StoreResult<_>>()?;
    let audit_records =
        sqlx::query("SELECT seq, time, prev_hash, hash, body FROM audit_records ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(audit_from)
            .collect::<StoreResult<_>>()?;
    let checkpoints = sqlx::query(
        "SELECT tree_size, time, body, frontier FROM audit_checkpoints ORDER BY tree_size",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?
    .iter()
    .map(checkpoint_from)
    .collect::<StoreResult<_>>()?;
    // Sorted here, bytewise, independent of the database's collation.
    entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(StoreSnapshot {
        entries,
        namespaces,
        keys,
        versions,
        audit_last_seq: col(&head, "seq")?,
        audit_last_hash: col(&head, "hash")?,
        audit_records,
        checkpoints,
    })
}

/// Writes `snapshot` into an empty store if `claim` is still there.
pub(crate) async fn restore(
    pool: &AnyPool,
    backend: Backend,
    snapshot: &StoreSnapshot,
    claim: &str,
) -> StoreResult<bool> {
    let mut tx = pool.begin_with(backend.begin_write()).await.map_err(db)?;
    match restore_in(&mut tx, snapshot, claim).await {
        Ok(true) => {
            tx.commit().await.map_err(db)?;
            Ok(true)
        }
        other => {
            // Report the first outcome; a failed rollback only discards the
            // connection.
            let _ = tx.rollback().await;
            other
        }
    }
}

async fn restore_in(conn: &mut AnyConnection, s: &StoreSnapshot, claim: &str) -> StoreResult<bool> {
    // The claim first: of several nodes restoring at once, one deletes it.
    let claimed = sqlx::query("DELETE FROM entries WHERE name = $1")
        .bind(claim)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if claimed.rows_affected() != 1 {
        return Ok(false);
    }
    let occupied: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM namespaces) + (SELECT count(*) FROM keys) \
         + (SELECT count(*) FROM audit_records) + (SELECT seq FROM audit_head WHERE id = 1)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if occupied != 0 {
        return Err(StoreError::AlreadyExists);
    }
    sqlx::query("DELETE FROM entries")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for e in &s.entries {
        sqlx::query("INSERT INTO entries (name, value) VALUES ($1, $2)")
            .bind(&e.name)
            .bind(e.value.as_slice())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    for n in &s.namespaces {
        sqlx::query("INSERT INTO namespaces (name, sealed_kek, created_at) VALUES ($1, $2, $3)")
            .bind(&n.name)
            .bind(n.sealed_kek.as_slice())
            .bind(n.created_at)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    for k in &s.keys {
        insert_key(conn, k).await.map_err(db)?;
    }
    for v in &s.versions {
        insert_version(conn, v).await.map_err(db)?;
    }
    insert_audit_rows(conn, &s.audit_records)
        .await
        .map_err(db)?;
    for c in &s.checkpoints {
        sqlx::query(
            "INSERT INTO audit_checkpoints (tree_size, time, body, frontier) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(c.tree_size)
        .bind(c.time)
        .bind(c.body.as_slice())
        .bind(c.frontier.as_slice())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(s.audit_last_seq)
        .bind(s.audit_last_hash.as_deref())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(true)
}
