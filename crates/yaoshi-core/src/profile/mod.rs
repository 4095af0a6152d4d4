//! Compliance profiles (DESIGN §8): data shipped in the binary
//! (`profiles/*.toml`) or given by the operator, and the rules every
//! operation is checked against. A refusal names the profile and the rule
//! (the TOML field) so that operators and auditors can find it.
//!
//! What each shipped value serves is explained in `docs/profiles.md`.

use crate::audit::{ChainAlgorithm, SignatureAlgorithm};
use crate::auth::{Action, Role};
use crate::barrier::BarrierAlgorithm;
use crate::key::KeyType;
use serde::{Deserialize, Serialize};

/// The shipped profiles, by name.
const BUILTIN: [(&str, &str); 4] = [
    ("default", include_str!("../../profiles/default.toml")),
    ("gb39786-l2", include_str!("../../profiles/gb39786-l2.toml")),
    ("gb39786-l3", include_str!("../../profiles/gb39786-l3.toml")),
    ("gb39786-l4", include_str!("../../profiles/gb39786-l4.toml")),
];

/// An operation that may need approvals from other principals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DualOp {
    /// Destroying a key (Transit `DELETE keys/:name`).
    DestroyKey,
    /// Exporting key material.
    ExportKey,
    /// Backing a key up.
    BackupKey,
    /// Changing the deployment's profile.
    ChangeProfile,
    /// Creating a principal with an admin role.
    GrantAdminRole,
    /// Pruning the audit log.
    PruneAudit,
}

impl DualOp {
    /// Every operation.
    pub const ALL: [DualOp; 6] = [
        Self::DestroyKey,
        Self::ExportKey,
        Self::BackupKey,
        Self::ChangeProfile,
        Self::GrantAdminRole,
        Self::PruneAudit,
    ];

    /// Name in profiles and approvals.
    pub const fn name(self) -> &'static str {
        match self {
            Self::DestroyKey => "destroy-key",
            Self::ExportKey => "export-key",
            Self::BackupKey => "backup-key",
            Self::ChangeProfile => "change-profile",
            Self::GrantAdminRole => "grant-admin-role",
            Self::PruneAudit => "prune-audit",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Whether the operation acts on one key (the approver's right is then
    /// checked on that key).
    pub const fn is_key_operation(self) -> bool {
        matches!(self, Self::DestroyKey | Self::ExportKey | Self::BackupKey)
    }

    /// What a principal must be allowed to do itself to approve this
    /// operation, on key `key` of mount `mount` for key operations (`"*"`
    /// for any key); the other operations ignore both.
    pub fn approver_action<'a>(self, mount: &'a str, key: &'a str) -> Action<'a> {
        match self {
            Self::DestroyKey => Action::ManageKey { mount, key },
            Self::ExportKey | Self::BackupKey => Action::KeyMaterial { mount, key },
            Self::ChangeProfile | Self::GrantAdminRole => Action::Principals { write: true },
            Self::PruneAudit => Action::Audit { write: true },
        }
    }
}

/// Dual-control settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DualControl {
    /// Operations that are parked for approval.
    pub operations: Vec<String>,
    /// Approvals needed from distinct eligible principals other than the
    /// requester.
    pub approvals: u32,
}

/// A compliance profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Name, e.g. `gb39786-l3`.
    pub name: String,
    /// Human title.
    pub title: String,
    /// One-paragraph description.
    pub description: String,
    /// Jurisdiction the deployment must declare (e.g. `CN`); none = any.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// Key type names, or `["*"]`.
    pub allowed_key_types: Vec<String>,
    /// Hash names (Transit hash, HMAC and signature hashes), or `["*"]`.
    pub allowed_hash_algorithms: Vec<String>,
    /// Type of keys created without one.
    pub default_key_type: String,
    /// Barrier algorithm of a deployment initialised under the profile.
    pub barrier: String,
    /// Audit chain and Merkle hash.
    pub audit_hash: String,
    /// Audit checkpoint signature.
    pub audit_signature: String,
    /// Longest time a key may go without a new version, in days.
    #[serde(default)]
    pub max_rotation_days: Option<u64>,
    /// Minimum days audit records are kept.
    pub audit_retention_days: u64,
    /// Three-role separation and the bootstrap token.
    pub role_separation: bool,
    /// Dual control.
    pub dual_control: DualControl,
    /// Location tag patterns (`cn-*`), or `["*"]`.
    pub allowed_locations: Vec<String>,
    /// Distinct data centres storage must span.
    pub min_data_centres: u32,
    /// Whether the API must be served over TLS.
    pub tls_required: bool,
    /// Whether the `--dev` in-memory seal may be used.
    pub dev_seal_allowed: bool,
}

