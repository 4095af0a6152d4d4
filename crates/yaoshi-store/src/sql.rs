//! [`SqlStore`]: the one `Store` implementation, over `sqlx`'s `Any` driver.
//!
//! Queries are written once, in SQL that SQLite and PostgreSQL both accept
//! (`$n` parameters, `ON CONFLICT`, a partial unique index). Single-statement
//! operations run on the pool; [`Store::apply`] runs in one write
//! transaction whose first statement is the key row's INSERT or
//! compare-and-set UPDATE.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Decode, Executor, Row, Type};
use yaoshi_core::audit::chain::{ChainAlgorithm, Digest, GENESIS, entry_hash};
use yaoshi_core::store::{
    AuditAppend, AuditHead, AuditRow, CheckpointRow, KeyChange, KeyRecord, LeaseState,
    NamespaceRecord, Store, StoreError, StoreResult, StoreSnapshot, VersionRecord,
};

use crate::backend::{Backend, SQLITE_BUSY_TIMEOUT_MS, Target};
use crate::error::{db, unique_as};
use crate::failover::PoolSlot;
use crate::migrate;
use crate::pg_hosts::PgHosts;
use crate::read_cache::{Cached, ReadCache};

/// Connections in a file-backed SQLite pool (readers run in parallel in WAL
/// mode; writers queue on the database lock).
const SQLITE_POOL_SIZE: u32 = 8;
/// Connections in a PostgreSQL pool, per node.
const POSTGRES_POOL_SIZE: u32 = 16;
/// How old the last change-counter read of a shared (PostgreSQL) cached
/// store may be for a cached read outside a request: background work (the
/// scheduler, a sealed node waiting for another's init) sees other nodes'
/// changes within this.
pub const SHARED_SYNC_WINDOW: Duration = Duration::from_millis(100);
/// How long a PostgreSQL operation waits for a pooled connection. While the
/// server is down or unreachable `sqlx` keeps retrying the connect until
/// this deadline (its default is 30 s), so this bounds how long a request
/// waits before it fails with "storage unavailable" (and is refused).
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] on SQLite or PostgreSQL.
///
/// Created by [`SqlStore::connect`] (or [`crate::open`]), which also applies
/// the schema migrations.
pub struct SqlStore {
    pool: PoolSlot,
    backend: Backend,
    /// For in-memory SQLite: a connection outside the pool that keeps the
    /// shared-cache database alive even if the pool recycles its connection.
    _keep_alive: Option<Mutex<AnyConnection>>,
    /// Rows served from memory ([`SqlStore::connect_cached`]).
    cache: Option<ReadCache>,
    /// Whether other processes write the store (PostgreSQL), so the cache
    /// is checked against the change counter.
    shared: bool,
    /// The SQLite file's lock, held while the store is open exclusively.
    _file_lock: Option<std::fs::File>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects to the store at `url` (see [`crate::open`] for the accepted
    /// forms), configures every pooled connection and applies migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let target = Target::parse(url)?;
        let backend = target.backend();
        let options = AnyPoolOptions::new();
        let (options, keep_alive) = match &target {
            Target::SqliteFile { .. } => (
                options
                    .max_connections(SQLITE_POOL_SIZE)
                    .after_connect(|conn, _| Box::pin(configure_sqlite(conn, true))),
                None,
            ),
            Target::SqliteMemory { url } => {
                // Shared-cache locks are not covered by busy_timeout, so the
                // pool has a single connection that is never reaped; the
                // extra connection only keeps the database in existence.
                let keeper = AnyConnection::connect(url).await.map_err(db)?;
                (
                    options
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                        .after_connect(|conn, _| Box::pin(configure_sqlite(conn, false))),
                    Some(Mutex::new(keeper)),
                )
            }
            Target::Postgres { .. } => (postgres_pool_options(), None),
        };
        let pool = match PgHosts::parse(target.url())? {
            Some(hosts) => PoolSlot::multi_host(hosts, postgres_pool_options).await?,
            None => PoolSlot::fixed(options.connect(target.url()).await.map_err(db)?),
        };
        let store = SqlStore {
            pool,
            backend,
            _keep_alive: keep_alive,
            cache: None,
            shared: false,
            _file_lock: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects as a serving node: like [`SqlStore::connect`], with the
    /// entry and key rows every request reads served from memory (see
    /// `read_cache`).
    ///
    /// An SQLite file becomes this process's alone: it is locked through
    /// `<file>.lock`, and a second process (or a second cached store in this
    /// one) is refused with [`StoreError::Unavailable`] until the first
    /// closes. Nothing else writes it, so the cache needs no checks.
    /// PostgreSQL is shared by design: [`Store::sync_changes`] reads the
    /// change counter at the start of every request (one small read instead
    /// of the token, principal, mount and key rows), and any other cached
    /// read (background work) syncs first when no sync happened in the last
    /// [`SHARED_SYNC_WINDOW`].
    pub async fn connect_cached(url: &str) -> StoreResult<Self> {
        let target = Target::parse(url)?;
        let file_lock = match &target {
            Target::SqliteFile { .. } => Some(lock_sqlite_file(target.sqlite_path()).await?),
            Target::SqliteMemory { .. } | Target::Postgres { .. } => None,
        };
        let mut store = Self::connect(url).await?;
        store.cache = Some(ReadCache::default());
        store.shared = store.backend == Backend::Postgres;
        store._file_lock = file_lock;
        Ok(store)
    }

    /// Runs one statement on the entries table in a write transaction that
    /// also counts the change, then forgets cached rows; returns how many
    /// rows the statement affected.
    async fn change_entries<'q>(
        &self,
        statement: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> StoreResult<u64> {
        let result = async {
            let mut tx = self
                .pool()
                .begin_with(self.backend.begin_write())
                .await
                .map_err(db)?;
            let affected = statement
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            count_change(&mut tx).await?;
            tx.commit().await.map_err(db)?;
            Ok(affected)
        }
        .await;
        self.changed();
        result
    }

    /// Forgets cached rows after a change to a cached table.
    fn changed(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate();
        }
    }

    /// Which back end this store uses.
    pub fn kind(&self) -> Backend {
        self.backend
    }

    /// The current connection pool, for diagnostics and tests. With a
    /// multi-host PostgreSQL URL this changes after a failover.
    pub fn pool(&self) -> AnyPool {
        self.pool.get()
    }

    /// Applies any missing schema migrations (already done by
    /// [`SqlStore::connect`]); returns how many were applied.
    pub async fn migrate(&self) -> StoreResult<usize> {
        migrate::run(&self.pool(), self.backend).await
    }

    /// Closes the pool, waiting for checked-out connections to return.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// How long a cached SQLite store waits for another holder of the file's
/// lock to let go (a process still exiting, or a server of this process
/// whose last tasks are still finishing) before it refuses to start.
const SQLITE_LOCK_WAIT: Duration = Duration::from_secs(3);

/// Takes `<path>.lock` for this process, waiting up to [`SQLITE_LOCK_WAIT`]
/// for a holder to let go; then says who holds it.
async fn lock_sqlite_file(path: &str) -> StoreResult<std::fs::File> {
    let lock_path = format!("{path}.lock");
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&lock_path).map_err(|e| {
        StoreError::Unavailable(format!("cannot open the SQLite lock file {lock_path}: {e}"))
    })?;
    let deadline = std::time::Instant::now() + SQLITE_LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Unavailable(format!(
                    "the SQLite database is in use by another yaoshi server (lock {lock_path} \
                     is held); an SQLite store serves one process: use PostgreSQL for several \
                     nodes"
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Unavailable(format!(
                    "cannot lock {lock_path}: {e}"
                )));
            }
        }
    }
}

