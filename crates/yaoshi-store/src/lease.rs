//! Named leases (`leases` table, migration 3): which node runs the
//! scheduled work.
//!
//! Taking or renewing a lease is one conditional upsert: the row is written
//! when absent, when its holder is the caller, or when it has expired; in
//! every other case it is left as it is. The same write transaction then
//! reads the row back, so the caller learns who holds the lease. On SQLite
//! the write lock serialises acquirers; on PostgreSQL the unique index and
//! row lock do (a racing insert waits for the first and then evaluates the
//! `WHERE` against the committed row).

use sqlx::AnyPool;
use yaoshi_core::store::{LeaseState, StoreError, StoreResult};

use crate::backend::Backend;
use crate::error::db;

/// Takes or renews `name` for `holder`; returns the lease as it stands.
pub(crate) async fn acquire(
    pool: &AnyPool,
    backend: Backend,
    name: &str,
    holder: &str,
    ttl_secs: i64,
    now: i64,
) -> StoreResult<LeaseState> {
    let expires_at = now.saturating_add(ttl_secs);
    let mut tx = pool.begin_with(backend.begin_write()).await.map_err(db)?;
    let upsert = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
    )
    .bind(name)
    .bind(holder)
    .bind(expires_at)
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = upsert {
        let _ = tx.rollback().await;
        return Err(db(e));
    }
    let row: Result<Option<(String, i64)>, _> =
        sqlx::query_as("SELECT holder, expires_at FROM leases WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await;
    let row = match row {
        Ok(row) => row,
        Err(e) => {
            let _ = tx.rollback().await;
            return Err(db(e));
        }
    };
    tx.commit().await.map_err(db)?;
    let (holder, expires_at) =
        row.ok_or_else(|| StoreError::Corrupt("lease row missing after upsert".into()))?;
    Ok(LeaseState { holder, expires_at })
}

/// Deletes `name` if `holder` holds it; `false` if it did not.
pub(crate) async fn release(pool: &AnyPool, name: &str, holder: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(done.rows_affected() == 1)
}
