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

use std::collections::BTreeMap;

use super::report::{KeyInventoryItem, RotationStatus, format_utc};
use super::{Finding, FindingStatus};
use crate::audit::VerifyReport;
use crate::auth::{Action, Principal, Role};
use crate::barrier::BarrierAlgorithm;
use crate::key::KeyType;
use crate::profile::{DualOp, Profile};
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
        key_types(e),
        barrier(e),
        seal(e),
        audit_algorithms(e),
        rotation(e),
        audit_chain(e),
        audit_retention(e),
        roles(e),
        dual_control(e),
        data_centres(e),
        locations(e),
        jurisdiction(e),
        tls(e),
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

fn key_types(e: &Evidence) -> Finding {
    const TITLE: &str = "Key types allowed by the profile";
    let p = &e.profile;
    if e.keys.is_empty() {
        return finding(
            ids::KEY_TYPES,
            TITLE,
            FindingStatus::Pass,
            "no keys in any mount".into(),
        );
    }
    let allowed = |k: &KeyInventoryItem| {
        KeyType::from_name(&k.key_type).is_some_and(|t| p.check_key_type(t).is_ok())
    };
    let offenders: Vec<String> = e
        .keys
        .iter()
        .filter(|k| !allowed(k))
        .map(|k| format!("{} ({})", key_ref(k), k.key_type))
        .collect();
    let rule = format!(
        "profile {} allows {}",
        p.name,
        allowed_list(&p.allowed_key_types, "every key type")
    );
    if offenders.is_empty() {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &e.keys {
            *by_type.entry(&k.key_type).or_default() += 1;
        }
        let types: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} ×{n}")).collect();
        finding(
            ids::KEY_TYPES,
            TITLE,
            FindingStatus::Pass,
            format!(
                "{}: {}; {rule}",
                count(e.keys.len(), "key"),
                types.join(", ")
            ),
        )
    } else {
        finding(
            ids::KEY_TYPES,
            TITLE,
            FindingStatus::Fail,
            format!(
                "{} of {} have a type the profile does not allow: {} ({rule})",
                offenders.len(),
                count(e.keys.len(), "key"),
                listing(&offenders)
            ),
        )
    }
}

fn barrier(e: &Evidence) -> Finding {
    const TITLE: &str = "Barrier algorithm (key material at rest)";
    let (have, want) = (e.barrier.name(), e.profile.barrier.as_str());
    let evidence = if have == want {
        format!(
            "key material and namespace keys are sealed with {have}, as profile {} requires",
            e.profile.name
        )
    } else {
        format!(
            "key material is sealed with {have} (fixed when the deployment was initialised); \
             profile {} requires {want}: initialise a deployment under the profile and move the keys",
            e.profile.name
        )
    };
    finding(ids::BARRIER, TITLE, pass_or_fail(have == want), evidence)
}

fn seal(e: &Evidence) -> Finding {
    const TITLE: &str = "Root key protection (seal)";
    let s = &e.seal;
    match s.seal_type.as_str() {
        "dev" if e.profile.dev_seal_allowed => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Warn,
            format!(
                "dev seal: the root key exists only in this process's memory and is lost at \
                 restart; profile {} allows it, but never for real keys",
                e.profile.name
            ),
        ),
        "dev" => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Fail,
            format!(
                "dev seal: the root key exists only in memory; profile {} forbids it \
                 (dev_seal_allowed = false)",
                e.profile.name
            ),
        ),
        "shamir" => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Pass,
            format!(
                "Shamir seal: {} of {} unseal key shares recover the root key",
                s.threshold, s.shares
            ),
        ),
        device => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Pass,
            format!("device seal ({device}): the root key is stored only wrapped by the device"),
        ),
    }
}

