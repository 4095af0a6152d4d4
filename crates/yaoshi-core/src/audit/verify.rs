//! The offline verifier: checks an export's hash chain, the Merkle root and
//! signature of every checkpoint in it, and optionally that it extends a
//! checkpoint saved earlier (so truncation and forks are caught).
//!
//! [`ChainVerifier`] is the streaming core, reusable without an export file
//! (the server verifies its stored log with it); [`verify_export`] drives it
//! over a JSON Lines export. Memory use is `O(log n)`.

use super::chain::{ChainAlgorithm, Digest, GENESIS, digest_to_hex, entry_hash, leaf_hash};
use super::checkpoint::{AuditPublicKey, Checkpoint};
use super::export::{ExportLine, parse_line};
use super::merkle::Frontier;
use serde::Serialize;

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Sequence number of the first record (None when there are none).
    pub first_seq: Option<u64>,
    /// Sequence number of the last record (None when there are none).
    pub last_seq: Option<u64>,
    /// Number of records checked.
    pub records: u64,
    /// Number of checkpoints checked.
    pub checkpoints: u64,
    /// Hex entry hash of the last record (GENESIS for an empty log; the
    /// anchor, or empty when unknown, for a later export without records).
    pub head_hash: String,
    /// Hex Merkle root over leaves `1..=last_seq` (or `1..from-1` without records).
    pub root_hash: String,
    /// The saved checkpoint's tree size when one was given and is extended.
    pub extends_checkpoint: Option<u64>,
}

/// Why verification failed and where. `line` is 1-based (0 when not reading
/// a file); `seq` names the record concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// The sequence number concerned, when there is one.
    pub seq: Option<u64>,
    /// The 1-based line of the export (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.seq, self.line) {
            (Some(seq), 0) => write!(f, "sequence {seq}: {}", self.reason),
            (Some(seq), line) => write!(f, "sequence {seq} (line {line}): {}", self.reason),
            (None, 0) => f.write_str(&self.reason),
            (None, line) => write!(f, "line {line}: {}", self.reason),
        }
    }
}

impl std::error::Error for VerifyFailure {}

fn fail(seq: Option<u64>, reason: impl Into<String>) -> VerifyFailure {
    VerifyFailure {
        seq,
        line: 0,
        reason: reason.into(),
    }
}

/// A saved checkpoint the log must extend, checked when the stream passes
/// its tree size.
#[derive(Debug, Clone)]
struct Expectation {
    tree_size: u64,
    root: Digest,
    head: Digest,
    matched: bool,
}

/// Streaming verifier: feed records (and checkpoints) in file order, then
/// [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    alg: ChainAlgorithm,
    from: u64,
    start_root: Digest,
    frontier: Frontier,
    /// Sequence number the next record must have.
    next_seq: u64,
    /// Hash the next record's `prev` must equal (None: not yet known).
    prev: Option<Digest>,
    records: u64,
    checkpoints: u64,
    expected: Option<Expectation>,
}

impl ChainVerifier {
    /// Starts at sequence `from` with the compact range of leaves `1..from-1`.
    /// `prev_anchor` is the hash of record `from - 1` when the caller knows
    /// it (for `from == 1` it is always GENESIS); otherwise the first
    /// record's `prev` is taken as the anchor (it is still bound by the
    /// checkpoints that follow).
    pub fn new(
        alg: ChainAlgorithm,
        from: u64,
        frontier: Frontier,
        prev_anchor: Option<Digest>,
    ) -> Result<Self, VerifyFailure> {
        if from == 0 {
            return Err(fail(None, "sequence numbers start at 1"));
        }
        if frontier.size != from - 1 {
            return Err(fail(
                None,
                format!(
                    "the frontier covers {} records, not from - 1 = {}",
                    frontier.size,
                    from - 1
                ),
            ));
        }
        let start_root = frontier
            .try_root(alg)
            .map_err(|e| fail(None, format!("invalid frontier: {e}")))?;
        let prev = if from == 1 {
            if prev_anchor.is_some_and(|a| a != GENESIS) {
                return Err(fail(None, "the anchor of sequence 1 must be GENESIS"));
            }
            Some(GENESIS)
        } else {
            prev_anchor
        };
        Ok(Self {
            alg,
            from,
            start_root,
            frontier,
            next_seq: from,
            prev,
            records: 0,
            checkpoints: 0,
            expected: None,
        })
    }

    /// The chain's hash algorithm.
    pub fn algorithm(&self) -> ChainAlgorithm {
        self.alg
    }

