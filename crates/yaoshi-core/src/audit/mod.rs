//! The audit trail's cryptography (DESIGN §6): the hash chain of records, the
//! RFC 6962 Merkle tree over it, signed checkpoints (tree heads), the JSON
//! Lines export format and the offline verifier.
//!
//! The cryptography is pure (no I/O beyond reading a caller's `BufRead`, no
//! async, no clocks); the records, the request context and the node's
//! writer build on it.
//!
//! | module | what |
//! |---|---|
//! | [`chain`] | entry hashes (`prev` → `hash`), RFC 6962 leaf and node hashes |
//! | [`merkle`] | Merkle roots, inclusion and consistency proofs, the compact [`Frontier`] |
//! | [`checkpoint`] | signed checkpoints, the audit signing key and its public key |
//! | [`export`] | the `yaoshi-audit-v1` JSON Lines export: writing and parsing lines |
//! | [`verify`] | the streaming [`ChainVerifier`] and [`verify_export`] |
//! | [`record`] | one audit record and its serialised form |
//! | [`context`] | the record of the request being served |
//! | `log` | the node's writer: group commit and health |
//!
//! The exact formats are specified in `docs/audit-format.md`.
//!
//! Inputs that come from files or the network (lines, proofs, checkpoints,
//! frontiers) never cause a panic: every failure is an [`AuditError`] or a
//! [`VerifyFailure`].

pub mod chain;
pub mod checkpoint;
pub mod context;
pub mod export;
pub(crate) mod log;
pub mod merkle;
pub mod record;
pub mod verify;

pub use context::RequestAudit;
pub use log::{AuditHealth, AuditSettings};
pub use record::{AuditRecord, Outcome};

pub use chain::{
    ChainAlgorithm, Digest, GENESIS, digest_from_hex, digest_to_hex, entry_hash, leaf_hash,
    node_hash,
};
pub use checkpoint::{AuditPublicKey, AuditSigningKey, Checkpoint, SignatureAlgorithm};
pub use export::{
    ExportHeader, ExportLine, FORMAT, checkpoint_line, header_line, parse_line, record_line,
};
pub use merkle::Frontier;
pub use verify::{ChainVerifier, VerifyFailure, VerifyReport, verify_export};

/// Every failure of the audit cryptography. Messages never contain key
/// material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// A proof was asked for arguments outside the tree (index ≥ size, old
    /// size > new size) or could not be built.
    #[error("invalid proof request: {0}")]
    InvalidProof(String),
    /// Input that is not in the expected format (bad hex, bad JSON, wrong
    /// field, unknown line type, ...).
    #[error("malformed audit data: {0}")]
    Malformed(String),
    /// An algorithm name this version does not know.
    #[error("unknown algorithm: {0:?}")]
    UnknownAlgorithm(String),
    /// A checkpoint names a different key or signature algorithm than the
    /// key it is checked with.
    #[error("checkpoint key mismatch: {0}")]
    KeyMismatch(String),
    /// A checkpoint signature did not verify.
    #[error("checkpoint signature does not verify")]
    Signature,
    /// A failure in the underlying cryptography (key parsing, signing).
    #[error("cryptography failed: {0}")]
    Crypto(#[from] yaoshi_crypto::CryptoError),
}