fn audit_algorithms(e: &Evidence) -> Finding {
    const TITLE: &str = "Audit chain hash and checkpoint signature";
    let (a, p) = (&e.audit, &e.profile);
    let mut wrong = Vec::new();
    if a.hash_algorithm != p.audit_hash {
        wrong.push(format!(
            "chain hash {} (profile requires {})",
            a.hash_algorithm, p.audit_hash
        ));
    }
    if a.signature_algorithm != p.audit_signature {
        wrong.push(format!(
            "checkpoint signature {} (profile requires {})",
            a.signature_algorithm, p.audit_signature
        ));
    }
    let evidence = if wrong.is_empty() {
        format!(
            "records chained and Merkle-hashed with {}, checkpoints signed with {}, as profile {} requires",
            a.hash_algorithm, a.signature_algorithm, p.name
        )
    } else {
        format!(
            "{} (fixed when the deployment was initialised; profile {})",
            wrong.join("; "),
            p.name
        )
    };
    finding(
        ids::AUDIT_ALGORITHMS,
        TITLE,
        pass_or_fail(wrong.is_empty()),
        evidence,
    )
}

fn rotation(e: &Evidence) -> Finding {
    const TITLE: &str = "Key rotation within the profile's maximum period";
    let age = |k: &KeyInventoryItem| days_between(k.latest_version_created_at, e.now);
    let oldest = e.keys.iter().max_by_key(|k| age(k));
    let oldest_text = oldest.map_or_else(String::new, |k| {
        format!(
            "; the oldest latest version is {} days old ({})",
            age(k),
            key_ref(k)
        )
    });
    let Some(max) = e.profile.max_rotation_days else {
        return finding(
            ids::ROTATION,
            TITLE,
            FindingStatus::Pass,
            format!(
                "not required: profile {} sets no max_rotation_days; {}{oldest_text}",
                e.profile.name,
                count(e.keys.len(), "key")
            ),
        );
    };
    let with = |status: &str| -> Vec<&KeyInventoryItem> {
        e.keys
            .iter()
            .filter(|k| rotation_status(k.latest_version_created_at, e.now, Some(max)) == status)
            .collect()
    };
    let overdue: Vec<String> = with(RotationStatus::OVERDUE)
        .into_iter()
        .map(|k| format!("{} ({} days)", key_ref(k), age(k)))
        .collect();
    let soon: Vec<String> = with(RotationStatus::DUE_SOON)
        .into_iter()
        .map(|k| {
            let left = signed(max).saturating_sub(age(k));
            format!("{} ({} days old, due in {left} days)", key_ref(k), age(k))
        })
        .collect();
    let soon_text = format!(
        "{} due within {DUE_SOON_DAYS} days of the {max}-day maximum: {}",
        count(soon.len(), "key"),
        listing(&soon)
    );
    if !overdue.is_empty() {
        let mut evidence = format!(
            "{} of {} not rotated within the {max}-day maximum of profile {}: {}",
            overdue.len(),
            count(e.keys.len(), "key"),
            e.profile.name,
            listing(&overdue)
        );
        if !soon.is_empty() {
            evidence.push_str(&format!("; also {soon_text}"));
        }
        finding(ids::ROTATION, TITLE, FindingStatus::Fail, evidence)
    } else if !soon.is_empty() {
        finding(ids::ROTATION, TITLE, FindingStatus::Warn, soon_text)
    } else {
        finding(
            ids::ROTATION,
            TITLE,
            FindingStatus::Pass,
            format!(
                "{} rotated within the {max}-day maximum of profile {}{oldest_text}",
                count(e.keys.len(), "key"),
                e.profile.name
            ),
        )
    }
}

fn audit_chain(e: &Evidence) -> Finding {
    const TITLE: &str = "Audit log integrity (chain, Merkle roots, signatures)";
    let a = &e.audit;
    match &a.verification {
        Ok(r) if r.records == 0 => finding(
            ids::AUDIT_CHAIN,
            TITLE,
            FindingStatus::Pass,
            "the stored audit log is empty".into(),
        ),
        Ok(r) => finding(
            ids::AUDIT_CHAIN,
            TITLE,
            FindingStatus::Pass,
            format!(
                "{} (sequence {} to {}) chained intact and {} verified (Merkle roots and \
                 signatures){}",
                count(r.records as usize, "record"),
                r.first_seq.unwrap_or(0),
                r.last_seq.unwrap_or(0),
                count(r.checkpoints as usize, "checkpoint"),
                a.checkpoint_size
                    .map(|s| format!(
                        "; the latest signed checkpoint covers {}",
                        count(s as usize, "record")
                    ))
                    .unwrap_or_default()
            ),
        ),
        Err(why) => finding(
            ids::AUDIT_CHAIN,
            TITLE,
            FindingStatus::Fail,
            format!("the stored audit log does not verify: {why}"),
        ),
    }
}

