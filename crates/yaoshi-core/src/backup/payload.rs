//! The plaintext of a backup's payload: the [`StoreSnapshot`] as one JSON
//! object (its serde form: every byte string in base64; docs/formats.md).

use crate::error::{KmsError, KmsResult};
use crate::store::StoreSnapshot;

/// Encodes a snapshot.
pub fn encode(snapshot: &StoreSnapshot) -> Vec<u8> {
    serde_json::to_vec(snapshot).expect("a snapshot always serialises")
}

/// Decodes a snapshot; unknown or missing fields are refused.
pub fn decode(bytes: &[u8]) -> KmsResult<StoreSnapshot> {
    serde_json::from_slice(bytes)
        .map_err(|e| KmsError::invalid(format!("the backup's payload is malformed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{
        AuditRow, CheckpointRow, EntryRecord, KeyRecord, NamespaceRecord, VersionRecord,
    };

    #[test]
    fn every_field_round_trips() {
        let s = StoreSnapshot {
            entries: vec![
                EntryRecord {
                    name: "core/seal-config".into(),
                    value: b"{}".to_vec(),
                },
                EntryRecord {
                    name: "x".into(),
                    value: vec![0, 255],
                },
            ],
            namespaces: vec![NamespaceRecord {
                name: "transit".into(),
                sealed_kek: vec![1, 2, 3],
                created_at: 7,
            }],
            keys: vec![KeyRecord {
                id: "k1".into(),
                namespace: "transit".into(),
                name: "orders".into(),
                state: "active".into(),
                generation: 3,
                metadata: b"{\"type\":\"sm4-gcm96\"}".to_vec(),
                created_at: 8,
                updated_at: 9,
            }],
            versions: vec![
                VersionRecord {
                    key_id: "k1".into(),
                    version: 1,
                    sealed_material: None,
                    created_at: 8,
                },
                VersionRecord {
                    key_id: "k1".into(),
                    version: 2,
                    sealed_material: Some(vec![9; 40]),
                    created_at: 9,
                },
            ],
            audit_last_seq: 2,
            audit_last_hash: Some(vec![4; 32]),
            audit_records: vec![AuditRow {
                seq: 2,
                time: 10,
                prev_hash: vec![3; 32],
                hash: vec![4; 32],
                body: b"{\"op\":\"encrypt\"}".to_vec(),
            }],
            checkpoints: vec![CheckpointRow {
                tree_size: 2,
                time: 11,
                body: b"cp".to_vec(),
                frontier: b"[]".to_vec(),
            }],
        };
        assert_eq!(decode(&encode(&s)).unwrap(), s);
        let empty = StoreSnapshot::default();
        assert_eq!(decode(&encode(&empty)).unwrap(), empty);
        assert!(
            decode(b"{\"entries\":[]}").is_err(),
            "missing fields are refused"
        );
        let text = String::from_utf8(encode(&s)).unwrap();
        assert!(
            text.contains("\"value\":\"AP8=\""),
            "bytes are base64: {text}"
        );
    }
}
