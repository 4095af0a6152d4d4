//! The node's audit writer: group commit, fail-closed health.
//!
//! With group commit (the default) one task per node owns appends: requests
//! hand it their record and wait; it takes every record waiting at that
//! moment (up to a batch limit) and appends them in one transaction, so
//! concurrent requests share one commit. Without group commit each request
//! appends its own record in its own transaction (kept for comparison in the
//! audit benchmark). Either way a request gets its sequence number only
//! once the record is durable, and an append failure is returned to it (the
//! front end then refuses the request) and recorded in [`AuditHealth`].

use crate::audit::chain::ChainAlgorithm;
use crate::store::{AuditAppend, Store, StoreError, StoreResult};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// How the node writes its audit records.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// This node's name, recorded in every record.
    pub node: String,
    /// Batch concurrent requests' records into one transaction.
    pub group_commit: bool,
    /// Most records in one group-commit transaction.
    pub max_batch: usize,
    /// Sign a checkpoint after this many new records.
    pub checkpoint_every_records: u64,
    /// ... or after this many seconds with new records.
    pub checkpoint_interval_secs: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            node: "yaoshi".into(),
            group_commit: true,
            max_batch: 1024,
            checkpoint_every_records: 1000,
            checkpoint_interval_secs: 60,
        }
    }
}

/// Whether the node can write its audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditHealth {
    /// False after a failed append, until an append succeeds.
    pub healthy: bool,
    /// Why the last append failed, while unhealthy.
    pub error: Option<String>,
    /// Appends that failed since the node started.
    pub failures: u64,
    /// Records written since the node started.
    pub records: u64,
    /// Transactions that wrote them.
    pub commits: u64,
}

/// A record waiting for the writer.
struct Pending {
    algorithm: ChainAlgorithm,
    record: AuditAppend,
    reply: oneshot::Sender<StoreResult<i64>>,
}

/// Capacity of the writer's queue; requests beyond wait to enqueue.
const QUEUE: usize = 16 * 1024;

/// The node's audit writer.
pub(crate) struct AuditLog {
    store: Arc<dyn Store>,
    settings: AuditSettings,
    queue: OnceLock<mpsc::Sender<Pending>>,
    health: Arc<Mutex<AuditHealth>>,
}

impl AuditLog {
    pub(crate) fn new(store: Arc<dyn Store>, settings: AuditSettings) -> Self {
        Self {
            store,
            settings,
            queue: OnceLock::new(),
            health: Arc::new(Mutex::new(AuditHealth {
                healthy: true,
                ..AuditHealth::default()
            })),
        }
    }

    pub(crate) fn settings(&self) -> &AuditSettings {
        &self.settings
    }

    pub(crate) fn health(&self) -> AuditHealth {
        lock(&self.health).clone()
    }

    /// Appends one record durably; returns its sequence number.
    pub(crate) async fn append(
        &self,
        algorithm: ChainAlgorithm,
        record: AuditAppend,
    ) -> StoreResult<i64> {
        if !self.settings.group_commit {
            let result = self.store.append_audit(algorithm, &[record]).await;
            note(&self.health, result.as_ref().map(|_| ()), 1);
            return result.map(|rows| rows.first().map_or(0, |r| r.seq));
        }
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            algorithm,
            record,
            reply,
        };
        self.writer()
            .send(pending)
            .await
            .map_err(|_| StoreError::Unavailable("the audit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the audit writer has stopped".into()))?
    }

    /// Records the outcome of an append made with a key change.
    pub(crate) fn note_change(&self, result: &StoreResult<()>) {
        note(&self.health, result.as_ref().map(|_| ()), 1);
    }

    /// The writer task's queue, starting the task on first use.
    fn writer(&self) -> &mpsc::Sender<Pending> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(write_batches(
                self.store.clone(),
                rx,
                self.settings.max_batch.max(1),
                self.health.clone(),
            ));
            tx
        })
    }
}

/// The group-commit loop: one transaction per batch of waiting records.
async fn write_batches(
    store: Arc<dyn Store>,
    mut queue: mpsc::Receiver<Pending>,
    max_batch: usize,
    health: Arc<Mutex<AuditHealth>>,
) {
    let mut carry: Option<Pending> = None;
    loop {
        let first = match carry.take() {
            Some(p) => p,
            None => match queue.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        let algorithm = first.algorithm;
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(p) if p.algorithm == algorithm => batch.push(p),
                Ok(p) => {
                    carry = Some(p);
                    break;
                }
                Err(_) => break,
            }
        }
        let records: Vec<AuditAppend> = batch.iter().map(|p| p.record.clone()).collect();
        let result = store.append_audit(algorithm, &records).await;
        note(&health, result.as_ref().map(|_| ()), batch.len());
        match result {
            Ok(rows) => {
                for (p, row) in batch.into_iter().zip(rows) {
                    let _ = p.reply.send(Ok(row.seq));
                }
            }
            Err(e) => {
                for p in batch {
                    let _ = p.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

fn note(health: &Mutex<AuditHealth>, result: Result<(), &StoreError>, records: usize) {
    let mut h = lock(health);
    match result {
        Ok(_) => {
            h.healthy = true;
            h.error = None;
            h.records += records as u64;
            h.commits += 1;
        }
        Err(e) => {
            h.healthy = false;
            h.error = Some(e.to_string());
            h.failures += records as u64;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
