//! Reading the audit log back: signed checkpoints, the export, online
//! verification of the stored log, inclusion and consistency proofs, and
//! the latest records.
//!
//! Checkpoints extend the previous one: the stored Merkle frontier of the
//! latest checkpoint plus the records after it give the new root, so a
//! checkpoint costs the records since the last one, whichever node signs.

use super::Kms;
use super::audit_ops::audit_internal;
use crate::audit::chain::{Digest, digest_to_hex, leaf_hash};
use crate::audit::export::{ExportHeader, checkpoint_line, header_line, record_line};
use crate::audit::merkle::{self, Frontier};
use crate::audit::{AuditPublicKey, Checkpoint, VerifyFailure, VerifyReport};
use crate::error::{KmsError, KmsResult};
use crate::store::{AuditRow, CheckpointRow};

/// Records read from the store per query.
const PAGE: i64 = 5000;

/// A record as served by `sys/audit/records`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredRecord {
    /// Sequence number.
    pub seq: i64,
    /// Hash of the previous record (hex).
    pub prev: String,
    /// This record's chain hash (hex).
    pub hash: String,
    /// The record.
    pub record: serde_json::Value,
}

/// An inclusion proof of one record in a checkpoint's tree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InclusionProof {
    /// The record's sequence number (leaf index + 1).
    pub seq: u64,
    /// The record's chain hash (hex); the leaf is its RFC 6962 leaf hash.
    pub hash: String,
    /// The signed checkpoint the proof is against.
    pub checkpoint: Checkpoint,
    /// Audit path, hex, leaf to root.
    pub proof: Vec<String>,
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConsistencyProof {
    /// The earlier checkpoint.
    pub old: Checkpoint,
    /// The later checkpoint.
    pub new: Checkpoint,
    /// RFC 6962 consistency proof, hex.
    pub proof: Vec<String>,
}

fn digest(bytes: &[u8]) -> KmsResult<Digest> {
    bytes
        .try_into()
        .map_err(|_| KmsError::Internal("stored audit hash is not 32 bytes".into()))
}

fn parse_checkpoint(row: &CheckpointRow) -> KmsResult<(Checkpoint, Frontier)> {
    let cp = serde_json::from_slice(&row.body)
        .map_err(|_| KmsError::Internal("stored checkpoint is corrupt".into()))?;
    let frontier = serde_json::from_slice(&row.frontier)
        .map_err(|_| KmsError::Internal("stored checkpoint frontier is corrupt".into()))?;
    Ok((cp, frontier))
}

impl Kms {
    /// The audit public key (checkpoints verify with it).
    pub async fn audit_public_key(&self) -> KmsResult<AuditPublicKey> {
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        AuditPublicKey::from_pem(&config.public_key_pem).map_err(audit_internal)
    }

    /// Signs a checkpoint over every record so far, unless the latest one
    /// already covers them; returns the latest checkpoint (`None` while the
    /// log is empty).
    pub async fn checkpoint_now(&self) -> KmsResult<Option<Checkpoint>> {
        let unsealed = self.unsealed()?;
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let alg = config.hash_algorithm;
        let latest = self.store.latest_checkpoint().await?;
        let (mut frontier, previous) = match &latest {
            Some(row) => {
                let (cp, f) = parse_checkpoint(row)?;
                (f, Some(cp))
            }
            None => (Frontier::default(), None),
        };
        let head = self.store.audit_head().await?;
        if head.last_seq as u64 <= frontier.size {
            return Ok(previous);
        }
        let mut head_hash = None;
        self.each_stored_hash(frontier.size as i64 + 1, head.last_seq, |hash| {
            frontier.push(alg, leaf_hash(alg, &hash));
            head_hash = Some(hash);
        })
        .await?;
        let size = frontier.size;
        let head_hash = head_hash.unwrap_or(crate::audit::GENESIS);
        let cp = unsealed
            .audit_signer
            .sign_checkpoint(alg, size, &frontier.root(alg), &head_hash, super::now())
            .map_err(audit_internal)?;
        let row = CheckpointRow {
            tree_size: size as i64,
            time: cp.time,
            body: serde_json::to_vec(&cp)
                .map_err(|_| KmsError::Internal("checkpoint did not serialise".into()))?,
            frontier: serde_json::to_vec(&frontier)
                .map_err(|_| KmsError::Internal("frontier did not serialise".into()))?,
        };
        if self.store.insert_checkpoint(&row).await? {
            Ok(Some(cp))
        } else {
            // Another node signed this size first: serve that one.
            Ok(self
                .store
                .latest_checkpoint()
                .await?
                .map(|r| parse_checkpoint(&r).map(|(c, _)| c))
                .transpose()?)
        }
    }

