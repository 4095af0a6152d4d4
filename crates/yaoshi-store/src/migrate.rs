//! The embedded schema migrations and their runner.
//!
//! One migration set serves both back ends: each file is portable SQL in
//! which `{{blob}}` stands for the binary column type. Applied migrations are
//! recorded in `schema_migrations(version, name, applied_at)`; running the
//! runner again applies only what is missing, so it is a no-op on an
//! up-to-date database. Everything happens in one write transaction: on
//! SQLite `BEGIN IMMEDIATE` serialises concurrent openers, on PostgreSQL a
//! transaction-scoped advisory lock does, so several nodes may start at once.
//! Versions recorded by a newer release are left alone.

use sqlx::AnyConnection;
use sqlx::AnyPool;
use yaoshi_core::store::StoreResult;

use crate::backend::Backend;
use crate::error::db;

/// One embedded schema migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Version number; migrations are applied in ascending order.
    pub version: i64,
    /// Short name, recorded in `schema_migrations`.
    pub name: &'static str,
    /// Portable SQL; `{{blob}}` is replaced by the back end's binary type.
    pub sql: &'static str,
}

impl Migration {
    /// The migration's SQL for `backend`.
    pub fn render(&self, backend: Backend) -> String {
        self.sql.replace("{{blob}}", backend.blob_type())
    }
}

/// Every migration, in version order.
pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "keystore",
        sql: include_str!("../migrations/0001_keystore.sql"),
    },
    Migration {
        version: 2,
        name: "audit",
        sql: include_str!("../migrations/0002_audit.sql"),
    },
    Migration {
        version: 3,
        name: "leases",
        sql: include_str!("../migrations/0003_leases.sql"),
    },
    Migration {
        version: 4,
        name: "changes",
        sql: include_str!("../migrations/0004_changes.sql"),
    },
];

/// Key of the PostgreSQL advisory lock held while migrating ("yaoshi" + 1).
const PG_MIGRATION_LOCK: i64 = 0x0079_616f_7368_6901;

/// Applies the missing migrations; returns how many were applied.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> StoreResult<usize> {
    let mut tx = pool.begin_with(backend.begin_write()).await.map_err(db)?;
    match apply_missing(&mut tx, backend).await {
        Ok(applied) => {
            tx.commit().await.map_err(db)?;
            Ok(applied)
        }
        Err(e) => {
            // The error to report is the first one; a failed rollback only
            // means the connection is discarded.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn apply_missing(conn: &mut AnyConnection, backend: Backend) -> StoreResult<usize> {
    if backend == Backend::Postgres {
        // Wrapped in count(*): the Any driver cannot decode `void`.
        sqlx::query("SELECT count(*) FROM (SELECT pg_advisory_xact_lock($1)) AS l")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
            version BIGINT NOT NULL PRIMARY KEY, \
            name TEXT NOT NULL, \
            applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let now = unix_now();
    let mut applied = 0;
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let sql = m.render(backend);
        sqlx::raw_sql(&sql).execute(&mut *conn).await.map_err(db)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        applied += 1;
    }
    Ok(applied)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_ordered_and_render_per_backend() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
        for m in MIGRATIONS {
            let placeholders = m.sql.matches("{{blob}}").count();
            for backend in [Backend::Sqlite, Backend::Postgres] {
                let sql = m.render(backend);
                assert!(!sql.contains("{{"), "{}: unreplaced placeholder", m.name);
                let typed = format!(" {}", backend.blob_type());
                assert!(sql.matches(typed.as_str()).count() >= placeholders);
            }
        }
    }
}
