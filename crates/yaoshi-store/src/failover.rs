//! The store's connection pool, and following a PostgreSQL promotion.
//!
//! A [`PoolSlot`] holds the pool every operation runs on. For SQLite and a
//! single-host PostgreSQL URL it is fixed, exactly as a bare pool. For a
//! multi-host URL ([`PgHosts`]) the slot starts on the first listed server
//! that is acceptable (writable, unless `target_session_attrs=any`), and a
//! monitor task checks that server once per [`CHECK_INTERVAL`] on a
//! connection of its own. When the check fails (server gone, demoted,
//! read-only), the monitor probes the servers in order, each bounded by
//! [`PROBE_TIMEOUT`], and if the first acceptable one is another server it
//! swaps in a pool on it; the old pool is closed, so operations still
//! waiting on it fail at once with "storage unavailable" instead of waiting
//! out the acquire timeout. Operations in flight on the old server fail
//! (the client sees a 503) and later ones run on the new server.
//!
//! Bounded by construction: at most one probe round per interval, never a
//! retry of a failed operation, and no switch back while the current server
//! stays acceptable (so two servers both claiming to be primary cannot make
//! a node flap between them).

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection, Row};
use tokio::task::AbortHandle;
use yaoshi_core::store::{StoreError, StoreResult};

use crate::error::db;
use crate::pg_hosts::{PgHosts, SessionAttrs};

/// How often the monitor checks the current server.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// How long one check or one server probe may take.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the server accepts writes (one row, one boolean).
const WRITABLE_SQL: &str =
    "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'";

/// The pool operations use, possibly replaced after a failover.
pub(crate) struct PoolSlot {
    current: Arc<RwLock<AnyPool>>,
    /// The monitor task of a multi-host slot.
    monitor: Option<AbortHandle>,
}

impl PoolSlot {
    /// A slot that always holds `pool`.
    pub(crate) fn fixed(pool: AnyPool) -> Self {
        PoolSlot {
            current: Arc::new(RwLock::new(pool)),
            monitor: None,
        }
    }

    /// Connects to the first acceptable server of `hosts` and starts the
    /// monitor. `options` builds the pool settings for each new pool.
    pub(crate) async fn multi_host(
        hosts: PgHosts,
        options: fn() -> AnyPoolOptions,
    ) -> StoreResult<Self> {
        let first = first_acceptable(&hosts).await?;
        let pool = options().connect(&hosts.urls()[first]).await.map_err(db)?;
        let current = Arc::new(RwLock::new(pool));
        let task = tokio::spawn(monitor(Arc::downgrade(&current), hosts, first, options));
        Ok(PoolSlot {
            current,
            monitor: Some(task.abort_handle()),
        })
    }

    /// The current pool (a cheap handle).
    pub(crate) fn get(&self) -> AnyPool {
        read(&self.current)
    }

    /// Stops the monitor and closes the current pool.
    pub(crate) async fn close(&self) {
        if let Some(m) = &self.monitor {
            m.abort();
        }
        self.get().close().await;
    }
}

impl Drop for PoolSlot {
    fn drop(&mut self) {
        if let Some(m) = &self.monitor {
            m.abort();
        }
    }
}

fn read(slot: &RwLock<AnyPool>) -> AnyPool {
    slot.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Checks the current server every interval on a connection of its own
/// (so a busy pool is never mistaken for a dead server); when the check
/// fails, moves to the first acceptable server if that is another one.
/// Ends when the slot is dropped.
async fn monitor(
    slot: Weak<RwLock<AnyPool>>,
    hosts: PgHosts,
    mut current: usize,
    options: fn() -> AnyPoolOptions,
) {
    let mut conn = None;
    loop {
        tokio::time::sleep(CHECK_INTERVAL).await;
        if slot.strong_count() == 0 {
            return;
        }
        if check(&mut conn, &hosts.urls()[current], hosts.attrs()).await {
            continue;
        }
        // No server acceptable yet (a promotion under way): the next tick
        // probes again; operations meanwhile fail as unavailable. The same
        // server again (a blip) keeps its pool, which reconnects by itself.
        let Ok(next) = first_acceptable(&hosts).await else {
            continue;
        };
        if next == current {
            continue;
        }
        let Ok(new) = options().connect(&hosts.urls()[next]).await else {
            continue;
        };
        let Some(slot) = slot.upgrade() else {
            new.close().await;
            return;
        };
        let old = std::mem::replace(&mut *slot.write().unwrap_or_else(|e| e.into_inner()), new);
        drop(slot);
        current = next;
        // Waiters on the old pool fail now; connections still checked out
        // are closed when their operation ends.
        tokio::spawn(async move { old.close().await });
    }
}

/// Checks the current server on the monitor's connection (opened again if
/// needed), within the probe timeout.
async fn check(conn: &mut Option<AnyConnection>, url: &str, attrs: SessionAttrs) -> bool {
    let attempt = async {
        if conn.is_none() {
            *conn = Some(AnyConnection::connect(url).await.map_err(|e| refusal(&e))?);
        }
        match conn.as_mut() {
            Some(c) => accepts(c, attrs).await,
            None => Err("not connected".to_owned()),
        }
    };
    let ok = matches!(
        tokio::time::timeout(PROBE_TIMEOUT, attempt).await,
        Ok(Ok(()))
    );
    if !ok {
        *conn = None;
    }
    ok
}

/// Why a server was passed over (never holds credentials).
fn refusal(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(e) => match e.code() {
            Some(code) => format!("refused (SQLSTATE {code})"),
            None => "refused".into(),
        },
        sqlx::Error::Io(e) => format!("unreachable ({})", e.kind()),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        _ => "connection failed".into(),
    }
}

/// Whether the server on `conn` is acceptable under `attrs`.
async fn accepts(conn: &mut AnyConnection, attrs: SessionAttrs) -> Result<(), String> {
    let sql = match attrs {
        SessionAttrs::ReadWrite => WRITABLE_SQL,
        SessionAttrs::Any => "SELECT TRUE",
    };
    match sqlx::query(sql).fetch_one(conn).await {
        Ok(row) if row.try_get::<bool, _>(0).unwrap_or(false) => Ok(()),
        Ok(_) => Err("read-only (a standby or read-only server)".to_owned()),
        Err(e) => Err(refusal(&e)),
    }
}

/// Probes one server with a single connection: `Ok(())` if acceptable.
async fn probe(url: &str, attrs: SessionAttrs) -> Result<(), String> {
    let attempt = async {
        let mut conn = AnyConnection::connect(url).await.map_err(|e| refusal(&e))?;
        let outcome = accepts(&mut conn, attrs).await;
        let _ = conn.close().await;
        outcome
    };
    tokio::time::timeout(PROBE_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// The index of the first acceptable server of `hosts`, in the listed
/// order, or why there is none.
async fn first_acceptable(hosts: &PgHosts) -> StoreResult<usize> {
    let mut reasons = Vec::new();
    for (i, url) in hosts.urls().iter().enumerate() {
        match probe(url, hosts.attrs()).await {
            Ok(()) => return Ok(i),
            Err(why) => reasons.push(format!("{}: {why}", hosts.name(i))),
        }
    }
    let wanted = match hosts.attrs() {
        SessionAttrs::ReadWrite => "writable PostgreSQL server",
        SessionAttrs::Any => "PostgreSQL server",
    };
    Err(StoreError::Unavailable(format!(
        "no {wanted} among the listed hosts ({})",
        reasons.join("; ")
    )))
}
