//! The rules of `yaoshi compliance check` (DESIGN §8) as pure functions of
//! what was observed in a deployment ([`Evidence`]): no I/O and no clock,
//! so each rule is tested on made-up deployments here, and
//! [`Kms::compliance_check`](crate::Kms::compliance_check) only gathers the
//! evidence from the live one.
//!
//! [`evaluate`] returns one [`Finding`] per rule, always all of them, in the
//! order of [`ids::ALL`]. Evidence strings name keys, principals, locations
//! and algorithms, never secrets. The rules and what makes each pass, warn
//! or fail are listed in `docs/compliance.md`.
//!
//! | module | rules |
//! |---|---|
//! | `keys` | key types, barrier, seal, key rotation |
//! | `audit` | audit algorithms, integrity, retention |
//! | `access` | role separation, dual-control quorum |
//! | `residency` | data centres, locations, jurisdiction, TLS |
//!
//! This module holds the evidence types, [`evaluate`] and the wording
//! helpers the rules share.

mod access;
mod audit;
mod keys;
mod residency;

use super::report::{KeyInventoryItem, RotationStatus, format_utc};
use super::{Finding, FindingStatus};
use crate::audit::VerifyReport;
use crate::auth::Principal;
use crate::barrier::BarrierAlgorithm;
use crate::profile::Profile;
use crate::residency::Residency;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// A key is "due soon" within this many days of the profile's maximum
/// rotation period.
pub const DUE_SOON_DAYS: u64 = 30;

/// At most this many names are listed in one piece of evidence.
const LISTED: usize = 10;

/// The finding identifiers, in report order.
pub mod ids {
    /// Every key's type is allowed by the profile.
    pub const KEY_TYPES: &str = "algorithms.key-types";
    /// The barrier algorithm is the profile's.
    pub const BARRIER: &str = "algorithms.barrier";
    /// The root key's seal (dev seal only where allowed).
    pub const SEAL: &str = "seal.type";
    /// The audit chain hash and checkpoint signature are the profile's.
    pub const AUDIT_ALGORITHMS: &str = "audit.algorithms";
    /// Every key's latest version is younger than the maximum rotation period.
    pub const ROTATION: &str = "rotation.max-age";
    /// The stored audit log verifies (chain, Merkle roots, signatures).
    pub const AUDIT_CHAIN: &str = "audit.chain";
    /// Nothing within the retention period has been pruned.
    pub const AUDIT_RETENTION: &str = "audit.retention";
    /// Three-role separation and the bootstrap token.
    pub const ROLES: &str = "roles.separation";
    /// Enough eligible approvers for every dual-control operation.
    pub const DUAL_CONTROL: &str = "dual-control.quorum";
    /// Storage spans enough distinct data centres.
    pub const DATA_CENTRES: &str = "residency.data-centres";
    /// Storage, audit sinks and backup targets are in allowed locations.
    pub const LOCATIONS: &str = "residency.locations";
    /// The declared jurisdiction is the profile's.
    pub const JURISDICTION: &str = "residency.jurisdiction";
    /// The API is served over TLS where the profile requires it.
    pub const TLS: &str = "tls.required";

    /// Every finding id, in the order [`evaluate`](super::evaluate) returns them.
    pub const ALL: [&str; 13] = [
        KEY_TYPES,
        BARRIER,
        SEAL,
        AUDIT_ALGORITHMS,
        ROTATION,
        AUDIT_CHAIN,
        AUDIT_RETENTION,
        ROLES,
        DUAL_CONTROL,
        DATA_CENTRES,
        LOCATIONS,
        JURISDICTION,
        TLS,
    ];
}

/// How the root key is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealFacts {
    /// `shamir`, `dev`, or the device kind (e.g. `pkcs11`).
    pub seal_type: String,
    /// Shamir shares issued.
    pub shares: u8,
    /// Shamir shares needed.
    pub threshold: u8,
}

/// What the audit log looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFacts {
    /// Chain hash of the deployment (`sm3`, `sha256`).
    pub hash_algorithm: String,
    /// Checkpoint signature of the deployment (`sm2`, `ecdsa-p256-sha256`).
    pub signature_algorithm: String,
    /// The stored log's verification: what it covered, or the failure
    /// (naming the first bad sequence number when there is one).
    pub verification: Result<VerifyReport, String>,
    /// Tree size of the latest signed checkpoint.
    pub checkpoint_size: Option<u64>,
    /// Last sequence number ever assigned (0 for an empty log).
    pub last_seq: i64,
    /// Smallest stored sequence number (`None` when nothing is stored).
    pub first_stored: Option<i64>,
    /// Time (unix seconds) of the oldest stored record.
    pub oldest_time: Option<i64>,
    /// When records were pruned: the time of the first checkpoint that
    /// covers the last pruned record, an upper bound of when it was written.
    pub last_pruned_signed_at: Option<i64>,
}

