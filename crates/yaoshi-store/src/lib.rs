//! # yaoshi-store
//!
//! Implementations of `yaoshi-core`'s [`Store`] trait (DESIGN §5): SQLite in
//! WAL mode with `synchronous=FULL` as the embedded default, and PostgreSQL
//! for many stateless nodes sharing one database.
//!
//! Both back ends are one implementation, [`SqlStore`], over `sqlx`'s `Any`
//! driver; the few differences (binary column type, connection pragmas,
//! transaction start, migration locking) live in [`Backend`]. They share one
//! embedded migration set (`migrations/*.sql`) and, behind the `testing`
//! feature, one conformance suite ([`conformance`]) and a throwaway
//! PostgreSQL cluster for tests ([`testing::PgCluster`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), yaoshi_core::store::StoreError> {
//! let store = yaoshi_store::open("sqlite:///var/lib/yaoshi/yaoshi.db").await?;
//! assert_eq!(store.backend(), "sqlite");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod backend;
mod error;
mod failover;
mod lease;
mod migrate;
mod pg_hosts;
mod read_cache;
mod snapshot;
mod sql;

#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use yaoshi_core::store::{Store, StoreError};

pub use backend::Backend;
pub use migrate::{MIGRATIONS, Migration};
pub use sql::{SHARED_SYNC_WINDOW, SqlStore};

/// Opens (creating and migrating if needed) the store at `url` and returns it
/// as a shared trait object.
///
/// Accepted URLs:
/// - `sqlite://PATH` or `sqlite:PATH`: a database file, created if missing
///   (`sqlite:///abs/path.db` for an absolute path);
/// - `sqlite::memory:`: a private in-memory database that lives as long as
///   the returned store;
/// - `postgres://...` or `postgresql://...`: a PostgreSQL database.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::connect(url).await?))
}

/// Opens the store as a serving node does ([`SqlStore::connect_cached`]):
/// the entry and key rows every request reads are served from memory; an
/// SQLite file is locked to this process, PostgreSQL is checked against its
/// change counter once per authenticated request.
pub async fn open_cached(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::connect_cached(url).await?))
}
