//! The few differences between the SQL back ends, and store URL parsing.
//!
//! Everything else (queries, migrations, error handling) is shared and
//! written in SQL that SQLite and PostgreSQL both accept.

use std::sync::atomic::{AtomicU64, Ordering};

use yaoshi_core::store::StoreError;

/// Which database a [`crate::SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (a file in WAL mode, or memory).
    Sqlite,
    /// PostgreSQL (or a PostgreSQL-protocol database).
    Postgres,
}

impl Backend {
    /// Short name, as returned by `Store::backend`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The column type for opaque bytes, substituted for `{{blob}}` in
    /// migrations.
    pub(crate) fn blob_type(self) -> &'static str {
        match self {
            Backend::Sqlite => "BLOB",
            Backend::Postgres => "BYTEA",
        }
    }

    /// The statement opening a write transaction.
    ///
    /// SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so a writer
    /// waits on `busy_timeout` instead of failing when it upgrades a read
    /// lock. PostgreSQL's row locks need nothing special.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }
}

impl Backend {
    /// The statement opening a read-only transaction that sees one point in
    /// time across all its statements. SQLite's deferred transaction takes
    /// its snapshot at the first read (WAL readers do not block writers).
    pub(crate) fn begin_snapshot(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }
}

/// Milliseconds an SQLite connection waits for a lock before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// An SQLite file; the `sqlx` URL creates it if missing.
    SqliteFile { url: String },
    /// A private, named, shared-cache in-memory SQLite database.
    SqliteMemory { url: String },
    /// A PostgreSQL database.
    Postgres { url: String },
}

static MEMORY_DB_SEQ: AtomicU64 = AtomicU64::new(0);

impl Target {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Target::SqliteFile { .. } | Target::SqliteMemory { .. } => Backend::Sqlite,
            Target::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The database file of an SQLite file target (the URL without its
    /// scheme and query); empty for other targets.
    pub(crate) fn sqlite_path(&self) -> &str {
        match self {
            Target::SqliteFile { url } => {
                let rest = url.strip_prefix("sqlite://").unwrap_or(url);
                rest.split('?').next().unwrap_or(rest)
            }
            Target::SqliteMemory { .. } | Target::Postgres { .. } => "",
        }
    }

    pub(crate) fn url(&self) -> &str {
        match self {
            Target::SqliteFile { url }
            | Target::SqliteMemory { url }
            | Target::Postgres { url } => url,
        }
    }

    /// Parses a store URL. Errors never repeat the URL (it may hold a
    /// password).
    pub(crate) fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres {
                url: url.to_owned(),
            });
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(StoreError::Unavailable(
                "unsupported store URL: expected sqlite://PATH, sqlite::memory: or postgres://..."
                    .into(),
            ));
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let memory_mode = query.is_some_and(|q| q.split('&').any(|p| p == "mode=memory"));
        if path == ":memory:" || memory_mode {
            // sqlx names `:memory:` afresh on every connection it opens, so a
            // pool would see several databases: name ours once instead.
            let seq = MEMORY_DB_SEQ.fetch_add(1, Ordering::Relaxed);
            let pid = std::process::id();
            return Ok(Target::SqliteMemory {
                url: format!("sqlite:file:yaoshi-memory-{pid}-{seq}?mode=memory&cache=shared"),
            });
        }
        if path.is_empty() {
            return Err(StoreError::Unavailable(
                "SQLite store URL has no file path".into(),
            ));
        }
        let url = match query {
            Some(q) if q.split('&').any(|p| p.starts_with("mode=")) => {
                format!("sqlite://{path}?{q}")
            }
            Some(q) if !q.is_empty() => format!("sqlite://{path}?{q}&mode=rwc"),
            _ => format!("sqlite://{path}?mode=rwc"),
        };
        Ok(Target::SqliteFile { url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            Target::parse("sqlite:///tmp/a.db").unwrap(),
            Target::SqliteFile {
                url: "sqlite:///tmp/a.db?mode=rwc".into()
            }
        );
        assert_eq!(
            Target::parse("sqlite:rel.db").unwrap(),
            Target::SqliteFile {
                url: "sqlite://rel.db?mode=rwc".into()
            }
        );
        assert_eq!(
            Target::parse("sqlite:///tmp/a.db?mode=ro")
                .unwrap()
                .sqlite_path(),
            "/tmp/a.db"
        );
        assert_eq!(
            Target::parse("sqlite:///tmp/a.db?mode=ro").unwrap(),
            Target::SqliteFile {
                url: "sqlite:///tmp/a.db?mode=ro".into()
            }
        );
        let a = Target::parse("sqlite::memory:").unwrap();
        let b = Target::parse("sqlite://:memory:").unwrap();
        assert!(matches!(a, Target::SqliteMemory { .. }));
        assert_ne!(a, b, "every in-memory store is its own database");
        assert_eq!(a.backend(), Backend::Sqlite);
        for pg in ["postgres://u@h/db", "postgresql://u:p@h:5/db"] {
            let t = Target::parse(pg).unwrap();
            assert_eq!(t.backend(), Backend::Postgres);
            assert_eq!(t.url(), pg);
        }
    }

    #[test]
    fn rejects_other_urls_without_echoing_them() {
        for bad in ["mysql://root:hunter2@h/db", "sqlite://", "hunter2"] {
            let err = Target::parse(bad).unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)));
            assert!(!err.to_string().contains("hunter2"));
        }
    }
}