    /// Signs a checkpoint when the node's cadence says one is due: at least
    /// `checkpoint_every_records` new records, or any new record and
    /// `checkpoint_interval_secs` since the last checkpoint. Front ends call
    /// this about once a second, and [`Kms::checkpoint_now`] at shutdown.
    pub async fn checkpoint_if_due(&self) -> KmsResult<Option<Checkpoint>> {
        if self.unsealed().is_err() || self.audit_config().await?.is_none() {
            return Ok(None);
        }
        let settings = self.audit_log.settings();
        let latest = self.store.latest_checkpoint().await?;
        let (size, time) = latest.as_ref().map_or((0, 0), |r| (r.tree_size, r.time));
        let head = self.store.audit_head().await?.last_seq;
        let new = (head - size).max(0) as u64;
        let age = (super::now() - time).max(0) as u64;
        if new >= settings.checkpoint_every_records
            || (new > 0 && age >= settings.checkpoint_interval_secs)
        {
            self.checkpoint_now().await
        } else {
            Ok(None)
        }
    }

    /// The latest stored checkpoint, without signing a new one.
    pub async fn latest_checkpoint(&self) -> KmsResult<Option<Checkpoint>> {
        self.store
            .latest_checkpoint()
            .await?
            .map(|r| parse_checkpoint(&r).map(|(c, _)| c))
            .transpose()
    }

