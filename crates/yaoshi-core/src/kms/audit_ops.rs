//! The service's side of the audit trail: the deployment's audit
//! configuration, appending a request's record (fail-closed), and the record
//! that commits with a key change.

use super::{Kms, lock};
use crate::audit::chain::ChainAlgorithm;
use crate::audit::{AuditError, AuditSigningKey, SignatureAlgorithm};
use crate::audit::{AuditHealth, AuditRecord, Outcome, RequestAudit};
use crate::barrier::{BarrierAlgorithm, BarrierKey, Binding};
use crate::error::{KmsError, KmsResult};
use crate::store::{AuditAppend, KeyChange, StoreError};
use serde::{Deserialize, Serialize};

/// Entry holding the deployment's audit configuration (public data).
pub(crate) const AUDIT_CONFIG_ENTRY: &str = "audit/config";

/// Entry holding the audit signing key, sealed by the barrier.
pub(crate) const AUDIT_SIGNING_KEY_ENTRY: &str = "audit/signing-key";

/// How a deployment's audit log is hashed and signed; fixed at init.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditConfig {
    /// Hash of the chain and the Merkle tree.
    pub hash_algorithm: ChainAlgorithm,
    /// Checkpoint signature algorithm (`sm2` or `ecdsa-p256-sha256`).
    pub signature_algorithm: String,
    /// The audit signing key's public key (SPKI PEM).
    pub public_key_pem: String,
}

fn signing_key_binding() -> Binding<'static> {
    Binding::Entry {
        namespace: "audit",
        name: "signing-key",
    }
}

impl Kms {
    /// The deployment's audit configuration; `None` before init.
    pub async fn audit_config(&self) -> KmsResult<Option<AuditConfig>> {
        if let Some(c) = lock(&self.audit_config).clone() {
            return Ok(Some(c));
        }
        let Some(bytes) = self.store.get_entry(AUDIT_CONFIG_ENTRY).await? else {
            return Ok(None);
        };
        let config: AuditConfig = serde_json::from_slice(&bytes)
            .map_err(|_| KmsError::Internal("stored audit configuration is corrupt".into()))?;
        *lock(&self.audit_config) = Some(config.clone());
        Ok(Some(config))
    }

    /// The audit signing key and configuration: loaded, or created when the
    /// deployment has none yet (at init, and on the first unseal of a
    /// deployment initialised before audit existed). SM3 and SM2 under an
    /// SM4 barrier, SHA-256 and ECDSA P-256 otherwise.
    pub(crate) async fn ensure_audit_keys(
        &self,
        root: &BarrierKey,
        barrier: BarrierAlgorithm,
    ) -> KmsResult<AuditSigningKey> {
        if let Some(sealed) = self.store.get_entry(AUDIT_SIGNING_KEY_ENTRY).await? {
            let plain = root.open(signing_key_binding(), &sealed)?;
            return AuditSigningKey::from_bytes(plain.expose())
                .map_err(|_| KmsError::Internal("stored audit signing key is corrupt".into()));
        }
        let (hash_algorithm, signature) = match barrier {
            BarrierAlgorithm::Sm4Gcm => (ChainAlgorithm::Sm3, SignatureAlgorithm::Sm2),
            BarrierAlgorithm::Aes256Gcm => (ChainAlgorithm::Sha256, SignatureAlgorithm::EcdsaP256),
        };
        let key = AuditSigningKey::generate(signature).map_err(audit_internal)?;
        let config = AuditConfig {
            hash_algorithm,
            signature_algorithm: signature.name().to_string(),
            public_key_pem: key.public_key().to_pem().map_err(audit_internal)?,
        };
        let sealed = root.seal(barrier, signing_key_binding(), key.to_bytes().expose())?;
        let bytes = serde_json::to_vec(&config)
            .map_err(|_| KmsError::Internal("audit configuration did not serialise".into()))?;
        // The key first: a configuration always has its key.
        if !self
            .store
            .insert_entry(AUDIT_SIGNING_KEY_ENTRY, &sealed)
            .await?
        {
            // Another node created it first: use that one.
            return Box::pin(self.ensure_audit_keys(root, barrier)).await;
        }
        self.store.put_entry(AUDIT_CONFIG_ENTRY, &bytes).await?;
        Ok(key)
    }

    /// Appends a request's record durably and returns its sequence number
    /// (`None` before init: there is no log yet). Fails with
    /// [`KmsError::AuditUnavailable`] when the log cannot be written; the
    /// caller must then not serve the request.
    pub async fn record_audit(&self, record: &AuditRecord) -> KmsResult<Option<i64>> {
        let config = match self.audit_config().await {
            Ok(c) => c,
            Err(e) => return Err(KmsError::AuditUnavailable(e.to_string())),
        };
        let Some(config) = config else {
            return Ok(None);
        };
        let append = AuditAppend {
            time: record.time_ms.div_euclid(1000),
            body: record.to_bytes(),
        };
        self.audit_log
            .append(config.hash_algorithm, append)
            .await
            .map(Some)
            .map_err(|e| KmsError::AuditUnavailable(e.to_string()))
    }

    /// Whether this node can write its audit log.
    pub fn audit_health(&self) -> AuditHealth {
        self.audit_log.health()
    }

    /// This node's name in audit records.
    pub fn node_name(&self) -> &str {
        &self.audit_log.settings().node
    }

    /// The keyed hash of a sensitive input for an audit record; `None`
    /// while sealed (the key is under the barrier).
    pub fn audit_input_hmac(&self, value: &[u8]) -> Option<String> {
        self.unsealed().ok().map(|u| u.token_key.audit_hmac(value))
    }

    /// Attaches the current request's record to `change`, so it commits in
    /// the change's transaction (once per request).
    pub(crate) async fn attach_audit(&self, change: &mut KeyChange) -> KmsResult<()> {
        let Some(request) = RequestAudit::current() else {
            return Ok(());
        };
        if request.committed() {
            return Ok(());
        }
        let Some(config) = self.audit_config().await? else {
            return Ok(());
        };
        let mut record = request.snapshot();
        record.outcome = Outcome::Ok;
        record.status = None;
        record.error = None;
        record.key.get_or_insert_with(|| change.key.name.clone());
        if let Some(v) = change.put_versions.iter().map(|v| v.version).max() {
            record.version = Some(v);
        }
        change.audit = Some((
            config.hash_algorithm,
            AuditAppend {
                time: record.time_ms.div_euclid(1000),
                body: record.to_bytes(),
            },
        ));
        Ok(())
    }

    /// After a change was applied: marks its record committed and notes the
    /// audit log's health.
    pub(crate) fn after_audited_change(&self, change: &KeyChange, result: &Result<(), StoreError>) {
        if change.audit.is_none() {
            return;
        }
        self.audit_log.note_change(result);
        if result.is_ok()
            && let Some(request) = RequestAudit::current()
        {
            request.mark_committed();
        }
    }
}

/// An audit cryptography failure that does not depend on the request.
pub(crate) fn audit_internal(e: AuditError) -> KmsError {
    KmsError::Internal(format!("audit: {e}"))
}