/// Pool settings for PostgreSQL (each pool of a multi-host store too).
fn postgres_pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(POSTGRES_POOL_SIZE)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
}

/// Per-connection SQLite settings: wait up to `busy_timeout` for locks,
/// enforce foreign keys, fsync on every commit, and (for files) WAL.
async fn configure_sqlite(conn: &mut AnyConnection, file: bool) -> Result<(), sqlx::Error> {
    let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
    conn.execute(busy.as_str()).await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    conn.execute("PRAGMA synchronous = FULL").await?;
    if file {
        set_wal(conn).await?;
    }
    Ok(())
}

/// Reads a one-row, one-column text PRAGMA.
async fn pragma_text(conn: &mut AnyConnection, sql: &'static str) -> Result<String, sqlx::Error> {
    let row = conn.fetch_one(sql).await?;
    row.try_get(0)
}

/// Switches the database file to WAL mode unless it already is.
///
/// The switch needs an exclusive lock that `busy_timeout` does not wait for,
/// so it is retried while another connection holds the database (only ever
/// the case on a brand-new file opened by several connections at once).
async fn set_wal(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let mut waited_ms = 0;
    loop {
        if pragma_text(conn, "PRAGMA journal_mode")
            .await?
            .eq_ignore_ascii_case("wal")
        {
            return Ok(());
        }
        let outcome = pragma_text(conn, "PRAGMA journal_mode = WAL").await;
        if outcome
            .as_deref()
            .is_ok_and(|m| m.eq_ignore_ascii_case("wal"))
        {
            return Ok(());
        }
        if waited_ms >= SQLITE_BUSY_TIMEOUT_MS {
            return match outcome {
                Err(e) => Err(e),
                Ok(m) => Err(sqlx::Error::Configuration(
                    format!("SQLite refused WAL mode (journal_mode is {m})").into(),
                )),
            };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited_ms += 20;
    }
}

/// Reads column `name`, mapping a bad value to [`StoreError::Corrupt`].
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> StoreResult<T>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(name)
        .map_err(|_| StoreError::Corrupt(format!("column {name} has an unexpected type or value")))
}