    /// The last sequence number seen (`from - 1` before any record).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    fn here(&self) -> Option<u64> {
        Some(self.last_seq()).filter(|s| *s > 0)
    }

    /// Registers a saved checkpoint this log must extend: its signature is
    /// checked now, and its root and head when the stream reaches its tree
    /// size. Call before feeding records; [`finish`](Self::finish) then
    /// reports truncation.
    pub fn expect_checkpoint(
        &mut self,
        earlier: &Checkpoint,
        key: &AuditPublicKey,
    ) -> Result<(), VerifyFailure> {
        let seq = Some(earlier.tree_size).filter(|s| *s > 0);
        earlier
            .verify(key)
            .map_err(|e| fail(seq, format!("the saved checkpoint does not verify: {e}")))?;
        self.check_algorithm(earlier, seq)?;
        let (root, head) = match (earlier.root(), earlier.head()) {
            (Ok(r), Ok(h)) => (r, h),
            _ => return Err(fail(seq, "the saved checkpoint has malformed hashes")),
        };
        let min = self.from - 1;
        if earlier.tree_size < min {
            return Err(fail(
                seq,
                format!(
                    "the saved checkpoint at {} is before this export's start (sequence {}); \
                     export from sequence {} or earlier, or use a later checkpoint",
                    earlier.tree_size,
                    self.from,
                    earlier.tree_size + 1
                ),
            ));
        }
        let mut expectation = Expectation {
            tree_size: earlier.tree_size,
            root,
            head,
            matched: false,
        };
        if earlier.tree_size == min {
            if root != self.start_root {
                return Err(fail(
                    seq,
                    "the export's frontier does not extend the saved checkpoint",
                ));
            }
            match self.prev {
                Some(prev) if prev != head => {
                    return Err(fail(
                        seq,
                        "the export's anchor does not extend the saved checkpoint",
                    ));
                }
                Some(_) => {}
                None => self.prev = Some(head),
            }
            expectation.matched = true;
        }
        self.expected = Some(expectation);
        Ok(())
    }

    fn check_algorithm(&self, cp: &Checkpoint, seq: Option<u64>) -> Result<(), VerifyFailure> {
        if cp.hash_algorithm != self.alg.name() {
            return Err(fail(
                seq,
                format!(
                    "checkpoint hash algorithm {:?} differs from the log's {}",
                    cp.hash_algorithm.chars().take(32).collect::<String>(),
                    self.alg
                ),
            ));
        }
        Ok(())
    }

    /// Checks the next record: consecutive `seq`, `prev` linking to the
    /// previous record, and `hash` recomputed over the exact `body` bytes.
    pub fn record(
        &mut self,
        seq: u64,
        prev: &Digest,
        hash: &Digest,
        body: &[u8],
    ) -> Result<(), VerifyFailure> {
        let expected = self.next_seq;
        if seq != expected {
            return Err(fail(
                Some(expected),
                format!(
                    "expected sequence {expected}, found {seq}: a record is missing, \
                     duplicated or out of order"
                ),
            ));
        }
        match self.prev {
            Some(want) if want != *prev => {
                return Err(fail(
                    Some(seq),
                    if seq == 1 {
                        "prev of sequence 1 must be GENESIS (all zeros)".to_owned()
                    } else {
                        format!(
                            "prev does not equal the hash of sequence {}: the chain is broken",
                            seq - 1
                        )
                    },
                ));
            }
            _ => {}
        }
        if entry_hash(self.alg, seq, prev, body) != *hash {
            return Err(fail(
                Some(seq),
                "hash does not match the record: the record was altered",
            ));
        }
        self.frontier.push(self.alg, leaf_hash(self.alg, hash));
        self.prev = Some(*hash);
        self.records += 1;
        self.next_seq = seq.saturating_add(1);
        if let Some(exp) = &mut self.expected
            && exp.tree_size == seq
        {
            if self.frontier.root(self.alg) != exp.root || *hash != exp.head {
                return Err(fail(
                    Some(seq),
                    format!(
                        "the log does not extend the saved checkpoint at {seq} \
                         (different root or head): it was rewritten or forked"
                    ),
                ));
            }
            exp.matched = true;
        }
        Ok(())
    }

    /// Checks a checkpoint placed right after record `tree_size`: signature
    /// and key, hash algorithm, Merkle root over the records so far, and head.
    pub fn checkpoint(
        &mut self,
        cp: &Checkpoint,
        key: &AuditPublicKey,
    ) -> Result<(), VerifyFailure> {
        let here = self.here();
        cp.verify(key)
            .map_err(|e| fail(here, format!("checkpoint does not verify: {e}")))?;
        self.check_algorithm(cp, here)?;
        if cp.tree_size > self.last_seq() {
            let missing = self.next_seq;
            return Err(fail(
                Some(missing),
                format!(
                    "expected sequence {missing} before the checkpoint for tree size {}: \
                     a record is missing",
                    cp.tree_size
                ),
            ));
        }
        if cp.tree_size != self.last_seq() {
            return Err(fail(
                here,
                format!(
                    "checkpoint for tree size {} is not placed right after record {} \
                     (last record seen: {})",
                    cp.tree_size,
                    cp.tree_size,
                    self.last_seq()
                ),
            ));
        }
        let (root, head) = match (cp.root(), cp.head()) {
            (Ok(r), Ok(h)) => (r, h),
            _ => return Err(fail(here, "checkpoint has malformed hashes")),
        };
        if root != self.frontier.root(self.alg) {
            return Err(fail(
                here,
                format!(
                    "checkpoint root does not match the Merkle root of records 1..={}",
                    cp.tree_size
                ),
            ));
        }
        match self.prev {
            Some(prev) if prev != head => {
                return Err(fail(
                    here,
                    format!(
                        "checkpoint head does not match the hash of record {}",
                        cp.tree_size
                    ),
                ));
            }
            Some(_) => {}
            // A checkpoint at from - 1 before any record: its head anchors the chain.
            None => self.prev = Some(head),
        }
        self.checkpoints += 1;
        Ok(())
    }

    /// Ends the stream. With `earlier` (which must have been registered
    /// with [`expect_checkpoint`](Self::expect_checkpoint), where its
    /// signature was checked; an unregistered one is accepted only at the
    /// final tree size), checks that the log reaches and extends it.
    pub fn finish(self, earlier: Option<&Checkpoint>) -> Result<VerifyReport, VerifyFailure> {
        let last = self.last_seq();
        let mut extends = None;
        if let Some(cp) = earlier {
            if cp.tree_size > last {
                return Err(fail(
                    Some(last + 1),
                    format!(
                        "file ends at sequence {last}, before the saved checkpoint at {} (truncated)",
                        cp.tree_size
                    ),
                ));
            }
            let registered = self
                .expected
                .as_ref()
                .filter(|e| e.tree_size == cp.tree_size);
            match registered {
                Some(e) if e.matched => {}
                Some(_) => {
                    return Err(fail(
                        Some(cp.tree_size).filter(|s| *s > 0),
                        "the log does not extend the saved checkpoint",
                    ));
                }
                None => {
                    let here = Some(cp.tree_size).filter(|s| *s > 0);
                    self.check_algorithm(cp, here)?;
                    let ok = cp.tree_size == last
                        && cp.root().ok() == Some(self.frontier.root(self.alg))
                        && cp.head().ok().is_some_and(|h| self.prev == Some(h));
                    if !ok {
                        return Err(fail(
                            here,
                            "the saved checkpoint was not registered before the records \
                             and is not at the end of the log; it cannot be checked",
                        ));
                    }
                }
            }
            extends = Some(cp.tree_size);
        }
        let head_hash = match self.prev {
            Some(h) => digest_to_hex(&h),
            None => String::new(),
        };
        Ok(VerifyReport {
            first_seq: (self.records > 0).then_some(self.from),
            last_seq: (self.records > 0).then_some(last),
            records: self.records,
            checkpoints: self.checkpoints,
            head_hash,
            root_hash: digest_to_hex(&self.frontier.root(self.alg)),
            extends_checkpoint: extends,
        })
    }
}

