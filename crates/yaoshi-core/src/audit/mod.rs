//! The audit trail (DESIGN §6): records, hash chain, Merkle checkpoints,
//! proofs and the offline verifier.
