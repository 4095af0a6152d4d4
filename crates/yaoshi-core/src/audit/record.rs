//! One audit record: what a request asked, who asked, and how it ended.
//!
//! Serialised as a compact JSON object; its exact bytes are what the chain
//! hashes and what `yaoshi audit export` embeds. Never plaintext, key
//! material or tokens: sensitive inputs appear only as keyed HMACs
//! (`inputs`), other parameters as given (`params`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a request ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Served (2xx other than 202).
    #[default]
    Ok,
    /// Parked for dual control (202 with an approval id).
    Parked,
    /// The principal may not do this (403).
    Denied,
    /// The compliance profile forbids it (4xx naming the rule).
    Refused,
    /// Any other error (4xx/5xx).
    Failed,
}

impl Outcome {
    /// Name as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Parked => "parked",
            Self::Denied => "denied",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// One audited request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix time in milliseconds when the request arrived.
    pub time_ms: i64,
    /// The node that served it.
    pub node: String,
    /// The request id (also in the response and the server log).
    pub request_id: String,
    /// Authenticated principal, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The principal's roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Client address (`ip:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Operation, e.g. `transit.encrypt`, `sys.unseal`.
    pub operation: String,
    /// `read`, `write`, `list` or `delete`.
    pub method: String,
    /// Request path after `/v1/`.
    pub path: String,
    /// Mount path, for engine requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// Key name, when the request names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Key type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    /// Key version used or created, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP status; absent on records committed together with a key change
    /// (written before the response status exists; such records are `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Error message (never contains secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Dual-control approval the request was parked as or executed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// Non-sensitive parameters, as given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Sensitive inputs as keyed HMACs (`hmac-sm3:<hex>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
}

impl AuditRecord {
    /// The record's bytes as stored and hashed.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A struct of strings, numbers, maps and options always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses stored bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_omits_empty_fields() {
        let mut r = AuditRecord {
            time_ms: 1,
            node: "n".into(),
            request_id: "r".into(),
            operation: "transit.encrypt".into(),
            method: "write".into(),
            path: "transit/encrypt/k".into(),
            outcome: Outcome::Denied,
            status: Some(403),
            ..Default::default()
        };
        r.inputs.insert("plaintext".into(), "hmac-sm3:00".into());
        let bytes = r.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("principal"), "{text}");
        assert!(text.contains("\"outcome\":\"denied\""), "{text}");
        assert!(!text.contains('\n'));
        assert_eq!(AuditRecord::from_bytes(&bytes).unwrap(), r);
    }
}
