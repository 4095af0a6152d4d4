//! Principals, the actions they request, and the one authorisation table.

use super::grant::{Grant, KeyOp};
use super::role::Role;
use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};

/// Longest principal name.
pub const MAX_PRINCIPAL_NAME_LEN: usize = 128;

/// Something that authenticates with tokens and holds roles and grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Unique name: 1..=128 characters of `[A-Za-z0-9._-]`.
    pub name: String,
    /// Roles; what they allow is the union of each role's rights.
    pub roles: Vec<Role>,
    /// Key grants; meaningful with the `app` role only.
    pub grants: Vec<Grant>,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
    /// Name of the principal that created this one (`init` for `root`).
    pub created_by: String,
}

/// What a request wants to do, as far as authorisation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Create, configure, rotate, trim, delete, import or restore a key.
    ManageKey {
        /// Mount path.
        mount: &'a str,
        /// Key name.
        key: &'a str,
    },
    /// Take key material out: export, backup, or read the import wrapping key.
    KeyMaterial {
        /// Mount path.
        mount: &'a str,
        /// Key name.
        key: &'a str,
    },
    /// Use a key (or read its metadata, with [`KeyOp::Read`]).
    UseKey {
        /// Mount path.
        mount: &'a str,
        /// Key name.
        key: &'a str,
        /// The operation.
        op: KeyOp,
    },
    /// List a mount's keys.
    ListKeys {
        /// Mount path.
        mount: &'a str,
    },
    /// Random bytes.
    Random,
    /// Hashing.
    Hash,
    /// List mounts, or (with `write`) enable and disable them.
    Mounts {
        /// Whether the mount table changes.
        write: bool,
    },
    /// Seal the node.
    Seal,
    /// Read principals, or (with `write`) create and revoke them.
    Principals {
        /// Whether principals change.
        write: bool,
    },
    /// Read metrics.
    Metrics,
    /// Read the audit log, its proofs and checkpoints, and compliance
    /// findings and reports; or (with `write`) prune the audit log.
    Audit {
        /// Whether the log changes.
        write: bool,
    },
    /// See parked dual-control requests.
    Approvals,
    /// Take a backup of the whole deployment (sealed under the root key).
    Backup,
}