pub(crate) const KEY_COLUMNS: &str =
    "id, namespace, name, state, generation, metadata, created_at, updated_at";

pub(crate) fn key_from(row: &AnyRow) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        id: col(row, "id")?,
        namespace: col(row, "namespace")?,
        name: col(row, "name")?,
        state: col(row, "state")?,
        generation: col(row, "generation")?,
        metadata: col(row, "metadata")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

pub(crate) fn namespace_from(row: &AnyRow) -> StoreResult<NamespaceRecord> {
    Ok(NamespaceRecord {
        name: col(row, "name")?,
        sealed_kek: col(row, "sealed_kek")?,
        created_at: col(row, "created_at")?,
    })
}

pub(crate) fn version_from(row: &AnyRow) -> StoreResult<VersionRecord> {
    Ok(VersionRecord {
        key_id: col(row, "key_id")?,
        version: col(row, "version")?,
        sealed_material: col(row, "sealed_material")?,
        created_at: col(row, "created_at")?,
    })
}

/// Inserts a key row.
pub(crate) async fn insert_key(conn: &mut AnyConnection, k: &KeyRecord) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&k.id)
    .bind(&k.namespace)
    .bind(&k.name)
    .bind(&k.state)
    .bind(k.generation)
    .bind(k.metadata.as_slice())
    .bind(k.created_at)
    .bind(k.updated_at)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Inserts a key version row.