/// Everything the rules look at.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The profile in force.
    pub profile: Profile,
    /// Evaluation time (unix seconds).
    pub now: i64,
    /// Every key of every mount, with its rotation status.
    pub keys: Vec<KeyInventoryItem>,
    /// The deployment's barrier algorithm (fixed at init).
    pub barrier: BarrierAlgorithm,
    /// The seal.
    pub seal: SealFacts,
    /// The audit log.
    pub audit: AuditFacts,
    /// Every principal.
    pub principals: Vec<Principal>,
    /// Declared residency.
    pub residency: Residency,
    /// Whether the API listener serves TLS.
    pub tls_enabled: bool,
}

/// Evaluates every rule, in the order of [`ids::ALL`].
pub fn evaluate(e: &Evidence) -> Vec<Finding> {
    vec![
        keys::key_types(e),
        keys::barrier(e),
        keys::seal(e),
        audit::audit_algorithms(e),
        keys::rotation(e),
        audit::audit_chain(e),
        audit::audit_retention(e),
        access::roles(e),
        access::dual_control(e),
        residency::data_centres(e),
        residency::locations(e),
        residency::jurisdiction(e),
        residency::tls(e),
    ]
}

/// The rotation status of a key whose latest version was created at
/// `latest_created_at`: one of [`RotationStatus`]'s names.
pub fn rotation_status(latest_created_at: i64, now: i64, max_days: Option<u64>) -> &'static str {
    let Some(max) = max_days else {
        return RotationStatus::NOT_REQUIRED;
    };
    let age = now.saturating_sub(latest_created_at);
    let max_secs = signed(max).saturating_mul(DAY);
    let soon_secs = signed(max.saturating_sub(DUE_SOON_DAYS)).saturating_mul(DAY);
    if age > max_secs {
        RotationStatus::OVERDUE
    } else if age > soon_secs {
        RotationStatus::DUE_SOON
    } else {
        RotationStatus::OK
    }
}

/// A count of days from a profile, as a signed number (saturating).
fn signed(days: u64) -> i64 {
    i64::try_from(days).unwrap_or(i64::MAX)
}

fn finding(id: &str, title: &str, status: FindingStatus, evidence: String) -> Finding {
    Finding {
        id: id.to_string(),
        title: title.to_string(),
        status,
        evidence,
    }
}

fn pass_or_fail(ok: bool) -> FindingStatus {
    if ok {
        FindingStatus::Pass
    } else {
        FindingStatus::Fail
    }
}

/// `a, b, c` with at most [`LISTED`] items, then `and N more`.
fn listing<S: AsRef<str>>(items: &[S]) -> String {
    let mut out: Vec<&str> = items.iter().take(LISTED).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(LISTED);
    let tail = format!("and {more} more");
    if more > 0 {
        out.push(&tail);
    }
    out.join(", ")
}

/// `N thing` or `N things`.
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

fn date(unix: i64) -> String {
    format_utc(unix).chars().take(10).collect()
}

fn days_between(earlier: i64, later: i64) -> i64 {
    later.saturating_sub(earlier).max(0) / DAY
}

fn allowed_list(list: &[String], any: &str) -> String {
    if list.iter().any(|a| a == "*") {
        any.to_string()
    } else {
        list.join(", ")
    }
}