fn audit_retention(e: &Evidence) -> Finding {
    const TITLE: &str = "Audit log retention";
    let a = &e.audit;
    let days = e.profile.audit_retention_days;
    let status_of = |ok| pass_or_fail(ok);
    let (status, evidence) = match (a.first_stored, a.oldest_time) {
        _ if a.last_seq == 0 => (FindingStatus::Pass, "the audit log is empty".to_string()),
        (None, _) | (_, None) => (
            status_of(days == 0),
            format!(
                "all {} records have been pruned; none is kept (retention {days} days)",
                a.last_seq
            ),
        ),
        (Some(first), Some(oldest)) => {
            let age = days_between(oldest, e.now);
            let since = format!(
                "the oldest kept record (sequence {first}) is from {} ({age} days ago)",
                date(oldest)
            );
            if days == 0 {
                (
                    FindingStatus::Pass,
                    format!(
                        "not required: profile {} sets audit_retention_days = 0; {since}",
                        e.profile.name
                    ),
                )
            } else if first <= 1 {
                let young = if age < signed(days) {
                    format!(", younger than the {days}-day retention")
                } else {
                    format!(", beyond the {days}-day retention")
                };
                (
                    FindingStatus::Pass,
                    format!(
                        "nothing pruned: all {} records are kept; {since}{young}",
                        a.last_seq
                    ),
                )
            } else {
                // Record `first - 1` was written before record `first` and
                // before the checkpoint that covered it was signed.
                let bound = a.last_pruned_signed_at.map_or(oldest, |t| t.min(oldest));
                let bound_age = days_between(bound, e.now);
                let pruned = format!(
                    "records 1 to {} have been pruned; the last of them was written before {} \
                     ({bound_age} days ago)",
                    first - 1,
                    date(bound)
                );
                if bound_age >= signed(days) {
                    (
                        FindingStatus::Pass,
                        format!("{pruned}, beyond the {days}-day retention; {since}"),
                    )
                } else {
                    (
                        FindingStatus::Fail,
                        format!(
                            "{pruned}, within the {days}-day retention of profile {}: records \
                             that had to be kept are missing",
                            e.profile.name
                        ),
                    )
                }
            }
        }
    };
    finding(ids::AUDIT_RETENTION, TITLE, status, evidence)
}

fn names_with(principals: &[Principal], role: Role) -> Vec<&str> {
    principals
        .iter()
        .filter(|p| p.has_role(role))
        .map(|p| p.name.as_str())
        .collect()
}

fn roles(e: &Evidence) -> Finding {
    const TITLE: &str = "Three-role separation (sys-admin, sec-admin, audit-admin)";
    let ps = &e.principals;
    let holders = |role| {
        let names = names_with(ps, role);
        if names.is_empty() {
            format!("{role}: none")
        } else {
            format!("{role}: {}", listing(&names))
        }
    };
    if !e.profile.role_separation {
        return finding(
            ids::ROLES,
            TITLE,
            FindingStatus::Pass,
            format!(
                "not required by profile {} (a root principal works as in Vault); {}; {}",
                e.profile.name,
                count(ps.len(), "principal"),
                [Role::Root, Role::SysAdmin, Role::SecAdmin, Role::AuditAdmin]
                    .map(holders)
                    .join("; ")
            ),
        );
    }
    let mut problems = Vec::new();
    let doubled: Vec<String> = ps
        .iter()
        .filter(|p| e.profile.check_roles(&p.roles).is_err())
        .map(|p| {
            let roles: Vec<&str> = p.roles.iter().map(|r| r.name()).collect();
            format!("{} holds {}", p.name, roles.join(" + "))
        })
        .collect();
    if !doubled.is_empty() {
        problems.push(format!(
            "principals with root or more than one admin role: {}",
            listing(&doubled)
        ));
    }
    let missing: Vec<&str> = Role::ADMINS
        .iter()
        .filter(|r| names_with(ps, **r).is_empty())
        .map(|r| r.name())
        .collect();
    if !missing.is_empty() {
        problems.push(format!("no principal holds {}", missing.join(", ")));
    }
    let bootstrap = !names_with(ps, Role::Bootstrap).is_empty();
    if bootstrap && !missing.is_empty() {
        problems.push(
            "the bootstrap token still works (it retires once all three admin roles exist)".into(),
        );
    }
    let admins = Role::ADMINS.map(holders).join("; ");
    if problems.is_empty() {
        finding(
            ids::ROLES,
            TITLE,
            FindingStatus::Pass,
            format!(
                "no principal holds root or two admin roles; {admins}; the bootstrap token is retired"
            ),
        )
    } else {
        finding(
            ids::ROLES,
            TITLE,
            FindingStatus::Fail,
            format!("{} ({admins})", problems.join("; ")),
        )
    }
}