    /// Up to `limit` stored records from `from` on.
    pub async fn audit_records(&self, from: i64, limit: i64) -> KmsResult<Vec<StoredRecord>> {
        let rows = self.store.read_audit(from, limit.clamp(1, PAGE)).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredRecord {
                    seq: r.seq,
                    prev: hex::encode(&r.prev_hash),
                    hash: hex::encode(&r.hash),
                    record: serde_json::from_slice(&r.body).map_err(|_| {
                        KmsError::Internal(format!("audit record {} is not JSON", r.seq))
                    })?,
                })
            })
            .collect()
    }

    /// Records between Unix times `start` (inclusive) and `end` (exclusive).
    pub async fn audit_rows_between(&self, start: i64, end: i64) -> KmsResult<Vec<AuditRow>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let rows = self
                .store
                .read_audit_between(start, end, after, PAGE)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            let full = rows.len() as i64 == PAGE;
            out.extend(rows);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// The export in `yaoshi-audit-v1` JSON Lines (docs/audit-format.md):
    /// a header, then every stored record from `from` (default: the oldest
    /// stored) with each checkpoint right after the record it covers.
    pub async fn audit_export(&self, from: Option<i64>) -> KmsResult<String> {
        self.audit_export_range(from, i64::MAX).await
    }

    /// [`Kms::audit_export`] of the records `from..=to` only. When a
    /// checkpoint covers exactly the records before `from` (as after
    /// pruning), it follows the header, so the first record's link to the
    /// pruned part is signed too.
    pub(crate) async fn audit_export_range(&self, from: Option<i64>, to: i64) -> KmsResult<String> {
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let head = self.store.audit_head().await?;
        let first = head.first_stored.unwrap_or(head.last_seq + 1);
        let from = from.unwrap_or(first).max(1);
        if from < first {
            return Err(KmsError::invalid(format!(
                "records before {first} have been pruned; export from {first} or later"
            )));
        }
        let frontier = self.frontier_at(from - 1).await?;
        let mut out = header_line(&ExportHeader {
            hash_algorithm: config.hash_algorithm,
            from: from as u64,
            frontier,
        });
        out.push('\n');
        if from > 1
            && let Some(anchor) = self.store.list_checkpoints(from - 1, 1).await?.first()
            && anchor.tree_size == from - 1
        {
            out.push_str(&checkpoint_line(&parse_checkpoint(anchor)?.0));
            out.push('\n');
        }
        self.for_each_record_and_checkpoint(from, to, |line| {
            out.push_str(&line);
            out.push('\n');
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Verifies the whole stored log as an outside auditor would verify an
    /// export: chain, every checkpoint's signature and Merkle root.
    pub async fn verify_stored_audit(&self) -> KmsResult<Result<VerifyReport, VerifyFailure>> {
        let text = self.audit_export(None).await?;
        let key = self.audit_public_key().await?;
        Ok(crate::audit::verify_export(text.as_bytes(), &key, None))
    }

    /// The Merkle frontier over records `1..=size`: the stored frontier of
    /// the largest checkpoint not beyond `size`, extended by stored records.
    async fn frontier_at(&self, size: i64) -> KmsResult<Frontier> {
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let alg = config.hash_algorithm;
        let mut best: Option<Frontier> = None;
        for row in self.store.list_checkpoints(0, i64::MAX).await? {
            if row.tree_size > size {
                break;
            }
            best = Some(parse_checkpoint(&row)?.1);
        }
        let mut frontier = best.unwrap_or_default();
        self.each_stored_hash(frontier.size as i64 + 1, size, |hash| {
            frontier.push(alg, leaf_hash(alg, &hash));
        })
        .await?;
        Ok(frontier)
    }

    /// Calls `line` with each record line `from..=to`, and each stored
    /// checkpoint line right after the record it covers.
    async fn for_each_record_and_checkpoint(
        &self,
        from: i64,
        to: i64,
        mut line: impl FnMut(String) -> KmsResult<()>,
    ) -> KmsResult<()> {
        let checkpoints = self.store.list_checkpoints(from, i64::MAX).await?;
        let mut pending = checkpoints.iter().peekable();
        let mut next = from;
        loop {
            let rows = self.store.read_audit(next, PAGE).await?;
            if rows.is_empty() || next > to {
                break;
            }
            for row in rows.iter().take_while(|r| r.seq <= to) {
                let text = record_line(
                    row.seq as u64,
                    &digest(&row.prev_hash)?,
                    &digest(&row.hash)?,
                    &row.body,
                )
                .map_err(|e| KmsError::Internal(format!("audit record {}: {e}", row.seq)))?;
                line(text)?;
                while let Some(cp) = pending.next_if(|c| c.tree_size <= row.seq) {
                    if cp.tree_size == row.seq {
                        line(checkpoint_line(&parse_checkpoint(cp)?.0))?;
                    }
                }
                next = row.seq + 1;
            }
        }
        Ok(())
    }

    /// Calls `each` with the chain hash of every record `from..=to`, in
    /// order; a record that is not stored (pruned) is a 400.
    async fn each_stored_hash(
        &self,
        from: i64,
        to: i64,
        mut each: impl FnMut(Digest),
    ) -> KmsResult<()> {
        let mut next = from;
        while next <= to {
            let rows = self.store.read_audit(next, PAGE).await?;
            if rows.first().map(|r| r.seq) != Some(next) {
                return Err(KmsError::invalid(format!(
                    "audit record {next} is not stored (pruned); the log cannot be proven from there"
                )));
            }
            for row in rows.iter().take_while(|r| r.seq <= to) {
                each(digest(&row.hash)?);
                next = row.seq + 1;
            }
        }
        Ok(())
    }

    /// The tree of records `1..=size` as far as it is stored: the frontier
    /// of the pruned records (the checkpoint pruning cut at) and the leaf
    /// hashes of the stored ones up to `size`.
    async fn stored_tree(&self, size: i64) -> KmsResult<(Frontier, Vec<Digest>)> {
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let alg = config.hash_algorithm;
        let head = self.store.audit_head().await?;
        let first = head.first_stored.unwrap_or(head.last_seq + 1).min(size + 1);
        let frontier = self.frontier_at(first - 1).await?;
        let mut out = Vec::with_capacity((size - first + 1).max(0) as usize);
        self.each_stored_hash(first, size, |hash| out.push(leaf_hash(alg, &hash)))
            .await?;
        Ok((frontier, out))
    }

    /// Proves record `seq` is in the latest checkpoint's tree (signing a
    /// new checkpoint first if the record is newer).
    pub async fn audit_inclusion_proof(&self, seq: u64) -> KmsResult<InclusionProof> {
        let mut cp = self.latest_checkpoint().await?;
        if cp.as_ref().is_none_or(|c| c.tree_size < seq) {
            cp = self.checkpoint_now().await?;
        }
        let cp = cp
            .filter(|c| seq >= 1 && c.tree_size >= seq)
            .ok_or_else(|| KmsError::invalid(format!("there is no audit record {seq}")))?;
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let row = self.store.read_audit(seq as i64, 1).await?;
        let hash = row
            .first()
            .filter(|r| r.seq == seq as i64)
            .map(|r| hex::encode(&r.hash))
            .ok_or_else(|| {
                KmsError::invalid(format!(
                    "audit record {seq} has been pruned; prove it from its archive"
                ))
            })?;
        let (frontier, leaves) = self.stored_tree(cp.tree_size as i64).await?;
        let proof = merkle::PrunedTree::new(config.hash_algorithm, &frontier, &leaves)
            .and_then(|t| t.inclusion_proof(seq - 1))
            .map_err(audit_internal)?;
        Ok(InclusionProof {
            seq,
            hash,
            checkpoint: cp,
            proof: proof.iter().map(digest_to_hex).collect(),
        })
    }

    /// Proves the checkpoint at `new_size` extends the one at `old_size`
    /// (both must be stored checkpoints).
    pub async fn audit_consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> KmsResult<ConsistencyProof> {
        let find = |rows: &[CheckpointRow], size: u64| -> KmsResult<Checkpoint> {
            rows.iter()
                .find(|r| r.tree_size as u64 == size)
                .map(|r| parse_checkpoint(r).map(|(c, _)| c))
                .transpose()?
                .ok_or_else(|| KmsError::invalid(format!("there is no checkpoint of size {size}")))
        };
        if old_size > new_size {
            return Err(KmsError::invalid(
                "the old size must not exceed the new size",
            ));
        }
        let rows = self.store.list_checkpoints(0, i64::MAX).await?;
        let (old, new) = (find(&rows, old_size)?, find(&rows, new_size)?);
        let config = self.audit_config().await?.ok_or(KmsError::NotInitialized)?;
        let (frontier, leaves) = self.stored_tree(new_size as i64).await?;
        let proof = merkle::PrunedTree::new(config.hash_algorithm, &frontier, &leaves)
            .and_then(|t| t.consistency_proof(old_size))
            .map_err(|e| {
                KmsError::invalid(format!(
                    "{e}; records before {} are pruned, prove older checkpoints from the archives",
                    frontier.size + 1
                ))
            })?;
        Ok(ConsistencyProof {
            old,
            new,
            proof: proof.iter().map(digest_to_hex).collect(),
        })
    }
}