/// A profile that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// No shipped profile has that name.
    #[error(
        "unknown profile {0:?}; shipped profiles are default, gb39786-l2, gb39786-l3, gb39786-l4"
    )]
    Unknown(String),
    /// The TOML is malformed or its values are inconsistent.
    #[error("invalid profile: {0}")]
    Invalid(String),
}

/// An operation the profile forbids (a 4xx naming the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile {profile} rule {rule}: {message}")]
pub struct ProfileViolation {
    /// Profile name.
    pub profile: String,
    /// The rule (the profile's TOML field).
    pub rule: &'static str,
    /// What was refused.
    pub message: String,
}

fn allows(list: &[String], name: &str) -> bool {
    list.iter().any(|a| a == "*" || a == name)
}

/// `cn-*` style pattern match (one trailing `*` at most).
fn location_matches(pattern: &str, location: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => location.starts_with(prefix),
        None => pattern == location,
    }
}

impl Profile {
    /// A shipped profile.
    pub fn builtin(name: &str) -> Result<Self, ProfileError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ProfileError::Unknown(name.to_string()))?;
        Self::from_toml(text)
    }

    /// Names of the shipped profiles.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// Parses and validates a profile (an operator's own file).
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let profile: Profile =
            toml::from_str(text).map_err(|e| ProfileError::Invalid(e.message().to_string()))?;
        profile.validate()?;
        Ok(profile)
    }

    /// The profile as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let bad = |m: String| Err(ProfileError::Invalid(m));
        for t in &self.allowed_key_types {
            if t != "*" && KeyType::from_name(t).is_none() {
                return bad(format!("allowed_key_types: unknown key type {t:?}"));
            }
        }
        let Some(default) = KeyType::from_name(&self.default_key_type) else {
            return bad(format!(
                "default_key_type: unknown key type {:?}",
                self.default_key_type
            ));
        };
        if self.check_key_type(default).is_err() {
            return bad("default_key_type must be one of allowed_key_types".into());
        }
        if BarrierAlgorithm::from_name(&self.barrier).is_none() {
            return bad(format!("barrier: unknown algorithm {:?}", self.barrier));
        }
        if ChainAlgorithm::from_name(&self.audit_hash).is_err() {
            return bad(format!(
                "audit_hash: unknown algorithm {:?}",
                self.audit_hash
            ));
        }
        if SignatureAlgorithm::from_name(&self.audit_signature).is_err() {
            return bad(format!(
                "audit_signature: unknown algorithm {:?}",
                self.audit_signature
            ));
        }
        for op in &self.dual_control.operations {
            if DualOp::from_name(op).is_none() {
                return bad(format!("dual_control.operations: unknown operation {op:?}"));
            }
        }
        if !self.dual_control.operations.is_empty() && self.dual_control.approvals == 0 {
            return bad(
                "dual_control.approvals must be at least 1 when operations are listed".into(),
            );
        }
        if self.min_data_centres == 0 {
            return bad("min_data_centres must be at least 1".into());
        }
        Ok(())
    }

    fn violation(&self, rule: &'static str, message: String) -> ProfileViolation {
        ProfileViolation {
            profile: self.name.clone(),
            rule,
            message,
        }
    }

    /// Refuses key types the profile does not allow.
    pub fn check_key_type(&self, key_type: KeyType) -> Result<(), ProfileViolation> {
        if allows(&self.allowed_key_types, key_type.name()) {
            return Ok(());
        }
        Err(self.violation(
            "allowed_key_types",
            format!(
                "key type {} is not allowed (allowed: {})",
                key_type.name(),
                self.allowed_key_types.join(", ")
            ),
        ))
    }

    /// Refuses hash algorithms the profile does not allow.
    pub fn check_hash_algorithm(&self, name: &str) -> Result<(), ProfileViolation> {
        if allows(&self.allowed_hash_algorithms, name) {
            return Ok(());
        }
        Err(self.violation(
            "allowed_hash_algorithms",
            format!(
                "hash algorithm {name} is not allowed (allowed: {})",
                self.allowed_hash_algorithms.join(", ")
            ),
        ))
    }

    /// Refuses a principal holding two admin roles under role separation.
    pub fn check_roles(&self, roles: &[Role]) -> Result<(), ProfileViolation> {
        let admins = roles
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin | Role::Root
                )
            })
            .count();
        if self.role_separation && (admins > 1 || roles.contains(&Role::Root)) {
            return Err(self.violation(
                "role_separation",
                "a principal may hold at most one of sys-admin, sec-admin and audit-admin, and never root".into(),
            ));
        }
        Ok(())
    }

    /// Refuses a location outside the allowed ones.
    pub fn check_location(&self, what: &str, location: &str) -> Result<(), ProfileViolation> {
        if self
            .allowed_locations
            .iter()
            .any(|p| p == "*" || location_matches(p, location))
        {
            return Ok(());
        }
        Err(self.violation(
            "allowed_locations",
            format!(
                "{what} location {location:?} is outside the allowed locations ({})",
                self.allowed_locations.join(", ")
            ),
        ))
    }

    /// Refuses fewer distinct data centres than required.
    pub fn check_data_centres(&self, locations: &[&str]) -> Result<(), ProfileViolation> {
        let mut distinct: Vec<&str> = locations.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() as u32 >= self.min_data_centres {
            return Ok(());
        }
        Err(self.violation(
            "min_data_centres",
            format!(
                "storage spans {} data centre(s) ({}); at least {} required",
                distinct.len(),
                distinct.join(", "),
                self.min_data_centres
            ),
        ))
    }

    /// Refuses plain HTTP when TLS is required.
    pub fn check_tls(&self, tls_enabled: bool) -> Result<(), ProfileViolation> {
        if tls_enabled || !self.tls_required {
            return Ok(());
        }
        Err(self.violation("tls_required", "the API must be served over TLS".into()))
    }

    /// Refuses the in-memory dev seal.
    pub fn check_dev_seal(&self) -> Result<(), ProfileViolation> {
        if self.dev_seal_allowed {
            return Ok(());
        }
        Err(self.violation(
            "dev_seal_allowed",
            "the --dev in-memory seal is not allowed; initialise with Shamir shares or an HSM"
                .into(),
        ))
    }

    /// Refuses an auto-rotation period beyond the maximum (0 = never).
    pub fn check_rotation_period(&self, seconds: u64) -> Result<(), ProfileViolation> {
        match self.max_rotation_days {
            Some(days) if seconds > days * 86_400 => Err(self.violation(
                "max_rotation_days",
                format!("auto_rotate_period must be at most {days} days"),
            )),
            _ => Ok(()),
        }
    }

    /// Approvals `op` needs; `None` when it is not under dual control.
    pub fn approvals_required(&self, op: DualOp) -> Option<u32> {
        self.dual_control
            .operations
            .iter()
            .any(|o| o == op.name())
            .then_some(self.dual_control.approvals)
    }

    /// The barrier algorithm of a deployment initialised under the profile.
    pub fn barrier_algorithm(&self) -> BarrierAlgorithm {
        BarrierAlgorithm::from_name(&self.barrier).unwrap_or(BarrierAlgorithm::Aes256Gcm)
    }

    /// The type of keys created without one.
    pub fn default_type(&self) -> KeyType {
        KeyType::from_name(&self.default_key_type).unwrap_or(KeyType::Aes256Gcm96)
    }

    /// Audit chain hash.
    pub fn audit_chain(&self) -> ChainAlgorithm {
        ChainAlgorithm::from_name(&self.audit_hash).unwrap_or(ChainAlgorithm::Sha256)
    }

    /// Audit checkpoint signature.
    pub fn audit_signature_algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::from_name(&self.audit_signature)
            .unwrap_or(SignatureAlgorithm::EcdsaP256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_load_and_round_trip() {
        for name in Profile::builtin_names() {
            let p = Profile::builtin(name).unwrap();
            assert_eq!(p.name, name);
            assert_eq!(Profile::from_toml(&p.to_toml()).unwrap(), p);
        }
        assert!(matches!(
            Profile::builtin("l9"),
            Err(ProfileError::Unknown(_))
        ));
    }

    #[test]
    fn level_3_allows_only_sm_key_types_and_names_the_rule() {
        let l3 = Profile::builtin("gb39786-l3").unwrap();
        for t in [KeyType::Sm4Gcm96, KeyType::Sm2, KeyType::Hmac] {
            assert!(l3.check_key_type(t).is_ok(), "{t}");
        }
        for t in [KeyType::Aes256Gcm96, KeyType::Rsa2048, KeyType::EcdsaP256] {
            let e = l3.check_key_type(t).unwrap_err().to_string();
            assert!(
                e.contains("gb39786-l3") && e.contains("allowed_key_types"),
                "{e}"
            );
        }
        assert!(l3.check_hash_algorithm("sm3").is_ok());
        assert!(l3.check_hash_algorithm("sha2-256").is_err());
        assert_eq!(l3.default_type(), KeyType::Sm4Gcm96);
        assert_eq!(l3.barrier_algorithm(), BarrierAlgorithm::Sm4Gcm);
        assert_eq!(l3.approvals_required(DualOp::DestroyKey), Some(1));
        assert!(l3.check_dev_seal().is_err());
        assert!(l3.check_tls(false).is_err());
        let default = Profile::builtin("default").unwrap();
        assert!(default.check_key_type(KeyType::Rsa4096).is_ok());
        assert_eq!(default.approvals_required(DualOp::DestroyKey), None);
    }

    #[test]
    fn role_separation_and_locations() {
        let l3 = Profile::builtin("gb39786-l3").unwrap();
        assert!(l3.check_roles(&[Role::SecAdmin]).is_ok());
        assert!(l3.check_roles(&[Role::SecAdmin, Role::AuditAdmin]).is_err());
        assert!(l3.check_roles(&[Role::Root]).is_err());
        assert!(
            Profile::builtin("default")
                .unwrap()
                .check_roles(&[Role::Root])
                .is_ok()
        );
        assert!(l3.check_location("storage", "cn-shanghai-a").is_ok());
        let e = l3.check_location("backup target", "us-east-1").unwrap_err();
        assert_eq!(e.rule, "allowed_locations");
        assert!(l3.check_data_centres(&["cn-sh-a", "cn-sh-a"]).is_err());
        assert!(l3.check_data_centres(&["cn-sh-a", "cn-bj-b"]).is_ok());
        assert!(l3.check_rotation_period(400 * 86_400).is_err());
        assert!(l3.check_rotation_period(30 * 86_400).is_ok());
    }

    #[test]
    fn malformed_overrides_are_refused_clearly() {
        let base = Profile::builtin("gb39786-l3").unwrap().to_toml();
        let cases = [
            (format!("{base}\nsurprise = 1\n"), "surprise"),
            (base.replace("\"sm2\", ", "\"sm9\", "), "sm9"),
            (
                base.replace(
                    "default_key_type = \"sm4-gcm96\"",
                    "default_key_type = \"aes256-gcm96\"",
                ),
                "default_key_type",
            ),
            (
                base.replace("barrier = \"sm4-gcm\"", "barrier = \"rot13\""),
                "barrier",
            ),
        ];
        for (text, needle) in cases {
            let e = Profile::from_toml(&text).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
