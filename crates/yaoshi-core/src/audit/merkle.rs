//! RFC 6962 §2.1 Merkle Tree Hash, audit paths (inclusion proofs) and
//! consistency proofs, and the compact [`Frontier`] that lets a writer or a
//! verifier compute the root of a growing log in `O(log n)` space.
//!
//! All functions take **leaf hashes** (`leaf_hash(entry_hash)`), not raw
//! data: `MTH({d}) = d` for one leaf, and the empty tree's root is `H("")`.
//! Indices are 0-based, as in RFC 6962 (the record with sequence `s` is leaf
//! `s - 1`). Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.

use super::AuditError;
use super::chain::{ChainAlgorithm, Digest, digest_from_hex, digest_to_hex, node_hash};
use serde::{Deserialize, Serialize};

/// Largest power of two strictly below `n` (`n >= 2`).
fn split(n: usize) -> usize {
    1usize << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The root of the empty tree, `H("")`.
pub fn empty_root(alg: ChainAlgorithm) -> Digest {
    alg.hash(&[])
}

/// RFC 6962 Merkle Tree Hash over `leaves` (leaf hashes).
pub fn root(alg: ChainAlgorithm, leaves: &[Digest]) -> Digest {
    match leaves {
        [] => empty_root(alg),
        _ => subtree_root(alg, leaves),
    }
}

fn subtree_root(alg: ChainAlgorithm, leaves: &[Digest]) -> Digest {
    match leaves {
        [] => empty_root(alg),
        [one] => *one,
        _ => {
            let (left, right) = leaves.split_at(split(leaves.len()));
            node_hash(alg, &subtree_root(alg, left), &subtree_root(alg, right))
        }
    }
}

/// The audit path `PATH(index, D[n])` of leaf `index` in the tree over
/// `leaves`, bottom-up. `Err` when `index >= leaves.len()`.
pub fn inclusion_proof(
    alg: ChainAlgorithm,
    leaves: &[Digest],
    index: u64,
) -> Result<Vec<Digest>, AuditError> {
    PrunedTree::new(alg, &Frontier::new(), leaves)?.inclusion_proof(index)
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root
/// is `root`, given the audit path `proof` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    alg: ChainAlgorithm,
    leaf: &Digest,
    index: u64,
    size: u64,
    proof: &[Digest],
    root: &Digest,
) -> bool {
    if index >= size {
        return false;
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(alg, p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(alg, &r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// The consistency proof `PROOF(old_size, D[n])` between the tree of the
/// first `old_size` leaves and the tree over all `leaves`. Empty when
/// `old_size` is 0 or equals the size; `Err` when `old_size > leaves.len()`.
pub fn consistency_proof(
    alg: ChainAlgorithm,
    leaves: &[Digest],
    old_size: u64,
) -> Result<Vec<Digest>, AuditError> {
    PrunedTree::new(alg, &Frontier::new(), leaves)?.consistency_proof(old_size)
}

/// A tree whose first leaves are known only through their [`Frontier`]
/// (their records were pruned), followed by known leaf hashes. Proofs that
/// need only subtrees of the known leaves and whole frontier nodes can
/// still be made: inclusion of any known leaf, and consistency from any
/// size not below the frontier's. (Every perfect aligned block of leaves
/// that fits is a node of the RFC 6962 tree, and the frontier's nodes are
/// the largest such blocks of the pruned prefix, so a descent from the root
/// meets a frontier node before anything inside it.)
pub struct PrunedTree<'a> {
    alg: ChainAlgorithm,
    /// Frontier nodes as `(first leaf, end, root)`.
    prefix: Vec<(u64, u64, Digest)>,
    prefix_size: u64,
    leaves: &'a [Digest],
}

impl<'a> PrunedTree<'a> {
    /// The tree of `frontier.size + leaves.len()` leaves.
    pub fn new(
        alg: ChainAlgorithm,
        frontier: &Frontier,
        leaves: &'a [Digest],
    ) -> Result<Self, AuditError> {
        let mut prefix = Vec::new();
        let mut lo = 0u64;
        let digests = frontier.digests()?;
        let widths = (0..u64::BITS)
            .rev()
            .map(|bit| 1u64 << bit)
            .filter(|w| frontier.size & w != 0);
        for (width, digest) in widths.zip(digests) {
            prefix.push((lo, lo + width, digest));
            lo += width;
        }
        Ok(Self {
            alg,
            prefix,
            prefix_size: frontier.size,
            leaves,
        })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.prefix_size + self.leaves.len() as u64
    }

    /// `MTH(D[lo:hi])` for a node of the tree.
    fn mth(&self, lo: u64, hi: u64) -> Result<Digest, AuditError> {
        let s = self.prefix_size;
        if lo >= s {
            return Ok(subtree_root(
                self.alg,
                &self.leaves[(lo - s) as usize..(hi - s) as usize],
            ));
        }
        if let Some((_, _, d)) = self.prefix.iter().find(|(a, b, _)| *a == lo && *b == hi) {
            return Ok(*d);
        }
        if hi - lo < 2 {
            return Err(AuditError::InvalidProof(format!(
                "the proof needs leaf {lo}, which was pruned"
            )));
        }
        let k = split((hi - lo) as usize) as u64;
        Ok(node_hash(
            self.alg,
            &self.mth(lo, lo + k)?,
            &self.mth(lo + k, hi)?,
        ))
    }

    /// The audit path of leaf `index`, bottom-up.
    pub fn inclusion_proof(&self, index: u64) -> Result<Vec<Digest>, AuditError> {
        let size = self.size();
        if index >= size {
            return Err(AuditError::InvalidProof(format!(
                "leaf index {index} is not in a tree of size {size}"
            )));
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof)?;
        Ok(proof)
    }

    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Digest>) -> Result<(), AuditError> {
        if hi - lo <= 1 {
            return Ok(());
        }
        let k = split((hi - lo) as usize) as u64;
        if m < lo + k {
            self.path(m, lo, lo + k, out)?;
            out.push(self.mth(lo + k, hi)?);
        } else {
            self.path(m, lo + k, hi, out)?;
            out.push(self.mth(lo, lo + k)?);
        }
        Ok(())
    }

    /// The consistency proof from the tree of the first `old_size` leaves.
    pub fn consistency_proof(&self, old_size: u64) -> Result<Vec<Digest>, AuditError> {
        let size = self.size();
        if old_size > size {
            return Err(AuditError::InvalidProof(format!(
                "old size {old_size} is larger than the tree size {size}"
            )));
        }
        let mut proof = Vec::new();
        if old_size > 0 && old_size < size {
            self.subproof(old_size, 0, size, true, &mut proof)?;
        }
        Ok(proof)
    }

    /// `SUBPROOF(m, D[lo:hi], whole)` with `m` counted from `lo`.
    fn subproof(
        &self,
        m: u64,
        lo: u64,
        hi: u64,
        whole: bool,
        out: &mut Vec<Digest>,
    ) -> Result<(), AuditError> {
        let n = hi - lo;
        if m == n {
            if !whole {
                out.push(self.mth(lo, hi)?);
            }
            return Ok(());
        }
        // Here 0 < m < n, so n >= 2.
        let k = split(n as usize) as u64;
        if m <= k {
            self.subproof(m, lo, lo + k, whole, out)?;
            out.push(self.mth(lo + k, hi)?);
        } else {
            self.subproof(m - k, lo + k, hi, false, out)?;
            out.push(self.mth(lo, lo + k)?);
        }
        Ok(())
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2). Equal
/// sizes need equal roots and an empty proof; `old_size == 0` needs an empty
/// proof (every tree extends the empty one).
pub fn verify_consistency(
    alg: ChainAlgorithm,
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };
    // When old_size is a power of two, the old root itself starts the path.
    let (start, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (*first, rest)
    };
    let mut f = old_size - 1;
    let mut s = new_size - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = start;
    let mut sr = start;
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(alg, c, &fr);
            sr = node_hash(alg, c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(alg, &sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// A compact range over the first `size` leaves: the roots of the perfect
/// subtrees that make up the tree, largest (leftmost) first, as lower-case
/// hex. There is one node per set bit of `size`, so at most 64.
///
/// Frontiers read from files must pass [`validate`](Self::validate) before
/// [`push`](Self::push) or [`root`](Self::root) mean anything; those two
/// never panic, but on an invalid frontier their results are meaningless.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontier {
    /// Number of leaves covered.
    pub size: u64,
    /// Perfect-subtree roots, largest first, hex.
    pub nodes: Vec<String>,
}

impl Frontier {
    /// The empty frontier (size 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier over `leaves`.
    pub fn from_leaves(alg: ChainAlgorithm, leaves: &[Digest]) -> Self {
        let mut frontier = Self::new();
        for leaf in leaves {
            frontier.push(alg, *leaf);
        }
        frontier
    }

    /// Number of leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Checks the shape (one node per set bit of `size`) and that every node
    /// is 64 lower-case hex characters.
    pub fn validate(&self) -> Result<(), AuditError> {
        self.digests().map(|_| ())
    }

    /// The nodes as digests, after [`validate`](Self::validate)'s checks.
    pub fn digests(&self) -> Result<Vec<Digest>, AuditError> {
        if self.nodes.len() != self.size.count_ones() as usize {
            return Err(AuditError::Malformed(format!(
                "a frontier of size {} has {} nodes, not {}",
                self.size,
                self.nodes.len(),
                self.size.count_ones()
            )));
        }
        self.nodes.iter().map(|n| digest_from_hex(n)).collect()
    }

    /// Appends one leaf hash in `O(log n)`.
    pub fn push(&mut self, alg: ChainAlgorithm, leaf: Digest) {
        let mut node = leaf;
        // Each trailing one bit of `size` is a perfect subtree of the same
        // height as `node` that now merges with it.
        let merges = self.size.trailing_ones();
        for _ in 0..merges {
            let Some(left) = self.nodes.pop() else { break };
            let left = digest_from_hex(&left).unwrap_or_default();
            node = node_hash(alg, &left, &node);
        }
        self.nodes.push(digest_to_hex(&node));
        self.size = self.size.wrapping_add(1);
    }

    /// The Merkle root over the covered leaves; equals [`root`] over the
    /// same leaves (`H("")` when empty).
    pub fn root(&self, alg: ChainAlgorithm) -> Digest {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return empty_root(alg);
        };
        let mut r = digest_from_hex(last).unwrap_or_default();
        for node in nodes {
            r = node_hash(alg, &digest_from_hex(node).unwrap_or_default(), &r);
        }
        r
    }

    /// [`root`](Self::root) after [`validate`](Self::validate).
    pub fn try_root(&self, alg: ChainAlgorithm) -> Result<Digest, AuditError> {
        self.validate()?;
        Ok(self.root(alg))
    }
}