pub(crate) async fn insert_version(
    conn: &mut AnyConnection,
    v: &VersionRecord,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO key_versions (key_id, version, sealed_material, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&v.key_id)
    .bind(v.version)
    .bind(v.sealed_material.as_deref())
    .bind(v.created_at)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Audit rows per INSERT statement (5 parameters each, far below either
/// back end's parameter limit). A group commit's records go in a few
/// statements rather than one each.
const AUDIT_ROWS_PER_INSERT: usize = 64;

/// Inserts audit record rows as given (their chain fields already set),
/// several per statement.
pub(crate) async fn insert_audit_rows(
    conn: &mut AnyConnection,
    rows: &[AuditRow],
) -> sqlx::Result<()> {
    for chunk in rows.chunks(AUDIT_ROWS_PER_INSERT) {
        let mut sql =
            String::from("INSERT INTO audit_records (seq, time, prev_hash, hash, body) VALUES ");
        for i in 0..chunk.len() {
            let n = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            ));
        }
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(r.seq)
                .bind(r.time)
                .bind(r.prev_hash.as_slice())
                .bind(r.hash.as_slice())
                .bind(r.body.as_slice());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Counts a change in the transaction making it (see `read_cache`): the
/// row lock is taken last, just before the commit, so writers queue on it
/// only briefly and always in the same order.
async fn count_change(conn: &mut AnyConnection) -> StoreResult<()> {
    sqlx::query("UPDATE change_counter SET value = value + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// The statements of [`Store::apply`], run inside its transaction.
async fn apply_in(conn: &mut AnyConnection, change: &KeyChange) -> StoreResult<()> {
    let k = &change.key;
    // The key row first: the transaction's first statement is a write.
    match change.expected_generation {
        None => {
            insert_key(conn, k)
                .await
                .map_err(unique_as(StoreError::AlreadyExists))?;
        }
        Some(expected) => {
            let done = sqlx::query(
                "UPDATE keys SET namespace = $1, name = $2, state = $3, generation = $4, \
                 metadata = $5, created_at = $6, updated_at = $7 \
                 WHERE id = $8 AND generation = $9",
            )
            .bind(&k.namespace)
            .bind(&k.name)
            .bind(&k.state)
            .bind(k.generation)
            .bind(k.metadata.as_slice())
            .bind(k.created_at)
            .bind(k.updated_at)
            .bind(&k.id)
            .bind(expected)
            .execute(&mut *conn)
            .await
            // Renaming or reviving a key onto a live key's name.
            .map_err(unique_as(StoreError::AlreadyExists))?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
    }
    for v in &change.put_versions {
        insert_version(conn, v)
            .await
            .map_err(unique_as(StoreError::Conflict))?;
    }
    if let Some(below) = change.delete_versions_below {
        sqlx::query("DELETE FROM key_versions WHERE key_id = $1 AND version < $2")
            .bind(&k.id)
            .bind(below)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if change.erase_all_material {
        sqlx::query("UPDATE key_versions SET sealed_material = NULL WHERE key_id = $1")
            .bind(&k.id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if let Some((algorithm, record)) = &change.audit {
        append_in(conn, *algorithm, std::slice::from_ref(record)).await?;
    }
    Ok(())
}

/// Appends audit records inside the caller's write transaction.
///
/// The head row is locked first (an UPDATE that changes nothing), then the
/// records are chained from it and the head moves to the last one.
async fn append_in(
    conn: &mut AnyConnection,
    algorithm: ChainAlgorithm,
    records: &[AuditAppend],
) -> StoreResult<Vec<AuditRow>> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let mut seq: i64 = col(&head, "seq")?;
    let mut prev: Digest = match col::<Option<Vec<u8>>>(&head, "hash")? {
        None => GENESIS,
        Some(h) => h
            .try_into()
            .map_err(|_| StoreError::Corrupt("audit head hash is not 32 bytes".into()))?,
    };
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        seq += 1;
        let position = u64::try_from(seq)
            .map_err(|_| StoreError::Corrupt("audit sequence number is negative".into()))?;
        let hash = entry_hash(algorithm, position, &prev, &r.body);
        rows.push(AuditRow {
            seq,
            time: r.time,
            prev_hash: prev.to_vec(),
            hash: hash.to_vec(),
            body: r.body.clone(),
        });
        prev = hash;
    }
    insert_audit_rows(conn, &rows)
        .await
        .map_err(unique_as(StoreError::Conflict))?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(prev.as_slice())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(rows)
}

pub(crate) fn audit_from(row: &AnyRow) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: col(row, "seq")?,
        time: col(row, "time")?,
        prev_hash: col(row, "prev_hash")?,
        hash: col(row, "hash")?,
        body: col(row, "body")?,
    })
}

pub(crate) fn checkpoint_from(row: &AnyRow) -> StoreResult<CheckpointRow> {
    Ok(CheckpointRow {
        tree_size: col(row, "tree_size")?,
        time: col(row, "time")?,
        body: col(row, "body")?,
        frontier: col(row, "frontier")?,
    })
}

/// The uncached reads behind the cached ones.
impl SqlStore {
    /// A cached read: what the cache holds, else `read` (whose result is
    /// kept unless a change raced it). Without a cache, just `read`.
    async fn through_cache<T: Clone>(
        &self,
        hit: impl FnOnce(&ReadCache) -> Option<T>,
        read: impl std::future::Future<Output = StoreResult<T>>,
        kept: impl FnOnce(T) -> Cached,
    ) -> StoreResult<T> {
        let Some(cache) = &self.cache else {
            return read.await;
        };
        if self.shared && !cache.synced_within(SHARED_SYNC_WINDOW) {
            // No request synced lately (background work): read the counter
            // first.
            self.sync_changes().await?;
        }
        if let Some(found) = hit(cache) {
            return Ok(found);
        }
        // `read` is a future: it touches the database only when awaited,
        // after the generation is taken.
        let generation = cache.generation();
        let found = read.await?;
        cache.keep(generation, kept(found.clone()));
        Ok(found)
    }

    async fn read_entry(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT value FROM entries WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool())
            .await
            .map_err(db)?;
        row.map(|r| col(&r, "value")).transpose()
    }

    async fn read_entry_names(&self, prefix: &str) -> StoreResult<Vec<String>> {
        // A substring comparison rather than LIKE: LIKE treats `%` and `_` as
        // wildcards and is case-insensitive for ASCII in SQLite. Both back
        // ends count `substr` and `length` in characters.
        let mut names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM entries WHERE substr(name, 1, length($1)) = $2")
                .bind(prefix)
                .bind(prefix)
                .fetch_all(&self.pool())
                .await
                .map_err(db)?;
        // Sorted here, bytewise, independent of the database's collation.
        names.sort_unstable();
        Ok(names)
    }

    async fn read_key(&self, namespace: &str, name: &str) -> StoreResult<Option<KeyRecord>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys \
             WHERE namespace = $1 AND name = $2 AND state <> 'destroyed'"
        );
        let row = sqlx::query(&sql)
            .bind(namespace)
            .bind(name)
            .fetch_optional(&self.pool())
            .await
            .map_err(db)?;
        row.as_ref().map(key_from).transpose()
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend.name()
    }

    async fn get_entry(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        self.through_cache(
            |cache| cache.entry(name),
            self.read_entry(name),
            |value| Cached::Entry(name.to_string(), value),
        )
        .await
    }

    async fn put_entry(&self, name: &str, value: &[u8]) -> StoreResult<()> {
        let upsert = sqlx::query(
            "INSERT INTO entries (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value);
        self.change_entries(upsert).await.map(|_| ())
    }

    async fn insert_entry(&self, name: &str, value: &[u8]) -> StoreResult<bool> {
        let insert = sqlx::query(
            "INSERT INTO entries (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value);
        Ok(self.change_entries(insert).await? == 1)
    }

    async fn delete_entry(&self, name: &str) -> StoreResult<bool> {
        let delete = sqlx::query("DELETE FROM entries WHERE name = $1").bind(name);
        Ok(self.change_entries(delete).await? == 1)
    }

    async fn list_entries(&self, prefix: &str) -> StoreResult<Vec<String>> {
        self.through_cache(
            |cache| cache.listing(prefix),
            self.read_entry_names(prefix),
            |names| Cached::Listing(prefix.to_string(), names),
        )
        .await
    }

    async fn get_namespace(&self, name: &str) -> StoreResult<Option<NamespaceRecord>> {
        let row =
            sqlx::query("SELECT name, sealed_kek, created_at FROM namespaces WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool())
                .await
                .map_err(db)?;
        row.as_ref().map(namespace_from).transpose()
    }

    async fn insert_namespace(&self, namespace: &NamespaceRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO namespaces (name, sealed_kek, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&namespace.name)
        .bind(namespace.sealed_kek.as_slice())
        .bind(namespace.created_at)
        .execute(&self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_key(&self, namespace: &str, name: &str) -> StoreResult<Option<KeyRecord>> {
        self.through_cache(
            |cache| cache.key(namespace, name),
            self.read_key(namespace, name),
            |record| Cached::Key((namespace.to_string(), name.to_string()), record),
        )
        .await
    }

    async fn get_key_by_id(&self, id: &str) -> StoreResult<Option<KeyRecord>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM keys WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool())
            .await
            .map_err(db)?;
        row.as_ref().map(key_from).transpose()
    }

    async fn list_keys(&self, namespace: &str) -> StoreResult<Vec<String>> {
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM keys WHERE namespace = $1 AND state <> 'destroyed'",
        )
        .bind(namespace)
        .fetch_all(&self.pool())
        .await
        .map_err(db)?;
        // Sorted here, bytewise, so that the order does not depend on the
        // PostgreSQL database's collation.
        names.sort_unstable();
        Ok(names)
    }

    async fn get_version(&self, key_id: &str, version: i64) -> StoreResult<Option<VersionRecord>> {
        let row = sqlx::query(
            "SELECT key_id, version, sealed_material, created_at FROM key_versions \
             WHERE key_id = $1 AND version = $2",
        )
        .bind(key_id)
        .bind(version)
        .fetch_optional(&self.pool())
        .await
        .map_err(db)?;
        row.as_ref().map(version_from).transpose()
    }

    async fn list_versions(&self, key_id: &str) -> StoreResult<Vec<VersionRecord>> {
        let rows = sqlx::query(
            "SELECT key_id, version, sealed_material, created_at FROM key_versions \
             WHERE key_id = $1 ORDER BY version",
        )
        .bind(key_id)
        .fetch_all(&self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(version_from).collect()
    }

    async fn apply(&self, change: &KeyChange) -> StoreResult<()> {
        if change
            .put_versions
            .iter()
            .any(|v| v.key_id != change.key.id)
        {
            return Err(StoreError::Corrupt(
                "a key change carries a version of another key".into(),
            ));
        }
        let mut tx = self
            .pool()
            .begin_with(self.backend.begin_write())
            .await
            .map_err(db)?;
        let result = match apply_in(&mut tx, change).await {
            Ok(()) => match count_change(&mut tx).await {
                Ok(()) => tx.commit().await.map_err(unique_as(StoreError::Conflict)),
                Err(e) => Err(e),
            },
            Err(e) => {
                // Report the first error; a failed rollback only means the
                // connection is discarded instead of reused.
                let _ = tx.rollback().await;
                Err(e)
            }
        };
        self.changed();
        result
    }

    async fn append_audit(
        &self,
        algorithm: ChainAlgorithm,
        records: &[AuditAppend],
    ) -> StoreResult<Vec<AuditRow>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self
            .pool()
            .begin_with(self.backend.begin_write())
            .await
            .map_err(db)?;
        match append_in(&mut tx, algorithm, records).await {
            Ok(rows) => {
                tx.commit().await.map_err(db)?;
                Ok(rows)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn read_audit(&self, from: i64, limit: i64) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, time, prev_hash, hash, body FROM audit_records \
             WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(audit_from).collect()
    }

    async fn read_audit_between(
        &self,
        start: i64,
        end: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, time, prev_hash, hash, body FROM audit_records \
             WHERE seq > $1 AND time >= $2 AND time < $3 ORDER BY seq LIMIT $4",
        )
        .bind(after)
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(&self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_head(&self) -> StoreResult<AuditHead> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool())
            .await
            .map_err(db)?;
        let first: Option<i64> = sqlx::query_scalar("SELECT min(seq) FROM audit_records")
            .fetch_one(&self.pool())
            .await
            .map_err(db)?;
        Ok(AuditHead {
            last_seq: col(&head, "seq")?,
            last_hash: col(&head, "hash")?,
            first_stored: first,
        })
    }

    async fn insert_checkpoint(&self, checkpoint: &CheckpointRow) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO audit_checkpoints (tree_size, time, body, frontier) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(checkpoint.tree_size)
        .bind(checkpoint.time)
        .bind(checkpoint.body.as_slice())
        .bind(checkpoint.frontier.as_slice())
        .execute(&self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<CheckpointRow>> {
        let row = sqlx::query(
            "SELECT tree_size, time, body, frontier FROM audit_checkpoints \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool())
        .await
        .map_err(db)?;
        row.as_ref().map(checkpoint_from).transpose()
    }

    async fn list_checkpoints(&self, from: i64, limit: i64) -> StoreResult<Vec<CheckpointRow>> {
        let rows = sqlx::query(
            "SELECT tree_size, time, body, frontier FROM audit_checkpoints \
             WHERE tree_size >= $1 ORDER BY tree_size LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(checkpoint_from).collect()
    }

    async fn prune_audit(&self, below: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM audit_records WHERE seq < $1")
            .bind(below)
            .execute(&self.pool())
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    // Snapshots (backup and restore): implemented in `crate::snapshot`.

    async fn snapshot(&self) -> StoreResult<StoreSnapshot> {
        crate::snapshot::read(&self.pool(), self.backend).await
    }

    async fn restore_snapshot(&self, snapshot: &StoreSnapshot, claim: &str) -> StoreResult<bool> {
        let restored = crate::snapshot::restore(&self.pool(), self.backend, snapshot, claim).await;
        // Counted after the restore's own transaction: nodes that cached the
        // empty store's rows forget them at their next sync.
        let counted = match self.pool().acquire().await {
            Ok(mut conn) => count_change(&mut conn).await,
            Err(e) => Err(db(e)),
        };
        self.changed();
        let restored = restored?;
        counted?;
        Ok(restored)
    }

    // Scheduler leases: implemented in `crate::lease`.

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_secs: i64,
        now: i64,
    ) -> StoreResult<LeaseState> {
        crate::lease::acquire(&self.pool(), self.backend, name, holder, ttl_secs, now).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool> {
        crate::lease::release(&self.pool(), name, holder).await
    }

    async fn sync_changes(&self) -> StoreResult<()> {
        let Some(cache) = self.cache.as_ref().filter(|_| self.shared) else {
            return Ok(());
        };
        let counter: i64 = sqlx::query_scalar("SELECT value FROM change_counter WHERE id = 1")
            .fetch_one(&self.pool())
            .await
            .map_err(db)?;
        cache.observe(counter);
        Ok(())
    }
}
