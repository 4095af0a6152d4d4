//! The backup file (`yaoshi-backup-v1`, docs/formats.md): a snapshot of every
//! row of a deployment, sealed under its root key with its barrier
//! algorithm and signed with its audit signing key.
//!
//! A file is three lines of text:
//!
//! 1. the header, compact JSON ([`BackupHeader`]): format, id, time, node,
//!    destination, the profile, the seal configuration (what a restored
//!    deployment unseals with), the signer's public key and row counts;
//! 2. the payload, base64 of a barrier blob (format 1, the seal
//!    configuration's algorithm) sealed by the root key for the binding
//!    `("backup", <header line>)`, so the header cannot be swapped; its
//!    plaintext is the snapshot as JSON ([`payload`]);
//! 3. the signature, base64 of a DER signature (SM2 with SM3 or ECDSA P-256
//!    with SHA-256) by the audit signing key over `line 1 \n line 2`.
//!
//! Reading the header needs nothing; checking the signature needs the
//! audit public key (auditors have it); opening the payload needs the root
//! key, i.e. the unseal quorum.

pub mod payload;

use crate::audit::{AuditPublicKey, AuditSigningKey};
use crate::barrier::{BarrierAlgorithm, BarrierKey, Binding};
use crate::error::{KmsError, KmsResult};
use crate::seal::SealConfig;
use crate::store::StoreSnapshot;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The `format` of every header this version writes and reads.
pub const FORMAT: &str = "yaoshi-backup-v1";

/// The entry a restore stages the whole backup file in until the first
/// unseal with the original quorum applies it.
pub const PENDING_RESTORE_ENTRY: &str = "core/pending-restore";

/// How many rows of each kind a backup holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupContents {
    /// System entries (configuration, principals, tokens, mounts, ...).
    pub entries: usize,
    /// Namespaces.
    pub namespaces: usize,
    /// Key rows (destroyed keys included).
    pub keys: usize,
    /// Key versions.
    pub versions: usize,
    /// Stored audit records.
    pub audit_records: usize,
    /// Last audit sequence number.
    pub audit_last_seq: i64,
    /// Signed checkpoints.
    pub checkpoints: usize,
}

impl BackupContents {
    /// The counts of `snapshot`.
    pub fn of(snapshot: &StoreSnapshot) -> Self {
        Self {
            entries: snapshot.entries.len(),
            namespaces: snapshot.namespaces.len(),
            keys: snapshot.keys.len(),
            versions: snapshot.versions.len(),
            audit_records: snapshot.audit_records.len(),
            audit_last_seq: snapshot.audit_last_seq,
            checkpoints: snapshot.checkpoints.len(),
        }
    }
}

/// The clear first line of a backup file. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    /// Always [`FORMAT`].
    pub format: String,
    /// Random identifier of this backup (hex).
    pub backup_id: String,
    /// Unix time (seconds) of the snapshot.
    pub created_at: i64,
    /// Node that took it.
    pub node: String,
    /// Backup target it was taken for, when one was named.
    pub destination: Option<String>,
    /// Name of the profile the deployment runs under.
    pub profile: String,
    /// The seal configuration a restored deployment unseals with.
    pub seal: SealConfig,
    /// Signature algorithm (`sm2` or `ecdsa-p256-sha256`).
    pub signature_algorithm: String,
    /// The audit signing key's public key (SPKI PEM).
    pub public_key_pem: String,
    /// Row counts.
    pub contents: BackupContents,
}

/// A parsed backup file.
#[derive(Debug, Clone)]
pub struct BackupFile {
    /// The parsed header.
    pub header: BackupHeader,
    header_line: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn malformed(what: &str) -> KmsError {
    KmsError::invalid(format!("not a {FORMAT} backup file: {what}"))
}

fn binding(header_line: &str) -> Binding<'_> {
    Binding::Entry {
        namespace: "backup",
        name: header_line,
    }
}

impl BackupFile {
    /// Seals and signs `snapshot` under `header`.
    pub fn seal(
        header: BackupHeader,
        snapshot: &StoreSnapshot,
        root: &BarrierKey,
        barrier: BarrierAlgorithm,
        signer: &AuditSigningKey,
    ) -> KmsResult<Self> {
        let header_line = serde_json::to_string(&header)
            .map_err(|_| KmsError::Internal("backup header did not serialise".into()))?;
        let plain = payload::encode(snapshot);
        let payload = root.seal(barrier, binding(&header_line), &plain)?;
        let mut file = Self {
            header,
            header_line,
            payload,
            signature: Vec::new(),
        };
        file.signature = signer
            .sign(&file.signed_message())
            .map_err(|e| KmsError::Internal(format!("signing the backup failed: {e}")))?;
        Ok(file)
    }

