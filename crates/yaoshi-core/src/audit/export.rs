//! The `yaoshi-audit-v1` JSON Lines export (`yaoshi audit export`), one JSON
//! object per line, `\n`-separated:
//!
//! ```text
//! {"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"sm3","from":1,"frontier":{"size":0,"nodes":[]}}
//! {"type":"record","seq":1,"prev":"<hex>","hash":"<hex>","record":{...stored body, verbatim...}}
//! {"type":"checkpoint","checkpoint":{...}}
//! ```
//!
//! The header comes first; `from` is the first record's sequence number and
//! `frontier` is the compact range of leaves `1..from-1`. Records follow in
//! sequence order; a checkpoint line follows the record whose `seq` equals
//! its `tree_size`. The record body is embedded byte for byte, so its hash can
//! be recomputed over exactly the stored bytes. See `docs/audit-format.md`.

use super::AuditError;
use super::chain::{ChainAlgorithm, Digest, digest_from_hex, digest_to_hex};
use super::checkpoint::Checkpoint;
use super::merkle::Frontier;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The `format` of the header line.
pub const FORMAT: &str = "yaoshi-audit-v1";

/// The first line of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportHeader {
    /// The chain's hash algorithm.
    pub hash_algorithm: ChainAlgorithm,
    /// Sequence number of the first record in the file (≥ 1).
    pub from: u64,
    /// Compact range over leaves `1..from-1` (size `from - 1`).
    pub frontier: Frontier,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportLine {
    /// The header.
    Header(ExportHeader),
    /// A record with its chain fields.
    Record {
        /// Sequence number (≥ 1).
        seq: u64,
        /// The previous record's hash (GENESIS for sequence 1).
        prev: Digest,
        /// This record's entry hash.
        hash: Digest,
        /// The exact bytes of the embedded record object.
        body: Vec<u8>,
    },
    /// A signed checkpoint.
    Checkpoint(Checkpoint),
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    format: &'static str,
    hash_algorithm: &'static str,
    from: u64,
    frontier: &'a Frontier,
}

#[derive(Serialize)]
struct CheckpointOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    checkpoint: &'a Checkpoint,
}

/// The union of every line's fields; which ones are allowed depends on `type`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn<'a> {
    #[serde(rename = "type")]
    kind: String,
    format: Option<String>,
    hash_algorithm: Option<String>,
    from: Option<u64>,
    frontier: Option<Frontier>,
    seq: Option<u64>,
    prev: Option<String>,
    hash: Option<String>,
    #[serde(borrow)]
    record: Option<&'a RawValue>,
    checkpoint: Option<Checkpoint>,
}

/// The header line (no trailing newline).
pub fn header_line(h: &ExportHeader) -> String {
    // Serialising strings and integers cannot fail.
    serde_json::to_string(&HeaderOut {
        kind: "header",
        format: FORMAT,
        hash_algorithm: h.hash_algorithm.name(),
        from: h.from,
        frontier: &h.frontier,
    })
    .unwrap_or_default()
}

/// Checks that `body` is one JSON object with no surrounding whitespace and
/// no line breaks, so it can be embedded verbatim in one line.
pub fn check_body(body: &[u8]) -> Result<&str, AuditError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| AuditError::Malformed("record body is not UTF-8".into()))?;
    if text.bytes().any(|b| b == b'\n' || b == b'\r') {
        return Err(AuditError::Malformed(
            "record body contains a line break".into(),
        ));
    }
    let raw: &RawValue = serde_json::from_str(text)
        .map_err(|e| AuditError::Malformed(format!("record body is not JSON: {e}")))?;
    if raw.get() != text || !text.starts_with('{') {
        return Err(AuditError::Malformed(
            "record body must be a single JSON object without surrounding whitespace".into(),
        ));
    }
    Ok(text)
}

/// A record line (no trailing newline). `body` must pass [`check_body`]; it is
/// embedded byte for byte.
pub fn record_line(
    seq: u64,
    prev: &Digest,
    hash: &Digest,
    body: &[u8],
) -> Result<String, AuditError> {
    let body = check_body(body)?;
    Ok(format!(
        r#"{{"type":"record","seq":{seq},"prev":"{}","hash":"{}","record":{body}}}"#,
        digest_to_hex(prev),
        digest_to_hex(hash)
    ))
}

