//! The built-in roles (DESIGN §7) and their names.

use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};

/// A built-in role. What each may do is decided by
/// [`Principal::authorize`](super::Principal::authorize).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything (the bootstrap principal; Vault's root token).
    Root,
    /// Nodes, mounts, seal and metrics.
    SysAdmin,
    /// Keys, key material, grants and principals.
    SecAdmin,
    /// Audit, and read access to principals and key metadata.
    AuditAdmin,
    /// Crypto operations on the keys its grants name.
    App,
    /// External oversight: read-only key metadata.
    Auditor,
    /// The first principal under a role-separation profile: may only create
    /// the first admins, one admin role each, and stops working once
    /// sys-admin, sec-admin and audit-admin all exist.
    Bootstrap,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 7] = [
        Self::Root,
        Self::SysAdmin,
        Self::SecAdmin,
        Self::AuditAdmin,
        Self::App,
        Self::Auditor,
        Self::Bootstrap,
    ];

    /// The three admin roles of three-role separation (三员分立).
    pub const ADMINS: [Role; 3] = [Self::SysAdmin, Self::SecAdmin, Self::AuditAdmin];

    /// The role's name in the API and in stored records.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::SysAdmin => "sys-admin",
            Self::SecAdmin => "sec-admin",
            Self::AuditAdmin => "audit-admin",
            Self::App => "app",
            Self::Auditor => "auditor",
            Self::Bootstrap => "bootstrap",
        }
    }

    /// Parses a role name; the error lists the valid names.
    pub fn from_name(name: &str) -> KmsResult<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|r| r.name()).collect();
                KmsError::invalid(format!(
                    "unknown role {name:?}; valid roles are {}",
                    valid.join(", ")
                ))
            })
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        let names = [
            "root",
            "sys-admin",
            "sec-admin",
            "audit-admin",
            "app",
            "auditor",
            "bootstrap",
        ];
        for (role, name) in Role::ALL.into_iter().zip(names) {
            assert_eq!(role.name(), name);
            assert_eq!(role.to_string(), name);
            assert_eq!(Role::from_name(name).unwrap(), role);
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<Role>(&format!("\"{name}\"")).unwrap(),
                role
            );
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_valid_list() {
        for bad in ["", "Root", "sysadmin", "sys_admin", "admin"] {
            let err = Role::from_name(bad).unwrap_err();
            assert!(matches!(err, KmsError::InvalidRequest(_)), "{bad:?}");
            assert!(
                err.to_string().ends_with(
                    "valid roles are root, sys-admin, sec-admin, audit-admin, app, auditor, bootstrap"
                ),
                "{err}"
            );
        }
        assert!(serde_json::from_str::<Role>("\"SysAdmin\"").is_err());
    }
}