/// What a principal must be allowed to do itself to approve `op` (the
/// server's approval check asks the same of the concrete request).
fn approver_action(op: DualOp) -> Action<'static> {
    const ANY: &str = "*";
    match op {
        DualOp::DestroyKey => Action::ManageKey {
            mount: ANY,
            key: ANY,
        },
        DualOp::ExportKey | DualOp::BackupKey => Action::KeyMaterial {
            mount: ANY,
            key: ANY,
        },
        DualOp::ChangeProfile | DualOp::GrantAdminRole => Action::Principals { write: true },
        DualOp::PruneAudit => Action::Audit { write: true },
    }
}

fn dual_control(e: &Evidence) -> Finding {
    const TITLE: &str = "Dual control: enough eligible approvers";
    let dc = &e.profile.dual_control;
    if dc.operations.is_empty() {
        return finding(
            ids::DUAL_CONTROL,
            TITLE,
            FindingStatus::Pass,
            format!(
                "not required: profile {} puts no operation under dual control",
                e.profile.name
            ),
        );
    }
    let needed = dc.approvals as usize + 1;
    // Operations with the same eligible principals are reported together.
    let mut groups: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for name in &dc.operations {
        let eligible: Vec<&str> = match DualOp::from_name(name) {
            Some(op) => e
                .principals
                .iter()
                .filter(|p| {
                    p.authorize(&Action::Approvals).is_ok()
                        && p.authorize(&approver_action(op)).is_ok()
                })
                .map(|p| p.name.as_str())
                .collect(),
            None => Vec::new(),
        };
        match groups.iter_mut().find(|(_, names)| *names == eligible) {
            Some((ops, _)) => ops.push(name),
            None => groups.push((vec![name], eligible)),
        }
    }
    let short = groups.iter().any(|(_, names)| names.len() < needed);
    let parts: Vec<String> = groups
        .iter()
        .map(|(ops, names)| {
            let who = if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", listing(names))
            };
            let verdict = if names.len() < needed {
                " — too few"
            } else {
                ""
            };
            format!("{}: {} eligible{who}{verdict}", ops.join(", "), names.len())
        })
        .collect();
    finding(
        ids::DUAL_CONTROL,
        TITLE,
        pass_or_fail(!short),
        format!(
            "each operation needs {} besides the requester, so at least {needed} principals who \
             may perform it; {}",
            count(dc.approvals as usize, "approval"),
            parts.join("; ")
        ),
    )
}