    /// Parses a file (no key needed). Fails with a 4xx-class error naming
    /// what is wrong.
    pub fn parse(bytes: &[u8]) -> KmsResult<Self> {
        let text = std::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8 text"))?;
        let mut lines = text.lines();
        let (Some(header_line), Some(payload), Some(signature), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed(
                "expected three lines: header, payload, signature",
            ));
        };
        let header: BackupHeader =
            serde_json::from_str(header_line).map_err(|e| malformed(&format!("header: {e}")))?;
        if header.format != FORMAT {
            return Err(malformed(&format!("format is {:?}", header.format)));
        }
        Ok(Self {
            header,
            header_line: header_line.to_string(),
            payload: STANDARD
                .decode(payload)
                .map_err(|_| malformed("payload is not base64"))?,
            signature: STANDARD
                .decode(signature)
                .map_err(|_| malformed("signature is not base64"))?,
        })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_message();
        out.push(b'\n');
        out.extend_from_slice(STANDARD.encode(&self.signature).as_bytes());
        out.push(b'\n');
        out
    }

    /// What the signature covers: the header line, a newline, the payload
    /// line (base64).
    fn signed_message(&self) -> Vec<u8> {
        format!("{}\n{}", self.header_line, STANDARD.encode(&self.payload)).into_bytes()
    }

    /// Checks the signature with `key` (the deployment's audit public key).
    pub fn verify_signature(&self, key: &AuditPublicKey) -> KmsResult<()> {
        key.verify(&self.signed_message(), &self.signature)
            .map_err(|_| {
                KmsError::invalid(
                    "the backup's signature does not verify with this audit public key",
                )
            })
    }

    /// Checks the signature with the public key the header names (catches
    /// damage; trust in the key itself comes from elsewhere: the auditors'
    /// copy, or the root key that opens the payload).
    pub fn verify_own_signature(&self) -> KmsResult<()> {
        let key = AuditPublicKey::from_pem(&self.header.public_key_pem)
            .map_err(|_| malformed("the header's public key is unreadable"))?;
        self.verify_signature(&key)
    }

    /// Opens the payload with the root key and decodes the snapshot; checks
    /// its counts against the header.
    pub fn open(&self, root: &BarrierKey) -> KmsResult<StoreSnapshot> {
        let plain = root.open(binding(&self.header_line), &self.payload).map_err(|_| {
            KmsError::invalid(
                "the backup does not open with this deployment's root key (damaged, or another deployment's)",
            )
        })?;
        let snapshot = payload::decode(plain.expose())?;
        if BackupContents::of(&snapshot) != self.header.contents {
            return Err(malformed(
                "the payload's rows do not match the header's counts",
            ));
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::SignatureAlgorithm;
    use crate::seal::SealType;
    use crate::store::{EntryRecord, KeyRecord};
    use yaoshi_crypto::{SecretBytes, random};

    fn root() -> BarrierKey {
        BarrierKey::new(&SecretBytes::from_slice(&random::array::<32>().unwrap())).unwrap()
    }

    fn snapshot() -> StoreSnapshot {
        StoreSnapshot {
            entries: vec![EntryRecord {
                name: "core/seal-config".into(),
                value: b"{}".to_vec(),
            }],
            keys: vec![KeyRecord {
                id: "k1".into(),
                namespace: "transit".into(),
                name: "orders".into(),
                state: "active".into(),
                generation: 1,
                metadata: b"{}".to_vec(),
                created_at: 1,
                updated_at: 1,
            }],
            audit_last_seq: 7,
            ..StoreSnapshot::default()
        }
    }

    fn header(
        barrier: BarrierAlgorithm,
        signer: &AuditSigningKey,
        s: &StoreSnapshot,
    ) -> BackupHeader {
        BackupHeader {
            format: FORMAT.into(),
            backup_id: "00ff".into(),
            created_at: 1_700_000_000,
            node: "node-a".into(),
            destination: Some("nas-sh".into()),
            profile: "gb39786-l3".into(),
            seal: SealConfig {
                seal_type: SealType::Shamir,
                shares: 5,
                threshold: 3,
                barrier,
                root_check: "check".into(),
                device_kind: None,
                wrapped_root_key: None,
                created_at: 1,
            },
            signature_algorithm: signer.algorithm().name().into(),
            public_key_pem: signer.public_key().to_pem().unwrap(),
            contents: BackupContents::of(s),
        }
    }

    /// Replaces line `index` of a file's text by `edit(line)`.
    fn edited(bytes: &[u8], index: usize, edit: impl Fn(&str) -> String) -> Vec<u8> {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| if i == index { edit(l) } else { l.to_string() })
            .collect();
        (lines.join("\n") + "\n").into_bytes()
    }

    #[test]
    fn seals_signs_opens_and_refuses_what_was_changed() {
        for (barrier, signature) in [
            (BarrierAlgorithm::Sm4Gcm, SignatureAlgorithm::Sm2),
            (BarrierAlgorithm::Aes256Gcm, SignatureAlgorithm::EcdsaP256),
        ] {
            let (key, signer) = (root(), AuditSigningKey::generate(signature).unwrap());
            let s = snapshot();
            let file =
                BackupFile::seal(header(barrier, &signer, &s), &s, &key, barrier, &signer).unwrap();
            let bytes = file.to_bytes();
            let parsed = BackupFile::parse(&bytes).unwrap();
            assert_eq!(parsed.header, file.header);
            parsed.verify_own_signature().unwrap();
            parsed.verify_signature(&signer.public_key()).unwrap();
            assert_eq!(parsed.open(&key).unwrap(), s, "{barrier:?}");
            // The payload is a barrier blob of the seal's algorithm.
            assert_eq!(
                parsed.payload[1],
                if barrier == BarrierAlgorithm::Sm4Gcm {
                    2
                } else {
                    1
                }
            );
            // Another deployment's root key or audit key.
            assert!(parsed.open(&root()).is_err());
            let stranger = AuditSigningKey::generate(signature).unwrap();
            assert!(parsed.verify_signature(&stranger.public_key()).is_err());
            // An edited header (another threshold): the signature and the
            // payload's associated data both catch it.
            let header_edit = edited(&bytes, 0, |l| {
                l.replace("\"threshold\":3", "\"threshold\":1")
            });
            let tampered = BackupFile::parse(&header_edit).unwrap();
            assert_eq!(tampered.header.seal.threshold, 1);
            assert!(tampered.verify_own_signature().is_err());
            assert!(tampered.open(&key).is_err());
            // One payload digit changed.
            let payload_edit = edited(&bytes, 1, |l| {
                let mut l = l.to_string();
                let i = l.len() / 2;
                let c = if &l[i..=i] == "A" { "B" } else { "A" };
                l.replace_range(i..=i, c);
                l
            });
            let tampered = BackupFile::parse(&payload_edit).unwrap();
            assert!(tampered.verify_own_signature().is_err());
            assert!(tampered.open(&key).is_err());
        }
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        for (bytes, reason) in [
            (&b"just one line\n"[..], "three lines"),
            (&b"{}\nAAAA\nAAAA\n"[..], "header"),
            (&b"\xff\xfe\n\n\n"[..], "UTF-8"),
        ] {
            let e = BackupFile::parse(bytes).unwrap_err().to_string();
            assert!(e.contains(reason), "{e}");
        }
        let signer = AuditSigningKey::generate(SignatureAlgorithm::EcdsaP256).unwrap();
        let s = snapshot();
        let mut h = header(BarrierAlgorithm::Aes256Gcm, &signer, &s);
        h.format = "yaoshi-backup-v9".into();
        let file = BackupFile::seal(h, &s, &root(), BarrierAlgorithm::Aes256Gcm, &signer).unwrap();
        let e = BackupFile::parse(&file.to_bytes()).unwrap_err().to_string();
        assert!(e.contains("yaoshi-backup-v9"), "{e}");
        // Counts in the header that do not match the payload.
        let key = root();
        let mut h = header(BarrierAlgorithm::Aes256Gcm, &signer, &s);
        h.contents.keys = 2;
        let file = BackupFile::seal(h, &s, &key, BarrierAlgorithm::Aes256Gcm, &signer).unwrap();
        let e = file.open(&key).unwrap_err().to_string();
        assert!(e.contains("counts"), "{e}");
    }
}