impl Principal {
    /// Allows `action` when any of the principal's roles allows it, else
    /// [`KmsError::PermissionDenied`].
    pub fn authorize(&self, action: &Action<'_>) -> KmsResult<()> {
        if self
            .roles
            .iter()
            .any(|&role| role_allows(role, &self.grants, action))
        {
            Ok(())
        } else {
            Err(KmsError::PermissionDenied)
        }
    }

    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The authorisation table: what one role allows (`grants` matter to `app`).
fn role_allows(role: Role, grants: &[Grant], action: &Action<'_>) -> bool {
    use Action as A;
    match role {
        Role::Root => true,
        Role::SysAdmin => matches!(
            action,
            A::Mounts { .. }
                | A::Approvals
                | A::Seal
                | A::Backup
                | A::Metrics
                | A::ListKeys { .. }
                | A::Principals { write: false }
        ),
        Role::SecAdmin => matches!(
            action,
            A::ManageKey { .. }
                | A::KeyMaterial { .. }
                | A::ListKeys { .. }
                | A::UseKey {
                    op: KeyOp::Read,
                    ..
                }
                | A::Principals { .. }
                | A::Approvals
                | A::Random
                | A::Hash
                | A::Metrics
        ),
        Role::AuditAdmin => matches!(
            action,
            A::Audit { .. }
                | A::Approvals
                | A::Principals { write: false }
                | A::ListKeys { .. }
                | A::UseKey {
                    op: KeyOp::Read,
                    ..
                }
                | A::Metrics
        ),
        Role::Auditor => matches!(
            action,
            A::Audit { write: false }
                | A::Approvals
                | A::ListKeys { .. }
                | A::UseKey {
                    op: KeyOp::Read,
                    ..
                }
        ),
        Role::Bootstrap => matches!(action, A::Principals { .. }),
        Role::App => match action {
            A::UseKey { key, op, .. } => grants.iter().any(|g| g.allows(key, *op)),
            A::ListKeys { .. } => grants.iter().any(|g| g.ops.contains(&KeyOp::Read)),
            A::Random | A::Hash => true,
            _ => false,
        },
    }
}

/// Checks a principal name: 1..=128 characters of `[A-Za-z0-9._-]`.
pub fn validate_principal_name(name: &str) -> KmsResult<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_PRINCIPAL_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(KmsError::invalid(format!(
            "principal names are 1 to {MAX_PRINCIPAL_NAME_LEN} characters of A-Z, a-z, 0-9, '.', '_' and '-'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], grants: &[&str]) -> Principal {
        Principal {
            name: "p".into(),
            roles: roles.to_vec(),
            grants: grants.iter().map(|g| Grant::parse(g).unwrap()).collect(),
            created_at: 0,
            created_by: "test".into(),
        }
    }

    /// One representative of every action kind (every key op for `UseKey`,
    /// both values of every `write`), with a short label.
    fn actions() -> Vec<(String, Action<'static>)> {
        let mut out = vec![
            (
                "manage".to_string(),
                Action::ManageKey {
                    mount: "transit/",
                    key: "app-x",
                },
            ),
            (
                "material".into(),
                Action::KeyMaterial {
                    mount: "transit/",
                    key: "app-x",
                },
            ),
            ("list".into(), Action::ListKeys { mount: "transit/" }),
            ("random".into(), Action::Random),
            ("hash".into(), Action::Hash),
            ("mounts-r".into(), Action::Mounts { write: false }),
            ("mounts-w".into(), Action::Mounts { write: true }),
            ("seal".into(), Action::Seal),
            ("principals-r".into(), Action::Principals { write: false }),
            ("principals-w".into(), Action::Principals { write: true }),
            ("metrics".into(), Action::Metrics),
            ("audit-r".into(), Action::Audit { write: false }),
            ("audit-w".into(), Action::Audit { write: true }),
            ("approvals".into(), Action::Approvals),
            ("backup".into(), Action::Backup),
        ];
        for op in KeyOp::ALL {
            out.push((
                format!("use-{op}"),
                Action::UseKey {
                    mount: "transit/",
                    key: "app-x",
                    op,
                },
            ));
        }
        out
    }

    fn allowed(p: &Principal) -> Vec<String> {
        let mut names: Vec<String> = actions()
            .into_iter()
            .filter(|(_, a)| match p.authorize(a) {
                Ok(()) => true,
                Err(KmsError::PermissionDenied) => false,
                Err(e) => panic!("unexpected error {e}"),
            })
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_whole_table() {
        let every: Vec<String> = actions().into_iter().map(|(n, _)| n).collect();
        let uses: Vec<String> = KeyOp::ALL.iter().map(|o| format!("use-{o}")).collect();
        let expected: [(Role, Vec<String>); 7] = [
            (Role::Root, {
                let mut v = every.clone();
                v.sort();
                v
            }),
            (
                Role::SysAdmin,
                sorted(&[
                    "mounts-r",
                    "mounts-w",
                    "seal",
                    "backup",
                    "metrics",
                    "list",
                    "principals-r",
                    "approvals",
                ]),
            ),
            (
                Role::SecAdmin,
                sorted(&[
                    "manage",
                    "material",
                    "list",
                    "use-read",
                    "principals-r",
                    "principals-w",
                    "random",
                    "hash",
                    "metrics",
                    "approvals",
                ]),
            ),
            (
                Role::AuditAdmin,
                sorted(&[
                    "principals-r",
                    "list",
                    "use-read",
                    "metrics",
                    "audit-r",
                    "audit-w",
                    "approvals",
                ]),
            ),
            (
                Role::Auditor,
                sorted(&["list", "use-read", "audit-r", "approvals"]),
            ),
            // An app without grants: only random and hash.
            (Role::App, sorted(&["random", "hash"])),
            (Role::Bootstrap, sorted(&["principals-r", "principals-w"])),
        ];
        for (role, want) in &expected {
            assert_eq!(&allowed(&principal(&[*role], &[])), want, "{role}");
        }
        // With a grant on every operation of every key, an app may use any
        // key and list keys, but still nothing administrative.
        let mut app_all: Vec<String> = uses.clone();
        app_all.extend(["random".into(), "hash".into(), "list".into()]);
        app_all.sort();
        assert_eq!(allowed(&principal(&[Role::App], &["*:*"])), app_all);
        // No principal without roles may do anything, grants or not.
        assert!(allowed(&principal(&[], &["*:*"])).is_empty());
        // Roles combine as a union.
        let mut union = expected[1].1.clone();
        union.extend(expected[4].1.iter().cloned());
        union.sort();
        union.dedup();
        assert_eq!(
            allowed(&principal(&[Role::SysAdmin, Role::Auditor], &[])),
            union
        );
    }

    #[test]
    fn app_grants_decide_key_use_and_listing() {
        let app = principal(&[Role::App], &["app-*:encrypt", "shared:decrypt,hmac"]);
        let use_key = |key, op| Action::UseKey {
            mount: "transit/",
            key,
            op,
        };
        assert!(app.authorize(&use_key("app-x", KeyOp::Encrypt)).is_ok());
        assert!(app.authorize(&use_key("app-x", KeyOp::Decrypt)).is_err());
        assert!(app.authorize(&use_key("other-x", KeyOp::Encrypt)).is_err());
        assert!(app.authorize(&use_key("shared", KeyOp::Hmac)).is_ok());
        assert!(app.authorize(&use_key("shared", KeyOp::Encrypt)).is_err());
        assert!(app.authorize(&use_key("app-x", KeyOp::Read)).is_err());
        assert!(
            app.authorize(&Action::ListKeys { mount: "transit/" })
                .is_err(),
            "no grant has read"
        );
        let reader = principal(&[Role::App], &["nothing-matches:read"]);
        assert!(
            reader
                .authorize(&Action::ListKeys { mount: "transit/" })
                .is_ok()
        );
        // Grants are ignored without the app role.
        let auditor = principal(&[Role::Auditor], &["*:*"]);
        assert!(auditor.authorize(&use_key("k", KeyOp::Encrypt)).is_err());
    }

    #[test]
    fn principal_names() {
        for good in ["a", "app-1", "svc.payments_v2", &"x".repeat(128)] {
            assert!(validate_principal_name(good).is_ok(), "{good}");
        }
        for bad in ["", &"x".repeat(129), "a b", "a/b", "a:b", "ключ", "a\n"] {
            assert!(
                matches!(
                    validate_principal_name(bad),
                    Err(KmsError::InvalidRequest(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_shape() {
        let p = principal(&[Role::App, Role::Auditor], &["app-*:encrypt,decrypt"]);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "p",
                "roles": ["app", "auditor"],
                "grants": ["app-*:encrypt,decrypt"],
                "created_at": 0,
                "created_by": "test",
            })
        );
        assert_eq!(serde_json::from_value::<Principal>(json).unwrap(), p);
    }
}