/// Verifies a `yaoshi-audit-v1` export read from `text` with the audit
/// public key, optionally against a checkpoint saved earlier.
pub fn verify_export(
    text: impl std::io::BufRead,
    key: &AuditPublicKey,
    earlier: Option<&Checkpoint>,
) -> Result<VerifyReport, VerifyFailure> {
    let mut verifier: Option<ChainVerifier> = None;
    let mut line_no = 0usize;
    let at = |line: usize| {
        move |mut f: VerifyFailure| {
            f.line = line;
            f
        }
    };
    for line in text.lines() {
        line_no += 1;
        let next = verifier.as_ref().map(|v| v.next_seq);
        let line = line.map_err(|e| VerifyFailure {
            seq: next,
            line: line_no,
            reason: format!("unreadable line: {e}"),
        })?;
        let parsed = parse_line(&line).map_err(|e| VerifyFailure {
            seq: next,
            line: line_no,
            reason: e.to_string(),
        })?;
        match (parsed, verifier.as_mut()) {
            (ExportLine::Header(h), None) => {
                let mut v = ChainVerifier::new(h.hash_algorithm, h.from, h.frontier, None)
                    .map_err(at(line_no))?;
                if let Some(cp) = earlier {
                    v.expect_checkpoint(cp, key).map_err(at(line_no))?;
                }
                verifier = Some(v);
            }
            (_, None) => {
                return Err(VerifyFailure {
                    seq: None,
                    line: line_no,
                    reason: "the first line must be the header".into(),
                });
            }
            (ExportLine::Header(_), Some(_)) => {
                return Err(VerifyFailure {
                    seq: next,
                    line: line_no,
                    reason: "a second header".into(),
                });
            }
            (
                ExportLine::Record {
                    seq,
                    prev,
                    hash,
                    body,
                },
                Some(v),
            ) => v.record(seq, &prev, &hash, &body).map_err(at(line_no))?,
            (ExportLine::Checkpoint(cp), Some(v)) => v.checkpoint(&cp, key).map_err(at(line_no))?,
        }
    }
    match verifier {
        Some(v) => v.finish(earlier).map_err(at(line_no + 1)),
        None => Err(VerifyFailure {
            seq: None,
            line: 1,
            reason: "empty file: no header".into(),
        }),
    }
}