fn key_ref(k: &KeyInventoryItem) -> String {
    format!("{}/{}", k.mount, k.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::residency::BackupTarget;

    const NOW: i64 = 1_800_000_000;

    fn key(name: &str, key_type: &str, age_days: i64) -> KeyInventoryItem {
        KeyInventoryItem {
            mount: "transit".into(),
            name: name.into(),
            key_type: key_type.into(),
            state: "active".into(),
            versions: 1,
            latest_version: 1,
            created_at: NOW - age_days * DAY,
            latest_version_created_at: NOW - age_days * DAY,
            rotation_period_days: None,
            max_rotation_days: None,
            rotation_status: String::new(),
        }
    }

    fn principal(name: &str, roles: &[Role]) -> Principal {
        Principal {
            name: name.into(),
            roles: roles.to_vec(),
            grants: vec![],
            created_at: 0,
            created_by: "test".into(),
        }
    }

    fn report(records: u64) -> VerifyReport {
        VerifyReport {
            first_seq: (records > 0).then_some(1),
            last_seq: (records > 0).then_some(records),
            records,
            checkpoints: 2,
            head_hash: String::new(),
            root_hash: String::new(),
            extends_checkpoint: None,
        }
    }

    /// A clean level-3 deployment: every rule passes.
    fn l3() -> Evidence {
        Evidence {
            profile: Profile::builtin("gb39786-l3").unwrap(),
            now: NOW,
            keys: vec![key("orders", "sm4-gcm96", 10), key("seal", "sm2", 40)],
            barrier: BarrierAlgorithm::Sm4Gcm,
            seal: SealFacts {
                seal_type: "shamir".into(),
                shares: 5,
                threshold: 3,
            },
            audit: AuditFacts {
                hash_algorithm: "sm3".into(),
                signature_algorithm: "sm2".into(),
                verification: Ok(report(50)),
                checkpoint_size: Some(50),
                last_seq: 50,
                first_stored: Some(1),
                oldest_time: Some(NOW - 40 * DAY),
                last_pruned_signed_at: None,
            },
            principals: vec![
                principal("ops", &[Role::SysAdmin]),
                principal("sec1", &[Role::SecAdmin]),
                principal("sec2", &[Role::SecAdmin]),
                principal("aud", &[Role::AuditAdmin]),
                principal("aud2", &[Role::AuditAdmin]),
                principal("app", &[Role::App]),
            ],
            residency: Residency {
                jurisdiction: Some("CN".into()),
                storage_locations: vec!["cn-shanghai-a".into(), "cn-beijing-b".into()],
                audit_sink_locations: vec![],
                backup_targets: vec![BackupTarget {
                    name: "nas".into(),
                    location: "cn-shanghai-a".into(),
                    path: None,
                }],
            },
            tls_enabled: true,
        }
    }

    fn get<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
        findings.iter().find(|f| f.id == id).unwrap()
    }

    fn assert_status(e: &Evidence, id: &str, status: FindingStatus, needles: &[&str]) {
        let findings = evaluate(e);
        let f = get(&findings, id);
        assert_eq!(f.status, status, "{id}: {}", f.evidence);
        for n in needles {
            assert!(
                f.evidence.contains(n),
                "{id}: {n:?} not in {:?}",
                f.evidence
            );
        }
    }

    #[test]
    fn every_rule_in_a_stable_order_and_a_clean_l3_passes() {
        let findings = evaluate(&l3());
        let got: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(got, ids::ALL);
        for f in &findings {
            assert_eq!(f.status, FindingStatus::Pass, "{}: {}", f.id, f.evidence);
            assert!(!f.title.is_empty() && !f.evidence.is_empty());
        }
    }

    #[test]
    fn key_types_name_the_offenders() {
        let mut e = l3();
        e.keys.push(key("legacy", "aes256-gcm96", 1));
        assert_status(
            &e,
            ids::KEY_TYPES,
            FindingStatus::Fail,
            &[
                "1 of 3 keys",
                "transit/legacy (aes256-gcm96)",
                "sm4-gcm96, sm2, hmac",
            ],
        );
        let mut d = l3();
        d.profile = Profile::builtin("default").unwrap();
        d.keys.push(key("legacy", "aes256-gcm96", 1));
        assert_status(
            &d,
            ids::KEY_TYPES,
            FindingStatus::Pass,
            &[
                "3 keys",
                "aes256-gcm96 ×1",
                "sm4-gcm96 ×1",
                "every key type",
            ],
        );
        d.keys.clear();
        assert_status(&d, ids::KEY_TYPES, FindingStatus::Pass, &["no keys"]);
    }

    #[test]
    fn algorithms_follow_the_profile() {
        let mut e = l3();
        e.barrier = BarrierAlgorithm::Aes256Gcm;
        e.audit.hash_algorithm = "sha256".into();
        assert_status(
            &e,
            ids::BARRIER,
            FindingStatus::Fail,
            &["aes256-gcm", "requires sm4-gcm"],
        );
        assert_status(
            &e,
            ids::AUDIT_ALGORITHMS,
            FindingStatus::Fail,
            &["chain hash sha256 (profile requires sm3)"],
        );
        assert!(
            !get(&evaluate(&e), ids::AUDIT_ALGORITHMS)
                .evidence
                .contains("signature ecdsa")
        );
    }

    #[test]
    fn dev_seal_warns_where_allowed_and_fails_elsewhere() {
        let mut e = l3();
        e.seal.seal_type = "dev".into();
        assert_status(&e, ids::SEAL, FindingStatus::Fail, &["dev_seal_allowed"]);
        e.profile = Profile::builtin("default").unwrap();
        assert_status(&e, ids::SEAL, FindingStatus::Warn, &["lost at restart"]);
        e.seal.seal_type = "pkcs11".into();
        assert_status(
            &e,
            ids::SEAL,
            FindingStatus::Pass,
            &["device seal (pkcs11)"],
        );
    }

    #[test]
    fn rotation_overdue_fails_due_soon_warns() {
        assert_eq!(
            rotation_status(NOW, NOW, None),
            RotationStatus::NOT_REQUIRED
        );
        assert_eq!(
            rotation_status(NOW - 334 * DAY, NOW, Some(365)),
            RotationStatus::OK
        );
        assert_eq!(
            rotation_status(NOW - 336 * DAY, NOW, Some(365)),
            RotationStatus::DUE_SOON
        );
        assert_eq!(
            rotation_status(NOW - 365 * DAY, NOW, Some(365)),
            RotationStatus::DUE_SOON
        );
        assert_eq!(
            rotation_status(NOW - 365 * DAY - 1, NOW, Some(365)),
            RotationStatus::OVERDUE
        );
        // A maximum shorter than the warning window warns from the start.
        assert_eq!(
            rotation_status(NOW - DAY, NOW, Some(7)),
            RotationStatus::DUE_SOON
        );

        let mut e = l3();
        e.keys.push(key("soon", "sm4-gcm96", 350));
        assert_status(
            &e,
            ids::ROTATION,
            FindingStatus::Warn,
            &["transit/soon (350 days old, due in 15 days)"],
        );
        e.keys.push(key("old", "sm4-gcm96", 400));
        assert_status(
            &e,
            ids::ROTATION,
            FindingStatus::Fail,
            &["1 of 4 keys", "transit/old (400 days)", "also 1 key due"],
        );
        e.profile.max_rotation_days = None;
        assert_status(
            &e,
            ids::ROTATION,
            FindingStatus::Pass,
            &["not required", "400 days old (transit/old)"],
        );
    }

    #[test]
    fn audit_chain_names_the_first_bad_sequence() {
        let mut e = l3();
        assert_status(
            &e,
            ids::AUDIT_CHAIN,
            FindingStatus::Pass,
            &[
                "50 records (sequence 1 to 50)",
                "2 checkpoints",
                "covers 50 records",
            ],
        );
        e.audit.verification = Err("sequence 4: record hash does not match".into());
        assert_status(&e, ids::AUDIT_CHAIN, FindingStatus::Fail, &["sequence 4"]);
        e.audit.verification = Ok(report(0));
        assert_status(&e, ids::AUDIT_CHAIN, FindingStatus::Pass, &["empty"]);
    }

    #[test]
    fn retention_fails_only_when_recent_records_were_pruned() {
        let mut e = l3();
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Pass,
            &[
                "nothing pruned",
                "40 days ago",
                "younger than the 184-day retention",
            ],
        );
        // Pruned, and the pruned records were signed 200 days ago: fine.
        e.audit.first_stored = Some(20);
        e.audit.oldest_time = Some(NOW - 190 * DAY);
        e.audit.last_pruned_signed_at = Some(NOW - 200 * DAY);
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Pass,
            &[
                "records 1 to 19 have been pruned",
                "200 days ago",
                "beyond the 184-day",
            ],
        );
        // Without a checkpoint the oldest kept record bounds them.
        e.audit.last_pruned_signed_at = None;
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Pass,
            &["190 days ago"],
        );
        // A checkpoint signed 300 days ago covered the pruned records,
        // although the next kept record is recent: still fine.
        e.audit.oldest_time = Some(NOW - 10 * DAY);
        e.audit.last_pruned_signed_at = Some(NOW - 300 * DAY);
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Pass,
            &["300 days ago"],
        );
        // Pruned records that may be 10 days old: missing.
        e.audit.last_pruned_signed_at = Some(NOW - 5 * DAY);
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Fail,
            &[
                "records 1 to 19",
                "10 days ago",
                "within the 184-day retention",
                "missing",
            ],
        );
        // Everything pruned.
        e.audit.first_stored = None;
        e.audit.oldest_time = None;
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Fail,
            &["all 50 records"],
        );
        // No retention required.
        e.profile.audit_retention_days = 0;
        assert_status(
            &e,
            ids::AUDIT_RETENTION,
            FindingStatus::Pass,
            &["all 50 records"],
        );
        e.audit.last_seq = 0;
        assert_status(&e, ids::AUDIT_RETENTION, FindingStatus::Pass, &["empty"]);
    }

    #[test]
    fn role_separation_finds_doubled_and_missing_admins() {
        let mut e = l3();
        e.principals.push(principal("root", &[Role::Root]));
        e.principals
            .push(principal("both", &[Role::SysAdmin, Role::AuditAdmin]));
        assert_status(
            &e,
            ids::ROLES,
            FindingStatus::Fail,
            &["root holds root", "both holds sys-admin + audit-admin"],
        );
        let mut e = l3();
        e.principals.retain(|p| !p.has_role(Role::AuditAdmin));
        e.principals
            .push(principal("bootstrap", &[Role::Bootstrap]));
        assert_status(
            &e,
            ids::ROLES,
            FindingStatus::Fail,
            &[
                "no principal holds audit-admin",
                "bootstrap token still works",
            ],
        );
        // Not required: root is fine.
        let mut d = l3();
        d.profile = Profile::builtin("default").unwrap();
        d.principals = vec![principal("root", &[Role::Root])];
        assert_status(
            &d,
            ids::ROLES,
            FindingStatus::Pass,
            &["not required", "root: root"],
        );
    }

    #[test]
    fn dual_control_counts_eligible_approvers() {
        let e = l3();
        assert_status(
            &e,
            ids::DUAL_CONTROL,
            FindingStatus::Pass,
            &[
                "1 approval besides the requester",
                "destroy-key, export-key, backup-key, change-profile, grant-admin-role: 2 eligible (sec1, sec2)",
                "prune-audit: 2 eligible (aud, aud2)",
            ],
        );
        let mut e = l3();
        e.principals.retain(|p| p.name != "sec2");
        // Apps and auditors never count, whatever their grants.
        e.principals.push(principal("watcher", &[Role::Auditor]));
        assert_status(
            &e,
            ids::DUAL_CONTROL,
            FindingStatus::Fail,
            &[
                "1 eligible (sec1) — too few",
                "prune-audit: 2 eligible (aud, aud2)",
            ],
        );
        let mut d = l3();
        d.profile = Profile::builtin("default").unwrap();
        assert_status(
            &d,
            ids::DUAL_CONTROL,
            FindingStatus::Pass,
            &["not required"],
        );
    }

    #[test]
    fn residency_rules() {
        let mut e = l3();
        assert_status(
            &e,
            ids::DATA_CENTRES,
            FindingStatus::Pass,
            &["2 data centres (cn-beijing-b, cn-shanghai-a)"],
        );
        assert_status(
            &e,
            ids::LOCATIONS,
            FindingStatus::Pass,
            &["5 endpoints", "backup target nas at cn-shanghai-a"],
        );
        e.residency.storage_locations = vec!["cn-shanghai-a".into(), "cn-shanghai-a".into()];
        e.residency.backup_targets.push(BackupTarget {
            name: "s3".into(),
            location: "us-east-1".into(),
            path: None,
        });
        e.residency.jurisdiction = Some("US".into());
        assert_status(
            &e,
            ids::DATA_CENTRES,
            FindingStatus::Fail,
            &["1 declared data centre", "at least 2"],
        );
        assert_status(
            &e,
            ids::LOCATIONS,
            FindingStatus::Fail,
            &[
                "1 endpoint outside",
                "backup target s3 at us-east-1",
                "cn-*",
            ],
        );
        assert_status(
            &e,
            ids::JURISDICTION,
            FindingStatus::Fail,
            &["declares US", "requires CN"],
        );
        e.residency = Residency::default();
        assert_status(
            &e,
            ids::DATA_CENTRES,
            FindingStatus::Fail,
            &["none declared"],
        );
        assert_status(
            &e,
            ids::LOCATIONS,
            FindingStatus::Fail,
            &["no storage location declared"],
        );
        assert_status(
            &e,
            ids::JURISDICTION,
            FindingStatus::Fail,
            &["declares no jurisdiction"],
        );
        // The default profile asks for nothing.
        e.profile = Profile::builtin("default").unwrap();
        for id in [ids::DATA_CENTRES, ids::LOCATIONS, ids::JURISDICTION] {
            assert_status(&e, id, FindingStatus::Pass, &["profile default"]);
        }
    }

    #[test]
    fn tls_required_by_the_profile() {
        let mut e = l3();
        e.tls_enabled = false;
        assert_status(
            &e,
            ids::TLS,
            FindingStatus::Fail,
            &["plain HTTP", "tls_required"],
        );
        e.profile = Profile::builtin("default").unwrap();
        assert_status(
            &e,
            ids::TLS,
            FindingStatus::Pass,
            &["not required", "plain HTTP"],
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let items: Vec<String> = (0..13).map(|i| format!("k{i}")).collect();
        let text = listing(&items);
        assert!(text.ends_with("k9, and 3 more"), "{text}");
        assert_eq!(listing(&["a", "b"]), "a, b");
    }
}
