//! The audit trail (DESIGN §6): records, hash chain, Merkle checkpoints,
//! proofs and the offline verifier.
//!
//! | module | what |
//! |---|---|
//! | [`record`] | one audit record and its serialised form |
//! | [`context`] | the record of the request being served |
//! | [`log`] | the node's writer: group commit and health |
//! | [`chain`] | the hash chain and RFC 6962 hashing |

pub mod chain;
pub mod context;
pub(crate) mod log;
pub mod record;

pub use context::RequestAudit;
pub use log::{AuditHealth, AuditSettings};
pub use record::{AuditRecord, Outcome};
