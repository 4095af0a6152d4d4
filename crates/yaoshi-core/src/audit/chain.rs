//! The audit hash chain and RFC 6962 leaf/node hashing.

use serde::{Deserialize, Serialize};
use yaoshi_crypto::hash::{self, HashAlgorithm};

/// A 32-byte hash.
pub type Digest = [u8; 32];

/// The `prev` of sequence number 1.
pub const GENESIS: Digest = [0; 32];

/// Hash of the audit chain and Merkle tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainAlgorithm {
    /// SM3 (Chinese profiles).
    Sm3,
    /// SHA-256.
    Sha256,
}

impl ChainAlgorithm {
    /// Name in exports and checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sm3 => "sm3",
            Self::Sha256 => "sha256",
        }
    }

    /// Hash of the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Digest {
        let mut h = hash::Hasher::new(match self {
            Self::Sm3 => HashAlgorithm::Sm3,
            Self::Sha256 => HashAlgorithm::Sha256,
        });
        for p in parts {
            h.update(p);
        }
        let out = h.finish();
        let mut d = [0u8; 32];
        d.copy_from_slice(&out[..32]);
        d
    }
}

/// Hash of record `seq` chained to `prev`.
pub fn entry_hash(alg: ChainAlgorithm, seq: u64, prev: &Digest, body: &[u8]) -> Digest {
    alg.hash(&[
        b"yaoshi-audit-entry-v1",
        &[0],
        &seq.to_be_bytes(),
        prev,
        body,
    ])
}

/// RFC 6962 leaf hash.
pub fn leaf_hash(alg: ChainAlgorithm, data: &[u8]) -> Digest {
    alg.hash(&[&[0], data])
}

/// RFC 6962 interior node hash.
pub fn node_hash(alg: ChainAlgorithm, left: &Digest, right: &Digest) -> Digest {
    alg.hash(&[&[1], left, right])
}