fn data_centres(e: &Evidence) -> Finding {
    const TITLE: &str = "Storage redundancy across data centres";
    let min = e.profile.min_data_centres;
    let distinct = e.residency.distinct_data_centres();
    let mut names: Vec<&str> = e
        .residency
        .storage_locations
        .iter()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    let (ok, evidence) = if distinct == 0 && min <= 1 {
        (
            true,
            format!(
                "no storage location declared (--storage-location); the storage counts as one \
                 data centre, the minimum of profile {}",
                e.profile.name
            ),
        )
    } else if distinct >= min {
        (
            true,
            format!(
                "storage spans {} ({}); profile {} requires at least {min}",
                count(distinct as usize, "data centre"),
                names.join(", "),
                e.profile.name
            ),
        )
    } else {
        let declared = if names.is_empty() {
            "none declared".to_string()
        } else {
            names.join(", ")
        };
        (
            false,
            format!(
                "storage spans {} ({declared}); profile {} requires at least {min} \
                 (min_data_centres)",
                count(distinct as usize, "declared data centre"),
                e.profile.name
            ),
        )
    };
    finding(ids::DATA_CENTRES, TITLE, pass_or_fail(ok), evidence)
}

fn locations(e: &Evidence) -> Finding {
    const TITLE: &str = "Data locations (storage, audit sinks, backup targets)";
    let p = &e.profile;
    let patterns = allowed_list(&p.allowed_locations, "any location");
    let restricted = !p.allowed_locations.iter().any(|l| l == "*");
    let endpoints = e.residency.endpoints(p);
    let describe =
        |x: &super::report::LocatedEndpoint| format!("{} {} at {}", x.kind, x.name, x.location);
    let outside: Vec<String> = endpoints
        .iter()
        .filter(|x| !x.allowed)
        .map(describe)
        .collect();
    let (ok, evidence) = if !outside.is_empty() {
        (
            false,
            format!(
                "{} outside the locations profile {} allows ({patterns}): {}",
                count(outside.len(), "endpoint"),
                p.name,
                listing(&outside)
            ),
        )
    } else if restricted && e.residency.storage_locations.is_empty() {
        (
            false,
            format!(
                "no storage location declared (--storage-location), so the storage cannot be \
                 shown to be in the locations profile {} allows ({patterns})",
                p.name
            ),
        )
    } else if endpoints.is_empty() {
        (
            true,
            format!(
                "no locations declared; profile {} allows {patterns}",
                p.name
            ),
        )
    } else {
        let all: Vec<String> = endpoints.iter().map(describe).collect();
        (
            true,
            format!(
                "{} within the locations profile {} allows ({patterns}): {}",
                count(all.len(), "endpoint"),
                p.name,
                listing(&all)
            ),
        )
    };
    finding(ids::LOCATIONS, TITLE, pass_or_fail(ok), evidence)
}

fn jurisdiction(e: &Evidence) -> Finding {
    const TITLE: &str = "Jurisdiction";
    let p = &e.profile;
    let (ok, evidence) = match (&p.jurisdiction, &e.residency.jurisdiction) {
        (Some(want), Some(have)) if want == have => (
            true,
            format!(
                "the deployment declares {have}, as profile {} requires",
                p.name
            ),
        ),
        (Some(want), Some(have)) => (
            false,
            format!(
                "the deployment declares {have}; profile {} requires {want}",
                p.name
            ),
        ),
        (Some(want), None) => (
            false,
            format!(
                "the deployment declares no jurisdiction (--jurisdiction); profile {} requires {want}",
                p.name
            ),
        ),
        (None, Some(have)) => (
            true,
            format!(
                "the deployment declares {have}; profile {} requires none",
                p.name
            ),
        ),
        (None, None) => (
            true,
            format!(
                "not required by profile {}; the deployment declares none",
                p.name
            ),
        ),
    };
    finding(ids::JURISDICTION, TITLE, pass_or_fail(ok), evidence)
}

fn tls(e: &Evidence) -> Finding {
    const TITLE: &str = "API served over TLS";
    let p = &e.profile;
    let (ok, evidence) = match (e.tls_enabled, p.tls_required) {
        (true, _) => (true, "the API listener serves TLS".to_string()),
        (false, true) => (
            false,
            format!(
                "the API is served over plain HTTP; profile {} requires TLS (tls_required)",
                p.name
            ),
        ),
        (false, false) => (
            true,
            format!(
                "not required by profile {}; the API is served over plain HTTP",
                p.name
            ),
        ),
    };
    finding(ids::TLS, TITLE, pass_or_fail(ok), evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
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
