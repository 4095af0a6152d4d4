//! The audit record of the request being served, carried with the request's
//! task.
//!
//! A front end opens a [`RequestAudit`] for each request and runs the
//! request inside [`RequestAudit::scope`]. The service fills in what it
//! learns on the way (the authenticated principal); a key change commits the
//! record in its own transaction and marks it committed, so the front end
//! writes it only when no change did.

use super::record::AuditRecord;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static CURRENT: Arc<RequestAudit>;
}

/// The audit record of one request in progress.
#[derive(Debug, Default)]
pub struct RequestAudit {
    record: Mutex<AuditRecord>,
    committed: AtomicBool,
}

impl RequestAudit {
    /// A request's record, started with what the front end knows.
    pub fn new(record: AuditRecord) -> Arc<Self> {
        Arc::new(Self {
            record: Mutex::new(record),
            committed: AtomicBool::new(false),
        })
    }

    /// Runs `work` with this record as the current request's.
    pub async fn scope<F: Future>(self: &Arc<Self>, work: F) -> F::Output {
        CURRENT.scope(self.clone(), work).await
    }

    /// The current request's record, if the caller runs inside a scope.
    pub fn current() -> Option<Arc<Self>> {
        CURRENT.try_with(Arc::clone).ok()
    }

    /// Changes the record.
    pub fn update(&self, change: impl FnOnce(&mut AuditRecord)) {
        change(&mut self.record.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// A copy of the record as it stands.
    pub fn snapshot(&self) -> AuditRecord {
        self.record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// True once the record has been committed with a key change.
    pub fn committed(&self) -> bool {
        self.committed.load(Ordering::SeqCst)
    }

    pub(crate) fn mark_committed(&self) {
        self.committed.store(true, Ordering::SeqCst);
    }
}
