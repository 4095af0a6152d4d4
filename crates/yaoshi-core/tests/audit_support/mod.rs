//! Shared helpers for the audit tests: builds signed exports.
#![allow(dead_code)]

use yaoshi_core::audit::chain::{ChainAlgorithm, Digest, GENESIS, entry_hash, leaf_hash};
use yaoshi_core::audit::checkpoint::{AuditSigningKey, Checkpoint};
use yaoshi_core::audit::export::{ExportHeader, checkpoint_line, header_line, record_line};
use yaoshi_core::audit::merkle::{self, Frontier};

/// A log held in memory: bodies, prev/hash per record, leaves, checkpoints.
pub struct Log {
    pub alg: ChainAlgorithm,
    pub bodies: Vec<String>,
    pub prevs: Vec<Digest>,
    pub hashes: Vec<Digest>,
    pub leaves: Vec<Digest>,
}

impl Log {
    pub fn new(alg: ChainAlgorithm, n: u64) -> Self {
        let mut log = Self {
            alg,
            bodies: vec![],
            prevs: vec![],
            hashes: vec![],
            leaves: vec![],
        };
        for seq in 1..=n {
            log.append(format!(
                r#"{{"time":{},"node":"n1","request_id":"r-{seq}","principal":"alice","op":"encrypt","key":"k{}","outcome":"ok","note":"√ ünïcode {seq}"}}"#,
                1_700_000_000 + seq,
                seq % 7
            ));
        }
        log
    }

    pub fn append(&mut self, body: String) {
        let seq = self.bodies.len() as u64 + 1;
        let prev = self.hashes.last().copied().unwrap_or(GENESIS);
        let hash = entry_hash(self.alg, seq, &prev, body.as_bytes());
        self.bodies.push(body);
        self.prevs.push(prev);
        self.hashes.push(hash);
        self.leaves.push(leaf_hash(self.alg, &hash));
    }

    pub fn len(&self) -> u64 {
        self.bodies.len() as u64
    }

    pub fn root_at(&self, size: u64) -> Digest {
        merkle::root(self.alg, &self.leaves[..size as usize])
    }

    pub fn head_at(&self, size: u64) -> Digest {
        if size == 0 {
            GENESIS
        } else {
            self.hashes[size as usize - 1]
        }
    }

    pub fn checkpoint(&self, key: &AuditSigningKey, size: u64) -> Checkpoint {
        key.sign_checkpoint(
            self.alg,
            size,
            &self.root_at(size),
            &self.head_at(size),
            1_700_000_000 + size as i64,
        )
        .unwrap()
    }

    pub fn record_line(&self, seq: u64) -> String {
        let i = seq as usize - 1;
        record_line(
            seq,
            &self.prevs[i],
            &self.hashes[i],
            self.bodies[i].as_bytes(),
        )
        .unwrap()
    }

    /// Export lines from sequence `from`, a checkpoint after every record
    /// whose seq is a multiple of `every` (and at the start when
    /// `checkpoint_at_start`).
    pub fn export(&self, key: &AuditSigningKey, from: u64, every: u64) -> Vec<String> {
        let frontier = Frontier::from_leaves(self.alg, &self.leaves[..from as usize - 1]);
        let mut lines = vec![header_line(&ExportHeader {
            hash_algorithm: self.alg,
            from,
            frontier,
        })];
        for seq in from..=self.len() {
            lines.push(self.record_line(seq));
            if seq % every == 0 {
                lines.push(checkpoint_line(&self.checkpoint(key, seq)));
            }
        }
        lines
    }
}

pub fn join(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