/// A checkpoint line (no trailing newline).
pub fn checkpoint_line(cp: &Checkpoint) -> String {
    // Serialising strings and integers cannot fail.
    serde_json::to_string(&CheckpointOut {
        kind: "checkpoint",
        checkpoint: cp,
    })
    .unwrap_or_default()
}

fn malformed(msg: impl Into<String>) -> AuditError {
    AuditError::Malformed(msg.into())
}

fn required<T>(field: Option<T>, name: &str, kind: &str) -> Result<T, AuditError> {
    field.ok_or_else(|| malformed(format!("{kind} line without \"{name}\"")))
}

fn reject_extra(present: bool, kind: &str) -> Result<(), AuditError> {
    if present {
        Err(malformed(format!(
            "{kind} line with fields of another line type"
        )))
    } else {
        Ok(())
    }
}

/// Parses one line (without its line break). Strict: surrounding whitespace,
/// unknown, duplicate,
/// missing or misplaced fields, non-canonical hex and an unknown `type` are
/// errors.
pub fn parse_line(line: &str) -> Result<ExportLine, AuditError> {
    if !line.starts_with('{') || !line.ends_with('}') {
        return Err(malformed(
            "a line must be one JSON object with nothing before or after it",
        ));
    }
    let l: LineIn<'_> =
        serde_json::from_str(line).map_err(|e| malformed(format!("not a valid line: {e}")))?;
    match l.kind.as_str() {
        "header" => {
            reject_extra(
                l.seq.is_some()
                    || l.prev.is_some()
                    || l.hash.is_some()
                    || l.record.is_some()
                    || l.checkpoint.is_some(),
                "header",
            )?;
            let format = required(l.format, "format", "header")?;
            if format != FORMAT {
                return Err(malformed(format!(
                    "unsupported format {:?} (this verifier reads {FORMAT})",
                    format.chars().take(64).collect::<String>()
                )));
            }
            let hash_algorithm = ChainAlgorithm::from_name(&required(
                l.hash_algorithm,
                "hash_algorithm",
                "header",
            )?)?;
            let from = required(l.from, "from", "header")?;
            if from == 0 {
                return Err(malformed("header \"from\" must be at least 1"));
            }
            let frontier = required(l.frontier, "frontier", "header")?;
            if frontier.size != from - 1 {
                return Err(malformed(format!(
                    "header frontier covers {} leaves, not from - 1 = {}",
                    frontier.size,
                    from - 1
                )));
            }
            frontier.validate()?;
            Ok(ExportLine::Header(ExportHeader {
                hash_algorithm,
                from,
                frontier,
            }))
        }
        "record" => {
            reject_extra(
                l.format.is_some()
                    || l.hash_algorithm.is_some()
                    || l.from.is_some()
                    || l.frontier.is_some()
                    || l.checkpoint.is_some(),
                "record",
            )?;
            let seq = required(l.seq, "seq", "record")?;
            if seq == 0 {
                return Err(malformed("record sequence numbers start at 1"));
            }
            let prev = digest_from_hex(&required(l.prev, "prev", "record")?)?;
            let hash = digest_from_hex(&required(l.hash, "hash", "record")?)?;
            let record = required(l.record, "record", "record")?;
            if !record.get().starts_with('{') {
                return Err(malformed("\"record\" must be a JSON object"));
            }
            Ok(ExportLine::Record {
                seq,
                prev,
                hash,
                body: record.get().as_bytes().to_vec(),
            })
        }
        "checkpoint" => {
            reject_extra(
                l.format.is_some()
                    || l.hash_algorithm.is_some()
                    || l.from.is_some()
                    || l.frontier.is_some()
                    || l.seq.is_some()
                    || l.prev.is_some()
                    || l.hash.is_some()
                    || l.record.is_some(),
                "checkpoint",
            )?;
            Ok(ExportLine::Checkpoint(required(
                l.checkpoint,
                "checkpoint",
                "checkpoint",
            )?))
        }
        other => Err(malformed(format!(
            "unknown line type {:?}",
            other.chars().take(32).collect::<String>()
        ))),
    }
}
