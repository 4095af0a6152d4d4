//! The hash chain: each record's `hash` commits to its sequence number, the
//! previous record's hash and the exact bytes of its body; the Merkle tree's
//! leaves are the RFC 6962 leaf hashes of those entry hashes.
//!
//! ```text
//! entry_hash = H("yaoshi-audit-entry-v1" || 0x00 || seq (u64 big-endian) || prev || body)
//! leaf_hash  = H(0x00 || data)            (RFC 6962 §2.1)
//! node_hash  = H(0x01 || left || right)   (RFC 6962 §2.1)
//! ```

use super::AuditError;
use serde::{Deserialize, Serialize};
use yaoshi_crypto::hash::{HashAlgorithm, Hasher};

/// A 32-byte hash (SM3 or SHA-256).
pub type Digest = [u8; 32];

/// The `prev` of sequence 1: 32 zero bytes.
pub const GENESIS: Digest = [0; 32];

/// Domain-separation prefix of [`entry_hash`].
pub const ENTRY_DOMAIN: &[u8] = b"yaoshi-audit-entry-v1";

/// The hash function of a chain and its Merkle tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainAlgorithm {
    /// SM3 (GB/T 32905), under the Chinese profiles.
    Sm3,
    /// SHA-256.
    Sha256,
}

impl ChainAlgorithm {
    /// The name used in exports and checkpoints: `sm3` or `sha256`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sm3 => "sm3",
            Self::Sha256 => "sha256",
        }
    }

    /// Parses [`name`](Self::name) exactly (lower case, no aliases).
    pub fn from_name(name: &str) -> Result<Self, AuditError> {
        match name {
            "sm3" => Ok(Self::Sm3),
            "sha256" => Ok(Self::Sha256),
            other => Err(AuditError::UnknownAlgorithm(
                other.chars().take(64).collect(),
            )),
        }
    }

    fn hash_algorithm(self) -> HashAlgorithm {
        match self {
            Self::Sm3 => HashAlgorithm::Sm3,
            Self::Sha256 => HashAlgorithm::Sha256,
        }
    }

    /// Hashes the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Digest {
        let mut hasher = Hasher::new(self.hash_algorithm());
        for part in parts {
            hasher.update(part);
        }
        let out = hasher.finish();
        let mut digest = [0u8; 32];
        // Both algorithms produce exactly 32 bytes.
        let n = out.len().min(32);
        digest[..n].copy_from_slice(&out[..n]);
        digest
    }
}

impl std::fmt::Display for ChainAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The hash of record `seq` whose predecessor's hash is `prev` and whose
/// stored body is exactly `body`.
pub fn entry_hash(alg: ChainAlgorithm, seq: u64, prev: &Digest, body: &[u8]) -> Digest {
    alg.hash(&[ENTRY_DOMAIN, &[0x00], &seq.to_be_bytes(), prev, body])
}

/// RFC 6962 leaf hash `H(0x00 || data)`; the log's leaves are
/// `leaf_hash(entry_hash)`.
pub fn leaf_hash(alg: ChainAlgorithm, data: &[u8]) -> Digest {
    alg.hash(&[&[0x00], data])
}

/// RFC 6962 interior node hash `H(0x01 || left || right)`.
pub fn node_hash(alg: ChainAlgorithm, left: &Digest, right: &Digest) -> Digest {
    alg.hash(&[&[0x01], left, right])
}

/// Lower-case hex of a digest (64 characters).
pub fn digest_to_hex(digest: &Digest) -> String {
    hex::encode(digest)
}

/// Parses exactly 64 lower-case hex characters (the only form yaoshi writes,
/// so every digest has one spelling).
pub fn digest_from_hex(text: &str) -> Result<Digest, AuditError> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(AuditError::Malformed(
            "a hash must be 64 lower-case hex characters".into(),
        ));
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text, &mut digest)
        .map_err(|_| AuditError::Malformed("a hash must be 64 lower-case hex characters".into()))?;
    Ok(digest)
}
