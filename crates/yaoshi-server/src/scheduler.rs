//! The scheduler lease: of the nodes sharing one store, exactly one (the
//! leader) runs scheduled work — audit checkpoints on the cadence and
//! auto-rotation. Every node tries to take or renew the lease once a second;
//! the holder keeps it while it renews, and another node takes it over at
//! most one ttl after the holder stops (or at once when it shuts down and
//! releases it). What this node last learnt is shown by `sys/leader` and
//! `sys/health`. A sealed node takes no part: it cannot sign or rotate.

use std::sync::{Arc, Mutex};
use yaoshi_core::store::{LeaseState, Store};

/// Name of the lease in the store.
pub const SCHEDULER_LEASE: &str = "scheduler";

/// This node's side of the scheduler lease.
pub struct Scheduler {
    store: Arc<dyn Store>,
    /// Unique per process: `node#instance`, so two nodes configured with
    /// the same name still never share the lease.
    holder: String,
    ttl_secs: i64,
    view: Mutex<LeaderView>,
}

/// What this node knows about the lease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderView {
    /// The lease as last read (`None` before the first attempt or while the
    /// store fails).
    pub lease: Option<LeaseState>,
    /// Why the last attempt failed, if it did.
    pub store_error: Option<String>,
}

/// This node's role, as `sys/health` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Holds the scheduler lease.
    Leader,
    /// Serves requests; another node (or none, for now) runs scheduled work.
    Standby,
}

impl Role {
    /// Name as reported.
    pub fn name(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Standby => "standby",
        }
    }
}

impl Scheduler {
    /// The lease for node `node` on `store`, lasting `ttl_secs` per renewal.
    pub fn new(store: Arc<dyn Store>, node: &str, ttl_secs: u64) -> Self {
        Self {
            store,
            holder: format!("{node}#{}", crate::app::uuid_v4()),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
            view: Mutex::new(LeaderView::default()),
        }
    }

    /// Takes or renews the lease at `now`; true when this node holds it.
    /// A store failure counts as not holding it: no scheduled work runs on
    /// a node that cannot prove it is the only one.
    pub async fn try_lead(&self, now: i64) -> bool {
        let outcome = self
            .store
            .acquire_lease(SCHEDULER_LEASE, &self.holder, self.ttl_secs, now)
            .await;
        let mut view = self.view.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(lease) => {
                let leads = lease.held_by(&self.holder, now);
                view.lease = Some(lease);
                view.store_error = None;
                leads
            }
            Err(e) => {
                view.lease = None;
                view.store_error = Some(e.to_string());
                false
            }
        }
    }

    /// Steps aside while this node cannot do the work (sealed): gives the
    /// lease up if this node held it at its last attempt, and forgets it.
    pub async fn stand_down(&self, now: i64) {
        if self.role(now) == Role::Leader {
            self.release().await;
        }
        self.view.lock().unwrap_or_else(|p| p.into_inner()).lease = None;
    }

    /// Gives the lease up (at shutdown), so another node takes over at once.
    pub async fn release(&self) {
        match self
            .store
            .release_lease(SCHEDULER_LEASE, &self.holder)
            .await
        {
            Ok(true) => tracing::info!("scheduler lease released"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "releasing the scheduler lease failed"),
        }
        self.view.lock().unwrap_or_else(|p| p.into_inner()).lease = None;
    }

    /// What this node last learnt.
    pub fn view(&self) -> LeaderView {
        self.view.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// This node's role at `now`.
    pub fn role(&self, now: i64) -> Role {
        match self.view().lease {
            Some(lease) if lease.held_by(&self.holder, now) => Role::Leader,
            _ => Role::Standby,
        }
    }

    /// The node name of the current leader at `now`, if the lease is held.
    pub fn leader_node(&self, now: i64) -> Option<String> {
        let lease = self.view().lease?;
        (lease.expires_at > now).then(|| node_of(&lease.holder).to_string())
    }
}

/// The node name in a `node#instance` holder.
fn node_of(holder: &str) -> &str {
    holder.rsplit_once('#').map_or(holder, |(node, _)| node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_name_is_the_holder_without_its_instance() {
        assert_eq!(node_of("node-a#1234"), "node-a");
        assert_eq!(node_of("odd#name#99"), "odd#name");
        assert_eq!(node_of("plain"), "plain");
    }
}
